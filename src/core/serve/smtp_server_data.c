/*
 * smtp_server_data.c - byte state machine of the server's DATA/BDAT reader
 * (see smtp_server_data.h). Only a CR LF pair ends a line; only a line that
 * is exactly "." after a real CR LF ends DATA. Everything else, including
 * "\n.\n", "\r.\r" and "\r\n.\n", is content (or a refusal), never an end.
 */
#include "serve/smtp_server_data.h"

#include <string.h>

enum { DR_BOL, DR_DOT, DR_DOTCR, DR_TEXT, DR_CR };

void smtp_dreader_init(struct smtp_dreader *r, int dots, int normalize, size_t line_max,
                       long long size_max)
{
	r->dots = dots;
	r->normalize = normalize;
	r->line_max = line_max;
	r->size_max = size_max;
	r->st = DR_BOL;
	r->linelen = 0;
	r->size = 0;
	r->flags = 0;
	r->done = 0;
}

static void smtp_dreader_put(struct smtp_dreader *r, struct buf *out, const char *p, size_t n)
{
	r->size += (long long)n;
	if (r->size_max > 0 && r->size > r->size_max)
		r->flags |= SMTP_DR_TOO_BIG;
	if (r->flags == 0)
		buf_add(out, p, n);
}

static void smtp_dreader_eol(struct smtp_dreader *r, struct buf *out)
{
	smtp_dreader_put(r, out, "\r\n", 2);
	r->linelen = 0;
}

/* A CR or LF that is not part of CR LF. */
static void smtp_dreader_bare(struct smtp_dreader *r, struct buf *out)
{
	if (r->normalize)
		smtp_dreader_eol(r, out);
	else
		r->flags |= SMTP_DR_BARE_EOL;
	/* Never a line start: a "." after it is plain content. */
	r->st = DR_TEXT;
}

static void smtp_dreader_text(struct smtp_dreader *r, struct buf *out, char c)
{
	if (c == '\r') {
		r->st = DR_CR;
		return;
	}
	if (c == '\n') {
		smtp_dreader_bare(r, out);
		return;
	}
	r->st = DR_TEXT;
	/* A relay downstream that drops NULs would see "\r\n\0.\r\n" as the
	 * end of data (SMTP smuggling): refuse the message instead. */
	if (c == '\0')
		r->flags |= SMTP_DR_NUL;
	if (r->line_max > 0 && ++r->linelen > r->line_max)
		r->flags |= SMTP_DR_LONG_LINE;
	smtp_dreader_put(r, out, &c, 1);
}

/* A run of ordinary bytes (no CR, no LF) inside a line: what
 * smtp_dreader_text does byte by byte, done for many at once. While the
 * message is still clean the run stops short of the byte that would flag
 * it (NUL, line or size limit): that byte goes through smtp_dreader_text,
 * so what is kept never depends on how the input was cut. Returns how many
 * bytes of in[0..n) it took (at least 1). */
static size_t smtp_dreader_run(struct smtp_dreader *r, const char *in, size_t n, struct buf *out)
{
	const char *cr = memchr(in, '\r', n), *lf;
	size_t m = cr ? (size_t)(cr - in) : n, room = out->max - out->len - 8;

	if ((lf = memchr(in, '\n', m)) != NULL)
		m = (size_t)(lf - in);
	if (m > room)
		m = room;
	if (r->flags == 0) {
		const char *z = memchr(in, '\0', m);
		if (z != NULL)
			m = (size_t)(z - in);
		if (r->line_max > 0 && r->linelen + m > r->line_max)
			m = r->line_max > r->linelen ? r->line_max - r->linelen : 0;
		if (r->size_max > 0 && r->size + (long long)m > r->size_max)
			m = r->size_max > r->size ? (size_t)(r->size_max - r->size) : 0;
	}
	if (m == 0) {
		smtp_dreader_text(r, out, in[0]);
		return 1;
	}
	r->st = DR_TEXT;
	if (r->flags != 0 && memchr(in, '\0', m) != NULL)
		r->flags |= SMTP_DR_NUL;
	r->linelen += m;
	if (r->line_max > 0 && r->linelen > r->line_max)
		r->flags |= SMTP_DR_LONG_LINE;
	smtp_dreader_put(r, out, in, m);
	return m;
}

size_t smtp_dreader_feed(struct smtp_dreader *r, const char *in, size_t n, struct buf *out)
{
	size_t i;

	for (i = 0; i < n && !r->done; i++) {
		char c = in[i];

		/* Room for the worst case of one byte: ".", CR LF, and c. */
		if (out->len + 8 > out->max)
			break;
		if (c != '\r' && c != '\n' &&
		    (r->st == DR_TEXT || (r->st == DR_BOL && (!r->dots || c != '.')))) {
			/* The common case: the body of a line, in one piece. */
			i += smtp_dreader_run(r, in + i, n - i, out) - 1;
			continue;
		}
		switch (r->st) {
		case DR_BOL:
			if (r->dots && c == '.')
				r->st = DR_DOT;
			else
				smtp_dreader_text(r, out, c);
			break;
		case DR_DOT:
			if (c == '\r') {
				r->st = DR_DOTCR;
			} else if (c == '\n') {
				/* ".\n": a dot line with a bare LF: content. */
				smtp_dreader_text(r, out, '.');
				smtp_dreader_bare(r, out);
			} else {
				/* The leading dot was stuffing (RFC 5321 4.5.2). */
				smtp_dreader_text(r, out, c);
			}
			break;
		case DR_DOTCR:
			if (c == '\n') {
				r->done = 1;
			} else {
				/* ".\r" then not LF: a dot, a bare CR, then c. */
				smtp_dreader_text(r, out, '.');
				smtp_dreader_bare(r, out);
				smtp_dreader_text(r, out, c);
			}
			break;
		case DR_TEXT:
			smtp_dreader_text(r, out, c);
			break;
		case DR_CR:
			if (c == '\n') {
				smtp_dreader_eol(r, out);
				r->st = DR_BOL;
			} else {
				smtp_dreader_bare(r, out);
				smtp_dreader_text(r, out, c);
			}
			break;
		}
	}
	return i;
}

void smtp_dreader_finish(struct smtp_dreader *r, struct buf *out)
{
	if (r->st == DR_CR)
		smtp_dreader_bare(r, out);
}
