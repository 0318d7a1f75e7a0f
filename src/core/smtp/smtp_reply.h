/*
 * smtp_reply.h - sans-I/O parser for SMTP server replies (RFC 5321 4.2),
 * fed one line at a time (the line without its CRLF), producing a complete,
 * possibly multi-line reply with its enhanced status code (RFC 3463).
 * Bounded: at most SMTP_REPLY_LINES_MAX lines of SMTP_REPLY_LINE_MAX bytes.
 */
#ifndef CLSMTP_SMTP_REPLY_H
#define CLSMTP_SMTP_REPLY_H

#include <stddef.h>

#include "base/buf.h"
#include "base/err.h"

/* RFC 5321 4.5.3.1.5 says 512 octets; real servers exceed it a little. */
#define SMTP_REPLY_LINE_MAX 2048
/* An endless multi-line reply is an attack, not an EHLO. */
#define SMTP_REPLY_LINES_MAX 128

struct smtp_reply {
	int code;        /* 200..599; 0 while incomplete */
	char enh[16];    /* enhanced status code "x.y.z" of the first line, or "" */
	struct buf text; /* the lines' texts after "NNN-"/"NNN ", joined by '\n' */
	size_t nlines;   /* lines received so far */
	int complete;    /* 1 after the final "NNN " (or bare "NNN") line */
	int first_code;  /* parser state: the first line's code while incomplete */
};

void smtp_reply_init(struct smtp_reply *r);
/* Forget the current reply to parse the next one (keeps the allocation). */
void smtp_reply_reset(struct smtp_reply *r);
void smtp_reply_free(struct smtp_reply *r);
/*
 * Feed one line (without CR LF). Returns 1 when the reply is complete,
 * 0 when more lines are needed, -1 on a protocol violation (err, CL_EPROTO):
 * no 3-digit code 200-599, code changes between lines, bad separator,
 * NUL byte, line too long, too many lines.
 */
int smtp_reply_feed(struct smtp_reply *r, const char *line, size_t len, struct cl_err *err);
/* The first line's text, for one-line error messages ("550 5.1.1 no such user"). */
const char *smtp_reply_first_line(const struct smtp_reply *r, struct buf *scratch);
/* "550 5.1.1 text" of the whole reply on one line (lines joined with " / "). */
const char *smtp_reply_summary(const struct smtp_reply *r, struct buf *scratch);

#endif
