/* test_smtp_server.c - the sans-I/O server session driven with stub hooks:
 * greeting and EHLO, a whole pipelined transaction, ordering and state
 * errors, STARTTLS discarding what was pipelined behind it, talking before
 * the greeting, BDAT, AUTH exchanges (with the final 334), and limits. */
#include <stdlib.h>

#include "check.h"
#include "serve/smtp_server.h"

struct stub {
	struct buf msg; /* message bytes received */
	int committed, refused, aborted, resets;
	int rcpt_calls;
	int auth_steps;
	int auth_final_data; /* reply OK with server data (like SCRAM) */
	int later;           /* data_end answers SMTP_HOOK_LATER (group commit) */
};

static int stub_rcpt(void *arg, const char *to, const struct smtp_rcpt_params *rp,
                     struct buf *reply)
{
	struct stub *st = arg;
	(void)rp;
	st->rcpt_calls++;
	if (strcmp(to, "nobody@example.test") == 0) {
		buf_set(reply, "550 5.1.1 No such user");
		return -1;
	}
	return 0;
}

static int stub_write(void *arg, const char *p, size_t n)
{
	struct stub *st = arg;
	return buf_add(&st->msg, p, n);
}

static int stub_end(void *arg, enum smtp_data_end how, struct buf *reply)
{
	struct stub *st = arg;
	if (how == SMTP_DATA_OK) {
		st->committed++;
		if (st->later)
			return SMTP_HOOK_LATER;
		buf_set(reply, "250 2.0.0 Ok: queued as TEST");
	} else if (how == SMTP_DATA_REFUSED) {
		st->refused++;
	} else {
		st->aborted++;
	}
	return 0;
}

static void stub_reset(void *arg)
{
	((struct stub *)arg)->resets++;
}

/* A fake mechanism "TEST": client sends "dXNlcg==" (user), we challenge
 * "Y2hhbGxlbmdl", client answers "cGFzcw==" (pass). */
static enum smtp_auth_result stub_auth(void *arg, const char *mech, const char *in, struct buf *out)
{
	struct stub *st = arg;
	st->auth_steps++;
	if (mech != NULL) {
		if (in == NULL || strcmp(in, "dXNlcg==") != 0)
			return SMTP_AUTH_FAIL;
		buf_set(out, "Y2hhbGxlbmdl");
		return SMTP_AUTH_CONTINUE;
	}
	if (strcmp(in, "cGFzcw==") != 0)
		return SMTP_AUTH_FAIL;
	if (st->auth_final_data)
		buf_set(out, "dj1wcm9vZg==");
	return SMTP_AUTH_OK;
}

static struct smtp_server *mk(struct stub *st, int starttls, const char *mechs)
{
	struct smtp_server_cfg cfg;
	struct smtp_server_hooks h;

	memset(st, 0, sizeof(*st));
	buf_init(&st->msg, 1 << 20);
	memset(&cfg, 0, sizeof(cfg));
	memset(&h, 0, sizeof(h));
	cfg.hostname = "mx.example.test";
	smtp_server_limits_default(&cfg.lim);
	cfg.lim.rcpt_max = 3;
	cfg.lim.size_max = 1000;
	cfg.starttls = starttls;
	cfg.auth_mechs = mechs;
	h.arg = st;
	h.rcpt = stub_rcpt;
	h.data_write = stub_write;
	h.data_end = stub_end;
	h.reset = stub_reset;
	h.auth = stub_auth;
	return smtp_server_new(&cfg, &h);
}

/* Feed text, return the replies as a string (consumed from the output). */
static unsigned feed(struct smtp_server *s, const char *in, char *got, size_t max)
{
	unsigned act = smtp_server_feed(s, in, strlen(in));
	struct buf *o = smtp_server_output(s);
	size_t n = o->len < max - 1 ? o->len : max - 1;

	memcpy(got, buf_cstr(o), n);
	got[n] = '\0';
	buf_consume(o, o->len);
	return act;
}

