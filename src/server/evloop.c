/*
 * evloop.c - listeners and the poll() loop (evloop.h). Each connection
 * alternates: write what the session queued, then read and feed it. TLS
 * handshakes (implicit, or after the 220 to STARTTLS has been written) are
 * driven without blocking. Signals come in through a self-pipe.
 */
#include "evloop.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "session.h"
#include "timeout.h"

struct lsock {
	int fd;
	const struct conf_listener *l;
};

enum conn_phase { CONN_HANDSHAKE, CONN_OPEN };

struct conn {
	int fd;
	const struct conf_listener *l;
	struct session *sess;
	struct tls_server_conn *tls;
	enum conn_phase phase;
	int starttls;   /* handshake after the output is written */
	int implicit;   /* the handshake is the implicit-TLS one */
	int closing;    /* close once the output is written */
	int want_write; /* TLS or the socket wants POLLOUT */
	int64_t idle_deadline, session_deadline, close_deadline;
	int64_t greet_at; /* greeting still to be sent at this time, or 0 */
};

static struct lsock *evloop_ls;
static size_t evloop_nls;
static int evloop_sigpipe[2] = {-1, -1};
static volatile sig_atomic_t evloop_got_term, evloop_got_hup, evloop_got_chld;

static int evloop_bind_one(struct srv *srv, const struct conf_listener *l, const char *host,
                           struct cl_err *err)
{
	struct addrinfo hints, *res, *ai;
	int r, n = 0;

	(void)srv;
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
	r = getaddrinfo(host, l->port, &hints, &res);
	if (r != 0)
		return err_set(err, CL_ECONFIG, "line %d: listen %s:%s: %s", l->line, host, l->port,
		               gai_strerror(r));
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		int one = 1;
		void *p;
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (ai->ai_family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 128) < 0) {
			err_set(err, CL_ECONFIG, "line %d: listen %s:%s: %s", l->line, host,
			        l->port, strerror(errno));
			close(fd);
			freeaddrinfo(res);
			return -1;
		}
		p = realloc(evloop_ls, (evloop_nls + 1) * sizeof(*evloop_ls));
		if (p == NULL)
			abort();
		evloop_ls = p;
		evloop_ls[evloop_nls].fd = fd;
		evloop_ls[evloop_nls].l = l;
		evloop_nls++;
		n++;
	}
	freeaddrinfo(res);
	return n > 0 ? 0
	             : err_set(err, CL_ECONFIG, "line %d: listen %s:%s: no address", l->line, host,
	                       l->port);
}

int evloop_listen(struct srv *srv, struct cl_err *err)
{
	size_t i;

	for (i = 0; i < srv->conf->nlisten; i++) {
		const struct conf_listener *l = &srv->conf->listen[i];
		if (strcmp(l->host, "*") == 0) {
			if (evloop_bind_one(srv, l, "0.0.0.0", err) < 0 ||
			    evloop_bind_one(srv, l, "::", err) < 0)
				return -1;
		} else if (evloop_bind_one(srv, l, l->host, err) < 0) {
			return -1;
		}
	}
	return 0;
}

void evloop_close_listeners(void)
{
	size_t i;

	for (i = 0; i < evloop_nls; i++)
		close(evloop_ls[i].fd);
	evloop_nls = 0;
	if (evloop_sigpipe[0] >= 0) {
		close(evloop_sigpipe[0]);
		close(evloop_sigpipe[1]);
		evloop_sigpipe[0] = evloop_sigpipe[1] = -1;
	}
}

static void evloop_on_signal(int sig)
{
	int saved = errno;
	char c = (char)sig;

	if (sig == SIGTERM || sig == SIGINT)
		evloop_got_term = 1;
	else if (sig == SIGHUP)
		evloop_got_hup = 1;
	else if (sig == SIGCHLD)
		evloop_got_chld = 1;
	if (write(evloop_sigpipe[1], &c, 1) < 0) {
		/* full: a wake-up is already pending */
	}
	errno = saved;
}

