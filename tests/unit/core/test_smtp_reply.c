/*
 * test_smtp_reply.c - the SMTP reply parser: single and multi-line replies,
 * enhanced status codes, the one-line summaries, every hostile input the
 * limits exist for, and a fixed-seed random property test of the invariants.
 */
#include "check.h"
#include "testutil.h"
#include "smtp/smtp_reply.h"

#include <stdint.h>
#include <stdlib.h>

/* Feed NUL-terminated lines; returns the last result. */
static int feed_all(struct smtp_reply *r, const char *const *lines, size_t n, struct cl_err *err)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < n; i++) {
		rc = smtp_reply_feed(r, lines[i], strlen(lines[i]), err);
		if (rc != 0)
			break;
	}
	return rc;
}

#define FEED(r, err, ...)                                                                          \
	feed_all((r), (const char *const[]){__VA_ARGS__},                                          \
	         sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *), (err))

TEST(test_reply_single_line_is_complete)
{
	struct smtp_reply r;
	struct cl_err err;

	smtp_reply_init(&r);
	CHECK_INT(FEED(&r, &err, "220 rita.karing.jp ESMTP Postfix"), 1);
	CHECK_INT(r.code, 220);
	CHECK_INT(r.complete, 1);
	CHECK_INT(r.nlines, 1);
	CHECK_STR(buf_cstr(&r.text), "rita.karing.jp ESMTP Postfix");
	CHECK_STR(r.enh, "");
	smtp_reply_free(&r);
}

TEST(test_reply_multiline_ehlo_joins_texts_with_newlines)
{
	struct smtp_reply r;
	struct cl_err err;

	smtp_reply_init(&r);
	CHECK_INT(FEED(&r, &err, "250-rita.karing.jp", "250-PIPELINING", "250-SIZE 10240000",
	               "250-VRFY", "250-ETRN", "250-STARTTLS",
	               "250-AUTH LOGIN PLAIN DIGEST-MD5 CRAM-MD5", "250-ENHANCEDSTATUSCODES",
	               "250-8BITMIME", "250 DSN"),
	          1);
	CHECK_INT(r.code, 250);
	CHECK_INT(r.nlines, 10);
	CHECK_STR(buf_cstr(&r.text), "rita.karing.jp\nPIPELINING\nSIZE 10240000\nVRFY\nETRN\n"
	                             "STARTTLS\nAUTH LOGIN PLAIN DIGEST-MD5 CRAM-MD5\n"
	                             "ENHANCEDSTATUSCODES\n8BITMIME\nDSN");
	smtp_reply_free(&r);
}

TEST(test_reply_code_stays_zero_until_the_last_line)
{
	struct smtp_reply r;
	struct cl_err err;

	smtp_reply_init(&r);
	CHECK_INT(smtp_reply_feed(&r, "250-first", 9, &err), 0);
	CHECK_INT(r.code, 0);
	CHECK_INT(r.complete, 0);
	CHECK_INT(smtp_reply_feed(&r, "250-second", 10, &err), 0);
	CHECK_INT(r.code, 0);
	CHECK_INT(smtp_reply_feed(&r, "250 last", 8, &err), 1);
	CHECK_INT(r.code, 250);
	smtp_reply_free(&r);
}

TEST(test_reply_bare_code_is_a_valid_last_line)
{
	struct smtp_reply r;
	struct cl_err err;

	smtp_reply_init(&r);
	CHECK_INT(FEED(&r, &err, "250"), 1);
	CHECK_INT(r.code, 250);
	CHECK_STR(buf_cstr(&r.text), "");
	smtp_reply_reset(&r);
	CHECK_INT(FEED(&r, &err, "250-mail.example.com", "250"), 1);
	CHECK_STR(buf_cstr(&r.text), "mail.example.com\n");
	smtp_reply_free(&r);
}

TEST(test_reply_empty_continuation_line_keeps_its_place)
{
	struct smtp_reply r;
	struct cl_err err;

	smtp_reply_init(&r);
	CHECK_INT(FEED(&r, &err, "250-", "250 x"), 1);
	CHECK_STR(buf_cstr(&r.text), "\nx");
	CHECK_INT(r.nlines, 2);
	smtp_reply_free(&r);
}

