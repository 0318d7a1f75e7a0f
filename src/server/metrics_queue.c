/*
 * metrics_queue.c - what the queue holds, for the metrics (metrics.h):
 * read from the spool beside the running clsmtpd (spool_attach, as
 * "clsmtpd -q" does), so that a scrape costs the daemon nothing.
 */
#include "metrics_queue.h"

#include <string.h>

#include "serve/spool.h"

struct metrics_queue_scan {
	struct spool *sp;
	struct metrics_queue *q;
};

static int metrics_queue_one(void *arg, const char *qid)
{
	struct metrics_queue_scan *s = arg;
	struct spool_envelope env;
	struct cl_err err;
	size_t k, open = 0;

	err_clear(&err);
	if (spool_load(s->sp, qid, &env, &err) < 0)
		return 0; /* delivered since the directory was read */
	for (k = 0; k < env.nrcpt; k++) {
		const struct spool_rcpt *r = &env.rcpt[k];
		if (r->state != SPOOL_PENDING && r->state != SPOOL_DEFERRED)
			continue;
		open++;
		s->q->recipients[r->cls == SPOOL_LOCAL ? METRICS_LOCAL : METRICS_RELAY]++;
		if (r->state == SPOOL_DEFERRED)
			s->q->deferred++;
	}
	if (open > 0) {
		s->q->messages++;
		if (s->q->oldest == 0 || env.arrival < s->q->oldest)
			s->q->oldest = env.arrival;
	}
	spool_env_free(&env);
	return 0;
}

int metrics_queue_read(const char *spooldir, struct metrics_queue *q, struct cl_err *err)
{
	struct metrics_queue_scan s;
	int r;

	memset(q, 0, sizeof(*q));
	if (spool_attach(&s.sp, spooldir, err) < 0)
		return -1;
	s.q = q;
	r = spool_scan(s.sp, metrics_queue_one, &s, err);
	spool_close(s.sp);
	return r == 0 ? 0 : -1;
}