static int evloop_signals(void)
{
	struct sigaction sa;

	if (pipe2(evloop_sigpipe, O_NONBLOCK | O_CLOEXEC) < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = evloop_on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

static void evloop_conn_free(struct srv *srv, struct conn *c)
{
	session_free(c->sess);
	tls_server_conn_free(c->tls);
	close(c->fd);
	srv->nsessions--;
	free(c);
}

static void evloop_act(struct conn *c, unsigned act)
{
	if (act & SMTP_SRV_ACT_CLOSE)
		c->closing = 1;
	if (act & SMTP_SRV_ACT_STARTTLS)
		c->starttls = 1;
}

/* Write queued replies. 0 ok (maybe partial), -1 connection lost. */
static int evloop_flush(struct conn *c)
{
	struct buf *out = smtp_server_output(session_smtp(c->sess));
	struct cl_err err;

	c->want_write = 0;
	while (out->len > 0) {
		long n;
		if (c->tls != NULL) {
			n = tls_server_write(c->tls, out->data, out->len, &err);
			if (n == TLS_SRV_WANT_READ || n == TLS_SRV_WANT_WRITE) {
				c->want_write = 1;
				return 0;
			}
		} else {
			n = write(c->fd, out->data, out->len);
			if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
				c->want_write = 1;
				return 0;
			}
		}
		if (n <= 0)
			return -1;
		buf_consume(out, (size_t)n);
	}
	return 0;
}

static int evloop_handshake(struct srv *srv, struct conn *c, int64_t now)
{
	struct cl_err err;
	int r;

	err_clear(&err);
	if (c->tls == NULL) {
		if (srv->tls == NULL ||
		    (c->tls = tls_server_conn_new(srv->tls, c->fd, &err)) == NULL)
			return -1;
	}
	r = tls_server_handshake(c->tls, &err);
	if (r == TLS_SRV_WANT_READ || r == TLS_SRV_WANT_WRITE) {
		c->want_write = r == TLS_SRV_WANT_WRITE;
		return 0;
	}
	if (r < 0) {
		log_msg(LOG_NOTICE, "[%s]: %s", session_peer(c->sess), err.msg);
		return -1;
	}
	c->phase = CONN_OPEN;
	c->want_write = 0;
	c->idle_deadline = now + (int64_t)srv->conf->idle_timeout * 1000;
	session_tls_up(c->sess, c->tls, !c->implicit);
	if (c->implicit)
		evloop_act(c, smtp_server_greet(session_smtp(c->sess)));
	return 1;
}

/* Do what can be done for c now. -1: drop the connection. */
static int evloop_step(struct srv *srv, struct conn *c, int64_t now)
{
	char in[EVLOOP_READ_CHUNK];
	struct smtp_server *sm = session_smtp(c->sess);
	struct cl_err err;
	int rounds;

	if (c->phase == CONN_HANDSHAKE) {
		int r = evloop_handshake(srv, c, now);
		if (r <= 0)
			return r;
	}
	for (rounds = 0; rounds < 8; rounds++) {
		long n;
		if (evloop_flush(c) < 0)
			return -1;
		if (smtp_server_output(sm)->len > 0) {
			if (smtp_server_output(sm)->len >= EVLOOP_OUT_HIGH || c->closing ||
			    c->starttls)
				return 0;
		}
		if (c->closing)
			return smtp_server_output(sm)->len == 0 ? -1 : 0;
		if (c->starttls) {
			c->starttls = 0;
			c->implicit = 0;
			c->phase = CONN_HANDSHAKE;
			return evloop_handshake(srv, c, now) < 0 ? -1 : 0;
		}
		if (c->tls != NULL) {
			n = tls_server_read(c->tls, in, sizeof(in), &err);
			if (n == TLS_SRV_WANT_READ)
				return 0;
			if (n == TLS_SRV_WANT_WRITE) {
				c->want_write = 1;
				return 0;
			}
		} else {
			n = read(c->fd, in, sizeof(in));
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				return 0;
		}
		if (n <= 0)
			return -1; /* EOF or error: the transaction (if any) is aborted */
		c->idle_deadline = now + (int64_t)srv->conf->idle_timeout * 1000;
		evloop_act(c, smtp_server_feed(sm, in, (size_t)n));
	}
	return 0;
}

static void evloop_accept(struct srv *srv, struct lsock *ls, struct conn ***conns, size_t *nconn,
                          int64_t now)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int fd = accept4(ls->fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC),
	    one = 1;
	struct conn *c;
	void *p;

	if (fd < 0)
		return;
	if (srv->nsessions >= srv->conf->max_sessions) {
		static const char busy[] = "421 4.7.0 Too many connections, try again later\r\n";
		if (write(fd, busy, sizeof(busy) - 1) < 0) {
			/* nothing more to do */
		}
		close(fd);
		log_msg(LOG_WARNING, "too many connections (%u): refused one", srv->nsessions);
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c = calloc(1, sizeof(*c));
	p = realloc(*conns, (*nconn + 1) * sizeof(**conns));
	if (c == NULL || p == NULL) {
		free(c);
		close(fd);
		return;
	}
	*conns = p;
	c->fd = fd;
	c->l = ls->l;
	c->implicit = ls->l->mode == CONF_TLS;
	c->phase = c->implicit ? CONN_HANDSHAKE : CONN_OPEN;
	c->sess = session_new(srv, ls->l, (struct sockaddr *)&ss, 0);
	if (c->sess == NULL) {
		close(fd);
		free(c);
		return;
	}
	srv->nsessions++;
	c->idle_deadline = now + (int64_t)srv->conf->idle_timeout * 1000;
	c->session_deadline = now + (int64_t)srv->conf->session_timeout * 1000;
	log_msg(LOG_INFO, "connect from [%s] on %s:%s", session_peer(c->sess), ls->l->host,
	        ls->l->port);
	if (!c->implicit && srv->conf->greeting_delay > 0)
		c->greet_at = now + (int64_t)srv->conf->greeting_delay * 1000;
	else if (!c->implicit)
		evloop_act(c, smtp_server_greet(session_smtp(c->sess)));
	(*conns)[(*nconn)++] = c;
	if (evloop_step(srv, c, now) < 0) {
		(*nconn)--;
		log_msg(LOG_INFO, "disconnect from [%s]", session_peer(c->sess));
		evloop_conn_free(srv, c);
	}
}

int evloop_run(struct srv *srv, void (*on_hup)(struct srv *), void (*on_chld)(struct srv *))
{
	struct conn **conns = NULL;
	size_t nconn = 0, i, k;
	struct pollfd *pfd = NULL;

	if (evloop_signals() < 0)
		return -1;
	while (!evloop_got_term) {
		int64_t now = timeout_now_ms(), next = now + 60000;
		size_t np = 0;
		int again = 0, r;
		void *p = realloc(pfd, (1 + evloop_nls + nconn) * sizeof(*pfd));

		if (p == NULL)
			abort();
		pfd = p;
		pfd[np++] = (struct pollfd){evloop_sigpipe[0], POLLIN, 0};
		for (i = 0; i < evloop_nls; i++)
			pfd[np++] = (struct pollfd){
			    evloop_ls[i].fd,
			    srv->nsessions < srv->conf->max_sessions + 1 ? POLLIN : 0, 0};
		for (i = 0; i < nconn; i++) {
			struct conn *c = conns[i];
			short ev = POLLIN;
			if (c->want_write || smtp_server_output(session_smtp(c->sess))->len > 0)
				ev |= POLLOUT;
			pfd[np++] = (struct pollfd){c->fd, ev, 0};
			if (c->tls != NULL && c->phase == CONN_OPEN &&
			    tls_server_pending(c->tls) > 0)
				again = 1;
			if (c->idle_deadline < next)
				next = c->idle_deadline;
			if (c->session_deadline < next)
				next = c->session_deadline;
			if (c->close_deadline && c->close_deadline < next)
				next = c->close_deadline;
			if (c->greet_at && c->greet_at < next)
				next = c->greet_at;
		}
		r = poll(pfd, np, again ? 0 : (int)(next > now ? next - now : 0));
		if (r < 0 && errno != EINTR)
			break;
		now = timeout_now_ms();
		if (pfd[0].revents & POLLIN) {
			char drain[64];
			while (read(evloop_sigpipe[0], drain, sizeof(drain)) > 0) {
			}
		}
		if (evloop_got_hup) {
			evloop_got_hup = 0;
			on_hup(srv);
		}
		if (evloop_got_chld) {
			evloop_got_chld = 0;
			on_chld(srv);
		}
		/* Connections first (pfd indexes follow conns), then accepts. */
		for (i = 0, k = 0; i < nconn; i++) {
			struct conn *c = conns[i];
			struct pollfd *pp = &pfd[1 + evloop_nls + i];
			int drop = 0;
			if (pp->revents || (c->tls && tls_server_pending(c->tls) > 0))
				drop = evloop_step(srv, c, now) < 0;
			if (!drop && c->greet_at && now >= c->greet_at) {
				c->greet_at = 0;
				evloop_act(c, smtp_server_greet(session_smtp(c->sess)));
				drop = evloop_step(srv, c, now) < 0;
			}
			if (!drop && !c->closing &&
			    (now >= c->idle_deadline || now >= c->session_deadline)) {
				log_msg(LOG_NOTICE, "timeout after %s from [%s]",
				        smtp_server_state_name(
				            smtp_server_state(session_smtp(c->sess))),
				        session_peer(c->sess));
				evloop_act(c, smtp_server_timeout(session_smtp(c->sess)));
				drop = evloop_step(srv, c, now) < 0;
			}
			if (!drop && c->closing) {
				if (c->close_deadline == 0)
					c->close_deadline = now + EVLOOP_LINGER_MS;
				else if (now >= c->close_deadline)
					drop = 1;
			}
			if (drop) {
				log_msg(LOG_INFO, "disconnect from [%s]", session_peer(c->sess));
				evloop_conn_free(srv, c);
			} else {
				conns[k++] = c;
			}
		}
		nconn = k;
		for (i = 0; i < evloop_nls; i++)
			if (pfd[1 + i].revents & POLLIN)
				evloop_accept(srv, &evloop_ls[i], &conns, &nconn, now);
	}
	for (i = 0; i < nconn; i++) {
		smtp_server_refuse(session_smtp(conns[i]->sess),
		                   "421 4.3.2 Service shutting down, closing transmission channel");
		evloop_flush(conns[i]);
		evloop_conn_free(srv, conns[i]);
	}
	for (i = 0; i < evloop_nls; i++)
		close(evloop_ls[i].fd);
	free(conns);
	free(pfd);
	return 0;
}
