/*
 * delayproxy.c - a TCP proxy on loopback that delays every byte by a fixed
 * one-way time in each direction, so a benchmark sees a path with a chosen
 * round-trip time without netem. A byte read at t is written at t + delay, in
 * order; an end of stream (FIN) follows the data before it. Connect is free.
 * Standalone (not part of the main build): see bench/run.sh for its build line.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

/* One read's worth of bytes, or an end-of-stream marker, with its due time. */
struct delayproxy_chunk {
	struct delayproxy_chunk *next;
	long long due;   /* CLOCK_MONOTONIC, ns */
	int fin;         /* 1: forward the end of stream (shutdown SHUT_WR) */
	int tried;       /* lateness already counted */
	size_t len, off; /* bytes in data, bytes already written */
	unsigned char data[];
};

/* One direction of a connection: bytes read from `from` wait here for `to`. */
struct delayproxy_dir {
	int from, to;
	struct delayproxy_chunk *head, *tail;
	size_t queued;    /* bytes waiting, for back-pressure */
	int eof_read;     /* `from` gave EOF or an error: read no more */
	int done;         /* FIN forwarded: this direction is finished */
	int want_write;   /* last write hit EAGAIN: poll for POLLOUT */
	const char *name; /* "c>s" or "s>c", for -x */
	long long t0;     /* connection accepted, for -x */
};

struct delayproxy_conn {
	struct delayproxy_conn *next;
	int fd[2]; /* 0: client side, 1: target side */
	struct delayproxy_dir d[2];
	int dead;
};

/* Limits: a benchmark proxy, not a server. Reads are at most READ_MAX bytes;
 * a direction stops reading when QUEUE_MAX bytes wait (the sender then sees
 * ordinary TCP back-pressure). */
#define DELAYPROXY_READ_MAX  65536
#define DELAYPROXY_QUEUE_MAX (8u << 20)
#define DELAYPROXY_CONNS_MAX 64

static volatile sig_atomic_t delayproxy_stop;
static int delayproxy_trace; /* -x: log every read on stderr */

/* Scheduling error: how late each chunk's first write came after its due
 * time. Printed on exit with -s; bench/run.sh reports it. */
static struct {
	long long n, sum_ns, max_ns;
	long long conns, bytes;
} delayproxy_stats;

static long long delayproxy_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void delayproxy_on_signal(int sig)
{
	(void)sig;
	delayproxy_stop = 1;
}

static void delayproxy_usage(void)
{
	fprintf(stderr, "usage: delayproxy [-l PORT] [-b 127.0.0.1|::1] -t HOST:PORT -d MS"
	                " [-L SECONDS] [-s] [-v] [-x]\n"
	                "  -l PORT     listen port (0, the default: pick one; it is printed"
	                " on stdout)\n"
	                "  -b ADDR     listen address, loopback only (default 127.0.0.1)\n"
	                "  -t H:P      target, e.g. 127.0.0.1:587 or [::1]:587\n"
	                "  -d MS       one-way delay in milliseconds (fractions allowed);"
	                " RTT = 2 x MS\n"
	                "  -L SECONDS  exit after this long (default 900)\n"
	                "  -s          print scheduling statistics on stderr at exit\n"
	                "  -v          log each connection on stderr\n"
	                "  -x          log every read (time since accept, direction, size)\n");
}

static int delayproxy_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -1;
	return 0;
}

/* Without TCP_NODELAY a small delayed write could wait for the ACK of the
 * previous one (Nagle): the proxy must add nothing but its own delay. */
static void delayproxy_nodelay(int fd)
{
	int one = 1;

	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* Split "host:port" or "[v6]:port" into getaddrinfo arguments. */
static int delayproxy_split(const char *s, char *host, size_t hostsz, const char **port)
{
	const char *colon;
	size_t n;

	if (s[0] == '[') {
		const char *end = strchr(s, ']');

		if (end == NULL || end[1] != ':')
			return -1;
		n = (size_t)(end - s - 1);
		if (n + 1 > hostsz)
			return -1;
		memcpy(host, s + 1, n);
		host[n] = '\0';
		*port = end + 2;
		return 0;
	}
	colon = strrchr(s, ':');
	if (colon == NULL)
		return -1;
	n = (size_t)(colon - s);
	if (n + 1 > hostsz)
		return -1;
	memcpy(host, s, n);
	host[n] = '\0';
	*port = colon + 1;
	return 0;
}

static int delayproxy_is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

		return IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
	}
	return 0;
}

