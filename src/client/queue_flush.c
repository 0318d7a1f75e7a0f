/*
 * queue_flush.c - clsmtpc --flush: send the offline queue (docs/queue.md,
 * "Flushing"). Holds the lock, recovers what a killed flush left, reads the
 * header of every due message, groups them by connection, and sends each
 * group over one SMTP session (smtp_client_send with last = 0, the final
 * one with last = 1). Each message is renamed to "sending" durably before its
 * transaction and removed after the server's 250.
 */
#include "queue_flush.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "base/hostname.h"
#include "passfile.h"
#include "secret.h"
#include "transcript.h"
#include "base/version.h"

/* ---- the core engine as a transport ---------------------------------------- */

struct queue_flush_engine {
	struct smtp_client_params p;
	struct smtp_client *sess;
	struct buf ehlo, pw;
	struct transcript tr;
	int verbose;
	/* secret_from_env removes the variable once read: keep its value for
	 * the other connections that name it. */
	struct buf env_name, env_value;
};

static int queue_flush_password(struct queue_flush_engine *e, const struct queue_header *h,
                                struct cl_err *err)
{
	if (h->passfile)
		return passfile_lookup(h->passfile, h->user, h->host, &e->pw, err);
	if (h->passwordeval)
		return secret_from_command(h->passwordeval, &e->pw, err);
	if (h->keyring)
		return secret_from_keyring(h->host, h->user, &e->pw, err);
	if (h->password_env) {
		if (e->env_name.len && strcmp(buf_cstr(&e->env_name), h->password_env) == 0) {
			buf_reset(&e->pw);
			return buf_add(&e->pw, e->env_value.data, e->env_value.len) < 0
			           ? err_set(err, CL_ESOFTWARE, "out of memory")
			           : 0;
		}
		if (secret_from_env(h->password_env, &e->pw, err) < 0)
			return -1;
		buf_wipe(&e->env_value);
		buf_set(&e->env_name, h->password_env);
		buf_add(&e->env_value, e->pw.data, e->pw.len);
		return 0;
	}
	return err_set(err, CL_ECONFIG, "no password source stored for %s at %s", h->user, h->host);
}

static void queue_flush_engine_close(void *arg)
{
	struct queue_flush_engine *e = arg;

	if (e->sess) {
		smtp_client_quit(e->sess);
		smtp_client_free(e->sess);
		e->sess = NULL;
	}
	buf_wipe(&e->pw);
}

static int queue_flush_engine_open(void *arg, const struct queue_header *h, struct cl_err *err)
{
	struct queue_flush_engine *e = arg;
	struct smtp_client_params *p = &e->p;

	queue_flush_engine_close(e);
	memset(p, 0, sizeof(*p));
	p->host = h->host;
	p->port = h->port;
	p->family = h->family;
	p->tls_mode = h->tls_mode;
	p->tls.trust_file = h->trust_file;
	p->tls.fingerprint = h->fingerprint;
	p->tls.certcheck = h->certcheck;
	buf_reset(&e->ehlo);
	if (h->domain)
		buf_set(&e->ehlo, h->domain);
	else
		hostname_fqdn(&e->ehlo);
	p->ehlo_domain = buf_cstr(&e->ehlo);
	smtp_timeouts_default(&p->timeouts);
	if (h->timeout_s)
		smtp_timeouts_all(&p->timeouts, h->timeout_s * 1000);
	if (e->verbose) {
		p->transcript = transcript_line;
		p->transcript_arg = &e->tr;
		p->debug = e->verbose > 1;
	}
	if (h->auth && strcasecmp(h->auth, "none") != 0 && h->user) {
		p->auth = h->auth;
		if (queue_flush_password(e, h, err) < 0)
			return -1;
		p->creds.user = h->user;
		if (strcasecmp(h->auth, "xoauth2") == 0 || strcasecmp(h->auth, "oauthbearer") == 0)
			p->creds.token = buf_cstr(&e->pw);
		else
			p->creds.password = buf_cstr(&e->pw);
	}
	if (smtp_client_open(&e->sess, p, err) < 0) {
		queue_flush_engine_close(e);
		return -1;
	}
	return 0;
}

/* The signature is the engine callback's: body cannot be const. */
static int queue_flush_engine_send(void *arg, const struct queue_header *h,
                                   /* cppcheck-suppress constParameter */
                                   struct smtp_body_source *body, int last, struct cl_err *err)
{
	struct queue_flush_engine *e = arg;
	struct smtp_message m;
	struct smtp_result res;
	int r;

