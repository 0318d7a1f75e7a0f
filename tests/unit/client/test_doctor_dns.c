/*
 * test_doctor_dns.c - the doctor's DNS answer parsers (SRV, MX) on
 * hand-built messages: order, compression pointers, RFC 2782's "." target,
 * RFC 7505's null MX, other record types skipped, every truncation refused;
 * and the presets' domain lists.
 */
#include <string.h>

#include "check.h"
#include "doctor_discover.h"

struct msg {
	unsigned char b[1024];
	size_t n;
};

static void put(struct msg *m, const void *p, size_t n)
{
	memcpy(m->b + m->n, p, n);
	m->n += n;
}

static void put16(struct msg *m, unsigned v)
{
	unsigned char x[2] = {(unsigned char)(v >> 8), (unsigned char)v};
	put(m, x, 2);
}

static void put_name(struct msg *m, const char *dotted)
{
	while (*dotted) {
		size_t l = strcspn(dotted, ".");
		unsigned char len = (unsigned char)l;
		put(m, &len, 1);
		put(m, dotted, l);
		dotted += l;
		if (*dotted == '.')
			dotted++;
	}
	put(m, "", 1);
}

/* Header and question; the question name starts at offset 12. */
static void begin(struct msg *m, const char *qname, unsigned qtype, unsigned ancount)
{
	m->n = 0;
	put16(m, 0x1234);
	put16(m, 0x8180);
	put16(m, 1);
	put16(m, ancount);
	put16(m, 0);
	put16(m, 0);
	put_name(m, qname);
	put16(m, qtype);
	put16(m, 1);
}

/* An answer record owned by the question's name (pointer to 12). */
static void rr_head(struct msg *m, unsigned type, unsigned rdlen)
{
	put16(m, 0xC00C);
	put16(m, type);
	put16(m, 1);
	put16(m, 0);
	put16(m, 3600);
	put16(m, rdlen);
}

/* "_submissions._tcp.example.com": "example" is at offset 12+13+5 = 30. */
#define EXAMPLE_PTR 0xC01E

static void srv(struct msg *m, unsigned prio, unsigned weight, unsigned port, const char *label)
{
	size_t l = strlen(label);

	rr_head(m, 33, (unsigned)(6 + (l ? 1 + l + 2 : 1)));
	put16(m, prio);
	put16(m, weight);
	put16(m, port);
	if (l) {
		unsigned char len = (unsigned char)l;
		put(m, &len, 1);
		put(m, label, l);
		put16(m, EXAMPLE_PTR);
	} else {
		put(m, "", 1); /* the root: "." */
	}
}

TEST(test_srv_sorted_by_priority_then_weight)
{
	struct msg m;
	struct doctor_srv out[8];
	size_t n = 0;

	begin(&m, "_submissions._tcp.example.com", 33, 3);
	srv(&m, 10, 5, 465, "backup");
	srv(&m, 0, 1, 465, "light");
	srv(&m, 0, 9, 465, "heavy");
	CHECK_INT(doctor_discover_parse_srv(m.b, m.n, out, 8, &n), 0);
	CHECK_INT(n, 3);
	CHECK_STR(out[0].target, "heavy.example.com");
	CHECK_INT(out[0].port, 465);
	CHECK_STR(out[1].target, "light.example.com");
	CHECK_STR(out[2].target, "backup.example.com");
	CHECK_INT(out[2].prio, 10);
}

TEST(test_srv_root_target_means_not_offered)
{
	struct msg m;
	struct doctor_srv out[2];
	size_t n = 0;

	begin(&m, "_submissions._tcp.example.com", 33, 1);
	srv(&m, 0, 0, 0, "");
	CHECK_INT(doctor_discover_parse_srv(m.b, m.n, out, 2, &n), 0);
	CHECK_INT(n, 1);
	CHECK_STR(out[0].target, ".");
}

TEST(test_srv_skips_other_record_types)
{
	struct msg m;
	struct doctor_srv out[2];
	size_t n = 0;

	begin(&m, "_submissions._tcp.example.com", 33, 2);
	rr_head(&m, 5, 2); /* a CNAME: pointer to example.com */
	put16(&m, EXAMPLE_PTR);
	srv(&m, 0, 0, 587, "mail");
	CHECK_INT(doctor_discover_parse_srv(m.b, m.n, out, 2, &n), 0);
	CHECK_INT(n, 1);
	CHECK_STR(out[0].target, "mail.example.com");
	CHECK_INT(out[0].port, 587);
}

