/*
 * tls_server.c - OpenSSL 3 server side for clsmtpd (tls_server.h). No
 * compression, no renegotiation, TLS 1.2 minimum, the server's cipher order
 * (OpenSSL's defaults are the choice we rely on: no weak suites there).
 */
#include "net/tls_server.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdlib.h>
#include <string.h>

#include "base/b64.h"

struct tls_server_ctx {
	SSL_CTX *ssl;
};

struct tls_server_conn {
	SSL *ssl;
};

static int tls_server_fail(struct cl_err *err, const char *what)
{
	char msg[256];
	unsigned long e = ERR_get_error();

	if (e != 0)
		ERR_error_string_n(e, msg, sizeof(msg));
	else
		memcpy(msg, "unknown error", sizeof("unknown error"));
	ERR_clear_error();
	return err_set(err, CL_ETLS, "%s: %s", what, msg);
}

int tls_server_ctx_new(struct tls_server_ctx **out, const char *cert_file, const char *key_file,
                       struct cl_err *err)
{
	struct tls_server_ctx *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return err_set(err, CL_ESOFTWARE, "out of memory");
	c->ssl = SSL_CTX_new(TLS_server_method());
	if (c->ssl == NULL) {
		free(c);
		return tls_server_fail(err, "TLS context");
	}
	SSL_CTX_set_min_proto_version(c->ssl, TLS1_2_VERSION);
	SSL_CTX_set_options(c->ssl, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
	                                SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_mode(c->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE |
	                             SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
	                             SSL_MODE_RELEASE_BUFFERS);
	/* TLS 1.2 suites: forward secrecy and AEAD only. */
	SSL_CTX_set_cipher_list(c->ssl, "ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:!aNULL:!eNULL");
	if (SSL_CTX_use_certificate_chain_file(c->ssl, cert_file) != 1) {
		tls_server_fail(err, "loading the certificate");
		err_prefix(err, "%s", cert_file);
		tls_server_ctx_free(c);
		return -1;
	}
	if (SSL_CTX_use_PrivateKey_file(c->ssl, key_file, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(c->ssl) != 1) {
		tls_server_fail(err, "loading the private key");
		err_prefix(err, "%s", key_file);
		tls_server_ctx_free(c);
		return -1;
	}
	*out = c;
	return 0;
}

void tls_server_ctx_free(struct tls_server_ctx *ctx)
{
	if (ctx == NULL)
		return;
	SSL_CTX_free(ctx->ssl);
	free(ctx);
}

struct tls_server_conn *tls_server_conn_new(struct tls_server_ctx *ctx, int fd, struct cl_err *err)
{
	struct tls_server_conn *c = calloc(1, sizeof(*c));

	if (c == NULL) {
		err_set(err, CL_ESOFTWARE, "out of memory");
		return NULL;
	}
	/* SSL_new takes a reference on the context: a reload may free ours. */
	c->ssl = SSL_new(ctx->ssl);
	if (c->ssl == NULL || SSL_set_fd(c->ssl, fd) != 1) {
		tls_server_fail(err, "TLS session");
		tls_server_conn_free(c);
		return NULL;
	}
	SSL_set_accept_state(c->ssl);
	return c;
}

static long tls_server_result(struct tls_server_conn *c, int r, const char *what,
                              struct cl_err *err)
{
	switch (SSL_get_error(c->ssl, r)) {
	case SSL_ERROR_WANT_READ:
		return TLS_SRV_WANT_READ;
	case SSL_ERROR_WANT_WRITE:
		return TLS_SRV_WANT_WRITE;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	case SSL_ERROR_SYSCALL:
		if (ERR_peek_error() == 0) {
			ERR_clear_error();
			if (r == 0 || strcmp(what, "read") == 0)
				return 0; /* EOF without close_notify */
			return err_set(err, CL_ETLS, "TLS %s: connection reset", what);
		}
		return tls_server_fail(err, what);
	default:
		return tls_server_fail(err, what);
	}
}

int tls_server_handshake(struct tls_server_conn *c, struct cl_err *err)
{
	int r = SSL_do_handshake(c->ssl);
	long x;

	if (r == 1)
		return 1;
	x = tls_server_result(c, r, "handshake", err);
	if (x == 0)
		return err_set(err, CL_ETLS, "TLS handshake: connection closed");
	return (int)x;
}

long tls_server_read(struct tls_server_conn *c, void *p, size_t n, struct cl_err *err)
{
	size_t got = 0;
	int r = SSL_read_ex(c->ssl, p, n, &got);

	if (r == 1)
		return (long)got;
	return tls_server_result(c, r, "read", err);
}

long tls_server_write(struct tls_server_conn *c, const void *p, size_t n, struct cl_err *err)
{
	size_t done = 0;
	int r = SSL_write_ex(c->ssl, p, n, &done);

	if (r == 1)
		return (long)done;
	r = (int)tls_server_result(c, r, "write", err);
	return r == 0 ? err_set(err, CL_ETLS, "TLS write: connection closed") : r;
}

size_t tls_server_pending(const struct tls_server_conn *c)
{
	return (size_t)SSL_pending(c->ssl);
}

int tls_server_exporter_b64(struct tls_server_conn *c, struct buf *out)
{
	static const char label[] = "EXPORTER-Channel-Binding";
	unsigned char key[32];

	if (SSL_version(c->ssl) != TLS1_3_VERSION)
		return -1;
	if (SSL_export_keying_material(c->ssl, key, sizeof(key), label, sizeof(label) - 1, NULL, 0,
	                               0) != 1)
		return -1;
	return b64_encode(key, sizeof(key), out);
}

int tls_server_describe(const struct tls_server_conn *c, struct buf *out)
{
	return buf_printf(out, "%s %s", SSL_get_version(c->ssl),
	                  SSL_CIPHER_get_name(SSL_get_current_cipher(c->ssl)));
}

void tls_server_conn_free(struct tls_server_conn *c)
{
	if (c == NULL)
		return;
	if (c->ssl != NULL) {
		if (SSL_is_init_finished(c->ssl))
			SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
	}
	ERR_clear_error();
	free(c);
}
