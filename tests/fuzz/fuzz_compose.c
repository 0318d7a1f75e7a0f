/*
 * fuzz_compose.c - libFuzzer harness for message composition (compose.c,
 * hdr.c, mime.c, charset.c) with random field values: CRLF only, no line over
 * 998 octets, encoded-words of at most 75 characters, and a header with only
 * our fields and the -H names given (header injection, CVE-2016-10033's class).
 */
#include <ctype.h>
#include <strings.h>

#include "msg/compose.h"
#include "fuzz.h"
#include "msg/hdr.h"

static const char *const fuzz_fields[] = {
    "From",
    "To",
    "Cc",
    "Reply-To",
    "Subject",
    "Date",
    "Message-ID",
    "In-Reply-To",
    "References",
    "X-Mailer",
    "MIME-Version",
    "Content-Type",
    "Content-Transfer-Encoding",
    "Content-Disposition",
};

static int fuzz_field_known(const char *name, size_t n, const char *const *extra, size_t nextra)
{
	size_t i;

	for (i = 0; i < sizeof(fuzz_fields) / sizeof(fuzz_fields[0]); i++)
		if (strlen(fuzz_fields[i]) == n && strncasecmp(fuzz_fields[i], name, n) == 0)
			return 1;
	for (i = 0; i < nextra; i++) {
		const char *c = strchr(extra[i], ':');
		if (c != NULL && (size_t)(c - extra[i]) == n && strncasecmp(extra[i], name, n) == 0)
			return 1;
	}
	return 0;
}

/* w[0..n) is "=?charset?B?text?=" or with ?Q?, text without blanks. */
static int fuzz_is_ew(const char *w, size_t n)
{
	size_t i = 2;

	while (i < n && (isalnum((unsigned char)w[i]) || w[i] == '-' || w[i] == '_'))
		i++;
	if (i == 2 || i + 3 >= n || w[i] != '?' || strchr("BbQq", w[i + 1]) == NULL ||
	    w[i + 2] != '?')
		return 0;
	for (i += 3; i + 2 < n; i++)
		if (w[i] == ' ' || w[i] == '?')
			return 0;
	return 1;
}

/* 1 if w is inside <...> on the line that starts at line. */
static int fuzz_in_angle(const char *line, const char *w)
{
	const char *lt = NULL, *gt = NULL, *c;

	for (c = line; c < w; c++) {
		if (*c == '<')
			lt = c;
		else if (*c == '>')
			gt = c;
	}
	return lt != NULL && (gt == NULL || gt < lt);
}

static void fuzz_check_message(const struct buf *m, const char *const *hdrs, size_t nh)
{
	const char *p = m->data, *end = m->data + m->len, *e, *w;
	int in_header = 1;

	FUZZ_ASSERT(!fuzz_has_bare_eol(m->data, m->len), "CRLF line ends only");
	while (p < end) {
		size_t n;

		e = memmem(p, (size_t)(end - p), "\r\n", 2);
		n = e ? (size_t)(e - p) : (size_t)(end - p);
		FUZZ_ASSERT(n <= 998, "no line over 998 octets (RFC 5322 2.1.1)");
		if (in_header) {
			if (n == 0) {
				in_header = 0;
			} else if (*p != ' ' && *p != '\t') {
				const char *colon = memchr(p, ':', n);
				FUZZ_ASSERT(colon != NULL, "a header line is a field or a fold");
				FUZZ_ASSERT(fuzz_field_known(p, (size_t)(colon - p), hdrs, nh),
				            "only the fields we write, or those given with -H");
			}
			for (w = p;
			     in_header && (w = memmem(w, (size_t)(p + n - w), "=?", 2)) != NULL;) {
				const char *q = memmem(w + 2, (size_t)(p + n - w - 2), "?=", 2);
				if (q == NULL)
					break;
				/* "=?cs?B?...?=" that we wrote: not inside an <addr-spec>. */
				if (fuzz_is_ew(w, (size_t)(q + 2 - w)) && !fuzz_in_angle(p, w))
					FUZZ_ASSERT(
					    (size_t)(q + 2 - w) <= 75,
					    "encoded-words are at most 75 characters (RFC 2047 2)");
				w = q + 2;
			}
		}
		p += n + 2;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const charsets[] = {NULL,        "UTF-8",  "ISO-2022-JP", "ISO-8859-1",
	                                       "Shift_JIS", "EUC-JP", "UTF-16",      "KOI8-R"};
	struct fuzz_in in = {data, size};
	struct compose_params p;
	struct compose_result res;
	struct buf out = BUF_INIT(MSG_MAX);
	struct cl_err err;
	char *f[12];
	const char *to[2], *hdrs[2];
	size_t i, body_len, html_len;
	unsigned fl;

	if (size < 1 || size > 65536)
		return 0;
	fl = fuzz_byte(&in);
	for (i = 0; i < 10; i++)
		f[i] = fuzz_field(&in, '\0', NULL);
	f[10] = fuzz_field(&in, '\0', &html_len);
	f[11] = fuzz_field(&in, '\xff', &body_len);
	memset(&p, 0, sizeof(p));
	p.from_addr = f[0][0] ? f[0] : "sender@example.test";
	p.from_name = f[1][0] ? f[1] : NULL;
	to[0] = f[2][0] ? f[2] : "rcpt@example.test";
	to[1] = f[3];
	p.to = to;
	p.nto = f[3][0] ? 2 : 1;
	p.subject = (fl & 1) ? f[4] : NULL;
	hdrs[0] = f[5];
	hdrs[1] = f[6];
	p.headers = hdrs;
	p.nheaders = f[5][0] ? (f[6][0] ? 2 : 1) : 0;
	p.reply_to = f[7][0] ? f[7] : NULL;
	p.in_reply_to = f[8][0] ? f[8] : NULL;
	p.references = f[9][0] ? f[9] : NULL;
	p.html = (fl & 2) ? f[10] : NULL;
	p.html_len = html_len;
	p.body = f[11];
	p.body_len = body_len;
	p.mailer = "clsmtpc-fuzz";
	p.msgid_domain = "fuzz.test";
	p.date = 1700000000;
	p.charset = charsets[(fl >> 2) & 7];
	p.allow_8bit = (fl >> 5) & 1;
	p.ascii_addrs = (fl >> 6) & 1;
	p.server = "mx.fuzz.test";
	if (compose_message(&p, &out, &res, &err) == 0)
		fuzz_check_message(&out, hdrs, p.nheaders);
	else
		FUZZ_ASSERT(err.cls != CL_OK && strchr(err.msg, '\n') == NULL,
		            "a refusal has a class and a one-line message");
	buf_free(&out);
	for (i = 0; i < 12; i++)
		free(f[i]);
	return 0;
}
