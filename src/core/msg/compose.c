/*
 * compose.c - an RFC 5322 message from a body and the command line's fields
 * (see compose.h). Checks every field first (one line, valid UTF-8, held by
 * the wire charset), then writes the header through hdr.c (folding,
 * encoded-words) and hands the body to mime.c.
 */
#include "msg/compose.h"

#include <string.h>
#include <strings.h>

#include <openssl/rand.h>

#include "smtp/addr.h"
#include "smtp/addr_idn.h"
#include "msg/charset.h"
#include "msg/hdr.h"
#include "msg/mime.h"
#include "base/utf8.h"

/* RFC 5321 4.5.3.1.3: a path is at most 256 octets including "<>". */
#define COMPOSE_ADDR_MAX 254
/* Most -H fields, and most message identifiers in References. */
#define COMPOSE_HEADERS_MAX 100
#define COMPOSE_MSGIDS_MAX  1000
/* One identifier must fit on a line after "In-Reply-To: " (RFC 5322 2.1.1:
 * 998 octets), since it cannot be folded (found by tests/fuzz/fuzz_compose). */
#define COMPOSE_MSGID_MAX 985
/* "Name: " must leave room for a value on a 78-column line; a longer name
 * could push the first line past 998 octets (found by fuzz_compose). */
#define COMPOSE_FIELD_NAME_MAX 76

/* Fields that -H may not set, and the option that does (NULL: ours alone).
 * Date, Message-ID and X-Mailer given with -H replace ours. */
static const char *const compose_own_fields[][2] = {
    {"From", "-F or -N"},
    {"To", "-T"},
    {"Cc", "--cc"},
    {"Bcc", "--bcc (a Bcc field would show the blind copies to every recipient)"},
    {"Subject", "-s"},
    {"Reply-To", "--reply-to"},
    {"In-Reply-To", "--in-reply-to"},
    {"References", "--references"},
    {"MIME-Version", NULL},
};

static const char *const compose_days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const compose_months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                             "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

int compose_date(time_t t, struct buf *out)
{
	struct tm tm;
	long off;
	char sign = '+';

	if (localtime_r(&t, &tm) == NULL || tm.tm_wday < 0 || tm.tm_wday > 6 || tm.tm_mon < 0 ||
	    tm.tm_mon > 11)
		return -1;
	off = tm.tm_gmtoff / 60;
	if (off < 0) {
		sign = '-';
		off = -off;
	}
	/* Names from our own tables: strftime's %a/%b follow the locale. */
	return buf_printf(out, "%s, %d %s %d %02d:%02d:%02d %c%02ld%02ld", compose_days[tm.tm_wday],
	                  tm.tm_mday, compose_months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour,
	                  tm.tm_min, tm.tm_sec, sign, off / 60, off % 60);
}

/* A dot-atom (RFC 5322 3.2.3) made of letters, digits, '-' and '_'. */
static int compose_domain_ok(const char *d)
{
	size_t i, n = strlen(d);

	if (n == 0 || n > 253 || d[0] == '.' || d[n - 1] == '.' || strstr(d, "..") != NULL)
		return 0;
	for (i = 0; i < n; i++) {
		char c = d[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.'))
			return 0;
	}
	return 1;
}

int compose_message_id(const char *domain, struct buf *out)
{
	unsigned char r[8];
	time_t now = time(NULL);
	struct tm tm;

	if (domain == NULL || !compose_domain_ok(domain) || gmtime_r(&now, &tm) == NULL)
		return -1;
	if (RAND_bytes(r, sizeof(r)) != 1)
		return -1;
	return buf_printf(out, "<%04d%02d%02d%02d%02d%02d.%02x%02x%02x%02x%02x%02x%02x%02x@%s>",
	                  tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	                  tm.tm_sec, r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], domain);
}

