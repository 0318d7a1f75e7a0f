/*
 * deliver.c - the local delivery agent (deliver.h). For each committed
 * message it delivers the pending "local" recipients into their Maildirs,
 * journals D/T/F, and removes the message once every recipient is final.
 * The messages found in one pass are delivered in batches: the Maildir
 * files of a batch are flushed together, then their outcomes recorded,
 * then the removals flushed once (docs/spool.md, "Delivery and removal").
 * "relay" recipients are left to the relay agent (relay.c). Recipients that
 * still fail after the queue lifetime get a failure notice, those that asked
 * for it (NOTIFY=SUCCESS) a "delivered" notice (dsn.c).
 */
#include "deliver.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dsn.h"
#include "log.h"
#include "metrics.h"
#include "maildir.h"
#include "queuectl.h"

/* Every message in a batch has at least one file in it, but one more may
 * wait beside them: the one whose recipients were being added when the
 * batch was found full (it goes on into the next batch). */
#define DELIVER_BATCH_MSGS (MAILDIR_BATCH_FILES + 1)

/* One recipient being delivered in the batch. */
struct deliver_item {
	size_t msg;  /* index in deliver_batch.env */
	size_t rcpt; /* index in that envelope */
	int file;    /* index in the Maildir batch; -1 if it failed already (err) */
	struct cl_err err;
};

struct deliver_batch {
	struct maildir_batch *mb;
	struct spool_envelope env[DELIVER_BATCH_MSGS];
	size_t nmsg;
	int last_open; /* env[nmsg - 1] still has recipients to be added */
	struct deliver_item item[MAILDIR_BATCH_FILES];
	size_t nitem;
};

struct deliver_pass_state {
	const struct conf *c;
	struct spool *sp;
	struct deliver_batch *b;
	time_t now;
	int flush; /* every deferred recipient is due */
	int next;  /* seconds until something is due */
};

/* The outcome of a delivery into a Maildir. */
#define DELIVER_DONE_TEXT "delivered to maildir"

/* Recipient i is durably in its Maildir: journal it. */
static void deliver_done(struct deliver_pass_state *ps, struct spool_envelope *env, size_t i)
{
	struct spool_rcpt *r = &env->rcpt[i];
	struct outcome o;
	struct cl_err err;

	err_clear(&err);
	outcome_init(&o);
	/* The last open recipient: removing the message records it. */
	if (dsn_last_open(env, i))
		r->state = SPOOL_DELIVERED;
	else if (outcome_note(&o, "2.0.0", DELIVER_DONE_TEXT) < 0 ||
	         spool_record(ps->sp, env, i, 'D', 0, &o, &err) < 0)
		log_msg(LOG_ERR, "%s: journal: %s", env->qid, err.msg);
	outcome_free(&o);
	log_msg(LOG_INFO, "%s: to=<%s>, relay=local, status=sent (delivered to maildir)", env->qid,
	        r->addr);
	metrics_outcome(METRICS_LOCAL, METRICS_SENT);
}

/* Recipient i could not be delivered (err): T, or F once the queue
 * lifetime has passed. */
int deliver_backoff(const struct conf *c, int n)
{
	long long s = DELIVER_RETRY_S, max = c->relay.retry_max > 0 ? c->relay.retry_max : 1;

	while (--n > 0 && s < max)
		s *= 2;
	return (int)(s < max ? s : max);
}