TEST(test_reply_rejects_code_change_midway)
{
	struct smtp_reply r;
	struct cl_err err;

	smtp_reply_init(&r);
	err_clear(&err);
	CHECK_INT(FEED(&r, &err, "250-mail.example.com", "250-PIPELINING", "550 no"), -1);
	CHECK_INT(err.cls, CL_EPROTO);
	CHECK(strstr(err.msg, "250 to 550") != NULL);
	CHECK_INT(r.complete, 0);
	CHECK_INT(r.code, 0);
	smtp_reply_free(&r);
}

TEST(test_reply_rejects_letter_in_code)
{
	static const char *const bad[] = {"25O ok", "2S0 ok", "O250 ok", "abc", "2-0 x", " 250 x"};
	struct smtp_reply r;
	struct cl_err err;
	size_t i;

	smtp_reply_init(&r);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		smtp_reply_reset(&r);
		err_clear(&err);
		CHECK_INT(smtp_reply_feed(&r, bad[i], strlen(bad[i]), &err), -1);
		CHECK_INT(err.cls, CL_EPROTO);
		CHECK(strstr(err.msg, "status code") != NULL);
	}
	smtp_reply_free(&r);
}

TEST(test_reply_rejects_codes_outside_200_to_599)
{
	static const char *const bad[] = {"199 x", "100 x", "600 x", "999 x", "099 x", "000"};
	struct smtp_reply r;
	struct cl_err err;
	size_t i;

	smtp_reply_init(&r);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		smtp_reply_reset(&r);
		CHECK_INT(smtp_reply_feed(&r, bad[i], strlen(bad[i]), &err), -1);
	}
	smtp_reply_reset(&r);
	CHECK_INT(FEED(&r, &err, "599 edge"), 1);
	smtp_reply_reset(&r);
	CHECK_INT(FEED(&r, &err, "200 edge"), 1);
	smtp_reply_free(&r);
}

TEST(test_reply_rejects_short_lines)
{
	struct smtp_reply r;
	struct cl_err err;

	smtp_reply_init(&r);
	CHECK_INT(smtp_reply_feed(&r, "", 0, &err), -1);
	CHECK_INT(smtp_reply_feed(&r, "25", 2, &err), -1);
	CHECK_INT(smtp_reply_feed(&r, "2", 1, &err), -1);
	smtp_reply_free(&r);
}

TEST(test_reply_rejects_bad_separator)
{
	static const char *const bad[] = {"2500", "250x", "250_ok", "250\tok", "250=AUTH"};
	struct smtp_reply r;
	struct cl_err err;
	size_t i;

	smtp_reply_init(&r);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		smtp_reply_reset(&r);
		err_clear(&err);
		CHECK_INT(smtp_reply_feed(&r, bad[i], strlen(bad[i]), &err), -1);
		CHECK(strstr(err.msg, "separator") != NULL);
	}
	smtp_reply_free(&r);
}

TEST(test_reply_rejects_nul_in_the_middle)
{
	static const char line[] = "250 ok\0RCPT TO:<evil@example.com>";
	struct smtp_reply r;
	struct cl_err err;

	smtp_reply_init(&r);
	err_clear(&err);
	CHECK_INT(smtp_reply_feed(&r, line, sizeof(line) - 1, &err), -1);
	CHECK_INT(err.cls, CL_EPROTO);
	CHECK(strstr(err.msg, "NUL") != NULL);
	CHECK_INT(r.nlines, 0);
	smtp_reply_reset(&r);
	CHECK_INT(smtp_reply_feed(&r, "250-a\0", 6, &err), -1);
	smtp_reply_free(&r);
}

