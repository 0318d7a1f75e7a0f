/* test_hdr.c - header fields: folding at 78 columns that unfolds to the same
 * text, display names quoted only when needed, and RFC 2047 encoded-words
 * checked on seeded random UTF-8 (length, no split characters, round trip). */
#include <stdint.h>
#include <stdlib.h>

#include "base/b64.h"
#include "msg/charset.h"
#include "check.h"
#include "testutil.h"
#include "msg/hdr.h"
#include "base/utf8.h"

TEST_RNG(rnd, 2047u)

/* Random text: ASCII, accented Latin, combining marks, kana/CJK, emoji. */
static void random_text(struct buf *b, size_t nchars)
{
	size_t i;

	for (i = 0; i < nchars; i++) {
		switch (rnd() % 6) {
		case 0:
		case 1:
			test_put_utf8(b, 0x20 + rnd() % 95);
			break;
		case 2:
			test_put_utf8(b, 0xa0 + rnd() % 0x760);
			break;
		case 3:
			test_put_utf8(b, 0x300 + rnd() % 0x70);
			break;
		case 4:
			test_put_utf8(b, 0x3040 + rnd() % 0x6fc0);
			break;
		default:
			test_put_utf8(b, 0x1f300 + rnd() % 0x800);
		}
	}
}

/* One field written by fn, checked for CRLF structure and line widths
 * (limit), returned unfolded (CRLF before WSP removed) without "Name:". */
static int field_lines_ok(const struct buf *f, size_t limit)
{
	size_t i, bol = 0;

	for (i = 0; i + 1 < f->len; i++) {
		if (f->data[i] != '\r')
			continue;
		if (f->data[i + 1] != '\n' || i - bol > limit)
			return 0;
		/* A continuation line starts with whitespace and is not blank. */
		if (i + 2 < f->len && f->data[i + 2] != ' ' && f->data[i + 2] != '\t')
			return 0;
		bol = i + 2;
	}
	return f->len >= 2 && memcmp(f->data + f->len - 2, "\r\n", 2) == 0;
}

static void unfold(const struct buf *f, struct buf *out)
{
	size_t i;
	const char *colon = memchr(f->data, ':', f->len);

	for (i = (size_t)(colon - f->data) + 1; i + 2 < f->len; i++) {
		if (f->data[i] == '\r' && f->data[i + 1] == '\n')
			i++;
		else
			buf_addc(out, f->data[i]);
	}
}

/* Decode a field made only of encoded-words; -1 if any word is over 75
 * characters, malformed, or not whole UTF-8 characters by itself. */
static int decode_words(const char *s, struct buf *out)
{
	const char *p = s, *end;
	size_t before;

	while (*p) {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		if (strncmp(p, "=?UTF-8?B?", 10) != 0 || (end = strstr(p + 10, "?=")) == NULL)
			return -1;
		if ((size_t)(end + 2 - p) > HDR_EW_MAX)
			return -1;
		before = out->len;
		if (b64_decode(p + 10, (size_t)(end - p - 10), out) < 0 || out->len == before ||
		    !utf8_valid(out->data + before, out->len - before, NULL))
			return -1;
		p = end + 2;
		if (*p != '\0' && *p != ' ')
			return -1;
	}
	return 0;
}

static void field(struct buf *out, const char *name, const char *phrase, const char *text)
{
	struct hdr h;

	buf_reset(out);
	hdr_begin(&h, out, name);
	if (phrase) {
		hdr_phrase(&h, phrase, strlen(phrase));
		hdr_token(&h, "<a@b>", 5);
	}
	if (text)
		hdr_text(&h, text, strlen(text));
	CHECK(hdr_end(&h) == 0);
}

