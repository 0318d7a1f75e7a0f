/*
 * fuzz_dkim.c - libFuzzer harness for DKIM signing (msg/dkim_canon.c,
 * msg/dkim_sign.c): the input is a message, fed whole and in pieces whose
 * sizes the input picks. Checks: no crash; the header section and the body
 * hash do not depend on the pieces; the canonical body of a canonical body
 * is itself; a signature, when there is one, is a field of folded lines of
 * at most 78 bytes without l=.
 */
#include "fuzz.h"
#include "msg/dkim_sign.h"

#include <openssl/evp.h>

static struct dkim_key fuzz_key;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const unsigned char seed[32] = "clsmtpd fuzz_dkim fixed key....";
	(void)argc;
	(void)argv;
	fuzz_key.pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, sizeof(seed));
	fuzz_key.alg = DKIM_ED25519_SHA256;
	fuzz_key.bits = 256;
	FUZZ_ASSERT(fuzz_key.pkey != NULL, "the fixed Ed25519 key");
	return 0;
}

static void fuzz_msg(struct dkim_msg *m, const uint8_t *p, size_t n, unsigned cut)
{
	struct cl_err err;
	size_t i = 0;

	FUZZ_ASSERT(dkim_msg_init(m, &err) == 0, "init");
	while (i < n) {
		size_t k = cut ? 1 + (cut = cut * 31u + 7u) % 97u : n;
		if (k > n - i)
			k = n - i;
		FUZZ_ASSERT(dkim_msg_feed(m, (const char *)p + i, k, &err) == 0, "feed");
		i += k;
	}
	FUZZ_ASSERT(dkim_msg_end(m, &err) == 0, "end");
}

struct collect {
	struct buf b;
};

static void collect_emit(void *arg, const char *p, size_t n)
{
	struct collect *c = arg;
	buf_add(&c->b, p, n);
}

static void fuzz_body_idempotent(const uint8_t *p, size_t n)
{
	struct collect one = {BUF_INIT(1 << 20)}, two = {BUF_INIT(1 << 20)};
	struct dkim_body_canon c;

	dkim_body_canon_init(&c, collect_emit, &one);
	dkim_body_canon_feed(&c, (const char *)p, n);
	dkim_body_canon_end(&c);
	dkim_body_canon_init(&c, collect_emit, &two);
	dkim_body_canon_feed(&c, one.b.data ? one.b.data : "", one.b.len);
	dkim_body_canon_end(&c);
	FUZZ_ASSERT(one.b.len == two.b.len &&
	                (one.b.len == 0 || memcmp(one.b.data, two.b.data, one.b.len) == 0),
	            "the canonical body is its own canonical form");
	buf_free(&one.b);
	buf_free(&two.b);
}

/* The field's shape: folded lines of at most 78 bytes, never l=. (That the
 * signature verifies is for dkimpy and OpenDKIM, test_dkim_sign.sh.) */
static void fuzz_field_shape(const struct buf *f)
{
	const char *line = f->data;

	FUZZ_ASSERT(f->len > 2 && memcmp(f->data + f->len - 2, "\r\n", 2) == 0, "ends with CRLF");
	FUZZ_ASSERT(strncmp(f->data, "DKIM-Signature: v=1; a=ed25519-sha256;", 38) == 0, "starts");
	while (line < f->data + f->len) {
		const char *e = strstr(line, "\r\n");
		FUZZ_ASSERT(e != NULL, "every line ends");
		FUZZ_ASSERT(e - line <= 78, "no line over 78 bytes");
		line = e + 2;
		FUZZ_ASSERT(line == f->data + f->len || *line == '\t', "continuations are folded");
	}
	FUZZ_ASSERT(strstr(f->data, " l=") == NULL && strstr(f->data, ";l=") == NULL, "never l=");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dkim_msg a, b;
	struct buf addr = BUF_INIT(4096), dom = BUF_INIT(4096), f = BUF_INIT(1 << 16);
	struct dkim_sig_params p = {"example.org", "fuzz", NULL, 1764892800};
	struct cl_err err;
	unsigned cut = size ? data[0] : 1;

	fuzz_msg(&a, data, size, 0);
	fuzz_msg(&b, data, size, cut | 1);
	FUZZ_ASSERT(a.head.len == b.head.len &&
	                (a.head.len == 0 || memcmp(a.head.data, b.head.data, a.head.len) == 0),
	            "the header section does not depend on the pieces");
	FUZZ_ASSERT(memcmp(a.body_hash, b.body_hash, 32) == 0, "nor the body hash");
	fuzz_body_idempotent(data, size);
	if (dkim_msg_from(&a, &addr, &dom, &err) == 0)
		FUZZ_ASSERT(dom.len > 0 && strchr(addr.data, '@') != NULL, "a From has a domain");
	if (dkim_sign(&a, &fuzz_key, &p, &f, &err) == 0)
		fuzz_field_shape(&f);
	dkim_msg_free(&a);
	dkim_msg_free(&b);
	buf_free(&addr);
	buf_free(&dom);
	buf_free(&f);
	return 0;
}
