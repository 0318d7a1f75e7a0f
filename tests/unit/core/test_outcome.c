/* test_outcome.c - delivery outcomes as records: the sentence written from
 * the fields, an error value's reply kept as data, the journal fields read
 * back, and release 1's sentences read into the same fields. */
#include <stdlib.h>

#include "check.h"
#include "serve/outcome.h"

static const char *text_of(const struct outcome *o, struct buf *b)
{
	buf_reset(b);
	outcome_text(o, b);
	return buf_cstr(b);
}

TEST(test_outcome_reply_from_the_engine_error)
{
	struct outcome o;
	struct cl_err e;
	struct buf b = BUF_INIT(8192);

	outcome_init(&o);
	err_set(&e, CL_EUNAVAIL, "MAIL FROM rejected for <a@b>: 554 5.7.1 no");
	err_reply(&e, CL_STAGE_MAIL, 554, "5.7.1", "554 5.7.1 no");
	CHECK_INT(outcome_from_err(&o, "mx.example", &e), 0);
	CHECK_STR(o.status, "5.7.1");
	CHECK_INT(o.code, 554);
	CHECK_STR(text_of(&o, &b), "host mx.example said: 554 5.7.1 no (in reply to MAIL FROM)");
	CHECK_STR(outcome_remote_mta(&o), "mx.example");
	CHECK_STR(outcome_remote_reply(&o), "554 5.7.1 no");
	/* An error that is no reply is our own words. */
	err_set(&e, CL_ETEMP, "RCPT TO: connection closed by mx.example");
	CHECK_INT(outcome_from_err(&o, "mx.example", &e), 0);
	CHECK_STR(text_of(&o, &b), "host mx.example: RCPT TO: connection closed by mx.example");
	CHECK(outcome_remote_reply(&o) == NULL && outcome_remote_mta(&o) == NULL);
	outcome_free(&o);
	buf_free(&b);
}

TEST(test_outcome_status_keeps_the_reply_class)
{
	struct outcome o;

	outcome_init(&o);
	outcome_reply(&o, "h", CL_STAGE_RCPT, 550, "4.1.1", "550 4.1.1 class does not match");
	CHECK_STR(o.status, "5.0.0");
	outcome_reply(&o, "h", CL_STAGE_RCPT, 451, "", "451 later");
	CHECK_STR(o.status, "4.0.0");
	outcome_reply(&o, "h", CL_STAGE_RCPT, 550, "5.1.1", "550 5.1.1 gone");
	CHECK_STR(o.status, "5.1.1");
	outcome_free(&o);
}

TEST(test_outcome_expired_wraps_the_last_error)
{
	struct outcome o, last;
	struct buf b = BUF_INIT(8192);

	outcome_init(&o);
	outcome_init(&last);
	outcome_reply(&last, "h", CL_STAGE_RCPT, 451, "4.3.0", "451 4.3.0 later");
	CHECK_INT(outcome_expired(&o, "delivery time expired after 5d (3 attempts)", &last), 0);
	CHECK_STR(o.status, "4.4.7");
	CHECK_STR(text_of(&o, &b),
	          "delivery time expired after 5d (3 attempts); last error: host h "
	          "said: 451 4.3.0 later (in reply to RCPT TO)");
	CHECK(outcome_remote_mta(&o) == NULL);
	CHECK_STR(outcome_remote_reply(&o), "451 4.3.0 later");
	CHECK_INT(outcome_expired(&o, "delivery time expired after 1h (0 attempts)", NULL), 0);
	CHECK_STR(text_of(&o, &b), "delivery time expired after 1h (0 attempts); last error: none");
	outcome_free(&o);
	outcome_free(&last);
	buf_free(&b);
}

TEST(test_outcome_journal_fields_read_back)
{
	struct outcome o, r;
	struct buf b = BUF_INIT(16384), t1 = BUF_INIT(8192), t2 = BUF_INIT(8192);
	char *f[OUTCOME_NFIELDS], *p;
	size_t n = 0;

	outcome_init(&o);
	outcome_init(&r);
	outcome_reply(&o, "h", CL_STAGE_DATA_END, 552, "5.3.4", "552 5.3.4 too\tbig\r\n");
	outcome_expired(&o, "lead", &o);
	CHECK_INT(outcome_format(&o, &b), 0);
	CHECK(strchr(b.data, '\n') == NULL && strchr(b.data, '\r') == NULL);
	for (p = b.data; n < OUTCOME_NFIELDS; n++) {
		f[n] = p;
		if ((p = strchr(p, '\t')) == NULL) {
			n++;
			break;
		}
		*p++ = '\0';
	}
	CHECK_INT((long)n, OUTCOME_NFIELDS);
	CHECK_INT(outcome_parse(&r, f, n), 0);
	CHECK_STR(r.status, "4.4.7");
	CHECK_INT(r.code, 552);
	CHECK(r.stage == CL_STAGE_DATA_END);
	CHECK_STR(text_of(&r, &t1), "lead; last error: host h said: 552 5.3.4 too big   (in reply "
	                            "to end of DATA)");
	outcome_text(&o, &t2);
	CHECK(strncmp(buf_cstr(&t2), "lead; last error: host h said: 552 5.3.4 too", 44) == 0);
	outcome_free(&o);
	outcome_free(&r);
	buf_free(&b);
	buf_free(&t1);
	buf_free(&t2);
}

TEST(test_outcome_reads_release1_sentences)
{
	static const char *const texts[] = {
	    "host smarthost.example said: 550 5.1.1 <x>: User unknown (in reply to RCPT TO)",
	    "host h said: 554 5.7.1 Relay access denied",
	    "host ::1: connection refused",
	    "delivery time expired after 5d (31 attempts); last error: host h said: 451 4.3.0 "
	    "later "
	    "(in reply to RCPT TO)",
	    "delivery time expired after 5d (0 attempts); last error: none",
	    "5.1.2 DNS: the domain x.test does not exist",
	    "552 5.3.4 Message too big",
	    "host h said: 451 odd (in reply to SOMETHING ELSE)",
	    "failure notice queued as 692F6E8000002004D201",
	};
	static const char *const status[] = {"5.1.1", "5.7.1", "5.0.0", "4.4.7", "4.4.7",
	                                     "5.1.2", "5.3.4", "4.0.0", "5.0.0"};
	struct outcome o;
	struct buf b = BUF_INIT(8192);
	size_t i;

	outcome_init(&o);
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		CHECK_INT(outcome_from_text(&o, texts[i]), 0);
		CHECK_STR(text_of(&o, &b), texts[i]);
		CHECK_STR(o.status[0] ? o.status : "5.0.0", status[i]);
	}
	outcome_from_text(&o, texts[0]);
	CHECK_STR(o.mta, "smarthost.example");
	CHECK_INT(o.code, 550);
	CHECK(o.stage == CL_STAGE_RCPT);
	outcome_free(&o);
	buf_free(&b);
}

int main(void)
{
	RUN(test_outcome_reply_from_the_engine_error);
	RUN(test_outcome_status_keeps_the_reply_class);
	RUN(test_outcome_expired_wraps_the_last_error);
	RUN(test_outcome_journal_fields_read_back);
	RUN(test_outcome_reads_release1_sentences);
	CHECK_DONE();
}