TEST(test_hdr_display_name_quoted_only_when_needed)
{
	struct buf f = BUF_INIT(4096);

	field(&f, "From", "John Smith", NULL);
	CHECK_STR(buf_cstr(&f), "From: John Smith <a@b>\r\n");
	field(&f, "From", "O'Brien", NULL);
	CHECK_STR(buf_cstr(&f), "From: O'Brien <a@b>\r\n");
	field(&f, "From", "Smith, John", NULL);
	CHECK_STR(buf_cstr(&f), "From: \"Smith, John\" <a@b>\r\n");
	field(&f, "From", "Dr. \"X\" \\ Y", NULL);
	CHECK_STR(buf_cstr(&f), "From: \"Dr. \\\"X\\\" \\\\ Y\" <a@b>\r\n");
	field(&f, "From", "a  b", NULL);
	CHECK_STR(buf_cstr(&f), "From: \"a  b\" <a@b>\r\n");
	field(&f, "From", "root@host", NULL);
	CHECK_STR(buf_cstr(&f), "From: \"root@host\" <a@b>\r\n");
	field(&f, "From", "", NULL);
	CHECK_STR(buf_cstr(&f), "From: <a@b>\r\n");
	buf_free(&f);
}

TEST(test_hdr_display_name_non_ascii_is_encoded_not_quoted)
{
	struct buf f = BUF_INIT(4096);

	field(&f, "From", "\xe5\xb1\xb1\xe7\x94\xb0 \xe5\xa4\xaa\xe9\x83\x8e",
	      NULL); /* 山田 太郎 */
	CHECK_STR(buf_cstr(&f), "From: =?UTF-8?B?5bGx55SwIOWkqumDjg==?= <a@b>\r\n");
	/* Text that a reader could take for an encoded-word is encoded. */
	field(&f, "From", "=?utf-8?q?x?=", NULL);
	CHECK_STR(buf_cstr(&f), "From: =?UTF-8?B?PT91dGYtOD9xP3g/PQ==?= <a@b>\r\n");
	buf_free(&f);
}

TEST(test_hdr_long_display_name_folds)
{
	struct buf f = BUF_INIT(4096), u = BUF_INIT(4096), name = BUF_INIT(4096);
	int i;

	for (i = 0; i < 15; i++)
		buf_printf(&name, "%sWord%d", i ? " " : "", i);
	field(&f, "From", buf_cstr(&name), NULL);
	CHECK(field_lines_ok(&f, HDR_FOLD_COL));
	CHECK(strstr(buf_cstr(&f), "\r\n ") != NULL);
	unfold(&f, &u);
	buf_adds(&name, " <a@b>");
	CHECK_STR(buf_cstr(&u) + 1, buf_cstr(&name));
	/* Too long to quote on one line: encoded-words, which fold. */
	buf_reset(&name);
	for (i = 0; i < 10; i++)
		buf_adds(&name, "Smith, John. ");
	field(&f, "From", buf_cstr(&name), NULL);
	CHECK(field_lines_ok(&f, HDR_EW_LINE));
	CHECK(strstr(buf_cstr(&f), "\"") == NULL);
	buf_free(&f);
	buf_free(&u);
	buf_free(&name);
}

TEST(test_hdr_to_list_folds_at_78_columns)
{
	struct buf f = BUF_INIT(4096), u = BUF_INIT(4096), want = BUF_INIT(4096),
	           tok = BUF_INIT(64);
	struct hdr h;
	int i;

	hdr_begin(&h, &f, "To");
	for (i = 0; i < 12; i++) {
		buf_reset(&tok);
		buf_printf(&tok, "<user%02d@example.com>%s", i, i < 11 ? "," : "");
		hdr_token(&h, tok.data, tok.len);
		buf_printf(&want, " %s", tok.data);
	}
	CHECK(hdr_end(&h) == 0);
	CHECK(field_lines_ok(&f, HDR_FOLD_COL));
	CHECK(strncmp(buf_cstr(&f), "To: <user00@example.com>, <user01@example.com>,", 47) == 0);
	unfold(&f, &u);
	CHECK_STR(buf_cstr(&u), buf_cstr(&want));
	buf_free(&f);
	buf_free(&u);
	buf_free(&want);
	buf_free(&tok);
}

