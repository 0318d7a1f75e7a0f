/* test_dsn.c - notices composed from an envelope in memory: the NOTIFY
 * rules, the status taken from the journalled reply, xtext, and the RFC 3464
 * report itself (only the reported recipients, ENVID and ORCPT decoded,
 * RET=HDRS, the size limit, UTF-8 addresses, line lengths), for failures
 * and for the "delivered" and "relayed" success notices. */
#include <stdlib.h>

#include "check.h"
#include "dsn.h"
#include "server.h"
#include "base/xtext.h"
#include "serve/spool_env.h"

static const char orig[] = "Received: from x ([127.0.0.2])\r\n\tby mx (clsmtpd) id A\r\n"
                           "From: <alice@example.org>\r\nSubject: the subject\r\n\r\n"
                           "the body line\r\n";

/* Recipient i's last record, as release 1 journalled it (one TEXT field). */
static void set_last(struct spool_envelope *e, size_t i, const char *text)
{
	struct buf line = BUF_INIT(16384);

	buf_printf(&line, "F\t%zu\t1795443150\t0\t%s", i, text);
	if (spool_journal_apply(e, line.data) < 0)
		abort();
	buf_free(&line);
}

static void env_make(struct spool_envelope *e, const char *from_params)
{
	spool_env_init(e);
	memcpy(e->qid, "6B0449B1D4E5906F7B01", SPOOL_QID_LEN + 1);
	e->arrival = 1795443121;
	e->from = strdup("alice@example.org");
	e->from_params = strdup(from_params);
	spool_env_add_rcpt(e, "gone@remote.test", SPOOL_RELAY, "-", "FAILURE",
	                   "rfc822;gone+2Bx@remote.test");
	spool_env_add_rcpt(e, "fine@remote.test", SPOOL_RELAY, "-", "-", "-");
	set_last(e, 0,
	         "host smarthost.isp.example said: 550 5.1.1 <gone@remote."
	         "test>: Recipient address rejected: User unknown in "
	         "virtual mailbox table (in reply to RCPT TO)");
	e->rcpt[1].state = SPOOL_DELIVERED;
}

static int compose(const struct spool_envelope *e, int complete, struct buf *out)
{
	static const size_t idx[] = {0};
	struct dsn_report r;

	memset(&r, 0, sizeof(r));
	r.hostname = "mx.home.example";
	r.notice_qid = "6B0449B1E548306F7E00";
	r.now = 1795443200;
	r.env = e;
	r.rcpt = idx;
	r.nrcpt = 1;
	r.orig = orig;
	r.orig_len = sizeof(orig) - 1;
	r.orig_complete = complete;
	return dsn_compose(&r, out);
}

/* A success notice about recipients idx[0..n) of e. */
static int compose_success(const struct spool_envelope *e, enum dsn_action action, const char *text,
                           const size_t *idx, size_t n, struct buf *out)
{
	struct dsn_report r;
	struct outcome o;
	int rc;

	memset(&r, 0, sizeof(r));
	r.hostname = "mx.home.example";
	r.notice_qid = "6B0449B1E548306F7E00";
	r.now = 1795443200;
	r.env = e;
	r.rcpt = idx;
	r.nrcpt = n;
	r.orig = orig;
	r.orig_len = sizeof(orig) - 1;
	r.orig_complete = 1;
	r.action = action;
	r.status = "2.0.0";
	outcome_init(&o);
	outcome_from_text(&o, text);
	r.outcome = &o;
	rc = dsn_compose(&r, out);
	outcome_free(&o);
	return rc;
}

/* Two local recipients delivered: the first with NOTIFY=SUCCESS and an
 * ORCPT, the second without DSN parameters. */
