/*
 * evloop.c - listeners and the poll() loop (evloop.h): write what the session
 * queued, then read and feed it; TLS handshakes without blocking; signals
 * through a self-pipe. The defence's timers live here: a held reply (tarpit)
 * and a request's deadline (slowloris) are deadlines, never sleeps.
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

#include "base/xalloc.h"
#include "ctl.h"
#include "defence_srv.h"
#include "log.h"
#include "peer.h"
#include "base/timeout.h"

/* Connections taken from one listener per wake-up (a flood of refused
 * clients must not starve the sessions already open). */
#define EVLOOP_ACCEPT_BATCH 64

struct lsock {
	int fd;
	const struct conf_listener *l;
};

enum conn_phase { CONN_HANDSHAKE, CONN_OPEN };

struct evconn {
	int fd;
	const struct conf_listener *l;
	struct peer *sess;
	struct tls_server_conn *tls;
	enum conn_phase phase;
	int starttls;   /* handshake after the output is written */
	int implicit;   /* the handshake is the implicit-TLS one */
	int closing;    /* close once the output is written */
	int want_write; /* TLS or the socket wants POLLOUT */
	int counted;    /* defence_connect counted it */
	int exempt;     /* trusted or ban_exempt (peer_exempt) */
	int64_t session_deadline, close_deadline;
	int64_t greet_at;     /* greeting still to be sent at this time, or 0 */
	int64_t last_read;    /* idle time counts from here */
	int64_t hold_until;   /* tarpit: output and input wait until then, or 0 */
	int64_t req_deadline; /* the request under way must be done by then, or 0 */
	int64_t born, last_reply;
	struct net_prefix host;
};

static struct lsock *evloop_ls;
static size_t evloop_nls;
static int evloop_sigpipe[2] = {-1, -1};
static volatile sig_atomic_t evloop_got_term, evloop_got_hup, evloop_got_chld, evloop_got_usr1;

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
		evloop_ls = xreallocarray(evloop_ls, evloop_nls + 1, sizeof(*evloop_ls));
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
	ctl_close(0);
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
	else if (sig == SIGUSR1)
		evloop_got_usr1 = 1;
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
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

static void evloop_conn_free(struct srv *srv, struct evconn *c)
{
	if (c->counted && defence_srv() != NULL)
		defence_disconnect(defence_srv(), &c->host);
	peer_free(c->sess);
	tls_server_conn_free(c->tls);
	close(c->fd);
	srv->nsessions--;
	free(c);
}

static void evloop_act(struct evconn *c, unsigned act)
{
	if (act & SMTP_SRV_ACT_CLOSE)
		c->closing = 1;
	if (act & SMTP_SRV_ACT_STARTTLS)
		c->starttls = 1;
}

/* Write queued replies. 0 ok (maybe partial), -1 connection lost. */
static int evloop_flush(struct evconn *c)
{
	struct buf *out = smtp_server_output(peer_smtp(c->sess));
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

/* secs, or Postfix's stress value for a stranger while the server is
 * nearly full (DEFENCE_OVERLOAD_PERCENT of max_sessions). */
static int64_t evloop_timeout_ms(const struct srv *srv, struct evconn *c, int secs)
{
	if (!c->exempt && secs > DEFENCE_OVERLOAD_TIMEOUT &&
	    (uint64_t)srv->nsessions * 100 >=
	        (uint64_t)srv->conf->max_sessions * DEFENCE_OVERLOAD_PERCENT &&
	    !smtp_server_authenticated(peer_smtp(c->sess)))
		secs = DEFENCE_OVERLOAD_TIMEOUT;
	return (int64_t)secs * 1000;
}

/* Banned while connected: drop whatever is queued and close with 421.
 * Returns 1 when the connection must simply be closed (its TLS handshake
 * is not done, so nothing can be said on it). */
static int evloop_kick(struct evconn *c)
{
	struct smtp_server *sm = peer_smtp(c->sess);

	log_msg(LOG_NOTICE, "defence: action=drop client=%s reason=banned", peer_addr(c->sess));
	buf_reset(smtp_server_output(sm));
	c->hold_until = 0;
	if (c->phase == CONN_HANDSHAKE || c->starttls)
		return 1;
	evloop_act(c, smtp_server_refuse(sm, "421 4.7.0 Blocked for repeated abuse, try again "
	                                     "later"));
	return 0;
}

static int evloop_handshake(struct srv *srv, struct evconn *c, int64_t now)
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
		log_msg(LOG_NOTICE, "[%s]: %s", peer_addr(c->sess), err.msg);
		return -1;
	}
	c->phase = CONN_OPEN;
	c->want_write = 0;
	c->last_read = now;
	peer_tls_up(c->sess, c->tls, !c->implicit);
	if (c->implicit)
		evloop_act(c, smtp_server_greet(peer_smtp(c->sess)));
	return 1;
}

