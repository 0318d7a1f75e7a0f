/* test_smtp_data.c - CRLF canonicalisation and dot-stuffing: fixed cases, the
 * SMTP-smuggling sequences, every chunk split against the one-shot result,
 * and a seeded random comparison with a simple two-pass reference. */
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "smtp/smtp_data.h"

/* A string literal and its length, NULs inside included. */
#define LIT(s) s, sizeof(s) - 1

/* Encode in one chunk (dotstuff as given) and return a malloc'ed copy. */
static char *enc_once(const char *in, size_t len, int dotstuff, size_t *outlen)
{
	struct smtp_data_enc e;
	struct buf out = BUF_INIT(1 << 20);

	smtp_data_enc_init(&e, dotstuff);
	if (smtp_data_enc_chunk(&e, in, len, &out) < 0 || smtp_data_enc_end(&e, &out) < 0)
		return NULL;
	*outlen = out.len;
	return buf_release(&out);
}

static int enc_check(const char *in, int dotstuff, const char *want)
{
	size_t n;
	char *got = enc_once(in, strlen(in), dotstuff, &n);
	int ok = got && n == strlen(want) && memcmp(got, want, n) == 0;

	if (!ok)
		printf("#   in \"%s\": got \"%s\"\n", in, got ? got : "(null)");
	free(got);
	return ok;
}

/* The reference: first every CRLF, CR or LF to CRLF plus a final CRLF, then
 * a '.' added to each line starting with '.', then ".\r\n". */
static void reference(const char *in, size_t len, int dotstuff, struct buf *out)
{
	struct buf canon = BUF_INIT(1 << 20);
	size_t i;

	for (i = 0; i < len; i++) {
		if (in[i] == '\r' && i + 1 < len && in[i + 1] == '\n')
			i++;
		if (in[i] == '\r' || in[i] == '\n')
			buf_add(&canon, "\r\n", 2);
		else
			buf_addc(&canon, in[i]);
	}
	if (canon.len > 0 && (canon.len < 2 || memcmp(canon.data + canon.len - 2, "\r\n", 2) != 0))
		buf_add(&canon, "\r\n", 2);
	for (i = 0; i < canon.len; i++) {
		if (dotstuff && canon.data[i] == '.' && (i == 0 || canon.data[i - 1] == '\n'))
			buf_addc(out, '.');
		buf_addc(out, canon.data[i]);
	}
	if (dotstuff)
		buf_add(out, ".\r\n", 3);
	buf_free(&canon);
}

/* No CR without LF after it, no LF without CR before it. */
static int no_bare_cr_lf(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] == '\r' && (i + 1 == n || s[i + 1] != '\n'))
			return 0;
		if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r'))
			return 0;
	}
	return 1;
}

/* Encode in up to three chunks cut at a and b (a <= b <= len). */
static int enc_split(const char *in, size_t len, int dotstuff, size_t a, size_t b, struct buf *out)
{
	struct smtp_data_enc e;

	smtp_data_enc_init(&e, dotstuff);
	if (smtp_data_enc_chunk(&e, in, a, out) < 0 ||
	    smtp_data_enc_chunk(&e, in + a, b - a, out) < 0 ||
	    smtp_data_enc_chunk(&e, in + b, len - b, out) < 0)
		return -1;
	return smtp_data_enc_end(&e, out);
}

TEST(test_smtp_data_bare_lf_becomes_crlf)
{
	CHECK(enc_check("a\nb\n", 0, "a\r\nb\r\n"));
	CHECK(enc_check("\n\n", 0, "\r\n\r\n"));
	CHECK(enc_check("a\r\nb\nc\r\n", 0, "a\r\nb\r\nc\r\n"));
}

TEST(test_smtp_data_bare_cr_becomes_crlf)
{
	CHECK(enc_check("a\rb", 0, "a\r\nb\r\n"));
	CHECK(enc_check("\r\r\n", 0, "\r\n\r\n"));
	CHECK(enc_check("a\n\rb", 0, "a\r\n\r\nb\r\n"));
	CHECK(enc_check("a\r", 0, "a\r\n"));
}