static void env_delivered(struct spool_envelope *e, const char *from_params)
{
	spool_env_init(e);
	memcpy(e->qid, "6B0449B1D4E5906F7B02", SPOOL_QID_LEN + 1);
	e->arrival = 1795443121;
	e->from = strdup("alice@example.org");
	e->from_params = strdup(from_params);
	spool_env_add_rcpt(e, "bob@example.org", SPOOL_LOCAL, "/srv/mail/bob", "SUCCESS,FAILURE",
	                   "rfc822;bobby+2Bx@example.org");
	spool_env_add_rcpt(e, "carol@example.org", SPOOL_LOCAL, "/srv/mail/carol", "-", "-");
}

/* Every line ends in CRLF, none is longer than 998 octets. */
static int lines_ok(const struct buf *b)
{
	size_t i, col = 0;

	for (i = 0; i < b->len; i++) {
		if (b->data[i] == '\n' && (i == 0 || b->data[i - 1] != '\r'))
			return 0;
		if (b->data[i] == '\r' && (i + 1 == b->len || b->data[i + 1] != '\n'))
			return 0;
		col = b->data[i] == '\n' ? 0 : col + 1;
		if (col > 998)
			return 0;
	}
	return 1;
}

TEST(test_notify_decides_whether_a_notice_is_due)
{
	CHECK_INT(dsn_wants_failure("-"), 1);
	CHECK_INT(dsn_wants_failure(NULL), 1);
	CHECK_INT(dsn_wants_failure("NEVER"), 0);
	CHECK_INT(dsn_wants_failure("SUCCESS,FAILURE"), 1);
	CHECK_INT(dsn_wants_failure("failure,delay"), 1);
	CHECK_INT(dsn_wants_failure("DELAY"), 0);
	CHECK_INT(dsn_wants_failure("SUCCESS"), 0);
	CHECK_INT(dsn_wants_failure("XFAILURE"), 0);
}

TEST(test_only_notify_success_asks_for_a_success_notice)
{
	CHECK_INT(dsn_wants_success("-"), 0);
	CHECK_INT(dsn_wants_success(NULL), 0);
	CHECK_INT(dsn_wants_success(""), 0);
	CHECK_INT(dsn_wants_success("NEVER"), 0);
	CHECK_INT(dsn_wants_success("FAILURE"), 0);
	CHECK_INT(dsn_wants_success("FAILURE,DELAY"), 0);
	CHECK_INT(dsn_wants_success("SUCCESS"), 1);
	CHECK_INT(dsn_wants_success("delay,success"), 1);
	CHECK_INT(dsn_wants_success("SUCCESS,FAILURE,DELAY"), 1);
	CHECK_INT(dsn_wants_success("SUCCESSX"), 0);
	CHECK_INT(dsn_wants_success("XSUCCESS,FAILURE"), 0);
}

/* The Status a notice gives a text journalled by release 1. */
static void dsn_status(const char *text, char *out)
{
	struct outcome o;

	outcome_init(&o);
	snprintf(out, 16, "5.0.0");
	if (text != NULL && outcome_from_text(&o, text) == 0 && o.status[0] != '\0')
		snprintf(out, 16, "%s", o.status);
	outcome_free(&o);
}

TEST(test_status_comes_from_the_quoted_reply)
{
	char s[16];

	dsn_status("host h said: 550 5.1.1 <x>: User unknown (in reply to RCPT TO)", s);
	CHECK_STR(s, "5.1.1");
	dsn_status("host h said: 554 5.7.1 Relay access denied", s);
	CHECK_STR(s, "5.7.1");
	dsn_status("host h said: 550 no enhanced code here", s);
	CHECK_STR(s, "5.0.0");
	dsn_status("host h said: 550 4.1.1 class does not match", s);
	CHECK_STR(s, "5.0.0");
	dsn_status("delivery time expired after 5d (31 attempts); last error: host h said: 451 "
	           "4.3.0 later",
	           s);
	CHECK_STR(s, "4.4.7");
	dsn_status("the message (20000000 bytes) is larger than h accepts", s);
	CHECK_STR(s, "5.0.0");
	dsn_status("552 5.3.4 Message too big", s);
	CHECK_STR(s, "5.3.4");
	dsn_status(NULL, s);
	CHECK_STR(s, "5.0.0");
}

