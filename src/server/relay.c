/*
 * relay.c - the relay agent (relay.h). Each pass scans the spool, expires
 * and bounces what is too old, lists the due "relay" recipients by
 * destination (the smarthost, or a domain in mx mode and for routes), and
 * sends each destination's messages back to back over one session of the
 * client engine. An outcome is journalled per recipient only after the
 * server's reply, so a crash at any point repeats a delivery, never loses one.
 * The envelope's DSN parameters go along (the engine drops them for a server
 * without DSN, RFC 3461 4.1); a server without DSN cannot report success,
 * so we send the "relayed" notice NOTIFY=SUCCESS asked for (6.2.2).
 */
#include "relay.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/xalloc.h"
#include "dkim_relay.h"
#include "dsn.h"
#include "log.h"
#include "metrics.h"
#include "queuectl.h"
#include "relay_mx.h"
#include "relay_rewrite.h"
#include "engine/smtp_client.h"

/* A due time that never comes (nothing left for this agent). */
#define RELAY_NEVER ((time_t)1 << 60)
/* relay_examine: the message is finished and removed. */
#define RELAY_GONE ((time_t)-1)

struct relay_item {
	char qid[SPOOL_QID_LEN + 1];
	char *dest; /* "" for the smarthost, else a domain (lower case) */
};

/* What the last pass learnt about a message: when it next has a relay
 * recipient due. Spares reloading every envelope on every wake-up. */
struct relay_cached {
	char qid[SPOOL_QID_LEN + 1];
	time_t due;
};

struct relay_agent {
	const struct conf *c;
	const struct relay_conf *rc;
	struct spool *sp;
	time_t now;
	int flush;       /* every deferred recipient is due (clsmtpd -flush) */
	int again;       /* a notice for us was queued: pass again at once */
	time_t next_due; /* the earliest deferred recipient */
	struct relay_item *item;
	size_t nitem, capitem;
	struct relay_cached *cache, *building;
	size_t ncache, capcache, nbuilding, capbuilding;
	/* The open session and where it goes. */
	struct smtp_client *sess;
	struct smtp_client_params p;
	/* The default smarthost seen as an account (relay_open), and the
	 * account of the open session (NULL: an MX or a route). */
	struct relay_account smarthost;
	const struct relay_account *acct;
	char host[256], port[16], desc[300];
};

int relay_backoff(const struct relay_conf *rc, int n)
{
	long long s = rc->retry_min;

	while (--n > 0 && s < rc->retry_max)
		s *= 2;
	return (int)(s < rc->retry_max ? s : rc->retry_max);
}

static const char *relay_domain(const char *addr)
{
	const char *at = strrchr(addr, '@');

	return at ? at + 1 : "";
}

/* Where a recipient goes: its domain (a route, or MX mode), "=N" for the
 * N-th sender_relay account of the envelope sender, or "" for the
 * smarthost. Lower case, allocated. */
