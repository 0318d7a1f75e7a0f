/*
 * mime.h - the MIME body of a message (RFC 2045, 2046): one text part, or
 * multipart/alternative (text + HTML), or multipart/mixed with attachments,
 * written to a msgstream so that attachments are streamed. Text is converted
 * to the wire charset and gets the lightest transfer encoding its content
 * allows; attachments are base64; parameters are RFC 2231 when not ASCII.
 */
#ifndef CLSMTP_MIME_H
#define CLSMTP_MIME_H

#include "msg/attach.h"
#include "msg/charset.h"
#include "msg/hdr.h"
#include "msg/msgstream.h"

/* Percentage of encoded octets above which base64 beats quoted-printable:
 * each encoded octet costs 3 in QP, base64 costs 4/3 for all. */
#define MIME_QP_MAX_PERCENT 16
/* Tries at a boundary that occurs in no text part (128 random bits). */
#define MIME_BOUNDARY_TRIES 8

struct mime_params {
	struct charset *cs; /* wire charset of text parts */
	int label_ascii;    /* label text that is all ASCII "US-ASCII" */
	const char *text;   /* UTF-8, any line ends (made CRLF) */
	size_t text_len;
	const char *html; /* NULL: no HTML alternative */
	size_t html_len;
	struct attach *att; /* attachments, in order */
	size_t natt;
	int allow_8bit; /* the server offers 8BITMIME */
};

struct mime_result {
	int is_8bit; /* a part is 8bit: BODY=8BITMIME */
};

/* Append the content fields (Content-Type, Content-Transfer-Encoding), the
 * empty line that ends the header, and the body to ms. MIME-Version is the
 * caller's. Errors: CL_EDATA (text the charset cannot hold, too large). */
int mime_build(const struct mime_params *p, struct msgstream *ms, struct mime_result *res,
               struct cl_err *err);

/* The pieces, for tests. */
struct mime_param {
	const char *attr;
	const char *value; /* UTF-8 */
};
/* "Name: value; attr=value; ..." folded at 78 columns, ending in CRLF;
 * values as tokens, quoted strings, or RFC 2231 (charset UTF-8, split in
 * numbered sections that never split a character) when not ASCII or too long. */
int mime_field(struct buf *out, const char *name, const char *value, const struct mime_param *ps,
               size_t n);
/* The transfer encoding for text (canonical CRLF) in its wire charset:
 * "7bit", "8bit" (only if allow_8bit), "quoted-printable" or "base64". */
const char *mime_choose_cte(const char *text, size_t len, int allow_8bit);
/* Append text encoded as cte. */
int mime_encode(const char *cte, const char *text, size_t len, struct buf *out);
/* A fresh boundary: "=_clsmtpc_" and 32 hex digits (cannot occur in base64
 * or quoted-printable text). */
int mime_boundary(struct buf *out);

#endif