TEST(test_xtext_is_decoded)
{
	struct buf b = BUF_INIT(128);

	CHECK_INT(xtext_decode("rfc822+3Ba+2Bb@c", &b), 0);
	CHECK_STR(buf_cstr(&b), "rfc822;a+b@c");
	buf_reset(&b);
	xtext_decode("end+2", &b);
	CHECK_STR(buf_cstr(&b), "end+2");
	buf_free(&b);
}

TEST(test_report_lists_only_the_failed_recipient)
{
	struct spool_envelope e;
	struct buf b = BUF_INIT(DSN_MAX);

	env_make(&e, "ENVID=abc+2Bdef RET=FULL");
	CHECK_INT(compose(&e, 1, &b), 0);
	CHECK(strstr(b.data, "Content-Type: multipart/report; report-type=delivery-status;") !=
	      NULL);
	CHECK(strstr(b.data, "From: Mail Delivery System <MAILER-DAEMON@mx.home.example>") != NULL);
	CHECK(strstr(b.data, "To: <alice@example.org>") != NULL);
	CHECK(strstr(b.data, "Auto-Submitted: auto-replied") != NULL);
	CHECK(strstr(b.data, "Reporting-MTA: dns; mx.home.example") != NULL);
	CHECK(strstr(b.data, "Original-Envelope-Id: abc+def") != NULL);
	CHECK(strstr(b.data, "Final-Recipient: rfc822; gone@remote.test") != NULL);
	CHECK(strstr(b.data, "Original-Recipient: rfc822; gone+x@remote.test") != NULL);
	CHECK(strstr(b.data, "Action: failed") != NULL);
	CHECK(strstr(b.data, "Status: 5.1.1") != NULL);
	CHECK(strstr(b.data, "Remote-MTA: dns; smarthost.isp.example") != NULL);
	CHECK(strstr(b.data, "Diagnostic-Code: smtp; 550 5.1.1") != NULL);
	CHECK(strstr(b.data, "(in reply to RCPT TO)\r\nLast") == NULL); /* not in the code */
	CHECK(strstr(b.data, "fine@remote.test") == NULL);
	CHECK(strstr(b.data, "Content-Type: message/rfc822") != NULL);
	CHECK(strstr(b.data, "the body line") != NULL);
	CHECK(lines_ok(&b));
	buf_free(&b);
	spool_env_free(&e);
}

TEST(test_ret_hdrs_and_large_messages_return_the_header_only)
{
	struct spool_envelope e;
	struct buf b = BUF_INIT(DSN_MAX);

	env_make(&e, "RET=HDRS");
	CHECK_INT(compose(&e, 1, &b), 0);
	CHECK(strstr(b.data, "Content-Type: text/rfc822-headers") != NULL);
	CHECK(strstr(b.data, "Subject: the subject") != NULL);
	CHECK(strstr(b.data, "the body line") == NULL);
	spool_env_free(&e);
	buf_reset(&b);
	env_make(&e, "-");
	CHECK_INT(compose(&e, 0, &b), 0); /* more than DSN_RETURN_MAX */
	CHECK(strstr(b.data, "Content-Type: text/rfc822-headers") != NULL);
	CHECK(strstr(b.data, "the body line") == NULL);
	CHECK(lines_ok(&b));
	buf_free(&b);
	spool_env_free(&e);
}