/* Resolve a numeric or local name, loopback only (the bench never leaves the
 * machine). */
static int delayproxy_resolve(const char *host, const char *port, int passive,
                              struct sockaddr_storage *ss, socklen_t *sslen)
{
	struct addrinfo hints, *res = NULL;
	int rc;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = passive ? AI_PASSIVE : 0;
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0) {
		fprintf(stderr, "delayproxy: %s:%s: %s\n", host, port, gai_strerror(rc));
		return -1;
	}
	if (!delayproxy_is_loopback(res->ai_addr)) {
		fprintf(stderr, "delayproxy: %s is not a loopback address\n", host);
		freeaddrinfo(res);
		return -1;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*sslen = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static int delayproxy_listen(const char *host, const char *port)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	int fd, one = 1;

	if (delayproxy_resolve(host, port, 1, &ss, &sslen) < 0)
		return -1;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, (struct sockaddr *)&ss, sslen) < 0 || listen(fd, 64) < 0 ||
	    delayproxy_nonblock(fd) < 0) {
		fprintf(stderr, "delayproxy: listen on %s:%s: %s\n", host, port, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int delayproxy_bound_port(int fd)
{
	union {
		struct sockaddr sa;
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
		struct sockaddr_storage ss;
	} u;
	socklen_t len = sizeof u;

	memset(&u, 0, sizeof u);
	if (getsockname(fd, &u.sa, &len) < 0)
		return -1;
	return ntohs(u.sa.sa_family == AF_INET ? u.in.sin_port : u.in6.sin6_port);
}

static void delayproxy_dir_free(struct delayproxy_dir *d)
{
	struct delayproxy_chunk *c, *next;

	for (c = d->head; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	d->head = d->tail = NULL;
	d->queued = 0;
}

static void delayproxy_enqueue(struct delayproxy_dir *d, struct delayproxy_chunk *c)
{
	c->next = NULL;
	if (d->tail != NULL)
		d->tail->next = c;
	else
		d->head = c;
	d->tail = c;
	d->queued += c->len;
}

/* Read what is there now and queue it for now + delay. An EOF or a read error
 * queues the end of stream, so the peer sees the FIN after the data. */
static int delayproxy_read(struct delayproxy_dir *d, long long delay_ns)
{
	unsigned char tmp[DELAYPROXY_READ_MAX];
	struct delayproxy_chunk *c;
	long long t = delayproxy_now();
	ssize_t n = read(d->from, tmp, sizeof tmp);

	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return 0;
	c = malloc(sizeof *c + (n > 0 ? (size_t)n : 0));
	if (c == NULL)
		return -1;
	c->due = t + delay_ns;
	c->tried = 0;
	c->off = 0;
	if (n > 0) {
		memcpy(c->data, tmp, (size_t)n);
		c->len = (size_t)n;
		c->fin = 0;
		delayproxy_stats.bytes += n;
		if (delayproxy_trace)
			fprintf(stderr, "delayproxy: %9.3f ms %s %zd bytes\n",
			        (double)(t - d->t0) / 1e6, d->name, n);
	} else {
		c->len = 0;
		c->fin = 1;
		d->eof_read = 1;
		if (delayproxy_trace)
			fprintf(stderr, "delayproxy: %9.3f ms %s end of stream\n",
			        (double)(t - d->t0) / 1e6, d->name);
	}
	delayproxy_enqueue(d, c);
	return 0;
}

/* Write every chunk that is due. Returns -1 when the peer is gone. */
static int delayproxy_flush(struct delayproxy_dir *d, long long now)
{
	while (d->head != NULL && d->head->due <= now) {
		struct delayproxy_chunk *c = d->head;

		if (!c->tried) {
			long long late = now - c->due;

			c->tried = 1;
			delayproxy_stats.n++;
			delayproxy_stats.sum_ns += late;
			if (late > delayproxy_stats.max_ns)
				delayproxy_stats.max_ns = late;
		}
		if (c->fin) {
			(void)shutdown(d->to, SHUT_WR);
			d->done = 1;
		} else {
			ssize_t n = write(d->to, c->data + c->off, c->len - c->off);

			if (n < 0) {
				if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
					d->want_write = 1;
					return 0;
				}
				return -1;
			}
			c->off += (size_t)n;
			if (c->off < c->len) {
				d->want_write = 1;
				return 0;
			}
		}
		d->head = c->next;
		if (d->head == NULL)
			d->tail = NULL;
		d->queued -= c->len;
		free(c);
	}
	d->want_write = 0;
	return 0;
}

static struct delayproxy_conn *delayproxy_accept(int lfd, const struct sockaddr_storage *target,
                                                 socklen_t targetlen, int verbose)
{
	struct delayproxy_conn *cn;
	int cfd, sfd;

	cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (cfd < 0)
		return NULL;
	sfd = socket(target->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	/* A blocking connect on loopback completes at once; only then does the
	 * proxy go non-blocking. */
	if (sfd < 0 || connect(sfd, (const struct sockaddr *)target, targetlen) < 0) {
		fprintf(stderr, "delayproxy: connect to target: %s\n", strerror(errno));
		if (sfd >= 0)
			close(sfd);
		close(cfd);
		return NULL;
	}
	cn = calloc(1, sizeof *cn);
	if (cn == NULL || delayproxy_nonblock(cfd) < 0 || delayproxy_nonblock(sfd) < 0) {
		free(cn);
		close(cfd);
		close(sfd);
		return NULL;
	}
	delayproxy_nodelay(cfd);
	delayproxy_nodelay(sfd);
	cn->fd[0] = cfd;
	cn->fd[1] = sfd;
	cn->d[0].from = cfd;
	cn->d[0].to = sfd;
	cn->d[1].from = sfd;
	cn->d[1].to = cfd;
	cn->d[0].name = "c>s";
	cn->d[1].name = "s>c";
	cn->d[0].t0 = cn->d[1].t0 = delayproxy_now();
	delayproxy_stats.conns++;
	if (verbose)
		fprintf(stderr, "delayproxy: connection %lld\n", delayproxy_stats.conns);
	return cn;
}

static void delayproxy_conn_close(struct delayproxy_conn *cn)
{
	close(cn->fd[0]);
	close(cn->fd[1]);
	delayproxy_dir_free(&cn->d[0]);
	delayproxy_dir_free(&cn->d[1]);
	free(cn);
}

/* Write what is due on every connection; close the finished ones. Returns
 * how many were closed. */
static int delayproxy_flush_all(struct delayproxy_conn **list, int verbose)
{
	long long now = delayproxy_now();
	struct delayproxy_conn *keep = NULL, *cn, *next;
	int k, closed = 0;

	for (cn = *list; cn != NULL; cn = next) {
		next = cn->next;
		for (k = 0; k < 2 && !cn->dead; k++)
			if (delayproxy_flush(&cn->d[k], now) < 0)
				cn->dead = 1;
		if (cn->dead || (cn->d[0].done && cn->d[1].done)) {
			if (verbose)
				fprintf(stderr, "delayproxy: connection closed%s\n",
				        cn->dead ? " (peer gone)" : "");
			delayproxy_conn_close(cn);
			closed++;
			continue;
		}
		cn->next = keep;
		keep = cn;
	}
	*list = keep;
	return closed;
}

static int delayproxy_parse_ms(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || v < 0 || v > 60000)
		return -1;
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	const char *listen_host = "127.0.0.1", *listen_port = "0", *target_arg = NULL;
	double delay_ms = -1, lifetime_s = 900;
	int opt, verbose = 0, stats = 0, lfd, nconns = 0;
	struct sockaddr_storage target;
	socklen_t targetlen;
	char thost[256];
	const char *tport;
	long long delay_ns, deadline;
	struct delayproxy_conn *conns = NULL;
	struct sigaction sa;
	sigset_t block, unblocked;

	while ((opt = getopt(argc, argv, "l:b:t:d:L:svxh")) != -1) {
		switch (opt) {
		case 'l':
			listen_port = optarg;
			break;
		case 'b':
			listen_host = optarg;
			break;
		case 't':
			target_arg = optarg;
			break;
		case 'd':
			if (delayproxy_parse_ms(optarg, &delay_ms) < 0) {
				fprintf(stderr, "delayproxy: bad delay: %s\n", optarg);
				return 64;
			}
			break;
		case 'L':
			if (delayproxy_parse_ms(optarg, &lifetime_s) < 0 || lifetime_s <= 0) {
				fprintf(stderr, "delayproxy: bad lifetime: %s\n", optarg);
				return 64;
			}
			break;
		case 's':
			stats = 1;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'x':
			delayproxy_trace = 1;
			break;
		default:
			delayproxy_usage();
			return opt == 'h' ? 0 : 64;
		}
	}
	if (target_arg == NULL || delay_ms < 0 || optind != argc) {
		delayproxy_usage();
		return 64;
	}
	if (delayproxy_split(target_arg, thost, sizeof thost, &tport) < 0 ||
	    delayproxy_resolve(thost, tport, 0, &target, &targetlen) < 0) {
		fprintf(stderr, "delayproxy: bad target: %s\n", target_arg);
		return 64;
	}
	lfd = delayproxy_listen(listen_host, listen_port);
	if (lfd < 0)
		return 69;

	/* The default timer slack (50 us) would be added to every wake-up. */
	(void)prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = delayproxy_on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* Signals are delivered only inside ppoll, so none is lost between the
	 * check of delayproxy_stop and the wait. */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, &unblocked);
	sigdelset(&unblocked, SIGTERM);
	sigdelset(&unblocked, SIGINT);
	sigdelset(&unblocked, SIGHUP);

	printf("%d\n", delayproxy_bound_port(lfd));
	fflush(stdout);

	delay_ns = (long long)(delay_ms * 1e6);
	deadline = delayproxy_now() + (long long)(lifetime_s * 1e9);

	while (!delayproxy_stop) {
		struct pollfd pfd[1 + 2 * DELAYPROXY_CONNS_MAX];
		struct delayproxy_conn *owner[1 + 2 * DELAYPROXY_CONNS_MAX];
		struct delayproxy_conn *cn;
		long long now = delayproxy_now(), wake = deadline;
		struct timespec ts;
		nfds_t n = 0, i;
		int k;

		if (now >= deadline)
			break;
		if (nconns < DELAYPROXY_CONNS_MAX) {
			pfd[n].fd = lfd;
			pfd[n].events = POLLIN;
			owner[n++] = NULL;
		}
		for (cn = conns; cn != NULL; cn = cn->next) {
			for (k = 0; k < 2; k++) {
				short ev = 0;
				struct delayproxy_dir *d = &cn->d[k];

				/* fd[k] is read by d[k] and written by d[1-k]. */
				if (!d->eof_read && d->queued < DELAYPROXY_QUEUE_MAX)
					ev |= POLLIN;
				if (cn->d[1 - k].want_write)
					ev |= POLLOUT;
				if (d->head != NULL && !d->want_write && d->head->due < wake)
					wake = d->head->due;
				pfd[n].fd = ev ? cn->fd[k] : -1;
				pfd[n].events = ev;
				owner[n++] = cn;
			}
		}
		if (wake < now)
			wake = now;
		ts.tv_sec = (time_t)((wake - now) / 1000000000LL);
		ts.tv_nsec = (long)((wake - now) % 1000000000LL);
		if (ppoll(pfd, n, &ts, &unblocked) < 0 && errno != EINTR) {
			perror("delayproxy: ppoll");
			break;
		}
		/* Read first, then write what is due: data read now is due later
		 * (delay > 0) or now (delay 0), never earlier than queued data. */
		for (i = 0; i < n; i++) {
			if (pfd[i].fd < 0 || pfd[i].revents == 0)
				continue;
			if (owner[i] == NULL) {
				while (nconns < DELAYPROXY_CONNS_MAX &&
				       (cn = delayproxy_accept(lfd, &target, targetlen, verbose)) !=
				           NULL) {
					cn->next = conns;
					conns = cn;
					nconns++;
				}
				continue;
			}
			cn = owner[i];
			k = pfd[i].fd == cn->fd[0] ? 0 : 1;
			if ((pfd[i].revents & (POLLIN | POLLHUP | POLLERR)) && !cn->d[k].eof_read)
				if (delayproxy_read(&cn->d[k], delay_ns) < 0)
					cn->dead = 1;
		}
		nconns -= delayproxy_flush_all(&conns, verbose);
	}
	while (conns != NULL) {
		struct delayproxy_conn *next = conns->next;

		delayproxy_conn_close(conns);
		conns = next;
	}
	close(lfd);
	if (stats)
		fprintf(stderr,
		        "delayproxy: %lld connections, %lld bytes, %lld chunks, write lateness"
		        " mean %.3f ms max %.3f ms\n",
		        delayproxy_stats.conns, delayproxy_stats.bytes, delayproxy_stats.n,
		        delayproxy_stats.n
		            ? (double)delayproxy_stats.sum_ns / (double)delayproxy_stats.n / 1e6
		            : 0.0,
		        (double)delayproxy_stats.max_ns / 1e6);
	return 0;
}
