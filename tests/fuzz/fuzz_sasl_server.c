/*
 * fuzz_sasl_server.c - libFuzzer harness for the server side of SMTP AUTH
 * (sasl_server.c over GNU SASL) fed a hostile client's responses for one
 * account (SCRAM keys and a plaintext): challenges are base64, only that
 * account ever logs in, and a failed exchange is freed.
 */
#include "base/b64.h"
#include "fuzz_sasl.h"
#include "sasl/sasl_server.h"

#define FUZZ_USER     "fuzzuser"
#define FUZZ_PASSWORD "Fuzz-Pw-9q"
/* Low, so that each exchange is cheap; the code path is the same. */
#define FUZZ_ITER 64

static struct sasl_server *fuzz_srv;
static struct sasl_server_cred fuzz_cred;
static int fuzz_sasl_trace;

static int fuzz_lookup(void *arg, const char *user, struct sasl_server_cred *cred)
{
	(void)arg;
	if (strcmp(user, FUZZ_USER) != 0)
		return -1;
	*cred = fuzz_cred;
	cred->plain = strdup(FUZZ_PASSWORD);
	return cred->plain ? 0 : -1;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct buf st = BUF_INIT(128), sk = BUF_INIT(128);
	struct cl_err err;

	(void)argc;
	(void)argv;
	fuzz_sasl_trace = getenv("FUZZ_SASL_TRACE") != NULL;
	memset(&fuzz_cred, 0, sizeof(fuzz_cred));
	fuzz_cred.iter = FUZZ_ITER;
	memcpy(fuzz_cred.salt, "c2FsdHNhbHRzYWx0c2FsdA==", 25); /* "saltsaltsaltsalt" */
	if (sasl_server_scram_keys("SHA-1", FUZZ_PASSWORD, fuzz_cred.salt, FUZZ_ITER, &st, &sk) < 0)
		abort();
	memcpy(fuzz_cred.stored1, st.data, st.len + 1);
	memcpy(fuzz_cred.server1, sk.data, sk.len + 1);
	buf_reset(&st);
	buf_reset(&sk);
	if (sasl_server_scram_keys("SHA-256", FUZZ_PASSWORD, fuzz_cred.salt, FUZZ_ITER, &st, &sk) <
	    0)
		abort();
	memcpy(fuzz_cred.stored256, st.data, st.len + 1);
	memcpy(fuzz_cred.server256, sk.data, sk.len + 1);
	buf_free(&st);
	buf_free(&sk);
	if (sasl_server_new(&fuzz_srv, "mx.fuzz.test", fuzz_lookup, NULL, &err) < 0)
		abort();
	return 0;
}

static void fuzz_trace(const char *who, const struct buf *b64text)
{
	struct buf raw = BUF_INIT(1 << 16);

	if (!fuzz_sasl_trace)
		return;
	b64_decode(b64text->data ? b64text->data : "", b64text->len, &raw);
	fprintf(stderr, "%s: %s\n", who, buf_cstr(&raw));
	buf_free(&raw);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	struct sasl_server_exch *ex = NULL;
	struct buf out = BUF_INIT(1 << 16), authid = BUF_INIT(512), resp = BUF_INIT(1 << 18);
	enum smtp_auth_result r = SMTP_AUTH_CONTINUE;
	const char *mech, *cb;
	unsigned f;
	int first = 1;

	if (size < 1)
		return 0;
	fuzz_rand_reset();
	f = fuzz_byte(&in);
	mech = fuzz_sasl_mechs[(f & 0x0f) % 8];
	cb = (f & 0x20) ? FUZZ_SASL_CB : NULL;
	while (r == SMTP_AUTH_CONTINUE) {
		size_t len;
		char *piece;
		const char *arg;

		/* Bit 0x40: AUTH without an initial response (NULL first). */
		if (first && (f & 0x40)) {
			arg = NULL;
		} else {
			if (in.n == 0 && !first)
				break;
			piece = fuzz_field(&in, '\n', &len);
			buf_reset(&resp);
			/* Bit 0x10: the field is the base64 text as sent; the SMTP
			 * layer lets only the base64 alphabet through. */
			if (f & 0x10) {
				if (!fuzz_is_b64(piece, len)) {
					free(piece);
					break;
				}
				buf_add(&resp, piece, len);
			} else {
				b64_encode(piece, len, &resp);
			}
			free(piece);
			arg = buf_cstr(&resp);
			fuzz_trace("C", &resp);
		}
		buf_reset(&out);
		r = sasl_server_step(fuzz_srv, &ex, first ? mech : NULL, arg, cb, &out, &authid);
		first = 0;
		FUZZ_ASSERT(fuzz_is_b64(out.data ? out.data : "", out.len),
		            "a challenge is base64");
		fuzz_trace("S", &out);
		if (fuzz_sasl_trace)
			fprintf(stderr, "* result %d %s\n", (int)r, buf_cstr(&authid));
		if (r == SMTP_AUTH_OK)
			FUZZ_ASSERT(strcmp(buf_cstr(&authid), FUZZ_USER) == 0,
			            "only the existing account logs in");
		if (r == SMTP_AUTH_FAIL || r == SMTP_AUTH_TEMPFAIL)
			FUZZ_ASSERT(ex == NULL, "a failed exchange is freed");
	}
	sasl_server_exch_free(ex);
	buf_wipe(&out);
	buf_free(&authid);
	buf_free(&resp);
	return 0;
}
