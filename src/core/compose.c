/*
 * compose.c - an RFC 5322 message from a body and a few fields (see
 * compose.h). Checks every field first (one-line, valid UTF-8), then writes
 * the header through hdr.c (folding, encoded-words) and the body as 7bit
 * when it is, else quoted-printable or base64, so the wire never needs 8BITMIME.
 */
#include "compose.h"

#include <string.h>

#include <openssl/rand.h>

#include "b64.h"
#include "hdr.h"
#include "qp.h"
#include "smtp_data.h"
#include "utf8.h"

/* RFC 5321 4.5.3.1.3: a path is at most 256 octets including "<>". */
#define COMPOSE_ADDR_MAX 254
/* Percentage of octets above which base64 beats quoted-printable: each
 * encoded octet costs 3 in QP, base64 costs 4/3 for all. */
#define COMPOSE_QP_MAX_PERCENT 16

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

static int compose_check(const struct compose_params *p, struct cl_err *err)
{
	size_t i, bad, line = 1;

	if (compose_check_addr(p->from_addr, "From address", err) < 0)
		return -1;
	if (p->from_name &&
	    compose_check_text(p->from_name, strlen(p->from_name), "display name", err) < 0)
		return -1;
	for (i = 0; i < p->nto; i++)
		if (compose_check_addr(p->to[i], "To address", err) < 0)
			return -1;
	if (p->subject && compose_check_text(p->subject, strlen(p->subject), "subject", err) < 0)
		return -1;
	if (p->mailer && compose_check_text(p->mailer, strlen(p->mailer), "X-Mailer", err) < 0)
		return -1;
	if (p->body_len > MSG_MAX)
		return err_set(err, CL_EDATA, "message body is larger than %u bytes", MSG_MAX);
	if (p->body_len > 0 && !utf8_valid(p->body, p->body_len, &bad)) {
		for (i = 0; i < bad; i++)
			line += p->body[i] == '\n';
		return err_set(err, CL_EDATA,
		               "message body is not valid UTF-8 (line %zu, byte %zu)", line,
		               bad + 1);
	}
	return 0;
}

/* 7bit (RFC 2045 2.7): ASCII, no NUL, lines of at most 998 octets. */
static int compose_is_7bit(const struct buf *b)
{
	size_t i, col = 0;

	for (i = 0; i < b->len; i++) {
		unsigned char c = (unsigned char)b->data[i];
		if (c == 0 || c >= 0x80)
			return 0;
		if (c == '\n')
			col = 0;
		else if (c != '\r' && ++col > MSG_LINE_MAX)
			return 0;
	}
	return 1;
}

/* The body, canonical CRLF, in the transfer encoding its content needs. */
static int compose_body(const struct buf *canon, const char **cte, struct buf *out)
{
	struct b64_enc b;

	if (compose_is_7bit(canon)) {
		*cte = "7bit";
		return buf_add(out, buf_cstr(canon), canon->len);
	}
	if (utf8_is_ascii(buf_cstr(canon), canon->len) ||
	    qp_encoded_count(canon->data, canon->len) * 100 <=
	        canon->len * COMPOSE_QP_MAX_PERCENT) {
		*cte = "quoted-printable";
		return qp_encode(canon->data, canon->len, out);
	}
	*cte = "base64";
	b64_enc_init(&b);
	if (b64_enc_chunk(&b, canon->data, canon->len, out) < 0 || b64_enc_end(&b, out) < 0)
		return -1;
	return 0;
}

static int compose_header(const struct compose_params *p, const char *charset, const char *cte,
                          struct buf *out, struct cl_err *err)
{
	struct buf tmp = BUF_INIT(1024);
	struct hdr h;
	const char *dom;
	size_t i;
	int r = 0;

