/*
 * deliver.c - the local delivery agent (deliver.h). For each committed
 * message it delivers the pending "local" recipients into their Maildirs,
 * journals D/T/F, and removes the message once every recipient is final.
 * "relay" recipients are left pending for the relay agent (part 2).
 */
#include "deliver.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "maildir.h"

struct deliver_pass_state {
	struct spool *sp;
	time_t now;
	int next; /* seconds until something is due */
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
		if (spool_record(ps->sp, env, i, 'D', 0, "delivered to maildir", &err) < 0)
			log_msg(LOG_ERR, "%s: journal: %s", env->qid, err.msg);
		log_msg(LOG_INFO, "%s: to=<%s>, relay=local, status=sent (delivered to maildir)",
		        env->qid, r->addr);
		return;
	}
	if (fd >= 0)
		close(fd);
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
		    (r->state == SPOOL_DEFERRED && r->next_try <= ps->now)) {
			deliver_one(ps, &env, i);
		} else if (r->state == SPOOL_DEFERRED) {
			int due = (int)(r->next_try - ps->now);
			if (due < ps->next)
				ps->next = due;
		}
	}
	if (spool_all_final(&env)) {
		if (spool_finish(ps->sp, &env, &err) < 0)
			log_msg(LOG_ERR, "%s: %s", qid, err.msg);
		else
			log_msg(LOG_INFO, "%s: removed", qid);
	}
	spool_env_free(&env);
	return 0;
}

int deliver_pass(struct spool *sp)
{
	struct deliver_pass_state ps;
	struct cl_err err;

	ps.sp = sp;
	ps.now = time(NULL);
	ps.next = DELIVER_RESCAN_S;
	err_clear(&err);
	if (spool_scan(sp, deliver_message, &ps, &err) < 0)
		log_msg(LOG_ERR, "%s", err.msg);
	return ps.next > 0 ? ps.next : 1;
}

void deliver_run(struct spool *sp, int wakefd)
{
	char buf[256];
	int next = deliver_pass(sp);

	for (;;) {
		struct pollfd p = {wakefd, POLLIN, 0};
		int r = poll(&p, 1, next * 1000);
		if (r < 0 && errno != EINTR)
			return;
		if (r > 0) {
			ssize_t n = read(wakefd, buf, sizeof(buf));
			if (n == 0)
				return;
		}
		next = deliver_pass(sp);
	}
}