	memset(&m, 0, sizeof(m));
	m.from = h->from;
	m.rcpts = h->rcpts;
	m.nrcpt = h->nrcpt;
	m.body = *body;
	m.body_8bit = h->body_8bit;
	m.smtputf8 = h->smtputf8;
	smtp_result_init(&res);
	r = smtp_client_send(e->sess, &m, last, &res, err);
	smtp_result_free(&res);
	if (r < 0 || last)
		queue_flush_engine_close(e);
	return r;
}

/* ---- the flush --------------------------------------------------------------- */

struct queue_flush_entry {
	struct queue_name qn;
	size_t group;
};

struct queue_flush {
	struct queue *q;
	const struct queue_flush_opts *fo;
	struct queue_flush_stats *st;
	const struct queue_transport *t;
	long long now;
	unsigned total, done;
	struct cl_err last; /* the last trouble, for the summary */
};

static int queue_flush_entry_cmp(const void *a, const void *b)
{
	const struct queue_flush_entry *x = a, *y = b;

	if (x->group != y->group)
		return x->group < y->group ? -1 : 1;
	return strcmp(x->qn.id, y->qn.id);
}

static long long queue_flush_created(const struct queue_name *qn)
{
	char hex[9];

	memcpy(hex, qn->id, 8);
	hex[8] = '\0';
	return strtoll(hex, NULL, 16);
}

static void queue_flush_progress(struct queue_flush *f)
{
	if (!f->fo->progress)
		return;
	fprintf(stderr, "\rclsmtpc: flush: %u/%u: %u sent, %u deferred, %u failed\033[K", f->done,
	        f->total, f->st->sent, f->st->deferred, f->st->failed);
	fflush(stderr);
}

/* One line of trouble: "clsmtpc: queue ID: what: error". */
static void queue_flush_note(struct queue_flush *f, const char *what, const char *id,
                             const struct cl_err *e)
{
	FILE *out = f->fo->report;

	if (out == NULL)
		return;
	if (f->fo->progress)
		fputs("\r\033[K", stderr);
	fprintf(out, "clsmtpc: queue %s: %s: %s\n", id, what, e->msg);
}

/* A temporary failure: back to "queued" with one more attempt, or to
 * failed/ once the lifetime has passed. qn is the current name. */
static int queue_flush_defer(struct queue_flush *f, const struct queue_name *qn,
                             const struct cl_err *why, int sync, struct cl_err *err)
{
	struct queue_name to = *qn;
	struct buf reason = BUF_INIT(CL_ERR_MSG_MAX + 128);
	long long age = f->now - queue_flush_created(qn);
	int r;

	f->last = *why;
	if (age > QUEUE_LIFETIME_S) {
		buf_printf(&reason, "expired: queued %lld days ago, %u attempts; last error: %s",
		           age / 86400, qn->attempts + 1, why->msg);
		r = queue_fail(f->q, qn, buf_cstr(&reason), err);
		buf_free(&reason);
		if (r == 0) {
			struct cl_err e;
			err_set(&e, CL_EUNAVAIL, "%s", why->msg);
			queue_flush_note(f, "failed (expired after 5 days)", qn->id, &e);
		}
		f->st->failed++;
		return r;
	}
	buf_free(&reason);
	to.sending = 0;
	to.attempts = qn->attempts < 999999 ? qn->attempts + 1 : qn->attempts;
	to.next = f->now + queue_file_backoff(to.attempts);
	queue_write_error(f->q, f->q->msgfd, qn->id, why->msg);
	f->st->deferred++;
	return queue_rename(f->q, qn, &to, sync, err);
}

/* The connection failed: every message left in the group waits, untried. */
static int queue_flush_defer_rest(struct queue_flush *f, struct queue_flush_entry *e, size_t n,
                                  const struct cl_err *why, struct cl_err *err)
{
	size_t i;

	if (n) {
		struct buf what = BUF_INIT(64);
		buf_printf(&what, "%s (and %zu more for this server)", e[0].qn.id, n - 1);
		queue_flush_note(f, "deferred", n > 1 ? buf_cstr(&what) : e[0].qn.id, why);
		buf_free(&what);
	}
	for (i = 0; i < n; i++) {
		if (queue_flush_defer(f, &e[i].qn, why, 0, err) < 0)
			return -1;
		f->done++;
	}
	queue_flush_progress(f);
	return queue_sync_dir(f->q, f->q->msgfd, err);
}

static int queue_flush_is_permanent(enum cl_errclass c)
{
	return c == CL_EUNAVAIL || c == CL_EDATA;
}

/* A failure that concerns the message alone: the next one may go through
 * (on a new connection). Anything else is the connection's. */
static int queue_flush_is_message_only(enum cl_errclass c)
{
	return queue_flush_is_permanent(c) || c == CL_ETEMP || c == CL_EPROTO || c == CL_EIO;
}

