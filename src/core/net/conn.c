/*
 * conn.c - a connection to a server (see conn.h): resolve (IDN via libidn2),
 * connect to each address in turn with a timeout, then line-oriented reads
 * and whole writes, in clear or through tls.c. TCP_NODELAY is set because
 * we always write whole pipelined groups: Nagle would hold back the EHLO
 * behind the TLS Finished and cost a round trip.
 */
#include "net/conn.h"

#include <errno.h>
#include <fcntl.h>
#include <idn2.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/timeout.h"
#include "net/socks5.h"

/* Largest chunk read at once, and the most we buffer unconsumed. */
#define CONN_READ_CHUNK 16384
#define CONN_INBUF_MAX  (256 * 1024)

struct conn {
	int fd;
	struct tls_session *tls;
	struct buf in; /* received, not yet consumed */
	size_t in_off; /* consumed prefix of in */
	char peer[INET6_ADDRSTRLEN + 16];
};

static struct conn *conn_alloc(int fd)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->fd = fd;
	buf_init(&c->in, CONN_INBUF_MAX);
	snprintf(c->peer, sizeof(c->peer), "fd %d", fd);
	return c;
}

struct conn *conn_from_fd(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl >= 0)
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	return conn_alloc(fd);
}

static void conn_format_peer(const struct sockaddr *sa, socklen_t len, char *out, size_t n)
{
	char h[INET6_ADDRSTRLEN], p[8];

	if (getnameinfo(sa, len, h, sizeof(h), p, sizeof(p), NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		snprintf(out, n, "?");
	else
		snprintf(out, n, "[%s]:%s", h, p);
}

/* Non-blocking connect with a deadline: 0 connected, -1 with errno. */
static int conn_connect_one(int fd, const struct addrinfo *ai, int timeout_ms)
{
	int soerr = 0, r;
	socklen_t sl = sizeof(soerr);

	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return 0;
	if (errno != EINPROGRESS)
		return -1;
	r = timeout_wait_fd(fd, POLLOUT, timeout_now_ms() + timeout_ms);
	if (r == 0) {
		errno = ETIMEDOUT;
		return -1;
	}
	if (r < 0)
		return -1;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
		return -1;
	if (soerr != 0) {
		errno = soerr;
		return -1;
	}
	return 0;
}

int conn_resolve(const char *host, const char *port, int family, struct addrinfo **res,
                        struct cl_err *err)
{
	struct addrinfo hints;
	char *ascii = NULL;
	const char *name = host;
	int r;

	for (const char *p = host; *p; p++) {
		if ((unsigned char)*p >= 0x80) {
			/* RFC 5890: a U-label goes on the wire as an A-label. */
			r = idn2_to_ascii_8z(host, &ascii, IDN2_NONTRANSITIONAL);
			if (r != IDN2_OK)
				return err_set(err, CL_EUSAGE,
				               "host name %s is not a valid IDN: %s", host,
				               idn2_strerror(r));
			name = ascii;
			break;
		}
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	r = getaddrinfo(name, port, &hints, res);
	free(ascii);
	if (r == 0)
		return 0;
	if (r == EAI_NONAME || r == EAI_NODATA || r == EAI_ADDRFAMILY)
		return err_set(err, CL_ENOHOST, "host %s not found", host);
	if (r == EAI_SERVICE)
		return err_set(err, CL_EUSAGE, "bad port %s", port);
	return err_set(err, CL_ETEMP, "cannot resolve %s: %s", host, gai_strerror(r));
}

/* --source-ip: a numeric address; only server addresses of its family are
 * tried. */
static int conn_source(const char *ip, struct addrinfo **src, struct cl_err *err)
{
	struct addrinfo hints;

	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_NUMERICHOST | AI_PASSIVE;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(ip, NULL, &hints, src) != 0)
		return err_set(err, CL_EUSAGE, "source IP '%s' is not an IPv4 or IPv6 address", ip);
	return 0;
}

static int conn_open_direct(struct conn **out, const char *host, const char *port,
                            const struct conn_opts *o, struct cl_err *err)
{
	struct addrinfo *res, *ai, *src = NULL;
	char peer[sizeof(((struct conn *)0)->peer)] = "";
	int fd = -1, one = 1, last_errno = EAFNOSUPPORT;

	if (o->source_ip && conn_source(o->source_ip, &src, err) < 0)
		return -1;
	if (conn_resolve(host, port, src ? src->ai_family : o->family, &res, err) < 0) {
		if (src)
			freeaddrinfo(src);
		return err_prefix(err, "connect");
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		            ai->ai_protocol);
		if (fd < 0) {
			last_errno = errno;
			continue;
		}
		conn_format_peer(ai->ai_addr, ai->ai_addrlen, peer, sizeof(peer));
		if (src && bind(fd, src->ai_addr, src->ai_addrlen) < 0) {
			last_errno = errno;
			close(fd);
			freeaddrinfo(res);
			err_set(err, CL_EUNAVAIL, "connect: cannot use source IP %s: %s",
			        o->source_ip, strerror(last_errno));
			freeaddrinfo(src);
			return -1;
		}
		if (conn_connect_one(fd, ai, o->connect_timeout_ms) == 0)
			break;
		last_errno = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (src)
		freeaddrinfo(src);
	if (fd < 0)
		return err_set(err, CL_ETEMP, "connect: cannot connect to %s port %s%s%s%s: %s",
			       host, port, peer[0] ? " (last tried " : "", peer[0] ? peer : "",
			       peer[0] ? ")" : "",
			       last_errno == ETIMEDOUT ? "timed out (filtered? try clsmtpc --doctor)"
						       : strerror(last_errno));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	*out = conn_alloc(fd);
	if (*out == NULL) {
		close(fd);
		return err_set(err, CL_ESOFTWARE, "out of memory");
	}
	snprintf((*out)->peer, sizeof((*out)->peer), "%s", peer);
	return 0;
}

const char *conn_peer(const struct conn *c)
{
	return c->peer;
}

int conn_is_tls(const struct conn *c)
{
	return c->tls != NULL;
}

struct tls_session *conn_tls(struct conn *c)
{
	return c->tls;
}

size_t conn_pending(const struct conn *c)
{
	return c->in.len - c->in_off + (c->tls ? tls_session_pending(c->tls) : 0);
}

/* Ask for an immediate ACK of what we just read. A server that writes its
 * TLS session tickets and its greeting as two small segments with Nagle on
 * would otherwise wait for our delayed ACK (40 ms on Linux) before sending
 * the greeting. Linux leaves quick-ACK mode by itself, hence after each read. */
static void conn_quickack(int fd)
{
#ifdef TCP_QUICKACK
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
#else
	(void)fd;
#endif
}

int conn_start_tls(struct conn *c, struct tls_client_ctx *ctx, const char *host, int timeout_ms,
                   size_t *discarded, struct cl_err *err)
{
	/* RFC 3207 4.2 and CVE-2011-0411: nothing received before the
	 * handshake may be read as coming from inside TLS. */
	if (discarded)
		*discarded = c->in.len - c->in_off;
	buf_reset(&c->in);
	c->in_off = 0;
	if (c->tls)
		return err_set(err, CL_ESOFTWARE, "TLS already active");
	if (tls_session_connect(&c->tls, ctx, c->fd, host, timeout_ms, err) < 0)
		return -1;
	conn_quickack(c->fd);
	return 0;
}

/* Read more bytes into the buffer: >0 read, 0 EOF, -1 error. */
static long conn_fill(struct conn *c, int64_t deadline, struct cl_err *err)
{
	char tmp[CONN_READ_CHUNK];
	long n;
	int r;

	if (c->in_off > 0) {
		buf_consume(&c->in, c->in_off);
		c->in_off = 0;
	}
	conn_quickack(c->fd);
	if (c->tls) {
		int64_t left = deadline - timeout_now_ms();
		n = tls_session_read(c->tls, tmp, sizeof(tmp), left > 0 ? (int)left : 0, err);
	} else {
		for (;;) {
			n = read(c->fd, tmp, sizeof(tmp));
			if (n >= 0)
				break;
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				return err_set(err, CL_ETEMP, "read from %s failed: %s", c->peer,
				               strerror(errno));
			}
			r = timeout_wait_fd(c->fd, POLLIN, deadline);
			if (r == 0)
				return err_set(err, CL_ETEMP,
				               "timed out waiting for the server's reply");
			if (r < 0)
				return err_set(err, CL_ETEMP, "poll failed: %s", strerror(errno));
		}
	}
	if (n > 0 && buf_add(&c->in, tmp, (size_t)n) < 0)
		n = err_set(err, CL_EPROTO, "the server sent more than %u bytes without a line end",
		            (unsigned)CONN_INBUF_MAX);
	return n;
}

/* Read until parse() accepts what is buffered; the bytes it used are
 * consumed. >0 used, -1 err. */
static int conn_read_msg(struct conn *c, int (*parse)(const unsigned char *, size_t, struct cl_err *),
                         int64_t deadline, struct cl_err *err)
{
	int r;
	long n;

	for (;;) {
		r = parse((const unsigned char *)(c->in.data ? c->in.data + c->in_off : ""),
		          c->in.len - c->in_off, err);
		if (r != 0)
			break;
		n = conn_fill(c, deadline, err);
		if (n == 0)
			return err_set(err, CL_ETEMP, "SOCKS5: the proxy closed the connection");
		if (n < 0)
			return -1;
	}
	if (r > 0)
		c->in_off += (size_t)r;
	return r;
}

/* The SOCKS5 handshake on a connection to the proxy (socks5.c). */
static int conn_socks5(struct conn *c, const char *host, const char *port, int timeout_ms,
                       struct cl_err *err)
{
	int64_t deadline = timeout_now_ms() + timeout_ms;
	struct buf req = BUF_INIT(SOCKS5_REPLY_MAX + 16);
	char *ascii = NULL, *end;
	const char *name = host;
	unsigned long pn = strtoul(port, &end, 10);
	int r = -1;

	for (const char *p = host; *p; p++)
		if ((unsigned char)*p >= 0x80) {
			int x = idn2_to_ascii_8z(host, &ascii, IDN2_NONTRANSITIONAL);
			if (x != IDN2_OK)
				return err_set(err, CL_EUSAGE, "host name %s is not a valid IDN: %s",
				               host, idn2_strerror(x));
			name = ascii;
			break;
		}
	if (*port == '\0' || *end != '\0' || pn == 0 || pn > 65535) {
		err_set(err, CL_EUSAGE, "bad port %s (a number is needed through a proxy)", port);
		goto out;
	}
	if (socks5_greeting(&req) < 0 ||
	    conn_write(c, req.data, req.len, (int)(deadline - timeout_now_ms()), err) < 0 ||
	    conn_read_msg(c, socks5_parse_method, deadline, err) < 0)
		goto out;
	buf_reset(&req);
	if (socks5_connect_request(name, (unsigned)pn, &req, err) < 0 ||
	    conn_write(c, req.data, req.len, (int)(deadline - timeout_now_ms()), err) < 0 ||
	    conn_read_msg(c, socks5_parse_reply, deadline, err) < 0)
		goto out;
	r = 0;
out:
	free(ascii);
	buf_free(&req);
	return r;
}

int conn_open(struct conn **out, const char *host, const char *port, const struct conn_opts *o,
              struct cl_err *err)
{
	struct conn_opts direct = *o;
	struct conn *c = NULL;

	if (o->proxy_host == NULL || o->proxy_host[0] == '\0')
		return conn_open_direct(out, host, port, o, err);
	direct.proxy_host = NULL;
	if (conn_open_direct(&c, o->proxy_host, o->proxy_port ? o->proxy_port : "1080", &direct,
	                     err) < 0 ||
	    c == NULL)
		return err_prefix(err, "SOCKS5 proxy");
	if (conn_socks5(c, host, port, o->connect_timeout_ms, err) < 0) {
		err_prefix(err, "via proxy %s (%s) to %s port %s", o->proxy_host, c->peer, host,
		           port);
		conn_close(c);
		return -1;
	}
	/* c->peer stays the proxy's address: the one we are connected to. */
	*out = c;
	return 0;
}

int conn_read_line(struct conn *c, struct buf *line, size_t max, int timeout_ms, struct cl_err *err)
{
	int64_t deadline = timeout_now_ms() + timeout_ms;
	const char *start, *nl;
	size_t avail, len;
	long n;

	buf_reset(line);
	for (;;) {
		start = c->in.data ? c->in.data + c->in_off : NULL;
		avail = c->in.len - c->in_off;
		/* NOLINTNEXTLINE(clang-analyzer-core.NonNullParamChecker): avail > 0: data set */
		nl = avail ? memchr(start, '\n', avail) : NULL;
		if (nl) {
			len = (size_t)(nl - start);
			c->in_off += len + 1;
			if (len > 0 && start[len - 1] == '\r')
				len--;
			if (len > max)
				return err_set(err, CL_EPROTO,
				               "the server sent a line longer than %zu bytes", max);
			return buf_add(line, start, len) < 0
			           ? err_set(err, CL_ESOFTWARE, "out of memory")
			           : 1;
		}
		if (avail > max + 1)
			return err_set(err, CL_EPROTO,
			               "the server sent a line longer than %zu bytes", max);
		n = conn_fill(c, deadline, err);
		if (n < 0)
			return -1;
		if (n == 0) {
			if (c->in.len - c->in_off == 0)
				return 0;
			return err_set(err, CL_ETEMP, "connection closed in the middle of a line");
		}
	}
}

int conn_write(struct conn *c, const void *p, size_t n, int timeout_ms, struct cl_err *err)
{
	int64_t deadline = timeout_now_ms() + timeout_ms;
	const char *s = p;
	long w;
	int r;

	while (n > 0) {
		if (c->tls) {
			int64_t left = deadline - timeout_now_ms();
			w = tls_session_write(c->tls, s, n, left > 0 ? (int)left : 0, err);
			if (w < 0)
				return -1;
		} else {
			w = send(c->fd, s, n, MSG_NOSIGNAL);
			if (w < 0) {
				if (errno == EINTR)
					continue;
				if (errno != EAGAIN && errno != EWOULDBLOCK)
					return err_set(err, CL_ETEMP, "write to %s failed: %s",
					               c->peer, strerror(errno));
				r = timeout_wait_fd(c->fd, POLLOUT, deadline);
				if (r == 0)
					return err_set(err, CL_ETEMP,
					               "timed out sending to the server");
				if (r < 0)
					return err_set(err, CL_ETEMP, "poll failed: %s",
					               strerror(errno));
				continue;
			}
		}
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

void conn_close(struct conn *c)
{
	char sink[4096];
	int i;

	if (c == NULL)
		return;
	if (c->tls)
		tls_session_close(c->tls);
	if (c->fd >= 0) {
		/* Closing with unread bytes (the server's close_notify after its
		 * 221) makes the kernel send RST instead of FIN: read what has
		 * already arrived, without waiting for more. */
		shutdown(c->fd, SHUT_WR);
		for (i = 0; i < 16 && read(c->fd, sink, sizeof(sink)) > 0; i++)
			;
		close(c->fd);
	}
	buf_wipe(&c->in);
	free(c);
}