static void deliver_failed(struct deliver_pass_state *ps, struct spool_envelope *env, size_t i,
                           const struct cl_err *err)
{
	struct spool_rcpt *r = &env->rcpt[i];
	struct outcome o;
	struct cl_err e2;
	int wait;

	err_clear(&e2);
	outcome_init(&o);
	if (outcome_from_err(&o, NULL, err) < 0)
		abort();
	if (ps->now - env->arrival >= ps->c->relay.lifetime) {
		struct buf t = BUF_INIT(SPOOL_LINE_MAX), lead = BUF_INIT(256);
		char life[32];
		relay_conf_duration_str(ps->c->relay.lifetime, life, sizeof(life));
		buf_printf(&lead, "delivery time expired after %s (%d attempts)", life,
		           r->attempts + 1);
		if (outcome_expired(&o, buf_cstr(&lead), &o) < 0)
			abort();
		outcome_text(&o, &t);
		if (spool_record(ps->sp, env, i, 'F', 0, &o, &e2) < 0)
			log_msg(LOG_ERR, "%s: journal: %s", env->qid, e2.msg);
		log_msg(LOG_WARNING, "%s: to=<%s>, relay=local, status=bounced (%s)", env->qid,
		        r->addr, buf_cstr(&t));
		metrics_outcome(METRICS_LOCAL, METRICS_BOUNCED);
		buf_free(&t);
		buf_free(&lead);
		outcome_free(&o);
		return;
	}
	wait = deliver_backoff(ps->c, r->attempts + 1);
	if (spool_record(ps->sp, env, i, 'T', ps->now + wait, &o, &e2) < 0)
		log_msg(LOG_ERR, "%s: journal: %s", env->qid, e2.msg);
	outcome_free(&o);
	if (ps->next > wait)
		ps->next = wait;
	log_msg(LOG_WARNING, "%s: to=<%s>, relay=local, status=deferred (%s)", env->qid, r->addr,
	        err->msg);
	metrics_outcome(METRICS_LOCAL, METRICS_DEFERRED);
}

/* Failure notices for the failed local recipients (dsn.h). */
static void deliver_bounce(struct deliver_pass_state *ps, struct spool_envelope *env)
{
	enum spool_class ncls = SPOOL_LOCAL;
	struct cl_err err;
	size_t i;
	int r;

	for (i = 0; i < env->nrcpt; i++)
		if (env->rcpt[i].cls == SPOOL_LOCAL && env->rcpt[i].state == SPOOL_FAILED)
			break;
	if (i == env->nrcpt)
		return;
	err_clear(&err);
	r = dsn_bounce(ps->c, ps->sp, env, SPOOL_LOCAL, &ncls, &err);
	if (r < 0)
		log_msg(LOG_ERR, "%s: failure notice: %s", env->qid, err.msg);
	else if (r == 1 && ncls == SPOOL_RELAY)
		queue_cli_poke(spool_dir(ps->sp), QUEUE_CLI_AGENT_RELAY, QUEUE_CLI_WAKE);
	else if (r == 1)
		ps->next = 0; /* deliver the notice in the next pass, at once */
}

/* "Delivered" notices (RFC 3461 6.2.2): one per message for its recipients
 * of this batch that are durably in their Maildir (ok[k] for item k) and
 * asked for one. Queued before their D lines: a crash in between delivers
 * them again, notice included (docs/spool.md). */
static void deliver_success(struct deliver_pass_state *ps, const int *ok)
{
	struct deliver_batch *b = ps->b;
	size_t idx[MAILDIR_BATCH_FILES], n, m, k;
	enum spool_class ncls;
	struct cl_err err;
	struct outcome done;
	int r;

	outcome_init(&done);
	if (outcome_note(&done, "2.0.0", DELIVER_DONE_TEXT) < 0)
		abort();
	for (m = 0; m < b->nmsg; m++) {
		struct spool_envelope *env = &b->env[m];
		if (env->from[0] == '\0')
			continue;
		for (k = 0, n = 0; k < b->nitem; k++)
			if (ok[k] && b->item[k].msg == m &&
			    dsn_wants_success(env->rcpt[b->item[k].rcpt].notify))
				idx[n++] = b->item[k].rcpt;
		if (n == 0)
			continue;
		err_clear(&err);
		ncls = SPOOL_LOCAL;
		r = dsn_success(ps->c, ps->sp, env, idx, n, DSN_DELIVERED, &done, &ncls, &err);
		if (r < 0)
			log_msg(LOG_ERR, "%s: success notice: %s", env->qid, err.msg);
		else if (r == 1 && ncls == SPOOL_RELAY)
			queue_cli_poke(spool_dir(ps->sp), QUEUE_CLI_AGENT_RELAY, QUEUE_CLI_WAKE);
		else if (r == 1)
			ps->next = 0; /* deliver the notice in the next pass, at once */
	}
	outcome_free(&done);
}

/* Remove the settled messages among env[0..n): one alone as before (each
 * directory flushed), several with their unlinks flushed once. */
