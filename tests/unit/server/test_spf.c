/* test_spf.c - RFC 7208 check_host() driven with a DNS zone held in a
 * table: the examples of RFC 7208 appendix A and the macro examples of
 * section 7.4, include/redirect, the lookup limits, DNS errors, syntax
 * errors anywhere in a record, IPv6, the null sender. */
#include <stdlib.h>

#include "check.h"
#include "spf.h"

struct zrr {
	enum spf_qtype type;
	const char *name;
	enum spf_dns_status st;
	const char *rr[12];
};

/* RFC 7208 appendix A, and what the tests below add to it. The SPF
 * record of example.com is given per test (zone_spf). */
static const char *zone_spf;
static const struct zrr zone[] = {
    {SPF_Q_MX, "example.com", SPF_DNS_OK, {"mail-a.example.com", "mail-b.example.com"}},
    {SPF_Q_A, "example.com", SPF_DNS_OK, {"192.0.2.10", "192.0.2.11"}},
    {SPF_Q_A, "amy.example.com", SPF_DNS_OK, {"192.0.2.65"}},
    {SPF_Q_A, "bob.example.com", SPF_DNS_OK, {"192.0.2.66"}},
    {SPF_Q_A, "mail-a.example.com", SPF_DNS_OK, {"192.0.2.129"}},
    {SPF_Q_A, "mail-b.example.com", SPF_DNS_OK, {"192.0.2.130"}},
    {SPF_Q_MX, "example.org", SPF_DNS_OK, {"mail-c.example.org"}},
    {SPF_Q_A, "mail-c.example.org", SPF_DNS_OK, {"192.0.2.140"}},
    {SPF_Q_PTR, "10.2.0.192.in-addr.arpa", SPF_DNS_OK, {"example.com"}},
    {SPF_Q_PTR, "11.2.0.192.in-addr.arpa", SPF_DNS_OK, {"example.com"}},
    {SPF_Q_PTR, "65.2.0.192.in-addr.arpa", SPF_DNS_OK, {"amy.example.com"}},
    {SPF_Q_PTR, "66.2.0.192.in-addr.arpa", SPF_DNS_OK, {"bob.example.com"}},
    {SPF_Q_PTR, "129.2.0.192.in-addr.arpa", SPF_DNS_OK, {"mail-a.example.com"}},
    {SPF_Q_PTR, "130.2.0.192.in-addr.arpa", SPF_DNS_OK, {"mail-b.example.com"}},
    {SPF_Q_PTR, "140.2.0.192.in-addr.arpa", SPF_DNS_OK, {"mail-c.example.org"}},
    {SPF_Q_PTR, "4.0.0.10.in-addr.arpa", SPF_DNS_OK, {"bob.example.com"}},
    /* ours */
    {SPF_Q_TXT, "isp.example", SPF_DNS_OK, {"v=spf1 ip4:198.51.100.0/24 ip6:2001:db8::/32 -all"}},
    {SPF_Q_TXT, "soft.example", SPF_DNS_OK, {"v=spf1 ~all"}},
    {SPF_Q_TXT, "two.example", SPF_DNS_OK, {"v=spf1 -all", "v=spf1 +all"}},
    {SPF_Q_TXT, "other-txt.example", SPF_DNS_OK, {"google-site-verification=x", "v=spf10 +all"}},
    {SPF_Q_TXT, "broken.example", SPF_DNS_ERROR, {NULL}},
    {SPF_Q_TXT, "empty.example", SPF_DNS_OK, {NULL}},
    {SPF_Q_TXT, "redir.example", SPF_DNS_OK, {"v=spf1 redirect=isp.example"}},
    {SPF_Q_TXT, "redir-none.example", SPF_DNS_OK, {"v=spf1 redirect=empty.example"}},
    {SPF_Q_TXT, "incl-none.example", SPF_DNS_OK, {"v=spf1 include:empty.example -all"}},
    {SPF_Q_TXT, "incl-err.example", SPF_DNS_OK, {"v=spf1 include:broken.example -all"}},
    {SPF_Q_TXT, "home.example", SPF_DNS_OK, {"v=spf1 include:soft.example include:isp.example -all"}},
    {SPF_Q_TXT, "loop1.example", SPF_DNS_OK, {"v=spf1 include:loop2.example -all"}},
    {SPF_Q_TXT, "loop2.example", SPF_DNS_OK, {"v=spf1 include:loop1.example -all"}},
    {SPF_Q_TXT, "voids.example", SPF_DNS_OK, {"v=spf1 a:n1.example a:n2.example a:n3.example +all"}},
    {SPF_Q_TXT, "mxerr.example", SPF_DNS_OK, {"v=spf1 mx:srvfail.example +all"}},
    {SPF_Q_MX, "srvfail.example", SPF_DNS_ERROR, {NULL}},
    {SPF_Q_TXT, "helo.example", SPF_DNS_OK, {"v=spf1 a -all"}},
    {SPF_Q_A, "helo.example", SPF_DNS_OK, {"203.0.113.5"}},
    {SPF_Q_TXT, "macro.example", SPF_DNS_OK, {"v=spf1 exists:%{ir}.%{v}._spf.%{d2} -all"}},
    {SPF_Q_TXT, "email.example.com", SPF_DNS_OK,
     {"v=spf1 exists:%{lr-}.lp._spf.%{d2} exists:%{L}.%{l1r-}.%{d3}.%{o} -all"}},
    {SPF_Q_A, "3.2.0.192.in-addr._spf.macro.example", SPF_DNS_OK, {"127.0.0.2"}},
};