TEST(test_reply_rejects_overlong_line)
{
	char line[SMTP_REPLY_LINE_MAX + 2];
	struct smtp_reply r;
	struct cl_err err;

	memset(line, 'x', sizeof(line));
	memcpy(line, "250 ", 4);
	smtp_reply_init(&r);
	CHECK_INT(smtp_reply_feed(&r, line, SMTP_REPLY_LINE_MAX, &err), 1);
	CHECK_INT(r.text.len, SMTP_REPLY_LINE_MAX - 4);
	smtp_reply_reset(&r);
	err_clear(&err);
	CHECK_INT(smtp_reply_feed(&r, line, SMTP_REPLY_LINE_MAX + 1, &err), -1);
	CHECK_INT(err.cls, CL_EPROTO);
	CHECK(strstr(err.msg, "too long") != NULL);
	smtp_reply_free(&r);
}

TEST(test_reply_rejects_129_continuation_lines)
{
	struct smtp_reply r;
	struct cl_err err;
	int i, rc = 0;

	smtp_reply_init(&r);
	for (i = 0; i < SMTP_REPLY_LINES_MAX && rc == 0; i++)
		rc = smtp_reply_feed(&r, "250-x", 5, &err);
	CHECK_INT(rc, 0);
	CHECK_INT(r.nlines, SMTP_REPLY_LINES_MAX);
	err_clear(&err);
	CHECK_INT(smtp_reply_feed(&r, "250-x", 5, &err), -1);
	CHECK_INT(err.cls, CL_EPROTO);
	CHECK(strstr(err.msg, "lines") != NULL);
	/* Even a final line is one too many. */
	CHECK_INT(smtp_reply_feed(&r, "250 x", 5, &err), -1);
	smtp_reply_free(&r);
}

TEST(test_reply_accepts_exactly_128_lines)
{
	struct smtp_reply r;
	struct cl_err err;
	int i, rc = 0;

	smtp_reply_init(&r);
	for (i = 0; i < SMTP_REPLY_LINES_MAX - 1 && rc == 0; i++)
		rc = smtp_reply_feed(&r, "250-x", 5, &err);
	CHECK_INT(rc, 0);
	CHECK_INT(smtp_reply_feed(&r, "250 y", 5, &err), 1);
	CHECK_INT(r.nlines, SMTP_REPLY_LINES_MAX);
	smtp_reply_free(&r);
}

TEST(test_reply_continuation_lines_without_final_line_stay_incomplete)
{
	struct smtp_reply r;
	struct cl_err err;

	smtp_reply_init(&r);
	CHECK_INT(FEED(&r, &err, "250-a", "250-b", "250-"), 0);
	CHECK_INT(r.complete, 0);
	CHECK_INT(r.code, 0);
	CHECK_INT(r.nlines, 3);
	smtp_reply_free(&r);
}

TEST(test_reply_enhanced_code_is_recognised_and_kept_in_text)
{
	struct smtp_reply r;
	struct cl_err err;

	smtp_reply_init(&r);
	CHECK_INT(FEED(&r, &err, "550 5.1.1 <x@y>: Recipient address rejected"), 1);
	CHECK_STR(r.enh, "5.1.1");
	CHECK_STR(buf_cstr(&r.text), "5.1.1 <x@y>: Recipient address rejected");
	smtp_reply_reset(&r);
	CHECK_INT(FEED(&r, &err, "250 2.0.0"), 1);
	CHECK_STR(r.enh, "2.0.0");
	smtp_reply_reset(&r);
	CHECK_INT(FEED(&r, &err, "451 4.123.456 try later"), 1);
	CHECK_STR(r.enh, "4.123.456");
	smtp_reply_free(&r);
}

TEST(test_reply_enhanced_code_must_match_the_class)
{
	static const char *const none[] = {"550 2.1.1 mismatched class",
	                                   "250 5.0.0 mismatched class",
	                                   "354 3.0.0 no class 3",
	                                   "550 5.1234.1 subject too long",
	                                   "550 5.1.1234 detail too long",
	                                   "550 5.1.1x glued",
	                                   "550 5..1 empty subject",
	                                   "550 5.1. empty detail",
	                                   "550 5.1 two parts",
	                                   "235 ok, go ahead (#2.0.0)",
	                                   "550 5",
	                                   "550  5.1.1 leading space"};
	struct smtp_reply r;
	struct cl_err err;
	size_t i;

	smtp_reply_init(&r);
	for (i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
		smtp_reply_reset(&r);
		CHECK_INT(smtp_reply_feed(&r, none[i], strlen(none[i]), &err), 1);
		if (r.enh[0] != '\0')
			printf("# unexpected enh '%s' in '%s'\n", r.enh, none[i]);
		CHECK_STR(r.enh, "");
	}
	smtp_reply_free(&r);
}

