/* test_dmarc.c - DMARC (RFC 7489) with the records held in a table:
 * discovery at the From: domain and at its organizational domain (the
 * Public Suffix List: example.co.uk), relaxed and strict alignment of SPF
 * and DKIM, p/sp, pct sampling, records that are no DMARC records, DNS
 * errors. */
#include <stdlib.h>

#include "check.h"
#include "dmarc.h"

struct ztxt {
	const char *name;
	enum spf_dns_status st;
	const char *txt[3];
};

static const struct ztxt zone[] = {
    {"_dmarc.example.com", SPF_DNS_OK, {"v=DMARC1; p=reject; rua=mailto:d@example.com"}},
    {"_dmarc.example.co.uk", SPF_DNS_OK, {"v=DMARC1;p=quarantine;sp=reject;adkim=s;aspf=s"}},
    {"_dmarc.half.example", SPF_DNS_OK, {"v=DMARC1; p=reject; pct=50"}},
    {"_dmarc.none.example", SPF_DNS_OK, {"v=DMARC1; p=none"}},
    {"_dmarc.two.example", SPF_DNS_OK, {"v=DMARC1; p=reject", "v=DMARC1; p=none"}},
    {"_dmarc.notfirst.example", SPF_DNS_OK, {"p=reject; v=DMARC1"}},
    {"_dmarc.lower.example", SPF_DNS_OK, {"v=dmarc1; p=reject"}},
    {"_dmarc.badp.example", SPF_DNS_OK, {"v=DMARC1; p=bounce; rua=mailto:r@badp.example"}},
    {"_dmarc.badp-norua.example", SPF_DNS_OK, {"v=DMARC1; p=bounce"}},
    {"_dmarc.other.example", SPF_DNS_OK, {"some other text", "v=DMARC1; p=quarantine"}},
    {"_dmarc.broken.example", SPF_DNS_ERROR, {NULL}},
};

static struct dmarc *mk(const char *from)
{
	return dmarc_new(from);
}

static enum dmarc_result run(struct dmarc *d, unsigned roll)
{
	enum dmarc_result r = DMARC_TEMPERROR;
	int i;

	for (i = 0; i < 4; i++) {
		const char *q;
		size_t k, n = 0;
		r = dmarc_eval(d, roll);
		if (r != DMARC_NEED_DNS)
			break;
		q = dmarc_question(d);
		for (k = 0; k < sizeof(zone) / sizeof(zone[0]); k++)
			if (strcmp(zone[k].name, q) == 0)
				break;
		if (k == sizeof(zone) / sizeof(zone[0])) {
			dmarc_answer(d, q, SPF_DNS_NXDOMAIN, NULL, 0);
			continue;
		}
		while (n < 3 && zone[k].txt[n])
			n++;
		dmarc_answer(d, q, zone[k].st, zone[k].txt, n);
	}
	return r;
}

TEST(test_dmarc_aligned_spf_or_dkim_passes)
{
	struct dmarc *d = mk("example.com");

	dmarc_spf(d, SPF_PASS, "bounces.example.com"); /* relaxed: same organization */
	CHECK_INT(run(d, 0), DMARC_PASS);
	CHECK_INT(dmarc_disposition(d), DMARC_P_NONE);
	CHECK_STR(dmarc_reason(d), "SPF pass for bounces.example.com is aligned with example.com");
	dmarc_free(d);
	d = mk("example.com");
	dmarc_spf(d, SPF_PASS, "isp.example"); /* passes, but not aligned */
	dmarc_dkim_pass(d, "isp.example");
	dmarc_dkim_pass(d, "Example.COM");
	CHECK_INT(run(d, 0), DMARC_PASS);
	CHECK_STR(dmarc_reason(d), "DKIM pass for example.com is aligned with example.com");
	dmarc_free(d);
}

TEST(test_dmarc_unaligned_fails_with_the_published_policy)
{
	struct dmarc *d = mk("example.com");

	dmarc_spf(d, SPF_PASS, "isp.example");
	dmarc_dkim_pass(d, "isp.example");
	CHECK_INT(run(d, 0), DMARC_FAIL);
	CHECK_INT(dmarc_published(d), DMARC_P_REJECT);
	CHECK_INT(dmarc_disposition(d), DMARC_P_REJECT);
	CHECK_STR(dmarc_comment(d), "p=reject sp=reject dis=reject");
	dmarc_free(d);
	/* SPF softfail or fail is no pass, aligned or not */
	d = mk("example.com");
	dmarc_spf(d, SPF_SOFTFAIL, "example.com");
	CHECK_INT(run(d, 0), DMARC_FAIL);
	dmarc_free(d);
}

