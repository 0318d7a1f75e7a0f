/*
 * socks5.h - the client side of a SOCKS5 handshake (RFC 1928), sans I/O:
 * the bytes to send and a parser for the proxy's answers. No proxy
 * authentication (method 0x00, as msmtp); the target is sent as a domain
 * name so the proxy resolves it (socks5h), or as an address when it is one.
 */
#ifndef CLSMTP_SOCKS5_H
#define CLSMTP_SOCKS5_H

#include <stddef.h>

#include "base/buf.h"
#include "base/err.h"

/* The most the proxy's CONNECT reply can be: 4 + 1 + 255 + 2. */
#define SOCKS5_REPLY_MAX 262

/* Method selection: VER 5, one method, "no authentication". */
int socks5_greeting(struct buf *out);
/* The proxy's method choice (2 bytes). 0 not complete, 2 (bytes used) ok,
 * -1 err (CL_EPROTO: not SOCKS5; CL_EUNAVAIL: wants authentication). */
int socks5_parse_method(const unsigned char *in, size_t len, struct cl_err *err);
/* CONNECT host:port. host: an IPv4/IPv6 literal or a name of at most 255
 * bytes (already an A-label). -1 with CL_EUSAGE for a bad one. */
int socks5_connect_request(const char *host, unsigned port, struct buf *out, struct cl_err *err);
/* The proxy's CONNECT reply. 0 not complete, >0 bytes used (success),
 * -1 err: the proxy's refusal in words (CL_ETEMP for network trouble,
 * CL_ENOHOST for "host unreachable", CL_EUNAVAIL for "not allowed"), or
 * CL_EPROTO for a malformed reply. */
int socks5_parse_reply(const unsigned char *in, size_t len, struct cl_err *err);

#endif