int compose_encode_words(const char *s, struct buf *out)
{
	struct buf tmp = BUF_INIT(out->max);
	struct hdr h;
	size_t n = strlen(s);
	int r;

	if (!utf8_valid(s, n, NULL))
		return -1;
	if (!hdr_text_needs_encoding(s, n))
		return buf_add(out, s, n);
	/* A field of its own starting in column 0: words separated by folds. */
	memset(&h, 0, sizeof(h));
	h.out = &tmp;
	hdr_words(&h, s, n);
	r = h.failed || tmp.len == 0 ? -1 : buf_add(out, tmp.data + 1, tmp.len - 1);
	buf_free(&tmp);
	return r;
}

/* Names a control character for an error message. */
static const char *compose_ctl_name(unsigned char c)
{
	switch (c) {
	case '\r':
		return "a carriage return (CR)";
	case '\n':
		return "a line feed (LF)";
	case '\0':
		return "a NUL byte";
	default:
		return "a control character";
	}
}

/* A header text: one line (no controls but TAB) of valid UTF-8. */
static int compose_check_text(const char *s, size_t n, const char *what, struct cl_err *err)
{
	size_t i, bad;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return err_set(err, CL_EDATA,
			               "%s contains %s; header fields must be one line", what,
			               compose_ctl_name(c));
	}
	if (!utf8_valid(s, n, &bad))
		return err_set(err, CL_EDATA, "%s is not valid UTF-8 (at byte %zu)", what, bad + 1);
	return 0;
}

static int compose_check_addr(const char *a, const char *what, struct cl_err *err)
{
	size_t n;

	if (a == NULL || *a == '\0')
		return err_set(err, CL_EDATA, "%s is empty", what);
	n = strlen(a);
	if (compose_check_text(a, n, what, err) < 0)
		return -1;
	if (n > COMPOSE_ADDR_MAX)
		return err_set(err, CL_EDATA, "%s is longer than %d octets", what,
		               COMPOSE_ADDR_MAX);
	if (strpbrk(a, "<>\t") != NULL)
		return err_set(err, CL_EDATA, "%s contains '<', '>' or a tab: %s", what, a);
	return 0;
}

/* "Name: value" of -H: name is printable ASCII but ':' (RFC 5322 3.6.8),
 * value one line of UTF-8, and the field not one we write ourselves. */
static int compose_check_field(const char *f, size_t *namelen, const char **value,
                               struct cl_err *err)
{
	const char *colon = strchr(f, ':'), *v;
	size_t i, n;

	if (colon == NULL || colon == f)
		return err_set(err, CL_EDATA, "-H '%s' is not \"Name: value\"", f);
	n = (size_t)(colon - f);
	if (n > COMPOSE_FIELD_NAME_MAX)
		return err_set(err, CL_EDATA,
		               "-H '%.40s...': a field name is at most %d characters", f,
		               COMPOSE_FIELD_NAME_MAX);
	for (i = 0; i < n; i++)
		if ((unsigned char)f[i] < 33 || (unsigned char)f[i] > 126)
			return err_set(err, CL_EDATA,
			               "-H '%.*s': a field name is printable ASCII without spaces "
			               "(RFC 5322 3.6.8)",
			               (int)n, f);
	for (i = 0; i < sizeof(compose_own_fields) / sizeof(compose_own_fields[0]); i++)
		if (strlen(compose_own_fields[i][0]) == n &&
		    strncasecmp(f, compose_own_fields[i][0], n) == 0)
			return compose_own_fields[i][1]
			           ? err_set(err, CL_EDATA, "-H %.*s: give it with %s", (int)n, f,
			                     compose_own_fields[i][1])
			           : err_set(err, CL_EDATA,
			                     "-H %.*s: that field is written by clsmtpc", (int)n,
			                     f);
	if (n >= 8 && strncasecmp(f, "Content-", 8) == 0)
		return err_set(
		    err, CL_EDATA,
		    "-H %.*s: the MIME structure is clsmtpc's (use -c, --html, --attach)", (int)n,
		    f);
	for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
		;
	*namelen = n;
	*value = v;
	return compose_check_text(v, strlen(v), "-H value", err);
}

