/*
 * tls.c - the client side of TLS with OpenSSL 3 (see tls.h). Sockets are
 * non-blocking; every OpenSSL call that wants I/O waits with poll until a
 * deadline. Verification is on by default: chain against the system store
 * (or --tls-trust-file) and the host name (RFC 6125 via X509_VERIFY_PARAM);
 * a pinned fingerprint replaces the chain check; "off" only when asked.
 */
#include "net/tls.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "base/timeout.h"

#include <poll.h>

#define TLS_FPR_LEN 32 /* SHA-256 */

struct tls_client_ctx {
	SSL_CTX *ssl_ctx;
	int certcheck;
	int have_fpr;
	unsigned char fpr[TLS_FPR_LEN];
};

struct tls_session {
	SSL *ssl;
	int fd;
};

/* The most specific OpenSSL error on the queue, for messages. */
static const char *tls_openssl_reason(char *out, size_t n)
{
	unsigned long e = ERR_peek_last_error();

	if (e == 0)
		snprintf(out, n, "no details from OpenSSL");
	else
		ERR_error_string_n(e, out, n);
	ERR_clear_error();
	return out;
}

static int tls_parse_fingerprint(const char *s, unsigned char *out, struct cl_err *err)
{
	size_t n = 0;
	int hi = -1;

	for (; *s; s++) {
		int v;

		if (*s == ':' || *s == ' ')
			continue;
		if (!isxdigit((unsigned char)*s) || n == TLS_FPR_LEN)
			goto bad;
		v = isdigit((unsigned char)*s) ? *s - '0' : tolower((unsigned char)*s) - 'a' + 10;
		if (hi < 0) {
			hi = v;
		} else {
			out[n++] = (unsigned char)(hi << 4 | v);
			hi = -1;
		}
	}
	if (n == TLS_FPR_LEN && hi < 0)
		return 0;
bad:
	return err_set(err, CL_EUSAGE,
	               "--tls-fingerprint wants the SHA-256 of the certificate: 64 hex digits "
	               "(colons allowed)");
}