TEST(test_reply_enhanced_code_comes_from_the_first_line)
{
	struct smtp_reply r;
	struct cl_err err;

	smtp_reply_init(&r);
	CHECK_INT(FEED(&r, &err, "250-mail.example.com", "250 2.0.0 ok"), 1);
	CHECK_STR(r.enh, "");
	smtp_reply_reset(&r);
	CHECK_INT(FEED(&r, &err, "550-5.7.1 first", "550 5.7.2 second"), 1);
	CHECK_STR(r.enh, "5.7.1");
	smtp_reply_free(&r);
}

TEST(test_reply_feed_after_complete_starts_a_new_reply)
{
	struct smtp_reply r;
	struct cl_err err;

	smtp_reply_init(&r);
	CHECK_INT(FEED(&r, &err, "250 2.1.0 Ok"), 1);
	CHECK_INT(FEED(&r, &err, "354 End data with <CR><LF>.<CR><LF>"), 1);
	CHECK_INT(r.code, 354);
	CHECK_INT(r.nlines, 1);
	CHECK_STR(r.enh, "");
	CHECK_STR(buf_cstr(&r.text), "End data with <CR><LF>.<CR><LF>");
	smtp_reply_free(&r);
}

TEST(test_reply_reset_forgets_a_half_reply)
{
	struct smtp_reply r;
	struct cl_err err;

	smtp_reply_init(&r);
	CHECK_INT(FEED(&r, &err, "250-a", "250-b"), 0);
	smtp_reply_reset(&r);
	CHECK_INT(FEED(&r, &err, "221 2.0.0 Bye"), 1);
	CHECK_INT(r.code, 221);
	CHECK_INT(r.nlines, 1);
	CHECK_STR(buf_cstr(&r.text), "2.0.0 Bye");
	smtp_reply_free(&r);
}

TEST(test_reply_first_line_gives_code_and_first_text)
{
	struct smtp_reply r;
	struct cl_err err;
	struct buf s = BUF_INIT(1024);

	smtp_reply_init(&r);
	CHECK_STR(smtp_reply_first_line(&r, &s), "");
	CHECK_INT(FEED(&r, &err, "550-5.7.1 first", "550 5.7.1 second"), 1);
	CHECK_STR(smtp_reply_first_line(&r, &s), "550 5.7.1 first");
	smtp_reply_reset(&r);
	CHECK_INT(FEED(&r, &err, "250"), 1);
	CHECK_STR(smtp_reply_first_line(&r, &s), "250");
	buf_free(&s);
	smtp_reply_free(&r);
}

TEST(test_reply_summary_of_one_line)
{
	struct smtp_reply r;
	struct cl_err err;
	struct buf s = BUF_INIT(1024);

	smtp_reply_init(&r);
	CHECK_STR(smtp_reply_summary(&r, &s), "");
	CHECK_INT(FEED(&r, &err, "550 5.1.1 <x@y>: Recipient address rejected"), 1);
	CHECK_STR(smtp_reply_summary(&r, &s), "550 5.1.1 <x@y>: Recipient address rejected");
	smtp_reply_reset(&r);
	CHECK_INT(FEED(&r, &err, "221"), 1);
	CHECK_STR(smtp_reply_summary(&r, &s), "221");
	buf_free(&s);
	smtp_reply_free(&r);
}