static void greet(struct smtp_server *s)
{
	smtp_server_greet(s);
	buf_consume(smtp_server_output(s), smtp_server_output(s)->len);
}

TEST(test_server_greets_and_lists_extensions)
{
	struct stub st;
	struct smtp_server *s = mk(&st, 1, "PLAIN LOGIN");
	char got[2048];

	smtp_server_greet(s);
	CHECK_STR(buf_cstr(smtp_server_output(s)), "220 mx.example.test ESMTP clsmtpd\r\n");
	buf_consume(smtp_server_output(s), smtp_server_output(s)->len);
	feed(s, "EHLO client.test\r\n", got, sizeof(got));
	CHECK_STR(got, "250-mx.example.test\r\n250-PIPELINING\r\n250-SIZE 1000\r\n250-8BITMIME\r\n"
	               "250-ENHANCEDSTATUSCODES\r\n250-SMTPUTF8\r\n250-CHUNKING\r\n250-DSN\r\n"
	               "250-STARTTLS\r\n250 AUTH PLAIN LOGIN\r\n");
	smtp_server_free(s);
	buf_free(&st.msg);
}

TEST(test_server_pipelined_transaction_answers_in_order)
{
	struct stub st;
	struct smtp_server *s = mk(&st, 0, "");
	char got[2048];

	greet(s);
	feed(s,
	     "EHLO c\r\nMAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.test>\r\n"
	     "RCPT TO:<nobody@example.test>\r\nDATA\r\n",
	     got, sizeof(got));
	CHECK(strstr(got, "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n550 5.1.1 No such user\r\n354 ") !=
	      NULL);
	feed(s, "Subject: t\r\n\r\n..dot\r\n.\r\nQUIT\r\n", got, sizeof(got));
	CHECK_STR(got, "250 2.0.0 Ok: queued as TEST\r\n221 2.0.0 Bye\r\n");
	CHECK_STR(buf_cstr(&st.msg), "Subject: t\r\n\r\n.dot\r\n");
	CHECK_INT(st.committed, 1);
	CHECK_INT(smtp_server_state(s), SMTP_SRV_CLOSING);
	smtp_server_free(s);
	buf_free(&st.msg);
}

TEST(test_server_refuses_commands_out_of_order)
{
	struct stub st;
	struct smtp_server *s = mk(&st, 0, "");
	char got[2048];

	greet(s);
	feed(s, "MAIL FROM:<a@b.test>\r\n", got, sizeof(got));
	CHECK(strncmp(got, "503 5.5.1", 9) == 0);
	feed(s, "HELO c\r\nRCPT TO:<a@b.test>\r\nDATA\r\n", got, sizeof(got));
	CHECK(strstr(got, "503 5.5.1 Error: need MAIL") != NULL);
	CHECK(strstr(got, "503 5.5.1 Error: need RCPT") != NULL);
	feed(s, "MAIL FROM:<a@b.test>\r\nDATA\r\nMAIL FROM:<a@b.test>\r\n", got, sizeof(got));
	CHECK(strstr(got, "554 5.5.1 Error: no valid recipients") != NULL);
	CHECK(strstr(got, "503 5.5.1 Error: nested MAIL") != NULL);
	feed(s, "FOO\r\n", got, sizeof(got));
	CHECK_STR(got, "500 5.5.2 Error: command not recognized\r\n");
	smtp_server_free(s);
	buf_free(&st.msg);
}