/* Every CRL of a PEM file into the store; checked for the whole chain. */
static int tls_load_crl(SSL_CTX *ctx, const char *path, struct cl_err *err)
{
	X509_STORE *st = SSL_CTX_get_cert_store(ctx);
	X509_LOOKUP *lu = X509_STORE_add_lookup(st, X509_LOOKUP_file());
	char why[256];

	if (lu == NULL || X509_load_crl_file(lu, path, X509_FILETYPE_PEM) <= 0)
		return err_set(err, CL_ECONFIG, "cannot load TLS CRL file %s: %s", path,
		               tls_openssl_reason(why, sizeof(why)));
	X509_STORE_set_flags(st, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
	return 0;
}

int tls_client_ctx_new(struct tls_client_ctx **out, const struct tls_client_opts *o,
                       struct cl_err *err)
{
	struct tls_client_ctx *c;
	char why[256];

	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return err_set(err, CL_ESOFTWARE, "out of memory");
	c->certcheck = o->certcheck;
	if (o->fingerprint && tls_parse_fingerprint(o->fingerprint, c->fpr, err) < 0)
		goto fail;
	c->have_fpr = o->fingerprint != NULL;
	c->ssl_ctx = SSL_CTX_new(TLS_client_method());
	if (c->ssl_ctx == NULL) {
		err_set(err, CL_ESOFTWARE, "TLS: cannot create context: %s",
		        tls_openssl_reason(why, sizeof(why)));
		goto fail;
	}
	/* RFC 8996 deprecates TLS 1.0 and 1.1; RFC 8314 asks for 1.2 or later.
	 * Lower only when asked (--tls-min-version, for an old provider's
	 * server); OpenSSL 3 allows them at security level 0 only. */
	if (o->min_version == 10 || o->min_version == 11) {
		SSL_CTX_set_security_level(c->ssl_ctx, 0);
		SSL_CTX_set_min_proto_version(c->ssl_ctx, o->min_version == 10 ? TLS1_VERSION
		                                                               : TLS1_1_VERSION);
	} else {
		SSL_CTX_set_min_proto_version(c->ssl_ctx, o->min_version == 13 ? TLS1_3_VERSION
		                                                               : TLS1_2_VERSION);
	}
	SSL_CTX_set_mode(c->ssl_ctx,
	                 SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (o->trust_file) {
		if (SSL_CTX_load_verify_locations(c->ssl_ctx, o->trust_file, NULL) != 1) {
			err_set(err, CL_ECONFIG, "cannot load TLS trust file %s: %s", o->trust_file,
			        tls_openssl_reason(why, sizeof(why)));
			goto fail;
		}
	} else if (SSL_CTX_set_default_verify_paths(c->ssl_ctx) != 1) {
		ERR_clear_error();
	}
	if (o->crl_file && tls_load_crl(c->ssl_ctx, o->crl_file, err) < 0)
		goto fail;
	if (o->cert_file) {
		if (SSL_CTX_use_certificate_chain_file(c->ssl_ctx, o->cert_file) != 1 ||
		    SSL_CTX_use_PrivateKey_file(c->ssl_ctx,
		                                o->key_file ? o->key_file : o->cert_file,
		                                SSL_FILETYPE_PEM) != 1) {
			err_set(err, CL_ECONFIG, "cannot load TLS client certificate %s: %s",
			        o->cert_file, tls_openssl_reason(why, sizeof(why)));
			goto fail;
		}
	}
	/* The chain is checked by OpenSSL during the handshake, so that a bad
	 * certificate aborts before we send a single byte of SMTP. */
	SSL_CTX_set_verify(c->ssl_ctx,
	                   c->certcheck && !c->have_fpr ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, NULL);
	*out = c;
	return 0;
fail:
	tls_client_ctx_free(c);
	return -1;
}

void tls_client_ctx_free(struct tls_client_ctx *ctx)
{
	if (ctx == NULL)
		return;
	SSL_CTX_free(ctx->ssl_ctx);
	free(ctx);
}

static int tls_is_ip_literal(const char *host)
{
	unsigned char tmp[16];

	return inet_pton(AF_INET, host, tmp) == 1 || inet_pton(AF_INET6, host, tmp) == 1;
}

/* Wait for what OpenSSL asked for; 0 to retry, -1 on timeout or error. */
static int tls_wait(struct tls_session *s, int sslerr, int64_t deadline, const char *what,
                    struct cl_err *err)
{
	short ev = sslerr == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN;
	int r = timeout_wait_fd(s->fd, ev, deadline);

	if (r > 0)
		return 0;
	if (r == 0)
		return err_set(err, CL_ETEMP, "TLS: timed out %s", what);
	return err_set(err, CL_ETEMP, "TLS: poll failed %s", what);
}

static int tls_check_fingerprint(struct tls_client_ctx *ctx, SSL *ssl, struct cl_err *err)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	X509 *cert = SSL_get1_peer_certificate(ssl);
	int ok;

	if (cert == NULL)
		return err_set(err, CL_ETLS, "TLS: the server sent no certificate");
	ok = X509_digest(cert, EVP_sha256(), md, &mdlen) == 1 && mdlen == TLS_FPR_LEN &&
	     memcmp(md, ctx->fpr, TLS_FPR_LEN) == 0;
	X509_free(cert);
	if (!ok)
		return err_set(err, CL_ETLS,
		               "TLS: the server's certificate does not match --tls-fingerprint");
	return 0;
}

int tls_session_connect(struct tls_session **out, struct tls_client_ctx *ctx, int fd,
                        const char *host, int timeout_ms, struct cl_err *err)
{
	struct tls_session *s;
	int64_t deadline = timeout_now_ms() + timeout_ms;
	char why[256];
	int r, e;

	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return err_set(err, CL_ESOFTWARE, "out of memory");
	s->fd = fd;
	s->ssl = SSL_new(ctx->ssl_ctx);
	if (s->ssl == NULL || SSL_set_fd(s->ssl, fd) != 1) {
		err_set(err, CL_ESOFTWARE, "TLS: %s", tls_openssl_reason(why, sizeof(why)));
		goto fail;
	}
	if (tls_is_ip_literal(host)) {
		X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(s->ssl), host);
	} else {
		/* RFC 6066 3: SNI carries DNS names only. */
		SSL_set_tlsext_host_name(s->ssl, host);
		SSL_set_hostflags(s->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		SSL_set1_host(s->ssl, host);
	}
	for (;;) {
		ERR_clear_error();
		r = SSL_connect(s->ssl);
		if (r == 1)
			break;
		e = SSL_get_error(s->ssl, r);
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
			if (tls_wait(s, e, deadline, "in the handshake", err) < 0)
				goto fail;
			continue;
		}
		if (SSL_get_verify_result(s->ssl) != X509_V_OK) {
			err_set(err, CL_ETLS, "TLS: certificate of %s not trusted: %s", host,
			        X509_verify_cert_error_string(SSL_get_verify_result(s->ssl)));
		} else if (e == SSL_ERROR_SYSCALL || e == SSL_ERROR_ZERO_RETURN) {
			err_set(err, CL_ETEMP, "TLS: connection closed during the handshake");
		} else {
			err_set(err, CL_ETLS, "TLS: handshake failed: %s",
			        tls_openssl_reason(why, sizeof(why)));
		}
		goto fail;
	}
	if (ctx->have_fpr && tls_check_fingerprint(ctx, s->ssl, err) < 0)
		goto fail;
	*out = s;
	return 0;
fail:
	SSL_free(s->ssl);
	free(s);
	return -1;
}

