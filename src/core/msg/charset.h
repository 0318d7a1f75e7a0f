/*
 * charset.h - text in the charset on the wire (-c): UTF-8 as it is, anything
 * else through iconv, with ISO-2022-JP (RFC 1468) done the Japanese way: each
 * line, and each header encoded-word, starts and ends in ASCII. A character
 * the charset cannot hold is an error naming it, never a silent '?'.
 */
#ifndef CLSMTP_CHARSET_H
#define CLSMTP_CHARSET_H

#include <iconv.h>
#include <stddef.h>

#include "base/buf.h"
#include "base/err.h"

#define CHARSET_NAME_MAX 40

struct charset {
	char name[CHARSET_NAME_MAX]; /* MIME label: "UTF-8", "ISO-2022-JP" */
	int is_utf8;                 /* no conversion at all */
	int stateful;                /* ISO-2022-*: shift states reset per line */
	iconv_t cd;                  /* UTF-8 -> name; (iconv_t)-1 for UTF-8 */
};

/* Open the wire charset called name (NULL or "" means UTF-8). Refused
 * (CL_EUSAGE): a name iconv does not know, a name with iconv suffixes such as
 * "//TRANSLIT" (they would substitute characters silently), and charsets that
 * do not write ASCII and CRLF as themselves (UTF-16, EBCDIC: RFC 2046 4.1.2). */
int charset_open(struct charset *cs, const char *name, struct cl_err *err);
void charset_close(struct charset *cs);

/* Append in (valid UTF-8) converted to cs, ending in the initial shift state.
 * A character cs cannot hold: CL_EDATA "<what>: character U+XXXX 'c' (at
 * character N) cannot be written in NAME"; nothing is appended then. */
int charset_from_utf8(struct charset *cs, const char *in, size_t len, struct buf *out,
                      const char *what, struct cl_err *err);
/* The same for text with CRLF line ends: stateful charsets are converted line
 * by line, so every line ends in ASCII (RFC 1468). */
int charset_text_from_utf8(struct charset *cs, const char *in, size_t len, struct buf *out,
                           const char *what, struct cl_err *err);

/* The codeset of the user's locale (LC_CTYPE from the environment), written
 * to out; "UTF-8" for UTF-8 and for the C/POSIX locale's ASCII, which we read
 * as UTF-8. The process's own locale is left as it was. */
void charset_locale(char *out, size_t n);
/* Append in, text in charset from, converted to UTF-8 (CL_EDATA when it is
 * not valid in from). from "UTF-8": only checked. */
int charset_to_utf8(const char *from, const char *in, size_t len, struct buf *out, const char *what,
                    struct cl_err *err);

#endif