/* Split a list of message identifiers ("<a@b> <c@d>", commas allowed, the
 * <> optional) into "<id>" tokens, NUL-separated, in out. */
static int compose_msgids(const char *in, const char *what, struct buf *out, size_t *n,
                          struct cl_err *err)
{
	size_t i = 0, j, k;

	*n = 0;
	while (in[i]) {
		while (in[i] == ' ' || in[i] == '\t' || in[i] == ',')
			i++;
		if (in[i] == '\0')
			break;
		for (j = i; in[j] && in[j] != ' ' && in[j] != '\t' && in[j] != ','; j++)
			;
		k = in[i] == '<' ? i + 1 : i;
		if (j - k < (in[i] == '<' ? 2 : 1) || (in[i] == '<') != (in[j - 1] == '>'))
			return err_set(err, CL_EDATA, "%s: '%.*s' is not a message identifier",
			               what, (int)(j - i), in + i);
		for (; k < j - (in[i] == '<'); k++)
			if ((unsigned char)in[k] < 33 || (unsigned char)in[k] > 126 ||
			    in[k] == '<' || in[k] == '>')
				return err_set(
				    err, CL_EDATA,
				    "%s: '%.*s' is not a message identifier (RFC 5322 3.6.4)", what,
				    (int)(j - i), in + i);
		if (j - i + 2 > COMPOSE_MSGID_MAX)
			return err_set(err, CL_EDATA,
			               "%s: '%.40s...' is too long for a header line (%zu octets)",
			               what, in + i, j - i);
		if (++*n > COMPOSE_MSGIDS_MAX)
			return err_set(err, CL_EDATA, "%s: more than %d identifiers", what,
			               COMPOSE_MSGIDS_MAX);
		if ((in[i] != '<' && buf_addc(out, '<') < 0) || buf_add(out, in + i, j - i) < 0 ||
		    (in[i] != '<' && buf_addc(out, '>') < 0) || buf_addc(out, '\0') < 0)
			return err_set(err, CL_EDATA, "%s is too long", what);
		i = j;
	}
	return 0;
}

static int compose_check_body(const char *b, size_t len, const char *what, struct cl_err *err)
{
	size_t i, bad, line = 1;

	if (len > MSG_MAX)
		return err_set(err, CL_EDATA, "%s is larger than %u bytes", what, MSG_MAX);
	if (len > 0 && !utf8_valid(b, len, &bad)) {
		for (i = 0; i < bad; i++)
			line += b[i] == '\n';
		return err_set(err, CL_EDATA, "%s is not valid UTF-8 (line %zu, byte %zu)", what,
		               line, bad + 1);
	}
	return 0;
}

/* --reply-to "Name <addr>, addr" as "name\0addr\0" pairs in out, checked. */
struct compose_rt_ctx {
	struct buf *out;
	size_t n;
	struct cl_err *err;
	int bad;
};

static int compose_rt_one(void *arg, const char *one)
{
	struct compose_rt_ctx *c = arg;
	struct buf name = BUF_INIT(1024), addr = BUF_INIT(1024);
	const char *a;

	if (addr_parse_display(one, &name, &addr, c->err) < 0) {
		c->bad = 1;
	} else {
		a = addr.len ? buf_cstr(&addr) : one;
		if (compose_check_addr(a, "Reply-To address", c->err) < 0 ||
		    compose_check_text(buf_cstr(&name), name.len, "Reply-To name", c->err) < 0 ||
		    buf_add(c->out, buf_cstr(&name), name.len + 1) < 0 ||
		    buf_add(c->out, a, strlen(a) + 1) < 0)
			c->bad = 1;
		c->n++;
	}
	buf_free(&name);
	buf_free(&addr);
	return c->bad ? -1 : 0;
}

static int compose_reply_to(const char *list, struct buf *pairs, size_t *n, struct cl_err *err)
{
	struct compose_rt_ctx c = {pairs, 0, err, 0};

	if (addr_split_list(list, compose_rt_one, &c) < 0 || c.n == 0) {
		if (!c.bad)
			err_set(err, CL_EDATA, "--reply-to '%s' is not a list of addresses", list);
		return -1;
	}
	*n = c.n;
	return 0;
}

