/* test_mime.c - MIME pieces: parameters as tokens, quoted strings or RFC
 * 2231 sections (folded at 78 columns, never splitting a character), the
 * transfer encoding chosen from the content (8bit only with 8BITMIME), and
 * the structure of single-part, alternative and mixed bodies. */
#include <stdlib.h>

#include "check.h"
#include "msg/mime.h"
#include "base/utf8.h"

/* Lines of a field: each at most 78 columns, CRLF, continuation lines
 * starting with a space. */
static int field_ok(const struct buf *f)
{
	size_t i, bol = 0;

	for (i = 0; i + 1 < f->len; i++)
		if (f->data[i] == '\r') {
			if (f->data[i + 1] != '\n' || i - bol > 78)
				return 0;
			if (i + 2 < f->len && f->data[i + 2] != ' ')
				return 0;
			bol = i + 2;
		}
	return bol == f->len;
}

static int hexval(char c)
{
	return c <= '9' ? c - '0' : c - 'A' + 10;
}

/* Join the RFC 2231 sections of attr in field f and percent-decode them;
 * each section on its own must hold whole UTF-8 characters. */
static int rfc2231_value(const char *f, const char *attr, struct buf *out)
{
	struct buf sect = BUF_INIT(1024);
	char key[64];
	const char *p, *e;
	int n;

	for (n = 0;; n++) {
		snprintf(key, sizeof(key), "%s*%d*=", attr, n);
		if ((p = strstr(f, key)) == NULL)
			break;
		p += strlen(key);
		if (n == 0 && strncmp(p, "UTF-8''", 7) == 0)
			p += 7;
		buf_reset(&sect);
		for (e = p; *e && *e != ';' && *e != '\r'; e++) {
			if (*e == '%') {
				buf_addc(&sect, (char)(hexval(e[1]) << 4 | hexval(e[2])));
				e += 2;
			} else {
				buf_addc(&sect, *e);
			}
		}
		if (!utf8_valid(sect.data, sect.len, NULL))
			return -1;
		buf_add(out, sect.data, sect.len);
	}
	buf_free(&sect);
	return n;
}

TEST(test_mime_parameters_token_quoted_or_rfc2231)
{
	struct mime_param ps[3] = {
	    {"charset", "UTF-8"}, {"name", "my report.pdf"}, {"x", "a\"b\\c"}};
	struct buf f = BUF_INIT(8192);

	CHECK(mime_field(&f, "Content-Type", "application/pdf", ps, 3) == 0);
	CHECK_STR(buf_cstr(&f),
	          "Content-Type: application/pdf; charset=UTF-8; name=\"my report.pdf\";\r\n"
	          " x=\"a\\\"b\\\\c\"\r\n");
	buf_reset(&f);
	ps[0].attr = "filename";
	ps[0].value = "報告書.pdf";
	CHECK(mime_field(&f, "Content-Disposition", "attachment", ps, 1) == 0);
	CHECK_STR(buf_cstr(&f), "Content-Disposition: attachment;\r\n"
	                        " filename*=UTF-8''%E5%A0%B1%E5%91%8A%E6%9B%B8.pdf\r\n");
	buf_free(&f);
}

TEST(test_mime_long_rfc2231_names_fold_and_keep_characters_whole)
{
	static const char *const names[] = {
	    "2024年度 売上報告書（最終版）の添付ファイルです・第二四半期・営業部門・東日本エリア・"
	    "担当者確認済み.pdf",
	    "a-very-long-ascii-file-name-with-spaces and (parentheses) that does not fit on one "
	    "line at all.tar.gz",
	    "😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀.png",
	};
	struct mime_param p;
	struct buf f = BUF_INIT(8192), v = BUF_INIT(8192);
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		buf_reset(&f);
		buf_reset(&v);
		p.attr = "filename";
		p.value = names[i];
		CHECK(mime_field(&f, "Content-Disposition", "attachment", &p, 1) == 0);
		CHECK(field_ok(&f));
		CHECK(rfc2231_value(buf_cstr(&f), "filename", &v) > 1);
		CHECK_STR(buf_cstr(&v), names[i]);
	}
	buf_free(&f);
	buf_free(&v);
}

