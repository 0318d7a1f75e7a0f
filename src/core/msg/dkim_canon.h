/*
 * dkim_canon.h - DKIM's "relaxed" canonical forms (RFC 6376 3.4.2, 3.4.4):
 * a header field in one piece, and a body as a stream whose output goes to
 * a digest. Pure: bytes in, bytes out.
 */
#ifndef CLSMTP_DKIM_CANON_H
#define CLSMTP_DKIM_CANON_H

#include <stddef.h>

#include "base/buf.h"

/* One header field (name, colon, value, folded lines, with or without its
 * final CRLF) in relaxed form appended to out: the name in lower case, no
 * space around the colon, unfolded, runs of blanks one space, none at the
 * end, then CRLF unless crlf is 0. -1 when out is full. */
int dkim_canon_header(const char *field, size_t len, int crlf, struct buf *out);

/* The body, relaxed: blanks at a line's end removed, runs of blanks one
 * space, empty lines at the end removed, a final CRLF added to a body that
 * lacks it. The canonical bytes are handed to emit in pieces of at most
 * DKIM_CANON_CHUNK bytes. */
#define DKIM_CANON_CHUNK 4096
struct dkim_body_canon {
	void (*emit)(void *arg, const char *p, size_t n);
	void *arg;
	long long empty; /* empty lines held back (they may be the body's end) */
	int cr;          /* the last byte was a CR */
	int wsp;         /* blanks seen since the line's last visible byte */
	int content;     /* the current line has a visible byte */
	size_t n;
	char out[DKIM_CANON_CHUNK];
};
void dkim_body_canon_init(struct dkim_body_canon *b, void (*emit)(void *, const char *, size_t),
                          void *arg);
void dkim_body_canon_feed(struct dkim_body_canon *b, const char *p, size_t n);
void dkim_body_canon_end(struct dkim_body_canon *b);

#endif