static void deliver_remove(struct deliver_pass_state *ps, struct spool_envelope **env, size_t n)
{
	struct cl_err err;
	size_t k;
	int ok[DELIVER_BATCH_MSGS];

	err_clear(&err);
	if (n == 1) {
		if (spool_finish(ps->sp, env[0], &err) < 0)
			log_msg(LOG_ERR, "%s: %s", env[0]->qid, err.msg);
		else
			log_msg(LOG_INFO, "%s: removed", env[0]->qid);
		return;
	}
	for (k = 0; k < n; k++) {
		ok[k] = spool_finish_lazy(ps->sp, env[k], &err) == 0;
		if (!ok[k])
			log_msg(LOG_ERR, "%s: %s", env[k]->qid, err.msg);
	}
	if (spool_sync(ps->sp, &err) < 0) {
		/* The messages may come back after a crash: delivered again. */
		log_msg(LOG_ERR, "%s", err.msg);
		return;
	}
	for (k = 0; k < n; k++)
		if (ok[k])
			log_msg(LOG_INFO, "%s: removed", env[k]->qid);
}

/* The batch's files durably in new/ (or failed), then their outcomes, then
 * the removals: never an outcome before its delivery is durable. A message
 * whose recipients are still being added (b->last_open) stays, alone, for
 * the next batch. */
static void deliver_flush(struct deliver_pass_state *ps)
{
	struct deliver_batch *b = ps->b;
	struct spool_envelope *fin[DELIVER_BATCH_MSGS];
	size_t k, nfin = 0, keep = b->last_open ? 1 : 0;
	int ok[MAILDIR_BATCH_FILES] = {0};

	maildir_batch_commit(b->mb);
	for (k = 0; k < b->nitem; k++) {
		struct deliver_item *it = &b->item[k];
		ok[k] =
		    it->file >= 0 && maildir_batch_result(b->mb, (size_t)it->file, &it->err) == 0;
	}
	deliver_success(ps, ok);
	for (k = 0; k < b->nitem; k++) {
		struct deliver_item *it = &b->item[k];
		struct spool_envelope *env = &b->env[it->msg];
		if (ok[k])
			deliver_done(ps, env, it->rcpt);
		else
			deliver_failed(ps, env, it->rcpt, &it->err);
	}
	maildir_batch_reset(b->mb);
	b->nitem = 0;
	for (k = 0; k + keep < b->nmsg; k++) {
		deliver_bounce(ps, &b->env[k]);
		if (dsn_settled(&b->env[k]))
			fin[nfin++] = &b->env[k];
	}
	if (nfin > 0)
		deliver_remove(ps, fin, nfin);
	for (k = 0; k + keep < b->nmsg; k++)
		spool_env_free(&b->env[k]);
	if (keep) {
		b->env[0] = b->env[b->nmsg - 1];
		if (b->nmsg > 1)
			spool_env_init(&b->env[b->nmsg - 1]); /* moved, not owned twice */
		b->nmsg = 1;
	} else {
		b->nmsg = 0;
	}
}

/* Start delivering recipient i of the batch's message m. */
static void deliver_add(struct deliver_pass_state *ps, size_t m, size_t i)
{
	struct deliver_batch *b = ps->b;
	struct deliver_item *it = &b->item[b->nitem++];
	struct spool_envelope *env = &b->env[m];
	int fd;

	it->msg = m;
	it->rcpt = i;
	it->file = -1;
	err_clear(&it->err);
	fd = spool_data_fd(ps->sp, env, &it->err);
	if (fd >= 0) {
		it->file = maildir_batch_add(b->mb, env->rcpt[i].target, fd, env->qid, env->from,
		                             &it->err);
		close(fd);
	}
}

