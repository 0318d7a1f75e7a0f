/*
 * peer.c - the hooks of one SMTP session (peer.h): relay policy and
 * sender binding (policy.c), AUTH through sasl_server.c, the envelope and
 * the spool writer with our Received: header, and a log line per event.
 */
#include "peer.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "defence_srv.h"
#include "commit.h"
#include "log.h"
#include "metrics.h"
#include "policy.h"
#include "base/timeout.h"

struct peer {
	struct srv *srv;
	const struct conf_listener *l;
	struct smtp_server *smtp;
	char peer[INET6_ADDRSTRLEN + 2];
	int trusted, tls;
	struct buf tlsdesc, cb, authuser, mechs;
	struct sasl_server_exch *ex;
	struct spool_envelope env;
	int have_env;
	struct smtp_mail_params mp;
	struct spool_writer *w;
	struct commit_job *job; /* the message's group commit under way */
	long long size;         /* of the message being committed */
	/* The defence (defence_srv.h): who the client is, what this feed
	 * earned it (a reply delay, a ban), the account AUTH looked up. */
	struct net_prefix host;
	int exempt, banned, throttled;
	int unusable; /* the mechanism cannot check this account's password */
	char mech[32];
	long delay_ms;
	unsigned errors;
	char tried_user[USERS_NAME_MAX + 1];
};

/* The session whose SASL step is running (steps are synchronous), for the
 * lookup wrapper. */
static struct peer *peer_current;