static void evloop_pregreet(struct srv *srv, struct evconn *c, const char *in, size_t n);
static void evloop_data_rate(struct srv *srv, struct evconn *c, size_t n, int64_t now);

/* The session waits for its group commit (commit.h). */
static int evloop_committing(struct evconn *c)
{
	return smtp_server_state(peer_smtp(c->sess)) == SMTP_SRV_COMMIT;
}

/* Do what can be done for c now. -1: drop the connection. */
static int evloop_step(struct srv *srv, struct evconn *c, int64_t now)
{
	char in[EVLOOP_READ_CHUNK];
	struct smtp_server *sm = peer_smtp(c->sess);
	struct cl_err err;
	int rounds;

	if (c->hold_until > now)
		return 0;
	if (c->hold_until != 0) {
		/* The tarpit is over: our delay was not the client's idleness. */
		c->hold_until = 0;
		c->last_read = now;
	}
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
		if (smtp_server_state(sm) == SMTP_SRV_COMMIT)
			return 0; /* nothing is read until the 250 (commit.h) */
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
		c->last_read = now;
		if (c->greet_at != 0) {
			evloop_pregreet(srv, c, in, (size_t)n);
			continue;
		}
		{
			enum smtp_srv_state st = smtp_server_state(sm);
			size_t before = smtp_server_output(sm)->len;
			long delay;
			evloop_act(c, smtp_server_feed(sm, in, (size_t)n));
			if (st == SMTP_SRV_DATA || st == SMTP_SRV_BDAT)
				evloop_data_rate(srv, c, (size_t)n, now);
			if (smtp_server_output(sm)->len != before)
				c->last_reply = now;
			if (peer_banned(c->sess) && !c->closing) {
				if (evloop_kick(c))
					return -1;
				continue;
			}
			delay = peer_take_delay(c->sess);
			if (delay > 0 && !c->closing) {
				c->hold_until = now + delay;
				if (c->req_deadline != 0)
					c->req_deadline += delay;
				return 0;
			}
		}
	}
	return 0;
}

/* Bytes before our greeting: a client that does not wait for its turn is
 * a bot (RFC 5321 4.3.1; postscreen's pregreet test). Drop it at once. */
static void evloop_pregreet(struct srv *srv, struct evconn *c, const char *in, size_t n)
{
	struct smtp_server *sm = peer_smtp(c->sess);
	struct defence *d = defence_srv();

	(void)srv;
	smtp_server_feed(sm, in, n); /* only marks it */
	c->greet_at = 0;
	evloop_act(c, smtp_server_greet(sm));
	log_msg(LOG_NOTICE, "defence: action=drop client=%s reason=pregreet",
	        peer_addr(c->sess));
	if (d != NULL) {
		defence_stats(d)->pregreet++;
		if (!c->exempt)
			defence_event(d, &c->host, DEFENCE_ERROR, timeout_now_ms());
	}
}

