/*
 * commit.h - the group commit of reception: the sessions whose data ended
 * during one turn of the event loop hand their written files over, and at
 * the end of the turn they are made durable together (spool_commit_batch:
 * every file flushed, renamed, the spool directory flushed once); each
 * session's 250 is queued after that, at the next turn.
 */
#ifndef CLSMTPD_COMMIT_H
#define CLSMTPD_COMMIT_H

#include "base/err.h"
#include "serve/spool.h"

/* Messages committed in one spool_commit_batch at most. */
#define COMMIT_BATCH_MAX 256

struct committer;
struct commit_job;

/* orphan(arg, qid, ok) is told of each message committed after its owner
 * had gone (commit_job_forget): it is durable, so it must be delivered. */
int committer_new(struct committer **out, void (*orphan)(void *arg, const char *qid, int ok),
                  void *arg, struct cl_err *err);
/* Commit what is still queued, then free the committer. */
void committer_free(struct committer *c);

/* Hand a finished writer over (the job owns it from now on). NULL when
 * out of memory: the writer is then still the caller's. */
struct commit_job *committer_submit(struct committer *c, struct spool_writer *w);
/* 1 if jobs wait for committer_run. */
int committer_pending(const struct committer *c);
/* Commit every job queued, in batches of COMMIT_BATCH_MAX. Jobs whose owner
 * has gone are reported to orphan and freed; the others are done, for their
 * owner to finish. */
void committer_run(struct committer *c);

/* 1 once the job's result is known. */
int commit_job_done(const struct commit_job *j);
/* The result of a done job: 0 durable, -1 with err set; frees the job. */
int commit_job_finish(struct commit_job *j, struct cl_err *err);
/* The owner goes away: a queued job is still committed and then reported
 * to orphan; a done one is reported and freed now. */
void commit_job_forget(struct commit_job *j);

#endif