static int zone_find(enum spf_qtype t, const char *name, const struct zrr **out)
{
	size_t i;

	for (i = 0; i < sizeof(zone) / sizeof(zone[0]); i++)
		if (zone[i].type == t && strcmp(zone[i].name, name) == 0) {
			*out = &zone[i];
			return 1;
		}
	return 0;
}

/* The questions of the last run, space-separated ("TXT:name"). */
static char asked[4096];

/* Run check_host() against the zone; NXDOMAIN for what it lacks. */
static enum spf_result run(const char *ip, const char *sender, const char *helo)
{
	static const char *const tn[] = {"TXT", "A", "AAAA", "MX", "PTR"};
	struct spf *s = spf_new(ip, sender, helo);
	enum spf_result r = SPF_TEMPERROR;
	int i;

	asked[0] = '\0';
	if (s == NULL)
		return SPF_TEMPERROR;
	for (i = 0; i < 300; i++) {
		enum spf_qtype t;
		const char *name;
		const struct zrr *z;
		const char *spf[2] = {zone_spf, NULL};

		r = spf_eval(s);
		if (r != SPF_NEED_DNS)
			break;
		spf_question(s, &t, &name);
		snprintf(asked + strlen(asked), sizeof(asked) - strlen(asked), "%s%s:%s",
		         asked[0] ? " " : "", tn[t], name);
		if (t == SPF_Q_TXT && strcmp(name, "example.com") == 0 && zone_spf) {
			spf_answer(s, t, name, SPF_DNS_OK, spf, 1);
		} else if (zone_find(t, name, &z)) {
			size_t n = 0;
			while (n < 12 && z->rr[n])
				n++;
			spf_answer(s, t, name, z->st, z->rr, n);
		} else {
			spf_answer(s, t, name, SPF_DNS_NXDOMAIN, NULL, 0);
		}
	}
	spf_free(s);
	return r;
}

static enum spf_result ex(const char *record, const char *ip)
{
	zone_spf = record;
	return run(ip, "user@example.com", "client.example.net");
}

TEST(test_spf_rfc7208_appendix_a_simple_examples)
{
	CHECK_INT(ex("v=spf1 +all", "203.0.113.9"), SPF_PASS);
	CHECK_INT(ex("v=spf1 a -all", "192.0.2.10"), SPF_PASS);
	CHECK_INT(ex("v=spf1 a -all", "192.0.2.11"), SPF_PASS);
	CHECK_INT(ex("v=spf1 a -all", "192.0.2.65"), SPF_FAIL);
	CHECK_INT(ex("v=spf1 a:example.org -all", "192.0.2.140"), SPF_FAIL);
	CHECK_INT(ex("v=spf1 mx -all", "192.0.2.129"), SPF_PASS);
	CHECK_INT(ex("v=spf1 mx -all", "192.0.2.130"), SPF_PASS);
	CHECK_INT(ex("v=spf1 mx -all", "192.0.2.10"), SPF_FAIL);
	CHECK_INT(ex("v=spf1 mx:example.org -all", "192.0.2.140"), SPF_PASS);
	CHECK_INT(ex("v=spf1 mx mx:example.org -all", "192.0.2.140"), SPF_PASS);
	CHECK_INT(ex("v=spf1 mx mx:example.org -all", "192.0.2.129"), SPF_PASS);
	CHECK_INT(ex("v=spf1 mx/30 mx:example.org/30 -all", "192.0.2.131"), SPF_PASS);
	CHECK_INT(ex("v=spf1 mx/30 mx:example.org/30 -all", "192.0.2.143"), SPF_PASS);
	CHECK_INT(ex("v=spf1 mx/30 mx:example.org/30 -all", "192.0.2.132"), SPF_FAIL);
	CHECK_INT(ex("v=spf1 ptr -all", "192.0.2.65"), SPF_PASS);
	CHECK_INT(ex("v=spf1 ptr -all", "192.0.2.140"), SPF_FAIL);
	CHECK_INT(ex("v=spf1 ptr -all", "10.0.0.4"), SPF_FAIL); /* the rogue PTR */
	CHECK_INT(ex("v=spf1 ip4:192.0.2.128/28 -all", "192.0.2.129"), SPF_PASS);
	CHECK_INT(ex("v=spf1 ip4:192.0.2.128/28 -all", "192.0.2.143"), SPF_PASS);
	CHECK_INT(ex("v=spf1 ip4:192.0.2.128/28 -all", "192.0.2.144"), SPF_FAIL);
	CHECK_INT(ex("v=spf1 ?all", "192.0.2.1"), SPF_NEUTRAL);
	CHECK_INT(ex("v=spf1 ip4:192.0.2.1", "192.0.2.2"), SPF_NEUTRAL); /* no match, no all */
}

