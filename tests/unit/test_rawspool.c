/* test_rawspool.c - a whole message (--raw) spooled as it is: line ends
 * made CRLF, Bcc fields (with their continuation lines) left out, an mbox
 * "From " line dropped, Date and Message-ID added only when missing, and
 * input without a proper header section refused. */
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "rawspool.h"

/* Spool text through a pipe and stream it (with added fields) into out. */
static int spool(const char *text, struct rawspool *r, struct buf *out, struct cl_err *err)
{
	struct msgstream ms;
	int p[2], rc;

	rawspool_init(r);
	if (pipe(p) < 0 || write(p[1], text, strlen(text)) != (ssize_t)strlen(text))
		return -1;
	close(p[1]);
	rc = rawspool_spool(r, p[0], err);
	close(p[0]);
	if (rc < 0)
		return -1;
	msgstream_init(&ms);
	rc = rawspool_stream(r, "example.test", 1536577154, &ms, err);
	if (rc == 0)
		rc = msgstream_drain(&ms, out, err);
	msgstream_free(&ms);
	return rc;
}

TEST(test_rawspool_adds_date_and_message_id_only_when_missing)
{
	struct rawspool r;
	struct buf out = BUF_INIT(1 << 20);
	struct cl_err err;

	setenv("TZ", "UTC", 1);
	tzset();
	CHECK(spool("From: a@example.test\nTo: b@example.test\nSubject: hi\n\nbody\n.\n", &r, &out,
	            &err) == 0);
	CHECK(strncmp(buf_cstr(&out), "Date: Mon, 10 Sep 2018 10:59:14 +0000\r\nMessage-ID: <",
	              52) == 0);
	CHECK(strstr(buf_cstr(&out),
	             "@example.test>\r\nFrom: a@example.test\r\nTo: b@example.test\r\n"
	             "Subject: hi\r\n\r\nbody\r\n.\r\n") != NULL);
	CHECK_INT(r.is_8bit, 0);
	rawspool_free(&r);
	buf_reset(&out);
	CHECK(spool("date: Sun, 9 Sep 2018 22:41:21 +0900\r\nMESSAGE-ID: <x@y>\r\n\r\nb", &r, &out,
	            &err) == 0);
	CHECK_STR(buf_cstr(&out),
	          "date: Sun, 9 Sep 2018 22:41:21 +0900\r\nMESSAGE-ID: <x@y>\r\n\r\nb\r\n");
	rawspool_free(&r);
	buf_free(&out);
}

TEST(test_rawspool_drops_bcc_and_mbox_separator_keeps_body_as_is)
{
	struct rawspool r;
	struct buf out = BUF_INIT(1 << 20);
	struct cl_err err;

	CHECK(spool("From sender@example.test Mon Sep 10 10:59:14 2018\n"
	            "Date: x\nMessage-ID: <a@b>\nBcc: secret@example.test,\n  other@example.test\n"
	            "To: b@example.test\nBCC: more@example.test\n\nBcc: in the body stays\r\n"
	            "caf\xc3\xa9\rend",
	            &r, &out, &err) == 0);
	CHECK_STR(buf_cstr(&out), "Date: x\r\nMessage-ID: <a@b>\r\nTo: b@example.test\r\n\r\n"
	                          "Bcc: in the body stays\r\ncaf\xc3\xa9\r\nend\r\n");
	CHECK_INT(r.dropped, 2);
	CHECK_INT(r.is_8bit, 1);
	CHECK_STR(buf_cstr(&r.header), "Date: x\r\nMessage-ID: <a@b>\r\nTo: b@example.test\r\n");
	CHECK_INT(r.size, (long long)out.len);
	rawspool_free(&r);
	buf_free(&out);
}

TEST(test_rawspool_refuses_input_that_is_not_a_message)
{
	struct rawspool r;
	struct buf out = BUF_INIT(1 << 20);
	struct cl_err err;

	CHECK(spool("just a body line\nand another\n", &r, &out, &err) == -1);
	CHECK_INT(err.cls, CL_EDATA);
	CHECK(strstr(err.msg, "line 1 is not a header field") != NULL);
	rawspool_free(&r);
	CHECK(spool("Subject: x\n folded\nno colon here\n\nbody\n", &r, &out, &err) == -1);
	CHECK(strstr(err.msg, "line 3") != NULL);
	rawspool_free(&r);
	CHECK(spool("", &r, &out, &err) == -1);
	CHECK(strstr(err.msg, "empty") != NULL);
	rawspool_free(&r);
	CHECK(spool(" starts folded: x\n\n", &r, &out, &err) == -1);
	rawspool_free(&r);
	buf_free(&out);
}

int main(void)
{
	RUN(test_rawspool_adds_date_and_message_id_only_when_missing);
	RUN(test_rawspool_drops_bcc_and_mbox_separator_keeps_body_as_is);
	RUN(test_rawspool_refuses_input_that_is_not_a_message);
	CHECK_DONE();
}
