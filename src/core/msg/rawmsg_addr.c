/*
 * rawmsg_addr.c - address lists (see rawmsg_addr.h), read with RFC 5322's
 * lexical rules (quoted strings, nested comments, angle addresses, groups,
 * obsolete routes), not with regexes. Every piece is bounded by
 * RAWMSG_ADDR_MAX.
 */
#include "msg/rawmsg_addr.h"

#include <string.h>

#include "base/buf.h"

struct rawmsg_addr_lex {
	struct buf cur;   /* the mailbox being read, comments dropped */
	struct buf angle; /* text inside <...> */
	int has_angle;
	int (*cb)(void *arg, const char *addr);
	void *arg;
	struct cl_err *err;
};

/* Skip a comment at p (p[0] == '('), nested, with quoted-pairs. */
static const char *rawmsg_addr_skip_comment(const char *p)
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
static int rawmsg_addr_emit(struct rawmsg_addr_lex *l)
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
	struct rawmsg_addr_lex l;
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
			p = rawmsg_addr_skip_comment(p);
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
			r = rawmsg_addr_emit(&l);
			p++;
			continue;
		default:
			if (buf_addc(&l.cur, *p) < 0)
				r = -1;
			p++;
		}
	}
	if (r == 0)
		r = rawmsg_addr_emit(&l);
	else if (err->cls == CL_OK)
		err_set(err, CL_EDATA, "address list too long");
	buf_free(&l.cur);
	buf_free(&l.angle);
	return r < 0 ? -1 : 0;
}