TEST(test_server_starttls_discards_pipelined_commands)
{
	struct stub st;
	struct smtp_server *s = mk(&st, 1, "");
	char got[2048];
	unsigned act;

	greet(s);
	feed(s, "EHLO c\r\n", got, sizeof(got));
	act = feed(s, "STARTTLS\r\nRSET\r\nMAIL FROM:<a@b.test>\r\n", got, sizeof(got));
	CHECK(act & SMTP_SRV_ACT_STARTTLS);
	CHECK_STR(got, "220 2.0.0 Ready to start TLS\r\n");
	/* More cleartext before the handshake is ignored too. */
	feed(s, "RSET\r\n", got, sizeof(got));
	CHECK_STR(got, "");
	smtp_server_tls_started(s, "PLAIN");
	CHECK_INT(smtp_server_state(s), SMTP_SRV_INIT);
	feed(s, "MAIL FROM:<a@b.test>\r\n", got, sizeof(got));
	CHECK(strncmp(got, "503 5.5.1 Error: send HELO", 26) == 0);
	feed(s, "EHLO c\r\n", got, sizeof(got));
	CHECK(strstr(got, "STARTTLS") == NULL);
	CHECK(strstr(got, "250 AUTH PLAIN\r\n") != NULL);
	smtp_server_free(s);
	buf_free(&st.msg);
}

TEST(test_server_client_talking_before_greeting_is_refused)
{
	struct stub st;
	struct smtp_server *s = mk(&st, 0, "");
	unsigned act;

	smtp_server_feed(s, "EHLO bot\r\n", 10);
	act = smtp_server_greet(s);
	CHECK(act & SMTP_SRV_ACT_CLOSE);
	CHECK(strncmp(buf_cstr(smtp_server_output(s)), "554 5.5.1", 9) == 0);
	smtp_server_free(s);
	buf_free(&st.msg);
}

TEST(test_server_bdat_chunks_and_last)
{
	struct stub st;
	struct smtp_server *s = mk(&st, 0, "");
	char got[2048];

	greet(s);
	feed(s, "EHLO c\r\nMAIL FROM:<>\r\nRCPT TO:<b@example.test>\r\nBDAT 5\r\n.a\r\nb", got,
	     sizeof(got));
	CHECK(strstr(got, "250 2.0.0 5 octets received\r\n") != NULL);
	feed(s, "BDAT 3 LAST\r\nc\r\nNOOP\r\n", got, sizeof(got));
	CHECK_STR(got, "250 2.0.0 Ok: queued as TEST\r\n250 2.0.0 Ok\r\n");
	CHECK_STR(buf_cstr(&st.msg), ".a\r\nbc\r\n");
	/* A BDAT without recipients: its bytes are read and discarded. */
	feed(s, "BDAT 6 LAST\r\nRSET\r\nNOOP\r\n", got, sizeof(got));
	CHECK_STR(got, "503 5.5.1 Error: need MAIL and RCPT first\r\n250 2.0.0 Ok\r\n");
	smtp_server_free(s);
	buf_free(&st.msg);
}

TEST(test_server_bare_lf_in_data_refuses_the_message)
{
	struct stub st;
	struct smtp_server *s = mk(&st, 0, "");
	char got[2048];

	greet(s);
	feed(s, "EHLO c\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<b@example.test>\r\nDATA\r\n", got,
	     sizeof(got));
	feed(s, "x\n.\nRSET\r\nMAIL FROM:<evil@b.test>\r\n.\r\n", got, sizeof(got));
	CHECK(strncmp(got, "550 5.6.0 Error: bare CR or LF", 30) == 0);
	CHECK_INT(st.committed, 0);
	CHECK_INT(st.refused, 1);
	CHECK_INT(smtp_server_state(s), SMTP_SRV_READY);
	smtp_server_free(s);
	buf_free(&st.msg);
}