TEST(test_dmarc_organizational_domain_and_subdomain_policy)
{
	char org[256];
	struct dmarc *d;

	CHECK_STR(dmarc_org_domain("mail.shop.example.co.uk", org, sizeof(org)), "example.co.uk");
	CHECK_STR(dmarc_org_domain("A.B.Example.COM.", org, sizeof(org)), "example.com");
	/* a subdomain without its own record: the organization's sp= */
	d = mk("news.example.co.uk");
	CHECK_INT(run(d, 0), DMARC_FAIL);
	CHECK_INT(dmarc_published(d), DMARC_P_REJECT);
	dmarc_free(d);
	/* the organization's own mail: p= */
	d = mk("example.co.uk");
	CHECK_INT(run(d, 0), DMARC_FAIL);
	CHECK_INT(dmarc_published(d), DMARC_P_QUARANTINE);
	dmarc_free(d);
	/* adkim=s: a signature of the organization does not align with a subdomain */
	d = mk("news.example.co.uk");
	dmarc_dkim_pass(d, "example.co.uk");
	CHECK_INT(run(d, 0), DMARC_FAIL);
	dmarc_free(d);
	d = mk("news.example.co.uk");
	dmarc_dkim_pass(d, "news.example.co.uk");
	CHECK_INT(run(d, 0), DMARC_PASS);
	dmarc_free(d);
	/* relaxed (example.com's default): a sibling's signature aligns */
	d = mk("news.example.com");
	dmarc_dkim_pass(d, "mail.example.com");
	CHECK_INT(run(d, 0), DMARC_PASS);
	dmarc_free(d);
}

TEST(test_dmarc_pct_steps_the_policy_down)
{
	struct dmarc *d = mk("half.example");

	CHECK_INT(run(d, 10), DMARC_FAIL);
	CHECK_INT(dmarc_disposition(d), DMARC_P_REJECT);
	dmarc_free(d);
	d = mk("half.example");
	CHECK_INT(run(d, 50), DMARC_FAIL);
	CHECK_INT(dmarc_disposition(d), DMARC_P_QUARANTINE);
	CHECK_STR(dmarc_comment(d), "p=reject sp=reject dis=quarantine");
	dmarc_free(d);
}

TEST(test_dmarc_records_that_do_not_count)
{
	static const char *const none[] = {"nothing.example", "two.example", "notfirst.example",
	                                   "lower.example", "badp-norua.example"};
	struct dmarc *d;
	size_t i;

	for (i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
		d = mk(none[i]);
		CHECK_INT(run(d, 0), DMARC_NONE);
		dmarc_free(d);
	}
	d = mk("badp.example"); /* an invalid p= with a rua=: as p=none */
	CHECK_INT(run(d, 0), DMARC_FAIL);
	CHECK_INT(dmarc_disposition(d), DMARC_P_NONE);
	dmarc_free(d);
	d = mk("other.example");
	CHECK_INT(run(d, 0), DMARC_FAIL);
	CHECK_INT(dmarc_disposition(d), DMARC_P_QUARANTINE);
	dmarc_free(d);
	d = mk("none.example");
	CHECK_INT(run(d, 0), DMARC_FAIL);
	CHECK_INT(dmarc_disposition(d), DMARC_P_NONE);
	dmarc_free(d);
	d = mk("broken.example");
	CHECK_INT(run(d, 0), DMARC_TEMPERROR);
	dmarc_free(d);
	CHECK(dmarc_new("") == NULL);
	CHECK_STR(dmarc_result_name(DMARC_PASS), "pass");
	CHECK_STR(dmarc_policy_name(DMARC_P_QUARANTINE), "quarantine");
}

int main(void)
{
	RUN(test_dmarc_aligned_spf_or_dkim_passes);
	RUN(test_dmarc_unaligned_fails_with_the_published_policy);
	RUN(test_dmarc_organizational_domain_and_subdomain_policy);
	RUN(test_dmarc_pct_steps_the_policy_down);
	RUN(test_dmarc_records_that_do_not_count);
	CHECK_DONE();
}