static int compose_check(const struct compose_params *p, struct cl_err *err)
{
	struct buf ids = BUF_INIT(64 * 1024), rt = BUF_INIT(64 * 1024);
	const char *v;
	size_t i, n;
	int r = -1;

	if (compose_check_addr(p->from_addr, "From address", err) < 0)
		goto out;
	if (p->from_name &&
	    compose_check_text(p->from_name, strlen(p->from_name), "display name", err) < 0)
		goto out;
	for (i = 0; i < p->nto; i++)
		if (compose_check_addr(p->to[i], "To address", err) < 0)
			goto out;
	for (i = 0; i < p->ncc; i++)
		if (compose_check_addr(p->cc[i], "Cc address", err) < 0)
			goto out;
	if (p->reply_to && compose_reply_to(p->reply_to, &rt, &n, err) < 0)
		goto out;
	if (p->subject && compose_check_text(p->subject, strlen(p->subject), "subject", err) < 0)
		goto out;
	if (p->mailer && compose_check_text(p->mailer, strlen(p->mailer), "X-Mailer", err) < 0)
		goto out;
	if ((p->in_reply_to &&
	     compose_msgids(p->in_reply_to, "--in-reply-to", &ids, &n, err) < 0) ||
	    (p->references && compose_msgids(p->references, "--references", &ids, &n, err) < 0))
		goto out;
	if (p->nheaders > COMPOSE_HEADERS_MAX) {
		err_set(err, CL_EDATA, "more than %d -H fields", COMPOSE_HEADERS_MAX);
		goto out;
	}
	for (i = 0; i < p->nheaders; i++)
		if (compose_check_field(p->headers[i], &n, &v, err) < 0)
			goto out;
	if (compose_check_body(p->body, p->body_len, "message body", err) < 0 ||
	    (p->html && compose_check_body(p->html, p->html_len, "HTML part", err) < 0))
		goto out;
	r = 0;
out:
	buf_free(&ids);
	buf_free(&rt);
	return r;
}

/* Every header text the charset must hold, checked up front so that the
 * error names the field and the character. */
static int compose_check_charset(const struct compose_params *p, struct charset *cs,
                                 struct cl_err *err)
{
	struct buf tmp = BUF_INIT(1 << 20), rt = BUF_INIT(64 * 1024);
	const char *v;
	size_t i, n = 0;
	int r = 0;

	if (cs->is_utf8)
		return 0;
	if (p->from_name)
		r |= charset_from_utf8(cs, p->from_name, strlen(p->from_name), &tmp, "display name",
		                       err);
	if (!r && p->subject)
		r |= charset_from_utf8(cs, p->subject, strlen(p->subject), &tmp, "subject", err);
	for (i = 0; !r && i < p->nheaders; i++) {
		compose_check_field(p->headers[i], &n, &v, err);
		r |= charset_from_utf8(cs, v, strlen(v), &tmp, "-H value", err);
	}
	if (!r && p->reply_to && compose_reply_to(p->reply_to, &rt, &n, err) == 0)
		for (v = rt.data; !r && n-- > 0; v += strlen(v) + 1, v += strlen(v) + 1)
			r |= charset_from_utf8(cs, v, strlen(v), &tmp, "Reply-To name", err);
	buf_free(&tmp);
	buf_free(&rt);
	return r ? -1 : 0;
}

struct compose_ctx {
	const struct compose_params *p;
	struct charset *cs;
	struct buf *out;
	struct hdr *h;
	struct compose_result *res;
	struct cl_err *err;
};

/* One address as this server takes it, in "<>", then ',' if more follow. */
static int compose_addr(struct compose_ctx *c, const char *addr, const char *what, struct buf *tok)
{
	buf_reset(tok);
	buf_addc(tok, '<');
	if (c->p->ascii_addrs) {
		if (addr_idn_ascii(addr, tok, what, c->p->server, c->err) < 0)
			return -1;
	} else {
		buf_adds(tok, addr);
		if (!utf8_is_ascii(addr, strlen(addr)))
			c->res->smtputf8 = c->res->is_8bit = 1;
	}
	return buf_addc(tok, '>');
}

