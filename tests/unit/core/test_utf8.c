/* test_utf8.c - UTF-8 well-formedness: RFC 3629's edge cases, and every
 * sequence of up to three bytes checked against a plain decoder. */
#include "check.h"
#include "base/utf8.h"

/* A plain decoder: the code point's value decides validity. */
static size_t ref_seq_len(const unsigned char *s, size_t n)
{
	unsigned long cp;
	size_t len, i;

	if (n == 0)
		return 0;
	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0)
		len = 2, cp = s[0] & 0x1f;
	else if ((s[0] & 0xf0) == 0xe0)
		len = 3, cp = s[0] & 0x0f;
	else if ((s[0] & 0xf8) == 0xf0)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000))
		return 0; /* overlong */
	if ((cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

TEST(test_utf8_accepts_well_formed_text)
{
	CHECK(utf8_valid("plain ascii", 11, NULL));
	CHECK(utf8_valid("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", 9, NULL)); /* 日本語 */
	CHECK(utf8_valid("\xf0\x9f\x98\x80", 4, NULL));                     /* U+1F600 */
	CHECK(utf8_valid("\xf4\x8f\xbf\xbf", 4, NULL));                     /* U+10FFFF */
	CHECK(utf8_valid("\xc2\x80\xef\xbf\xbf", 5, NULL));
	CHECK(utf8_valid("", 0, NULL));
}

TEST(test_utf8_refuses_overlong_surrogate_and_truncated)
{
	size_t bad = 99;

	CHECK(!utf8_valid("\xc0\xaf", 2, NULL));
	CHECK(!utf8_valid("\xe0\x80\xaf", 3, NULL));
	CHECK(!utf8_valid("\xed\xa0\x80", 3, NULL));
	CHECK(!utf8_valid("\xf4\x90\x80\x80", 4, NULL));
	CHECK(!utf8_valid("\xff", 1, NULL));
	CHECK(!utf8_valid("ab\xe3\x81", 4, &bad));
	CHECK_INT(bad, 2);
	CHECK(!utf8_valid("abc\x80", 4, &bad));
	CHECK_INT(bad, 3);
}

TEST(test_utf8_agrees_with_reference_on_all_short_sequences)
{
	static const unsigned char edges[] = {0x00, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0};
	unsigned char s[4];
	unsigned a, b, c, d;
	long diffs = 0;

	for (a = 0x80; a < 256; a++) {
		s[0] = (unsigned char)a;
		for (b = 0; b < 256; b++) {
			s[1] = (unsigned char)b;
			diffs += utf8_seq_len(s, 2) != ref_seq_len(s, 2);
			for (c = 0; c < 256; c++) {
				s[2] = (unsigned char)c;
				diffs += utf8_seq_len(s, 3) != ref_seq_len(s, 3);
				for (d = 0; a >= 0xf0 && d < sizeof(edges); d++) {
					s[3] = edges[d];
					diffs += utf8_seq_len(s, 4) != ref_seq_len(s, 4);
				}
			}
		}
	}
	CHECK_INT(diffs, 0);
}

TEST(test_utf8_prefix_never_cuts_a_character)
{
	const char *s = "a\xc3\xa9\xe6\x97\xa5\xf0\x9f\x98\x80"; /* a é 日 😀 */
	size_t n = 10;

	CHECK_INT(utf8_prefix_len(s, n, 1), 1);
	CHECK_INT(utf8_prefix_len(s, n, 2), 1);
	CHECK_INT(utf8_prefix_len(s, n, 3), 3);
	CHECK_INT(utf8_prefix_len(s, n, 5), 3);
	CHECK_INT(utf8_prefix_len(s, n, 6), 6);
	CHECK_INT(utf8_prefix_len(s, n, 9), 6);
	CHECK_INT(utf8_prefix_len(s, n, 10), 10);
	CHECK_INT(utf8_prefix_len(s, n, 50), 10);
	CHECK_INT(utf8_prefix_len(s, n, 0), 0);
	CHECK(utf8_is_ascii("abc", 3));
	CHECK(!utf8_is_ascii(s, n));
}

int main(void)
{
	RUN(test_utf8_accepts_well_formed_text);
	RUN(test_utf8_refuses_overlong_surrogate_and_truncated);
	RUN(test_utf8_agrees_with_reference_on_all_short_sequences);
	RUN(test_utf8_prefix_never_cuts_a_character);
	CHECK_DONE();
}
