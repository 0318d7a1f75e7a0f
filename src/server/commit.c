/*
 * commit.c - the group commit (commit.h). Jobs queue up while the event
 * loop serves its sessions; committer_run, at the end of the loop's turn,
 * commits them all at once, so one directory flush (and on a journalling
 * file system one journal commit) serves every message that ended in that
 * turn, and the cost per message falls as concurrency grows. It runs in the
 * event loop's own thread: on the virtual machines we measured, merely
 * having a second thread alive made bursts of new connections overflow the
 * listen queue (docs/performance.md), which a thread's overlap of flushing
 * and receiving did not pay for.
 */
#include "commit.h"

#include <stdlib.h>
#include <string.h>

struct commit_job {
	struct commit_job *next;
	struct committer *c;
	struct spool_writer *w;
	char qid[SPOOL_QID_LEN + 1];
	int done, orphan, result;
	struct cl_err err;
};

struct committer {
	struct commit_job *queue, **tail;
	void (*orphan)(void *arg, const char *qid, int ok);
	void *arg;
	/* One batch's working arrays. */
	struct commit_job *batch[COMMIT_BATCH_MAX];
	struct spool_writer *w[COMMIT_BATCH_MAX];
	int result[COMMIT_BATCH_MAX];
	struct cl_err errs[COMMIT_BATCH_MAX];
};

int committer_new(struct committer **out, void (*orphan)(void *arg, const char *qid, int ok),
                  void *arg, struct cl_err *err)
{
	struct committer *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return err_set(err, CL_ESOFTWARE, "commit: out of memory");
	c->tail = &c->queue;
	c->orphan = orphan;
	c->arg = arg;
	*out = c;
	return 0;
}

void committer_free(struct committer *c)
{
	if (c == NULL)
		return;
	committer_run(c);
	free(c);
}

struct commit_job *committer_submit(struct committer *c, struct spool_writer *w)
{
	struct commit_job *j = calloc(1, sizeof(*j));
	const char *qid = spool_writer_qid(w);

	if (j == NULL)
		return NULL;
	j->c = c;
	j->w = w;
	memcpy(j->qid, qid, strlen(qid) + 1);
	*c->tail = j;
	c->tail = &j->next;
	return j;
}

int committer_pending(const struct committer *c)
{
	return c->queue != NULL;
}

/* A job done after its owner left: say so, and free it. */
static void committer_report_orphan(struct commit_job *j)
{
	if (j->c->orphan != NULL)
		j->c->orphan(j->c->arg, j->qid, j->result == 0);
	free(j);
}

void committer_run(struct committer *c)
{
	while (c->queue != NULL) {
		size_t n = 0, i;

		while (c->queue != NULL && n < COMMIT_BATCH_MAX) {
			c->batch[n] = c->queue;
			c->w[n] = c->queue->w;
			c->queue->w = NULL;
			err_clear(&c->errs[n]);
			c->queue = c->queue->next;
			n++;
		}
		if (c->queue == NULL)
			c->tail = &c->queue;
		spool_commit_batch(c->w, n, c->result, c->errs);
		for (i = 0; i < n; i++) {
			struct commit_job *j = c->batch[i];
			j->result = c->result[i];
			j->err = c->errs[i];
			j->done = 1;
			j->next = NULL;
			if (j->orphan)
				committer_report_orphan(j);
		}
	}
}

int commit_job_done(const struct commit_job *j)
{
	return j->done;
}

int commit_job_finish(struct commit_job *j, struct cl_err *err)
{
	int r = j->result;

	if (r < 0 && err != NULL)
		*err = j->err;
	free(j);
	return r;
}

void commit_job_forget(struct commit_job *j)
{
	if (j->done)
		committer_report_orphan(j);
	else
		j->orphan = 1;
}