/* Message data keeps its request alive at min_data_rate (Postfix
 * smtpd_min_data_rate): each read buys n/rate seconds, never more than
 * idle_timeout from now. */
static void evloop_data_rate(struct srv *srv, struct evconn *c, size_t n, int64_t now)
{
	unsigned rate = srv->conf->defence.min_data_rate;
	int64_t cap = now + evloop_timeout_ms(srv, c, srv->conf->idle_timeout), t;

	if (c->req_deadline == 0)
		return;
	t = rate == 0 ? cap : c->req_deadline + (int64_t)n * 1000 / rate;
	if (t > cap)
		t = c->req_deadline > cap ? c->req_deadline : cap;
	c->req_deadline = t;
}

/* After each step: a request under way (a line begun, message data, a
 * handshake, a reply not yet taken) must finish by request_timeout. */
static void evloop_track(struct srv *srv, struct evconn *c, int64_t now)
{
	struct smtp_server *sm = peer_smtp(c->sess);
	int pending = c->phase == CONN_HANDSHAKE || c->want_write ||
	              smtp_server_output(sm)->len > 0 || smtp_server_input_pending(sm);

	if (c->closing || c->greet_at != 0 || c->hold_until > now || !pending) {
		if (!pending)
			c->req_deadline = 0;
		return;
	}
	if (c->req_deadline == 0)
		c->req_deadline =
		    now + evloop_timeout_ms(srv, c, srv->conf->defence.request_timeout);
}

/* The first moment something is due for c. */
static int64_t evloop_due(const struct srv *srv, struct evconn *c)
{
	int64_t t = c->session_deadline;

	if (evloop_committing(c))
		return INT64_MAX; /* the committer's pipe wakes us */

	if (c->hold_until != 0)
		return c->hold_until < t ? c->hold_until : t;
	if (c->last_read + evloop_timeout_ms(srv, c, srv->conf->idle_timeout) < t)
		t = c->last_read + evloop_timeout_ms(srv, c, srv->conf->idle_timeout);
	if (c->req_deadline != 0 && c->req_deadline < t)
		t = c->req_deadline;
	if (c->close_deadline != 0 && c->close_deadline < t)
		t = c->close_deadline;
	if (c->greet_at != 0 && c->greet_at < t)
		t = c->greet_at;
	return t;
}

/* Refuse a connection we will not serve. One write into the empty socket
 * buffer cannot block; an implicit-TLS client would not understand it and
 * only sees the close. */
static void evloop_refuse_fd(int fd, const struct conf_listener *l, const char *reply)
{
	if (l->mode != CONF_TLS && write(fd, reply, strlen(reply)) < 0) {
		/* closing anyway */
	}
	close(fd);
}

/* The server is full. A newcomer whose client holds less than its fair
 * share (max_sessions / clients connected) takes the place of the idlest
 * session of the heaviest client, if that one holds more than the newcomer
 * will; authenticated, exempt and in-DATA sessions are never taken. So a
 * slowloris spread over many addresses cannot keep out a client that comes
 * with one connection, and a heavy client is refused at O(1) cost. mine:
 * the newcomer's client's connections, itself not included. 1 if a
 * session was dropped to make room. */
