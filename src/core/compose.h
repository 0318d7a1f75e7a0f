/*
 * compose.h - build an RFC 5322 message from a body and a few fields, as the
 * original clsmtpc did, but correctly: CRLF line endings only, RFC 2047
 * encoded-words for non-ASCII Subject and display names, RFC 5322 Date, a
 * unique Message-ID, MIME headers, and a transfer encoding chosen so no line
 * exceeds 998 octets. Dot-stuffing is NOT done here (see smtp_data.h).
 */
#ifndef CLSMTP_COMPOSE_H
#define CLSMTP_COMPOSE_H

#include <stddef.h>
#include <time.h>

#include "buf.h"
#include "err.h"

/* RFC 5322 2.1.1: lines must be no more than 998 characters + CRLF. */
#define MSG_LINE_MAX 998
/* Largest message we build in memory (the body of a script's alert). */
#define MSG_MAX (64u * 1024 * 1024)

struct compose_params {
	const char *from_addr; /* From: address (required) */
	const char *from_name; /* display name, UTF-8, or NULL */
	const char *const *to; /* To: addresses */
	size_t nto;
	const char *subject; /* UTF-8, or NULL for no Subject: */
	const char *body;    /* body bytes, LF or CRLF line ends, UTF-8 */
	size_t body_len;
	const char *mailer;       /* X-Mailer: value, e.g. "clsmtpc-1.0.0" */
	const char *msgid_domain; /* right-hand side of Message-ID */
	time_t date;              /* 0: now */
};

struct compose_result {
	int is_8bit; /* the message has octets > 127 (needs 8BITMIME) */
};

/* Build the whole message (header, empty line, body) into out, every line
 * ending in CRLF. Errors (CL_EDATA): CR/LF/NUL in a header field, invalid
 * UTF-8 in subject or name, body not valid UTF-8 nor ASCII, too large. */
int compose_message(const struct compose_params *p, struct buf *out, struct compose_result *res,
                    struct cl_err *err);

/* The pieces, exported for tests and for later modules. */
/* RFC 5322 3.3 date in the local zone: "Mon, 10 Sep 2018 19:59:14 +0900". */
int compose_date(time_t t, struct buf *out);
/* "<20181010195914.3f2a9c0d1e7b@domain>": time plus 64 random bits (OpenSSL RAND). */
int compose_message_id(const char *domain, struct buf *out);
/* Append s as RFC 2047 B-encoded UTF-8 words (each <= 75 chars, never
 * splitting a UTF-8 sequence) if it is not ASCII, else as is. */
int compose_encode_words(const char *s, struct buf *out);

#endif