TEST(test_reply_summary_joins_lines_and_drops_repeated_enhanced_codes)
{
	struct smtp_reply r;
	struct cl_err err;
	struct buf s = BUF_INIT(1024);

	smtp_reply_init(&r);
	CHECK_INT(
	    FEED(&r, &err,
	         "550-5.1.1 The email account that you tried to reach does not exist. Please try",
	         "550-5.1.1 double-checking the recipient's email address for typos or",
	         "550 5.1.1 unnecessary spaces."),
	    1);
	CHECK_STR(smtp_reply_summary(&r, &s),
	          "550 5.1.1 The email account that you tried to reach does not exist. Please try"
	          " / double-checking the recipient's email address for typos or"
	          " / unnecessary spaces.");
	smtp_reply_reset(&r);
	CHECK_INT(FEED(&r, &err, "250-mail.example.com", "250-", "250 8BITMIME"), 1);
	CHECK_STR(smtp_reply_summary(&r, &s), "250 mail.example.com / 8BITMIME");
	buf_free(&s);
	smtp_reply_free(&r);
}

TEST(test_reply_summary_truncates_a_long_reply)
{
	struct smtp_reply r;
	struct cl_err err;
	struct buf s = BUF_INIT(100000);
	char line[200];
	const char *sum;
	int i;

	memset(line, 'z', sizeof(line));
	memcpy(line, "451-", 4);
	smtp_reply_init(&r);
	for (i = 0; i < 100; i++)
		CHECK_INT(smtp_reply_feed(&r, line, sizeof(line), &err), 0);
	line[3] = ' ';
	CHECK_INT(smtp_reply_feed(&r, line, sizeof(line), &err), 1);
	sum = smtp_reply_summary(&r, &s);
	CHECK(strlen(sum) <= 450);
	CHECK(strncmp(sum, "451 zzz", 7) == 0);
	CHECK(strcmp(sum + strlen(sum) - 3, "...") == 0);
	sum = smtp_reply_first_line(&r, &s);
	CHECK(strlen(sum) <= 450);
	buf_free(&s);
	smtp_reply_free(&r);
}

TEST(test_reply_summary_does_not_cut_utf8_characters)
{
	struct smtp_reply r;
	struct cl_err err;
	struct buf s = BUF_INIT(100000), line = BUF_INIT(4096);
	const char *sum;
	size_t n;
	int i;

	/* "550 " then 3-byte characters, one byte off the limit's alignment. */
	buf_adds(&line, "550 a");
	for (i = 0; i < 300; i++)
		buf_adds(&line, "\xe3\x81\x82"); /* HIRAGANA A */
	smtp_reply_init(&r);
	CHECK_INT(smtp_reply_feed(&r, line.data, line.len, &err), 1);
	sum = smtp_reply_summary(&r, &s);
	n = strlen(sum);
	CHECK(n > 3 && strcmp(sum + n - 3, "...") == 0);
	/* What precedes "..." is "550 a" and whole characters. */
	CHECK_INT((n - 3 - 5) % 3, 0);
	CHECK_INT((unsigned char)sum[n - 4], 0x82);
	buf_free(&line);
	buf_free(&s);
	smtp_reply_free(&r);
}

TEST(test_reply_summary_replaces_control_characters)
{
	static const char line[] = "550 evil\r250 ok\x1b[31m\x7f";
	struct smtp_reply r;
	struct cl_err err;
	struct buf s = BUF_INIT(1024);

	smtp_reply_init(&r);
	CHECK_INT(smtp_reply_feed(&r, line, sizeof(line) - 1, &err), 1);
	/* Kept as received in the text... */
	CHECK(strchr(buf_cstr(&r.text), '\r') != NULL);
	/* ...but never in a one-line summary. */
	CHECK_STR(smtp_reply_summary(&r, &s), "550 evil?250 ok?[31m?");
	CHECK_STR(smtp_reply_first_line(&r, &s), "550 evil?250 ok?[31m?");
	buf_free(&s);
	smtp_reply_free(&r);
}

TEST(test_reply_rejects_bare_lf_inside_a_line)
{
	static const char line[] = "250-mail.example.com\nAUTH PLAIN";
	struct smtp_reply r;
	struct cl_err err;

	smtp_reply_init(&r);
	err_clear(&err);
	CHECK_INT(smtp_reply_feed(&r, line, sizeof(line) - 1, &err), -1);
	CHECK_INT(err.cls, CL_EPROTO);
	CHECK(strstr(err.msg, "LF") != NULL);
	smtp_reply_free(&r);
}

