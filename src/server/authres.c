/*
 * authres.c - compose our Authentication-Results field and filter forged
 * ones out of an incoming header section (authres.h, RFC 8601). A field is
 * judged once it is complete (its continuation lines are known), so an
 * authserv-id folded onto the second line is still recognised.
 */
#include "authres.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

/* A field line longer than this is no header we judge: it passes. */
#define AUTHRES_FIELD_MAX (64 * 1024)

/* RFC 2045 token characters (the value syntax of RFC 8601 2.2). */
static int authres_tokenc(unsigned char c)
{
	return c > ' ' && c < 0x7f && strchr("()<>@,;:\\\"/[]?=", c) == NULL;
}

static void authres_value(struct buf *out, const char *v)
{
	const unsigned char *p = (const unsigned char *)v;
	int token = *p != '\0';

	for (; *p; p++)
		if (!authres_tokenc(*p))
			token = 0;
	if (token) {
		buf_adds(out, v);
		return;
	}
	buf_addc(out, '"');
	for (p = (const unsigned char *)v; *p; p++) {
		if (*p == '"' || *p == '\\')
			buf_addc(out, '\\');
		buf_addc(out, *p >= ' ' && *p < 0x7f ? (char)*p : '?');
	}
	buf_addc(out, '"');
}

static void authres_comment(struct buf *out, const char *c)
{
	const unsigned char *p;

	buf_addc(out, '(');
	for (p = (const unsigned char *)c; *p; p++) {
		if (*p == '(' || *p == ')' || *p == '\\')
			buf_addc(out, '\\');
		buf_addc(out, *p >= ' ' && *p < 0x7f ? (char)*p : '?');
	}
	buf_addc(out, ')');
}

/* Append one piece, folding first if the line would pass 78 columns. */
static void authres_piece(struct buf *out, size_t *col, const struct buf *piece)
{
	if (*col + 1 + piece->len > 78 && *col > 8) {
		buf_adds(out, "\r\n\t");
		*col = 8;
	} else {
		buf_addc(out, ' ');
		(*col)++;
	}
	buf_add(out, piece->data ? piece->data : "", piece->len);
	*col += piece->len;
}

int authres_compose(struct buf *out, const char *authserv_id, const struct authres_item *items,
                    size_t n)
{
	struct buf piece = BUF_INIT(4096);
	size_t col, i, k, start = out->len;
	int r;

	buf_adds(out, "Authentication-Results:");
	col = out->len - start;
	buf_reset(&piece);
	authres_value(&piece, authserv_id);
	buf_addc(&piece, ';');
	if (n == 0)
		buf_adds(&piece, " none");
	authres_piece(out, &col, &piece);
	for (i = 0; i < n; i++) {
		const struct authres_item *it = &items[i];
		buf_reset(&piece);
		buf_printf(&piece, "%s=%s", it->method, it->result);
		if (it->comment && *it->comment) {
			buf_addc(&piece, ' ');
			authres_comment(&piece, it->comment);
		}
		if (i + 1 < n && it->prop[0][0] == NULL)
			buf_addc(&piece, ';');
		authres_piece(out, &col, &piece);
		for (k = 0; k < 4 && it->prop[k][0]; k++) {
			buf_reset(&piece);
			buf_printf(&piece, "%s=", it->prop[k][0]);
			authres_value(&piece, it->prop[k][1] ? it->prop[k][1] : "");
			if (i + 1 < n && (k == 3 || it->prop[k + 1][0] == NULL))
				buf_addc(&piece, ';');
			authres_piece(out, &col, &piece);
		}
	}
	r = buf_add(out, "\r\n", 2);
	buf_free(&piece);
	return r;
}

void authres_filter_init(struct authres_filter *f, const char *authserv_id)
{
	size_t n = strlen(authserv_id);

	memset(f, 0, sizeof(*f));
	if (n >= sizeof(f->id))
		n = sizeof(f->id) - 1;
	memcpy(f->id, authserv_id, n);
	buf_init(&f->cur, AUTHRES_FIELD_MAX);
	buf_init(&f->field, AUTHRES_FIELD_MAX);
}

void authres_filter_free(struct authres_filter *f)
{
	buf_free(&f->cur);
	buf_free(&f->field);
}

