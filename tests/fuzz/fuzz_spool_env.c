/*
 * fuzz_spool_env.c - libFuzzer harness for the spool's text formats
 * (serve/spool_env.c): the input is a msg/QID file (envelope block, then
 * bytes the harness reads as a journal), fed in pieces whose sizes the input
 * picks. Checks: no crash; what reads back formats back and reads again to
 * the same envelope (round trip); a journal record we write applies.
 */
#include "fuzz.h"
#include "serve/spool_env.h"

#define FUZZ_QID "0123456789ABCDEF0123"

/* Feed p[0..n) in pieces of 1..64 bytes chosen by cut (a rolling byte). */
static int fuzz_feed(struct spool_reader *rd, struct spool_envelope *e, const uint8_t *p, size_t n,
                     unsigned cut)
{
	size_t i = 0;
	int r = 0;

	while (i < n && r == 0) {
		size_t k = 1 + (cut = cut * 31u + 7u) % 64u;
		if (k > n - i)
			k = n - i;
		r = spool_reader_feed(rd, e, (const char *)p + i, k);
		i += k;
	}
	return r;
}

static int fuzz_read_env(const char *text, size_t n, struct spool_envelope *e)
{
	struct spool_reader rd;
	int r;

	spool_env_init(e);
	memcpy(e->qid, FUZZ_QID, sizeof(FUZZ_QID));
	spool_reader_init(&rd, SPOOL_READ_ENVELOPE);
	r = spool_reader_feed(&rd, e, text, n);
	FUZZ_ASSERT(r != 1 || (size_t)rd.consumed == n, "the data line ends what we wrote");
	spool_reader_free(&rd);
	return r;
}

static void fuzz_round_trip(const struct spool_envelope *e)
{
	struct buf a = BUF_INIT(SIZE_MAX / 2), b = BUF_INIT(SIZE_MAX / 2),
	           j = BUF_INIT(SPOOL_LINE_MAX);
	struct spool_envelope e2;
	size_t i;

	FUZZ_ASSERT(spool_env_format(e, &a) == 0, "an envelope read back formats");
	FUZZ_ASSERT(fuzz_read_env(buf_cstr(&a), a.len, &e2) == 1, "what we format reads back");
	FUZZ_ASSERT(e2.nrcpt == e->nrcpt, "same recipients");
	FUZZ_ASSERT(strcmp(e2.from, e->from) == 0, "same sender");
	for (i = 0; i < e->nrcpt; i++) {
		FUZZ_ASSERT(strcmp(e2.rcpt[i].addr, e->rcpt[i].addr) == 0, "same address");
		FUZZ_ASSERT(e2.rcpt[i].cls == e->rcpt[i].cls, "same class");
	}
	FUZZ_ASSERT(spool_env_format(&e2, &b) == 0, "the copy formats");
	FUZZ_ASSERT(a.len == b.len && memcmp(a.data, b.data, a.len) == 0,
	            "format(read(format(x))) == format(x)");
	if (e2.nrcpt > 0) {
		struct outcome o;
		char *line;
		outcome_init(&o);
		outcome_reply(&o, e->from, CL_STAGE_RCPT, 451, e->from_params, e->from);
		spool_journal_format(&j, 'T', e2.nrcpt - 1, 1, 99, &o);
		outcome_free(&o);
		FUZZ_ASSERT(j.len > 0 && j.data[j.len - 1] == '\n', "a record is one line");
		FUZZ_ASSERT(memchr(j.data, '\n', j.len) == j.data + j.len - 1, "only one LF");
		line = j.data;
		line[j.len - 1] = '\0';
		FUZZ_ASSERT(spool_journal_apply(&e2, line) == 0, "our own record applies");
		FUZZ_ASSERT(e2.rcpt[e2.nrcpt - 1].state == SPOOL_DEFERRED &&
		                e2.rcpt[e2.nrcpt - 1].next_try == 99,
		            "the record's state and next try");
		FUZZ_ASSERT(e2.rcpt[e2.nrcpt - 1].last.code == 451, "the reply code reads back");
	}
	spool_env_free(&e2);
	buf_free(&a);
	buf_free(&b);
	buf_free(&j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct spool_envelope e;
	struct spool_reader rd;
	unsigned cut = size > 0 ? data[0] : 0;
	int r;

	spool_env_init(&e);
	memcpy(e.qid, FUZZ_QID, sizeof(FUZZ_QID));
	spool_reader_init(&rd, SPOOL_READ_ENVELOPE);
	r = fuzz_feed(&rd, &e, data, size, cut);
	if (r == 1 && e.from != NULL) {
		size_t off = (size_t)rd.consumed;
		struct spool_reader jr;
		fuzz_round_trip(&e);
		/* The rest, read as that message's journal. */
		spool_reader_init(&jr, SPOOL_READ_JOURNAL);
		fuzz_feed(&jr, &e, data + off, size - off, cut);
		spool_reader_free(&jr);
		for (size_t i = 0; i < e.nrcpt; i++)
			FUZZ_ASSERT(e.rcpt[i].state <= SPOOL_BOUNCED && e.rcpt[i].attempts >= 0,
			            "a known state");
	}
	spool_reader_free(&rd);
	spool_env_free(&e);
	return 0;
}
