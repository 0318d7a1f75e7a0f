/*
 * fuzz_authres.c - libFuzzer harness for src/server/authres.c: the filter
 * fed a hostile header section whole and cut at a chosen point gives the
 * same bytes, never more than it got, and keeps the body untouched; the
 * composer, given hostile values, writes one header field of printable
 * ASCII, CRLF only at its folds and end.
 */
#include "authres.h"
#include "fuzz.h"

static void fuzz_filter(const uint8_t *p, size_t n, size_t cut, struct buf *out)
{
	struct authres_filter f;

	authres_filter_init(&f, "mx.fuzz.test");
	if (authres_filter_feed(&f, (const char *)p, cut, out) < 0 ||
	    authres_filter_feed(&f, (const char *)p + cut, n - cut, out) < 0 ||
	    authres_filter_end(&f, out) < 0)
		abort();
	authres_filter_free(&f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf a = BUF_INIT(1 << 20), b = BUF_INIT(1 << 20), c = BUF_INIT(1 << 16);
	struct fuzz_in in = {data, size};
	size_t cut, i;
	char *v[3];

	if (size < 1 || size > 65536)
		return 0;
	cut = (data[0] * 257u) % size;
	fuzz_filter(data, size, size, &a);
	fuzz_filter(data, size, cut, &b);
	FUZZ_ASSERT(a.len == b.len && (a.len == 0 || memcmp(a.data, b.data, a.len) == 0),
	            "the same output in one piece or two");
	FUZZ_ASSERT(a.len <= size, "nothing added");
	for (i = 0; i < 3; i++)
		v[i] = fuzz_field(&in, 0, NULL);
	{
		struct authres_item it = {"spf", "pass", v[0], {{"smtp.mailfrom", v[1]}, {"x.y", v[2]}}};
		authres_compose(&c, v[2][0] ? v[2] : "mx", &it, 1);
	}
	for (i = 0; i < c.len; i++) {
		unsigned char ch = (unsigned char)c.data[i];
		if (ch == '\r') {
			FUZZ_ASSERT(i + 1 < c.len && c.data[i + 1] == '\n', "CR only before LF");
			FUZZ_ASSERT(i + 2 == c.len || c.data[i + 2] == '\t', "a fold or the end");
		} else if (ch != '\n' && ch != '\t') {
			FUZZ_ASSERT(ch >= ' ' && ch < 0x7f, "printable ASCII");
		}
	}
	for (i = 0; i < 3; i++)
		free(v[i]);
	buf_free(&a);
	buf_free(&b);
	buf_free(&c);
	return 0;
}
