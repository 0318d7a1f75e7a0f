/*
 * fuzz_reply.c - libFuzzer harness for the client's reply parser
 * (smtp_reply.c): the input is what a hostile server sends, cut into lines at
 * LF as conn.c does. Checks: a complete reply has a code 200-599 and at most
 * SMTP_REPLY_LINES_MAX lines; its one-line summaries hold no control byte.
 */
#include "fuzz.h"
#include "smtp/smtp_reply.h"

static void fuzz_reply_check(const struct smtp_reply *r)
{
	struct buf s = BUF_INIT(4096);
	const char *t;

	FUZZ_ASSERT(r->code >= 200 && r->code <= 599, "complete reply has a 2xx-5xx code");
	FUZZ_ASSERT(r->nlines >= 1 && r->nlines <= SMTP_REPLY_LINES_MAX, "line count bounded");
	FUZZ_ASSERT(r->enh[0] == '\0' || r->enh[0] == '0' + r->code / 100,
	            "enhanced code class matches the reply");
	FUZZ_ASSERT(strlen(r->enh) < sizeof(r->enh), "enhanced code fits");
	t = smtp_reply_summary(r, &s);
	FUZZ_ASSERT(!fuzz_has_ctl(t, strlen(t)), "summary is one clean line");
	FUZZ_ASSERT(strlen(t) < 1024, "summary is bounded");
	buf_reset(&s);
	t = smtp_reply_first_line(r, &s);
	FUZZ_ASSERT(!fuzz_has_ctl(t, strlen(t)), "first line is one clean line");
	buf_free(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtp_reply r;
	struct cl_err err;
	size_t i = 0;

	smtp_reply_init(&r);
	while (i < size) {
		const uint8_t *lf = memchr(data + i, '\n', size - i);
		size_t len = lf ? (size_t)(lf - (data + i)) : size - i;
		int rc = smtp_reply_feed(&r, (const char *)data + i, len, &err);

		if (rc == 1) {
			fuzz_reply_check(&r);
		} else if (rc < 0) {
			FUZZ_ASSERT(err.cls == CL_EPROTO || err.cls == CL_ESOFTWARE,
			            "a bad reply is a protocol error");
			FUZZ_ASSERT(strchr(err.msg, '\n') == NULL, "error message is one line");
			smtp_reply_reset(&r);
		}
		i += len + (lf != NULL);
	}
	smtp_reply_free(&r);
	return 0;
}
