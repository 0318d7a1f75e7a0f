/*
 * scram_plus_server.c - a test peer for SCRAM-*-PLUS: a one-connection SMTP
 * server with implicit TLS (OpenSSL) whose AUTH runs GNU SASL's server side
 * with the RFC 9266 tls-exporter channel binding computed from its own TLS
 * session. No other peer on Debian offers -PLUS with tls-exporter (Cyrus
 * and Dovecot 2.3 do not), so this is how the client's binding is proven to
 * match a server's. Usage:
 *   scram_plus_server CERT KEY USER PASSWORD MECHS [BAD_CB]
 * prints the port on its first line, serves one session, and exits 0 if a
 * message was accepted after a successful AUTH, 1 otherwise. With BAD_CB
 * it binds to a wrong value (the client must then fail).
 */
#include <arpa/inet.h>
#include <gsasl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct peer {
	const char *user, *password;
	char cb[64];
};

static int peer_callback(Gsasl *ctx, Gsasl_session *sctx, Gsasl_property prop)
{
	struct peer *p = gsasl_callback_hook_get(ctx);

	(void)sctx;
	switch (prop) {
	case GSASL_PASSWORD:
		if (strcmp(gsasl_property_fast(sctx, GSASL_AUTHID), p->user) != 0)
			return GSASL_NO_CALLBACK;
		return gsasl_property_set(sctx, GSASL_PASSWORD, p->password);
	case GSASL_CB_TLS_EXPORTER:
		return gsasl_property_set(sctx, GSASL_CB_TLS_EXPORTER, p->cb);
	default:
		return GSASL_NO_CALLBACK;
	}
}

static int peer_getline(SSL *ssl, char *out, size_t n)
{
	size_t i = 0;
	char c;

	while (i + 1 < n) {
		if (SSL_read(ssl, &c, 1) != 1)
			return -1;
		if (c == '\n')
			break;
		if (c != '\r')
			out[i++] = c;
	}
	out[i] = '\0';
	return 0;
}

static void peer_put(SSL *ssl, const char *s)
{
	SSL_write(ssl, s, (int)strlen(s));
}

int main(int argc, char **argv)
{
	static const char label[] = "EXPORTER-Channel-Binding";
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	unsigned char key[32];
	char line[16384], out[16500];
	struct peer p;
	Gsasl *gctx = NULL;
	Gsasl_session *gs = NULL;
	SSL_CTX *ctx;
	SSL *ssl;
	int ls, fd, authed = 0, accepted = 0, in_data = 0;

	if (argc < 6) {
		fprintf(stderr, "usage: %s CERT KEY USER PASSWORD MECHS [BAD_CB]\n", argv[0]);
		return 2;
	}
	p.user = argv[3];
	p.password = argv[4];
	ctx = SSL_CTX_new(TLS_server_method());
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	if (SSL_CTX_use_certificate_chain_file(ctx, argv[1]) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, argv[2], SSL_FILETYPE_PEM) != 1) {
		ERR_print_errors_fp(stderr);
		return 2;
	}
	ls = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(ls, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(ls, 1) < 0 ||
	    getsockname(ls, (struct sockaddr *)&sa, &sl) < 0)
		return 2;
	printf("%d\n", ntohs(sa.sin_port));
	fflush(stdout);
	alarm(30); /* a test peer never outlives its test */
	fd = accept(ls, NULL, NULL);
	ssl = SSL_new(ctx);
	SSL_set_fd(ssl, fd);
	if (SSL_accept(ssl) != 1)
		return 1;
	SSL_export_keying_material(ssl, key, sizeof(key), label, sizeof(label) - 1, NULL, 0, 0);
	if (argc > 6)
		key[0] ^= 1;
	EVP_EncodeBlock((unsigned char *)p.cb, key, sizeof(key));
	gsasl_init(&gctx);
	gsasl_callback_hook_set(gctx, &p);
	gsasl_callback_set(gctx, peer_callback);
	peer_put(ssl, "220 scram-plus test peer\r\n");
	while (peer_getline(ssl, line, sizeof(line)) == 0) {
		if (in_data) {
			if (strcmp(line, ".") == 0) {
				in_data = 0;
				accepted = authed;
				peer_put(ssl, "250 2.0.0 accepted\r\n");
			}
			continue;
		}
		if (strncasecmp(line, "EHLO", 4) == 0) {
			snprintf(out, sizeof(out), "250-scram-plus\r\n250-AUTH %s\r\n250 8BITMIME\r\n",
				 argv[5]);
			peer_put(ssl, out);
		} else if (strncasecmp(line, "AUTH ", 5) == 0) {
			char *mech = line + 5, *ir = strchr(mech, ' '), *resp = NULL;
			int r;
			if (ir)
				*ir++ = '\0';
			if (gsasl_server_start(gctx, mech, &gs) != GSASL_OK) {
				peer_put(ssl, "504 5.5.4 unknown mechanism\r\n");
				continue;
			}
			r = gsasl_step64(gs, ir && strcmp(ir, "=") != 0 ? ir : "", &resp);
			while (r == GSASL_NEEDS_MORE) {
				snprintf(out, sizeof(out), "334 %s\r\n", resp);
				gsasl_free(resp);
				resp = NULL;
				peer_put(ssl, out);
				if (peer_getline(ssl, line, sizeof(line)) < 0)
					return 1;
				r = gsasl_step64(gs, line, &resp);
			}
			if (r == GSASL_OK && resp && *resp) {
				/* SCRAM's server-final travels in a 334; the
				 * client answers with an empty line. */
				snprintf(out, sizeof(out), "334 %s\r\n", resp);
				peer_put(ssl, out);
				if (peer_getline(ssl, line, sizeof(line)) < 0)
					return 1;
			}
			gsasl_free(resp);
			gsasl_finish(gs);
			if (r == GSASL_OK) {
				authed = 1;
				peer_put(ssl, "235 2.7.0 ok\r\n");
			} else {
				fprintf(stderr, "scram_plus_server: %s\n", gsasl_strerror(r));
				peer_put(ssl, "535 5.7.8 authentication failed\r\n");
			}
		} else if (strncasecmp(line, "MAIL", 4) == 0 || strncasecmp(line, "RCPT", 4) == 0) {
			peer_put(ssl, authed ? "250 2.0.0 ok\r\n" : "530 5.7.0 auth first\r\n");
		} else if (strncasecmp(line, "DATA", 4) == 0) {
			in_data = authed;
			peer_put(ssl, authed ? "354 go\r\n" : "503 5.5.1 no\r\n");
		} else if (strncasecmp(line, "QUIT", 4) == 0) {
			peer_put(ssl, "221 2.0.0 bye\r\n");
			break;
		} else {
			peer_put(ssl, "502 5.5.2 not here\r\n");
		}
	}
	SSL_shutdown(ssl);
	SSL_free(ssl);
	close(fd);
	gsasl_done(gctx);
	SSL_CTX_free(ctx);
	return accepted ? 0 : 1;
}