TEST(test_spf_records_chosen_and_missing)
{
	CHECK_INT(run("192.0.2.1", "a@two.example", "h.example"), SPF_PERMERROR);
	CHECK_INT(run("192.0.2.1", "a@other-txt.example", "h.example"), SPF_NONE);
	CHECK_INT(run("192.0.2.1", "a@empty.example", "h.example"), SPF_NONE);
	CHECK_INT(run("192.0.2.1", "a@nxdomain.example", "h.example"), SPF_NONE);
	CHECK_INT(run("192.0.2.1", "a@broken.example", "h.example"), SPF_TEMPERROR);
	CHECK_INT(run("192.0.2.1", "a@localhost", "h.example"), SPF_NONE); /* not a domain */
	CHECK_INT(run("198.51.100.7", "A@ISP.Example", "h.example"), SPF_PASS); /* any case */
	CHECK_INT(run("192.0.2.1", "a@soft.example", "h.example"), SPF_SOFTFAIL);
}

TEST(test_spf_include_and_redirect)
{
	CHECK_INT(run("198.51.100.7", "a@home.example", "h.example"), SPF_PASS);
	CHECK_INT(run("192.0.2.1", "a@home.example", "h.example"), SPF_FAIL); /* ~all inside: no match */
	CHECK_INT(run("198.51.100.7", "a@redir.example", "h.example"), SPF_PASS);
	CHECK_INT(run("192.0.2.1", "a@redir.example", "h.example"), SPF_FAIL);
	CHECK_INT(run("192.0.2.1", "a@redir-none.example", "h.example"), SPF_PERMERROR);
	CHECK_INT(run("192.0.2.1", "a@incl-none.example", "h.example"), SPF_PERMERROR);
	CHECK_INT(run("192.0.2.1", "a@incl-err.example", "h.example"), SPF_TEMPERROR);
	CHECK_INT(run("192.0.2.1", "a@loop1.example", "h.example"), SPF_PERMERROR);
	/* redirect is not followed when a mechanism matched */
	zone_spf = "v=spf1 +all redirect=isp.example";
	CHECK_INT(run("192.0.2.1", "a@example.com", "h.example"), SPF_PASS);
}

TEST(test_spf_lookup_limits_and_dns_errors)
{
	char rec[1024] = "v=spf1";
	int i;

	CHECK_INT(run("192.0.2.1", "a@voids.example", "h.example"), SPF_PERMERROR);
	CHECK_INT(run("192.0.2.1", "a@mxerr.example", "h.example"), SPF_TEMPERROR);
	/* 10 DNS-querying terms are allowed; the 11th is a permerror. */
	for (i = 0; i < 10; i++)
		strcat(rec, " a:mail-a.example.com");
	zone_spf = rec;
	CHECK_INT(run("192.0.2.1", "a@example.com", "h.example"), SPF_NEUTRAL);
	strcat(rec, " a:mail-b.example.com");
	CHECK_INT(run("192.0.2.130", "a@example.com", "h.example"), SPF_PERMERROR);
	/* ip4 and all cost nothing */
	strcpy(rec, "v=spf1");
	for (i = 0; i < 30; i++)
		strcat(rec, " ip4:203.0.113.1");
	strcat(rec, " -all");
	CHECK_INT(run("192.0.2.1", "a@example.com", "h.example"), SPF_FAIL);
	/* A failed PTR query is no match, not a temperror (RFC 7208 5.5). */
	zone_spf = "v=spf1 ptr ?all";
	CHECK_INT(run("192.0.2.99", "a@example.com", "h.example"), SPF_NEUTRAL);
}