static char *relay_dest_of(const struct relay_agent *a, const char *from, const char *addr)
{
	const char *d = relay_domain(addr);
	const struct relay_account *ac;
	char *r, *p;

	if (relay_conf_route(a->rc, d) == NULL && (ac = relay_sender_route(a->rc, from)) != NULL) {
		char n[32];
		snprintf(n, sizeof(n), "=%zu", (size_t)(ac - a->rc->acct));
		return xstrdup(n);
	}
	if (a->rc->mode != RELAY_MODE_MX && relay_conf_route(a->rc, d) == NULL)
		d = "";
	r = xstrdup(d);
	for (p = r; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return r;
}

static int relay_dest_is(const struct relay_agent *a, const char *from, const char *addr,
                         const char *dest)
{
	char *d = relay_dest_of(a, from, addr);
	int same = strcmp(d, dest) == 0;

	free(d);
	return same;
}

static int relay_is_due(const struct relay_agent *a, const struct spool_rcpt *r)
{
	if (r->cls != SPOOL_RELAY)
		return 0;
	return r->state == SPOOL_PENDING ||
	       (r->state == SPOOL_DEFERRED && (a->flush || r->next_try <= a->now));
}

/* out = last, expired after the queue lifetime and n attempts (last may
 * be out, or NULL when there was no attempt). */
static void relay_expired(const struct relay_agent *a, int n, const struct outcome *last,
                          struct outcome *out)
{
	struct buf lead = BUF_INIT(256);
	char life[32];

	relay_conf_duration_str(a->rc->lifetime, life, sizeof(life));
	buf_printf(&lead, "delivery time expired after %s (%d attempts)", life, n);
	if (outcome_expired(out, buf_cstr(&lead), last) < 0)
		abort();
	buf_free(&lead);
}

/* Journal an outcome and log it. A temporary failure past the queue
 * lifetime becomes the final one. */
static void relay_note(struct relay_agent *a, struct spool_envelope *env, size_t i, char kind,
                       const struct outcome *o)
{
	struct spool_rcpt *r = &env->rcpt[i];
	struct buf t = BUF_INIT(SPOOL_LINE_MAX * 2);
	struct outcome x;
	struct cl_err err;
	time_t now = time(NULL), next = 0;

	outcome_init(&x);
	if (outcome_copy(&x, o) < 0)
		abort();
	if (kind == 'T' && now - env->arrival >= a->rc->lifetime) {
		relay_expired(a, r->attempts + 1, &x, &x);
		kind = 'F';
	}
	if (kind == 'T') {
		next = now + relay_backoff(a->rc, r->attempts + 1);
		if (next < a->next_due)
			a->next_due = next;
	}
	outcome_text(&x, &t);
	err_clear(&err);
	/* The last open recipient delivered: removing the message records it. */
	if (kind == 'D' && dsn_last_open(env, i))
		r->state = SPOOL_DELIVERED;
	else if (spool_record(a->sp, env, i, kind, next, &x, &err) < 0)
		log_msg(LOG_ERR, "%s: %s", env->qid, err.msg);
	log_msg(kind == 'D' ? LOG_INFO : LOG_WARNING, "%s: to=<%s>, relay=%s, status=%s (%s)",
	        env->qid, r->addr, a->desc[0] ? a->desc : "none",
	        kind == 'D'   ? "sent"
	        : kind == 'T' ? "deferred"
	                      : "bounced",
	        buf_cstr(&t));
	metrics_outcome(METRICS_RELAY, kind == 'D'   ? METRICS_SENT
	                               : kind == 'T' ? METRICS_DEFERRED
	                                             : METRICS_BOUNCED);
	if (kind == 'D')
		metrics_relay_delay((long long)(now - env->arrival));
	outcome_free(&x);
	buf_free(&t);
}

/* Failure notices for this message's failed relay recipients, and its
 * removal once every recipient is final. */
static int relay_after(struct relay_agent *a, struct spool_envelope *env)
{
	enum spool_class ncls = SPOOL_LOCAL;
	struct cl_err err;
	size_t i;
	int r;

	err_clear(&err);
	for (i = 0; i < env->nrcpt; i++)
		if (env->rcpt[i].cls == SPOOL_RELAY && env->rcpt[i].state == SPOOL_FAILED)
			break;
	if (i < env->nrcpt) {
		r = dsn_bounce(a->c, a->sp, env, SPOOL_RELAY, &ncls, &err);
		if (r < 0)
			log_msg(LOG_ERR, "%s: failure notice: %s", env->qid, err.msg);
		else if (r == 1 && ncls == SPOOL_LOCAL)
			queue_cli_poke(spool_dir(a->sp), QUEUE_CLI_AGENT_LOCAL, QUEUE_CLI_WAKE);
		else if (r == 1)
			a->again = 1;
	}
	if (!dsn_settled(env))
		return 0;
	if (spool_finish(a->sp, env, &err) < 0) {
		log_msg(LOG_ERR, "%s: %s", env->qid, err.msg);
		return 0;
	}
	log_msg(LOG_INFO, "%s: removed", env->qid);
	return 1;
}

static void relay_add_item(struct relay_agent *a, const char *qid, char *dest)
{
	if (a->nitem == a->capitem) {
		size_t cap = a->capitem ? a->capitem * 2 : 64;
		a->item = xreallocarray(a->item, cap, sizeof(*a->item));
		a->capitem = cap;
	}
	memcpy(a->item[a->nitem].qid, qid, SPOOL_QID_LEN + 1);
	a->item[a->nitem].dest = dest;
	a->nitem++;
}

/* Expire, bounce and finish what needs it; list the due recipients'
 * destinations. Returns when a relay recipient is next due (0: now, it is
 * listed; RELAY_NEVER: none left; RELAY_GONE: message removed). */
static time_t relay_examine(struct relay_agent *a, struct spool_envelope *env)
{
	size_t i, first = a->nitem, k;
	time_t due = RELAY_NEVER;

	for (i = 0; i < env->nrcpt; i++) {
		struct spool_rcpt *r = &env->rcpt[i];
		struct outcome o;
		if (r->cls != SPOOL_RELAY ||
		    (r->state != SPOOL_PENDING && r->state != SPOOL_DEFERRED) ||
		    a->now - env->arrival < a->rc->lifetime)
			continue;
		outcome_init(&o);
		relay_expired(a, r->attempts, r->last_text ? &r->last : NULL, &o);
		relay_note(a, env, i, 'F', &o);
		outcome_free(&o);
	}
	if (relay_after(a, env))
		return RELAY_GONE;
	for (i = 0; i < env->nrcpt; i++) {
		struct spool_rcpt *r = &env->rcpt[i];
		char *dest;
		if (r->cls != SPOOL_RELAY)
			continue;
		if (!relay_is_due(a, r)) {
			if (r->state == SPOOL_DEFERRED && r->next_try < due)
				due = r->next_try;
			continue;
		}
		dest = relay_dest_of(a, env->from, r->addr);
		for (k = first; k < a->nitem; k++)
			if (strcmp(a->item[k].dest, dest) == 0)
				break;
		if (k < a->nitem)
			free(dest);
		else
			relay_add_item(a, env->qid, dest);
	}
	return a->nitem > first ? 0 : due;
}

static int relay_cached_cmp(const void *x, const void *y)
{
	const struct relay_cached *b = y;

	return strcmp((const char *)x, b->qid);
}

static int relay_cached_sort(const void *x, const void *y)
{
	return strcmp(((const struct relay_cached *)x)->qid, ((const struct relay_cached *)y)->qid);
}

static int relay_scan_one(void *arg, const char *qid)
{
	struct relay_agent *a = arg;
	const struct relay_cached *hit = NULL;
	struct spool_envelope env;
	struct cl_err err;
	time_t due;

	if (!a->flush && a->ncache > 0)
		hit = bsearch(qid, a->cache, a->ncache, sizeof(*a->cache), relay_cached_cmp);
	if (hit != NULL && hit->due > a->now) {
		due = hit->due;
	} else {
		err_clear(&err);
		if (spool_load(a->sp, qid, &env, &err) < 0) {
			if (err.cls != CL_EIO) /* EIO: removed since the scan */
				log_msg(LOG_ERR, "%s: %s", qid, err.msg);
			return 0;
		}
		due = relay_examine(a, &env);
		spool_env_free(&env);
		if (due == RELAY_GONE)
			return 0;
	}
	if (due > a->now && due < a->next_due)
		a->next_due = due;
	if (a->nbuilding == a->capbuilding) {
		size_t cap = a->capbuilding ? a->capbuilding * 2 : 64;
		a->building = xreallocarray(a->building, cap, sizeof(*a->building));
		a->capbuilding = cap;
	}
	memcpy(a->building[a->nbuilding].qid, qid, SPOOL_QID_LEN + 1);
	a->building[a->nbuilding++].due = due;
	return 0;
}

static void relay_close(struct relay_agent *a)
{
	if (a->sess == NULL)
		return;
	smtp_client_quit(a->sess);
	smtp_client_free(a->sess);
	a->sess = NULL;
}

/* Open a session to host:port; ac: a smarthost account with its TLS,
 * AUTH and verification settings, NULL: as for an MX (mx_tls, no AUTH). */
static int relay_open(struct relay_agent *a, const char *host, const char *port,
                      const struct relay_account *ac, struct cl_err *err)
{
	const struct relay_conf *rc = a->rc;
	struct smtp_client_params *p = &a->p;

	snprintf(a->host, sizeof(a->host), "%s", host);
	snprintf(a->port, sizeof(a->port), "%s", port);
	snprintf(a->desc, sizeof(a->desc), "%s%s%s:%s", strchr(host, ':') ? "[" : "", host,
	         strchr(host, ':') ? "]" : "", port);
	memset(p, 0, sizeof(*p));
	p->host = a->host;
	p->port = a->port;
	p->family = AF_UNSPEC;
	p->ehlo_domain = a->c->hostname;
	p->allow_partial = 1; /* each recipient has its own outcome */
	smtp_timeouts_default(&p->timeouts);
	if (rc->timeout > 0)
		smtp_timeouts_all(&p->timeouts, rc->timeout * 1000);
	a->acct = ac;
	if (ac != NULL) {
		p->tls_mode = ac->tls == RELAY_TLS_SMTPS      ? SMTP_TLS_SMTPS
		              : ac->tls == RELAY_TLS_STARTTLS ? SMTP_TLS_STARTTLS
		              : ac->tls == RELAY_TLS_NONE     ? SMTP_TLS_NONE
		              : strcmp(port, "465") == 0      ? SMTP_TLS_SMTPS
		                                              : SMTP_TLS_STARTTLS;
		p->tls.trust_file = ac->ca_file;
		/* The pinned fingerprint and certcheck off are the default
		 * smarthost's settings only. */
		p->tls.fingerprint = ac == &a->smarthost ? rc->fingerprint : NULL;
		p->tls.certcheck = ac == &a->smarthost ? rc->certcheck : 1;
		if (ac->user != NULL) {
			p->auth = ac->auth ? ac->auth : "auto";
			p->creds.user = ac->user;
			p->creds.password = buf_cstr(&ac->password);
		}
	} else {
		/* RFC 7435: STARTTLS when offered, without insisting on a
		 * certificate most MX hosts cannot match (Postfix "may"). */
		p->tls_mode = rc->mx_tls == RELAY_MX_TLS_VERIFY ? SMTP_TLS_STARTTLS
		              : rc->mx_tls == RELAY_MX_TLS_NONE ? SMTP_TLS_NONE
		                                                : SMTP_TLS_AUTO;
		p->tls.certcheck = rc->mx_tls == RELAY_MX_TLS_VERIFY;
	}
	if (smtp_client_open(&a->sess, p, err) < 0) {
		smtp_client_free(a->sess);
		a->sess = NULL;
		return -1;
	}
	return 0;
}

/* Connect to dest. *permanent: the destination can never take mail (no
 * such domain, neither MX nor address, null MX, no MX host with an
 * address, a loop back to us): its recipients fail rather than wait. */
static int relay_connect(struct relay_agent *a, const char *dest, int *permanent,
                         struct cl_err *err)
{
	struct relay_mx mx[RELAY_MX_MAX];
	struct relay_mx_self self;
	const struct relay_route *rt;
	const char **listen;
	size_t n = 0, i;
	int r;

	*permanent = 0;
	a->desc[0] = '\0';
	if (*dest == '\0') {
		if (a->rc->host == NULL)
			return err_set(
			    err, CL_ETEMP,
			    "no smarthost configured (clsmtpd.conf: smarthost HOST[:PORT])");
		return relay_open(a, a->rc->host, a->rc->port, &a->smarthost, err);
	}
	if (*dest == '=') {
		const struct relay_account *ac = &a->rc->acct[strtoul(dest + 1, NULL, 10)];
		return relay_open(a, ac->host, ac->port, ac, err);
	}
	if ((rt = relay_conf_route(a->rc, dest)) != NULL)
		return relay_open(a, rt->host, rt->port, NULL, err);
	/* The local host, for the loop check (RFC 5321 5.1). */
	listen = xcalloc(a->c->nlisten ? a->c->nlisten : 1, sizeof(*listen));
	for (i = 0; i < a->c->nlisten; i++)
		listen[i] = a->c->listen[i].host;
	self.hostname = a->c->hostname;
	self.listen = listen;
	self.nlisten = a->c->nlisten;
	r = relay_mx_lookup(dest, &self, mx, RELAY_MX_MAX, &n, err);
	free(listen);
	if (r < 0) {
		*permanent = err->cls == CL_ENOHOST;
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (relay_open(a, mx[i].host, RELAY_DEFAULT_MX_PORT, NULL, err) == 0)
			return 0;
		log_msg(LOG_INFO, "relay: MX %s of %s: %s", mx[i].host, dest, err->msg);
	}
	return -1;
}

/* What the connection's failure says: its message as our own words, the
 * sentence journalled since release 1 (a reply it quotes is part of it;
 * the status only when our own, e.g. relay_mx's 5.1.2). */
static void relay_conn_outcome(struct outcome *o, const struct cl_err *err)
{
	if (outcome_note(o, err->code ? NULL : err->enh, err->msg) < 0)
		abort();
}

/* The MAIL FROM parameters the spool kept ("BODY=8BITMIME SMTPUTF8
 * RET=HDRS ENVID=x", or "-"), read a word at a time: a keyword inside an
 * ENVID value is not the parameter. */
struct relay_mail_params {
	int body_8bit, smtputf8;
	const char *ret; /* "FULL", "HDRS" or NULL */
	char *envid;     /* malloc'd, or NULL */
};

static void relay_mail_params(const char *params, struct relay_mail_params *mp)
{
	const char *p = params ? params : "";

	memset(mp, 0, sizeof(*mp));
	while (*p) {
		size_t w = strcspn(p, " ");
		if (w == 13 && strncasecmp(p, "BODY=8BITMIME", w) == 0)
			mp->body_8bit = 1;
		else if (w == 8 && strncasecmp(p, "SMTPUTF8", w) == 0)
			mp->smtputf8 = 1;
		else if (w == 8 && strncasecmp(p, "RET=HDRS", w) == 0)
			mp->ret = "HDRS";
		else if (w == 8 && strncasecmp(p, "RET=FULL", w) == 0)
			mp->ret = "FULL";
		else if (w > 6 && strncasecmp(p, "ENVID=", 6) == 0 && mp->envid == NULL)
			mp->envid = xstrndup(p + 6, w - 6);
		p += w;
		while (*p == ' ')
			p++;
	}
}

/* A per-recipient DSN parameter of the spool: "-" is none. */
static const char *relay_dsn_value(const char *v)
{
	return v == NULL || *v == '\0' || strcmp(v, "-") == 0 ? NULL : v;
}

/* "Relayed" notices (RFC 3461 6.2.2): the server took recipients
 * ok[0..n) (indexes in env) with its reply text but does not offer DSN, so
 * it will not report their delivery. Queued before their D lines: a crash
 * in between relays them again, notice included (docs/spool.md). */
static void relay_success(struct relay_agent *a, const struct spool_envelope *env, const size_t *ok,
                          size_t n, const struct outcome *o)
{
	enum spool_class ncls = SPOOL_LOCAL;
	struct cl_err err;
	int r;

	err_clear(&err);
	r = dsn_success(a->c, a->sp, env, ok, n, DSN_RELAYED, o, &ncls, &err);
	if (r < 0)
		log_msg(LOG_ERR, "%s: success notice: %s", env->qid, err.msg);
	else if (r == 1 && ncls == SPOOL_LOCAL)
		queue_cli_poke(spool_dir(a->sp), QUEUE_CLI_AGENT_LOCAL, QUEUE_CLI_WAKE);
	else if (r == 1)
		a->again = 1;
}

/* Send env's recipients idx[0..n) over the open session and journal each
 * one's outcome. */
static void relay_send(struct relay_agent *a, struct spool_envelope *env, const size_t *idx,
                       size_t n, int last)
{
	struct smtp_message m;
	struct smtp_result res;
	struct smtp_fd_source body;
	struct smtp_body_source spooled;
	struct smtp_prefix_source prefixed;
	struct buf sigs = BUF_INIT(64 * 1024 + RELAY_REWRITE_HEAD_MAX), why = BUF_INIT(1024);
	struct buf head = BUF_INIT(RELAY_REWRITE_HEAD_MAX);
	int fd = -1;
	struct cl_err err;
	struct stat st;
	struct outcome o, done;
	const char **rcpts, **notify, **orcpt;
	struct relay_mail_params mp;
	size_t k, nok = 0, *ok;
	int r, early, next_dsn;

	err_clear(&err);
	outcome_init(&o);
	outcome_init(&done);
	rcpts = xcalloc(n, sizeof(*rcpts));
	notify = xcalloc(n, sizeof(*notify));
	orcpt = xcalloc(n, sizeof(*orcpt));
	ok = xcalloc(n, sizeof(*ok));
	for (k = 0; k < n; k++) {
		rcpts[k] = env->rcpt[idx[k]].addr;
		notify[k] = relay_dsn_value(env->rcpt[idx[k]].notify);
		orcpt[k] = relay_dsn_value(env->rcpt[idx[k]].orcpt);
	}
	relay_mail_params(env->from_params, &mp);
	smtp_result_init(&res);
	fd = spool_data_fd(a->sp, env, &err);
	if (fd < 0 || fstat(fd, &st) < 0) {
		relay_conn_outcome(&o, &err);
		for (k = 0; k < n; k++)
			relay_note(a, env, idx[k], 'T', &o);
		goto out;
	}
	memset(&m, 0, sizeof(m));
	/* the message, from where spool_data_fd left fd */
	smtp_body_from_fd(&spooled, &body, fd, (long long)st.st_size - (long long)env->data_offset,
	                  "spool");
	m.body = spooled;
	/* The account's From rewrite (relay_rewrite.h): a new header section
	 * in front, the spool read from the body on. */
	if (a->acct && a->acct->rewrite_from && env->from[0]) {
		long long used = 0;
		if (relay_rewrite_from(fd, spooled.size, a->acct->rewrite, &head, &used, &err) < 0 ||
		    lseek(fd, (off_t)used, SEEK_CUR) < 0) {
			if (err.msg[0] == '\0')
				err_set(&err, CL_EIO, "spool: %s", strerror(errno));
			relay_conn_outcome(&o, &err);
			for (k = 0; k < n; k++)
				relay_note(a, env, idx[k], 'T', &o);
			goto out;
		}
		smtp_body_from_fd(&spooled, &body, fd, spooled.size - used, "spool");
	}
	/* DKIM: the signatures go in front of the bytes sent (dkim_relay.h),
	 * made over the message as it leaves (after any rewrite). */
	switch (dkim_relay_sign(a->c, env, &head, fd, spooled.size, (long long)time(NULL), &sigs,
	                        &why, &err)) {
	case DKIM_SIGNED:
		log_msg(LOG_INFO, "%s: dkim=signed", env->qid);
		break;
	case DKIM_NOT_OURS:
		if (a->c->dkim.n > 0)
			log_msg(LOG_INFO, "%s: dkim=unsigned (%s)", env->qid, buf_cstr(&why));
		break;
	case DKIM_READ_ERROR:
		relay_conn_outcome(&o, &err);
		for (k = 0; k < n; k++)
			relay_note(a, env, idx[k], 'T', &o);
		goto out;
	}
	err_clear(&err);
	/* What goes in front of the spooled bytes: signatures, then the
	 * rewritten header section. */
	buf_add(&sigs, head.data ? head.data : "", head.len);
	if (sigs.len > 0)
		smtp_body_prefixed(&m.body, &prefixed, sigs.data, sigs.len, &spooled);
	else
		m.body = spooled;
	/* The account's address as the envelope sender (not for <>); the
	 * spool keeps the original, to which notices go. */
	m.from = a->acct && a->acct->rewrite && env->from[0] ? a->acct->rewrite : env->from;
	m.rcpts = rcpts;
	m.nrcpt = n;
	m.body_8bit = mp.body_8bit;
	m.smtputf8 = mp.smtputf8;
	m.ret = mp.ret;
	m.envid = mp.envid;
	m.notify = notify;
	m.orcpt = orcpt;
	/* What the server offers (after TLS, as the engine uses it): with DSN
	 * it takes over the success notices (RFC 3461 4.1). */
	next_dsn = (smtp_client_caps(a->sess)->flags & CAP_DSN) != 0;
	r = smtp_client_send(a->sess, &m, last, &res, &err);
	/* Refused before any recipient was judged (AUTH or MAIL FROM): the
	 * recipients' 503/530 are not about them. */
	early = r < 0 && (err.stage == CL_STAGE_MAIL || err.stage == CL_STAGE_AUTH);
	for (k = 0; k < n && !early && r == 0 && !next_dsn; k++) {
		int code = k < res.nrcpt && res.rcpt ? res.rcpt[k].code : 0;
		if (code == 250 || code == 251)
			ok[nok++] = idx[k];
	}
	/* The server's reply to the message (end of DATA or BDAT LAST). */
	if (outcome_reply(&done, a->host, CL_STAGE_DATA_END, res.reply[0] ? res.code : 250,
	                  res.enh, res.reply[0] ? res.reply : "250 Ok") < 0)
		abort();
	if (nok > 0)
		relay_success(a, env, ok, nok, &done);
	for (k = 0; k < n; k++) {
		int code = k < res.nrcpt && res.rcpt ? res.rcpt[k].code : 0;
		char kind;
		if (code == 503 || code == 530)
			code = 0;
		if (!early && (code == 250 || code == 251) && r == 0) {
			relay_note(a, env, idx[k], 'D', &done);
			continue;
		}
		if (!early && (code / 100 == 5 || code / 100 == 4)) {
			if (outcome_reply(&o, a->host, CL_STAGE_RCPT, code, res.rcpt[k].enh,
			                  res.rcpt[k].reply) < 0)
				abort();
			kind = code / 100 == 5 ? 'F' : 'T';
		} else if (!early && (res.code / 100 == 5 || res.code / 100 == 4)) {
			if (outcome_reply(&o, a->host, CL_STAGE_DATA_END, res.code, res.enh,
			                  res.reply) < 0)
				abort();
			kind = res.code / 100 == 5 ? 'F' : 'T';
		} else {
			struct cl_err e = err;
			if (e.msg[0] == '\0')
				snprintf(e.msg, sizeof(e.msg), "the transaction failed");
			if (outcome_from_err(&o, a->host, &e) < 0)
				abort();
			/* A refusal of the message itself (5xx to MAIL, too
			 * big, 8-bit to a 7-bit server) fails it; our own
			 * credentials refused, a broken link and the rest wait. */
			kind = r < 0 && (err.cls == CL_EUNAVAIL || err.cls == CL_EDATA) ? 'F' : 'T';
		}
		relay_note(a, env, idx[k], kind, &o);
	}
	if (r < 0 && err.cls == CL_EAUTH)
		log_msg(LOG_ERR,
		        "relay: %s refused our credentials: %s (check smarthost_user and "
		        "the password)",
		        a->desc, err.msg);
	if (r < 0 || last)
		relay_close(a);
out:
	if (fd >= 0)
		close(fd);
	buf_free(&sigs);
	buf_free(&why);
	buf_free(&head);
	smtp_result_free(&res);
	free(rcpts);
	free(notify);
	free(orcpt);
	free(ok);
	free(mp.envid);
	outcome_free(&o);
	outcome_free(&done);
}

/* Send the messages of one destination over one session. */
static void relay_group(struct relay_agent *a, const struct relay_item *it, size_t n)
{
	const char *dest = it[0].dest;
	struct cl_err derr;
	int dead = 0, permanent = 0;
	size_t k, i, m, *idx;

	err_clear(&derr);
	for (k = 0; k < n; k++) {
		struct spool_envelope env;
		struct cl_err err;
		err_clear(&err);
		if (spool_load(a->sp, it[k].qid, &env, &err) < 0)
			continue;
		idx = calloc(env.nrcpt ? env.nrcpt : 1, sizeof(*idx));
		if (idx == NULL)
			abort();
		for (i = 0, m = 0; i < env.nrcpt; i++)
			if (relay_is_due(a, &env.rcpt[i]) &&
			    relay_dest_is(a, env.from, env.rcpt[i].addr, dest))
				idx[m++] = i;
		if (m > 0 && a->sess == NULL && !dead &&
		    relay_connect(a, dest, &permanent, &derr) < 0) {
			dead = 1;
			const struct relay_account *ac =
			    *dest == '=' ? &a->rc->acct[strtoul(dest + 1, NULL, 10)] : NULL;
			log_msg(derr.cls == CL_EAUTH ? LOG_ERR : LOG_WARNING, "relay: %s%s: %s%s",
			        ac ? "sender_relay " : *dest ? "to " : "smarthost",
			        ac ? ac->pattern : dest, derr.msg,
			        derr.cls != CL_EAUTH ? ""
			        : ac ? " (the smarthost refused our credentials: check the user= and "
			               "password_file= of this sender_relay)"
			             : " (the smarthost refused our credentials: check "
			               "smarthost_user and the password)");
		}
		if (dead) {
			struct outcome o;
			outcome_init(&o);
			relay_conn_outcome(&o, &derr);
			for (i = 0; i < m; i++)
				relay_note(a, &env, idx[i], permanent ? 'F' : 'T', &o);
			outcome_free(&o);
		}
		if (m > 0 && !dead)
			relay_send(a, &env, idx, m, k + 1 == n);
		if (m > 0)
			relay_after(a, &env);
		free(idx);
		spool_env_free(&env);
	}
	relay_close(a);
	a->desc[0] = '\0';
}

static int relay_item_cmp(const void *x, const void *y)
{
	const struct relay_item *a = x, *b = y;
	int c = strcmp(a->dest, b->dest);

	return c ? c : strcmp(a->qid, b->qid);
}

/* One pass; returns the seconds until something is due. */
static int relay_pass(struct relay_agent *a)
{
	struct cl_err err;
	size_t i, j;
	time_t wait;

	a->now = time(NULL);
	a->desc[0] = '\0';
	a->next_due = a->now + RELAY_RESCAN_S;
	a->again = 0;
	a->nitem = 0;
	a->nbuilding = 0;
	err_clear(&err);
	if (spool_scan(a->sp, relay_scan_one, a, &err) < 0)
		log_msg(LOG_ERR, "relay: %s", err.msg);
	/* The new picture replaces the old (messages gone drop out). */
	{
		struct relay_cached *t = a->cache;
		size_t tcap = a->capcache;
		a->cache = a->building;
		a->ncache = a->nbuilding;
		a->capcache = a->capbuilding;
		a->building = t;
		a->capbuilding = tcap;
		a->nbuilding = 0;
	}
	/* qsort(NULL, 0, ...) is undefined behaviour (C17 7.22.5). */
	if (a->ncache > 1)
		qsort(a->cache, a->ncache, sizeof(*a->cache), relay_cached_sort);
	if (a->nitem > 1)
		qsort(a->item, a->nitem, sizeof(*a->item), relay_item_cmp);
	for (i = 0; i < a->nitem; i = j) {
		for (j = i + 1; j < a->nitem && strcmp(a->item[j].dest, a->item[i].dest) == 0;
		     j++) {
		}
		relay_group(a, a->item + i, j - i);
	}
	for (i = 0; i < a->nitem; i++)
		free(a->item[i].dest);
	a->nitem = 0;
	a->flush = 0;
	wait = a->next_due - time(NULL);
	return wait < 1 ? 1 : wait > RELAY_RESCAN_S ? RELAY_RESCAN_S : (int)wait;
}

void relay_run(const struct conf *c, struct spool *sp, int wakefd)
{
	struct relay_agent a;
	int lockfd, fifo, next;

	signal(SIGPIPE, SIG_IGN);
	memset(&a, 0, sizeof(a));
	a.c = c;
	a.rc = &c->relay;
	a.sp = sp;
	/* A view of the default smarthost's settings (nothing owned). */
	a.smarthost.host = c->relay.host;
	a.smarthost.port = c->relay.port;
	a.smarthost.tls = c->relay.tls;
	a.smarthost.user = c->relay.user;
	a.smarthost.auth = c->relay.auth;
	a.smarthost.ca_file = c->relay.ca_file;
	a.smarthost.password = c->relay.password;
	lockfd = queue_cli_agent_lock(spool_dir(sp), QUEUE_CLI_AGENT_RELAY, wakefd);
	if (lockfd < 0)
		return;
	fifo = queue_cli_agent_fifo(spool_dir(sp), QUEUE_CLI_AGENT_RELAY);
	if (c->relay.mode == RELAY_MODE_MX)
		log_msg(LOG_INFO, "relay agent: direct delivery to MX hosts");
	else if (c->relay.host != NULL)
		log_msg(LOG_INFO, "relay agent: smarthost %s:%s", c->relay.host, c->relay.port);
	else
		log_msg(LOG_WARNING, "relay agent: no smarthost configured; relayed mail waits");
	for (size_t i = 0; i < c->relay.nacct; i++)
		log_msg(LOG_INFO, "relay agent: mail from %s through %s:%s%s%s", c->relay.acct[i].pattern,
		        c->relay.acct[i].host, c->relay.acct[i].port,
		        c->relay.acct[i].rewrite ? ", as " : "",
		        c->relay.acct[i].rewrite ? c->relay.acct[i].rewrite : "");
	for (;;) {
		struct pollfd pfd[2] = {{wakefd, POLLIN, 0}, {fifo, POLLIN, 0}};
		int r;
		next = relay_pass(&a);
		r = poll(pfd, fifo >= 0 ? 2 : 1, a.again ? 0 : next * 1000);
		if (r < 0 && errno != EINTR)
			break;
		if (r > 0 && pfd[0].revents) {
			char buf[256];
			if (read(wakefd, buf, sizeof(buf)) == 0)
				break;
		}
		if (r > 0 && fifo >= 0 && (pfd[1].revents & POLLIN))
			a.flush = queue_cli_agent_read(fifo);
	}
	relay_close(&a);
	free(a.item);
	free(a.cache);
	free(a.building);
	if (fifo >= 0)
		close(fifo);
	close(lockfd);
}
