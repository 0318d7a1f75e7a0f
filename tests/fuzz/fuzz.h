/*
 * fuzz.h - helpers shared by the libFuzzer harnesses in tests/fuzz: a reader
 * that cuts the fuzzer's bytes into fields, and FUZZ_ASSERT, which turns a
 * broken invariant into a crash libFuzzer reports (abort, with a message).
 * Header-only; each harness is one file with LLVMFuzzerTestOneInput.
 */
#ifndef CLSMTP_FUZZ_H
#define CLSMTP_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_ASSERT(cond, what)                                                                    \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: invariant broken: %s (%s)\n", __FILE__, __LINE__,  \
			        what, #cond);                                                      \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* The fuzzer's bytes, consumed from the front. */
struct fuzz_in {
	const uint8_t *p;
	size_t n;
};

static inline unsigned fuzz_byte(struct fuzz_in *in)
{
	unsigned b;

	if (in->n == 0)
		return 0;
	b = in->p[0];
	in->p++;
	in->n--;
	return b;
}

/* The next field: up to the next byte sep (not included, and consumed), or
 * everything left. Returns a malloc'ed NUL-terminated copy, *len its length. */
static inline char *fuzz_field(struct fuzz_in *in, uint8_t sep, size_t *len)
{
	const uint8_t *e = memchr(in->p, sep, in->n);
	size_t k = e ? (size_t)(e - in->p) : in->n;
	char *s = malloc(k + 1);

	if (s == NULL)
		abort();
	if (k > 0)
		memcpy(s, in->p, k);
	s[k] = '\0';
	in->p += k;
	in->n -= k;
	if (e != NULL) {
		in->p++;
		in->n--;
	}
	if (len != NULL)
		*len = k;
	return s;
}

/* 1 if s[0..n) holds a CR not followed by LF or an LF not preceded by CR. */
static inline int fuzz_has_bare_eol(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] == '\r' && (i + 1 >= n || s[i + 1] != '\n'))
			return 1;
		if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r'))
			return 1;
	}
	return 0;
}

/* 1 if any byte of s[0..n) is a C0 control or DEL (TAB included). */
static inline int fuzz_has_ctl(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 1;
	return 0;
}

#endif
