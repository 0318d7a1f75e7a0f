/*
 * fuzz_sasl_client.c - libFuzzer harness for the client side of SMTP AUTH
 * (sasl_client.c, sasl_oauth.c) fed hostile 334 challenges: responses are
 * base64, a failed exchange stays failed, SCRAM/DIGEST-MD5 never complete
 * without the server's proof, the password never leaves in clear.
 */
#include "base/b64.h"
#include "fuzz_sasl.h"
#include "sasl/sasl_client.h"

#define FUZZ_PASSWORD "Fuzz-Pw-9q"

static int fuzz_sasl_trace;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_sasl_trace = getenv("FUZZ_SASL_TRACE") != NULL;
	return 0;
}

/* Every challenge so far: a response may echo what the server sent. */
static struct buf fuzz_seen = BUF_INIT(1 << 20);

/* The response must not carry the password unless the mechanism sends it
 * (or the server put it in a challenge, e.g. in its SCRAM nonce). */
static void fuzz_sasl_check_response(const char *mech, const struct buf *out, size_t from)
{
	struct buf raw = BUF_INIT(1 << 16);
	const char *r = out->data ? out->data + from : "";
	size_t n = out->len - from;

	FUZZ_ASSERT(fuzz_is_b64(r, n), "a response is base64");
	if (n == 1 && r[0] == '=')
		return;
	FUZZ_ASSERT(b64_decode(r, n, &raw) == 0, "a response decodes");
	if (fuzz_sasl_trace)
		fprintf(stderr, "C: %s\n", buf_cstr(&raw));
	if (strcmp(mech, "PLAIN") != 0 && strcmp(mech, "LOGIN") != 0 &&
	    (fuzz_seen.len < sizeof(FUZZ_PASSWORD) - 1 ||
	     memmem(fuzz_seen.data, fuzz_seen.len, FUZZ_PASSWORD, sizeof(FUZZ_PASSWORD) - 1) ==
	         NULL))
		FUZZ_ASSERT(
		    raw.len < sizeof(FUZZ_PASSWORD) - 1 ||
		        memmem(raw.data, raw.len, FUZZ_PASSWORD, sizeof(FUZZ_PASSWORD) - 1) == NULL,
		    "the password is never sent in clear by this mechanism");
	buf_free(&raw);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sasl_creds creds = {"fuzzuser", FUZZ_PASSWORD, NULL, NULL};
	struct fuzz_in in = {data, size};
	struct sasl_client *s = NULL;
	struct buf out = BUF_INIT(1 << 16), chal = BUF_INIT(1 << 18), last = BUF_INIT(1 << 16);
	struct cl_err err;
	const char *mech;
	unsigned f;
	int failed = 0, rc;

	if (size < 1)
		return 0;
	fuzz_rand_reset();
	buf_reset(&fuzz_seen);
	f = fuzz_byte(&in);
	mech = fuzz_sasl_mechs[(f & 0x0f) % FUZZ_SASL_NMECHS];
	if (f & 0x20)
		creds.authzid = "other";
	if (strstr(mech, "OAUTH") != NULL)
		creds.token = "ya29.fuzz-token";
	if (sasl_client_start(&s, mech, &creds, "mx.fuzz.test", FUZZ_SASL_CB, &err) < 0)
		return 0;
	rc = sasl_client_initial(s, &out, &err);
	if (rc == 1)
		fuzz_sasl_check_response(mech, &out, 0);
	else if (rc < 0)
		failed = 1;
	while (in.n > 0 || (f & 0x40)) {
		size_t len, from;
		char *piece = fuzz_field(&in, '\n', &len);

		buf_reset(&chal);
		/* Bit 0x10: the field is the challenge's base64 text as sent
		 * (malformed base64 included); else its decoded bytes. */
		if (f & 0x10)
			buf_add(&chal, piece, len);
		else
			b64_encode(piece, len, &chal);
		buf_reset(&last);
		buf_add(&last, piece, len);
		buf_add(&fuzz_seen, piece, len);
		free(piece);
		if (fuzz_sasl_trace)
			fprintf(stderr, "S: %s\n", buf_cstr(&last));
		from = out.len;
		rc = sasl_client_step(s, buf_cstr(&chal), &out, &err);
		if (failed)
			FUZZ_ASSERT(rc < 0, "a failed exchange stays failed");
		if (rc < 0) {
			failed = 1;
			FUZZ_ASSERT(err.cls != CL_OK && strchr(err.msg, '\n') == NULL,
			            "a failure has a class and a one-line message");
		} else {
			fuzz_sasl_check_response(mech, &out, from);
		}
		if (out.len > (1 << 15))
			buf_reset(&out);
		if (in.n == 0)
			break;
	}
	rc = sasl_client_finish(s, &err);
	if (fuzz_sasl_trace)
		fprintf(stderr, "* finish %d %s\n", rc, rc < 0 ? err.msg : "");
	if (rc == 0) {
		FUZZ_ASSERT(!failed, "a failed exchange never completes");
		if (strncmp(mech, "SCRAM", 5) == 0)
			FUZZ_ASSERT(last.len > 2 && memcmp(last.data, "v=", 2) == 0,
			            "SCRAM completes only on the server's signature");
		if (strcmp(mech, "DIGEST-MD5") == 0)
			FUZZ_ASSERT(last.len > 8 &&
			                memmem(last.data, last.len, "rspauth=", 8) != NULL,
			            "DIGEST-MD5 completes only on rspauth");
	}
	sasl_client_free(s);
	buf_free(&out);
	buf_free(&chal);
	buf_free(&last);
	return 0;
}