TEST(test_spf_syntax_errors_anywhere_are_permerror)
{
	CHECK_INT(ex("v=spf1 -all foo", "192.0.2.1"), SPF_PERMERROR);
	CHECK_INT(ex("v=spf1 ip4:300.1.1.1 -all", "192.0.2.1"), SPF_PERMERROR);
	CHECK_INT(ex("v=spf1 ip4:192.0.2.0/33 -all", "192.0.2.1"), SPF_PERMERROR);
	CHECK_INT(ex("v=spf1 ip4:192.0.2.0/024 -all", "192.0.2.1"), SPF_PERMERROR);
	CHECK_INT(ex("v=spf1 ip6:2001:db8::/129 -all", "192.0.2.1"), SPF_PERMERROR);
	CHECK_INT(ex("v=spf1 include -all", "192.0.2.1"), SPF_PERMERROR);
	CHECK_INT(ex("v=spf1 all:x", "192.0.2.1"), SPF_PERMERROR);
	CHECK_INT(ex("v=spf1 redirect=a.example redirect=b.example", "192.0.2.1"), SPF_PERMERROR);
	CHECK_INT(ex("v=spf1 exists:%{q}.example -all", "192.0.2.1"), SPF_PERMERROR);
	CHECK_INT(ex("v=spf1 moo=cow -all", "192.0.2.1"), SPF_FAIL); /* unknown modifier: ignored */
	CHECK_INT(ex("v=spf1 exp=explain.example -all", "192.0.2.1"), SPF_FAIL);
	CHECK_INT(ex("V=SPF1 +ALL", "192.0.2.1"), SPF_PASS);
	CHECK_INT(ex("v=spf1   a/24   -all", "192.0.2.200"), SPF_PASS);
	CHECK_INT(ex("v=spf1 a//64 -all", "192.0.2.10"), SPF_PASS);
}

TEST(test_spf_macros_as_rfc7208_section_7_4)
{
	CHECK_INT(run("192.0.2.3", "strong-bad@macro.example", "h.example"), SPF_PASS);
	CHECK(strstr(asked, "A:3.2.0.192.in-addr._spf.macro.example") != NULL);
	CHECK_INT(run("192.0.2.3", "strong-bad@email.example.com", "h.example"), SPF_FAIL);
	CHECK(strstr(asked, "A:bad.strong.lp._spf.example.com") != NULL);
	/* %{L}: the local part URL-escaped; %{l1r-}: "strong" */
	CHECK(strstr(asked, "A:strong-bad.strong.email.example.com.email.example.com") != NULL);
	CHECK_INT(run("2001:db8::cb01", "strong-bad@macro.example", "h.example"), SPF_FAIL);
	CHECK(strstr(asked, "A:1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.macro.example") != NULL);
	zone_spf = "v=spf1 exists:%{L}.x.example -all";
	CHECK_INT(run("192.0.2.3", "a+b%c@example.com", "h.example"), SPF_FAIL);
	CHECK(strstr(asked, "A:a%2bb%25c.x.example") != NULL); /* names are asked in lower case */
}

TEST(test_spf_ipv6_null_sender_and_mapped_addresses)
{
	CHECK_INT(run("2001:db8:1::5", "a@isp.example", "h.example"), SPF_PASS);
	CHECK_INT(run("2001:db9::5", "a@isp.example", "h.example"), SPF_FAIL);
	CHECK_INT(run("::ffff:198.51.100.9", "a@isp.example", "h.example"), SPF_PASS);
	/* <>: postmaster@HELO is checked */
	CHECK_INT(run("203.0.113.5", "", "helo.example"), SPF_PASS);
	CHECK_INT(run("203.0.113.6", "", "helo.example"), SPF_FAIL);
	CHECK(strstr(asked, "TXT:helo.example") != NULL);
	CHECK(spf_new("not-an-ip", "a@b.example", "h") == NULL);
}

TEST(test_spf_reason_names_what_matched)
{
	struct spf *s = spf_new("198.51.100.7", "a@isp.example", "h.example");
	const char *txt[] = {"v=spf1 ip4:198.51.100.0/24 ip6:2001:db8::/32 -all"};

	CHECK_INT(spf_eval(s), SPF_NEED_DNS);
	spf_answer(s, SPF_Q_TXT, "isp.example", SPF_DNS_OK, txt, 1);
	CHECK_INT(spf_eval(s), SPF_PASS);
	CHECK_STR(spf_domain(s), "isp.example");
	CHECK_STR(spf_reason(s), "198.51.100.7 matched ip4:198.51.100.0/24 in isp.example");
	CHECK_STR(spf_result_name(SPF_SOFTFAIL), "softfail");
	CHECK_INT(spf_lookups(s), 1);
	spf_free(s);
}

int main(void)
{
	RUN(test_spf_rfc7208_appendix_a_simple_examples);
	RUN(test_spf_records_chosen_and_missing);
	RUN(test_spf_include_and_redirect);
	RUN(test_spf_lookup_limits_and_dns_errors);
	RUN(test_spf_syntax_errors_anywhere_are_permerror);
	RUN(test_spf_macros_as_rfc7208_section_7_4);
	RUN(test_spf_ipv6_null_sender_and_mapped_addresses);
	RUN(test_spf_reason_names_what_matched);
	CHECK_DONE();
}