TEST(test_hdr_ascii_subject_folds_at_whitespace)
{
	struct buf f = BUF_INIT(4096), u = BUF_INIT(4096), s = BUF_INIT(4096);
	int i;

	for (i = 0; i < 40; i++)
		buf_printf(&s, "%sword%d%s", i ? " " : "", i, i % 7 == 3 ? " " : "");
	buf_adds(&s, "  ");
	field(&f, "Subject", NULL, buf_cstr(&s));
	CHECK(field_lines_ok(&f, HDR_FOLD_COL));
	CHECK(strstr(buf_cstr(&f), "=?") == NULL);
	unfold(&f, &u);
	CHECK(u.len > 0 && u.data[0] == ' ');
	CHECK_STR(buf_cstr(&u) + 1, buf_cstr(&s));
	field(&f, "Subject", NULL, "clsmtpc test mail");
	CHECK_STR(buf_cstr(&f), "Subject: clsmtpc test mail\r\n");
	field(&f, "Subject", NULL, "");
	CHECK_STR(buf_cstr(&f), "Subject:\r\n");
	buf_free(&f);
	buf_free(&u);
	buf_free(&s);
}

TEST(test_hdr_subject_encoded_when_plain_text_cannot_stay_plain)
{
	static const char *const cases[] = {
	    "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", /* 日本語 */
	    "cost =?utf-8?b?x?= here",
	    "tab\x01control",
	    "a-word-far-too-long-to-fit-on-one-line-so-it-cannot-be-folded-anywhere-at-all-x",
	};
	struct buf f = BUF_INIT(4096), u = BUF_INIT(4096), d = BUF_INIT(4096);
	size_t i;

	field(&f, "Subject", NULL, cases[0]);
	CHECK_STR(buf_cstr(&f), "Subject: =?UTF-8?B?5pel5pys6Kqe?=\r\n");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CHECK(hdr_text_needs_encoding(cases[i], strlen(cases[i])));
		field(&f, "Subject", NULL, cases[i]);
		CHECK(field_lines_ok(&f, HDR_EW_LINE));
		buf_reset(&u);
		buf_reset(&d);
		unfold(&f, &u);
		CHECK(decode_words(buf_cstr(&u), &d) == 0);
		CHECK_STR(buf_cstr(&d), cases[i]);
	}
	CHECK(!hdr_text_needs_encoding("plain = text? yes", 17));
	buf_free(&f);
	buf_free(&u);
	buf_free(&d);
}

TEST(test_hdr_encoded_words_random_utf8_property)
{
	static const char *const names[] = {
	    "Subject", "X", "X-A-Field-Name-So-Long-That-No-Encoded-Word-Fits-After-It-On-Line-1"};
	struct buf text = BUF_INIT(1 << 16), f = BUF_INIT(1 << 16), u = BUF_INIT(1 << 16),
	           d = BUF_INIT(1 << 16);
	struct hdr h;
	int round, bad = 0;
	size_t k;

	for (round = 0; round < 600; round++) {
		buf_reset(&text);
		random_text(&text, 1 + rnd() % 120);
		k = rnd() % 3;
		buf_reset(&f);
		hdr_begin(&h, &f, names[k]);
		if (round % 2)
			hdr_words(&h, text.data, text.len);
		else
			hdr_phrase(&h, text.data, text.len);
		CHECK(hdr_end(&h) == 0);
		buf_reset(&u);
		buf_reset(&d);
		unfold(&f, &u);
		if (utf8_is_ascii(text.data, text.len) && round % 2 == 0)
			continue; /* an ASCII phrase stays plain */
		if (!field_lines_ok(&f, HDR_EW_LINE) || decode_words(buf_cstr(&u), &d) < 0 ||
		    strcmp(buf_cstr(&d), buf_cstr(&text)) != 0) {
			if (!bad)
				printf("# round %d: %s", round, buf_cstr(&f));
			bad++;
		}
	}
	CHECK_INT(bad, 0);
	buf_free(&text);
	buf_free(&f);
	buf_free(&u);
	buf_free(&d);
}

TEST(test_hdr_full_output_removes_the_whole_field)
{
	struct buf f = BUF_INIT(30);
	struct hdr h;

	buf_adds(&f, "A: b\r\n");
	hdr_begin(&h, &f, "Subject");
	hdr_text(&h, "one two three four five six seven", 33);
	CHECK(hdr_end(&h) == -1);
	CHECK_STR(buf_cstr(&f), "A: b\r\n");
	buf_free(&f);
}

/* Decode ISO-2022-JP encoded-words: each at most 75 characters, each one
 * ending in ASCII and converting to UTF-8 on its own (no escape sequence or
 * character split between words). */