TEST(test_server_auth_exchange_and_cancel)
{
	struct stub st;
	struct smtp_server *s = mk(&st, 0, "TEST");
	char got[2048];

	greet(s);
	feed(s, "EHLO c\r\nAUTH TEST dXNlcg==\r\n", got, sizeof(got));
	CHECK(strstr(got, "334 Y2hhbGxlbmdl\r\n") != NULL);
	feed(s, "*\r\n", got, sizeof(got));
	CHECK_STR(got, "501 5.0.0 Authentication cancelled\r\n");
	feed(s, "AUTH TEST dXNlcg==\r\nnot base64!\r\n", got, sizeof(got));
	CHECK(strstr(got, "501 5.5.2") != NULL);
	feed(s, "AUTH OTHER\r\n", got, sizeof(got));
	CHECK_STR(got, "504 5.5.4 Unrecognized authentication type\r\n");
	feed(s, "AUTH TEST dXNlcg==\r\ncGFzcw==\r\n", got, sizeof(got));
	CHECK(strstr(got, "235 2.7.0") != NULL);
	CHECK(smtp_server_authenticated(s));
	feed(s, "AUTH TEST dXNlcg==\r\n", got, sizeof(got));
	CHECK_STR(got, "503 5.5.1 Error: already authenticated\r\n");
	smtp_server_free(s);
	buf_free(&st.msg);
}

TEST(test_server_auth_final_data_then_empty_line)
{
	struct stub st;
	struct smtp_server *s = mk(&st, 0, "TEST");
	char got[2048];

	greet(s);
	st.auth_final_data = 1;
	feed(s, "EHLO c\r\nAUTH TEST dXNlcg==\r\ncGFzcw==\r\n", got, sizeof(got));
	CHECK(strstr(got, "334 dj1wcm9vZg==\r\n") != NULL);
	CHECK(!smtp_server_authenticated(s));
	feed(s, "\r\n", got, sizeof(got));
	CHECK_STR(got, "235 2.7.0 Authentication successful\r\n");
	CHECK_INT(st.auth_steps, 2);
	smtp_server_free(s);
	buf_free(&st.msg);
}

TEST(test_server_auth_needs_tls_when_nothing_is_offered_yet)
{
	struct stub st;
	struct smtp_server *s = mk(&st, 1, "");
	char got[2048];

	greet(s);
	feed(s, "EHLO c\r\nAUTH PLAIN AGEAYg==\r\n", got, sizeof(got));
	CHECK(strstr(got, "AUTH") == NULL || strstr(got, "530 5.7.0") != NULL);
	CHECK(strstr(got, "530 5.7.0 Must issue a STARTTLS command first") != NULL);
	smtp_server_free(s);
	buf_free(&st.msg);
}

TEST(test_server_limits_recipients_lines_and_errors)
{
	struct stub st;
	struct smtp_server *s = mk(&st, 0, "");
	char got[8192], line[3000];
	unsigned act = 0;
	int i;

	greet(s);
	feed(s, "EHLO c\r\nMAIL FROM:<a@b.test> SIZE=5000\r\n", got, sizeof(got));
	CHECK(strstr(got, "552 5.3.4") != NULL);
	feed(s, "MAIL FROM:<a@b.test>\r\n", got, sizeof(got));
	for (i = 0; i < 4; i++)
		feed(s, "RCPT TO:<x@example.test>\r\n", got, sizeof(got));
	CHECK_STR(got, "452 4.5.3 Error: too many recipients\r\n");
	memset(line, 'A', sizeof(line));
	memcpy(line + sizeof(line) - 3, "\r\n", 3);
	feed(s, line, got, sizeof(got));
	CHECK_STR(got, "500 5.5.2 Error: line too long\r\n");
	feed(s, "NOOP\n", got, sizeof(got));
	CHECK(strncmp(got, "500 5.5.2 Error: bare LF", 24) == 0);
	for (i = 0; i < 30 && !(act & SMTP_SRV_ACT_CLOSE); i++)
		act = feed(s, "BOGUS\r\n", got, sizeof(got));
	CHECK(act & SMTP_SRV_ACT_CLOSE);
	CHECK(strstr(got, "421 4.7.0 Error: too many errors") != NULL);
	smtp_server_free(s);
	buf_free(&st.msg);
}

