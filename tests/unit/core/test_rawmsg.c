/*
 * test_rawmsg.c - whole messages as sendmail mode takes them (rawmsg.c,
 * rawmsg_addr.c): RFC 5322 address lists (display names, comments, quoted
 * local parts, groups, routes), -t recipients with Resent- precedence, Bcc
 * removal, the Date/Message-ID/From added only when missing, the lone-dot
 * rule, and the body kept on disk, not in memory.
 */
#include "check.h"
#include "msg/rawmsg.h"
#include "msg/rawmsg_addr.h"
#include "smtp/smtp_data.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* n octets of text as a file (unlinked) to read from its start. */
static int input(const char *text, size_t n)
{
	char path[] = "/tmp/test_rawmsg.XXXXXX";
	int fd = mkstemp(path);

	if (fd < 0)
		return -1;
	unlink(path);
	if (write(fd, text, n) != (ssize_t)n || lseek(fd, 0, SEEK_SET) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Spool text as sendmail mode does. */
static int spool(struct rawmsg *m, const char *text, size_t n, int dot_ends, struct cl_err *err)
{
	int fd = input(text, n), rc;

	rawmsg_init(m, RAWMSG_SENDMAIL);
	if (fd < 0)
		return -1;
	rc = rawmsg_spool(m, fd, dot_ends, err);
	close(fd);
	return rc;
}

/* The message m sends, into out; its announced size must be what it sends. */
static int sent(struct rawmsg *m, struct buf *out, struct cl_err *err)
{
	struct msgstream ms;
	int rc;

	msgstream_init(&ms);
	rc = rawmsg_stream(m, &ms, err);
	if (rc == 0)
		rc = msgstream_drain(&ms, out, err);
	if (rc == 0 && msgstream_size(&ms) != (long long)out->len)
		rc = -1;
	msgstream_free(&ms);
	return rc;
}

/* Spool text (sendmail mode, -i), add the fields a asks for, send into out. */
static int prepare(const char *text, size_t n, const struct rawmsg_add *a, struct rawmsg *m,
                   struct buf *out, struct cl_err *err)
{
	if (spool(m, text, n, 0, err) < 0 || rawmsg_complete(m, a, err) < 0)
		return -1;
	return sent(m, out, err);
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
	struct rawmsg m;
	struct cl_err err;

	got[0] = '\0';
	CHECK_INT(spool(&m, msg_t, sizeof(msg_t) - 1, 0, &err), 0);
	CHECK_INT(rawmsg_recipients(&m, collect, NULL, &err), 0);
	CHECK_STR(got, "a@x.example|b@y.example|c@z.example|hidden@w.example");
	rawmsg_free(&m);
}

TEST(test_rawmsg_recipients_prefer_resent_fields)
{
	static const char t[] = "To: orig@x.example\r\n"
	                        "Resent-To: fwd@y.example\r\n"
	                        "Resent-Bcc: quiet@y.example\r\n"
	                        "\r\nbody\r\n";
	struct rawmsg m;
	struct cl_err err;

	got[0] = '\0';
	CHECK_INT(spool(&m, t, sizeof(t) - 1, 0, &err), 0);
	CHECK_INT(rawmsg_recipients(&m, collect, NULL, &err), 0);
	CHECK_STR(got, "fwd@y.example|quiet@y.example");
	rawmsg_free(&m);
}

TEST(test_rawmsg_header_get_unfolds)
{
	struct rawmsg m;
	struct buf v = BUF_INIT(1024);
	struct cl_err err;

	CHECK_INT(spool(&m, msg_t, sizeof(msg_t) - 1, 0, &err), 0);
	CHECK_INT(rawmsg_header_get(&m, "to", &v), 1);
	CHECK_STR(buf_cstr(&v), "a@x.example, B <b@y.example>");
	CHECK_INT(rawmsg_header_get(&m, "Date", &v), 0);
	rawmsg_free(&m);
	buf_free(&v);
}

TEST(test_rawmsg_prepare_strips_bcc_and_adds_missing_fields)
{
	struct rawmsg_add a = {1, 1536500481, "x.example", "me@x.example", NULL, 0, 0, 0};
	struct rawmsg m;
	struct buf out = BUF_INIT(65536);
	struct cl_err err;
	const char *s;

	CHECK_INT(prepare(msg_t, sizeof(msg_t) - 1, &a, &m, &out, &err), 0);
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
	CHECK_INT(m.dropped, 1);
	CHECK_INT(m.nadded, 2);
	CHECK_INT(m.had_header, 1);
	CHECK_INT(m.is_8bit, 0);
	rawmsg_free(&m);
	buf_free(&out);
}

TEST(test_rawmsg_prepare_keeps_existing_date_and_id)
{
	static const char t[] = "Date: Mon, 10 Sep 2018 19:59:14 +0900\r\n"
	                        "Message-ID: <x@y>\r\nFrom: a@b.example\r\n\r\nhello\r\n";
	struct rawmsg_add a = {1, 0, "x.example", "me@x.example", "Me", 0, 0, 0};
	struct rawmsg m;
	struct buf out = BUF_INIT(65536);
	struct cl_err err;

	CHECK_INT(prepare(t, sizeof(t) - 1, &a, &m, &out, &err), 0);
	CHECK_STR(buf_cstr(&out), t);
	CHECK_INT(m.nadded, 0);
	rawmsg_free(&m);
	buf_free(&out);
}

TEST(test_rawmsg_prepare_without_header_gets_one)
{
	static const char t[] = "just a line of text\r\nand another\r\n";
	struct rawmsg_add a = {1, 0, "x.example", "cron@x.example", "Cron Daemon", 0, 0, 0};
	struct rawmsg m;
	struct buf out = BUF_INIT(65536);
	struct cl_err err;
	const char *s;

	CHECK_INT(prepare(t, sizeof(t) - 1, &a, &m, &out, &err), 0);
	s = buf_cstr(&out);
	CHECK(strncmp(s, "From: Cron Daemon <cron@x.example>\r\n", 36) == 0);
	CHECK(strstr(s, "\r\n\r\njust a line of text\r\nand another\r\n") != NULL);
	CHECK_INT(m.had_header, 0);
	rawmsg_free(&m);
	buf_free(&out);
}

TEST(test_rawmsg_prepare_separates_body_after_a_non_header_line)
{
	static const char t[] = "From ignored@mbox Mon Sep 10 2018\r\nSubject: s\r\n"
	                        "this is body without blank line\r\n";
	struct rawmsg_add a = {0, 0, NULL, NULL, NULL, 0, 0, 0};
	struct rawmsg m;
	struct buf out = BUF_INIT(65536);
	struct cl_err err;

	CHECK_INT(prepare(t, sizeof(t) - 1, &a, &m, &out, &err), 0);
	CHECK_STR(buf_cstr(&out), "Subject: s\r\n\r\nthis is body without blank line\r\n");
	rawmsg_free(&m);
	/* Only the first line can be an mbox separator: a second one is text. */
	buf_reset(&out);
	CHECK_INT(prepare("From a\nFrom b\nSubject: s\n", 25, &a, &m, &out, &err), 0);
	CHECK_STR(buf_cstr(&out), "\r\nFrom b\r\nSubject: s\r\n");
	CHECK_INT(m.had_header, 0);
	rawmsg_free(&m);
	buf_free(&out);
}

TEST(test_rawmsg_prepare_encodes_non_ascii_full_name)
{
	static const char t[] = "Subject: s\r\n\r\nb\r\n";
	struct rawmsg_add a = {0, 0, NULL, "me@x.example", "山田 太郎", 0, 0, 0};
	struct rawmsg m;
	struct buf out = BUF_INIT(65536);
	struct cl_err err;

	CHECK_INT(prepare(t, sizeof(t) - 1, &a, &m, &out, &err), 0);
	CHECK(strstr(buf_cstr(&out), "From: =?UTF-8?B?") != NULL);
	CHECK(strstr(buf_cstr(&out), "<me@x.example>\r\n") != NULL);
	CHECK_INT(m.is_8bit, 0);
	rawmsg_free(&m);
	buf_free(&out);
}

TEST(test_rawmsg_empty_input_is_sent_with_a_header)
{
	struct rawmsg_add a = {0, 0, NULL, "me@x.example", NULL, 0, 0, 0};
	struct rawmsg m;
	struct buf out = BUF_INIT(65536);
	struct cl_err err;

	CHECK_INT(prepare("", 0, &a, &m, &out, &err), 0);
	CHECK_STR(buf_cstr(&out), "From: me@x.example\r\n\r\n");
	rawmsg_free(&m);
	buf_free(&out);
}

TEST(test_rawmsg_resent_bcc_left_out_and_8bit_counted_only_in_what_is_sent)
{
	static const char t[] = "To: a@x.example\nResent-Bcc: caf\xc3\xa9 <r@x.example>\n"
	                        "Bcc: b@x.example\n\nplain body\n";
	struct rawmsg_add a = {0, 0, NULL, NULL, NULL, 0, 0, 0};
	struct rawmsg m;
	struct buf out = BUF_INIT(65536);
	struct cl_err err;

	CHECK_INT(prepare(t, sizeof(t) - 1, &a, &m, &out, &err), 0);
	CHECK_STR(buf_cstr(&out), "To: a@x.example\r\n\r\nplain body\r\n");
	CHECK_INT(m.dropped, 2);
	CHECK_INT(m.is_8bit, 0);
	rawmsg_free(&m);
	buf_free(&out);
}

/* The lone-dot rule (sendmail without -i) on the text in, what is sent. */
static const char *dotted(const char *text, int dot_ends, struct buf *out)
{
	struct rawmsg m;
	struct cl_err err;
	int rc;

	buf_reset(out);
	rc = spool(&m, text, strlen(text), dot_ends, &err);
	if (rc == 0)
		rc = sent(&m, out, &err);
	rawmsg_free(&m);
	return rc == 0 ? buf_cstr(out) : "(error)";
}

TEST(test_rawmsg_lone_dot_ends_the_message_unless_told_not_to)
{
	struct buf out = BUF_INIT(65536);

	CHECK_STR(dotted("Subject: s\n\nkept\n.\nnot sent\n", 1, &out),
	          "Subject: s\r\n\r\nkept\r\n");
	CHECK_STR(dotted("Subject: s\r\n\r\nkept\r\n.\r\nnot sent\r\n", 1, &out),
	          "Subject: s\r\n\r\nkept\r\n");
	CHECK_STR(dotted("Subject: s\n\nkept\n.", 1, &out), "Subject: s\r\n\r\nkept\r\n");
	CHECK_STR(dotted("Subject: s\n\nkept\n.\r", 1, &out), "Subject: s\r\n\r\nkept\r\n");
	CHECK_STR(dotted(".\nall gone\n", 1, &out), "\r\n");
	/* Not a lone dot: sent as it is. */
	CHECK_STR(dotted("S: s\n\n. x\n..\n.a\nx.\n", 1, &out),
	          "S: s\r\n\r\n. x\r\n..\r\n.a\r\nx.\r\n");
	/* -i, -oi: the dot is an ordinary line. */
	CHECK_STR(dotted("Subject: s\n\nkept\n.\nsent too\n", 0, &out),
	          "Subject: s\r\n\r\nkept\r\n.\r\nsent too\r\n");
	buf_free(&out);
}

/* "Subject: s\n\n", then LF-ended lines up to n octets in all. */
static void filler(struct buf *b, size_t n)
{
	buf_reset(b);
	buf_adds(b, "Subject: s\n\n");
	while (b->len < n) {
		size_t k = n - b->len > 64 ? 63 : n - b->len - 1;
		while (k-- > 0)
			buf_addc(b, (char)('a' + b->len % 26));
		buf_addc(b, '\n');
	}
}

TEST(test_rawmsg_lone_dot_found_across_reads)
{
	struct buf in = BUF_INIT(1 << 20), want = BUF_INIT(1 << 20), out = BUF_INIT(1 << 20);
	const char *tails[] = {".\nnot sent\n", ".\r\nnot sent\n", ".x\nsent\n"};
	size_t i, at[] = {65535, 65534, 65535};

	/* The dot is the last octet of one read of the input, what decides
	 * is in the next; with ".\r" the CR is the last octet. */
	for (i = 0; i < 3; i++) {
		filler(&in, at[i]);
		buf_reset(&want);
		smtp_data_canonicalize(in.data, in.len, &want);
		if (i == 2)
			buf_adds(&want, ".x\r\nsent\r\n");
		buf_adds(&in, tails[i]);
		CHECK_STR(dotted(buf_cstr(&in), 1, &out), buf_cstr(&want));
	}
	buf_free(&in);
	buf_free(&want);
	buf_free(&out);
}

TEST(test_rawmsg_body_goes_to_the_spool_not_to_memory)
{
	static const char head[] = "Subject: big\nTo: a@x.example\n\n";
	struct buf in = BUF_INIT(8 << 20), out = BUF_INIT(16 << 20);
	struct rawmsg_add a = {0, 0, NULL, NULL, NULL, 0, 0, 0};
	struct rawmsg m;
	struct cl_err err;
	size_t i;

	buf_adds(&in, head);
	for (i = 0; i < 3 * 65536; i++)
		buf_adds(&in, "0123456789abcdef\n");
	CHECK_INT(prepare(in.data, in.len, &a, &m, &out, &err), 0);
	CHECK_INT(m.header.len, strlen("Subject: big\r\nTo: a@x.example\r\n"));
	CHECK_INT(m.size, 3 * 65536 * 18);
	CHECK_INT(out.len, m.header.len + 2 + (size_t)m.size);
	CHECK(strncmp(out.data + out.len - 36, "0123456789abcdef\r\n0123456789abcdef\r\n", 36) ==
	      0);
	rawmsg_free(&m);
	buf_free(&in);
	buf_free(&out);
}

TEST(test_rawmsg_header_section_is_bounded)
{
	struct buf in = BUF_INIT(4 << 20), out = BUF_INIT(4 << 20);
	struct rawmsg_add a = {0, 0, NULL, NULL, NULL, 0, 0, 0};
	struct rawmsg m;
	struct cl_err err;

	/* Many fields, more than RAWMSG_HEADER_MAX in all: refused. */
	while (in.len <= RAWMSG_HEADER_MAX)
		buf_adds(&in, "X-Filler: 0123456789012345678901234567890123456789\n");
	buf_adds(&in, "\nbody\n");
	CHECK_INT(prepare(in.data, in.len, &a, &m, &out, &err), -1);
	CHECK_INT(err.cls, CL_EDATA);
	CHECK(strstr(err.msg, "header section is larger") != NULL);
	rawmsg_free(&m);
	/* One line longer than that, which cannot be a field (no colon): a
	 * script's output without a header; it is the body. */
	buf_reset(&in);
	while (in.len <= RAWMSG_HEADER_MAX + 10)
		buf_adds(&in, "0123456789 ");
	buf_adds(&in, "\nend\n");
	buf_reset(&out);
	CHECK_INT(prepare(in.data, in.len, &a, &m, &out, &err), 0);
	CHECK_INT(m.header.len, 0);
	CHECK_INT(out.len, 2 + in.len + 2);
	CHECK(strncmp(out.data, "\r\n0123456789 ", 13) == 0);
	rawmsg_free(&m);
	buf_free(&in);
	buf_free(&out);
}

TEST(test_rawmsg_sent_again_after_rewind)
{
	struct rawmsg_add a = {1, 1536500481, "x.example", "me@x.example", NULL, 0, 0, 0};
	struct buf first = BUF_INIT(65536), again = BUF_INIT(65536);
	struct msgstream ms;
	struct rawmsg m;
	struct cl_err err;

	CHECK_INT(spool(&m, msg_t, sizeof(msg_t) - 1, 0, &err), 0);
	CHECK_INT(rawmsg_complete(&m, &a, &err), 0);
	msgstream_init(&ms);
	CHECK_INT(rawmsg_stream(&m, &ms, &err), 0);
	CHECK_INT(msgstream_drain(&ms, &first, &err), 0);
	/* The offline queue reads the message a second time. */
	CHECK_INT(msgstream_rewind(&ms, &err), 0);
	CHECK_INT(msgstream_drain(&ms, &again, &err), 0);
	CHECK_STR(buf_cstr(&again), buf_cstr(&first));
	CHECK(strstr(buf_cstr(&first), "not-a-header@body.example") != NULL);
	msgstream_free(&ms);
	rawmsg_free(&m);
	buf_free(&first);
	buf_free(&again);
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
	RUN(test_rawmsg_empty_input_is_sent_with_a_header);
	RUN(test_rawmsg_resent_bcc_left_out_and_8bit_counted_only_in_what_is_sent);
	RUN(test_rawmsg_lone_dot_ends_the_message_unless_told_not_to);
	RUN(test_rawmsg_lone_dot_found_across_reads);
	RUN(test_rawmsg_body_goes_to_the_spool_not_to_memory);
	RUN(test_rawmsg_header_section_is_bounded);
	RUN(test_rawmsg_sent_again_after_rewind);
	CHECK_DONE();
}
