/*
 * conn.h - one connection to a server: a TCP socket, optionally wrapped in
 * TLS, with a bounded read buffer. Reads are line-oriented and bounded by a
 * maximum length and a timeout (poll); writes are whole and timed out too.
 * This is the only place that touches the socket; the SMTP engine above it
 * knows nothing of OpenSSL or poll.
 */
#ifndef CLSMTP_CONN_H
#define CLSMTP_CONN_H

#include <stddef.h>

#include "base/buf.h"
#include "base/err.h"
#include "net/tls.h"

struct conn_opts {
	int family;             /* AF_UNSPEC, AF_INET or AF_INET6 */
	int connect_timeout_ms; /* per address tried */
	const char *source_ip;  /* numeric local address to bind to, or NULL */
	const char *proxy_host; /* SOCKS5 proxy (socks5.h), or NULL: direct */
	const char *proxy_port; /* its port ("1080" when NULL) */
};

struct conn;
struct addrinfo;

/* Resolve host (a U-label is converted to an A-label with libidn2) for TCP.
 * Errors: CL_ENOHOST (no such name), CL_ETEMP (temporary DNS failure),
 * CL_EUSAGE (bad IDN or port). The caller frees *res with freeaddrinfo. */
int conn_resolve(const char *host, const char *port, int family, struct addrinfo **res,
		 struct cl_err *err);

/* Resolve host (IDN names converted with libidn2) and connect to the first
 * address that answers, trying all of them (IPv6 and IPv4). With
 * o->proxy_host: connect to the proxy instead and have it connect to
 * host:port, the proxy resolving the name (SOCKS5, RFC 1928). Errors:
 * CL_ENOHOST (no such name), CL_ETEMP (temporary DNS failure, refused,
 * unreachable, timeout). */
int conn_open(struct conn **out, const char *host, const char *port, const struct conn_opts *o,
	      struct cl_err *err);
/* Wrap an already connected socket (tests, the server side). */
struct conn *conn_from_fd(int fd);

/* TLS handshake on the connection (implicit TLS right after connect, or
 * after "220" to STARTTLS). Any received plaintext still buffered is
 * discarded first (STARTTLS response injection, CVE-2011-0411); the number
 * of bytes dropped is returned in *discarded when not NULL. */
int conn_start_tls(struct conn *c, struct tls_client_ctx *ctx, const char *host, int timeout_ms,
		   size_t *discarded, struct cl_err *err);
int conn_is_tls(const struct conn *c);
/* The TLS session, for version/cipher/channel binding; NULL if plain. */
struct tls_session *conn_tls(struct conn *c);

/* Read one line ending in LF (CRLF expected; the CR and LF are stripped,
 * a bare LF is tolerated) into line (reset first). 1: a line; 0: EOF before
 * any byte; -1: error (timeout -> CL_ETEMP, line longer than max ->
 * CL_EPROTO, reset -> CL_ETEMP, TLS error -> CL_ETEMP). */
int conn_read_line(struct conn *c, struct buf *line, size_t max, int timeout_ms,
		   struct cl_err *err);
/* Bytes received and not yet consumed. */
size_t conn_pending(const struct conn *c);
/* Write all of p; -1 with CL_ETEMP on timeout, reset or broken pipe. */
int conn_write(struct conn *c, const void *p, size_t n, int timeout_ms, struct cl_err *err);
/* Polite close: TLS close_notify (not waiting for the peer's), then close. */
void conn_close(struct conn *c);
/* Address we are connected to, for messages: "[127.0.0.1]:587". */
const char *conn_peer(const struct conn *c);

#endif