static int compose_list(struct compose_ctx *c, const char *name, const char *const *a, size_t n,
                        const char *what)
{
	struct buf tok = BUF_INIT(1024);
	size_t i;
	int r = 0;

	hdr_begin(c->h, c->out, name);
	for (i = 0; i < n && r == 0; i++) {
		r = compose_addr(c, a[i], what, &tok);
		if (r == 0 && i + 1 < n)
			buf_addc(&tok, ',');
		hdr_token(c->h, tok.data, tok.len);
	}
	r |= hdr_end(c->h);
	buf_free(&tok);
	return r;
}

static int compose_reply_to_field(struct compose_ctx *c)
{
	struct buf rt = BUF_INIT(64 * 1024), tok = BUF_INIT(1024);
	const char *name, *addr;
	size_t n = 0;
	int r;

	r = compose_reply_to(c->p->reply_to, &rt, &n, c->err);
	hdr_begin(c->h, c->out, "Reply-To");
	hdr_set_charset(c->h, c->cs);
	for (name = rt.data; r == 0 && n-- > 0; name = addr + strlen(addr) + 1) {
		addr = name + strlen(name) + 1;
		if (*name)
			hdr_phrase(c->h, name, strlen(name));
		r = compose_addr(c, addr, "Reply-To address", &tok);
		if (r == 0 && n > 0)
			buf_addc(&tok, ',');
		hdr_token(c->h, tok.data, tok.len);
	}
	if (r == 0)
		r = hdr_end(c->h);
	buf_free(&rt);
	buf_free(&tok);
	return r;
}

static int compose_header(const struct compose_params *p, struct charset *cs, struct buf *out,
                          struct compose_result *res, struct cl_err *err)
{
	struct buf tmp = BUF_INIT(1024), ids = BUF_INIT(64 * 1024);
	struct compose_ctx c = {p, cs, out, NULL, res, err};
	struct hdr h;
	const char *dom, *v, *id;
	size_t i, n, nl;
	int r = 0, own_date = 1, own_id = 1, own_mailer = 1;

