/*
 * test_body_source.c - the body sources: a prefix (the relay's DKIM
 * signatures, a rewritten header) before another source comes out whole,
 * in one read when it fits (so that a small message stays one BDAT LAST
 * chunk in the first flight), and in pieces of any size otherwise.
 */
#include <string.h>

#include "check.h"
#include "smtp/body_source.h"

/* Read src to its end in reads of at most max bytes; the reads it took. */
static int read_all(struct smtp_body_source *src, size_t max, struct buf *out)
{
	struct cl_err err;
	int reads = 0, more = 1;

	while (more == 1 && reads < 10000) {
		more = src->read(src->arg, out, max, &err);
		reads++;
	}
	return more < 0 ? -1 : reads;
}

static void prefixed(const char *pre, const char *body, size_t max, const char *want,
                     int want_reads)
{
	struct smtp_body_source inner, src;
	struct smtp_mem_source mem;
	struct smtp_prefix_source ps;
	struct buf out = BUF_INIT(1 << 16);
	int reads;

	smtp_body_from_memory(&inner, &mem, body, strlen(body));
	smtp_body_prefixed(&src, &ps, pre, strlen(pre), &inner);
	CHECK_INT(src.size, (long long)(strlen(pre) + strlen(body)));
	reads = read_all(&src, max, &out);
	CHECK_STR(buf_cstr(&out), want);
	if (want_reads > 0)
		CHECK_INT(reads, want_reads);
	buf_free(&out);
}

TEST(test_prefix_fits_one_read)
{
	prefixed("DKIM-Signature: x\r\n", "Subject: s\r\n\r\nbody\r\n",
	         65536, "DKIM-Signature: x\r\nSubject: s\r\n\r\nbody\r\n", 1);
	prefixed("", "only the body\r\n", 65536, "only the body\r\n", 1);
	prefixed("only a prefix\r\n", "", 65536, "only a prefix\r\n", 1);
}

TEST(test_prefix_in_pieces)
{
	const char *pre = "0123456789abcdef", *body = "ghijklmnopqrstuvwxyz";
	char want[64];

	snprintf(want, sizeof(want), "%s%s", pre, body);
	for (size_t max = 1; max <= 40; max++)
		prefixed(pre, body, max, want, 0);
	/* The prefix exactly one read: the body follows in the next. */
	prefixed(pre, body, 16, want, 0);
}

int main(void)
{
	RUN(test_prefix_fits_one_read);
	RUN(test_prefix_in_pieces);
	CHECK_DONE();
}