/* Send the messages e[0..n) of one group. */
static int queue_flush_group(struct queue_flush *f, struct queue_flush_entry *e, size_t n,
                             struct cl_err *err)
{
	struct queue_header conn, h;
	struct smtp_fd_source fs;
	struct smtp_body_source body;
	struct queue_name sending;
	struct buf name = BUF_INIT(QUEUE_NAME_MAX);
	struct cl_err se;
	size_t i;
	int fd = -1, open = 0, r = 0;

	queue_file_header_init(&conn);
	queue_file_header_init(&h);
	for (i = 0; i < n && r == 0; i++) {
		if (!open) {
			/* The connection's settings: those of the first message. */
			queue_file_header_free(&conn);
			queue_file_name_format(&e[i].qn, &name);
			if (queue_read(f->q, f->q->msgfd, buf_cstr(&name), &conn, &fd, &se) < 0) {
				queue_flush_note(f, "left alone", e[i].qn.id, &se);
				f->st->bad++;
				f->done++;
				continue;
			}
			close(fd);
			fd = -1;
			err_clear(&se);
			if (f->t->open(f->t->arg, &conn, &se) < 0) {
				if (se.cls == CL_OK)
					err_set(&se, CL_ETEMP, "cannot connect");
				r = queue_flush_defer_rest(f, e + i, n - i, &se, err);
				break;
			}
			open = 1;
		}
		sending = e[i].qn;
		sending.sending = 1;
		if (queue_rename(f->q, &e[i].qn, &sending, 1, err) < 0) {
			if (err->cls == CL_ETEMP) { /* dropped meanwhile */
				f->done++;
				r = 0;
				continue;
			}
			r = -1;
			break;
		}
		queue_file_name_format(&sending, &name);
		if (queue_read(f->q, f->q->msgfd, buf_cstr(&name), &h, &fd, &se) < 0) {
			queue_flush_note(f, "left alone", e[i].qn.id, &se);
			f->st->bad++;
			f->done++;
			r = queue_rename(f->q, &sending, &e[i].qn, 1, err);
			continue;
		}
		/* the message, from where queue_read left fd */
		smtp_body_from_fd(&body, &fs, fd, h.size, "queue");
		err_clear(&se);
		if (f->t->send(f->t->arg, &h, &body, i + 1 == n, &se) == 0) {
			r = queue_remove_sent(f->q, &sending, err);
			f->st->sent++;
		} else {
			if (se.cls == CL_OK)
				err_set(&se, CL_ETEMP, "the transaction failed");
			open = 0;
			f->t->close(f->t->arg);
			if (queue_flush_is_permanent(se.cls)) {
				f->last = se;
				queue_flush_note(f, "failed", h.id, &se);
				r = queue_fail(f->q, &sending, se.msg, err);
				f->st->failed++;
			} else {
				queue_flush_note(f, "deferred", h.id, &se);
				r = queue_flush_defer(f, &sending, &se, 1, err);
			}
			if (r == 0 && !queue_flush_is_message_only(se.cls)) {
				f->done++;
				close(fd);
				fd = -1;
				queue_file_header_free(&h);
				r = queue_flush_defer_rest(f, e + i + 1, n - i - 1, &se, err);
				break;
			}
		}
		close(fd);
		fd = -1;
		queue_file_header_free(&h);
		f->done++;
		queue_flush_progress(f);
	}
	if (open)
		f->t->close(f->t->arg);
	if (fd >= 0)
		close(fd);
	queue_file_header_free(&h);
	queue_file_header_free(&conn);
	buf_free(&name);
	return r;
}

/* Find or add key among the groups' keys. */
static long queue_flush_group_of(char ***keys, size_t *nkeys, const char *key)
{
	size_t i;
	char **nk;

	for (i = 0; i < *nkeys; i++)
		if (strcmp((*keys)[i], key) == 0)
			return (long)i;
	nk = realloc(*keys, (*nkeys + 1) * sizeof(*nk));
	if (nk == NULL)
		return -1;
	*keys = nk;
	nk[*nkeys] = strdup(key);
	if (nk[*nkeys] == NULL)
		return -1;
	return (long)(*nkeys)++;
}