/* Skip folding white space and comments (RFC 5322 CFWS). */
static const char *authres_cfws(const char *p, const char *end)
{
	int depth = 0;

	while (p < end) {
		if (depth > 0 && *p == '\\' && p + 1 < end) {
			p += 2;
			continue;
		}
		if (*p == '(')
			depth++;
		else if (*p == ')' && depth > 0)
			depth--;
		else if (depth == 0 && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
			break;
		p++;
	}
	return p;
}

/* 1 if the complete field f->field is an Authentication-Results field
 * whose authserv-id is ours. */
static int authres_forged(const struct authres_filter *f)
{
	static const char name[] = "Authentication-Results";
	const char *p = f->field.data, *end, *colon, *q;
	char id[256];
	size_t n = 0, nl;

	if (p == NULL || (colon = memchr(p, ':', f->field.len)) == NULL)
		return 0;
	end = p + f->field.len;
	nl = (size_t)(colon - p);
	while (nl > 0 && (p[nl - 1] == ' ' || p[nl - 1] == '\t'))
		nl--;
	if (nl != sizeof(name) - 1 || strncasecmp(p, name, nl) != 0)
		return 0;
	q = authres_cfws(colon + 1, end);
	if (q < end && *q == '"') {
		for (q++; q < end && *q != '"' && n < sizeof(id) - 1; q++) {
			if (*q == '\\' && q + 1 < end)
				q++;
			id[n++] = *q;
		}
	} else {
		while (q < end && authres_tokenc((unsigned char)*q) && n < sizeof(id) - 1)
			id[n++] = *q++;
	}
	id[n] = '\0';
	return n > 0 && strcasecmp(id, f->id) == 0;
}

/* The current field is complete: keep it or drop it. */
static int authres_flush_field(struct authres_filter *f, struct buf *out)
{
	int r = 0;

	if (f->field.len > 0) {
		if (authres_forged(f))
			f->dropped++;
		else
			r = buf_add(out, f->field.data, f->field.len);
		buf_reset(&f->field);
	}
	return r;
}

/* One complete line of the header section (with its line end). */
static int authres_line(struct authres_filter *f, const char *p, size_t n, struct buf *out)
{
	int blank = (n == 2 && p[0] == '\r') || n == 1;

	if (n > 0 && (p[0] == ' ' || p[0] == '\t') && f->field.len > 0) {
		if (buf_add(&f->field, p, n) == 0)
			return 0;
		/* Too long to judge: it passes as it is. */
		return authres_flush_field(f, out) | buf_add(out, p, n);
	}
	if (authres_flush_field(f, out) < 0)
		return -1;
	if (blank) {
		f->in_body = 1;
		return buf_add(out, p, n);
	}
	if (buf_add(&f->field, p, n) < 0)
		return buf_add(out, p, n);
	return 0;
}

int authres_filter_feed(struct authres_filter *f, const char *p, size_t n, struct buf *out)
{
	while (n > 0) {
		const char *lf;
		size_t k;

		if (f->in_body)
			return buf_add(out, p, n);
		lf = memchr(p, '\n', n);
		k = lf ? (size_t)(lf - p) + 1 : n;
		if (buf_add(&f->cur, p, k) < 0) {
			/* A line longer than any header: not a header section we judge. */
			if (authres_flush_field(f, out) < 0 || buf_add(out, f->cur.data ? f->cur.data : "", f->cur.len) < 0 ||
			    buf_add(out, p, n) < 0)
				return -1;
			buf_reset(&f->cur);
			f->in_body = 1;
			return 0;
		}
		p += k;
		n -= k;
		if (lf != NULL) {
			if (authres_line(f, f->cur.data, f->cur.len, out) < 0)
				return -1;
			buf_reset(&f->cur);
		}
	}
	return 0;
}

int authres_filter_end(struct authres_filter *f, struct buf *out)
{
	int r = 0;

	if (!f->in_body && f->cur.len > 0) {
		/* A last line without its line end: judged like the others. */
		if ((f->cur.data[0] != ' ' && f->cur.data[0] != '\t') || f->field.len == 0)
			r |= authres_flush_field(f, out);
		if (buf_add(&f->field, f->cur.data, f->cur.len) == 0)
			buf_reset(&f->cur);
	}
	r |= authres_flush_field(f, out);
	if (f->cur.len > 0)
		r |= buf_add(out, f->cur.data, f->cur.len);
	buf_reset(&f->cur);
	return r;
}
