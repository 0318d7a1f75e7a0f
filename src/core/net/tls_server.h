/*
 * tls_server.h - TLS for clsmtpd with OpenSSL 3, on non-blocking sockets:
 * a context holding the operator's certificate and key (TLS 1.2 minimum;
 * replaced whole on SIGHUP, connections keep the one they started with), and
 * per-connection handshake, read and write that say what they wait for.
 */
#ifndef CLSMTP_TLS_SERVER_H
#define CLSMTP_TLS_SERVER_H

#include <stddef.h>
#include "base/buf.h"
#include "base/err.h"

/* Returned (negative) by the I/O calls when the socket is not ready. */
#define TLS_SRV_WANT_READ  (-2)
#define TLS_SRV_WANT_WRITE (-3)

struct tls_server_ctx;
struct tls_server_conn;

int tls_server_ctx_new(struct tls_server_ctx **out, const char *cert_file, const char *key_file,
                       struct cl_err *err);
void tls_server_ctx_free(struct tls_server_ctx *ctx);

struct tls_server_conn *tls_server_conn_new(struct tls_server_ctx *ctx, int fd, struct cl_err *err);
/* 1 done, TLS_SRV_WANT_*, or -1 with err. */
int tls_server_handshake(struct tls_server_conn *c, struct cl_err *err);
/* >0 bytes, 0 EOF, TLS_SRV_WANT_*, or -1 with err. */
long tls_server_read(struct tls_server_conn *c, void *p, size_t n, struct cl_err *err);
long tls_server_write(struct tls_server_conn *c, const void *p, size_t n, struct cl_err *err);
size_t tls_server_pending(const struct tls_server_conn *c);
/* RFC 9266 tls-exporter channel binding (TLS 1.3 only), base64. */
int tls_server_exporter_b64(struct tls_server_conn *c, struct buf *out);
/* "TLSv1.3 TLS_AES_256_GCM_SHA384" for Received: and logs. */
int tls_server_describe(const struct tls_server_conn *c, struct buf *out);
/* Send close_notify (best effort) and free. */
void tls_server_conn_free(struct tls_server_conn *c);

#endif