TEST(test_mime_transfer_encoding_follows_the_content)
{
	static char longline[1200];

	memset(longline, 'x', sizeof(longline) - 1);
	CHECK_STR(mime_choose_cte("plain\r\n", 7, 0), "7bit");
	CHECK_STR(mime_choose_cte("caf\xc3\xa9 ouvert le lundi\r\n", 23, 0), "quoted-printable");
	CHECK_STR(mime_choose_cte("caf\xc3\xa9 ouvert le lundi\r\n", 23, 1), "8bit");
	CHECK_STR(mime_choose_cte("日本語のテキスト\r\n", 26, 0), "base64");
	CHECK_STR(mime_choose_cte("日本語のテキスト\r\n", 26, 1), "8bit");
	/* Over 998 octets on a line: never 7bit nor 8bit, whatever is offered. */
	CHECK_STR(mime_choose_cte(longline, strlen(longline), 1), "quoted-printable");
	CHECK_STR(mime_choose_cte("a\0b\r\n", 5, 1), "quoted-printable");
}

TEST(test_mime_structures_and_boundaries)
{
	struct charset cs;
	struct mime_params p;
	struct mime_result r;
	struct msgstream ms;
	struct buf out = BUF_INIT(1 << 20), b1 = BUF_INIT(64), b2 = BUF_INIT(64);
	struct cl_err err;
	const char *bnd;

	CHECK(charset_open(&cs, NULL, &err) == 0);
	memset(&p, 0, sizeof(p));
	p.cs = &cs;
	p.label_ascii = 1;
	p.text = "hello\n";
	p.text_len = 6;
	msgstream_init(&ms);
	CHECK(mime_build(&p, &ms, &r, &err) == 0);
	CHECK(msgstream_drain(&ms, &out, &err) == 0);
	CHECK_STR(buf_cstr(&out), "Content-Type: text/plain; charset=US-ASCII\r\n"
	                          "Content-Transfer-Encoding: 7bit\r\n\r\nhello\r\n");
	CHECK_INT(r.is_8bit, 0);
	msgstream_free(&ms);
	/* HTML: multipart/alternative, text first, HTML (preferred) last. */
	p.html = "<p>h\xc3\xa9</p>";
	p.html_len = strlen(p.html);
	p.allow_8bit = 1;
	buf_reset(&out);
	msgstream_init(&ms);
	CHECK(mime_build(&p, &ms, &r, &err) == 0);
	CHECK(msgstream_drain(&ms, &out, &err) == 0);
	CHECK_INT(r.is_8bit, 1);
	CHECK(strncmp(out.data, "Content-Type: multipart/alternative;\r\n boundary=\"=_clsmtpc_",
	              58) == 0);
	bnd = strstr(out.data, "=_clsmtpc_");
	CHECK(strlen(bnd) > 42);
	buf_add(&b1, bnd, 42);
	CHECK(strstr(out.data, "text/plain") < strstr(out.data, "text/html"));
	buf_printf(&b2, "\r\n--%s--\r\n", buf_cstr(&b1));
	CHECK(out.len > b2.len && strcmp(out.data + out.len - b2.len, buf_cstr(&b2)) == 0);
	msgstream_free(&ms);
	/* Two boundaries are never the same. */
	buf_reset(&b2);
	CHECK(mime_boundary(&b2) == 0);
	CHECK(strcmp(buf_cstr(&b1), buf_cstr(&b2)) != 0);
	CHECK_INT(b2.len, 42);
	charset_close(&cs);
	buf_free(&out);
	buf_free(&b1);
	buf_free(&b2);
}

int main(void)
{
	RUN(test_mime_parameters_token_quoted_or_rfc2231);
	RUN(test_mime_long_rfc2231_names_fold_and_keep_characters_whole);
	RUN(test_mime_transfer_encoding_follows_the_content);
	RUN(test_mime_structures_and_boundaries);
	CHECK_DONE();
}