	hdr_begin(&h, out, "From");
	if (p->from_name)
		hdr_phrase(&h, p->from_name, strlen(p->from_name));
	buf_printf(&tmp, "<%s>", p->from_addr);
	hdr_token(&h, tmp.data, tmp.len);
	r |= hdr_end(&h);
	if (p->nto > 0) {
		hdr_begin(&h, out, "To");
		for (i = 0; i < p->nto; i++) {
			buf_reset(&tmp);
			buf_printf(&tmp, "<%s>%s", p->to[i], i + 1 < p->nto ? "," : "");
			hdr_token(&h, tmp.data, tmp.len);
		}
		r |= hdr_end(&h);
	}
	if (p->subject) {
		hdr_begin(&h, out, "Subject");
		hdr_text(&h, p->subject, strlen(p->subject));
		r |= hdr_end(&h);
	}
	buf_reset(&tmp);
	if (compose_date(p->date ? p->date : time(NULL), &tmp) < 0) {
		buf_free(&tmp);
		return err_set(err, CL_ESOFTWARE, "cannot format the Date: field");
	}
	hdr_begin(&h, out, "Date");
	hdr_token(&h, tmp.data, tmp.len);
	r |= hdr_end(&h);
	dom = p->msgid_domain;
	if (dom == NULL) {
		dom = strrchr(p->from_addr, '@');
		dom = dom && compose_domain_ok(dom + 1) ? dom + 1 : "localhost";
	}
	buf_reset(&tmp);
	if (compose_message_id(dom, &tmp) < 0) {
		buf_free(&tmp);
		return err_set(err, CL_EDATA, "cannot make a Message-ID with domain \"%s\"", dom);
	}
	hdr_begin(&h, out, "Message-ID");
	hdr_token(&h, tmp.data, tmp.len);
	r |= hdr_end(&h);
	buf_free(&tmp);
	r |= buf_adds(out, "MIME-Version: 1.0\r\n");
	r |= buf_printf(out, "Content-Type: text/plain; charset=%s\r\n", charset);
	r |= buf_printf(out, "Content-Transfer-Encoding: %s\r\n", cte);
	if (p->mailer) {
		hdr_begin(&h, out, "X-Mailer");
		hdr_text(&h, p->mailer, strlen(p->mailer));
		r |= hdr_end(&h);
	}
	r |= buf_add(out, "\r\n", 2);
	if (r)
		return err_set(err, CL_EDATA, "composed message is larger than %zu bytes",
		               out->max);
	return 0;
}

int compose_message(const struct compose_params *p, struct buf *out, struct compose_result *res,
                    struct cl_err *err)
{
	struct buf canon = BUF_INIT(2 * (size_t)MSG_MAX + 2);
	/* Quoted-printable of ASCII full of '=' is three times as long. */
	struct buf body = BUF_INIT(6 * (size_t)MSG_MAX + 6);
	const char *cte = NULL, *charset;
	size_t start = out->len, i;
	int is_8bit = 0;

	if (compose_check(p, err) < 0)
		return -1;
	if (smtp_data_canonicalize(p->body ? p->body : "", p->body_len, &canon) < 0 ||
	    compose_body(&canon, &cte, &body) < 0) {
		buf_free(&canon);
		buf_free(&body);
		return err_set(err, CL_ESOFTWARE, "out of memory encoding the message body");
	}
	charset = utf8_is_ascii(buf_cstr(&canon), canon.len) ? "US-ASCII" : "UTF-8";
	buf_free(&canon);
	/* Only an address can put 8bit octets in the header (RFC 6532). */
	is_8bit = !utf8_is_ascii(p->from_addr, strlen(p->from_addr));
	for (i = 0; i < p->nto; i++)
		is_8bit |= !utf8_is_ascii(p->to[i], strlen(p->to[i]));
	if (compose_header(p, charset, cte, out, err) < 0 ||
	    (buf_add(out, buf_cstr(&body), body.len) < 0 &&
	     err_set(err, CL_EDATA, "composed message is larger than %zu bytes", out->max))) {
		buf_truncate(out, start);
		buf_free(&body);
		return -1;
	}
	buf_free(&body);
	if (res)
		res->is_8bit = is_8bit;
	return 0;
}
