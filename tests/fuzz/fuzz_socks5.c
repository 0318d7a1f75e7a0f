/*
 * fuzz_socks5.c - libFuzzer harness for the SOCKS5 reply parsers
 * (socks5.c): any bytes, cut at every length, never crash or read past the
 * end; a complete reply never claims more bytes than it was given, and
 * once complete it stays complete with more bytes behind it.
 */
#include "fuzz.h"
#include "net/socks5.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct cl_err err;
	size_t i;
	int r, first = 0;

	for (i = 0; i <= n; i++) {
		uint8_t *copy = malloc(i ? i : 1);
		if (copy == NULL)
			return 0;
		memcpy(copy, d, i);
		err_clear(&err);
		r = socks5_parse_reply(copy, i, &err);
		FUZZ_ASSERT(r <= (int)i, "a reply longer than its bytes");
		FUZZ_ASSERT(r >= 0 || err.msg[0], "an error without a message");
		if (first > 0)
			FUZZ_ASSERT(r == first, "a complete reply changed with more bytes");
		if (r > 0 && first == 0)
			first = r;
		r = socks5_parse_method(copy, i, &err);
		FUZZ_ASSERT(r <= (int)i, "a method reply longer than its bytes");
		free(copy);
	}
	return 0;
}
