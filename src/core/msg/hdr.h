/*
 * hdr.h - writing one header field at a time, folded (RFC 5322 2.2.3) so no
 * line exceeds 78 columns where the content allows it, and never 998, with
 * non-ASCII text as RFC 2047 B-encoded UTF-8 words of at most 75 characters
 * that never split a character. Input text is checked by the caller.
 */
#ifndef CLSMTP_HDR_H
#define CLSMTP_HDR_H

#include <stddef.h>

#include "base/buf.h"
#include "msg/charset.h"

/* RFC 5322 2.1.1: lines SHOULD be at most 78 characters. */
#define HDR_FOLD_COL 78
/* RFC 2047 2: an encoded-word is at most 75 characters, and a line holding
 * one at most 76. */
#define HDR_EW_MAX  75
#define HDR_EW_LINE 76
/* Longer unbroken words than this in text go out as encoded-words, which
 * can be split, rather than as one overlong line. */
#define HDR_WORD_MAX (HDR_FOLD_COL - 2)

struct hdr {
	struct buf *out;
	size_t start;       /* out->len before the field, to undo on failure */
	size_t col;         /* characters on the current line */
	int has_token;      /* the current line holds a token after the field name */
	int has_ew;         /* the current line holds an encoded-word */
	int failed;         /* an append failed; everything after is a no-op */
	struct charset *cs; /* charset of encoded-words; NULL: UTF-8 */
	size_t fold_col;    /* fold tokens before this column; 0: HDR_FOLD_COL */
};

/* Start the field "Name:" (encoded-words in UTF-8). */
void hdr_begin(struct hdr *h, struct buf *out, const char *name);
/* Write this field's encoded-words in cs (NULL: UTF-8). Each word is
 * converted on its own, so in ISO-2022-JP every word starts and ends in
 * ASCII and never splits an escape sequence (RFC 1468, RFC 2047 5). The text
 * must be convertible (checked beforehand with charset_from_utf8). */
void hdr_set_charset(struct hdr *h, struct charset *cs);
/* A token that must not be broken (an address, "<addr>,", a quoted string),
 * preceded by one space, or by a fold if it does not fit on this line. */
void hdr_token(struct hdr *h, const char *tok, size_t len);
/* Unstructured text (Subject, X-Mailer): folded at its own whitespace when
 * it is plain ASCII, else (or when it could be misread as encoded-words, or
 * has a word too long to fold) as encoded-words. */
void hdr_text(struct hdr *h, const char *s, size_t len);
/* s (valid UTF-8) as a run of encoded-words, preceded by a space. Each
 * is at most 75 characters and holds whole characters. */
void hdr_words(struct hdr *h, const char *s, size_t len);
/* A display name as an RFC 5322 phrase: atoms as they are, a quoted string
 * when it holds specials, encoded-words when not ASCII. */
void hdr_phrase(struct hdr *h, const char *s, size_t len);
/* End the field with CRLF. Returns 0, or -1 if any append failed (then the
 * whole field is removed from out). */
int hdr_end(struct hdr *h);

/* 1 if hdr_text would write s as encoded-words. */
int hdr_text_needs_encoding(const char *s, size_t len);

#endif
