/*
 * commit.c - the group commit (commit.h). One thread takes every job queued
 * since its last batch and commits them with spool_commit_batch; while it
 * waits on the disk the event loop keeps receiving, so the next batch grows
 * with the load and the cost of a flush is shared by all its messages. The
 * thread and the loop share only the job queue, under one mutex; the loop
 * is woken through a pipe.
 */
#include "commit.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct commit_job {
	struct commit_job *next;
	struct committer *c;
	struct spool_writer *w;
	char qid[SPOOL_QID_LEN + 1];
	int done, orphan, result;
	struct cl_err err;
};

struct committer {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct commit_job *queue, **tail; /* waiting for the thread */
	struct commit_job *orphans;       /* done, their owner gone */
	int stop;
	int pipe[2];
	/* The thread's own batch (not shared). */
	struct commit_job *batch[COMMIT_BATCH_MAX];
	struct spool_writer *w[COMMIT_BATCH_MAX];
	int result[COMMIT_BATCH_MAX];
	struct cl_err errs[COMMIT_BATCH_MAX];
};

static void committer_wake_loop(struct committer *c)
{
	char x = 1;

	if (write(c->pipe[1], &x, 1) < 0) {
		/* EAGAIN: a wake-up is pending already */
	}
}

/* Under the mutex: a done job whose owner is gone waits for collect. */
static void committer_orphan_locked(struct committer *c, struct commit_job *j)
{
	j->next = c->orphans;
	c->orphans = j;
}

static void committer_run_batch(struct committer *c, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		c->w[i] = c->batch[i]->w;
		c->batch[i]->w = NULL;
		err_clear(&c->errs[i]);
	}
	spool_commit_batch(c->w, n, c->result, c->errs);
	pthread_mutex_lock(&c->mu);
	for (i = 0; i < n; i++) {
		struct commit_job *j = c->batch[i];
		j->result = c->result[i];
		j->err = c->errs[i];
		j->done = 1;
		if (j->orphan)
			committer_orphan_locked(c, j);
	}
	pthread_mutex_unlock(&c->mu);
	committer_wake_loop(c);
}

static void *committer_main(void *arg)
{
	struct committer *c = arg;

	pthread_mutex_lock(&c->mu);
	for (;;) {
		size_t n = 0;
		while (c->queue == NULL && !c->stop)
			pthread_cond_wait(&c->cv, &c->mu);
		if (c->queue == NULL)
			break; /* stopping, and nothing left */
		while (c->queue != NULL && n < COMMIT_BATCH_MAX) {
			c->batch[n++] = c->queue;
			c->queue = c->queue->next;
		}
		if (c->queue == NULL)
			c->tail = &c->queue;
		pthread_mutex_unlock(&c->mu);
		committer_run_batch(c, n);
		pthread_mutex_lock(&c->mu);
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

int committer_start(struct committer **out, struct cl_err *err)
{
	struct committer *c = calloc(1, sizeof(*c));
	sigset_t all, old;
	int r;

	if (c == NULL)
		return err_set(err, CL_ESOFTWARE, "commit: out of memory");
	if (pipe2(c->pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		err_set(err, CL_EIO, "commit: pipe: %s", strerror(errno));
		free(c);
		return -1;
	}
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	c->tail = &c->queue;
	/* Signals stay with the event loop's thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&c->thread, NULL, committer_main, c);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0) {
		err_set(err, CL_EIO, "commit: thread: %s", strerror(r));
		close(c->pipe[0]);
		close(c->pipe[1]);
		pthread_mutex_destroy(&c->mu);
		pthread_cond_destroy(&c->cv);
		free(c);
		return -1;
	}
	*out = c;
	return 0;
}

int committer_fd(const struct committer *c)
{
	return c->pipe[0];
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
	pthread_mutex_lock(&c->mu);
	*c->tail = j;
	c->tail = &j->next;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
	return j;
}

void committer_collect(struct committer *c, void (*orphan)(void *arg, const char *qid, int ok),
                       void *arg)
{
	struct commit_job *list, *next;
	char drain[64];

	while (read(c->pipe[0], drain, sizeof(drain)) > 0) {
	}
	pthread_mutex_lock(&c->mu);
	list = c->orphans;
	c->orphans = NULL;
	pthread_mutex_unlock(&c->mu);
	for (; list != NULL; list = next) {
		next = list->next;
		if (orphan != NULL)
			orphan(arg, list->qid, list->result == 0);
		free(list);
	}
}

void committer_stop(struct committer *c, void (*orphan)(void *arg, const char *qid, int ok),
                    void *arg)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&c->mu);
	c->stop = 1;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
	pthread_join(c->thread, NULL);
	committer_collect(c, orphan, arg);
	close(c->pipe[0]);
	close(c->pipe[1]);
	pthread_mutex_destroy(&c->mu);
	pthread_cond_destroy(&c->cv);
	free(c);
}

int commit_job_done(struct commit_job *j)
{
	int d;

	pthread_mutex_lock(&j->c->mu);
	d = j->done;
	pthread_mutex_unlock(&j->c->mu);
	return d;
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
	struct committer *c = j->c;
	int done;

	pthread_mutex_lock(&c->mu);
	j->orphan = 1;
	done = j->done;
	if (done)
		committer_orphan_locked(c, j);
	pthread_mutex_unlock(&c->mu);
	if (done)
		committer_wake_loop(c);
}