static int decode_jis_words(const char *s, struct buf *out)
{
	static const char pre[] = "=?ISO-2022-JP?B?";
	struct buf raw = BUF_INIT(256);
	const char *p = s, *end, *esc;
	struct cl_err e;
	size_t i;
	int r = 0;

	while (*p && r == 0) {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		if (strncmp(p, pre, strlen(pre)) != 0 || (end = strstr(p + 16, "?=")) == NULL ||
		    (size_t)(end + 2 - p) > HDR_EW_MAX) {
			r = -1;
			break;
		}
		buf_reset(&raw);
		if (b64_decode(p + 16, (size_t)(end - p - 16), &raw) < 0 || raw.len == 0)
			r = -1;
		/* The last escape sequence returns to ASCII. */
		for (esc = NULL, i = 0; r == 0 && i < raw.len; i++)
			if (raw.data[i] == 0x1b)
				esc = raw.data + i;
		if (esc && (esc + 3 > raw.data + raw.len || memcmp(esc, "\x1b(B", 3) != 0))
			r = -1;
		if (r == 0 && charset_to_utf8("ISO-2022-JP", raw.data, raw.len, out, "w", &e) < 0)
			r = -1;
		p = end + 2;
		if (*p != '\0' && *p != ' ')
			r = -1;
	}
	buf_free(&raw);
	return r;
}

TEST(test_hdr_iso2022jp_words_property)
{
	struct charset cs;
	struct buf in = BUF_INIT(8192), f = BUF_INIT(1 << 16), u = BUF_INIT(1 << 16),
	           d = BUF_INIT(1 << 16), tmp = BUF_INIT(64);
	struct cl_err err;
	struct hdr h;
	int n, bad = 0;
	size_t i, len, before;

	CHECK(charset_open(&cs, "ISO-2022-JP", &err) == 0);
	for (n = 0; n < 300; n++) {
		buf_reset(&in);
		len = 1 + rnd() % 120;
		for (i = 0; i < len; i++) {
			static const uint32_t jb[] = {0x3041, 0x30a1, 0x4e00, 0x41, 0x20};
			static const uint32_t js[] = {0x53, 0x56, 0x5000, 26, 1};
			size_t k = rnd() % 5;
			before = in.len;
			test_put_utf8(&in, jb[k] + rnd() % js[k]);
			buf_reset(&tmp);
			if (charset_from_utf8(&cs, in.data + before, in.len - before, &tmp, "t",
			                      &err) < 0)
				buf_truncate(&in, before);
		}
		/* Kanji and kana only sometimes, so words end in every state. */
		buf_reset(&f);
		hdr_begin(&h, &f, n % 2 ? "Subject" : "X-Long-Field-Name-For-Odd-Columns");
		hdr_set_charset(&h, &cs);
		hdr_words(&h, in.data, in.len);
		CHECK(hdr_end(&h) == 0);
		CHECK(field_lines_ok(&f, HDR_EW_LINE));
		buf_reset(&u);
		unfold(&f, &u);
		buf_reset(&d);
		if (decode_jis_words(buf_cstr(&u), &d) < 0 || d.len != in.len ||
		    memcmp(d.data, in.data, in.len) != 0)
			bad++;
	}
	CHECK_INT(bad, 0);
	charset_close(&cs);
	buf_free(&in);
	buf_free(&f);
	buf_free(&u);
	buf_free(&d);
	buf_free(&tmp);
}

int main(void)
{
	RUN(test_hdr_display_name_quoted_only_when_needed);
	RUN(test_hdr_display_name_non_ascii_is_encoded_not_quoted);
	RUN(test_hdr_long_display_name_folds);
	RUN(test_hdr_to_list_folds_at_78_columns);
	RUN(test_hdr_ascii_subject_folds_at_whitespace);
	RUN(test_hdr_subject_encoded_when_plain_text_cannot_stay_plain);
	RUN(test_hdr_encoded_words_random_utf8_property);
	RUN(test_hdr_full_output_removes_the_whole_field);
	RUN(test_hdr_iso2022jp_words_property);
	CHECK_DONE();
}
