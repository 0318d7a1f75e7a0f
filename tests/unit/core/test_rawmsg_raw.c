/* test_rawmsg_raw.c - a whole message given with --raw (rawmsg.c in
 * RAWMSG_RAW mode), spooled as it is: line ends made CRLF, Bcc fields (with
 * their continuation lines) left out, an mbox "From " line dropped, Date and
 * Message-ID added only when missing, and input without a proper header
 * section refused. */
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "msg/rawmsg.h"

/* Spool text through a pipe, add Date and Message-ID when missing, and
 * stream the message into out; the size announced must be the size sent. */
static int spool(const char *text, struct rawmsg *r, struct buf *out, struct cl_err *err)
{
	struct rawmsg_add add = {1, 1536577154, "example.test", NULL, NULL, 0, 0, 0};
	struct msgstream ms;
	int p[2], rc;

	rawmsg_init(r, RAWMSG_RAW);
	if (pipe(p) < 0 || write(p[1], text, strlen(text)) != (ssize_t)strlen(text))
		return -1;
	close(p[1]);
	rc = rawmsg_spool(r, p[0], 1, err);
	close(p[0]);
	if (rc < 0 || rawmsg_complete(r, &add, err) < 0)
		return -1;
	msgstream_init(&ms);
	rc = rawmsg_stream(r, &ms, err);
	if (rc == 0)
		rc = msgstream_drain(&ms, out, err);
	if (rc == 0 && msgstream_size(&ms) != (long long)out->len)
		rc = -1;
	msgstream_free(&ms);
	return rc;
}

TEST(test_rawmsg_raw_adds_date_and_message_id_only_when_missing)
{
	struct rawmsg r;
	struct buf out = BUF_INIT(1 << 20);
	struct cl_err err;

	setenv("TZ", "UTC", 1);
	tzset();
	/* The lone dot is text here: only sendmail mode has that rule. */
	CHECK(spool("From: a@example.test\nTo: b@example.test\nSubject: hi\n\nbody\n.\n", &r, &out,
	            &err) == 0);
	CHECK(strncmp(buf_cstr(&out), "Date: Mon, 10 Sep 2018 10:59:14 +0000\r\nMessage-ID: <",
	              52) == 0);
	CHECK(strstr(buf_cstr(&out),
	             "@example.test>\r\nFrom: a@example.test\r\nTo: b@example.test\r\n"
	             "Subject: hi\r\n\r\nbody\r\n.\r\n") != NULL);
	CHECK_INT(r.is_8bit, 0);
	rawmsg_free(&r);
	buf_reset(&out);
	CHECK(spool("date: Sun, 9 Sep 2018 22:41:21 +0900\r\nMESSAGE-ID: <x@y>\r\n\r\nb", &r, &out,
	            &err) == 0);
	CHECK_STR(buf_cstr(&out),
	          "date: Sun, 9 Sep 2018 22:41:21 +0900\r\nMESSAGE-ID: <x@y>\r\n\r\nb\r\n");
	rawmsg_free(&r);
	buf_free(&out);
}

TEST(test_rawmsg_raw_drops_bcc_and_mbox_separator_keeps_body_as_is)
{
	struct rawmsg r;
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
	/* Only the header section is in memory; the body is in the spool. */
	CHECK_INT(r.size, (long long)strlen("Bcc: in the body stays\r\ncaf\xc3\xa9\r\nend\r\n"));
	rawmsg_free(&r);
	buf_free(&out);
}

TEST(test_rawmsg_raw_header_only_gets_no_empty_line)
{
	struct rawmsg r;
	struct buf out = BUF_INIT(1 << 20);
	struct cl_err err;

	CHECK(spool("Date: x\nMessage-ID: <a@b>\nSubject: only a header\n", &r, &out, &err) == 0);
	CHECK_STR(buf_cstr(&out), "Date: x\r\nMessage-ID: <a@b>\r\nSubject: only a header\r\n");
	rawmsg_free(&r);
	buf_free(&out);
}

TEST(test_rawmsg_raw_refuses_input_that_is_not_a_message)
{
	struct rawmsg r;
	struct buf out = BUF_INIT(1 << 20);
	struct cl_err err;

	CHECK(spool("just a body line\nand another\n", &r, &out, &err) == -1);
	CHECK_INT(err.cls, CL_EDATA);
	CHECK(strstr(err.msg, "line 1 is not a header field") != NULL);
	rawmsg_free(&r);
	CHECK(spool("Subject: x\n folded\nno colon here\n\nbody\n", &r, &out, &err) == -1);
	CHECK(strstr(err.msg, "line 3") != NULL);
	rawmsg_free(&r);
	CHECK(spool("", &r, &out, &err) == -1);
	CHECK(strstr(err.msg, "empty") != NULL);
	rawmsg_free(&r);
	CHECK(spool("Bcc: only@example.test\n", &r, &out, &err) == -1);
	CHECK(strstr(err.msg, "empty") != NULL);
	rawmsg_free(&r);
	CHECK(spool(" starts folded: x\n\n", &r, &out, &err) == -1);
	rawmsg_free(&r);
	buf_free(&out);
}

int main(void)
{
	RUN(test_rawmsg_raw_adds_date_and_message_id_only_when_missing);
	RUN(test_rawmsg_raw_drops_bcc_and_mbox_separator_keeps_body_as_is);
	RUN(test_rawmsg_raw_header_only_gets_no_empty_line);
	RUN(test_rawmsg_raw_refuses_input_that_is_not_a_message);
	CHECK_DONE();
}
