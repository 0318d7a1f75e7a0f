/*
 * mime.c - the MIME body (see mime.h). Text parts are made canonical (CRLF),
 * converted, encoded in memory; the boundaries are drawn afterwards so that
 * none occurs in a 7bit or 8bit text; attachments go into the msgstream as
 * file pieces that are base64-encoded only when the message is sent.
 */
#include "msg/mime.h"

#include <stdio.h>
#include <string.h>

#include <openssl/rand.h>

#include "base/b64.h"
#include "base/qp.h"
#include "smtp/smtp_data.h"
#include "base/utf8.h"

/* RFC 5322 2.1.1: no line over 998 octets. */
#define MIME_LINE_MAX 998
/* A parameter section written on a line of its own stays within this
 * (78 columns less the leading space and the ';'). */
#define MIME_PARAM_TOKEN_MAX 76

/* An encoded text part: its header fields and its body. */
struct mime_part {
	struct buf head;
	struct buf body;
	int is_8bit;
};

int mime_boundary(struct buf *out)
{
	unsigned char r[16];
	size_t i;
	int rc = 0;

	if (RAND_bytes(r, sizeof(r)) != 1)
		return -1;
	rc |= buf_adds(out, "=_clsmtpc_");
	for (i = 0; i < sizeof(r); i++)
		rc |= buf_printf(out, "%02x", r[i]);
	return rc;
}

/* RFC 2045 5.1 token characters. */
static int mime_is_token(const char *s)
{
	size_t i;

	if (*s == '\0')
		return 0;
	for (i = 0; s[i]; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= 0x20 || c >= 0x7f || strchr("()<>@,;:\\\"/[]?=", c) != NULL)
			return 0;
	}
	return 1;
}

/* RFC 2231 7: attribute-char, written as itself in an extended value. */
static int mime_is_attr_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && strchr("*'%()<>@,;:\\\"/[]?=", c) == NULL;
}

/* The value as one quoted string (RFC 5322 3.2.4), or -1 if it holds
 * something that cannot stand in one (controls, 8-bit). */
static int mime_quoted(const char *v, struct buf *tok)
{
	size_t i;

	buf_addc(tok, '"');
	for (i = 0; v[i]; i++) {
		unsigned char c = (unsigned char)v[i];
		if ((c < 0x20 && c != '\t') || c >= 0x7f)
			return -1;
		if (c == '"' || c == '\\')
			buf_addc(tok, '\\');
		buf_addc(tok, (char)c);
	}
	return buf_addc(tok, '"');
}

/* RFC 2231 sections "attr*N*=..." (or one "attr*=UTF-8''...") appended to
 * toks as NUL-separated tokens; each section holds whole characters. */
static int mime_rfc2231(const char *attr, const char *v, struct buf *toks, size_t *ntok)
{
	struct buf enc = BUF_INIT(4 * ATTACH_NAME_MAX + 64), sect = BUF_INIT(256);
	size_t i, k, j, one, nsect = 0, n = strlen(v);
	char piece[16];
	int r = 0;

	/* First try the whole value as a single section. */
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];
		if (mime_is_attr_char(c))
			buf_addc(&enc, (char)c);
		else
			buf_printf(&enc, "%%%02X", c);
	}
	one = strlen(attr) + strlen("*=UTF-8''") + enc.len;
	if (one <= MIME_PARAM_TOKEN_MAX) {
		r |= buf_printf(toks, "%s*=UTF-8''%s", attr, buf_cstr(&enc));
		r |= buf_addc(toks, '\0');
		(*ntok)++;
		goto out;
	}
	for (i = 0; i < n; i = k) {
		buf_reset(&sect);
		buf_printf(&sect, "%s*%zu*=%s", attr, nsect, nsect == 0 ? "UTF-8''" : "");
		for (k = i; k < n;) {
			size_t q = utf8_seq_len((const unsigned char *)v + k, n - k);
			size_t len = 0;
			q = q ? q : 1;
			for (j = 0; j < q; j++) {
				unsigned char c = (unsigned char)v[k + j];
				len += mime_is_attr_char(c) ? 1 : 3;
			}
			if (k > i && sect.len + len + 1 > MIME_PARAM_TOKEN_MAX)
				break;
			for (j = 0; j < q; j++) {
				unsigned char c = (unsigned char)v[k + j];
				if (mime_is_attr_char(c))
					snprintf(piece, sizeof(piece), "%c", c);
				else
					snprintf(piece, sizeof(piece), "%%%02X", c);
				buf_adds(&sect, piece);
			}
			k += q;
		}
		r |= buf_add(toks, sect.data, sect.len + 1);
		(*ntok)++;
		nsect++;
	}
