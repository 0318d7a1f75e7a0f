/*
 * tcp_probe.c - parallel non-blocking connects with a deadline, classified
 * (see tcp_probe.h). One poll loop over a socket per address; ICMP errors
 * arrive as SO_ERROR (EHOSTUNREACH, ENETUNREACH), a RST as ECONNREFUSED, and
 * a dropped SYN as nothing at all until the deadline.
 */
#include "net/tcp_probe.h"

#include "net/conn.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/timeout.h"

enum tcp_probe_state tcp_probe_classify_errno(int e)
{
	switch (e) {
	case 0:
		return TCP_PROBE_OPEN;
	case ECONNREFUSED:
		return TCP_PROBE_REFUSED;
	case ETIMEDOUT:
		return TCP_PROBE_FILTERED;
	case EHOSTUNREACH:
	case ENETUNREACH:
	case EHOSTDOWN:
	case ENETDOWN:
	case EADDRNOTAVAIL:
	case EAFNOSUPPORT:
	case EACCES: /* a local firewall rule with "reject" */
	case EPERM:
		return TCP_PROBE_UNREACHABLE;
	default:
		return TCP_PROBE_ERROR;
	}
}

const char *tcp_probe_state_name(enum tcp_probe_state s)
{
	static const char *const names[] = {"open", "refused", "filtered", "unreachable", "error"};

	return (size_t)s < sizeof(names) / sizeof(names[0]) ? names[s] : "error";
}

static void tcp_probe_addr(const struct addrinfo *ai, char *out, size_t n)
{
	if (getnameinfo(ai->ai_addr, ai->ai_addrlen, out, (socklen_t)n, NULL, 0, NI_NUMERICHOST) !=
	    0)
		snprintf(out, n, "?");
}

/* Rank of a final state when several addresses disagree: what tells the
 * user most about the path wins (a filtered IPv4 path matters more than an
 * IPv6 address that has no route from here). */
static int tcp_probe_rank(enum tcp_probe_state s)
{
	switch (s) {
	case TCP_PROBE_OPEN:
		return 4;
	case TCP_PROBE_FILTERED:
		return 3;
	case TCP_PROBE_REFUSED:
		return 2;
	case TCP_PROBE_UNREACHABLE:
		return 1;
	default:
		return 0;
	}
}

static void tcp_probe_settle(struct tcp_probe_result *res, enum tcp_probe_state st, int e,
                             const char *addr, int64_t start)
{
	size_t n;

	if (res->state != TCP_PROBE_ERROR && tcp_probe_rank(st) <= tcp_probe_rank(res->state))
		return;
	res->state = st;
	res->sys_errno = e;
	res->elapsed_ms = timeout_now_ms() - start;
	n = strnlen(addr, sizeof(res->addr) - 1);
	memcpy(res->addr, addr, n);
	res->addr[n] = '\0';
}

int tcp_probe_connect(const char *host, const char *port, int family, int64_t deadline_ms,
                      struct tcp_probe_result *res, struct cl_err *err)
{
	struct pollfd pfd[TCP_PROBE_ADDRS_MAX];
	char addrs[TCP_PROBE_ADDRS_MAX][INET6_ADDRSTRLEN];
	struct addrinfo *ai0, *ai;
	int64_t start = timeout_now_ms(), left;
	int n = 0, pending = 0, i, r, soerr, tried = 0;
	socklen_t sl;

	memset(res, 0, sizeof(*res));
	res->fd = -1;
	res->state = TCP_PROBE_ERROR;
	if (conn_resolve(host, port, family, &ai0, err) < 0)
		return -1;
	for (ai = ai0; ai && n < TCP_PROBE_ADDRS_MAX; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		                ai->ai_protocol);
		char a[INET6_ADDRSTRLEN];

		tcp_probe_addr(ai, a, sizeof(a));
		if (fd < 0) {
			tcp_probe_settle(res, tcp_probe_classify_errno(errno), errno, a, start);
			tried++;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 || errno == EINPROGRESS) {
			/* Loopback may connect at once; poll reports it writable. */
			pfd[n].fd = fd;
			pfd[n].events = POLLOUT;
			memcpy(addrs[n], a, sizeof(a));
			n++;
			pending++;
			continue;
		}
		tcp_probe_settle(res, tcp_probe_classify_errno(errno), errno, a, start);
		tried++;
		close(fd);
	}
	freeaddrinfo(ai0);
	res->naddrs = tried + n;
	if (res->naddrs == 0)
		return err_set(err, CL_ENOHOST, "host %s has no address to try", host);

	while (pending > 0 && res->state != TCP_PROBE_OPEN) {
		left = deadline_ms - timeout_now_ms();
		if (left <= 0)
			break;
		r = poll(pfd, (nfds_t)n, (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err_set(err, CL_EIO, "poll failed: %s", strerror(errno));
			break;
		}
		for (i = 0; i < n && r > 0; i++) {
			if (pfd[i].fd < 0 || pfd[i].revents == 0)
				continue;
			soerr = 0;
			sl = sizeof(soerr);
			if (getsockopt(pfd[i].fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
				soerr = errno;
			if (soerr == 0 && res->state != TCP_PROBE_OPEN) {
				tcp_probe_settle(res, TCP_PROBE_OPEN, 0, addrs[i], start);
				res->fd = pfd[i].fd;
			} else {
				if (soerr != 0)
					tcp_probe_settle(res, tcp_probe_classify_errno(soerr),
					                 soerr, addrs[i], start);
				close(pfd[i].fd);
			}
			pfd[i].fd = -1;
			pending--;
		}
	}
	/* Whatever is still waiting got no answer at all. */
	for (i = 0; i < n; i++) {
		if (pfd[i].fd < 0)
			continue;
		if (res->state != TCP_PROBE_OPEN)
			tcp_probe_settle(res, TCP_PROBE_FILTERED, ETIMEDOUT, addrs[i], start);
		close(pfd[i].fd);
	}
	return 0;
}
