/*
 * socks5.c - SOCKS5 handshake bytes and replies (see socks5.h). Pure: no
 * socket, no clock; conn.c drives it, the unit test and fuzz_socks5 feed
 * it bytes directly.
 */
#include "net/socks5.h"

#include <arpa/inet.h>
#include <string.h>

int socks5_greeting(struct buf *out)
{
	static const unsigned char g[] = {5, 1, 0};

	return buf_add(out, (const char *)g, sizeof(g));
}

int socks5_parse_method(const unsigned char *in, size_t len, struct cl_err *err)
{
	if (len < 2)
		return 0;
	if (in[0] != 5)
		return err_set(err, CL_EPROTO, "SOCKS5: the proxy does not speak SOCKS5 (version %u)",
		               in[0]);
	if (in[1] == 0xff)
		return err_set(err, CL_EUNAVAIL,
		               "SOCKS5: the proxy wants authentication, which clsmtpc does not do "
		               "(allow this client without it)");
	if (in[1] != 0)
		return err_set(err, CL_EPROTO, "SOCKS5: the proxy chose method %u, not offered",
		               in[1]);
	return 2;
}

int socks5_connect_request(const char *host, unsigned port, struct buf *out, struct cl_err *err)
{
	unsigned char hdr[5] = {5, 1, 0, 0, 0}, a[16], p[2];
	size_t n = strlen(host);
	int x = 0;

	if (port == 0 || port > 65535)
		return err_set(err, CL_EUSAGE, "SOCKS5: bad port %u", port);
	p[0] = (unsigned char)(port >> 8);
	p[1] = (unsigned char)(port & 0xff);
	if (inet_pton(AF_INET, host, a) == 1) {
		hdr[3] = 1;
		x |= buf_add(out, (const char *)hdr, 4) | buf_add(out, (const char *)a, 4);
	} else if (inet_pton(AF_INET6, host, a) == 1) {
		hdr[3] = 4;
		x |= buf_add(out, (const char *)hdr, 4) | buf_add(out, (const char *)a, 16);
	} else {
		if (n == 0 || n > 255 || strpbrk(host, "\r\n"))
			return err_set(err, CL_EUSAGE, "SOCKS5: host name '%s' cannot be sent", host);
		hdr[3] = 3;
		hdr[4] = (unsigned char)n;
		x |= buf_add(out, (const char *)hdr, 5) | buf_add(out, host, n);
	}
	x |= buf_add(out, (const char *)p, 2);
	return x ? err_set(err, CL_ESOFTWARE, "SOCKS5: request too long") : 0;
}

/* RFC 1928 6: REP values. */
static int socks5_refusal(unsigned rep, struct cl_err *err)
{
	static const char *const why[] = {
	    "succeeded",
	    "general SOCKS server failure",
	    "connection not allowed by ruleset",
	    "network unreachable",
	    "host unreachable",
	    "connection refused",
	    "TTL expired",
	    "command not supported",
	    "address type not supported",
	};
	enum cl_errclass cls = rep == 2 ? CL_EUNAVAIL : rep == 4 ? CL_ENOHOST : CL_ETEMP;

	if (rep == 7 || rep == 8)
		cls = CL_EPROTO;
	return err_set(err, cls, "SOCKS5: the proxy could not connect: %s (reply %u)",
	               rep < sizeof(why) / sizeof(why[0]) ? why[rep] : "unknown error", rep);
}

int socks5_parse_reply(const unsigned char *in, size_t len, struct cl_err *err)
{
	size_t need;

	if (len < 2)
		return 0;
	if (in[0] != 5)
		return err_set(err, CL_EPROTO, "SOCKS5: malformed reply (version %u)", in[0]);
	if (in[1] != 0)
		return socks5_refusal(in[1], err);
	if (len < 5)
		return 0;
	if (in[2] != 0)
		return err_set(err, CL_EPROTO, "SOCKS5: malformed reply (reserved byte %u)", in[2]);
	switch (in[3]) {
	case 1:
		need = 4 + 4 + 2;
		break;
	case 4:
		need = 4 + 16 + 2;
		break;
	case 3:
		need = 4 + 1 + (size_t)in[4] + 2;
		break;
	default:
		return err_set(err, CL_EPROTO, "SOCKS5: malformed reply (address type %u)", in[3]);
	}
	return len < need ? 0 : (int)need;
}
