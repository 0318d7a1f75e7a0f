/*
 * spool_env.h - the spool's text formats without any I/O (docs/spool.md):
 * the envelope block of msg/QID and the records of state/QID, written into
 * a struct buf and read back from bytes fed in any pieces. spool.c does the
 * files; unit tests and tests/fuzz/fuzz_spool_env.c drive this directly.
 */
#ifndef CLSMTP_SPOOL_ENV_H
#define CLSMTP_SPOOL_ENV_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "base/buf.h"
#include "serve/spool.h"

/* The envelope block, "clsmtpd-spool 1" to "data" (each line LF-ended). */
int spool_env_format(const struct spool_envelope *e, struct buf *out);
/* One journal record (LF-ended): kind, recipient n, time of the attempt,
 * next try (written only for 'T') and the outcome's fields (outcome.h). */
int spool_journal_format(struct buf *out, char kind, size_t n, time_t when, time_t next_try,
                         const struct outcome *o);
/* Apply one journal record (the line without its LF, changed in place) to
 * e: the recipient's state, attempts, next try and last outcome. Reads the
 * records of release 1 too (their one TEXT field: outcome_from_text). -1
 * if it is not a record of e. */
int spool_journal_apply(struct spool_envelope *e, char *line);

/* Reads an envelope block (SPOOL_READ_ENVELOPE: checks the first line,
 * stops after "data") or a journal (SPOOL_READ_JOURNAL: applies each
 * complete record; a last line without LF is ignored) from bytes fed in
 * pieces. Every line is bounded by SPOOL_LINE_MAX. */
enum spool_read_mode { SPOOL_READ_ENVELOPE, SPOOL_READ_JOURNAL };

struct spool_reader {
	enum spool_read_mode mode;
	struct buf line;
	int first;      /* the version line is still to come */
	off_t consumed; /* bytes taken so far */
};

void spool_reader_init(struct spool_reader *r, enum spool_read_mode mode);
void spool_reader_free(struct spool_reader *r);
/* Feed n bytes. Returns 1 when the envelope's "data" line ended it (the
 * message starts at r->consumed; bytes after it are left alone), 0 when
 * more is wanted, -1 when the text is damaged (an envelope: unusable; a
 * journal: the records before the damaged one are applied). */
int spool_reader_feed(struct spool_reader *r, struct spool_envelope *e, const char *p, size_t n);

#endif
