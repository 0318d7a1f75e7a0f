/*
 * outcome.h - a delivery outcome as a record, not a sentence (Postfix's
 * DSN_BUF is the model): RFC 3463 status, the remote host, its reply code,
 * reply and the stage it answered, our own words when there is no reply,
 * and a lead ("delivery time expired ...") before the last error. The
 * agents fill it, the journal stores its fields, the notices read them;
 * outcome_text is the one place the sentence for people is written.
 */
#ifndef CLSMTP_OUTCOME_H
#define CLSMTP_OUTCOME_H

#include "base/buf.h"
#include "base/err.h"

struct outcome {
	char status[16];     /* "5.1.1"; "" when not known (a notice says 5.0.0) */
	enum cl_stage stage; /* what the reply answered */
	int code;            /* the remote reply code, 0 when there is none */
	char *mta;           /* the remote host, or NULL */
	char *reply;         /* the remote reply on one line, or NULL */
	char *note;          /* our own words, or NULL */
	char *lead;          /* said before "; last error: ", or NULL */
};

void outcome_init(struct outcome *o);
void outcome_free(struct outcome *o);
/* Copy src into o (o is freed first). -1 when out of memory. */
int outcome_copy(struct outcome *o, const struct outcome *src);
/* Our own words, with an RFC 3463 status or NULL. */
int outcome_note(struct outcome *o, const char *status, const char *note);
/* The reply of host mta to stage; the status is its enhanced code when
 * that has the reply's class, else "C.0.0". */
int outcome_reply(struct outcome *o, const char *mta, enum cl_stage stage, int code,
                  const char *enh, const char *reply);
/* What an error says: its reply when it carries one (err_reply), else its
 * message as our own words (status: its enh). mta may be NULL. */
int outcome_from_err(struct outcome *o, const char *mta, const struct cl_err *e);
/* o becomes "lead; last error: <last>" with status 4.4.7 (last may be NULL:
 * no error yet). */
int outcome_expired(struct outcome *o, const char *lead, const struct outcome *last);
/* The sentence for people (journal readers, logs, the notice's first part):
 * "host H said: REPLY (in reply to STAGE)", "host H: NOTE", NOTE, ... */
void outcome_text(const struct outcome *o, struct buf *out);
/* The remote host and reply to report (Remote-MTA, Diagnostic-Code), or NULL. */
const char *outcome_remote_mta(const struct outcome *o);
const char *outcome_remote_reply(const struct outcome *o);

/* The journal's fields (docs/spool.md): STATUS STAGE CODE MTA REPLY NOTE
 * LEAD, TAB-separated, each one line without TAB and bounded. */
#define OUTCOME_NFIELDS 7
int outcome_format(const struct outcome *o, struct buf *out);
/* Read those fields back. -1 if they are not fields of an outcome. */
int outcome_parse(struct outcome *o, char *const *f, size_t n);
/* A record of release 1 held only the sentence: recover the fields from
 * it (the form relay.c and deliver.c wrote; anything else is a note). */
int outcome_from_text(struct outcome *o, const char *text);

#endif
