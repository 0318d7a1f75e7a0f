/*
 * fuzz_dmarc.c - libFuzzer harness for DMARC (src/server/dmarc.c): the
 * From: domain, the SPF and DKIM identifiers and the TXT answers of both
 * lookups come from the input. Checks: a result of RFC 7489 within two
 * questions, a disposition no stricter than the published policy, and a
 * printable comment and reason (they go into headers and logs).
 */
#include "dmarc.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	char *from, *spfdom, *dkim;
	struct dmarc *d;
	enum dmarc_result r = DMARC_NEED_DNS;
	unsigned roll;
	int i;

	if (size > 8192)
		return 0;
	from = fuzz_field(&in, 0, NULL);
	spfdom = fuzz_field(&in, 0, NULL);
	dkim = fuzz_field(&in, 0, NULL);
	roll = fuzz_byte(&in) % 100;
	d = dmarc_new(from);
	if (d != NULL) {
		dmarc_spf(d, (enum spf_result)(fuzz_byte(&in) % 7), spfdom);
		if (*dkim)
			dmarc_dkim_pass(d, dkim);
		for (i = 0; i < 3; i++) {
			char *txt[3];
			size_t n = fuzz_byte(&in) % 4, k;
			unsigned st = fuzz_byte(&in) % 3;
			r = dmarc_eval(d, roll);
			if (r != DMARC_NEED_DNS)
				break;
			for (k = 0; k < n && k < 3; k++)
				txt[k] = fuzz_field(&in, 0, NULL);
			n = k;
			dmarc_answer(d, dmarc_question(d), (enum spf_dns_status)st, (const char *const *)txt, n);
			for (k = 0; k < n; k++)
				free(txt[k]);
		}
		FUZZ_ASSERT(r != DMARC_NEED_DNS, "at most two questions");
		FUZZ_ASSERT(dmarc_disposition(d) <= dmarc_published(d), "the disposition is no stricter");
		FUZZ_ASSERT(!fuzz_has_ctl(dmarc_comment(d), strlen(dmarc_comment(d))), "a printable comment");
		FUZZ_ASSERT(!fuzz_has_ctl(dmarc_reason(d), strlen(dmarc_reason(d))), "a printable reason");
		dmarc_free(d);
	}
	free(from);
	free(spfdom);
	free(dkim);
	return 0;
}
