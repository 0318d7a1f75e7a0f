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

#include "base/buf.h"
#include "base/err.h"

struct tls_client_opts {
	const char *trust_file;  /* CA bundle; NULL: the system's default store */
	const char *fingerprint; /* SHA-256 of the server cert, hex with or without ':' */
	int certcheck;           /* 1 (default): verify chain and name; 0: don't */
	const char *cert_file;   /* client certificate, optional */
	const char *key_file;
	const char *crl_file;    /* PEM CRLs: a revoked server certificate fails */
	int min_version;         /* 10, 11, 12, 13 (TLS 1.x); 0: 12 */
	const char *host_override; /* name for SNI and verification instead of the host */
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

/* Why a certificate did not verify, in the classes a user can act on. */
enum tls_verify_class {
	TLS_VERIFY_OK,
	TLS_VERIFY_EXPIRED,       /* notAfter in the past */
	TLS_VERIFY_NOT_YET_VALID, /* notBefore in the future (a wrong clock?) */
	TLS_VERIFY_WRONG_NAME,    /* chain fine, made out for another name */
	TLS_VERIFY_UNTRUSTED,     /* self-signed, unknown CA, broken chain... */
	TLS_VERIFY_NO_CERT,       /* the server sent none */
};

/* The peer certificate's facts as fields (--doctor). Verification is
 * OpenSSL's verdict on chain and name even when the context did not enforce
 * it (certcheck off), so a probe can report why a certificate fails. */
struct tls_peer_info {
	char subject[256]; /* one-line RFC 2253-like form */
	char issuer[256];
	char names[512];     /* subjectAltName DNS names and IPs, space separated */
	char not_before[32]; /* "2025-01-31T23:59:59Z" */
	char not_after[32];
	char sha256[100]; /* "AB:CD:..." */
	long verify_code; /* X509_V_OK or X509_V_ERR_* */
	enum tls_verify_class verify;
	char verify_msg[128]; /* OpenSSL's words for verify_code */
};

/* Fill out from the session's peer certificate; -1 only if OpenSSL fails. */
int tls_session_peer_info(struct tls_session *s, struct tls_peer_info *out);
/* Map an X509_V_* code to its class (pure; unit-tested). */
enum tls_verify_class tls_verify_classify(long x509_verify_code);
/* "ok", "expired", "not-yet-valid", "wrong-name", "untrusted", "no-certificate". */
const char *tls_verify_class_name(enum tls_verify_class c);

#endif
