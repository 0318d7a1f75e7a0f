/* test_spool_env.c - the spool's text formats without files: an envelope
 * written and read back whole or byte by byte, the version line checked,
 * journal records applied in order, a cut last line ignored, bad lines
 * refused. */
#include <stdlib.h>

#include "check.h"
#include "serve/spool_env.h"

#define QID "0123456789ABCDEF0123"

static void env_sample(struct spool_envelope *e)
{
	spool_env_init(e);
	memcpy(e->qid, QID, sizeof(QID));
	e->arrival = 1764892800;
	e->client = strdup("192.0.2.7");
	e->helo = strdup("laptop.example");
	e->auth = strdup("alice");
	e->from = strdup("alice@example.org");
	e->from_params = strdup("BODY=8BITMIME RET=HDRS");
	spool_env_add_rcpt(e, "bob@example.org", SPOOL_LOCAL, "/srv/bob", NULL, NULL);
	spool_env_add_rcpt(e, "carol@remote.example", SPOOL_RELAY, "-", "SUCCESS",
	                   "rfc822;carol@remote.example");
}

static int read_env(const char *text, size_t n, size_t piece, struct spool_envelope *e,
                    off_t *consumed)
{
	struct spool_reader rd;
	size_t i;
	int r = 0;

	spool_env_init(e);
	memcpy(e->qid, QID, sizeof(QID));
	spool_reader_init(&rd, SPOOL_READ_ENVELOPE);
	for (i = 0; i < n && r == 0; i += piece)
		r = spool_reader_feed(&rd, e, text + i, n - i < piece ? n - i : piece);
	*consumed = rd.consumed;
	spool_reader_free(&rd);
	return r;
}

TEST(test_spool_env_writes_the_documented_block)
{
	struct spool_envelope e;
	struct buf b = BUF_INIT(65536);

	env_sample(&e);
	CHECK(spool_env_format(&e, &b) == 0);
	CHECK_STR(buf_cstr(&b), "clsmtpd-spool 1\nid\t" QID "\ntime\t1764892800\n"
	                        "client\t192.0.2.7\nhelo\tlaptop.example\nauth\talice\n"
	                        "from\talice@example.org\tBODY=8BITMIME RET=HDRS\n"
	                        "rcpt\t0\tlocal\tbob@example.org\t/srv/bob\t-\t-\n"
	                        "rcpt\t1\trelay\tcarol@remote.example\t-\tSUCCESS\t"
	                        "rfc822;carol@remote.example\ndata\n");
	spool_env_free(&e);
	buf_free(&b);
}

TEST(test_spool_env_reads_back_in_any_pieces)
{
	struct spool_envelope e, r;
	struct buf b = BUF_INIT(65536), again = BUF_INIT(65536);
	size_t piece;
	off_t used;

	env_sample(&e);
	spool_env_format(&e, &b);
	buf_adds(&b, "Subject: the message\r\n");
	for (piece = 1; piece <= 64; piece *= 4) {
		CHECK(read_env(b.data, b.len, piece, &r, &used) == 1);
		CHECK_INT((long)used, (long)(b.len - strlen("Subject: the message\r\n")));
		CHECK_INT((long)r.nrcpt, 2);
		CHECK_STR(r.from, "alice@example.org");
		CHECK_STR(r.rcpt[1].orcpt, "rfc822;carol@remote.example");
		CHECK(r.rcpt[1].cls == SPOOL_RELAY && r.rcpt[0].cls == SPOOL_LOCAL);
		CHECK_INT((long)r.arrival, 1764892800L);
		buf_reset(&again);
		spool_env_format(&r, &again);
		CHECK(memcmp(again.data, b.data, again.len) == 0);
		spool_env_free(&r);
	}
	spool_env_free(&e);
	buf_free(&b);
	buf_free(&again);
}