TEST(test_long_reasons_are_folded_not_cut)
{
	struct spool_envelope e;
	struct buf b = BUF_INIT(DSN_MAX), t = BUF_INIT(8192);
	int i;

	env_make(&e, "-");
	buf_adds(&t, "host h said: 550 5.7.1");
	for (i = 0; i < 300; i++)
		buf_adds(&t, " word");
	buf_adds(&t, " ");
	for (i = 0; i < 1500; i++)
		buf_addc(&t, 'x'); /* one word longer than a line may be */
	set_last(&e, 0, buf_cstr(&t));
	CHECK_INT(compose(&e, 1, &b), 0);
	CHECK(lines_ok(&b));
	CHECK(strstr(b.data, "Status: 5.7.1") != NULL);
	buf_free(&b);
	buf_free(&t);
	spool_env_free(&e);
}

TEST(test_utf8_addresses_use_the_global_types)
{
	struct spool_envelope e;
	struct buf b = BUF_INIT(DSN_MAX);

	env_make(&e, "SMTPUTF8");
	free(e.rcpt[0].addr);
	e.rcpt[0].addr = strdup("\xe5\xb1\xb1\xe7\x94\xb0@remote.test");
	CHECK_INT(compose(&e, 1, &b), 0);
	CHECK(strstr(b.data, "Content-Type: message/global-delivery-status") != NULL);
	CHECK(strstr(b.data, "Final-Recipient: utf-8; \xe5\xb1\xb1\xe7\x94\xb0@remote.test") !=
	      NULL);
	CHECK(strstr(b.data, "charset=utf-8") != NULL);
	CHECK(strstr(b.data, "Content-Type: message/global\r\n") != NULL);
	buf_free(&b);
	spool_env_free(&e);
}

TEST(test_delivered_report_says_delivered_with_status_2_0_0)
{
	static const size_t idx[] = {0};
	struct spool_envelope e;
	struct buf b = BUF_INIT(DSN_MAX);

	env_delivered(&e, "ENVID=id+2B7 RET=HDRS");
	CHECK_INT(compose_success(&e, DSN_DELIVERED, "delivered to maildir", idx, 1, &b), 0);
	CHECK(strstr(b.data, "Subject: Successful Mail Delivery Report\r\n") != NULL);
	CHECK(strstr(b.data, "From: Mail Delivery System <MAILER-DAEMON@mx.home.example>") != NULL);
	CHECK(strstr(b.data, "To: <alice@example.org>") != NULL);
	CHECK(strstr(b.data, "Content-Type: message/delivery-status") != NULL);
	CHECK(strstr(b.data, "Original-Envelope-Id: id+7\r\n") != NULL);
	CHECK(strstr(b.data, "Final-Recipient: rfc822; bob@example.org\r\n") != NULL);
	CHECK(strstr(b.data, "Original-Recipient: rfc822; bobby+x@example.org\r\n") != NULL);
	CHECK(strstr(b.data, "Action: delivered\r\n") != NULL);
	CHECK(strstr(b.data, "Status: 2.0.0\r\n") != NULL);
	CHECK(strstr(b.data, "Diagnostic-Code: X-clsmtpd; delivered to maildir\r\n") != NULL);
	CHECK(strstr(b.data, "Action: failed") == NULL);
	CHECK(strstr(b.data, "Remote-MTA") == NULL);
	CHECK(strstr(b.data, "carol@example.org") == NULL); /* not reported on */
	/* RET=HDRS: the header section only. */
	CHECK(strstr(b.data, "Content-Type: text/rfc822-headers") != NULL);
	CHECK(strstr(b.data, "Subject: the subject") != NULL);
	CHECK(strstr(b.data, "the body line") == NULL);
	CHECK(strstr(b.data, "Undelivered") == NULL);
	CHECK(lines_ok(&b));
	buf_free(&b);
	spool_env_free(&e);
}

TEST(test_success_report_returns_only_the_headers_even_with_ret_full)
{
	static const size_t idx[] = {0};
	struct spool_envelope e;
	struct buf b = BUF_INIT(DSN_MAX);

	/* RFC 3461 4.3: a report without a failure returns the headers. */
	env_delivered(&e, "RET=FULL");
	CHECK_INT(compose_success(&e, DSN_DELIVERED, "delivered to maildir", idx, 1, &b), 0);
	CHECK(strstr(b.data, "Content-Type: text/rfc822-headers") != NULL);
	CHECK(strstr(b.data, "the body line") == NULL);
	CHECK(strstr(b.data, "Original-Envelope-Id") == NULL);
	buf_free(&b);
	spool_env_free(&e);
}