static int deliver_message(void *arg, const char *qid)
{
	struct deliver_pass_state *ps = arg;
	struct deliver_batch *b = ps->b;
	struct spool_envelope *env;
	struct cl_err err;
	size_t i, added = 0;

	/* A name seen twice in one scan would be delivered twice. */
	for (i = 0; i < b->nmsg; i++)
		if (strcmp(b->env[i].qid, qid) == 0)
			return 0;
	err_clear(&err);
	if (spool_load(ps->sp, qid, &b->env[b->nmsg], &err) < 0) {
		/* Possibly removed since the scan; otherwise it stays for a person. */
		if (err.cls != CL_EIO)
			log_msg(LOG_ERR, "%s: %s", qid, err.msg);
		return 0;
	}
	b->nmsg++;
	b->last_open = 1;
	for (i = 0; i < b->env[b->nmsg - 1].nrcpt; i++) {
		struct spool_rcpt *r = &b->env[b->nmsg - 1].rcpt[i];
		if (r->cls != SPOOL_LOCAL)
			continue;
		if (r->state == SPOOL_PENDING ||
		    (r->state == SPOOL_DEFERRED && (ps->flush || r->next_try <= ps->now))) {
			/* Full: flush before adding (a message ending the batch
			 * is then settled with it). The flush moves this message
			 * to env[0]: index it anew. */
			if (b->nitem == MAILDIR_BATCH_FILES || maildir_batch_full(b->mb))
				deliver_flush(ps);
			deliver_add(ps, b->nmsg - 1, i);
			added++;
		} else if (r->state == SPOOL_DEFERRED) {
			int due = (int)(r->next_try - ps->now);
			if (due < ps->next)
				ps->next = due;
		}
	}
	b->last_open = 0;
	if (added > 0)
		return 0; /* its outcomes and removal come with the batch */
	/* Nothing to deliver: a notice may still be due, or the removal. */
	env = &b->env[--b->nmsg];
	deliver_bounce(ps, env);
	if (dsn_settled(env))
		deliver_remove(ps, &env, 1);
	spool_env_free(env);
	return 0;
}

static struct deliver_batch *deliver_batch_new(void)
{
	struct deliver_batch *b = calloc(1, sizeof(*b));
	struct cl_err err;

	err_clear(&err);
	if (b != NULL && maildir_batch_new(&b->mb, &err) < 0) {
		free(b);
		b = NULL;
	}
	if (b == NULL)
		log_msg(LOG_ERR, "local delivery: out of memory");
	return b;
}

static void deliver_batch_free(struct deliver_batch *b)
{
	if (b != NULL)
		maildir_batch_free(b->mb);
	free(b);
}

/* One pass with the batch b (empty before and after). */
static int deliver_pass_batch(const struct conf *c, struct spool *sp, int flush,
                              struct deliver_batch *b)
{
	struct deliver_pass_state ps;
	struct cl_err err;

	ps.c = c;
	ps.sp = sp;
	ps.b = b;
	ps.flush = flush;
	ps.now = time(NULL);
	ps.next = DELIVER_RESCAN_S;
	err_clear(&err);
	if (spool_scan(sp, deliver_message, &ps, &err) < 0)
		log_msg(LOG_ERR, "%s", err.msg);
	if (b->nmsg > 0)
		deliver_flush(&ps);
	return ps.next > 0 ? ps.next : 0;
}

int deliver_pass(const struct conf *c, struct spool *sp, int flush)
{
	struct deliver_batch *b = deliver_batch_new();
	int next;

	if (b == NULL)
		return DELIVER_RETRY_S;
	next = deliver_pass_batch(c, sp, flush, b);
	deliver_batch_free(b);
	return next;
}

void deliver_run(const struct conf *c, struct spool *sp, int wakefd)
{
	struct deliver_batch *b;
	char buf[256];
	int next, flush = 0, lockfd, fifo;

	/* Never two local agents at once (one of a killed clsmtpd may still
	 * be finishing); the FIFO brings "clsmtpd -flush" and notices. */
	lockfd = queue_cli_agent_lock(spool_dir(sp), QUEUE_CLI_AGENT_LOCAL, wakefd);
	if (lockfd < 0)
		return;
	fifo = queue_cli_agent_fifo(spool_dir(sp), QUEUE_CLI_AGENT_LOCAL);
	/* One batch for the agent's life, no allocation per wake-up (without
	 * it, each pass tries its own). */
	b = deliver_batch_new();
	next = b ? deliver_pass_batch(c, sp, 0, b) : deliver_pass(c, sp, 0);
	for (;;) {
		struct pollfd p[2] = {{wakefd, POLLIN, 0}, {fifo, POLLIN, 0}};
		int r = poll(p, fifo >= 0 ? 2 : 1, next * 1000);
		if (r < 0 && errno != EINTR)
			break;
		if (r > 0 && p[0].revents) {
			ssize_t n = read(wakefd, buf, sizeof(buf));
			if (n == 0)
				break;
		}
		if (r > 0 && fifo >= 0 && (p[1].revents & POLLIN))
			flush = queue_cli_agent_read(fifo);
		next = b ? deliver_pass_batch(c, sp, flush, b) : deliver_pass(c, sp, flush);
		flush = 0;
	}
	deliver_batch_free(b);
	if (fifo >= 0)
		close(fifo);
	close(lockfd);
}
