/*
 * tls.h - TLS for the client side with OpenSSL 3: a context holding the
 * verification policy (system store or a trust file, a pinned SHA-256
 * fingerprint, or checks off on explicit request), TLS 1.2 minimum, SNI and
 * host name verification, and the per-connection session with its facts
 * (version, cipher, peer certificate) and the RFC 9266 tls-exporter channel
 * binding for SCRAM-*-PLUS.
 */
#ifndef CLSMTP_TLS_H
#define CLSMTP_TLS_H

#include <stddef.h>

#include "buf.h"
#include "err.h"

struct tls_client_opts {
	const char *trust_file;  /* CA bundle; NULL: the system's default store */
	const char *fingerprint; /* SHA-256 of the server cert, hex with or without ':' */
	int certcheck;           /* 1 (default): verify chain and name; 0: don't */
	const char *cert_file;   /* client certificate, optional */
	const char *key_file;
};

struct tls_client_ctx;
struct tls_session;

int tls_client_ctx_new(struct tls_client_ctx **out, const struct tls_client_opts *o,
		       struct cl_err *err);
void tls_client_ctx_free(struct tls_client_ctx *ctx);

/* Handshake over fd (blocking socket, timeouts via poll). host is used for
 * SNI (not for IP literals) and name verification. */
int tls_session_connect(struct tls_session **out, struct tls_client_ctx *ctx, int fd,
			const char *host, int timeout_ms, struct cl_err *err);
/* Like read(2)/write(2) with poll timeouts: >0 bytes, 0 EOF (close_notify or
 * TCP EOF), -1 error with err. */
long tls_session_read(struct tls_session *s, void *p, size_t n, int timeout_ms, struct cl_err *err);
long tls_session_write(struct tls_session *s, const void *p, size_t n, int timeout_ms,
		       struct cl_err *err);
/* Bytes already decrypted and waiting inside OpenSSL. */
size_t tls_session_pending(const struct tls_session *s);
/* Send close_notify (without waiting for the peer's) and free. */
void tls_session_close(struct tls_session *s);

const char *tls_session_version(const struct tls_session *s);
const char *tls_session_cipher(const struct tls_session *s);
/* base64 of the 32-byte "EXPORTER-Channel-Binding" value (RFC 9266); only
 * defined for TLS 1.3: returns -1 otherwise. */
int tls_session_exporter_b64(struct tls_session *s, struct buf *out);
/* One line about the peer certificate: subject, issuer, expiry, verified. */
int tls_session_peer_summary(struct tls_session *s, struct buf *out);

#endif