TEST(test_smtp_data_dotstuffs_lines_starting_with_dot)
{
	CHECK(enc_check(".a\n..b\nc.d\n", 1, "..a\r\n...b\r\nc.d\r\n.\r\n"));
	CHECK(enc_check(".", 1, "..\r\n.\r\n"));
	CHECK(enc_check("x\r.\r", 1, "x\r\n..\r\n.\r\n"));
	CHECK(enc_check(".a\n", 0, ".a\r\n"));
}

TEST(test_smtp_data_end_terminates_unfinished_last_line)
{
	CHECK(enc_check("abc", 1, "abc\r\n.\r\n"));
	CHECK(enc_check("abc\r\n", 1, "abc\r\n.\r\n"));
	CHECK(enc_check("abc", 0, "abc\r\n"));
}

TEST(test_smtp_data_empty_message_is_only_the_end)
{
	CHECK(enc_check("", 1, ".\r\n"));
	CHECK(enc_check("", 0, ""));
}

TEST(test_smtp_data_smuggling_sequences_never_end_data_early)
{
	static const struct {
		const char *s;
		size_t n;
	} cases[] = {
	    {LIT("a\n.\nb")},   {LIT("a\n.\r\nb")},     {LIT("a\r.\rb")}, {LIT("a\r\n.\rb")},
	    {LIT("a\r\n.\nb")}, {LIT("a\r\n\0.\r\nb")}, {LIT("\n.\n")},   {LIT("\r.\r")},
	    {LIT(".\r\nb")},    {LIT("a\r\n.\r\nb")},
	};
	size_t i, n;
	char *out;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		out = enc_once(cases[i].s, cases[i].n, 1, &n);
		CHECK(out != NULL);
		if (out == NULL)
			continue;
		CHECK(no_bare_cr_lf(out, n));
		/* The one end of data is the last five octets. */
		CHECK(n >= 5 && memcmp(out + n - 5, "\r\n.\r\n", 5) == 0);
		CHECK(memmem(out, n - 3, "\r\n.\r\n", 5) == NULL);
		CHECK(memcmp(out, ".\r\n", 3) != 0);
		free(out);
	}
}

TEST(test_smtp_data_every_split_matches_one_shot)
{
	static const char *const cases[] = {
	    "a\r\nb",
	    ".\r\n.\r\n",
	    "\r\n.\r\n..x\r",
	    "..\n\r.\r\r\n.",
	    "line one\r\n.two\r\n\r\n.\r\nend",
	    "\r\r\n\n\r.\r.\n.",
	};
	struct buf got = BUF_INIT(4096);
	size_t i, a, b, len, n1;
	int ds;
	char *one;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		len = strlen(cases[i]);
		for (ds = 0; ds <= 1; ds++) {
			one = enc_once(cases[i], len, ds, &n1);
			CHECK(one != NULL);
			for (a = 0; one && a <= len; a++) {
				for (b = a; b <= len; b++) {
					buf_reset(&got);
					CHECK(enc_split(cases[i], len, ds, a, b, &got) == 0);
					if (got.len != n1 || memcmp(got.data, one, n1) != 0) {
						printf("# case %zu split %zu/%zu differs\n", i, a,
						       b);
						check_failed_now = 1;
					}
				}
			}
			free(one);
		}
	}
	buf_free(&got);
}

