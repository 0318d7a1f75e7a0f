/* test_charset.c - the wire charset: UTF-8 passed through, ISO-2022-JP
 * with every line ending in ASCII, a character the charset cannot hold
 * named in the error (never a silent '?'), unusable charset names refused,
 * and input in the locale's charset made UTF-8. */
#include <iconv.h>
#include <stdlib.h>

#include "msg/charset.h"
#include "check.h"

TEST(test_charset_utf8_is_the_default_and_text_passes_through)
{
	struct charset cs;
	struct buf b = BUF_INIT(1024);
	struct cl_err err;

	CHECK(charset_open(&cs, NULL, &err) == 0);
	CHECK(cs.is_utf8);
	CHECK_STR(cs.name, "UTF-8");
	CHECK(charset_from_utf8(&cs, "日本", 6, &b, "x", &err) == 0);
	CHECK_STR(buf_cstr(&b), "日本");
	CHECK(charset_from_utf8(&cs, "\xff", 1, &b, "subject", &err) == -1);
	CHECK(strstr(err.msg, "subject is not valid UTF-8") != NULL);
	charset_close(&cs);
	CHECK(charset_open(&cs, "utf8", &err) == 0 && cs.is_utf8);
	charset_close(&cs);
	buf_free(&b);
}

TEST(test_charset_refuses_names_that_would_lose_or_mangle_text)
{
	struct charset cs;
	struct cl_err err;

	CHECK(charset_open(&cs, "no-such-charset", &err) == -1);
	CHECK_INT(err.cls, CL_EUSAGE);
	CHECK(strstr(err.msg, "does not know") != NULL);
	/* //TRANSLIT would write '?' for what the charset lacks. */
	CHECK(charset_open(&cs, "ISO-2022-JP//TRANSLIT", &err) == -1);
	CHECK(strstr(err.msg, "not a charset name") != NULL);
	CHECK(charset_open(&cs, "UTF-16", &err) == -1);
	CHECK(strstr(err.msg, "RFC 2046") != NULL);
	CHECK(charset_open(&cs, "EBCDIC-US", &err) == -1);
	CHECK(charset_open(&cs, "iso-2022-jp", &err) == 0);
	CHECK_STR(cs.name, "ISO-2022-JP");
	CHECK(cs.stateful && !cs.is_utf8);
	charset_close(&cs);
}

TEST(test_charset_unwritable_character_is_named_not_replaced)
{
	struct charset cs;
	struct buf b = BUF_INIT(1024);
	struct cl_err err;

	CHECK(charset_open(&cs, "ISO-2022-JP", &err) == 0);
	buf_adds(&b, "kept");
	/* U+2460 CIRCLED DIGIT ONE is in CP932, not in ISO-2022-JP. */
	CHECK(charset_text_from_utf8(&cs, "一行目\r\n二行目①\r\n", 24, &b, "message body", &err) ==
	      -1);
	CHECK_INT(err.cls, CL_EDATA);
	CHECK(strstr(err.msg, "message body: character U+2460 '①' (line 2, character 9)") != NULL);
	CHECK(strstr(err.msg, "ISO-2022-JP") != NULL);
	CHECK_STR(buf_cstr(&b), "kept");
	CHECK(charset_from_utf8(&cs, "ok 😀", 7, &b, "subject", &err) == -1);
	CHECK(strstr(err.msg, "U+1F600") != NULL);
	charset_close(&cs);
	CHECK(charset_open(&cs, "ISO-8859-1", &err) == 0);
	CHECK(charset_from_utf8(&cs, "caf\xc3\xa9 \xe2\x82\xac", 9, &b, "subject", &err) == -1);
	CHECK(strstr(err.msg, "U+20AC") != NULL);
	charset_close(&cs);
	buf_free(&b);
}

/* Each line of ISO-2022-JP text ends in ASCII (RFC 1468), and the text
 * converts back to what it was. */
TEST(test_charset_iso2022jp_every_line_ends_in_ascii)
{
	static const char in[] = "日本語の本文\r\nASCII だけ\r\n\r\n最後の行は改行なし";
	struct charset cs;
	struct buf b = BUF_INIT(1024), back = BUF_INIT(1024);
	struct cl_err err;
	const char *p, *e;

	CHECK(charset_open(&cs, "iso-2022-jp", &err) == 0);
	CHECK(charset_text_from_utf8(&cs, in, strlen(in), &b, "body", &err) == 0);
	for (p = b.data; (e = strstr(p, "\r\n")) != NULL; p = e + 2)
		if (memchr(p, 0x1b, (size_t)(e - p)))
			CHECK(e - p >= 3 && memcmp(e - 3, "\x1b(B", 3) == 0);
	CHECK(strlen(p) >= 3 && strcmp(p + strlen(p) - 3, "\x1b(B") == 0);
	for (p = b.data; *p; p++)
		CHECK((unsigned char)*p < 0x80);
	CHECK(charset_to_utf8("ISO-2022-JP", b.data, b.len, &back, "x", &err) == 0);
	CHECK_STR(buf_cstr(&back), in);
	charset_close(&cs);
	buf_free(&b);
	buf_free(&back);
}

TEST(test_charset_input_in_the_locale_charset_becomes_utf8)
{
	struct buf b = BUF_INIT(1024);
	struct cl_err err;
	char loc[64];

	/* "日本" in EUC-JP. */
	CHECK(charset_to_utf8("EUC-JP", "\xc6\xfc\xcb\xdc", 4, &b, "body", &err) == 0);
	CHECK_STR(buf_cstr(&b), "日本");
	buf_reset(&b);
	CHECK(charset_to_utf8("EUC-JP", "\xc6", 1, &b, "message body", &err) == -1);
	CHECK(strstr(err.msg, "message body is not valid EUC-JP") != NULL);
	CHECK(charset_to_utf8("UTF-8", "\xc3", 1, &b, "subject", &err) == -1);
	/* The C locale's ASCII is read as UTF-8. */
	setenv("LC_ALL", "C", 1);
	charset_locale(loc, sizeof(loc));
	CHECK_STR(loc, "UTF-8");
	buf_free(&b);
}

int main(void)
{
	RUN(test_charset_utf8_is_the_default_and_text_passes_through);
	RUN(test_charset_refuses_names_that_would_lose_or_mangle_text);
	RUN(test_charset_unwritable_character_is_named_not_replaced);
	RUN(test_charset_iso2022jp_every_line_ends_in_ascii);
	RUN(test_charset_input_in_the_locale_charset_becomes_utf8);
	CHECK_DONE();
}
