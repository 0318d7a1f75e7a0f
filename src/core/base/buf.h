/*
 * buf.h - the one growable byte/string buffer of clsmtpc, with a hard maximum.
 * Every string we build and every byte we read goes through it, so nothing can
 * overflow and nothing grows without bound (Postfix's VSTRING, curl's dynbuf).
 * The contents are always followed by a NUL (not counted in len).
 */
#ifndef CLSMTP_BUF_H
#define CLSMTP_BUF_H

#include <stdarg.h>
#include <stddef.h>

#if defined(__GNUC__)
#define BUF_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define BUF_PRINTF(f, a)
#endif

struct buf {
	char *data;  /* NULL until the first append */
	size_t len;  /* bytes in use, excluding the trailing NUL */
	size_t cap;  /* bytes allocated */
	size_t max;  /* hard limit on len; appends beyond it fail */
	int secret;  /* growth wipes the old allocation (see buf_set_secret) */
};

#define BUF_INIT(maxlen) {NULL, 0, 0, (maxlen), 0}

void buf_init(struct buf *b, size_t max);
/* Each append returns 0, or -1 (nothing appended) if it would exceed max or
 * memory is exhausted. */
int buf_add(struct buf *b, const void *p, size_t n);
int buf_adds(struct buf *b, const char *s);
int buf_addc(struct buf *b, char c);
int buf_printf(struct buf *b, const char *fmt, ...) BUF_PRINTF(2, 3);
int buf_vprintf(struct buf *b, const char *fmt, va_list ap) BUF_PRINTF(2, 0);
int buf_set(struct buf *b, const char *s);
/* Always a valid NUL-terminated string, "" when empty. */
const char *buf_cstr(const struct buf *b);
void buf_reset(struct buf *b);
void buf_truncate(struct buf *b, size_t len);
/* Drop the first n bytes (n <= len). */
void buf_consume(struct buf *b, size_t n);
void buf_free(struct buf *b);
/* Mark b as holding a secret: when it grows, the old allocation is wiped
 * before it is freed (realloc would leave a copy behind). */
void buf_set_secret(struct buf *b);
/* Overwrite the whole allocation before freeing: for secrets. */
void buf_wipe(struct buf *b);
/* Detach the contents as a malloc'ed NUL-terminated string (caller frees). */
char *buf_release(struct buf *b);

#endif
