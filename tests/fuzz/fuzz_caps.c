/*
 * fuzz_caps.c - libFuzzer harness for the EHLO capability parser
 * (smtp_caps.c) and, on what it finds, the client's mechanism choice
 * (sasl_choose): a hostile server's EHLO reply must never make the client
 * pick a mechanism that sends the password before TLS.
 */
#include <ctype.h>

#include "fuzz.h"
#include "sasl/sasl_client.h"
#include "smtp/smtp_caps.h"

static void fuzz_caps_check_auth(const char *auth)
{
	size_t i, n = strlen(auth);

	FUZZ_ASSERT(n < SMTP_CAPS_AUTH_MAX, "mechanism list bounded");
	for (i = 0; i < n; i++) {
		FUZZ_ASSERT(auth[i] != ' ' || (i > 0 && i + 1 < n && auth[i + 1] != ' '),
		            "single spaces between mechanisms, none at the ends");
		FUZZ_ASSERT(!islower((unsigned char)auth[i]), "mechanisms upper case");
		FUZZ_ASSERT((unsigned char)auth[i] > ' ' || auth[i] == ' ', "no control byte");
	}
}

static void fuzz_caps_choose(const struct smtp_caps *c, unsigned flags)
{
	static const char *const wanted[] = {"auto", "plain", "login", "cram-md5", "scram-sha-256"};
	struct sasl_choice_ctx ctx;
	struct cl_err err;
	const char *m;

	memset(&ctx, 0, sizeof(ctx));
	ctx.offered = c->auth;
	ctx.tls_active = flags & 1;
	ctx.allow_plaintext = (flags >> 1) & 1;
	ctx.have_cb = (flags >> 2) & 1;
	ctx.have_token = (flags >> 3) & 1;
	ctx.have_password = !((flags >> 4) & 1);
	m = sasl_choose(wanted[(flags >> 5) % 5], &ctx, &err);
	if (m == NULL)
		return;
	FUZZ_ASSERT(smtp_caps_has_auth(c, m), "only an offered mechanism is chosen");
	if (!ctx.tls_active && !ctx.allow_plaintext)
		FUZZ_ASSERT(!sasl_mech_exposes_secret(m), "no clear-text secret before TLS");
	if (strstr(m, "-PLUS") != NULL)
		FUZZ_ASSERT(ctx.have_cb, "-PLUS only with a channel binding");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtp_reply r;
	struct smtp_caps c;
	struct cl_err err;
	unsigned flags;
	size_t i = 1;
	int rc = 0;

	if (size < 1)
		return 0;
	flags = data[0];
	smtp_reply_init(&r);
	while (i < size && rc == 0) {
		const uint8_t *lf = memchr(data + i, '\n', size - i);
		size_t len = lf ? (size_t)(lf - (data + i)) : size - i;

		rc = smtp_reply_feed(&r, (const char *)data + i, len, &err);
		i += len + (lf != NULL);
	}
	if (rc == 1) {
		smtp_caps_parse(&c, &r);
		fuzz_caps_check_auth(c.auth);
		FUZZ_ASSERT(memchr(c.server_name, '\0', sizeof(c.server_name)) != NULL,
		            "server name terminated");
		FUZZ_ASSERT(!fuzz_has_ctl(c.server_name, strlen(c.server_name)),
		            "server name has no control byte");
		fuzz_caps_choose(&c, flags);
	}
	smtp_reply_free(&r);
	return 0;
}
