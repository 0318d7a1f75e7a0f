/* test_qp.c - quoted-printable: RFC 2045 6.7's rules on fixed cases (=,
 * trailing whitespace, soft breaks at 76, "From "), and seeded random round
 * trips that check every encoded line. */
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "testutil.h"
#include "base/qp.h"

TEST_RNG(rnd, 2045u)

static int qp_is(const char *in, const char *want)
{
	struct buf out = BUF_INIT(10000);
	int ok = qp_encode(in, strlen(in), &out) == 0 && strcmp(buf_cstr(&out), want) == 0;

	if (!ok)
		printf("#   in \"%s\": got \"%s\"\n", in, buf_cstr(&out));
	buf_free(&out);
	return ok;
}

/* Each encoded line: <= 76 chars, printable ASCII, no whitespace before its
 * CRLF, no "From " at its start. Returns 1 if all hold. */
static int qp_lines_ok(const char *s, size_t n)
{
	size_t i, bol = 0;

	for (i = 0; i < n; i++) {
		if (s[i] == '\r') {
			if (i + 1 >= n || s[i + 1] != '\n' || i - bol > QP_LINE_MAX)
				return 0;
			if (i > bol && (s[i - 1] == ' ' || s[i - 1] == '\t'))
				return 0;
			bol = i + 2;
			i++;
			continue;
		}
		if ((s[i] < 32 && s[i] != '\t') || (unsigned char)s[i] > 126 || s[i] == '\n')
			return 0;
		if (i == bol && n - i >= 5 && memcmp(s + i, "From ", 5) == 0)
			return 0;
	}
	if (n > bol && (n - bol > QP_LINE_MAX || s[n - 1] == ' ' || s[n - 1] == '\t'))
		return 0;
	return 1;
}

TEST(test_qp_encodes_equals_and_non_ascii)
{
	struct buf out = BUF_INIT(100);

	CHECK(qp_is("a=b", "a=3Db"));
	CHECK(qp_is("caf\xc3\xa9\r\n", "caf=C3=A9\r\n"));
	CHECK(qp_is("tab\there", "tab\there"));
	CHECK(qp_is("bare\rcr\nlf", "bare=0Dcr=0Alf"));
	CHECK(qp_encode("a\0b", 3, &out) == 0);
	CHECK_STR(buf_cstr(&out), "a=00b");
	buf_free(&out);
}

TEST(test_qp_encodes_trailing_whitespace)
{
	CHECK(qp_is("a \r\nb", "a=20\r\nb"));
	CHECK(qp_is("a\t\r\n", "a=09\r\n"));
	CHECK(qp_is("end ", "end=20"));
	CHECK(qp_is("a  b \r\n", "a  b=20\r\n"));
}

TEST(test_qp_encodes_from_at_line_start)
{
	CHECK(qp_is("From me\r\nFrom you", "=46rom me\r\n=46rom you"));
	CHECK(qp_is("x From y", "x From y"));
	CHECK(qp_is("Frog", "Frog"));
}

TEST(test_qp_soft_breaks_keep_lines_within_76)
{
	char line[200];
	struct buf out = BUF_INIT(10000), dec = BUF_INIT(10000);

	memset(line, 'a', sizeof(line));
	/* 76 fits exactly when the line ends there; 77 needs a break. */
	line[76] = '\0';
	CHECK(qp_is(line, line));
	memcpy(line + 76, "\r\n", 3);
	CHECK(qp_is(line, line));
	memset(line, 'a', sizeof(line));
	line[77] = '\0';
	CHECK(qp_encode(line, 77, &out) == 0);
	CHECK(out.len == 80 && memcmp(out.data + 75, "=\r\naa", 5) == 0);
	/* An encoded octet is never split by a soft break. */
	buf_reset(&out);
	memcpy(line + 74, "=", 2);
	CHECK(qp_encode(line, 75, &out) == 0);
	CHECK(memcmp(out.data + 74, "=\r\n=3D", 6) == 0);
	CHECK(qp_decode(out.data, out.len, &dec) == 0);
	CHECK_STR(buf_cstr(&dec), line);
	buf_free(&out);
	buf_free(&dec);
}

TEST(test_qp_long_line_round_trip)
{
	size_t len = 2500, i;
	char *in = malloc(len);
	struct buf out = BUF_INIT(20000), dec = BUF_INIT(20000);

	for (i = 0; i < len; i++)
		in[i] = (char)("From x=\xe3\x81\x82 ."[i % 12]);
	CHECK(qp_encode(in, len, &out) == 0);
	CHECK(qp_lines_ok(out.data, out.len));
	CHECK(qp_decode(out.data, out.len, &dec) == 0);
	CHECK(dec.len == len && memcmp(dec.data, in, len) == 0);
	free(in);
	buf_free(&out);
	buf_free(&dec);
}

TEST(test_qp_random_round_trips)
{
	static const char *const frags[] = {"\r\n", " ", "\t",           "=",    "From ", ".",
	                                    "a",    "Z", "\xe6\x97\xa5", "\xff", "\r",    "\n",
	                                    "~",    "\0"};
	char in[400];
	struct buf out = BUF_INIT(4000), dec = BUF_INIT(4000);
	size_t len, k, goal;
	int round, bad = 0;

	for (round = 0; round < 2000; round++) {
		goal = rnd() % 300;
		for (len = 0; len < goal;) {
			k = rnd() % (sizeof(frags) / sizeof(frags[0]));
			/* Long runs of one letter now and then to reach soft breaks. */
			if (k == 6 && rnd() % 4 == 0) {
				memset(in + len, 'a', 90);
				len += 90;
				continue;
			}
			memcpy(in + len, frags[k], k == 13 ? 1 : strlen(frags[k]));
			len += k == 13 ? 1 : strlen(frags[k]);
		}
		buf_reset(&out);
		buf_reset(&dec);
		if (qp_encode(in, len, &out) < 0 || !qp_lines_ok(buf_cstr(&out), out.len) ||
		    qp_decode(buf_cstr(&out), out.len, &dec) < 0 || dec.len != len ||
		    memcmp(buf_cstr(&dec), in, len) != 0)
			bad++;
	}
	CHECK_INT(bad, 0);
	buf_free(&out);
	buf_free(&dec);
}

TEST(test_qp_decode_refuses_malformed_escapes)
{
	struct buf dec = BUF_INIT(100);

	CHECK(qp_decode("a=G1", 4, &dec) == -1);
	CHECK(qp_decode("a=4", 3, &dec) == -1);
	CHECK(qp_decode("a= b", 4, &dec) == -1);
	CHECK_INT(dec.len, 0);
	CHECK(qp_decode("a=\r\nb=3d", 8, &dec) == 0);
	CHECK_STR(buf_cstr(&dec), "ab=");
	buf_free(&dec);
}

int main(void)
{
	RUN(test_qp_encodes_equals_and_non_ascii);
	RUN(test_qp_encodes_trailing_whitespace);
	RUN(test_qp_encodes_from_at_line_start);
	RUN(test_qp_soft_breaks_keep_lines_within_76);
	RUN(test_qp_long_line_round_trip);
	RUN(test_qp_random_round_trips);
	RUN(test_qp_decode_refuses_malformed_escapes);
	CHECK_DONE();
}
