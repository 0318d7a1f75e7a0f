/*
 * rawmsg.h - a whole RFC 5322 message handed to us as it is (sendmail mode,
 * --raw): read its header fields and address lists (for sendmail -t), drop
 * Bcc, add the Date, Message-ID and From it lacks. Input is already in
 * canonical CRLF form (smtp_data_canonicalize); sans-I/O, no clock except
 * when asked for the current date.
 */
#ifndef CLSMTP_RAWMSG_H
#define CLSMTP_RAWMSG_H

#include <stddef.h>
#include <time.h>

#include "buf.h"
#include "err.h"

/* Longest address we pass on (RFC 5321 4.5.3.1.3 path, plus slack for
 * quoting in the header form). */
#define RAWMSG_ADDR_MAX 512

struct rawmsg_opts {
	int strip_bcc;            /* remove Bcc: and Resent-Bcc: (sendmail does) */
	int add_date;             /* add Date: when missing */
	time_t date;              /* for that Date:, 0: now */
	const char *msgid_domain; /* add Message-ID: when missing; NULL: don't */
	const char *from_addr;    /* add From: when missing; NULL: don't */
	const char *from_name;    /* its display name (sendmail -F), or NULL */
};

struct rawmsg_info {
	int had_header; /* the input began with a header section */
	int is_8bit;    /* some octet > 127 (BODY=8BITMIME) */
	int added;      /* how many fields we added */
	int removed;    /* how many fields we removed */
};

/* Write the message to send into out: the header section (Bcc removed,
 * missing fields added), an empty line, the body. A leading mbox "From "
 * line is dropped; input without a header section gets one. */
int rawmsg_prepare(const char *in, size_t len, const struct rawmsg_opts *o, struct buf *out,
                   struct rawmsg_info *info, struct cl_err *err);

/* The first field called name (case-insensitive), unfolded (CRLFs of
 * continuation lines removed), without the name and the colon, trimmed.
 * 1 found, 0 not found, -1 too long. */
int rawmsg_header_get(const char *msg, size_t len, const char *name, struct buf *value);

/* The recipients sendmail -t takes: the addresses of every To, Cc and Bcc
 * field, or of Resent-To, Resent-Cc and Resent-Bcc when any Resent- field
 * of these is present (RFC 5322 3.6.6). cb is called once per address. */
int rawmsg_recipients(const char *msg, size_t len, int (*cb)(void *arg, const char *addr),
                      void *arg, struct cl_err *err);

/* An RFC 5322 address-list ("A <a@x>, b@y (Bob), group: c@z;") into its
 * addr-specs, calling cb on each: display names, comments, group names and
 * source routes are dropped; an address without '@' is passed as it is
 * (the caller decides: aliases or an error). Empty groups give nothing. */
int rawmsg_addr_list(const char *value, int (*cb)(void *arg, const char *addr), void *arg,
                     struct cl_err *err);

#endif
