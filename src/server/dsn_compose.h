/*
 * dsn_compose.h - the RFC 3464 delivery status report (in an RFC 6522
 * multipart/report) of a failure or success notice, composed in memory
 * with no I/O: what it says about which recipients, and the original or
 * its header section. dsn.h decides who gets one and queues it.
 */
#ifndef CLSMTPD_DSN_COMPOSE_H
#define CLSMTPD_DSN_COMPOSE_H

#include <stddef.h>
#include <time.h>

#include "base/buf.h"
#include "serve/spool.h"

/* Postfix bounce_size_limit: a notice returns at most this much of the
 * original message; beyond it, only the header section. */
#define DSN_RETURN_MAX 50000
/* One notice reports on this many recipients at most (more: several). */
#define DSN_RCPT_MAX 100
/* A notice is never larger than this: the returned part plus the report
 * (each recipient's reason is at most a journal line, twice). */
#define DSN_MAX (DSN_RETURN_MAX + DSN_RCPT_MAX * 2 * SPOOL_LINE_MAX + 64 * 1024)

/* The RFC 3464 2.3.3 Action of every recipient a notice reports on. */
enum dsn_action {
	DSN_FAILED,    /* failed for good (the default: zero) */
	DSN_DELIVERED, /* put into the recipient's mailbox */
	DSN_RELAYED,   /* accepted by a next hop that does not offer DSN */
};

/* What a notice says about the message it reports on. */
struct dsn_report {
	const char *hostname;             /* Reporting-MTA, From: MAILER-DAEMON@ */
	const char *notice_qid;           /* the notice's own queue ID */
	time_t now;                       /* Date:, Last-Attempt-Date: */
	const struct spool_envelope *env; /* the original envelope */
	const size_t *rcpt;               /* indexes of the recipients reported */
	size_t nrcpt;
	const char *orig; /* the original message (CRLF) */
	size_t orig_len;
	int orig_complete; /* orig is the whole message */
	enum dsn_action action;
	const char *status;            /* NULL: each recipient's (its outcome's) */
	const struct outcome *outcome; /* NULL: each recipient's last outcome */
};

/* Compose the notice (CRLF lines, no Received:) into out. */
int dsn_compose(const struct dsn_report *r, struct buf *out);
/* The Date: form of t (RFC 5322 3.3) in local time; n >= 64. */
void dsn_date(time_t t, char *out, size_t n);
/* 1 if the MAIL FROM parameters (space-separated words) hold word whole. */
int dsn_has_param(const char *params, const char *word);

#endif
