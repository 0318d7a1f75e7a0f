/*
 * test_rawmsg.c - whole messages as sendmail mode takes them (rawmsg.c):
 * RFC 5322 address lists (display names, comments, quoted local parts,
 * groups, routes), -t recipients with Resent- precedence, Bcc removal, and
 * the Date/Message-ID/From added only when missing.
 */
#include "check.h"
#include "rawmsg.h"

#include <string.h>

static char got[2048];

static int collect(void *arg, const char *addr)
{
	(void)arg;
	if (got[0])
		strncat(got, "|", sizeof(got) - strlen(got) - 1);
	strncat(got, addr, sizeof(got) - strlen(got) - 1);
	return 0;
}

static const char *list(const char *value)
{
	struct cl_err err;

	got[0] = '\0';
	err_clear(&err);
	if (rawmsg_addr_list(value, collect, NULL, &err) < 0)
		return "(error)";
	return got;
}

TEST(test_rawmsg_addr_list_forms)
{
	CHECK_STR(list("a@x.example"), "a@x.example");
	CHECK_STR(list("Alice <a@x.example>, b@y.example"), "a@x.example|b@y.example");
	CHECK_STR(list("\"Doe, John\" <jd@x.example>"), "jd@x.example");
	CHECK_STR(list("b@y.example (Bob, the builder)"), "b@y.example");
	CHECK_STR(list("\"john doe\"@x.example"), "\"john doe\"@x.example");
	CHECK_STR(list("team: a@x.example, B <b@y.example>;, c@z.example"),
	          "a@x.example|b@y.example|c@z.example");
	CHECK_STR(list("undisclosed-recipients:;"), "");
	CHECK_STR(list("<@relay.example,@r2.example:u@z.example>"), "u@z.example");
	CHECK_STR(list("root"), "root");
	CHECK_STR(list("  ,, a@x.example ,"), "a@x.example");
	CHECK_STR(list("=?UTF-8?B?5bGx55Sw?= <yamada@x.example>"), "yamada@x.example");
	CHECK_STR(list("Nested (a (b) c) <n@x.example>"), "n@x.example");
}

static const char msg_t[] = "From: Me <me@x.example>\r\n"
                            "To: a@x.example,\r\n"
                            " B <b@y.example>\r\n"
                            "cc: c@z.example\r\n"
                            "BCC: hidden@w.example\r\n"
                            "Subject: hi\r\n"
                            "\r\n"
                            "To: not-a-header@body.example\r\n";

TEST(test_rawmsg_recipients_from_to_cc_bcc)
{
	struct cl_err err;

	got[0] = '\0';
	CHECK_INT(rawmsg_recipients(msg_t, sizeof(msg_t) - 1, collect, NULL, &err), 0);
	CHECK_STR(got, "a@x.example|b@y.example|c@z.example|hidden@w.example");
}

TEST(test_rawmsg_recipients_prefer_resent_fields)
{
	static const char m[] = "To: orig@x.example\r\n"
	                        "Resent-To: fwd@y.example\r\n"
	                        "Resent-Bcc: quiet@y.example\r\n"
	                        "\r\nbody\r\n";
	struct cl_err err;

	got[0] = '\0';
	CHECK_INT(rawmsg_recipients(m, sizeof(m) - 1, collect, NULL, &err), 0);
	CHECK_STR(got, "fwd@y.example|quiet@y.example");
}

TEST(test_rawmsg_header_get_unfolds)
{
	struct buf v = BUF_INIT(1024);

	CHECK_INT(rawmsg_header_get(msg_t, sizeof(msg_t) - 1, "to", &v), 1);
	CHECK_STR(buf_cstr(&v), "a@x.example, B <b@y.example>");
	CHECK_INT(rawmsg_header_get(msg_t, sizeof(msg_t) - 1, "Date", &v), 0);
	buf_free(&v);
}