TEST(test_reply_tolerates_one_trailing_cr)
{
	struct smtp_reply r;
	struct cl_err err;

	smtp_reply_init(&r);
	CHECK_INT(FEED(&r, &err, "250-a\r", "250 b\r"), 1);
	CHECK_STR(buf_cstr(&r.text), "a\nb");
	smtp_reply_reset(&r);
	CHECK_INT(FEED(&r, &err, "250\r"), 1);
	CHECK_STR(buf_cstr(&r.text), "");
	smtp_reply_free(&r);
}

TEST(test_reply_error_messages_are_one_line)
{
	static const char line[] = "2x0 \r\nMAIL FROM:<a@b>";
	struct smtp_reply r;
	struct cl_err err;

	smtp_reply_init(&r);
	CHECK_INT(smtp_reply_feed(&r, line, sizeof(line) - 1, &err), -1);
	CHECK(strchr(err.msg, '\r') == NULL && strchr(err.msg, '\n') == NULL);
	smtp_reply_free(&r);
}

TEST_RNG(rng, 0x9e3779b97f4a7c15ull)

/* A line that is often almost valid: biased towards digits, '-', ' ', '.'. */
static size_t random_line(char *out, size_t max)
{
	static const char alpha[] = "0123456789 -.25\r\n\t\x00\xff\xe3";
	size_t n, i;
	uint32_t k = rng() % 100;

	n = k < 80 ? rng() % 40 : k < 98 ? rng() % 400 : SMTP_REPLY_LINE_MAX - 2 + rng() % 5;
	if (n > max)
		n = max;
	for (i = 0; i < n; i++) {
		uint32_t m = rng() % 10;
		out[i] = m < 6 ? alpha[rng() % (sizeof(alpha) - 1)] : (char)(rng() & 0xff);
	}
	/* Often a plausible code and separator. */
	if (n >= 4 && rng() % 3 != 0) {
		out[0] = (char)('2' + rng() % 4);
		out[1] = (char)('0' + rng() % 10);
		out[2] = (char)('0' + rng() % 10);
		out[3] = rng() % 4 ? '-' : ' ';
	}
	return n;
}

static int has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

static size_t count_char(const char *s, char c)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == c;
	return n;
}

TEST(test_reply_random_lines_keep_the_invariants)
{
	static char line[SMTP_REPLY_LINE_MAX + 8];
	struct smtp_reply r;
	struct cl_err err;
	struct buf s = BUF_INIT(4096);
	int i, rc, completed = 0, failed = 0;
	size_t n;

	smtp_reply_init(&r);
	for (i = 0; i < 30000; i++) {
		n = random_line(line, sizeof(line));
		size_t before = r.complete ? 0 : r.nlines;
		err_clear(&err);
		rc = smtp_reply_feed(&r, line, n, &err);
		CHECK(rc >= -1 && rc <= 1);
		CHECK(r.nlines <= SMTP_REPLY_LINES_MAX);
		CHECK_INT(strlen(buf_cstr(&r.text)), r.text.len);
		if (r.nlines > 0)
			CHECK_INT(count_char(buf_cstr(&r.text), '\n'), r.nlines - 1);
		if (rc == 1) {
			CHECK(r.complete == 1 && r.code >= 200 && r.code <= 599);
			CHECK_INT(r.code, r.first_code);
			CHECK(r.enh[0] == '\0' || r.enh[0] == '0' + r.code / 100);
			CHECK_INT(r.nlines, before + 1);
		} else if (rc == 0) {
			CHECK(r.complete == 0 && r.code == 0);
			CHECK_INT(r.nlines, before + 1);
		} else {
			CHECK_INT(err.cls, CL_EPROTO);
			CHECK(err.msg[0] != '\0' && !has_control(err.msg));
			CHECK_INT(r.nlines, before);
		}
		CHECK(strlen(smtp_reply_summary(&r, &s)) <= 450);
		CHECK(!has_control(buf_cstr(&s)));
		CHECK(strlen(smtp_reply_first_line(&r, &s)) <= 450);
		CHECK(!has_control(buf_cstr(&s)));
		completed += rc == 1;
		failed += rc == -1;
		if (rc < 0 || rng() % 50 == 0)
			smtp_reply_reset(&r);
		if (check_failed_now) {
			printf("# failed at iteration %d\n", i);
			break;
		}
	}
	printf("# of 30000 random lines: %d completed a reply, %d were refused\n", completed,
	       failed);
	CHECK(completed > 1000 && failed > 1000);
	buf_free(&s);
	smtp_reply_free(&r);
}

