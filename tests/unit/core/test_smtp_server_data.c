/* test_smtp_server_data.c - the server's DATA/BDAT reader: dot-unstuffing,
 * the end of data found only at CRLF.CRLF, every SMTP-smuggling variant
 * refused (or normalised without ending the message), limits, and the same
 * result for every split of the input into two chunks. */
#include <stdlib.h>

#include "check.h"
#include "serve/smtp_server_data.h"

#define LIT(s) s, sizeof(s) - 1

struct res {
	char out[4096];
	size_t outlen, used;
	unsigned flags;
	int done;
};

/* Feed in at most two chunks (split at cut) and collect the result. */
static void run_split(const char *in, size_t len, size_t cut, int dots, int norm, struct res *r)
{
	struct smtp_dreader d;
	struct buf out = BUF_INIT(4096);
	size_t used;

	smtp_dreader_init(&d, dots, norm, 998, 1000);
	used = smtp_dreader_feed(&d, in, cut, &out);
	if (!d.done && used == cut)
		used += smtp_dreader_feed(&d, in + cut, len - cut, &out);
	if (!dots)
		smtp_dreader_finish(&d, &out);
	memcpy(r->out, buf_cstr(&out), out.len + 1);
	r->outlen = out.len;
	r->used = used;
	r->flags = d.flags;
	r->done = d.done;
	buf_free(&out);
}

static void run(const char *in, size_t len, int dots, int norm, struct res *r)
{
	run_split(in, len, len, dots, norm, r);
}

TEST(test_data_ends_only_at_crlf_dot_crlf)
{
	struct res r;
	run(LIT("Subject: x\r\n\r\nbody\r\n.\r\nMAIL FROM:<x@y>\r\n"), 1, 0, &r);
	CHECK(r.done);
	CHECK_STR(r.out, "Subject: x\r\n\r\nbody\r\n");
	CHECK_INT((int)r.used, (int)strlen("Subject: x\r\n\r\nbody\r\n.\r\n"));
	CHECK_INT((int)r.flags, 0);
}

TEST(test_data_unstuffs_leading_dots)
{
	struct res r;
	run(LIT("..hidden\r\n...\r\n.x\r\n.\r\n"), 1, 0, &r);
	CHECK(r.done);
	CHECK_STR(r.out, ".hidden\r\n..\r\nx\r\n");
}

TEST(test_data_empty_message)
{
	struct res r;
	run(LIT(".\r\n"), 1, 0, &r);
	CHECK(r.done);
	CHECK_INT((int)r.outlen, 0);
}

/* Each of these would end the message for a lax server; for us it is
 * content, and the message is refused (reject mode). */
static const char *const smuggle[] = {
    "a\n.\nMAIL FROM:<e@vil>\r\n",   "a\n.\r\nMAIL FROM:<e@vil>\r\n",
    "a\r.\rMAIL FROM:<e@vil>\r\n",   "a\r\n.\rMAIL FROM:<e@vil>\r\n",
    "a\r\n.\nMAIL FROM:<e@vil>\r\n", "a\r.\r\nMAIL FROM:<e@vil>\r\n",
    "a\n.\rMAIL FROM:<e@vil>\r\n",   "a\r\n\x00.\r\nMAIL FROM:<e@vil>\r\n",
};

TEST(test_data_smuggling_variants_never_end_data)
{
	size_t i;
	struct res r;
	for (i = 0; i < sizeof(smuggle) / sizeof(smuggle[0]); i++) {
		size_t len = strlen(smuggle[i]);
		if (i == 7)
			len = 25; /* the one with a NUL */
		run(smuggle[i], len, 1, 0, &r);
		CHECK(!r.done);
		CHECK_INT((int)r.used, (int)len);
		if (i != 7)
			CHECK(r.flags & SMTP_DR_BARE_EOL);
	}
}

TEST(test_data_smuggling_normalised_is_content_and_not_an_end)
{
	struct res r;
	run(LIT("a\n.\nMAIL FROM:<e@vil>\r\n.\r\n"), 1, 1, &r);
	CHECK(r.done);
	CHECK_INT((int)r.flags, 0);
	/* The dot after a bare LF is content, not stuffing and not an end. */
	CHECK_STR(r.out, "a\r\n.\r\nMAIL FROM:<e@vil>\r\n");
	run(LIT("x\r.\r\n.\r\n"), 1, 1, &r);
	CHECK(r.done);
	CHECK_STR(r.out, "x\r\n.\r\n");
}

TEST(test_data_every_split_gives_the_same_result)
{
	static const char in[] = "a\r\n..b\r\n.\rc\r\nd\n.\r\n\r\n.\r\ntail";
	struct res whole, part;
	size_t cut, len = sizeof(in) - 1;
	int norm;

	for (norm = 0; norm <= 1; norm++) {
		run(in, len, 1, norm, &whole);
		CHECK(whole.done);
		for (cut = 0; cut <= len; cut++) {
			run_split(in, len, cut, 1, norm, &part);
			CHECK_INT((int)part.used, (int)whole.used);
			CHECK_INT((int)part.flags, (int)whole.flags);
			CHECK(part.outlen == whole.outlen &&
			      memcmp(part.out, whole.out, part.outlen) == 0);
		}
	}
}

TEST(test_bdat_keeps_dots_and_flags_bare_cr_at_the_end)
{
	struct res r;
	run(LIT(".x\r\n.\r\n"), 0, 0, &r);
	CHECK(!r.done);
	CHECK_STR(r.out, ".x\r\n.\r\n");
	CHECK_INT((int)r.flags, 0);
	run(LIT("x\r\ny\r"), 0, 0, &r);
	CHECK(r.flags & SMTP_DR_BARE_EOL);
	run(LIT("x\ny"), 0, 1, &r);
	CHECK_STR(r.out, "x\r\ny");
}

TEST(test_data_limits_flag_long_lines_and_size)
{
	struct smtp_dreader d;
	struct buf out = BUF_INIT(1 << 16);
	char line[1200];

	memset(line, 'x', sizeof(line));
	smtp_dreader_init(&d, 1, 0, 998, 0);
	smtp_dreader_feed(&d, line, 998, &out);
	CHECK_INT((int)d.flags, 0);
	smtp_dreader_feed(&d, line, 1, &out);
	CHECK(d.flags & SMTP_DR_LONG_LINE);
	buf_reset(&out);
	smtp_dreader_init(&d, 1, 0, 0, 100);
	smtp_dreader_feed(&d, line, 101, &out);
	CHECK(d.flags & SMTP_DR_TOO_BIG);
	buf_free(&out);
}

int main(void)
{
	RUN(test_data_ends_only_at_crlf_dot_crlf);
	RUN(test_data_unstuffs_leading_dots);
	RUN(test_data_empty_message);
	RUN(test_data_smuggling_variants_never_end_data);
	RUN(test_data_smuggling_normalised_is_content_and_not_an_end);
	RUN(test_data_every_split_gives_the_same_result);
	RUN(test_bdat_keeps_dots_and_flags_bare_cr_at_the_end);
	RUN(test_data_limits_flag_long_lines_and_size);
	CHECK_DONE();
}