TEST(test_rawmsg_prepare_strips_bcc_and_adds_missing_fields)
{
	struct rawmsg_opts o = {1, 1, 1536500481, "x.example", "me@x.example", NULL};
	struct rawmsg_info info;
	struct buf out = BUF_INIT(65536);
	struct cl_err err;
	const char *s;

	CHECK_INT(rawmsg_prepare(msg_t, sizeof(msg_t) - 1, &o, &out, &info, &err), 0);
	s = buf_cstr(&out);
	CHECK(strstr(s, "BCC:") == NULL && strstr(s, "hidden@") == NULL);
	CHECK(strstr(s, "To: a@x.example,\r\n B <b@y.example>\r\n") != NULL);
	/* From: was there: not added again; Date and Message-ID were not. */
	CHECK(strstr(s, "From: Me <me@x.example>\r\n") == s);
	CHECK(strstr(strstr(s, "From:") + 1, "From:") == NULL);
	CHECK(strstr(s, "\r\nDate: ") != NULL);
	CHECK(strstr(s, "\r\nMessage-ID: <") != NULL && strstr(s, "@x.example>\r\n") != NULL);
	/* The body is untouched, after exactly one empty line. */
	CHECK(strstr(s, "\r\n\r\nTo: not-a-header@body.example\r\n") != NULL);
	CHECK_INT(info.removed, 1);
	CHECK_INT(info.added, 2);
	CHECK_INT(info.had_header, 1);
	CHECK_INT(info.is_8bit, 0);
	buf_free(&out);
}

TEST(test_rawmsg_prepare_keeps_existing_date_and_id)
{
	static const char m[] = "Date: Mon, 10 Sep 2018 19:59:14 +0900\r\n"
	                        "Message-ID: <x@y>\r\nFrom: a@b.example\r\n\r\nhello\r\n";
	struct rawmsg_opts o = {1, 1, 0, "x.example", "me@x.example", "Me"};
	struct rawmsg_info info;
	struct buf out = BUF_INIT(65536);
	struct cl_err err;

	CHECK_INT(rawmsg_prepare(m, sizeof(m) - 1, &o, &out, &info, &err), 0);
	CHECK_STR(buf_cstr(&out), m);
	CHECK_INT(info.added, 0);
	buf_free(&out);
}

TEST(test_rawmsg_prepare_without_header_gets_one)
{
	static const char m[] = "just a line of text\r\nand another\r\n";
	struct rawmsg_opts o = {1, 1, 0, "x.example", "cron@x.example", "Cron Daemon"};
	struct rawmsg_info info;
	struct buf out = BUF_INIT(65536);
	struct cl_err err;
	const char *s;

	CHECK_INT(rawmsg_prepare(m, sizeof(m) - 1, &o, &out, &info, &err), 0);
	s = buf_cstr(&out);
	CHECK(strncmp(s, "From: Cron Daemon <cron@x.example>\r\n", 36) == 0);
	CHECK(strstr(s, "\r\n\r\njust a line of text\r\nand another\r\n") != NULL);
	CHECK_INT(info.had_header, 0);
	buf_free(&out);
}

TEST(test_rawmsg_prepare_separates_body_after_a_non_header_line)
{
	static const char m[] = "From ignored@mbox Mon Sep 10 2018\r\nSubject: s\r\n"
	                        "this is body without blank line\r\n";
	struct rawmsg_opts o = {1, 0, 0, NULL, NULL, NULL};
	struct rawmsg_info info;
	struct buf out = BUF_INIT(65536);
	struct cl_err err;

	CHECK_INT(rawmsg_prepare(m, sizeof(m) - 1, &o, &out, &info, &err), 0);
	CHECK_STR(buf_cstr(&out), "Subject: s\r\n\r\nthis is body without blank line\r\n");
	buf_free(&out);
}

TEST(test_rawmsg_prepare_encodes_non_ascii_full_name)
{
	static const char m[] = "Subject: s\r\n\r\nb\r\n";
	struct rawmsg_opts o = {1, 0, 0, NULL, "me@x.example", "山田 太郎"};
	struct rawmsg_info info;
	struct buf out = BUF_INIT(65536);
	struct cl_err err;

	CHECK_INT(rawmsg_prepare(m, sizeof(m) - 1, &o, &out, &info, &err), 0);
	CHECK(strstr(buf_cstr(&out), "From: =?UTF-8?B?") != NULL);
	CHECK(strstr(buf_cstr(&out), "<me@x.example>\r\n") != NULL);
	buf_free(&out);
}

int main(void)
{
	RUN(test_rawmsg_addr_list_forms);
	RUN(test_rawmsg_recipients_from_to_cc_bcc);
	RUN(test_rawmsg_recipients_prefer_resent_fields);
	RUN(test_rawmsg_header_get_unfolds);
	RUN(test_rawmsg_prepare_strips_bcc_and_adds_missing_fields);
	RUN(test_rawmsg_prepare_keeps_existing_date_and_id);
	RUN(test_rawmsg_prepare_without_header_gets_one);
	RUN(test_rawmsg_prepare_separates_body_after_a_non_header_line);
	RUN(test_rawmsg_prepare_encodes_non_ascii_full_name);
	CHECK_DONE();
}
