/*
 * compose.h - build an RFC 5322 message from a body and the command line's
 * fields: CRLF line endings only, RFC 2047 encoded-words (in the wire
 * charset) for non-ASCII Subject, display names and -H values, RFC 5322 Date,
 * a unique Message-ID, and the MIME body of mime.h (text, HTML alternative,
 * streamed attachments). Dot-stuffing is NOT done here (see smtp_data.h).
 */
#ifndef CLSMTP_COMPOSE_H
#define CLSMTP_COMPOSE_H

#include <stddef.h>
#include <time.h>

#include "msg/attach.h"
#include "base/buf.h"
#include "base/err.h"
#include "msg/msgstream.h"

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
	/* MIME (all optional: zero is the plain text message above). */
	const char *const *cc; /* Cc: addresses */
	size_t ncc;
	const char *reply_to;       /* "Name <addr>, addr" */
	const char *in_reply_to;    /* "<id>" (the <> may be left out) */
	const char *references;     /* "<id> <id> ..." */
	const char *const *headers; /* -H "Name: value" */
	size_t nheaders;
	const char *charset; /* wire charset; NULL: UTF-8 (US-ASCII if ASCII) */
	const char *html;    /* HTML alternative of the body, UTF-8 */
	size_t html_len;
	struct attach *att; /* attachments (opened) */
	size_t natt;
	int allow_8bit;     /* the server offers 8BITMIME */
	int ascii_addrs;    /* no SMTPUTF8: A-labels; non-ASCII local part refused */
	const char *server; /* names the server in those errors */
};

struct compose_result {
	int is_8bit;  /* the message has octets > 127 (needs 8BITMIME) */
	int smtputf8; /* the header holds UTF-8 addresses (needs SMTPUTF8) */
};

/* Build the message as a stream (attachments are read only as ms is read):
 * header, empty line, body, every line ending in CRLF. Errors (CL_EDATA):
 * CR/LF/NUL in a header field, invalid UTF-8, text the charset cannot hold,
 * a -H field that is malformed or one of ours, too large; CL_EUSAGE: an
 * unknown charset; CL_EUNAVAIL: a non-ASCII local part with ascii_addrs. */
int compose_stream(const struct compose_params *p, struct msgstream *ms, struct compose_result *res,
                   struct cl_err *err);
/* The same, read whole into out (on failure out is unchanged). */
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