static void peer_addr_text(const struct sockaddr *sa, char *out, size_t max)
{
	const void *a =
	    sa->sa_family == AF_INET6
	        ? (const void *)&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr
	        : (const void *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr;

	if (inet_ntop(sa->sa_family, a, out, (socklen_t)max) == NULL)
		memcpy(out, "unknown", sizeof("unknown"));
}

static void peer_mechs(struct peer *s)
{
	struct srv *srv = s->srv;

	buf_reset(&s->mechs);
	if (!s->l->auth || srv->users.n == 0)
		return;
	/* No AUTH before TLS (RFC 8314 3, Postfix's smtpd_tls_auth_only): even
	 * CRAM-MD5 and SCRAM in clear show the user name and give an
	 * eavesdropper what an offline dictionary attack needs. */
	if (!s->tls && !srv->conf->auth_before_tls)
		return;
	sasl_server_mechs(srv->sasl, s->tls, s->cb.len > 0, srv->conf->auth_mechs, &s->mechs);
}

static void peer_clear_env(struct peer *s)
{
	if (s->w != NULL) {
		spool_writer_abort(s->w);
		s->w = NULL;
	}
	if (s->have_env)
		spool_env_free(&s->env);
	s->have_env = 0;
}

/* Tell the defence; it answers with a delay for our next reply or a ban. */
static void peer_offence(struct peer *s, enum defence_kind k)
{
	struct defence *d = defence_srv();
	long delay;

	if (d == NULL || s->exempt)
		return;
	delay = defence_event(d, &s->host, k, timeout_now_ms());
	if (delay < 0)
		s->banned = 1;
	else if (delay > s->delay_ms)
		s->delay_ms = delay;
}

static struct policy_client peer_client(const struct peer *s)
{
	struct policy_client c;

	c.authuser = s->authuser.len ? buf_cstr(&s->authuser) : NULL;
	c.trusted = s->trusted;
	return c;
}

/* 1 if name (an EHLO argument) is this server's own host name or one of
 * its domains, whatever the case and a trailing dot. */
static int peer_helo_is_ours(const struct conf *c, const char *name)
{
	size_t n = strlen(name), i;

	if (n > 0 && name[n - 1] == '.')
		n--;
	if (strlen(c->hostname) == n && strncasecmp(name, c->hostname, n) == 0)
		return 1;
	for (i = 0; i < c->ndomain; i++)
		if (strlen(c->domain[i]) == n && strncasecmp(name, c->domain[i], n) == 0)
			return 1;
	return 0;
}

/* A stranger that greets us with our own name is forging it: bots take
 * the name from our banner or the recipient's domain (Postfix sites do
 * this with check_helo_access). Trusted networks may say what they like. */
static int peer_helo(void *arg, const char *name, int ehlo, struct buf *reply)
{
	struct peer *s = arg;

	(void)ehlo;
	if (s->trusted || !peer_helo_is_ours(s->srv->conf, name))
		return 0;
	log_msg(LOG_NOTICE, "[%s]: refused: HELO/EHLO %s is our own name", s->peer, name);
	buf_set(reply, "550 5.7.1 Error: you are not me (that HELO name is this server's own)");
	return -1;
}

static int peer_mail(void *arg, const char *from, const struct smtp_mail_params *mp,
                        struct buf *reply)
{
	struct peer *s = arg;
	struct policy_client c = peer_client(s);
	struct buf f = BUF_INIT(512);
	struct buf params = BUF_INIT(512);

	if (policy_mail(s->srv->conf, &c, from, &f, reply) < 0) {
		log_msg(LOG_NOTICE, "reject: MAIL from [%s]: <%s>: %s", s->peer, from,
		        buf_cstr(reply));
		metrics_refused(METRICS_REFUSED_SENDER);
		buf_free(&f);
		buf_free(&params);
		return -1;
	}
	peer_clear_env(s);
	spool_env_init(&s->env);
	s->have_env = 1;
	s->mp = *mp;
	if (mp->body_8bit)
		buf_adds(&params, " BODY=8BITMIME");
	if (mp->smtputf8)
		buf_adds(&params, " SMTPUTF8");
	if (mp->ret[0])
		buf_printf(&params, " RET=%s", mp->ret);
	if (mp->envid[0])
		buf_printf(&params, " ENVID=%s", mp->envid);
	s->env.from = strdup(buf_cstr(&f));
	s->env.from_params = strdup(params.len ? params.data + 1 : "-");
	s->env.client = strdup(s->peer);
	s->env.helo = strdup(smtp_server_helo(s->smtp));
	s->env.auth = strdup(s->authuser.len ? buf_cstr(&s->authuser) : "-");
	buf_free(&f);
	buf_free(&params);
	if (!s->env.from || !s->env.from_params || !s->env.client || !s->env.helo || !s->env.auth) {
		buf_set(reply, "451 4.3.0 Error: out of memory");
		return -1;
	}
	return 0;
}

static int peer_rcpt(void *arg, const char *to, const struct smtp_rcpt_params *rp,
                        struct buf *reply)
{
	struct peer *s = arg;
	struct policy_client c = peer_client(s);
	struct buf target = BUF_INIT(4096);
	enum spool_class cls;
	int r = -1;

	if (policy_rcpt(s->srv->conf, &c, to, &cls, &target, reply) < 0) {
		log_msg(LOG_NOTICE, "reject: RCPT from [%s]: <%s>: %s; from=<%s>", s->peer, to,
		        buf_cstr(reply), s->env.from ? s->env.from : "");
		if (strncmp(buf_cstr(reply), "554", 3) == 0)
			peer_offence(s, DEFENCE_RELAY);
		metrics_refused(strncmp(buf_cstr(reply), "554", 3) == 0 ? METRICS_REFUSED_RELAY
		                                                        : METRICS_REFUSED_RECIPIENT);
		goto out;
	}
	if (spool_env_add_rcpt(&s->env, to, cls, buf_cstr(&target), rp->notify, rp->orcpt) < 0) {
		buf_set(reply, "452 4.3.0 Error: out of memory");
		goto out;
	}
	r = 0;
out:
	buf_free(&target);
	return r;
}

/* RFC 3848 "with" keywords. */
static const char *peer_with(const struct peer *s)
{
	static const char *const names[2][2][2] = {
	    {{"ESMTP", "ESMTPA"}, {"ESMTPS", "ESMTPSA"}},
	    {{"UTF8SMTP", "UTF8SMTPA"}, {"UTF8SMTPS", "UTF8SMTPSA"}},
	};
	return names[s->mp.smtputf8 != 0][s->tls != 0][s->authuser.len > 0];
}

static int peer_data_begin(void *arg, struct buf *reply)
{
	struct peer *s = arg;
	struct cl_err err;
	struct buf h = BUF_INIT(4096);
	char date[64];
	time_t now = time(NULL);
	struct tm tm;
	int r;

	err_clear(&err);
	s->env.arrival = now;
	if (spool_writer_begin(s->srv->spool, &s->env, &s->w, &err) < 0) {
		log_msg(LOG_ERR, "spool: %s", err.msg);
		metrics_refused(METRICS_REFUSED_QUEUE);
		buf_set(reply, "451 4.3.0 Error: queue file write error");
		buf_free(&h);
		return -1;
	}
	localtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z", &tm);
	buf_printf(&h, "Received: from %s ([%s])\r\n\tby %s (clsmtpd) with %s id %s", s->env.helo,
	           s->peer, s->srv->conf->hostname, peer_with(s), s->env.qid);
	if (s->tls)
		buf_printf(&h, "\r\n\t(using %s)", buf_cstr(&s->tlsdesc));
	if (s->env.nrcpt == 1)
		buf_printf(&h, "\r\n\tfor <%s>", s->env.rcpt[0].addr);
	buf_printf(&h, "; %s\r\n", date);
	r = spool_writer_write(s->w, h.data, h.len, &err);
	buf_free(&h);
	if (r < 0) {
		log_msg(LOG_ERR, "spool: %s", err.msg);
		spool_writer_abort(s->w);
		s->w = NULL;
		metrics_refused(METRICS_REFUSED_QUEUE);
		buf_set(reply, "451 4.3.0 Error: queue file write error");
		return -1;
	}
	log_msg(LOG_INFO, "%s: client=[%s], helo=%s%s%s", s->env.qid, s->peer, s->env.helo,
	        s->authuser.len ? ", sasl_username=" : "", buf_cstr(&s->authuser));
	return 0;
}

static int peer_data_write(void *arg, const char *p, size_t n)
{
	struct peer *s = arg;
	struct cl_err err;

	if (s->w == NULL)
		return -1;
	if (spool_writer_write(s->w, p, n, &err) < 0) {
		log_msg(LOG_ERR, "spool: %s", err.msg);
		return -1;
	}
	return 0;
}

/* The commit's outcome: log it and say what to answer. */
static int peer_committed(struct peer *s, int r, const struct cl_err *err, struct buf *reply)
{
	size_t i;

	if (r < 0) {
		log_msg(LOG_ERR, "%s: %s", s->env.qid, err->msg);
		metrics_refused(METRICS_REFUSED_QUEUE);
		buf_set(reply, "451 4.3.0 Error: queue file write error");
		return -1;
	}
	metrics_accepted((uint64_t)s->size);
	log_msg(LOG_INFO, "%s: from=<%s>, size=%lld, nrcpt=%zu (queue active)", s->env.qid,
	        s->env.from, s->size, s->env.nrcpt);
	for (i = 0; i < s->env.nrcpt; i++)
		log_msg(LOG_INFO, "%s: to=<%s>, class=%s", s->env.qid, s->env.rcpt[i].addr,
		        s->env.rcpt[i].cls == SPOOL_LOCAL ? "local" : "relay");
	buf_printf(reply, "250 2.0.0 Ok: queued as %s", s->env.qid);
	srv_wake_agent(s->srv);
	return 0;
}

static int peer_data_end(void *arg, enum smtp_data_end how, struct buf *reply)
{
	struct peer *s = arg;
	struct cl_err err;
	int r;

	if (s->w == NULL)
		return -1;
	if (how != SMTP_DATA_OK) {
		log_msg(LOG_NOTICE, "%s: message %s, removed", s->env.qid,
		        how == SMTP_DATA_REFUSED ? "refused" : "aborted");
		if (how == SMTP_DATA_REFUSED)
			metrics_refused(METRICS_REFUSED_CONTENT);
		spool_writer_abort(s->w);
		s->w = NULL;
		return 0;
	}
	s->size = (long long)spool_writer_size(s->w);
	if (s->srv->committer != NULL) {
		s->job = committer_submit(s->srv->committer, s->w);
		if (s->job != NULL) {
			s->w = NULL;
			return SMTP_HOOK_LATER; /* peer_commit_finish answers */
		}
	}
	err_clear(&err);
	r = spool_writer_commit(s->w, &err);
	s->w = NULL;
	return peer_committed(s, r, &err, reply);
}

int peer_commit_ready(struct peer *s)
{
	return s->job != NULL && commit_job_done(s->job);
}

unsigned peer_commit_finish(struct peer *s)
{
	struct buf reply = BUF_INIT(256);
	struct cl_err err;
	unsigned act;
	int r;

	err_clear(&err);
	r = commit_job_finish(s->job, &err);
	s->job = NULL;
	r = peer_committed(s, r, &err, &reply);
	act = smtp_server_commit_done(s->smtp, r, buf_cstr(&reply));
	buf_free(&reply);
	return act;
}

void peer_orphan_committed(void *arg, const char *qid, int ok)
{
	struct srv *srv = arg;

	if (!ok) {
		log_msg(LOG_ERR, "%s: commit failed after the client left", qid);
		return;
	}
	/* Durable, so it is delivered; the client did not see our 250 and
	 * may send it again (at least once, never lost). */
	log_msg(LOG_NOTICE, "%s: committed after the client left (queue active)", qid);
	metrics_accepted(0);
	srv_wake_agent(srv);
}

static void peer_reset(void *arg)
{
	peer_clear_env(arg);
}

static enum smtp_auth_result peer_auth(void *arg, const char *mech, const char *in,
                                          struct buf *out)
{
	struct peer *s = arg;
	struct buf id = BUF_INIT(512);
	enum smtp_auth_result r;
	struct defence *d = defence_srv();

	if (mech != NULL) {
		s->tried_user[0] = '\0';
		s->throttled = 0;
		s->unusable = 0;
		s->mech[0] = '\0';
		if (strlen(mech) < sizeof(s->mech))
			memcpy(s->mech, mech, strlen(mech) + 1);
	}
	/* One checked attempt per delay: AUTHs pipelined behind a failure
	 * (or after a ban) are refused without looking at the password, so a
	 * burst costs us no key derivation. */
	if (d != NULL && !s->exempt && (s->banned || s->delay_ms > 0)) {
		sasl_server_exch_free(s->ex);
		s->ex = NULL;
		return SMTP_AUTH_TEMPFAIL;
	}
	peer_current = s;
	r = sasl_server_step(s->srv->sasl, &s->ex, mech, in, s->cb.len ? buf_cstr(&s->cb) : NULL,
	                     out, &id);
	peer_current = NULL;
	if (s->throttled && r != SMTP_AUTH_OK) {
		/* The account is under attack: not checked, try again later. */
		sasl_server_exch_free(s->ex);
		s->ex = NULL;
		log_msg(LOG_WARNING,
		        "[%s]: SASL authentication refused for now: account under attack", s->peer);
		peer_offence(s, DEFENCE_AUTH);
		r = SMTP_AUTH_TEMPFAIL;
	} else if (r == SMTP_AUTH_OK) {
		buf_set(&s->authuser, buf_cstr(&id));
		sasl_server_exch_free(s->ex);
		s->ex = NULL;
		log_msg(LOG_INFO, "[%s]: sasl_username=%s authenticated", s->peer,
		        buf_cstr(&s->authuser));
		if (d != NULL && !s->exempt)
			defence_user_result(d, buf_cstr(&s->authuser), &s->host, 1,
			                    timeout_now_ms());
	} else if (r == SMTP_AUTH_FAIL && s->unusable) {
		/* Clients that try CRAM-MD5 first (Python's smtplib) on an
		 * account kept as SCRAM keys only: no password was guessed. */
		s->ex = NULL;
		log_msg(LOG_NOTICE, "[%s]: SASL %s cannot check this account (no plaintext kept)",
		        s->peer, s->mech);
	} else if (r == SMTP_AUTH_FAIL) {
		s->ex = NULL;
		log_msg(LOG_WARNING, "[%s]: SASL authentication failed", s->peer);
		if (d != NULL && !s->exempt && s->tried_user[0] != '\0')
			defence_user_result(d, s->tried_user, &s->host, 0, timeout_now_ms());
		peer_offence(s, DEFENCE_AUTH);
	}
	buf_free(&id);
	return r;
}

int peer_sasl_lookup(void *arg, const char *user, struct sasl_server_cred *cred)
{
	struct srv *srv = arg;
	struct peer *s = peer_current;
	struct defence *d = defence_srv();
	int r = users_lookup(&srv->users, user, cred);

	if (s != NULL && r == 0 && cred->plain == NULL &&
	    (strcasecmp(s->mech, "CRAM-MD5") == 0 || strcasecmp(s->mech, "DIGEST-MD5") == 0))
		s->unusable = 1;
	if (s == NULL || r < 0 || d == NULL || s->exempt)
		return r;
	/* Only existing accounts are protected (and tracked). */
	if (strlen(user) < sizeof(s->tried_user))
		memcpy(s->tried_user, user, strlen(user) + 1);
	if (defence_user_check(d, user, &s->host, timeout_now_ms()) == DEFENCE_USER_THROTTLE) {
		sasl_server_cred_wipe(cred);
		s->throttled = 1;
		return -1;
	}
	return r;
}

/* 5xx replies: syntax and sequence errors (500-504) count against the
 * client; from the 11th error of a session each error reply waits 1 s
 * (Postfix smtpd_soft_error_limit, smtpd_error_sleep_time). AUTH failures
 * (535) and relay refusals (554) are counted where they happen. */
static void peer_error(void *arg, const char *reply)
{
	struct peer *s = arg;
	int code = (reply[0] - '0') * 100 + (reply[1] - '0') * 10 + (reply[2] - '0');

	s->errors++;
	if (s->exempt || defence_srv() == NULL)
		return;
	if (code >= 500 && code <= 504)
		peer_offence(s, DEFENCE_ERROR);
	if (s->errors > DEFENCE_SOFT_ERRORS && s->delay_ms < DEFENCE_ERROR_DELAY_MS)
		s->delay_ms = DEFENCE_ERROR_DELAY_MS;
}

static void peer_auth_abort(void *arg)
{
	struct peer *s = arg;

	sasl_server_exch_free(s->ex);
	s->ex = NULL;
}

struct peer *peer_new(struct srv *srv, const struct conf_listener *l,
                            const struct sockaddr *peer, int tls_now)
{
	struct peer *s = calloc(1, sizeof(*s));
	struct smtp_server_cfg cfg;
	struct smtp_server_hooks h;

	if (s == NULL)
		return NULL;
	s->srv = srv;
	s->l = l;
	peer_addr_text(peer, s->peer, sizeof(s->peer));
	s->trusted = conf_trusted(srv->conf, peer);
	if (net_prefix_from_sa(peer, &s->host) < 0)
		memset(&s->host, 0, sizeof(s->host));
	s->exempt = defence_srv_exempt(peer);
	s->tls = tls_now;
	buf_init(&s->tlsdesc, 256);
	buf_init(&s->cb, 128);
	buf_init(&s->authuser, 512);
	buf_init(&s->mechs, 512);
	memset(&cfg, 0, sizeof(cfg));
	memset(&h, 0, sizeof(h));
	cfg.hostname = srv->conf->hostname;
	cfg.lim = srv->conf->lim;
	/* A plain listener (port 25) offers STARTTLS too when a certificate
	 * is configured: opportunistic TLS for the mail of the internet
	 * (Postfix's smtpd_tls_security_level = may). */
	cfg.starttls = l->mode != CONF_TLS && srv->tls != NULL;
	cfg.tls_active = tls_now;
	/* Implicit TLS: mechanisms are set again once the handshake is done. */
	peer_mechs(s);
	cfg.auth_mechs = buf_cstr(&s->mechs);
	h.arg = s;
	h.helo = peer_helo;
	h.mail = peer_mail;
	h.rcpt = peer_rcpt;
	h.data_begin = peer_data_begin;
	h.data_write = peer_data_write;
	h.data_end = peer_data_end;
	h.reset = peer_reset;
	h.auth = peer_auth;
	h.auth_abort = peer_auth_abort;
	h.error = peer_error;
	s->smtp = smtp_server_new(&cfg, &h);
	if (s->smtp == NULL) {
		peer_free(s);
		return NULL;
	}
	return s;
}

void peer_tls_up(struct peer *s, struct tls_server_conn *tc, int after_starttls)
{
	s->tls = 1;
	buf_reset(&s->tlsdesc);
	tls_server_describe(tc, &s->tlsdesc);
	buf_reset(&s->cb);
	if (tls_server_exporter_b64(tc, &s->cb) < 0)
		buf_reset(&s->cb);
	peer_mechs(s);
	if (after_starttls)
		smtp_server_tls_started(s->smtp, buf_cstr(&s->mechs));
	else
		smtp_server_set_mechs(s->smtp, buf_cstr(&s->mechs));
	log_msg(LOG_INFO, "[%s]: TLS established: %s", s->peer, buf_cstr(&s->tlsdesc));
}

void peer_free(struct peer *s)
{
	if (s == NULL)
		return;
	/* A commit under way completes without us (committer_collect). */
	if (s->job != NULL)
		commit_job_forget(s->job);
	/* Frees (and aborts) the transaction through the hooks first. */
	smtp_server_free(s->smtp);
	peer_clear_env(s);
	sasl_server_exch_free(s->ex);
	buf_free(&s->tlsdesc);
	buf_free(&s->cb);
	buf_free(&s->authuser);
	buf_free(&s->mechs);
	free(s);
}

struct smtp_server *peer_smtp(struct peer *s)
{
	return s->smtp;
}

const char *peer_addr(const struct peer *s)
{
	return s->peer;
}

long peer_take_delay(struct peer *s)
{
	long d = s->delay_ms;

	s->delay_ms = 0;
	return d;
}

int peer_banned(const struct peer *s)
{
	return s->banned;
}

int peer_exempt(const struct peer *s)
{
	return s->exempt;
}

const struct net_prefix *peer_host(const struct peer *s)
{
	return &s->host;
}