	c.h = &h;
	for (i = 0; i < p->nheaders; i++) {
		compose_check_field(p->headers[i], &nl, &v, err);
		own_date &= !(nl == 4 && strncasecmp(p->headers[i], "Date", 4) == 0);
		own_id &= !(nl == 10 && strncasecmp(p->headers[i], "Message-ID", 10) == 0);
		own_mailer &= !(nl == 8 && strncasecmp(p->headers[i], "X-Mailer", 8) == 0);
	}
	hdr_begin(&h, out, "From");
	hdr_set_charset(&h, cs);
	if (p->from_name)
		hdr_phrase(&h, p->from_name, strlen(p->from_name));
	if (compose_addr(&c, p->from_addr, "sender", &tmp) < 0)
		goto fail;
	hdr_token(&h, tmp.data, tmp.len);
	r |= hdr_end(&h);
	if (p->nto > 0 && compose_list(&c, "To", p->to, p->nto, "recipient") < 0)
		goto fail;
	if (p->ncc > 0 && compose_list(&c, "Cc", p->cc, p->ncc, "Cc recipient") < 0)
		goto fail;
	if (p->reply_to && compose_reply_to_field(&c) < 0)
		goto fail;
	if (p->subject) {
		hdr_begin(&h, out, "Subject");
		hdr_set_charset(&h, cs);
		hdr_text(&h, p->subject, strlen(p->subject));
		r |= hdr_end(&h);
	}
	if (own_date) {
		buf_reset(&tmp);
		if (compose_date(p->date ? p->date : time(NULL), &tmp) < 0) {
			err_set(err, CL_ESOFTWARE, "cannot format the Date: field");
			goto fail;
		}
		hdr_begin(&h, out, "Date");
		hdr_token(&h, tmp.data, tmp.len);
		r |= hdr_end(&h);
	}
	if (own_id) {
		dom = p->msgid_domain;
		if (dom == NULL) {
			dom = strrchr(p->from_addr, '@');
			dom = dom && compose_domain_ok(dom + 1) ? dom + 1 : "localhost";
		}
		buf_reset(&tmp);
		if (compose_message_id(dom, &tmp) < 0) {
			err_set(err, CL_EDATA, "cannot make a Message-ID with domain \"%s\"", dom);
			goto fail;
		}
		hdr_begin(&h, out, "Message-ID");
		hdr_token(&h, tmp.data, tmp.len);
		r |= hdr_end(&h);
	}
	for (i = 0; i < 2; i++) {
		const char *list = i == 0 ? p->in_reply_to : p->references;
		if (list == NULL)
			continue;
		buf_reset(&ids);
		compose_msgids(list, "", &ids, &n, err);
		hdr_begin(&h, out, i == 0 ? "In-Reply-To" : "References");
		for (id = ids.data; n-- > 0; id += strlen(id) + 1)
			hdr_token(&h, id, strlen(id));
		r |= hdr_end(&h);
	}
	for (i = 0; i < p->nheaders; i++) {
		compose_check_field(p->headers[i], &nl, &v, err);
		buf_reset(&tmp);
		buf_add(&tmp, p->headers[i], nl);
		hdr_begin(&h, out, buf_cstr(&tmp));
		hdr_set_charset(&h, cs);
		hdr_text(&h, v, strlen(v));
		r |= hdr_end(&h);
	}
	if (p->mailer && own_mailer) {
		hdr_begin(&h, out, "X-Mailer");
		hdr_text(&h, p->mailer, strlen(p->mailer));
		r |= hdr_end(&h);
	}
	r |= buf_adds(out, "MIME-Version: 1.0\r\n");
	buf_free(&tmp);
	buf_free(&ids);
	if (r)
		return err_set(err, CL_EDATA, "the message header is too large");
	return 0;
fail:
	buf_free(&tmp);
	buf_free(&ids);
	return -1;
}

int compose_stream(const struct compose_params *p, struct msgstream *ms, struct compose_result *res,
                   struct cl_err *err)
{
	struct compose_result local = {0};
	struct mime_params mp;
	struct mime_result mr;
	struct charset cs;
	struct buf *m;
	int r = -1;

	res = res ? res : &local;
	memset(res, 0, sizeof(*res));
	if (compose_check(p, err) < 0 || charset_open(&cs, p->charset, err) < 0)
		return -1;
	if (compose_check_charset(p, &cs, err) < 0)
		goto out;
	if ((m = msgstream_mem(ms)) == NULL || compose_header(p, &cs, m, res, err) < 0)
		goto out;
	memset(&mp, 0, sizeof(mp));
	mp.cs = &cs;
	mp.label_ascii = p->charset == NULL;
	mp.text = p->body ? p->body : "";
	mp.text_len = p->body_len;
	mp.html = p->html;
	mp.html_len = p->html_len;
	mp.att = p->att;
	mp.natt = p->natt;
	mp.allow_8bit = p->allow_8bit;
	if (mime_build(&mp, ms, &mr, err) < 0)
		goto out;
	res->is_8bit |= mr.is_8bit;
	r = 0;
out:
	charset_close(&cs);
	return r;
}

int compose_message(const struct compose_params *p, struct buf *out, struct compose_result *res,
                    struct cl_err *err)
{
	struct msgstream ms;
	size_t start = out->len;
	int r;

	msgstream_init(&ms);
	r = compose_stream(p, &ms, res, err);
	if (r == 0 && msgstream_drain(&ms, out, err) < 0) {
		if (err->cls == CL_ESOFTWARE)
			err_set(err, CL_EDATA, "composed message is larger than %zu bytes",
			        out->max);
		r = -1;
	}
	if (r < 0)
		buf_truncate(out, start);
	msgstream_free(&ms);
	return r;
}