TEST(test_spool_env_refuses_damage)
{
	static const char *const bad[] = {
	    "clsmtpd-spool 2\nfrom\ta\t-\ndata\n",
	    "clsmtpd-spool 1\nid\tFFFFFFFFFFFFFFFFFFFF\nfrom\ta\t-\ndata\n",
	    "clsmtpd-spool 1\nfrom\ta\t-\nrcpt\t1\tlocal\tb\t-\t-\t-\ndata\n",
	    "clsmtpd-spool 1\nfrom\ta\t-\nfrom\tb\t-\ndata\n",
	    "clsmtpd-spool 1\nfrom\ta\nfrom\tb\t-\ndata\n",
	    "clsmtpd-spool 1\nwhat\tever\ndata\n",
	};
	struct spool_envelope e;
	size_t i;
	off_t used;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(read_env(bad[i], strlen(bad[i]), 7, &e, &used) == -1);
		spool_env_free(&e);
	}
	/* Without its "data" line the block is not finished. */
	CHECK(read_env("clsmtpd-spool 1\nfrom\ta\t-\n", 25, 5, &e, &used) == 0);
	spool_env_free(&e);
}

TEST(test_spool_journal_records_apply_in_order)
{
	struct spool_envelope e;
	struct spool_reader rd;
	struct buf j = BUF_INIT(65536);
	struct outcome o;

	env_sample(&e);
	outcome_init(&o);
	outcome_reply(&o, "h", CL_STAGE_RCPT, 451, "4.3.0", "451 4.3.0 later\t(tab)");
	spool_journal_format(&j, 'T', 1, 100, 400, &o);
	outcome_note(&o, NULL, "again");
	spool_journal_format(&j, 'T', 1, 400, 1000, &o);
	outcome_note(&o, "2.0.0", "delivered to maildir");
	spool_journal_format(&j, 'D', 0, 500, 77, &o);
	outcome_free(&o);
	CHECK_STR(buf_cstr(&j),
	          "T\t1\t100\t400\t4.3.0\tRCPT TO\t451\th\t451 4.3.0 later (tab)\t\t\n"
	          "T\t1\t400\t1000\t\t\t0\t\t\tagain\t\n"
	          "D\t0\t500\t0\t2.0.0\t\t0\t\t\tdelivered to maildir\t\n");
	buf_adds(&j, "F\t1\t600\t0\tcut short by a cra"); /* no LF: ignored */
	spool_reader_init(&rd, SPOOL_READ_JOURNAL);
	CHECK(spool_reader_feed(&rd, &e, j.data, j.len) == 0);
	spool_reader_free(&rd);
	CHECK(e.rcpt[0].state == SPOOL_DELIVERED);
	CHECK_STR(e.rcpt[0].last_text, "delivered to maildir");
	CHECK(e.rcpt[1].state == SPOOL_DEFERRED);
	CHECK_INT(e.rcpt[1].attempts, 2);
	CHECK_INT((long)e.rcpt[1].next_try, 1000L);
	CHECK_STR(e.rcpt[1].last_text, "again");
	CHECK(e.rcpt[1].last.code == 0 && e.rcpt[1].last.mta == NULL);
	spool_env_free(&e);
	buf_free(&j);
}

TEST(test_spool_journal_stops_at_a_bad_record)
{
	struct spool_envelope e;
	struct spool_reader rd;
	const char *j = "F\t0\t1\t0\tgone\nX\t1\t1\t0\tno such kind\nD\t1\t1\t0\tlater\n";

	env_sample(&e);
	spool_reader_init(&rd, SPOOL_READ_JOURNAL);
	CHECK(spool_reader_feed(&rd, &e, j, strlen(j)) == -1);
	spool_reader_free(&rd);
	CHECK(e.rcpt[0].state == SPOOL_FAILED);
	CHECK(e.rcpt[1].state == SPOOL_PENDING);
	spool_env_free(&e);
}

int main(void)
{
	RUN(test_spool_env_writes_the_documented_block);
	RUN(test_spool_env_reads_back_in_any_pieces);
	RUN(test_spool_env_refuses_damage);
	RUN(test_spool_journal_records_apply_in_order);
	RUN(test_spool_journal_stops_at_a_bad_record);
	CHECK_DONE();
}
