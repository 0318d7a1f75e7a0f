/*
 * rawmsg.c - header handling for messages we send as they are (see
 * rawmsg.h). The header section is walked field by field on the canonical
 * CRLF text; addresses are parsed with RFC 5322's lexical rules (quoted
 * strings, nested comments, angle addresses, groups), not with regexes.
 */
#include "rawmsg.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "compose.h"
#include "hdr.h"

/* One header field: [start, end) including its CRLFs; the name's length. */
struct rawmsg_field {
	size_t start, end, namelen;
};

/* 1 if s[0..] starts a field: ftext (33-126 but ':') then ':'. */
static size_t rawmsg_field_name(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == ':')
			return i;
		if (c < 33 || c > 126)
			return 0;
	}
	return 0;
}

/* End of the line starting at i (index after its CRLF, or len). */
static size_t rawmsg_line_end(const char *s, size_t len, size_t i)
{
	const char *nl = memchr(s + i, '\n', len - i);

	return nl ? (size_t)(nl - s) + 1 : len;
}

/* Walk the header: calls fn for each field, stops at the empty line or at
 * the first line that is neither a field nor a continuation. Returns the
 * offset where the body begins (after the empty line when there is one) and
 * sets *blank to whether an empty line ended the header. *first is where
 * the first field starts (after an mbox "From " line). */
static size_t rawmsg_walk(const char *s, size_t len, size_t *first, int *blank,
                          int (*fn)(void *arg, const struct rawmsg_field *f), void *arg)
{
	struct rawmsg_field f;
	size_t i = 0, e;
	int have = 0;

	*blank = 0;
	if (len >= 5 && memcmp(s, "From ", 5) == 0)
		i = rawmsg_line_end(s, len, 0);
	*first = i;
	while (i < len) {
		e = rawmsg_line_end(s, len, i);
		if (s[i] == '\r' || s[i] == '\n') { /* the empty line */
			if (have && fn)
				fn(arg, &f);
			*blank = 1;
			return e;
		}
		if ((s[i] == ' ' || s[i] == '\t') && have) {
			f.end = e;
			i = e;
			continue;
		}
		if (have && fn)
			fn(arg, &f);
		f.namelen = rawmsg_field_name(s + i, e - i);
		if (f.namelen == 0)
			return i; /* not a header line: the body starts here */
		f.start = i;
		f.end = e;
		have = 1;
		i = e;
	}
	if (have && fn)
		fn(arg, &f);
	return len;
}

static int rawmsg_name_is(const char *s, const struct rawmsg_field *f, const char *name)
{
	return f->namelen == strlen(name) && strncasecmp(s + f->start, name, f->namelen) == 0;
}

/* The field's value unfolded and trimmed, appended to out. */
static int rawmsg_value(const char *s, const struct rawmsg_field *f, struct buf *out)
{
	size_t i = f->start + f->namelen + 1, e = f->end;

	while (e > i && (s[e - 1] == '\n' || s[e - 1] == '\r'))
		e--;
	while (i < e && (s[i] == ' ' || s[i] == '\t'))
		i++;
	for (; i < e; i++) {
		if (s[i] == '\r' || s[i] == '\n')
			continue;
		if (buf_addc(out, s[i]) < 0)
			return -1;
	}
	while (out->len && (out->data[out->len - 1] == ' ' || out->data[out->len - 1] == '\t'))
		buf_truncate(out, out->len - 1);
	return 0;
}

struct rawmsg_get_ctx {
	const char *s, *name;
	struct buf *value;
	int found, failed;
};

static int rawmsg_get_cb(void *arg, const struct rawmsg_field *f)
{
	struct rawmsg_get_ctx *c = arg;

	if (c->found || !rawmsg_name_is(c->s, f, c->name))
		return 0;
	c->found = 1;
	if (rawmsg_value(c->s, f, c->value) < 0)
		c->failed = 1;
	return 0;
}

int rawmsg_header_get(const char *msg, size_t len, const char *name, struct buf *value)
{
	struct rawmsg_get_ctx c = {msg, name, value, 0, 0};
	size_t first;
	int blank;

	buf_reset(value);
	rawmsg_walk(msg, len, &first, &blank, rawmsg_get_cb, &c);
	if (c.failed)
		return -1;
	return c.found;
}

/* ---- address lists --------------------------------------------------- */

struct rawmsg_lex {
	struct buf cur;   /* the mailbox being read, comments dropped */
	struct buf angle; /* text inside <...> */
	int has_angle;
	int (*cb)(void *arg, const char *addr);
	void *arg;
	struct cl_err *err;
};

/* Skip a comment at p (p[0] == '('), nested, with quoted-pairs. */
static const char *rawmsg_skip_comment(const char *p)
{
	int depth = 0;

	for (; *p; p++) {
		if (*p == '\\' && p[1]) {
			p++;
			continue;
		}
		if (*p == '(')
			depth++;
		else if (*p == ')' && --depth == 0)
			return p + 1;
	}
	return p;
}

