/*
 * smtp_server_data.h - the server's message reader for DATA and BDAT: it
 * removes dot-stuffing (RFC 5321 4.5.2), finds the end of data, and finds it
 * ONLY at <CRLF>.<CRLF>. A bare CR or LF is never a line end (SMTP smuggling,
 * CVE-2023-51764): it marks the message for refusal, or is normalised to CRLF
 * when configured, and even then never starts a line. Sans-I/O, any chunking.
 */
#ifndef CLSMTP_SMTP_SERVER_DATA_H
#define CLSMTP_SMTP_SERVER_DATA_H

#include <stddef.h>
#include "base/buf.h"

/* Problems found in the message (flags, several may be set). */
#define SMTP_DR_BARE_EOL  1 /* a bare CR or LF (reject mode) */
#define SMTP_DR_LONG_LINE 2 /* a line longer than line_max */
#define SMTP_DR_TOO_BIG   4 /* more than size_max bytes */
#define SMTP_DR_NUL       8 /* a NUL byte: not in 7bit or 8bit data (RFC 2045 2.7, 2.8) */

struct smtp_dreader {
	int dots;           /* 1: DATA (dot-stuffed, ends at CRLF.CRLF); 0: BDAT */
	int normalize;      /* 1: bare CR/LF become CRLF; 0: flag SMTP_DR_BARE_EOL */
	size_t line_max;    /* longest line without CRLF; 0 = no limit */
	long long size_max; /* 0 = no limit */
	int st;             /* byte state (smtp_server_data.c) */
	size_t linelen;
	long long size; /* bytes produced so far */
	unsigned flags;
	int done; /* DATA: end of data seen */
};

void smtp_dreader_init(struct smtp_dreader *r, int dots, int normalize, size_t line_max,
                       long long size_max);
/* Consume bytes of in, appending the message bytes to out (unless a flag
 * other than nothing makes them useless: they are then dropped). Returns how
 * many bytes were consumed; it stops early when out is nearly full (flush it
 * and call again) or, with dots, right after the end of data (r->done). */
size_t smtp_dreader_feed(struct smtp_dreader *r, const char *in, size_t n, struct buf *out);
/* BDAT LAST: the last chunk ended; a CR still waiting for its LF is bare. */
void smtp_dreader_finish(struct smtp_dreader *r, struct buf *out);

#endif
