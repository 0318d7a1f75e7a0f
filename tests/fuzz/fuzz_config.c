/*
 * fuzz_config.c - libFuzzer harness for clsmtpc's configuration parser
 * (src/client/config.c) and the msmtprc translator (msmtprc.c): accounts are
 * named and found, errors are one line, and a translated msmtprc never
 * carries a password line.
 */
#include "config.h"
#include "fuzz.h"
#include "msmtprc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config c;
	struct cl_err err;
	struct buf out = BUF_INIT(1 << 20), notes = BUF_INIT(1 << 20);
	const struct config_account *a;
	size_t i;

	if (size > 65536)
		return 0;
	memset(&c, 0, sizeof(c));
	if (config_parse(&c, "fuzz.conf", (const char *)data, size, &err) == 0) {
		for (i = 0; i < c.naccounts; i++) {
			FUZZ_ASSERT(c.accounts[i].name != NULL, "every account has a name");
			FUZZ_ASSERT(config_find(&c, c.accounts[i].name) != NULL,
			            "accounts are found");
		}
		(void)config_select(&c, NULL, "someone@example.com", &a, &err);
		(void)config_select(&c, "default", NULL, &a, &err);
	} else {
		FUZZ_ASSERT(strchr(err.msg, '\n') == NULL, "a configuration error is one line");
	}
	config_free(&c);
	if (msmtprc_translate("fuzz.msmtprc", (const char *)data, size, &out, &notes, &err) == 0) {
		const char *p = buf_cstr(&out);
		FUZZ_ASSERT(strncmp(p, "password ", 9) != 0 && strstr(p, "\npassword ") == NULL &&
		                strstr(p, "\npassword\t") == NULL,
		            "a translated configuration holds no password line");
	}
	buf_free(&out);
	buf_free(&notes);
	return 0;
}