TEST(test_relayed_report_names_the_next_hop_and_its_reply)
{
	static const size_t idx[] = {0, 1};
	struct spool_envelope e;
	struct buf b = BUF_INIT(DSN_MAX);
	const char *first, *second;

	env_delivered(&e, "-");
	CHECK_INT(compose_success(&e, DSN_RELAYED,
	                          "host smarthost.isp.example said: 250 2.0.0 Ok: queued as 4Xy "
	                          "(in reply to end of DATA)",
	                          idx, 2, &b),
	          0);
	CHECK(strstr(b.data, "Subject: Successful Mail Delivery Report\r\n") != NULL);
	/* One report, both recipients, each with its own block. */
	first = strstr(b.data, "Final-Recipient: rfc822; bob@example.org\r\n");
	second = strstr(b.data, "Final-Recipient: rfc822; carol@example.org\r\n");
	CHECK(first != NULL && second != NULL && first < second);
	CHECK(strstr(b.data, "Original-Recipient: rfc822; bobby+x@example.org\r\n") != NULL);
	CHECK(second != NULL && strstr(second, "Original-Recipient") == NULL);
	CHECK(first != NULL && strstr(first, "Action: relayed\r\nStatus: 2.0.0\r\n") != NULL);
	CHECK(second != NULL && strstr(second, "Action: relayed\r\nStatus: 2.0.0\r\n") != NULL);
	CHECK(strstr(b.data, "Remote-MTA: dns; smarthost.isp.example\r\n") != NULL);
	CHECK(strstr(b.data, "Diagnostic-Code: smtp; 250 2.0.0 Ok: queued as 4Xy\r\n") != NULL);
	CHECK(strstr(b.data, "Action: delivered") == NULL);
	CHECK(strstr(b.data, "Content-Type: text/rfc822-headers") != NULL);
	CHECK(lines_ok(&b));
	buf_free(&b);
	spool_env_free(&e);
}

TEST(test_failure_report_is_unchanged_by_the_success_fields)
{
	struct spool_envelope e;
	struct buf b = BUF_INIT(DSN_MAX);

	/* A zeroed report is a failure notice (action DSN_FAILED, status and
	 * text from the journal). */
	env_make(&e, "-");
	CHECK_INT(compose(&e, 1, &b), 0);
	CHECK(strstr(b.data, "Subject: Undelivered Mail Returned to Sender\r\n") != NULL);
	CHECK(strstr(b.data, "Action: failed\r\nStatus: 5.1.1\r\n") != NULL);
	CHECK(strstr(b.data, "Content-Description: Undelivered Message\r\n") != NULL);
	CHECK(strstr(b.data, "the body line") != NULL);
	buf_free(&b);
	spool_env_free(&e);
}

int main(void)
{
	RUN(test_notify_decides_whether_a_notice_is_due);
	RUN(test_only_notify_success_asks_for_a_success_notice);
	RUN(test_status_comes_from_the_quoted_reply);
	RUN(test_xtext_is_decoded);
	RUN(test_report_lists_only_the_failed_recipient);
	RUN(test_ret_hdrs_and_large_messages_return_the_header_only);
	RUN(test_long_reasons_are_folded_not_cut);
	RUN(test_utf8_addresses_use_the_global_types);
	RUN(test_delivered_report_says_delivered_with_status_2_0_0);
	RUN(test_success_report_returns_only_the_headers_even_with_ret_full);
	RUN(test_relayed_report_names_the_next_hop_and_its_reply);
	RUN(test_failure_report_is_unchanged_by_the_success_fields);
	CHECK_DONE();
}