TEST(test_reply_random_valid_replies_round_trip)
{
	struct smtp_reply r;
	struct cl_err err;
	struct buf line = BUF_INIT(SMTP_REPLY_LINE_MAX), want = BUF_INIT(1 << 20);
	int i, rc;

	smtp_reply_init(&r);
	for (i = 0; i < 2000; i++) {
		int code = 200 + (int)(rng() % 400);
		size_t nl = 1 + rng() % SMTP_REPLY_LINES_MAX, k, j, len;

		buf_reset(&want);
		rc = 0;
		for (k = 0; k < nl && rc == 0; k++) {
			buf_reset(&line);
			buf_printf(&line, "%d%c", code, k + 1 == nl ? ' ' : '-');
			len = rng() % 60;
			if (k > 0)
				buf_addc(&want, '\n');
			for (j = 0; j < len; j++) {
				/* anything but NUL, LF and a final CR */
				char c = (char)(1 + rng() % 255);
				if (c == '\n' || (c == '\r' && j + 1 == len))
					c = 'x';
				buf_addc(&line, c);
				buf_addc(&want, c);
			}
			rc = smtp_reply_feed(&r, line.data, line.len, &err);
			CHECK_INT(rc, k + 1 == nl ? 1 : 0);
		}
		CHECK_INT(r.code, code);
		CHECK_INT(r.nlines, nl);
		CHECK_INT(r.text.len, want.len);
		CHECK(memcmp(buf_cstr(&r.text), buf_cstr(&want), want.len) == 0);
		if (check_failed_now) {
			printf("# failed at iteration %d\n", i);
			break;
		}
	}
	buf_free(&line);
	buf_free(&want);
	smtp_reply_free(&r);
}

int main(void)
{
	RUN(test_reply_single_line_is_complete);
	RUN(test_reply_multiline_ehlo_joins_texts_with_newlines);
	RUN(test_reply_code_stays_zero_until_the_last_line);
	RUN(test_reply_bare_code_is_a_valid_last_line);
	RUN(test_reply_empty_continuation_line_keeps_its_place);
	RUN(test_reply_rejects_code_change_midway);
	RUN(test_reply_rejects_letter_in_code);
	RUN(test_reply_rejects_codes_outside_200_to_599);
	RUN(test_reply_rejects_short_lines);
	RUN(test_reply_rejects_bad_separator);
	RUN(test_reply_rejects_nul_in_the_middle);
	RUN(test_reply_rejects_overlong_line);
	RUN(test_reply_rejects_129_continuation_lines);
	RUN(test_reply_accepts_exactly_128_lines);
	RUN(test_reply_continuation_lines_without_final_line_stay_incomplete);
	RUN(test_reply_enhanced_code_is_recognised_and_kept_in_text);
	RUN(test_reply_enhanced_code_must_match_the_class);
	RUN(test_reply_enhanced_code_comes_from_the_first_line);
	RUN(test_reply_feed_after_complete_starts_a_new_reply);
	RUN(test_reply_reset_forgets_a_half_reply);
	RUN(test_reply_first_line_gives_code_and_first_text);
	RUN(test_reply_summary_of_one_line);
	RUN(test_reply_summary_joins_lines_and_drops_repeated_enhanced_codes);
	RUN(test_reply_summary_truncates_a_long_reply);
	RUN(test_reply_summary_does_not_cut_utf8_characters);
	RUN(test_reply_summary_replaces_control_characters);
	RUN(test_reply_rejects_bare_lf_inside_a_line);
	RUN(test_reply_tolerates_one_trailing_cr);
	RUN(test_reply_error_messages_are_one_line);
	RUN(test_reply_random_lines_keep_the_invariants);
	RUN(test_reply_random_valid_replies_round_trip);
	CHECK_DONE();
}