out:
	buf_free(&enc);
	buf_free(&sect);
	return r;
}

int mime_field(struct buf *out, const char *name, const char *value, const struct mime_param *ps,
               size_t n)
{
	struct buf toks = BUF_INIT(64 * 1024), t = BUF_INIT(1024);
	struct hdr h;
	size_t i, ntok = 0, off;
	const char *p;
	int r = 0;

	for (i = 0; i < n; i++) {
		const char *v = ps[i].value;
		buf_reset(&t);
		if (mime_is_token(v) &&
		    strlen(ps[i].attr) + 1 + strlen(v) <= MIME_PARAM_TOKEN_MAX) {
			r |= buf_printf(&toks, "%s=%s", ps[i].attr, v);
		} else if (mime_quoted(v, &t) == 0 &&
		           strlen(ps[i].attr) + 1 + t.len <= MIME_PARAM_TOKEN_MAX) {
			r |= buf_printf(&toks, "%s=%s", ps[i].attr, buf_cstr(&t));
		} else {
			r |= mime_rfc2231(ps[i].attr, v, &toks, &ntok);
			continue;
		}
		r |= buf_addc(&toks, '\0');
		ntok++;
	}
	hdr_begin(&h, out, name);
	buf_reset(&t);
	buf_printf(&t, "%s%s", value, ntok ? ";" : "");
	hdr_token(&h, t.data, t.len);
	for (i = 0, off = 0; i < ntok; i++) {
		p = toks.data + off;
		buf_reset(&t);
		buf_printf(&t, "%s%s", p, i + 1 < ntok ? ";" : "");
		hdr_token(&h, t.data, t.len);
		off += strlen(p) + 1;
	}
	r |= hdr_end(&h);
	buf_free(&toks);
	buf_free(&t);
	return r ? -1 : 0;
}

/* 7bit (RFC 2045 2.7): ASCII, no NUL, lines of at most 998 octets; with
 * eight set, octets above 127 are allowed (8bit, 2.8). */
static int mime_is_short_lines(const char *s, size_t len, int eight)
{
	size_t i, col = 0;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == 0 || (c >= 0x80 && !eight))
			return 0;
		if (c == '\n')
			col = 0;
		else if (c != '\r' && ++col > MIME_LINE_MAX)
			return 0;
	}
	return 1;
}

const char *mime_choose_cte(const char *text, size_t len, int allow_8bit)
{
	if (mime_is_short_lines(text, len, 0))
		return "7bit";
	if (allow_8bit && mime_is_short_lines(text, len, 1))
		return "8bit";
	if (utf8_is_ascii(text, len) ||
	    qp_encoded_count(text, len) * 100 <= len * MIME_QP_MAX_PERCENT)
		return "quoted-printable";
	return "base64";
}

int mime_encode(const char *cte, const char *text, size_t len, struct buf *out)
{
	struct b64_enc b;

	if (strcmp(cte, "quoted-printable") == 0)
		return qp_encode(text, len, out);
	if (strcmp(cte, "base64") == 0) {
		b64_enc_init(&b);
		return b64_enc_chunk(&b, text, len, out) < 0 || b64_enc_end(&b, out) < 0 ? -1 : 0;
	}
	return buf_add(out, text, len);
}

