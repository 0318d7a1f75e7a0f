/*
 * commit.h - the group commit of reception: messages whose data has ended
 * are made durable by a thread of their own, together (spool_commit_batch:
 * every file flushed, renamed, the spool directory flushed once), while the
 * event loop goes on receiving; each session's 250 is sent after its batch.
 */
#ifndef CLSMTPD_COMMIT_H
#define CLSMTPD_COMMIT_H

#include "err.h"
#include "spool.h"

/* Messages committed in one batch at most (the rest wait for the next). */
#define COMMIT_BATCH_MAX 256

struct committer;
struct commit_job;

/* Start the thread. It touches only the spool's files: no logging, no
 * signals (all blocked in it), so the agents may be forked beside it. */
int committer_start(struct committer **out, struct cl_err *err);
/* Commit every job still queued, then stop the thread and free it; jobs
 * whose owner is gone are reported to orphan first (see committer_collect). */
void committer_stop(struct committer *c, void (*orphan)(void *arg, const char *qid, int ok),
                    void *arg);
/* Readable when jobs have completed since the last committer_collect. */
int committer_fd(const struct committer *c);

/* Hand a finished writer over (the job owns it from now on). NULL when
 * out of memory: the writer is then still the caller's. */
struct commit_job *committer_submit(struct committer *c, struct spool_writer *w);
/* In the event loop when committer_fd is readable: reports each completed
 * job whose owner has gone (commit_job_forget) to orphan and frees it. */
void committer_collect(struct committer *c, void (*orphan)(void *arg, const char *qid, int ok),
                       void *arg);

/* 1 once the job's result is known. */
int commit_job_done(struct commit_job *j);
/* The result of a done job: 0 durable, -1 with err set; frees the job. */
int commit_job_finish(struct commit_job *j, struct cl_err *err);
/* The owner goes away before the job is done: the committer frees it. */
void commit_job_forget(struct commit_job *j);

#endif
