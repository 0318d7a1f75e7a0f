/*
 * dkim_canon.c - DKIM's relaxed header and body canonical forms
 * (dkim_canon.h).
 */
#include "msg/dkim_canon.h"

#include <ctype.h>
#include <string.h>

int dkim_canon_header(const char *field, size_t len, int crlf, struct buf *out)
{
	size_t i = 0, colon;
	int wsp = 0, any = 0;

	while (i < len && field[i] != ':')
		i++;
	colon = i;
	/* The name without the blanks before the colon, in lower case. */
	while (colon > 0 && (field[colon - 1] == ' ' || field[colon - 1] == '\t'))
		colon--;
	for (size_t k = 0; k < colon; k++)
		if (buf_addc(out, (char)tolower((unsigned char)field[k])) < 0)
			return -1;
	if (buf_addc(out, ':') < 0)
		return -1;
	/* The value: CR and LF dropped (unfolding), blank runs one space,
	 * nothing before the first visible byte nor after the last. */
	for (i = i < len ? i + 1 : len; i < len; i++) {
		char ch = field[i];
		if (ch == '\r' || ch == '\n')
			continue;
		if (ch == ' ' || ch == '\t') {
			wsp = 1;
			continue;
		}
		if (wsp && any && buf_addc(out, ' ') < 0)
			return -1;
		wsp = 0;
		any = 1;
		if (buf_addc(out, ch) < 0)
			return -1;
	}
	return crlf ? buf_add(out, "\r\n", 2) : 0;
}

void dkim_body_canon_init(struct dkim_body_canon *b, void (*emit)(void *, const char *, size_t),
                          void *arg)
{
	b->emit = emit;
	b->arg = arg;
	b->empty = 0;
	b->cr = b->wsp = b->content = 0;
	b->n = 0;
}

static void canon_put(struct dkim_body_canon *b, const char *p, size_t n)
{
	while (n > 0) {
		size_t k = sizeof(b->out) - b->n;
		if (k > n)
			k = n;
		memcpy(b->out + b->n, p, k);
		b->n += k;
		p += k;
		n -= k;
		if (b->n == sizeof(b->out)) {
			b->emit(b->arg, b->out, b->n);
			b->n = 0;
		}
	}
}

/* A visible byte of the current line: the empty lines held back were not
 * the end after all, and a blank run before it (at the line's start too)
 * is one space. */
static void canon_visible(struct dkim_body_canon *b, char ch)
{
	for (; b->empty > 0; b->empty--)
		canon_put(b, "\r\n", 2);
	if (b->wsp)
		canon_put(b, " ", 1);
	b->wsp = 0;
	b->content = 1;
	canon_put(b, &ch, 1);
}

static void canon_line_end(struct dkim_body_canon *b)
{
	if (b->content)
		canon_put(b, "\r\n", 2);
	else
		b->empty++;
	b->content = b->wsp = 0;
}

void dkim_body_canon_feed(struct dkim_body_canon *b, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char ch = p[i];
		if (b->cr) {
			b->cr = 0;
			if (ch == '\n') {
				canon_line_end(b);
				continue;
			}
			/* A CR alone is an ordinary byte of the line. */
			canon_visible(b, '\r');
		}
		if (ch == '\r')
			b->cr = 1;
		else if (ch == ' ' || ch == '\t')
			b->wsp = 1;
		else
			canon_visible(b, ch);
	}
}

void dkim_body_canon_end(struct dkim_body_canon *b)
{
	if (b->cr) {
		b->cr = 0;
		canon_visible(b, '\r');
	}
	/* A last line without its CRLF gets one; trailing empty lines go. */
	if (b->content)
		canon_put(b, "\r\n", 2);
	b->content = b->wsp = 0;
	b->empty = 0;
	if (b->n > 0)
		b->emit(b->arg, b->out, b->n);
	b->n = 0;
}
