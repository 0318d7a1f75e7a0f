/*
 * fuzz_spf.c - libFuzzer harness for the SPF evaluator (src/server/spf.c):
 * the client address, sender, HELO name and the sender domain's TXT answer
 * come from the input, and so does every later DNS answer (status, records).
 * Checks: the evaluation ends within the cache bound, the result is one of
 * RFC 7208's, and the reason (logged, put in headers) is printable.
 */
#include "fuzz.h"
#include "spf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	char *ip, *sender, *helo, *record;
	struct spf *s;
	enum spf_result r = SPF_NEED_DNS;
	int i, first = 1;

	if (size > 16384)
		return 0;
	ip = fuzz_field(&in, 0, NULL);
	sender = fuzz_field(&in, 0, NULL);
	helo = fuzz_field(&in, 0, NULL);
	record = fuzz_field(&in, 0, NULL);
	s = spf_new(ip, sender, helo);
	for (i = 0; s != NULL && i < SPF_CACHE_MAX + 2; i++) {
		enum spf_qtype t;
		const char *name;
		char *rr[4] = {NULL, NULL, NULL, NULL};
		size_t n = 0, k;
		unsigned b;

		r = spf_eval(s);
		if (r != SPF_NEED_DNS)
			break;
		spf_question(s, &t, &name);
		FUZZ_ASSERT(!fuzz_has_ctl(name, strlen(name)), "a question without control bytes");
		if (first) {
			const char *rec[1] = {record};
			first = 0;
			spf_answer(s, t, name, SPF_DNS_OK, rec, 1);
			continue;
		}
		b = in.n ? fuzz_byte(&in) : 1;
		if ((b & 3) == 0) {
			n = fuzz_byte(&in) % 4;
			for (k = 0; k < n; k++)
				rr[k] = fuzz_field(&in, '\n', NULL);
		}
		spf_answer(s, t, name,
		           (b & 3) == 1 ? SPF_DNS_NXDOMAIN : (b & 3) == 2 ? SPF_DNS_ERROR : SPF_DNS_OK,
		           (const char *const *)rr, n);
		for (k = 0; k < n; k++)
			free(rr[k]);
	}
	if (s != NULL) {
		const char *why = spf_reason(s);
		FUZZ_ASSERT(r != SPF_NEED_DNS, "the evaluation ends within the cache bound");
		FUZZ_ASSERT(r >= SPF_NONE && r <= SPF_PERMERROR, "a result of RFC 7208");
		FUZZ_ASSERT(!fuzz_has_ctl(why, strlen(why)), "a printable reason");
		spf_free(s);
	}
	free(ip);
	free(sender);
	free(helo);
	free(record);
	return 0;
}