static void mime_part_init(struct mime_part *mp)
{
	buf_init(&mp->head, 64 * 1024);
	buf_init(&mp->body, MSGSTREAM_MEM_MAX);
	mp->is_8bit = 0;
}

static void mime_part_free(struct mime_part *mp)
{
	buf_free(&mp->head);
	buf_free(&mp->body);
}

/* A text part: canonical, converted, encoded; its two content fields. */
static int mime_text_part(const struct mime_params *p, const char *subtype, const char *text,
                          size_t len, struct mime_part *mp, struct cl_err *err)
{
	struct buf canon = BUF_INIT(2 * (size_t)MSGSTREAM_MEM_MAX / 3),
	           wire = BUF_INIT(2 * (size_t)MSGSTREAM_MEM_MAX / 3), type = BUF_INIT(64);
	struct mime_param cp;
	const char *cte, *what = strcmp(subtype, "html") == 0 ? "HTML part" : "message body";
	int r = -1;

	if (smtp_data_canonicalize(text ? text : "", len, &canon) < 0) {
		err_set(err, CL_EDATA, "%s is too large", what);
		goto out;
	}
	if (charset_text_from_utf8(p->cs, buf_cstr(&canon), canon.len, &wire, what, err) < 0)
		goto out;
	cte = mime_choose_cte(buf_cstr(&wire), wire.len, p->allow_8bit);
	mp->is_8bit = strcmp(cte, "8bit") == 0;
	buf_printf(&type, "text/%s", subtype);
	cp.attr = "charset";
	cp.value =
	    p->label_ascii && utf8_is_ascii(buf_cstr(&wire), wire.len) ? "US-ASCII" : p->cs->name;
	if (mime_field(&mp->head, "Content-Type", buf_cstr(&type), &cp, 1) < 0 ||
	    buf_printf(&mp->head, "Content-Transfer-Encoding: %s\r\n", cte) < 0 ||
	    mime_encode(cte, buf_cstr(&wire), wire.len, &mp->body) < 0) {
		err_set(err, CL_EDATA, "%s is too large once encoded", what);
		goto out;
	}
	r = 0;
out:
	buf_free(&canon);
	buf_free(&wire);
	buf_free(&type);
	return r;
}

/* A boundary that occurs in none of the parts' text. */
static int mime_pick_boundary(struct mime_part *parts, size_t n, struct buf *b)
{
	size_t i, t;

	for (t = 0; t < MIME_BOUNDARY_TRIES; t++) {
		buf_reset(b);
		if (mime_boundary(b) < 0)
			return -1;
		for (i = 0; i < n; i++)
			if (parts[i].body.len &&
			    memmem(parts[i].body.data, parts[i].body.len, b->data, b->len) != NULL)
				break;
		if (i == n)
			return 0;
	}
	return -1;
}

static int mime_put_part(struct msgstream *ms, const struct mime_part *mp)
{
	struct buf *m = msgstream_mem(ms);

	if (m == NULL || buf_add(m, mp->head.data, mp->head.len) < 0 || buf_add(m, "\r\n", 2) < 0)
		return -1;
	return buf_add(m, buf_cstr(&mp->body), mp->body.len);
}

static int mime_multipart_head(struct msgstream *ms, const char *type, const struct buf *bnd)
{
	struct mime_param bp = {"boundary", buf_cstr(bnd)};
	struct buf *m = msgstream_mem(ms);

	if (m == NULL || mime_field(m, "Content-Type", type, &bp, 1) < 0)
		return -1;
	return buf_add(m, "\r\n", 2);
}

/* multipart/alternative: the text, then the HTML (RFC 2046 5.1.4: the
 * preferred form last). */
