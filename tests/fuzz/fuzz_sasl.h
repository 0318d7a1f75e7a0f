/*
 * fuzz_sasl.h - what the two SASL harnesses share: a deterministic
 * getrandom() (it replaces libc's for GNU SASL, so nonces repeat and seed
 * exchanges replay to the end), the mechanism table, and a check that a
 * string is base64 text.
 */
#ifndef CLSMTP_FUZZ_SASL_H
#define CLSMTP_FUZZ_SASL_H

#include <sys/types.h>

#include "fuzz.h"

static unsigned char fuzz_rand_next;

/* Reset at the start of each input, so the same input gives the same nonces. */
static inline void fuzz_rand_reset(void)
{
	fuzz_rand_next = 0;
}

ssize_t getrandom(void *buf, size_t len, unsigned int flags);
ssize_t getrandom(void *buf, size_t len, unsigned int flags)
{
	unsigned char *p = buf;
	size_t i;

	(void)flags;
	for (i = 0; i < len; i++)
		p[i] = (unsigned char)(fuzz_rand_next++ * 37u + 11u);
	return (ssize_t)len;
}

static const char *const fuzz_sasl_mechs[] = {
    "PLAIN",       "LOGIN",         "CRAM-MD5",         "DIGEST-MD5",
    "SCRAM-SHA-1", "SCRAM-SHA-256", "SCRAM-SHA-1-PLUS", "SCRAM-SHA-256-PLUS",
    "XOAUTH2",     "OAUTHBEARER",
};
#define FUZZ_SASL_NMECHS (sizeof(fuzz_sasl_mechs) / sizeof(fuzz_sasl_mechs[0]))

/* base64 of 32 bytes: a stand-in tls-exporter channel binding. */
#define FUZZ_SASL_CB "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

static inline int fuzz_is_b64(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '+' || c == '/' || c == '='))
			return 0;
	}
	return 1;
}

#endif
