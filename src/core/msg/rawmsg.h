/*
 * rawmsg.h - a whole RFC 5322 message handed to us as it is (--raw, and
 * sendmail mode). Read once from its file descriptor with every line end
 * made CRLF: the header section is kept in memory (bounded), the body goes
 * to an unlinked temporary file. Header questions (sendmail -t's
 * recipients, a field's value) are answered from the header section; the
 * message is streamed (msgstream.h) with Bcc left out and the From, Date
 * and Message-ID it lacks added. Memory does not grow with the body.
 */
#ifndef CLSMTP_RAWMSG_H
#define CLSMTP_RAWMSG_H

#include <stddef.h>
#include <time.h>

#include "base/buf.h"
#include "base/err.h"
#include "msg/msgstream.h"

/* Largest header section we keep, and so the longest header line
 * (Postfix's header_size_limit is 100 KB). */
#define RAWMSG_HEADER_MAX (1024 * 1024)

enum rawmsg_mode {
	/* --raw: the input must be a message: empty input, a first line
	 * that is folded, a line that is neither a field nor a continuation
	 * before the empty line are errors. Bcc is left out; the fields added
	 * go before the header; no empty line is added. */
	RAWMSG_RAW,
	/* sendmail: whatever comes is sent. The header section ends at the
	 * first line that is not a field (that line starts the body); input
	 * without one gets a header section; an empty line always ends it.
	 * Bcc and Resent-Bcc are left out; the fields added go after the
	 * header. */
	RAWMSG_SENDMAIL,
};

/* The fields rawmsg_complete adds when the message lacks them. */
struct rawmsg_add {
	int add_date;             /* add Date: */
	time_t date;              /* for that Date:, 0: now */
	const char *msgid_domain; /* add Message-ID: with this right-hand side; NULL: don't */
	const char *from_addr;    /* add From: with this address; NULL: don't */
	const char *from_name;    /* its display name (sendmail -F), or NULL */
	/* msmtp's header keys (set_from_header on, remove_bcc_headers off,
	 * undisclosed_recipients on): */
	int replace_from;         /* the message's From is dropped, ours added */
	int keep_bcc;             /* Bcc (and Resent-Bcc) are sent */
	int undisclosed;          /* To, Cc, Bcc dropped; "To: undisclosed-recipients:;" */
};

struct rawmsg {
	enum rawmsg_mode mode;
	int fd;            /* the body, unlinked; -1 before rawmsg_spool */
	long long size;    /* octets in it */
	struct buf header; /* the header section read: CRLF lines, Bcc included (for -t),
	                      without an mbox "From " line and the empty line */
	struct buf added;  /* the fields rawmsg_complete chose to add */
	int had_header;    /* the input began with a header section */
	int blank;         /* an empty line ended it */
	int is_8bit;       /* an octet above 127 in what is sent: BODY=8BITMIME */
	int has_date, has_msgid, has_from;
	size_t dropped; /* fields that are left out (Bcc) */
	size_t nadded;  /* fields in added */
	int replace_from, keep_bcc, undisclosed; /* from rawmsg_complete's rawmsg_add */
};

void rawmsg_init(struct rawmsg *m, enum rawmsg_mode mode);
/* Read fd to its end, the body into a file in $TMPDIR or /tmp. A leading
 * mbox "From " line is dropped. dot_ends (RAWMSG_SENDMAIL only: sendmail
 * without -i or -oi): a line holding only "." ends the message, the rest
 * of the input is read and ignored. Errors: CL_EIO, CL_EDATA (a header
 * section larger than RAWMSG_HEADER_MAX; in RAWMSG_RAW the input errors
 * above). */
int rawmsg_spool(struct rawmsg *m, int fd, int dot_ends, struct cl_err *err);

/* The first field called name (case-insensitive), unfolded (CRLFs of
 * continuation lines removed), without the name and the colon, trimmed.
 * 1 found, 0 not found, -1 too long for value. */
int rawmsg_header_get(const struct rawmsg *m, const char *name, struct buf *value);

/* The recipients sendmail -t takes: the addresses of every To, Cc and Bcc
 * field, or of Resent-To, Resent-Cc and Resent-Bcc when any Resent- field
 * of these is present (RFC 5322 3.6.6). cb is called once per address
 * (rawmsg_addr_list). */
int rawmsg_recipients(const struct rawmsg *m, int (*cb)(void *arg, const char *addr), void *arg,
                      struct cl_err *err);

/* Choose the fields to add (a: which ones, when missing): From, then Date,
 * then Message-ID. Done once, before connecting, so that a message sent
 * again (the offline queue) keeps them. */
int rawmsg_complete(struct rawmsg *m, const struct rawmsg_add *a, struct cl_err *err);

/* Append the message to ms: the header section without Bcc, the fields
 * added (before or after it, by the mode), the empty line (in RAWMSG_RAW
 * only if the input had one), then the body from the spool file, read as
 * ms is read, from its start (msgstream_rewind reads it again). */
int rawmsg_stream(struct rawmsg *m, struct msgstream *ms, struct cl_err *err);

void rawmsg_free(struct rawmsg *m);

#endif
