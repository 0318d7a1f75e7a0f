/*
 * fuzz_netrc.c - libFuzzer harness for the netrc/authinfo parser (netrc.c):
 * any bytes parse without a crash or a read past the end, and a password
 * found is made of the input's bytes (never longer than the input).
 */
#include "fuzz.h"
#include "netrc.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct buf pw = BUF_INIT(8192);
	struct cl_err err;
	char *text = malloc(n + 1);
	int r;

	if (text == NULL)
		return 0;
	memcpy(text, d, n);
	text[n] = '\0';
	err_clear(&err);
	r = netrc_parse(text, n, "smtp.example.org", "alice", &pw, &err);
	FUZZ_ASSERT(r != 1 || pw.len <= n, "a password longer than the file");
	FUZZ_ASSERT(r >= 0 || err.cls == CL_ECONFIG, "an error of the wrong class");
	buf_wipe(&pw);
	free(text);
	return 0;
}