long tls_session_read(struct tls_session *s, void *p, size_t n, int timeout_ms, struct cl_err *err)
{
	int64_t deadline = timeout_now_ms() + timeout_ms;
	char why[256];
	size_t got;
	int e;

	for (;;) {
		ERR_clear_error();
		if (SSL_read_ex(s->ssl, p, n, &got) == 1)
			return (long)got;
		e = SSL_get_error(s->ssl, 0);
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
			if (tls_wait(s, e, deadline, "waiting for the server", err) < 0)
				return -1;
			continue;
		}
		if (e == SSL_ERROR_ZERO_RETURN)
			return 0;
		if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)
			return 0; /* TCP EOF without close_notify */
		err_set(err, CL_ETEMP, "TLS: read failed: %s",
		        tls_openssl_reason(why, sizeof(why)));
		return -1;
	}
}

long tls_session_write(struct tls_session *s, const void *p, size_t n, int timeout_ms,
                       struct cl_err *err)
{
	int64_t deadline = timeout_now_ms() + timeout_ms;
	char why[256];
	size_t put;
	int e;

	for (;;) {
		ERR_clear_error();
		if (SSL_write_ex(s->ssl, p, n, &put) == 1)
			return (long)put;
		e = SSL_get_error(s->ssl, 0);
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
			if (tls_wait(s, e, deadline, "sending to the server", err) < 0)
				return -1;
			continue;
		}
		err_set(err, CL_ETEMP, "TLS: write failed: %s",
		        e == SSL_ERROR_SYSCALL ? "connection reset"
		                               : tls_openssl_reason(why, sizeof(why)));
		return -1;
	}
}

size_t tls_session_pending(const struct tls_session *s)
{
	return (size_t)SSL_pending(s->ssl);
}

void tls_session_close(struct tls_session *s)
{
	if (s == NULL)
		return;
	/* One shutdown call sends our close_notify; we do not wait for the
	 * server's (RFC 8446 6.1 allows it, and QUIT was already answered). */
	ERR_clear_error();
	SSL_shutdown(s->ssl);
	ERR_clear_error();
	SSL_free(s->ssl);
	free(s);
}

const char *tls_session_version(const struct tls_session *s)
{
	return SSL_get_version(s->ssl);
}

const char *tls_session_cipher(const struct tls_session *s)
{
	return SSL_get_cipher_name(s->ssl);
}

int tls_session_exporter_b64(struct tls_session *s, struct buf *out)
{
	static const char label[] = "EXPORTER-Channel-Binding";
	unsigned char key[32];
	unsigned char b64[4 * ((sizeof(key) + 2) / 3) + 1];
	int n;

	/* RFC 9266 2: tls-exporter is defined for TLS 1.3 only. */
	if (SSL_version(s->ssl) < TLS1_3_VERSION)
		return -1;
	if (SSL_export_keying_material(s->ssl, key, sizeof(key), label, sizeof(label) - 1, NULL, 0,
	                               0) != 1)
		return -1;
	n = EVP_EncodeBlock(b64, key, sizeof(key));
	explicit_bzero(key, sizeof(key));
	return buf_add(out, b64, (size_t)n);
}

static void tls_name_line(X509_NAME *name, char *out, size_t n)
{
	BIO *bio = BIO_new(BIO_s_mem());
	int len;

	out[0] = '\0';
	if (bio == NULL)
		return;
	X509_NAME_print_ex(bio, name, 0, XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB);
	len = BIO_read(bio, out, (int)n - 1);
	out[len > 0 ? len : 0] = '\0';
	BIO_free(bio);
}

int tls_session_peer_summary(struct tls_session *s, struct buf *out)
{
	X509 *cert = SSL_get1_peer_certificate(s->ssl);
	char subj[256], iss[256], until[64];
	const ASN1_TIME *na;
	struct tm tm;
	int r;

	if (cert == NULL)
		return buf_adds(out, "no certificate");
	tls_name_line(X509_get_subject_name(cert), subj, sizeof(subj));
	tls_name_line(X509_get_issuer_name(cert), iss, sizeof(iss));
	na = X509_get0_notAfter(cert);
	if (na && ASN1_TIME_to_tm(na, &tm) == 1)
		strftime(until, sizeof(until), "%Y-%m-%d", &tm);
	else
		snprintf(until, sizeof(until), "?");
	r = buf_printf(out, "subject %s; issuer %s; expires %s; %s", subj, iss, until,
	               SSL_get_verify_result(s->ssl) == X509_V_OK ? "verified" : "NOT verified");
	X509_free(cert);
	return r;
}

