/* test_dnsbl.c - blocklist entries in postscreen_dnsbl_sites syntax, the
 * query names of IPv4 and IPv6 clients (RFC 5782 2.1, 2.4), and the score
 * of an answer: filters, weights, and answers that never count. */
#include "check.h"
#include "dnsbl.h"

TEST(test_dnsbl_entries_parse_like_postscreen)
{
	struct dnsbl_site s;

	CHECK(dnsbl_site_parse("zen.spamhaus.org", &s) == NULL);
	CHECK_STR(s.zone, "zen.spamhaus.org");
	CHECK_INT(s.weight, 1);
	CHECK_INT(s.filtered, 0);
	CHECK(dnsbl_site_parse("zen.spamhaus.org.=127.0.0.[2..11]*3", &s) == NULL);
	CHECK_STR(s.zone, "zen.spamhaus.org");
	CHECK_INT(s.filtered, 1);
	CHECK_INT(s.lo, 2);
	CHECK_INT(s.hi, 11);
	CHECK_INT(s.weight, 3);
	CHECK(dnsbl_site_parse("list.dnswl.org=127.0.[0..255].0*-2", &s) != NULL); /* one range, last octet */
	CHECK(dnsbl_site_parse("swl.example=127.0.0.2*-5", &s) == NULL);
	CHECK_INT(s.weight, -5);
	CHECK(dnsbl_site_parse("", &s) != NULL);
	CHECK(dnsbl_site_parse("bad zone", &s) != NULL);
	CHECK(dnsbl_site_parse("x.example=10.0.0.2", &s) != NULL);
	CHECK(dnsbl_site_parse("x.example=127.0.0.[5..2]", &s) != NULL);
	CHECK(dnsbl_site_parse("x.example*0", &s) != NULL);
	CHECK(dnsbl_site_parse("x.example*", &s) != NULL);
	CHECK(dnsbl_site_parse("x.example=127.0.0.2x", &s) != NULL);
}

TEST(test_dnsbl_query_names_ipv4_and_ipv6)
{
	struct dnsbl_site s;
	char q[300];

	dnsbl_site_parse("bl.example", &s);
	CHECK_INT(dnsbl_query("192.0.2.99", &s, q, sizeof(q)), 0);
	CHECK_STR(q, "99.2.0.192.bl.example");
	CHECK_INT(dnsbl_query("2001:db8:1:2:3:4:567:89ab", &s, q, sizeof(q)), 0);
	CHECK_STR(q, "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.bl.example");
	CHECK_INT(dnsbl_query("not-an-ip", &s, q, sizeof(q)), -1);
	CHECK_INT(dnsbl_query("192.0.2.99", &s, q, 10), -1);
}

TEST(test_dnsbl_score_counts_only_real_listings)
{
	struct dnsbl_site any, zen;
	const char *listed[] = {"127.0.0.2"};
	const char *pbl[] = {"127.0.0.10", "127.0.0.4"};
	const char *err[] = {"127.255.255.254"};
	const char *never[] = {"127.0.0.1"};
	const char *outside[] = {"192.0.2.1"};
	const char *dbl[] = {"127.0.1.2"};

	dnsbl_site_parse("bl.example*2", &any);
	dnsbl_site_parse("zen.spamhaus.org=127.0.0.[2..3]", &zen);
	CHECK_INT(dnsbl_score(&any, listed, 1), 2);
	CHECK_INT(dnsbl_score(&any, err, 1), 0);
	CHECK_INT(dnsbl_score(&any, never, 1), 0);
	CHECK_INT(dnsbl_score(&any, outside, 1), 0);
	CHECK_INT(dnsbl_score(&any, NULL, 0), 0);
	CHECK_INT(dnsbl_score(&any, dbl, 1), 2);
	CHECK_INT(dnsbl_score(&zen, listed, 1), 1);
	CHECK_INT(dnsbl_score(&zen, pbl, 2), 0);
	CHECK_INT(dnsbl_score(&zen, dbl, 1), 0);
}

int main(void)
{
	RUN(test_dnsbl_entries_parse_like_postscreen);
	RUN(test_dnsbl_query_names_ipv4_and_ipv6);
	RUN(test_dnsbl_score_counts_only_real_listings);
	CHECK_DONE();
}