/* The addr-spec of the mailbox read so far, to cb; then reset. */
static int rawmsg_emit(struct rawmsg_lex *l)
{
	struct buf *src = l->has_angle ? &l->angle : &l->cur;
	struct buf a = BUF_INIT(RAWMSG_ADDR_MAX);
	const char *s = buf_cstr(src), *colon;
	int inq = 0, r = 0;
	size_t i;

	/* Obsolete source route "<@a,@b:user@c>": keep what follows ':'. */
	if (l->has_angle && s[0] == '@' && (colon = strchr(s, ':')) != NULL)
		s = colon + 1;
	/* Whitespace outside quotes is not part of an addr-spec. */
	for (i = 0; s[i]; i++) {
		if (s[i] == '"' && (i == 0 || s[i - 1] != '\\'))
			inq = !inq;
		if (!inq && (s[i] == ' ' || s[i] == '\t'))
			continue;
		if (buf_addc(&a, s[i]) < 0) {
			buf_free(&a);
			return err_set(l->err, CL_EDATA, "address longer than %d bytes",
			               RAWMSG_ADDR_MAX);
		}
	}
	if (a.len)
		r = l->cb(l->arg, buf_cstr(&a));
	buf_free(&a);
	buf_reset(&l->cur);
	buf_reset(&l->angle);
	l->has_angle = 0;
	return r;
}

int rawmsg_addr_list(const char *value, int (*cb)(void *arg, const char *addr), void *arg,
                     struct cl_err *err)
{
	struct rawmsg_lex l;
	const char *p = value, *q;
	int r = 0;

	memset(&l, 0, sizeof(l));
	buf_init(&l.cur, RAWMSG_ADDR_MAX * 4);
	buf_init(&l.angle, RAWMSG_ADDR_MAX);
	l.cb = cb;
	l.arg = arg;
	l.err = err;
	while (*p && r == 0) {
		switch (*p) {
		case '(':
			p = rawmsg_skip_comment(p);
			if (buf_addc(&l.cur, ' ') < 0)
				r = -1;
			continue;
		case '"':
			/* A quoted string: copied whole, quotes and escapes kept, as it
			 * may be a quoted local part. */
			q = p + 1;
			while (*q && *q != '"') {
				if (*q == '\\' && q[1])
					q++;
				q++;
			}
			if (*q == '"')
				q++;
			if (buf_add(&l.cur, p, (size_t)(q - p)) < 0)
				r = -1;
			p = q;
			continue;
		case '<':
			q = strchr(p, '>');
			if (q == NULL)
				q = p + strlen(p);
			buf_reset(&l.angle);
			if (buf_add(&l.angle, p + 1, (size_t)(q - p - 1)) < 0)
				r = -1;
			l.has_angle = 1;
			p = *q ? q + 1 : q;
			continue;
		case ':':
			/* A group's display name ends here ("team: a@x, b@y;"). */
			buf_reset(&l.cur);
			p++;
			continue;
		case ',':
		case ';':
			r = rawmsg_emit(&l);
			p++;
			continue;
		default:
			if (buf_addc(&l.cur, *p) < 0)
				r = -1;
			p++;
		}
	}
	if (r == 0)
		r = rawmsg_emit(&l);
	else if (err->cls == CL_OK)
		err_set(err, CL_EDATA, "address list too long");
	buf_free(&l.cur);
	buf_free(&l.angle);
	return r < 0 ? -1 : 0;
}

struct rawmsg_rcpt_ctx {
	const char *s;
	int resent; /* 1: take Resent-*, 0: To/Cc/Bcc, -1: only detecting */
	int has_resent;
	int (*cb)(void *arg, const char *addr);
	void *arg;
	struct cl_err *err;
	int failed;
};

static int rawmsg_rcpt_cb(void *arg, const struct rawmsg_field *f)
{
	static const char *const plain[] = {"To", "Cc", "Bcc"};
	static const char *const resent[] = {"Resent-To", "Resent-Cc", "Resent-Bcc"};
	struct rawmsg_rcpt_ctx *c = arg;
	struct buf v = BUF_INIT(MSG_MAX);
	size_t i;

	if (c->failed)
		return 0;
	for (i = 0; i < 3; i++) {
		if (c->resent < 0) {
			if (rawmsg_name_is(c->s, f, resent[i]))
				c->has_resent = 1;
			continue;
		}
		if (!rawmsg_name_is(c->s, f, c->resent ? resent[i] : plain[i]))
			continue;
		if (rawmsg_value(c->s, f, &v) < 0 ||
		    rawmsg_addr_list(buf_cstr(&v), c->cb, c->arg, c->err) < 0)
			c->failed = 1;
		break;
	}
	buf_free(&v);
	return 0;
}