TEST(test_smtp_data_random_inputs_match_reference)
{
	static const char alphabet[] = "\r\n.a ";
	uint32_t seed = 20180910;
	struct buf got = BUF_INIT(1 << 16), want = BUF_INIT(1 << 16);
	char in[96];
	size_t len, i, a, b;
	int round, ds;

	for (round = 0; round < 3000; round++) {
		seed = seed * 1103515245u + 12345u;
		len = (seed >> 16) % sizeof(in);
		for (i = 0; i < len; i++) {
			seed = seed * 1103515245u + 12345u;
			in[i] = alphabet[(seed >> 16) % 5];
		}
		seed = seed * 1103515245u + 12345u;
		a = len ? (seed >> 16) % (len + 1) : 0;
		seed = seed * 1103515245u + 12345u;
		b = a + (len - a ? (seed >> 16) % (len - a + 1) : 0);
		for (ds = 0; ds <= 1; ds++) {
			buf_reset(&got);
			buf_reset(&want);
			reference(in, len, ds, &want);
			CHECK(enc_split(in, len, ds, a, b, &got) == 0);
			if (got.len != want.len ||
			    memcmp(buf_cstr(&got), buf_cstr(&want), got.len)) {
				printf("# round %d differs from the reference\n", round);
				check_failed_now = 1;
				round = 1 << 30;
				break;
			}
			CHECK(no_bare_cr_lf(buf_cstr(&got), got.len));
		}
	}
	buf_free(&got);
	buf_free(&want);
}

TEST(test_smtp_data_full_output_leaves_state_unchanged)
{
	const char *in = "ab\r\n.cd\r";
	struct smtp_data_enc e;
	struct buf small = BUF_INIT(4), all = BUF_INIT(100);
	size_t n;
	char *one = enc_once(in, strlen(in), 1, &n);

	smtp_data_enc_init(&e, 1);
	/* Output that cannot hold the chunk: nothing is written, and once
	 * flushed the same chunk can be offered again. */
	CHECK(smtp_data_enc_chunk(&e, "ab\r\n.cd", 7, &small) == -1);
	CHECK_INT(small.len, 0);
	CHECK(smtp_data_enc_chunk(&e, "ab", 2, &small) == 0);
	CHECK(smtp_data_enc_chunk(&e, "\r\n.cd", 5, &small) == -1);
	CHECK_INT(small.len, 2);
	buf_add(&all, small.data, small.len);
	buf_reset(&small);
	CHECK(smtp_data_enc_chunk(&e, "\r\n", 2, &small) == 0);
	CHECK(smtp_data_enc_chunk(&e, ".cd\r", 4, &small) == -1);
	buf_add(&all, small.data, small.len);
	buf_reset(&small);
	CHECK(smtp_data_enc_chunk(&e, ".cd\r", 4, &small) == 0);
	buf_add(&all, small.data, small.len);
	buf_reset(&small);
	CHECK(smtp_data_enc_end(&e, &small) == -1);
	CHECK_INT(small.len, 0);
	small.max = 100;
	CHECK(smtp_data_enc_end(&e, &small) == 0);
	buf_add(&all, small.data, small.len);
	CHECK(one != NULL && all.len == n && memcmp(all.data, one, n) == 0);
	free(one);
	buf_free(&small);
	buf_free(&all);
}

TEST(test_smtp_data_canonicalize_whole_message)
{
	struct buf out = BUF_INIT(100);

	CHECK(smtp_data_canonicalize("H: v\n\n.body\rend", 15, &out) == 0);
	CHECK_STR(buf_cstr(&out), "H: v\r\n\r\n.body\r\nend\r\n");
	buf_reset(&out);
	CHECK(smtp_data_canonicalize("", 0, &out) == 0);
	CHECK_INT(out.len, 0);
	out.max = 5;
	CHECK(smtp_data_canonicalize("abcd", 4, &out) == -1);
	CHECK_INT(out.len, 0);
	buf_free(&out);
}

int main(void)
{
	RUN(test_smtp_data_bare_lf_becomes_crlf);
	RUN(test_smtp_data_bare_cr_becomes_crlf);
	RUN(test_smtp_data_dotstuffs_lines_starting_with_dot);
	RUN(test_smtp_data_end_terminates_unfinished_last_line);
	RUN(test_smtp_data_empty_message_is_only_the_end);
	RUN(test_smtp_data_smuggling_sequences_never_end_data_early);
	RUN(test_smtp_data_every_split_matches_one_shot);
	RUN(test_smtp_data_random_inputs_match_reference);
	RUN(test_smtp_data_full_output_leaves_state_unchanged);
	RUN(test_smtp_data_canonicalize_whole_message);
	CHECK_DONE();
}