enum tls_verify_class tls_verify_classify(long code)
{
	switch (code) {
	case X509_V_OK:
		return TLS_VERIFY_OK;
	case X509_V_ERR_CERT_HAS_EXPIRED:
	case X509_V_ERR_CRL_HAS_EXPIRED:
		return TLS_VERIFY_EXPIRED;
	case X509_V_ERR_CERT_NOT_YET_VALID:
	case X509_V_ERR_CRL_NOT_YET_VALID:
		return TLS_VERIFY_NOT_YET_VALID;
	case X509_V_ERR_HOSTNAME_MISMATCH:
	case X509_V_ERR_IP_ADDRESS_MISMATCH:
	case X509_V_ERR_EMAIL_MISMATCH:
		return TLS_VERIFY_WRONG_NAME;
	default:
		/* Self-signed, unknown issuer, bad signature, wrong purpose:
		 * for the user all mean "this chain is not one we trust". */
		return TLS_VERIFY_UNTRUSTED;
	}
}

const char *tls_verify_class_name(enum tls_verify_class c)
{
	static const char *const names[] = {
	    "ok", "expired", "not-yet-valid", "wrong-name", "untrusted", "no-certificate",
	};

	return (size_t)c < sizeof(names) / sizeof(names[0]) ? names[c] : "untrusted";
}

static void tls_time_iso(const ASN1_TIME *t, char *out, size_t n)
{
	struct tm tm;

	if (t && ASN1_TIME_to_tm(t, &tm) == 1)
		strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
	else
		snprintf(out, n, "?");
}

/* subjectAltName DNS names and IP addresses, space separated. */
static void tls_alt_names(X509 *cert, char *out, size_t n)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	struct buf b = BUF_INIT(4096);
	char ip[INET6_ADDRSTRLEN];
	int i;

	for (i = 0; gens && i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		const unsigned char *d;
		int len;

		if (g->type == GEN_DNS) {
			d = ASN1_STRING_get0_data(g->d.dNSName);
			len = ASN1_STRING_length(g->d.dNSName);
			if (b.len)
				buf_addc(&b, ' ');
			buf_add(&b, d, (size_t)len);
		} else if (g->type == GEN_IPADD) {
			d = ASN1_STRING_get0_data(g->d.iPAddress);
			len = ASN1_STRING_length(g->d.iPAddress);
			if ((len == 4 && inet_ntop(AF_INET, d, ip, sizeof(ip))) ||
			    (len == 16 && inet_ntop(AF_INET6, d, ip, sizeof(ip))))
				buf_printf(&b, "%s%s", b.len ? " " : "", ip);
		}
	}
	GENERAL_NAMES_free(gens);
	snprintf(out, n, "%s", buf_cstr(&b));
	/* A name with a control character is the server's garbage, not ours
	 * to print. */
	for (char *p = out; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	buf_free(&b);
}

int tls_session_peer_info(struct tls_session *s, struct tls_peer_info *out)
{
	X509 *cert = SSL_get1_peer_certificate(s->ssl);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;
	size_t off = 0;

	memset(out, 0, sizeof(*out));
	if (cert == NULL) {
		out->verify = TLS_VERIFY_NO_CERT;
		out->verify_code = -1;
		snprintf(out->verify_msg, sizeof(out->verify_msg),
		         "the server sent no certificate");
		return 0;
	}
	tls_name_line(X509_get_subject_name(cert), out->subject, sizeof(out->subject));
	tls_name_line(X509_get_issuer_name(cert), out->issuer, sizeof(out->issuer));
	tls_alt_names(cert, out->names, sizeof(out->names));
	tls_time_iso(X509_get0_notBefore(cert), out->not_before, sizeof(out->not_before));
	tls_time_iso(X509_get0_notAfter(cert), out->not_after, sizeof(out->not_after));
	if (X509_digest(cert, EVP_sha256(), md, &mdlen) == 1) {
		for (i = 0; i < mdlen && off + 4 <= sizeof(out->sha256); i++)
			off += (size_t)snprintf(out->sha256 + off, sizeof(out->sha256) - off,
			                        i ? ":%02X" : "%02X", md[i]);
	}
	X509_free(cert);
	out->verify_code = SSL_get_verify_result(s->ssl);
	out->verify = tls_verify_classify(out->verify_code);
	snprintf(out->verify_msg, sizeof(out->verify_msg), "%s",
	         X509_verify_cert_error_string(out->verify_code));
	return 0;
}