TEST(test_srv_keeps_at_most_max)
{
	struct msg m;
	struct doctor_srv out[2];
	size_t n = 0;

	begin(&m, "_submissions._tcp.example.com", 33, 3);
	srv(&m, 3, 0, 465, "c");
	srv(&m, 2, 0, 465, "b");
	srv(&m, 1, 0, 465, "a");
	CHECK_INT(doctor_discover_parse_srv(m.b, m.n, out, 2, &n), 0);
	CHECK_INT(n, 2);
	CHECK_STR(out[0].target, "b.example.com");
}

static void mx(struct msg *m, unsigned pref, const char *label)
{
	size_t l = strlen(label);

	rr_head(m, 15, (unsigned)(2 + (l ? 1 + l + 2 : 1)));
	put16(m, pref);
	if (l) {
		unsigned char len = (unsigned char)l;
		put(m, &len, 1);
		put(m, label, l);
		put16(m, 0xC00C);
	} else {
		put(m, "", 1);
	}
}

TEST(test_mx_sorted_by_preference)
{
	struct msg m;
	struct doctor_mx out[4];
	size_t n = 0;

	begin(&m, "example.com", 15, 2);
	mx(&m, 20, "mx2");
	mx(&m, 10, "mx1");
	CHECK_INT(doctor_discover_parse_mx(m.b, m.n, out, 4, &n), 0);
	CHECK_INT(n, 2);
	CHECK_STR(out[0].host, "mx1.example.com");
	CHECK_INT(out[0].pref, 10);
	CHECK_STR(out[1].host, "mx2.example.com");
}

TEST(test_mx_null_mx_is_no_host)
{
	struct msg m;
	struct doctor_mx out[4];
	size_t n = 9;

	begin(&m, "example.com", 15, 1);
	mx(&m, 0, "");
	CHECK_INT(doctor_discover_parse_mx(m.b, m.n, out, 4, &n), 0);
	CHECK_INT(n, 0);
}

TEST(test_dns_refuses_every_truncation)
{
	struct msg m;
	struct doctor_srv out[4];
	size_t n, len, refused = 0;

	begin(&m, "_submissions._tcp.example.com", 33, 2);
	srv(&m, 0, 1, 465, "a");
	srv(&m, 1, 1, 587, "b");
	for (len = 0; len < m.n; len++)
		if (doctor_discover_parse_srv(m.b, len, out, 4, &n) < 0)
			refused++;
	CHECK_INT(refused, m.n);
	CHECK_INT(doctor_discover_parse_srv(m.b, m.n, out, 4, &n), 0);
}

TEST(test_dns_refuses_a_pointer_loop)
{
	struct msg m;
	struct doctor_mx out[2];
	size_t n;

	begin(&m, "example.com", 15, 1);
	rr_head(&m, 15, 4);
	put16(&m, 10);
	put16(&m, (unsigned)(0xC000 | (m.n))); /* points at itself */
	CHECK_INT(doctor_discover_parse_mx(m.b, m.n, out, 2, &n), -1);
}

TEST(test_domain_in_matches_whole_words_in_any_case)
{
	CHECK(doctor_discover_domain_in("gmail.com", "gmail.com googlemail.com"));
	CHECK(doctor_discover_domain_in("GoogleMail.COM", "gmail.com googlemail.com"));
	CHECK(!doctor_discover_domain_in("mail.com", "gmail.com googlemail.com"));
	CHECK(!doctor_discover_domain_in("gmail", "gmail.com"));
	CHECK(doctor_discover_domain_in("b.jp", "a.jp,b.jp"));
	CHECK(!doctor_discover_domain_in("", "a.jp"));
}

TEST(test_discover_uses_a_host_as_given)
{
	struct doctor_discovery d;
	struct cl_err e;

	CHECK_INT(doctor_discover("smtp.example.net", 0, &d, &e), 0);
	CHECK_STR(d.method, "given");
	CHECK_STR(d.host, "smtp.example.net");
	CHECK_STR(d.address, "");
	CHECK_INT(doctor_discover("bad host", 0, &d, &e), -1);
	CHECK_INT(e.cls, CL_EUSAGE);
	CHECK_INT(doctor_discover("@example.net", 0, &d, &e), -1);
	CHECK_INT(e.cls, CL_EUSAGE);
	CHECK_INT(doctor_discover("", 0, &d, &e), -1);
}

int main(void)
{
	RUN(test_srv_sorted_by_priority_then_weight);
	RUN(test_srv_root_target_means_not_offered);
	RUN(test_srv_skips_other_record_types);
	RUN(test_srv_keeps_at_most_max);
	RUN(test_mx_sorted_by_preference);
	RUN(test_mx_null_mx_is_no_host);
	RUN(test_dns_refuses_every_truncation);
	RUN(test_dns_refuses_a_pointer_loop);
	RUN(test_domain_in_matches_whole_words_in_any_case);
	RUN(test_discover_uses_a_host_as_given);
	CHECK_DONE();
}