static int evloop_evict(struct srv *srv, struct evconn **conns, size_t *nconn, unsigned mine,
                        int64_t now)
{
	struct defence *d = defence_srv();
	size_t i, best = (size_t)-1;
	unsigned best_n = 0, active = d != NULL ? defence_active_clients(d) : 1;
	int64_t best_t = 0;
	struct evconn *c;

	if (active == 0)
		active = 1;
	if (mine >= srv->conf->max_sessions / active)
		return 0;
	for (i = 0; i < *nconn; i++) {
		struct smtp_server *sm;
		enum smtp_srv_state st;
		unsigned n;
		int64_t t;
		c = conns[i];
		if (c->exempt || c->closing)
			continue;
		sm = peer_smtp(c->sess);
		st = smtp_server_state(sm);
		if (smtp_server_authenticated(sm) || st == SMTP_SRV_DATA || st == SMTP_SRV_BDAT)
			continue;
		n = d != NULL ? defence_client_conns(d, &c->host) : 1;
		t = c->last_reply > c->born ? c->last_reply : c->born;
		if (n <= mine + 1)
			continue;
		if (best == (size_t)-1 || n > best_n || (n == best_n && t < best_t)) {
			best = i;
			best_n = n;
			best_t = t;
		}
	}
	if (best == (size_t)-1)
		return 0;
	c = conns[best];
	log_msg(LOG_NOTICE,
	        "defence: action=evict client=%s reason=server-full conns=%u idle_ms=%lld",
	        peer_addr(c->sess), best_n, (long long)(now - best_t));
	if (d != NULL)
		defence_stats(d)->evicted++;
	buf_reset(smtp_server_output(peer_smtp(c->sess)));
	if (c->phase == CONN_OPEN && !c->starttls) {
		smtp_server_refuse(peer_smtp(c->sess),
		                   "421 4.7.0 Server busy, closing idle session");
		evloop_flush(c);
	}
	evloop_conn_free(srv, c);
	conns[best] = conns[--*nconn];
	return 1;
}

/* The greeting delay of the pregreet test: greeting_delay if set, else 1 s
 * on listeners without AUTH (port 25, plain or STARTTLS: where bots talk
 * first) and none on the submission ones (their clients wait and
 * authenticate, and every second would cost each submission). Trusted networks and clients that passed
 * within a day are greeted at once. */
static int evloop_greet_delay(struct srv *srv, const struct conf_listener *l,
                              const struct sockaddr *sa, const struct net_prefix *host,
                              int64_t now)
{
	int delay = srv->conf->greeting_delay;

	if (delay < 0)
		delay = !l->auth ? DEFENCE_DEFAULT_GREET_PLAIN : 0;
	if (delay == 0 || conf_trusted(srv->conf, sa))
		return 0;
	if (defence_srv() != NULL && !defence_greet_wanted(defence_srv(), host, now))
		return 0;
	return delay;
}

