/*
 * tcp_probe.h - connect to every address of a host at once, without
 * blocking past a deadline, and say what the network did: connected,
 * refused (RST), filtered (silence: the OP25B signature), unreachable
 * (ICMP). For clsmtpc --doctor, which runs one probe per port in parallel.
 */
#ifndef CLSMTP_TCP_PROBE_H
#define CLSMTP_TCP_PROBE_H

#include <netinet/in.h>
#include <stdint.h>

#include "base/err.h"

enum tcp_probe_state {
	TCP_PROBE_OPEN,        /* the handshake completed */
	TCP_PROBE_REFUSED,     /* RST: reachable, nothing listens */
	TCP_PROBE_FILTERED,    /* no answer at all before the deadline */
	TCP_PROBE_UNREACHABLE, /* ICMP unreachable, or no route from here */
	TCP_PROBE_ERROR,       /* name not found, or a local failure: see err */
};

/* How many addresses of one host are tried at once (IPv6 and IPv4). */
#define TCP_PROBE_ADDRS_MAX 8

struct tcp_probe_result {
	enum tcp_probe_state state;
	int fd;               /* TCP_PROBE_OPEN: the connected socket, non-blocking */
	char addr[INET6_ADDRSTRLEN]; /* the address that answered (or the last tried) */
	int64_t elapsed_ms;   /* until the state was known */
	int sys_errno;        /* for refused/unreachable: the errno seen */
	int naddrs;           /* addresses tried */
};

/* Resolve host (IDN names through libidn2) for family (AF_UNSPEC, AF_INET,
 * AF_INET6) and connect to all its addresses (at most TCP_PROBE_ADDRS_MAX)
 * at the same time until one connects or deadline_ms (timeout_now_ms clock)
 * passes. Over several addresses the most telling outcome wins: open, then
 * filtered, then refused, then unreachable. Returns 0 with res filled (the
 * caller owns res->fd when open), or -1 with err when the name does not
 * resolve (CL_ENOHOST, CL_ETEMP) or nothing could be tried. */
int tcp_probe_connect(const char *host, const char *port, int family, int64_t deadline_ms,
		      struct tcp_probe_result *res, struct cl_err *err);
/* The class of a connect(2) failure: refused, unreachable, or filtered
 * (ETIMEDOUT: the kernel gave up retransmitting). Pure; unit-tested. */
enum tcp_probe_state tcp_probe_classify_errno(int e);
/* "open", "refused", "filtered", "unreachable", "error". */
const char *tcp_probe_state_name(enum tcp_probe_state s);

#endif