int rawmsg_recipients(const char *msg, size_t len, int (*cb)(void *arg, const char *addr),
                      void *arg, struct cl_err *err)
{
	struct rawmsg_rcpt_ctx c;
	size_t first;
	int blank;

	memset(&c, 0, sizeof(c));
	c.s = msg;
	c.cb = cb;
	c.arg = arg;
	c.err = err;
	err->cls = CL_OK;
	c.resent = -1;
	rawmsg_walk(msg, len, &first, &blank, rawmsg_rcpt_cb, &c);
	c.resent = c.has_resent;
	rawmsg_walk(msg, len, &first, &blank, rawmsg_rcpt_cb, &c);
	/* The callbacks set err through c.err (cppcheck cannot see that). */
	if (c.failed)
		/* cppcheck-suppress knownConditionTrueFalse */
		return err->cls != CL_OK ? -1 : err_set(err, CL_EDATA, "bad recipient header");
	return 0;
}

/* ---- preparing the message ------------------------------------------ */

struct rawmsg_prep_ctx {
	const char *s;
	const struct rawmsg_opts *o;
	struct buf *out;
	struct rawmsg_info *info;
	int has_date, has_msgid, has_from, failed;
};

static int rawmsg_prep_cb(void *arg, const struct rawmsg_field *f)
{
	struct rawmsg_prep_ctx *c = arg;

	if (rawmsg_name_is(c->s, f, "Date"))
		c->has_date = 1;
	else if (rawmsg_name_is(c->s, f, "Message-ID"))
		c->has_msgid = 1;
	else if (rawmsg_name_is(c->s, f, "From"))
		c->has_from = 1;
	if (c->o->strip_bcc &&
	    (rawmsg_name_is(c->s, f, "Bcc") || rawmsg_name_is(c->s, f, "Resent-Bcc"))) {
		c->info->removed++;
		return 0;
	}
	if (buf_add(c->out, c->s + f->start, f->end - f->start) < 0)
		c->failed = 1;
	/* The last field may lack its CRLF when the input has no body. */
	else if (c->out->len && c->out->data[c->out->len - 1] != '\n' &&
	         buf_adds(c->out, "\r\n") < 0)
		c->failed = 1;
	return 0;
}

static int rawmsg_add_fields(struct rawmsg_prep_ctx *c)
{
	struct buf v = BUF_INIT(1024);
	struct hdr h;
	int r = 0;

	if (c->o->from_addr && !c->has_from) {
		hdr_begin(&h, c->out, "From");
		if (c->o->from_name && c->o->from_name[0])
			hdr_phrase(&h, c->o->from_name, strlen(c->o->from_name));
		if (c->o->from_name && c->o->from_name[0]) {
			buf_printf(&v, "<%s>", c->o->from_addr);
		} else {
			buf_adds(&v, c->o->from_addr);
		}
		hdr_token(&h, v.data ? v.data : "", v.len);
		r |= hdr_end(&h);
		c->info->added++;
	}
	if (c->o->add_date && !c->has_date) {
		buf_reset(&v);
		r |= compose_date(c->o->date ? c->o->date : time(NULL), &v);
		r |= buf_printf(c->out, "Date: %s\r\n", buf_cstr(&v));
		c->info->added++;
	}
	if (c->o->msgid_domain && !c->has_msgid) {
		buf_reset(&v);
		r |= compose_message_id(c->o->msgid_domain, &v);
		r |= buf_printf(c->out, "Message-ID: %s\r\n", buf_cstr(&v));
		c->info->added++;
	}
	buf_free(&v);
	return r ? -1 : 0;
}

int rawmsg_prepare(const char *in, size_t len, const struct rawmsg_opts *o, struct buf *out,
                   struct rawmsg_info *info, struct cl_err *err)
{
	struct rawmsg_prep_ctx c;
	size_t first, body, i;
	int blank;

	memset(info, 0, sizeof(*info));
	memset(&c, 0, sizeof(c));
	c.s = in;
	c.o = o;
	c.out = out;
	c.info = info;
	buf_reset(out);
	for (i = 0; i < len; i++)
		if ((unsigned char)in[i] > 127) {
			info->is_8bit = 1;
			break;
		}
	body = rawmsg_walk(in, len, &first, &blank, rawmsg_prep_cb, &c);
	info->had_header = body > first;
	if (c.failed || rawmsg_add_fields(&c) < 0 || buf_adds(out, "\r\n") < 0)
		return err_set(err, CL_EDATA, "the message is larger than %zu bytes", out->max);
	/* Without a header section, everything after an mbox line is body. */
	if (!info->had_header)
		body = first;
	if (len > body && buf_add(out, in + body, len - body) < 0)
		return err_set(err, CL_EDATA, "the message is larger than %zu bytes", out->max);
	(void)blank;
	return 0;
}