static void evloop_admit(struct srv *srv, struct lsock *ls, int fd,
                         const struct sockaddr_storage *ss, struct evconn ***conns, size_t *nconn,
                         int64_t now)
{
	const struct sockaddr *sa = (const struct sockaddr *)ss;
	struct defence *d = defence_srv();
	struct net_prefix host;
	int one = 1, counted = 0, exempt = defence_srv_exempt(sa), delay;
	struct evconn *c;
	void *p;

	if (net_prefix_from_sa(sa, &host) < 0)
		memset(&host, 0, sizeof(host));
	if (d != NULL && !exempt) {
		switch (defence_connect(d, &host, now)) {
		case DEFENCE_BANNED:
			/* Closed before the greeting: a third cheaper than
			 * writing a 421 first (docs/defence.md, measured). */
			close(fd);
			return;
		case DEFENCE_CLIENT_LIMIT:
			evloop_refuse_fd(fd, ls->l,
			                 "421 4.7.0 Too many connections from your address\r\n");
			return;
		case DEFENCE_OK:
			counted = 1;
			break;
		}
	} else if (d != NULL) {
		defence_stats(d)->accepted++;
	}
	if (srv->nsessions >= srv->conf->max_sessions &&
	    !evloop_evict(srv, *conns, nconn, counted ? defence_client_conns(d, &host) - 1 : 0,
	                  now)) {
		static int64_t logged;
		evloop_refuse_fd(fd, ls->l, "421 4.7.0 Too many connections, try again later\r\n");
		if (counted)
			defence_disconnect(d, &host);
		if (d != NULL)
			defence_stats(d)->refused_full++;
		if (now - logged >= 1000) {
			logged = now;
			log_msg(LOG_WARNING, "too many connections (%u): refused one",
			        srv->nsessions);
		}
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c = calloc(1, sizeof(*c));
	/* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers, as meant */
	p = realloc(*conns, (*nconn + 1) * sizeof(**conns));
	if (p != NULL)
		*conns = p; /* grown (and maybe moved) even if c is not there */
	if (c == NULL || p == NULL) {
		free(c);
		close(fd);
		if (counted)
			defence_disconnect(d, &host);
		return;
	}
	c->fd = fd;
	c->l = ls->l;
	c->counted = counted;
	c->exempt = exempt;
	c->host = host;
	c->implicit = ls->l->mode == CONF_TLS;
	c->phase = c->implicit ? CONN_HANDSHAKE : CONN_OPEN;
	c->sess = peer_new(srv, ls->l, sa, 0);
	if (c->sess == NULL) {
		close(fd);
		free(c);
		if (counted)
			defence_disconnect(d, &host);
		return;
	}
	srv->nsessions++;
	defence_srv_note_sessions(srv->nsessions);
	c->born = c->last_read = now;
	c->session_deadline = now + (int64_t)srv->conf->session_timeout * 1000;
	log_msg(LOG_INFO, "connect from [%s] on %s:%s", peer_addr(c->sess), ls->l->host,
	        ls->l->port);
	delay = c->implicit ? 0 : evloop_greet_delay(srv, ls->l, sa, &host, now);
	if (delay > 0)
		c->greet_at = now + (int64_t)delay * 1000;
	else if (!c->implicit)
		evloop_act(c, smtp_server_greet(peer_smtp(c->sess)));
	(*conns)[(*nconn)++] = c;
	if (evloop_step(srv, c, now) < 0) {
		(*nconn)--;
		log_msg(LOG_INFO, "disconnect from [%s]", peer_addr(c->sess));
		evloop_conn_free(srv, c);
		return;
	}
	evloop_track(srv, c, now);
}

static void evloop_accept(struct srv *srv, struct lsock *ls, struct evconn ***conns, size_t *nconn,
                          int64_t now)
{
	int k;

	for (k = 0; k < EVLOOP_ACCEPT_BATCH; k++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		int fd = accept4(ls->fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		evloop_admit(srv, ls, fd, &ss, conns, nconn, now);
	}
}

/* Timers of one connection: greeting, timeouts, the request deadline,
 * the lingering close. Returns 1 to drop it. */
static int evloop_timers(struct srv *srv, struct evconn *c, int64_t now)
{
	struct smtp_server *sm = peer_smtp(c->sess);
	struct defence *d = defence_srv();

	if (c->greet_at && now >= c->greet_at) {
		c->greet_at = 0;
		if (d != NULL)
			defence_greet_passed(d, &c->host, now);
		evloop_act(c, smtp_server_greet(sm));
		if (evloop_step(srv, c, now) < 0)
			return 1;
	}
	if (c->hold_until > now || evloop_committing(c))
		return 0; /* our turn, not the client's */
	if (!c->closing && c->req_deadline != 0 && now >= c->req_deadline) {
		log_msg(LOG_NOTICE, "defence: action=drop client=%s reason=slow-request state=%s",
		        peer_addr(c->sess), smtp_server_state_name(smtp_server_state(sm)));
		if (d != NULL)
			defence_stats(d)->slow++;
		c->req_deadline = 0;
		buf_reset(smtp_server_output(sm));
		evloop_act(c, smtp_server_timeout(sm));
		if (evloop_step(srv, c, now) < 0)
			return 1;
	}
	if (!c->closing &&
	    (now >= c->last_read + evloop_timeout_ms(srv, c, srv->conf->idle_timeout) ||
	     now >= c->session_deadline)) {
		log_msg(LOG_NOTICE, "timeout after %s from [%s]",
		        smtp_server_state_name(smtp_server_state(sm)), peer_addr(c->sess));
		if (d != NULL)
			defence_stats(d)->timeouts++;
		evloop_act(c, smtp_server_timeout(sm));
		if (evloop_step(srv, c, now) < 0)
			return 1;
	}
	if (c->closing) {
		if (c->close_deadline == 0)
			c->close_deadline = now + EVLOOP_LINGER_MS;
		else if (now >= c->close_deadline)
			return 1;
	}
	return 0;
}

/* What lives across the turns of the loop. */
struct evloop_state {
	struct evconn **conns;
	size_t nconn;
	struct pollfd *pfd;  /* [0] the signal pipe, then listeners, connections, control */
	size_t np, npconn, nctl;
	unsigned seen_gen;   /* the defence's ban generation last acted on */
	int committed;       /* the last turn committed: do not wait in poll */
};

/* The poll set of this turn; returns poll's timeout (ms). */
static int evloop_poll_set(struct srv *srv, struct evloop_state *st, int64_t now)
{
	int64_t next = now + 60000, t;
	int again = st->committed;
	struct defence *d = defence_srv();
	size_t i;

	st->committed = 0;
	st->np = 0;
	st->pfd = xreallocarray(st->pfd, 1 + evloop_nls + st->nconn + CTL_POLLFDS, sizeof(*st->pfd));
	st->pfd[st->np++] = (struct pollfd){evloop_sigpipe[0], POLLIN, 0};
	for (i = 0; i < evloop_nls; i++)
		st->pfd[st->np++] = (struct pollfd){evloop_ls[i].fd, POLLIN, 0};
	for (i = 0; i < st->nconn; i++) {
		struct evconn *c = st->conns[i];
		short ev = POLLIN;
		if (c->want_write || smtp_server_output(peer_smtp(c->sess))->len > 0)
			ev |= POLLOUT;
		/* Held (tarpit): nothing in or out until the timer. */
		if (c->hold_until > now)
			ev = 0;
		/* Committing: no input until the 250 is queued. */
		else if (evloop_committing(c))
			ev &= (short)~POLLIN;
		st->pfd[st->np++] = (struct pollfd){c->fd, ev, 0};
		if (c->tls != NULL && c->phase == CONN_OPEN && ev != 0 && !evloop_committing(c) &&
		    tls_server_pending(c->tls) > 0)
			again = 1;
		t = evloop_due(srv, c);
		if (t < next)
			next = t;
	}
	st->npconn = st->nconn;
	st->nctl = ctl_pollfds(&st->pfd[st->np]);
	st->np += st->nctl;
	t = defence_srv_tick(now);
	if (t != 0 && t < next)
		next = t;
	if (d != NULL && defence_generation(d) != st->seen_gen)
		next = now; /* a new ban: drop its sessions at once */
	return again ? 0 : (int)(next > now ? next - now : 0);
}

/* Signals noted by the handlers (through the self-pipe). */
static void evloop_take_signals(struct srv *srv, short revents, void (*on_hup)(struct srv *),
                                void (*on_chld)(struct srv *), int64_t now)
{
	if (revents & POLLIN) {
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
	if (evloop_got_usr1) {
		evloop_got_usr1 = 0;
		defence_srv_log_stats(srv->nsessions, now);
	}
}

/* One connection's turn; 1 if it is to be dropped. */
static int evloop_serve_one(struct srv *srv, struct evconn *c, const struct pollfd *pp, int kick,
                            int64_t now)
{
	int drop = 0;

	if (kick && !c->exempt && !c->closing && !smtp_server_authenticated(peer_smtp(c->sess)) &&
	    defence_banned(defence_srv(), &c->host, now))
		drop = evloop_kick(c);
	if (drop) {
		/* closed by the caller */
	} else if (peer_commit_ready(c->sess)) {
		/* Its batch is durable: the 250, then what was pipelined
		 * behind the data. */
		evloop_act(c, peer_commit_finish(c->sess));
		c->last_reply = c->last_read = now;
		drop = evloop_step(srv, c, now) < 0;
	} else if (c->hold_until > now) {
		/* Held: only a hang-up matters. */
		drop = (pp->revents & (POLLERR | POLLHUP | POLLNVAL)) != 0;
	} else if (pp->revents || c->hold_until != 0 || (c->tls && tls_server_pending(c->tls) > 0)) {
		drop = evloop_step(srv, c, now) < 0;
	} else if (c->closing && smtp_server_output(peer_smtp(c->sess))->len > 0) {
		drop = evloop_step(srv, c, now) < 0;
	}
	if (!drop)
		drop = evloop_timers(srv, c, now);
	if (!drop)
		evloop_track(srv, c, now);
	return drop;
}

/* Every connection of the poll set (pfd indexes follow conns). */
static void evloop_serve_conns(struct srv *srv, struct evloop_state *st, int kick, int64_t now)
{
	size_t i, k;

	for (i = 0, k = 0; i < st->nconn; i++) {
		struct evconn *c = st->conns[i];
		if (evloop_serve_one(srv, c, &st->pfd[1 + evloop_nls + i], kick, now)) {
			log_msg(LOG_INFO, "disconnect from [%s]", peer_addr(c->sess));
			evloop_conn_free(srv, c);
		} else {
			st->conns[k++] = c;
		}
	}
	st->nconn = k;
}

static void evloop_shutdown(struct srv *srv, struct evloop_state *st)
{
	size_t i;

	for (i = 0; i < st->nconn; i++) {
		smtp_server_refuse(peer_smtp(st->conns[i]->sess),
		                   "421 4.3.2 Service shutting down, closing transmission channel");
		evloop_flush(st->conns[i]);
		evloop_conn_free(srv, st->conns[i]);
	}
	/* Messages handed over are committed (and delivered) all the same. */
	committer_free(srv->committer);
	srv->committer = NULL;
	for (i = 0; i < evloop_nls; i++)
		close(evloop_ls[i].fd);
	ctl_close(1);
	free(st->conns);
	free(st->pfd);
}

/* One turn: poll; signals; connections first, then control clients and
 * accepts; the group commit last (a session stepped at its accept may
 * have ended its data too): every message whose data ended in this turn
 * is made durable together, and the 250s go out at the next turn, which
 * does not wait in poll. */
int evloop_run(struct srv *srv, void (*on_hup)(struct srv *), void (*on_chld)(struct srv *))
{
	struct evloop_state st;
	struct cl_err cerr;
	size_t i;

	memset(&st, 0, sizeof(st));
	st.seen_gen = defence_srv() ? defence_generation(defence_srv()) : 0;
	if (evloop_signals() < 0)
		return -1;
	if (srv->committer == NULL &&
	    committer_new(&srv->committer, peer_orphan_committed, srv, &cerr) < 0)
		log_msg(LOG_WARNING, "%s; committing each message alone", cerr.msg);
	while (!evloop_got_term) {
		struct defence *d = defence_srv();
		int64_t now = timeout_now_ms();
		int kick = 0, r;

		r = evloop_poll_set(srv, &st, now);
		r = poll(st.pfd, st.np, r);
		if (r < 0 && errno != EINTR)
			break;
		now = timeout_now_ms();
		evloop_take_signals(srv, st.pfd[0].revents, on_hup, on_chld, now);
		if (d != NULL && defence_generation(d) != st.seen_gen) {
			st.seen_gen = defence_generation(d);
			kick = 1;
		}
		evloop_serve_conns(srv, &st, kick, now);
		ctl_serve(&st.pfd[1 + evloop_nls + st.npconn], st.nctl, srv->nsessions, now);
		for (i = 0; i < evloop_nls; i++)
			if (st.pfd[1 + i].revents & POLLIN)
				evloop_accept(srv, &evloop_ls[i], &st.conns, &st.nconn, now);
		if (srv->committer != NULL && committer_pending(srv->committer)) {
			committer_run(srv->committer);
			st.committed = 1;
		}
	}
	evloop_shutdown(srv, &st);
	return 0;
}
