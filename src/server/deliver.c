/*
 * deliver.c - the local delivery agent (deliver.h). For each committed
 * message it delivers the pending "local" recipients into their Maildirs,
 * journals D/T/F, and removes the message once every recipient is final.
 * "relay" recipients are left to the relay agent (relay.c). Recipients that
 * still fail after the queue lifetime get a failure notice (dsn.c).
 */
#include "deliver.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dsn.h"
#include "log.h"
#include "maildir.h"
#include "queue_cli.h"

struct deliver_pass_state {
	const struct conf *c;
	struct spool *sp;
	time_t now;
	int flush; /* every deferred recipient is due */
	int next;  /* seconds until something is due */
};

static void deliver_one(struct deliver_pass_state *ps, struct spool_envelope *env, size_t i)
{
	struct spool_rcpt *r = &env->rcpt[i];
	struct cl_err err;
	int fd;

	err_clear(&err);
	fd = spool_data_fd(ps->sp, env, &err);
	if (fd >= 0 && maildir_deliver(r->target, fd, env->qid, &err) == 0) {
		close(fd);
		/* The last open recipient: removing the message records it. */
		if (dsn_last_open(env, i))
			r->state = SPOOL_DELIVERED;
		else if (spool_record(ps->sp, env, i, 'D', 0, "delivered to maildir", &err) < 0)
			log_msg(LOG_ERR, "%s: journal: %s", env->qid, err.msg);
		log_msg(LOG_INFO, "%s: to=<%s>, relay=local, status=sent (delivered to maildir)",
		        env->qid, r->addr);
		return;
	}
	if (fd >= 0)
		close(fd);
	if (ps->now - env->arrival >= ps->c->relay.lifetime) {
		struct buf t = BUF_INIT(SPOOL_LINE_MAX);
		struct cl_err e2;
		char life[32];
		relay_conf_duration_str(ps->c->relay.lifetime, life, sizeof(life));
		buf_printf(&t, "delivery time expired after %s (%d attempts); last error: %s", life,
		           r->attempts + 1, err.msg);
		err_clear(&e2);
		if (spool_record(ps->sp, env, i, 'F', 0, buf_cstr(&t), &e2) < 0)
			log_msg(LOG_ERR, "%s: journal: %s", env->qid, e2.msg);
		log_msg(LOG_WARNING, "%s: to=<%s>, relay=local, status=bounced (%s)", env->qid,
		        r->addr, buf_cstr(&t));
		buf_free(&t);
		return;
	}
	{
		struct cl_err e2;
		err_clear(&e2);
		if (spool_record(ps->sp, env, i, 'T', ps->now + DELIVER_RETRY_S, err.msg, &e2) < 0)
			log_msg(LOG_ERR, "%s: journal: %s", env->qid, e2.msg);
	}
	if (ps->next > DELIVER_RETRY_S)
		ps->next = DELIVER_RETRY_S;
	log_msg(LOG_WARNING, "%s: to=<%s>, relay=local, status=deferred (%s)", env->qid, r->addr,
	        err.msg);
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

static int deliver_message(void *arg, const char *qid)
{
	struct deliver_pass_state *ps = arg;
	struct spool_envelope env;
	struct cl_err err;
	size_t i;

	err_clear(&err);
	if (spool_load(ps->sp, qid, &env, &err) < 0) {
		/* Possibly removed since the scan; otherwise it stays for a person. */
		if (err.cls != CL_EIO)
			log_msg(LOG_ERR, "%s: %s", qid, err.msg);
		return 0;
	}
	for (i = 0; i < env.nrcpt; i++) {
		struct spool_rcpt *r = &env.rcpt[i];
		if (r->cls != SPOOL_LOCAL)
			continue;
		if (r->state == SPOOL_PENDING ||
		    (r->state == SPOOL_DEFERRED && (ps->flush || r->next_try <= ps->now))) {
			deliver_one(ps, &env, i);
		} else if (r->state == SPOOL_DEFERRED) {
			int due = (int)(r->next_try - ps->now);
			if (due < ps->next)
				ps->next = due;
		}
	}
	deliver_bounce(ps, &env);
	if (dsn_settled(&env)) {
		if (spool_finish(ps->sp, &env, &err) < 0)
			log_msg(LOG_ERR, "%s: %s", qid, err.msg);
		else
			log_msg(LOG_INFO, "%s: removed", qid);
	}
	spool_env_free(&env);
	return 0;
}

int deliver_pass(const struct conf *c, struct spool *sp, int flush)
{
	struct deliver_pass_state ps;
	struct cl_err err;

	ps.c = c;
	ps.sp = sp;
	ps.flush = flush;
	ps.now = time(NULL);
	ps.next = DELIVER_RESCAN_S;
	err_clear(&err);
	if (spool_scan(sp, deliver_message, &ps, &err) < 0)
		log_msg(LOG_ERR, "%s", err.msg);
	return ps.next > 0 ? ps.next : 0;
}

void deliver_run(const struct conf *c, struct spool *sp, int wakefd)
{
	char buf[256];
	int next, flush = 0, lockfd, fifo;

	/* Never two local agents at once (one of a killed clsmtpd may still
	 * be finishing); the FIFO brings "clsmtpd -flush" and notices. */
	lockfd = queue_cli_agent_lock(spool_dir(sp), QUEUE_CLI_AGENT_LOCAL, wakefd);
	if (lockfd < 0)
		return;
	fifo = queue_cli_agent_fifo(spool_dir(sp), QUEUE_CLI_AGENT_LOCAL);
	next = deliver_pass(c, sp, 0);
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
		next = deliver_pass(c, sp, flush);
		flush = 0;
	}
	if (fifo >= 0)
		close(fifo);
	close(lockfd);
}