static int queue_flush_summary(struct queue_flush *f, struct cl_err *err)
{
	struct queue_flush_stats *st = f->st;
	struct buf s = BUF_INIT(CL_ERR_MSG_MAX);
	int trouble = st->deferred || st->failed || st->bad || st->held;
	enum cl_errclass cls = st->failed || st->held ? CL_EUNAVAIL : CL_ETEMP;

	if (f->fo->progress)
		fputs("\r\033[K", stderr);
	buf_printf(&s, "flush: %u sent", st->sent);
	if (st->resent)
		buf_printf(&s, " (%u again after an interrupted flush)", st->resent);
	if (st->deferred)
		buf_printf(&s, ", %u deferred", st->deferred);
	if (st->failed)
		buf_printf(&s, ", %u failed (kept in failed/)", st->failed);
	if (st->held)
		buf_printf(&s, ", %u held in failed/ (interrupted twice while sending)", st->held);
	if (st->bad)
		buf_printf(&s, ", %u unreadable (left alone)", st->bad);
	if (st->not_due)
		buf_printf(&s, ", %u not due yet", st->not_due);
	if (trouble && f->last.cls != CL_OK)
		buf_printf(&s, "; last error: %s", f->last.msg);
	if (trouble) {
		err_set(err, cls, "%s", buf_cstr(&s));
		buf_free(&s);
		return -1;
	}
	if (f->fo->progress || f->fo->verbose)
		fprintf(stderr, "clsmtpc: %s\n", buf_cstr(&s));
	buf_free(&s);
	return 0;
}

int queue_flush_run(struct queue *q, const struct queue_flush_opts *fo,
                    struct queue_flush_stats *st, struct cl_err *err)
{
	struct queue_flush f;
	struct queue_flush_engine eng;
	struct queue_transport real = {queue_flush_engine_open, queue_flush_engine_send,
	                               queue_flush_engine_close, &eng};
	struct queue_item *items = NULL;
	struct queue_flush_entry *ents = NULL;
	struct queue_header h;
	struct buf key = BUF_INIT(QUEUE_HEADER_MAX), name = BUF_INIT(QUEUE_NAME_MAX);
	char **keys = NULL;
	size_t n = 0, ne = 0, nkeys = 0, i, j;
	struct cl_err se;
	long g;
	int fd, r = -1;

	memset(st, 0, sizeof(*st));
	memset(&f, 0, sizeof(f));
	memset(&eng, 0, sizeof(eng));
	buf_init(&eng.ehlo, 256);
	buf_init(&eng.pw, SECRET_MAX);
	buf_init(&eng.env_name, 256);
	buf_init(&eng.env_value, SECRET_MAX);
	eng.tr.out = stderr;
	eng.verbose = fo->verbose;
	f.q = q;
	f.fo = fo;
	f.st = st;
	f.t = fo->transport ? fo->transport : &real;
	f.now = fo->now ? (long long)fo->now : (long long)time(NULL);
	queue_file_header_init(&h);

	if (queue_lock(q, err) < 0)
		return -1;
	if (queue_recover(q, (time_t)f.now, &st->resent, &st->held, err) < 0)
		return -1;
	if (queue_scan(q, 0, &items, &n, err) < 0)
		return -1;
	ents = calloc(n ? n : 1, sizeof(*ents));
	if (ents == NULL) {
		err_set(err, CL_ESOFTWARE, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (items[i].qn.sending)
			continue;
		if (fo->due_only && items[i].qn.next > f.now) {
			st->not_due++;
			if (st->next_due == 0 || items[i].qn.next < st->next_due)
				st->next_due = items[i].qn.next;
			continue;
		}
		if (queue_read(q, q->msgfd, items[i].name, &h, &fd, &se) < 0) {
			queue_flush_note(&f, "left alone", items[i].qn.id, &se);
			st->bad++;
			continue;
		}
		close(fd);
		if (queue_file_conn_key(&h, &key) < 0 ||
		    (g = queue_flush_group_of(&keys, &nkeys, buf_cstr(&key))) < 0) {
			err_set(err, CL_ESOFTWARE, "out of memory");
			goto out;
		}
		queue_file_header_free(&h);
		ents[ne].qn = items[i].qn;
		ents[ne].group = (size_t)g;
		ne++;
	}
	if (ne)
		qsort(ents, ne, sizeof(*ents), queue_flush_entry_cmp);
	f.total = (unsigned)ne;
	if (fo->verbose)
		transcript_banner(&eng.tr);
	queue_flush_progress(&f);
	for (i = 0; i < ne; i = j) {
		for (j = i; j < ne && ents[j].group == ents[i].group; j++)
			;
		if (queue_flush_group(&f, ents + i, j - i, err) < 0)
			goto out;
	}
	if (queue_sync_dir(q, q->msgfd, err) < 0)
		goto out;
	r = queue_flush_summary(&f, err);
out:
	if (r < 0 && f.fo->progress)
		fputs("\r\033[K", stderr);
	f.t->close(f.t->arg);
	for (i = 0; i < nkeys; i++)
		free(keys[i]);
	free(keys);
	free(items);
	free(ents);
	queue_file_header_free(&h);
	buf_free(&key);
	buf_free(&name);
	buf_free(&eng.ehlo);
	buf_wipe(&eng.pw);
	buf_wipe(&eng.env_value);
	buf_free(&eng.env_name);
	return r;
}
