/*
 * spool.h - clsmtpd's durable message spool (format and guarantees in
 * docs/spool.md): a message is committed by temp file, write, fsync,
 * rename and fsync of the directory; each recipient's outcome is an
 * fsynced line in the message's journal, so a restart resumes exactly.
 */
#ifndef CLSMTP_SPOOL_H
#define CLSMTP_SPOOL_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>
#include "base/buf.h"
#include "base/err.h"
#include "serve/outcome.h"

#define SPOOL_QID_LEN 20
/* Journal lines and envelope lines are at most this long. */
#define SPOOL_LINE_MAX 4096
/* A message never has more recipients than this (clsmtpd.conf limits it lower). */
#define SPOOL_RCPT_MAX 10000

enum spool_class { SPOOL_LOCAL, SPOOL_RELAY };
enum spool_rstate {
	SPOOL_PENDING,   /* no outcome yet */
	SPOOL_DEFERRED,  /* temporary failure; next_try says when again */
	SPOOL_DELIVERED, /* final */
	SPOOL_FAILED,    /* final; a failure notice is due (part 2) */
	SPOOL_BOUNCED,   /* final; the failure notice has been queued */
};

struct spool_rcpt {
	char *addr; /* envelope recipient */
	enum spool_class cls;
	char *target; /* Maildir for local, "-" for relay */
	char *notify; /* RFC 3461 NOTIFY= or "-" */
	char *orcpt;  /* RFC 3461 ORCPT= or "-" */
	enum spool_rstate state;
	int attempts;    /* T records so far */
	time_t next_try; /* for SPOOL_DEFERRED */
	struct outcome last; /* the outcome of the last record */
	char *last_text;     /* its sentence (outcome_text), or NULL */
};

struct spool_envelope {
	char qid[SPOOL_QID_LEN + 1];
	time_t arrival;
	char *client, *helo, *auth; /* auth "-" when none */
	char *from;                 /* "" for <> */
	char *from_params;          /* "-" when none */
	struct spool_rcpt *rcpt;
	size_t nrcpt, cap;
	off_t data_offset; /* where the message starts in msg/QID */
};

struct spool;
struct spool_writer;

/* Open (creating when missing) the spool at dir and recover: remove tmp/
 * leftovers and journals without a message. */
int spool_open(struct spool **out, const char *dir, struct cl_err *err);
/* Open an existing spool beside a running clsmtpd (clsmtpd -q): nothing is
 * created and nothing is recovered (a tmp/ file may be a reception). */
int spool_attach(struct spool **out, const char *dir, struct cl_err *err);
void spool_close(struct spool *sp);
const char *spool_dir(const struct spool *sp);

/* Envelopes: build one for the writer, free one from spool_load. */
void spool_env_init(struct spool_envelope *e);
int spool_env_add_rcpt(struct spool_envelope *e, const char *addr, enum spool_class cls,
                       const char *target, const char *notify, const char *orcpt);
void spool_env_free(struct spool_envelope *e);

/* Reception: begin picks the QID (into env->qid) and writes the envelope
 * to tmp/QID; write appends message bytes; commit makes it durable (only
 * then may 250 be sent); abort removes the temporary file. */
int spool_writer_begin(struct spool *sp, struct spool_envelope *env, struct spool_writer **out,
                       struct cl_err *err);
int spool_writer_write(struct spool_writer *w, const void *p, size_t n, struct cl_err *err);
off_t spool_writer_size(const struct spool_writer *w);
int spool_writer_commit(struct spool_writer *w, struct cl_err *err);
/* Commit n writers together (the group commit of clsmtpd's reception):
 * result[i] is 0 (durable: 250 may be sent) or -1 with errs[i] set. Every
 * writer is consumed. Touches nothing but the writers and the spool's
 * directory descriptors, so it may run in a thread of its own while the
 * event loop begins and writes other messages. */
void spool_commit_batch(struct spool_writer **w, size_t n, int *result, struct cl_err *errs);
/* The QID of a writer (for the logs of a commit done elsewhere). */
const char *spool_writer_qid(const struct spool_writer *w);
void spool_writer_abort(struct spool_writer *w);

/* Call cb for every committed QID (in no particular order); stops when cb
 * returns non-zero and returns that value. */
int spool_scan(struct spool *sp, int (*cb)(void *arg, const char *qid), void *arg,
               struct cl_err *err);
/* Read msg/QID's envelope and apply the journal. */
int spool_load(struct spool *sp, const char *qid, struct spool_envelope *env, struct cl_err *err);
/* A read-only descriptor on msg/QID positioned at the message's first byte. */
int spool_data_fd(struct spool *sp, const struct spool_envelope *env, struct cl_err *err);
/* Journal an outcome for recipient n: kind 'D', 'F', 'T' (with next_try)
 * or 'B'; the line is fsynced before this returns. Updates env too. */
int spool_record(struct spool *sp, struct spool_envelope *env, size_t n, char kind, time_t next_try,
                 const struct outcome *o, struct cl_err *err);
/* 1 if every recipient is final. */
int spool_all_final(const struct spool_envelope *env);
/* Remove msg/QID then state/QID (each durable) once every recipient is final. */
int spool_finish(struct spool *sp, const struct spool_envelope *env, struct cl_err *err);
/* The same without flushing the directories, for an agent finishing a
 * batch: it calls spool_sync once after the batch. Until then a crash may
 * bring the message back (delivered again, never lost). */
int spool_finish_lazy(struct spool *sp, const struct spool_envelope *env, struct cl_err *err);
/* Flush msg/, and state/ if a journal was removed since the last call (the
 * removals of spool_finish_lazy). */
int spool_sync(struct spool *sp, struct cl_err *err);
/* 1 if qid has the QID form (safe as a file name). */
int spool_qid_valid(const char *qid);
const char *spool_rstate_name(enum spool_rstate s);

#endif