static int mime_alternative(struct msgstream *ms, struct mime_part *tp, const struct buf *bnd)
{
	int r = mime_multipart_head(ms, "multipart/alternative", bnd);

	r |= msgstream_adds(ms, "--") | msgstream_adds(ms, buf_cstr(bnd)) |
	     msgstream_adds(ms, "\r\n") | mime_put_part(ms, &tp[0]);
	r |= msgstream_adds(ms, "\r\n--") | msgstream_adds(ms, buf_cstr(bnd)) |
	     msgstream_adds(ms, "\r\n") | mime_put_part(ms, &tp[1]);
	r |= msgstream_adds(ms, "\r\n--") | msgstream_adds(ms, buf_cstr(bnd)) |
	     msgstream_adds(ms, "--\r\n");
	return r ? -1 : 0;
}

static int mime_attachment(struct msgstream *ms, struct attach *a)
{
	struct mime_param tp[2], dp;
	struct buf *m = msgstream_mem(ms);
	struct buf what = BUF_INIT(256);
	size_t n = 0;
	int r;

	if (m == NULL)
		return -1;
	if (a->charset) {
		tp[n].attr = "charset";
		tp[n++].value = a->charset;
	}
	tp[n].attr = "name";
	tp[n++].value = buf_cstr(&a->name);
	dp.attr = "filename";
	dp.value = buf_cstr(&a->name);
	r = mime_field(m, "Content-Type", buf_cstr(&a->type), tp, n) |
	    mime_field(m, "Content-Disposition", "attachment", &dp, 1) |
	    buf_adds(m, "Content-Transfer-Encoding: base64\r\n\r\n");
	buf_printf(&what, "attachment %s", a->path);
	r |= msgstream_add_b64(ms, a->fd, a->peek.data, a->peek.len, a->size, buf_cstr(&what));
	buf_free(&what);
	return r ? -1 : 0;
}

int mime_build(const struct mime_params *p, struct msgstream *ms, struct mime_result *res,
               struct cl_err *err)
{
	struct mime_part tp[2];
	struct buf mixed = BUF_INIT(64), alt = BUF_INIT(64);
	size_t i, ntext = p->html ? 2 : 1;
	int r = -1;

	mime_part_init(&tp[0]);
	mime_part_init(&tp[1]);
	res->is_8bit = 0;
	if (mime_text_part(p, "plain", p->text, p->text_len, &tp[0], err) < 0 ||
	    (p->html && mime_text_part(p, "html", p->html, p->html_len, &tp[1], err) < 0))
		goto out;
	res->is_8bit = tp[0].is_8bit || tp[1].is_8bit;
	if ((p->natt && mime_pick_boundary(tp, ntext, &mixed) < 0) ||
	    (p->html && mime_pick_boundary(tp, ntext, &alt) < 0)) {
		err_set(err, CL_ESOFTWARE, "cannot draw a MIME boundary");
		goto out;
	}
	if (p->natt == 0 && p->html == NULL) {
		r = mime_put_part(ms, &tp[0]);
	} else if (p->natt == 0) {
		r = mime_alternative(ms, tp, &alt);
	} else {
		r = mime_multipart_head(ms, "multipart/mixed", &mixed);
		r |= msgstream_adds(ms, "--") | msgstream_adds(ms, buf_cstr(&mixed)) |
		     msgstream_adds(ms, "\r\n");
		r |= p->html ? mime_alternative(ms, tp, &alt) : mime_put_part(ms, &tp[0]);
		for (i = 0; i < p->natt; i++) {
			r |= msgstream_adds(ms, "\r\n--") | msgstream_adds(ms, buf_cstr(&mixed)) |
			     msgstream_adds(ms, "\r\n");
			r |= mime_attachment(ms, &p->att[i]);
		}
		r |= msgstream_adds(ms, "\r\n--") | msgstream_adds(ms, buf_cstr(&mixed)) |
		     msgstream_adds(ms, "--\r\n");
	}
	if (r)
		err_set(err, CL_EDATA, "the message is too large to compose");
	r = r ? -1 : 0;
out:
	mime_part_free(&tp[0]);
	mime_part_free(&tp[1]);
	buf_free(&mixed);
	buf_free(&alt);
	return r;
}