TEST(test_server_refuses_address_tricks_in_syntax)
{
	static const char *const bad[] = {
	    "RCPT TO:<@a.test:user@b.test>",
	    "RCPT TO:<user@other.test@example.test>",
	    "RCPT TO:<user@example.test.>",
	    "RCPT TO:<user@[127.0.0.1]>",
	    "RCPT TO:<user>",
	    "RCPT TO:<us er@example.test>",
	    "RCPT TO:<a@b.test> FOO=bar",
	};
	struct stub st;
	struct smtp_server *s = mk(&st, 0, "");
	char got[2048];
	size_t i;

	greet(s);
	feed(s, "EHLO c\r\nMAIL FROM:<a@b.test>\r\n", got, sizeof(got));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char cmd[256];
		snprintf(cmd, sizeof(cmd), "%s\r\n", bad[i]);
		feed(s, cmd, got, sizeof(got));
		CHECK(got[0] == '5');
	}
	CHECK_INT(st.rcpt_calls, 0);
	smtp_server_free(s);
	buf_free(&st.msg);
}

TEST(test_server_feeding_byte_by_byte_gives_the_same_replies)
{
	/* The client waits for the 354 (RFC 2920 3.1): two writes. */
	static const char in[] = "EHLO c\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<b@example.test>\r\n"
	                         "DATA\r\nhello\r\n..\r\n.\r\nQUIT\r\n";
	size_t first = (size_t)(strstr(in, "hello") - in);
	struct stub st1, st2;
	struct smtp_server *a = mk(&st1, 0, ""), *b = mk(&st2, 0, "");
	size_t i;

	greet(a);
	greet(b);
	smtp_server_feed(a, in, first);
	smtp_server_feed(a, in + first, sizeof(in) - 1 - first);
	for (i = 0; i + 1 < sizeof(in); i++)
		smtp_server_feed(b, in + i, 1);
	CHECK_STR(buf_cstr(smtp_server_output(b)), buf_cstr(smtp_server_output(a)));
	CHECK_STR(buf_cstr(&st2.msg), "hello\r\n.\r\n");
	smtp_server_free(a);
	smtp_server_free(b);
	buf_free(&st1.msg);
	buf_free(&st2.msg);
}

/* The group commit: data_end says "later"; nothing more is answered (the
 * pipelined commands are kept) until commit_done gives the verdict. */
TEST(test_server_commit_later_holds_pipelined_commands_until_the_verdict)
{
	struct stub st;
	struct smtp_server *s = mk(&st, 0, "");
	char got[2048];
	unsigned act;

	greet(s);
	st.later = 1;
	feed(s, "EHLO c\r\nMAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.test>\r\nDATA\r\n", got,
	     sizeof(got));
	feed(s, "one\r\n.\r\nMAIL FROM:<c@example.test>\r\nRCPT TO:<d@example.test>\r\nQU", got,
	     sizeof(got));
	CHECK_STR(got, "");
	CHECK_INT(smtp_server_state(s), SMTP_SRV_COMMIT);
	CHECK_INT(smtp_server_input_pending(s), 0); /* our turn, not the client's */
	CHECK_INT(st.committed, 1);
	CHECK_INT(st.aborted, 0);
	feed(s, "IT\r\n", got, sizeof(got)); /* more while committing: kept too */
	CHECK_STR(got, "");
	act = smtp_server_commit_done(s, 0, "250 2.0.0 Ok: queued as LATER");
	{
		struct buf *o = smtp_server_output(s);
		CHECK_STR(buf_cstr(o), "250 2.0.0 Ok: queued as LATER\r\n250 2.1.0 Ok\r\n"
		                       "250 2.1.5 Ok\r\n221 2.0.0 Bye\r\n");
		buf_consume(o, o->len);
	}
	CHECK(act & SMTP_SRV_ACT_CLOSE);
	CHECK_STR(buf_cstr(&st.msg), "one\r\n");
	smtp_server_free(s);
	buf_free(&st.msg);
}

/* A failed commit answers 451 (or the hook's reply), and the session goes
 * on; BDAT LAST takes the same path. A session freed while committing
 * aborts nothing: the data belongs to the hook. */
TEST(test_server_commit_later_failure_and_bdat)
{
	struct stub st;
	struct smtp_server *s = mk(&st, 0, "");
	char got[2048];

	greet(s);
	st.later = 1;
	feed(s,
	     "EHLO c\r\nMAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.test>\r\nBDAT 4 "
	     "LAST\r\nab\r\n",
	     got, sizeof(got));
	CHECK_INT(smtp_server_state(s), SMTP_SRV_COMMIT);
	smtp_server_commit_done(s, -1, NULL);
	CHECK(strstr(buf_cstr(smtp_server_output(s)), "451 4.3.0") != NULL);
	buf_consume(smtp_server_output(s), smtp_server_output(s)->len);
	CHECK_INT(smtp_server_state(s), SMTP_SRV_READY);
	/* A verdict nobody waits for changes nothing. */
	CHECK_INT(smtp_server_commit_done(s, 0, NULL), 0);
	CHECK_INT(smtp_server_output(s)->len, 0);
	feed(s, "MAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.test>\r\nDATA\r\n", got,
	     sizeof(got));
	feed(s, "x\r\n.\r\n", got, sizeof(got));
	CHECK_INT(smtp_server_state(s), SMTP_SRV_COMMIT);
	smtp_server_free(s);
	CHECK_INT(st.aborted, 0);
	CHECK_INT(st.committed, 2);
	buf_free(&st.msg);
}

/* Message text sent behind DATA before the 354 could be seen (RFC 2920
 * 3.1 forbids it): the transaction is dropped, nothing reaches the hooks,
 * the reply is a 503 (a protocol error for the defence) and the session
 * closes. BDAT chunks may be pipelined: they are not affected. */
TEST(test_server_refuses_text_pipelined_behind_data)
{
	struct stub st;
	struct smtp_server *s = mk(&st, 0, "");
	unsigned act;
	const char *out;

	greet(s);
	buf_consume(smtp_server_output(s), smtp_server_output(s)->len);
	act = smtp_server_feed(s,
	                       "EHLO c\r\nMAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.test>\r\n"
	                       "DATA\r\nSubject: spam\r\n\r\nbuy\r\n.\r\n",
	                       strlen("EHLO c\r\nMAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.test>"
	                              "\r\nDATA\r\nSubject: spam\r\n\r\nbuy\r\n.\r\n"));
	out = buf_cstr(smtp_server_output(s));
	CHECK(act & SMTP_SRV_ACT_CLOSE);
	CHECK(strstr(out, "\r\n503 5.5.0 Error: improper use of SMTP command pipelining") != NULL);
	CHECK(strstr(out, "\r\n354 ") == NULL);
	CHECK_INT(smtp_server_state(s), SMTP_SRV_CLOSING);
	CHECK_INT(st.committed, 0);
	CHECK_INT(st.msg.len, 0);
	smtp_server_free(s);
	buf_free(&st.msg);
}

int main(void)
{
	RUN(test_server_greets_and_lists_extensions);
	RUN(test_server_pipelined_transaction_answers_in_order);
	RUN(test_server_refuses_commands_out_of_order);
	RUN(test_server_starttls_discards_pipelined_commands);
	RUN(test_server_client_talking_before_greeting_is_refused);
	RUN(test_server_bdat_chunks_and_last);
	RUN(test_server_bare_lf_in_data_refuses_the_message);
	RUN(test_server_auth_exchange_and_cancel);
	RUN(test_server_auth_final_data_then_empty_line);
	RUN(test_server_auth_needs_tls_when_nothing_is_offered_yet);
	RUN(test_server_limits_recipients_lines_and_errors);
	RUN(test_server_refuses_address_tricks_in_syntax);
	RUN(test_server_feeding_byte_by_byte_gives_the_same_replies);
	RUN(test_server_commit_later_holds_pipelined_commands_until_the_verdict);
	RUN(test_server_commit_later_failure_and_bdat);
	RUN(test_server_refuses_text_pipelined_behind_data);
	CHECK_DONE();
}
