/* test_relay.c - the relay agent's pure parts: the retry schedule, the
 * relay directives of clsmtpd.conf and their checks, durations, the
 * smarthost password (file permissions, passwordeval), the MX answer
 * parser and the address answers on crafted DNS packets (no network), the
 * MX hosts kept for their addresses, and the loop check of RFC 5321 5.1
 * (preferences, names, listener addresses). */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "testutil.h"
#include "relay.h"
#include "relay_conf.h"
#include "relay_mx.h"
#include "server.h"

/* main.c (not linked into server unit tests) defines it for peer.c;
 * weak, so that a real one linked in later wins. */
static const char *directive(struct relay_conf *rc, const char *line, int *known)
{
	static char buf[512];
	char *w[16], *save, *t;
	size_t n = 0;
	const char *msg = NULL;

	snprintf(buf, sizeof(buf), "%s", line);
	for (t = strtok_r(buf, " ", &save); t && n < 16; t = strtok_r(NULL, " ", &save))
		w[n++] = t;
	*known = relay_conf_directive(rc, w, n, 7, &msg);
	return msg;
}

TEST(test_backoff_doubles_from_retry_min_up_to_retry_max)
{
	struct relay_conf rc;

	relay_conf_init(&rc);
	CHECK_INT(relay_backoff(&rc, 1), 300);
	CHECK_INT(relay_backoff(&rc, 2), 600);
	CHECK_INT(relay_backoff(&rc, 3), 1200);
	CHECK_INT(relay_backoff(&rc, 6), 9600);
	CHECK_INT(relay_backoff(&rc, 7), 14400);
	CHECK_INT(relay_backoff(&rc, 1000000), 14400);
	rc.retry_min = 1;
	rc.retry_max = 30 * 86400;
	CHECK_INT(relay_backoff(&rc, 200), 30 * 86400); /* no overflow */
	relay_conf_free(&rc);
}

TEST(test_duration_accepts_units_and_refuses_the_rest)
{
	char s[32];

	CHECK_INT(relay_conf_duration("300"), 300);
	CHECK_INT(relay_conf_duration("90s"), 90);
	CHECK_INT(relay_conf_duration("5m"), 300);
	CHECK_INT(relay_conf_duration("4h"), 14400);
	CHECK_INT(relay_conf_duration("5d"), 432000);
	CHECK_INT(relay_conf_duration("5w"), -1);
	CHECK_INT(relay_conf_duration("5dd"), -1);
	CHECK_INT(relay_conf_duration("-1"), -1);
	CHECK_INT(relay_conf_duration("d"), -1);
	CHECK_INT(relay_conf_duration(""), -1);
	CHECK_INT(relay_conf_duration("99999999999999999999"), -1);
	relay_conf_duration_str(432000, s, sizeof(s));
	CHECK_STR(s, "5d");
	relay_conf_duration_str(90, s, sizeof(s));
	CHECK_STR(s, "90s");
	relay_conf_duration_str(7200, s, sizeof(s));
	CHECK_STR(s, "2h");
}

TEST(test_defaults_are_the_documented_ones)
{
	struct relay_conf rc;

	relay_conf_init(&rc);
	CHECK_INT(rc.mode, RELAY_MODE_SMARTHOST);
	CHECK_INT(rc.certcheck, 1);
	CHECK_INT(rc.retry_min, 300);
	CHECK_INT(rc.retry_max, 4 * 3600);
	CHECK_INT(rc.lifetime, 5 * 86400);
	CHECK_INT(rc.mx_tls, RELAY_MX_TLS_MAY);
	CHECK(rc.host == NULL);
	relay_conf_free(&rc);
}

TEST(test_smarthost_directive_parses_host_and_port)
{
	struct relay_conf rc;
	int known;

	relay_conf_init(&rc);
	CHECK(directive(&rc, "smarthost smtp.isp.example", &known) == NULL && known);
	CHECK_STR(rc.host, "smtp.isp.example");
	CHECK_STR(rc.port, "587");
	CHECK(directive(&rc, "smarthost smtp.isp.example:465", &known) == NULL);
	CHECK_STR(rc.port, "465");
	CHECK(directive(&rc, "smarthost [::1]:2525", &known) == NULL);
	CHECK_STR(rc.host, "::1");
	CHECK_STR(rc.port, "2525");
	CHECK(directive(&rc, "smarthost ::1", &known) != NULL);
	CHECK(directive(&rc, "smarthost host:0", &known) != NULL);
	CHECK(directive(&rc, "smarthost host:99999", &known) != NULL);
	CHECK(directive(&rc, "smarthost []:25", &known) != NULL);
	CHECK(directive(&rc, "smarthost a b", &known) != NULL);
	relay_conf_free(&rc);
}

TEST(test_relay_directives_check_their_values)
{
	struct relay_conf rc;
	int known;

	relay_conf_init(&rc);
	CHECK(directive(&rc, "relay_mode mx", &known) == NULL && rc.mode == RELAY_MODE_MX);
	CHECK(directive(&rc, "relay_mode direct", &known) != NULL && known);
	CHECK(directive(&rc, "smarthost_tls smtps", &known) == NULL && rc.tls == RELAY_TLS_SMTPS);
	CHECK(directive(&rc, "smarthost_tls ssl", &known) != NULL);
	CHECK(directive(&rc, "smarthost_certcheck no", &known) == NULL && rc.certcheck == 0);
	CHECK(directive(&rc, "smarthost_certcheck off", &known) != NULL);
	CHECK(directive(&rc, "smarthost_password_file relative/path", &known) != NULL);
	CHECK(directive(&rc, "smarthost_fingerprint AB:CD:zz", &known) != NULL);
	CHECK(directive(&rc, "retry_min 0", &known) != NULL);
	CHECK(directive(&rc, "retry_max 31d", &known) != NULL);
	CHECK(directive(&rc, "queue_lifetime 5d", &known) == NULL && rc.lifetime == 432000);
	CHECK(directive(&rc, "queue_lifetime 61d", &known) != NULL);
	CHECK(directive(&rc, "route example.test 127.0.0.1:2525", &known) == NULL);
	CHECK(relay_conf_route(&rc, "EXAMPLE.test") != NULL);
	CHECK_STR(relay_conf_route(&rc, "example.test")->port, "2525");
	CHECK(relay_conf_route(&rc, "other.test") == NULL);
	CHECK(directive(&rc, "route user@example.test host", &known) != NULL);
	CHECK(directive(&rc, "smarthost_passwordeval pass show isp smtp", &known) == NULL);
	CHECK_STR(rc.passwordeval, "pass show isp smtp");
	CHECK(directive(&rc, "listen 127.0.0.1:25 plain", &known) == NULL && known == 0);
	relay_conf_free(&rc);
}

TEST(test_check_wants_a_password_source_with_a_user)
{
	struct relay_conf rc;
	int known, line;

	relay_conf_init(&rc);
	directive(&rc, "smarthost smtp.isp.example:465", &known);
	directive(&rc, "smarthost_user taro", &known);
	CHECK(relay_conf_check(&rc, &line) != NULL);
	CHECK_INT(line, 7);
	directive(&rc, "smarthost_password_file /etc/clsmtpd/isp.secret", &known);
	CHECK(relay_conf_check(&rc, &line) == NULL);
	directive(&rc, "smarthost_passwordeval cat /x", &known);
	CHECK(relay_conf_check(&rc, &line) != NULL); /* both */
	relay_conf_free(&rc);
	relay_conf_init(&rc);
	directive(&rc, "retry_min 1h", &known);
	directive(&rc, "retry_max 10m", &known);
	CHECK(relay_conf_check(&rc, &line) != NULL);
	relay_conf_free(&rc);
}

TEST(test_password_file_must_be_private_and_gives_its_first_line)
{
	struct relay_conf rc;
	struct cl_err err;
	char path[] = "/tmp/test_relay_pw.XXXXXX";
	int fd = mkstemp(path);

	if (fd >= 0)
		close(fd);
	relay_conf_init(&rc);
	rc.password_file = strdup(path);
	test_write_file(NULL, path, "s3cret\r\nsecond line\n", strlen("s3cret\r\nsecond line\n"), 0644);
	CHECK(relay_conf_load_secret(&rc, &err) < 0);
	CHECK(strstr(err.msg, "chmod 600") != NULL);
	test_write_file(NULL, path, "s3cret\r\nsecond line\n", strlen("s3cret\r\nsecond line\n"), 0600);
	CHECK(relay_conf_load_secret(&rc, &err) == 0);
	CHECK_STR(buf_cstr(&rc.password), "s3cret");
	test_write_file(NULL, path, "\n", strlen("\n"), 0600);
	CHECK(relay_conf_load_secret(&rc, &err) < 0);
	unlink(path);
	relay_conf_free(&rc);
}

TEST(test_passwordeval_takes_the_first_line_and_reports_failure)
{
	struct relay_conf rc;
	struct cl_err err;

	relay_conf_init(&rc);
	rc.passwordeval = strdup("printf 'from-a-command\\nrest\\n'");
	CHECK(relay_conf_load_secret(&rc, &err) == 0);
	CHECK_STR(buf_cstr(&rc.password), "from-a-command");
	free(rc.passwordeval);
	rc.passwordeval = strdup("echo oops; exit 3");
	CHECK(relay_conf_load_secret(&rc, &err) < 0);
	CHECK(strstr(err.msg, "exit status 3") != NULL);
	CHECK_INT(rc.password.len, 0);
	relay_conf_free(&rc);
}

/* A DNS answer: header, the question, then the MX records given. */
struct pkt {
	unsigned char b[512];
	size_t n;
};

static void put16(struct pkt *p, unsigned v)
{
	p->b[p->n++] = (unsigned char)(v >> 8);
	p->b[p->n++] = (unsigned char)v;
}

static void put_name(struct pkt *p, const char *name)
{
	while (*name) {
		size_t l = strcspn(name, ".");
		p->b[p->n++] = (unsigned char)l;
		memcpy(p->b + p->n, name, l);
		p->n += l;
		name += l + (name[l] == '.');
	}
	p->b[p->n++] = 0;
}

static void dns_answer(struct pkt *p, unsigned nanswers)
{
	memset(p, 0, sizeof(*p));
	put16(p, 0x1234);
	put16(p, 0x8180);
	put16(p, 1);
	put16(p, nanswers);
	put16(p, 0);
	put16(p, 0);
	put_name(p, "example.test");
	put16(p, 15);
	put16(p, 1);
}

static void dns_mx(struct pkt *p, unsigned pref, const char *host)
{
	size_t rdlen_at;

	put16(p, 0xc00c); /* the question's name */
	put16(p, 15);
	put16(p, 1);
	put16(p, 0);
	put16(p, 300);
	rdlen_at = p->n;
	put16(p, 0);
	put16(p, pref);
	put_name(p, host);
	p->b[rdlen_at] = (unsigned char)((p->n - rdlen_at - 2) >> 8);
	p->b[rdlen_at + 1] = (unsigned char)(p->n - rdlen_at - 2);
}

TEST(test_mx_parse_sorts_by_preference)
{
	struct pkt p;
	struct relay_mx mx[RELAY_MX_MAX];
	size_t n;

	dns_answer(&p, 3);
	dns_mx(&p, 20, "b.example.test");
	dns_mx(&p, 10, "a.example.test");
	dns_mx(&p, 20, "aa.example.test");
	CHECK_INT(relay_mx_parse(p.b, p.n, mx, RELAY_MX_MAX, &n), 0);
	CHECK_INT(n, 3);
	CHECK_STR(mx[0].host, "a.example.test");
	CHECK_INT(mx[0].pref, 10);
	CHECK_STR(mx[1].host, "aa.example.test");
	CHECK_STR(mx[2].host, "b.example.test");
}

TEST(test_mx_parse_recognises_null_mx_and_bad_packets)
{
	struct pkt p;
	struct relay_mx mx[RELAY_MX_MAX];
	size_t n;

	dns_answer(&p, 1);
	dns_mx(&p, 0, "");
	CHECK_INT(relay_mx_parse(p.b, p.n, mx, RELAY_MX_MAX, &n), 1);
	dns_answer(&p, 1);
	dns_mx(&p, 10, "mx.example.test");
	CHECK_INT(relay_mx_parse(p.b, p.n - 5, mx, RELAY_MX_MAX, &n), -1);
	CHECK_INT(relay_mx_parse(p.b, 5, mx, RELAY_MX_MAX, &n), -1);
	dns_answer(&p, 0);
	CHECK_INT(relay_mx_parse(p.b, p.n, mx, RELAY_MX_MAX, &n), 0);
	CHECK_INT(n, 0);
}

TEST(test_mx_parse_keeps_the_best_max_hosts)
{
	struct pkt p;
	struct relay_mx mx[2];
	size_t n;

	dns_answer(&p, 3);
	dns_mx(&p, 30, "c.example.test");
	dns_mx(&p, 10, "a.example.test");
	dns_mx(&p, 20, "b.example.test");
	CHECK_INT(relay_mx_parse(p.b, p.n, mx, 2, &n), 0);
	CHECK_INT(n, 2);
	CHECK_STR(mx[0].host, "a.example.test");
	CHECK_STR(mx[1].host, "b.example.test");
}

/* An answer to a query of qtype for example.test, its records to follow. */
static void dns_answer_for(struct pkt *p, unsigned qtype, unsigned rcode, unsigned nanswers)
{
	dns_answer(p, nanswers);
	p->b[3] = (unsigned char)(0x80 | rcode);
	p->b[p->n - 4] = (unsigned char)(qtype >> 8);
	p->b[p->n - 3] = (unsigned char)qtype;
}

static void dns_rr(struct pkt *p, unsigned type, const void *rdata, size_t rdlen)
{
	put16(p, 0xc00c);
	put16(p, type);
	put16(p, 1);
	put16(p, 0);
	put16(p, 300);
	put16(p, (unsigned)rdlen);
	memcpy(p->b + p->n, rdata, rdlen);
	p->n += rdlen;
}

TEST(test_addr_answer_tells_an_address_from_none_and_from_no_answer)
{
	static const unsigned char v4[4] = {192, 0, 2, 1}, v6[16] = {0x20, 0x01, 0x0d, 0xb8};
	/* "target.example.test", a CNAME's data. */
	static const unsigned char cname[] = "\006target\007example\004test";
	struct pkt p;

	dns_answer_for(&p, ns_t_a, ns_r_noerror, 1);
	dns_rr(&p, ns_t_a, v4, sizeof(v4));
	CHECK_INT(relay_mx_addr_answer(p.b, (int)p.n, 0, ns_t_a), 1);
	dns_answer_for(&p, ns_t_aaaa, ns_r_noerror, 1);
	dns_rr(&p, ns_t_aaaa, v6, sizeof(v6));
	CHECK_INT(relay_mx_addr_answer(p.b, (int)p.n, 0, ns_t_aaaa), 1);
	/* A CNAME to a name without the address: none. */
	dns_answer_for(&p, ns_t_a, ns_r_noerror, 1);
	dns_rr(&p, ns_t_cname, cname, sizeof(cname));
	CHECK_INT(relay_mx_addr_answer(p.b, (int)p.n, 0, ns_t_a), 0);
	/* Records of another type, or of the wrong size, are not it. */
	dns_answer_for(&p, ns_t_aaaa, ns_r_noerror, 1);
	dns_rr(&p, ns_t_a, v4, sizeof(v4));
	CHECK_INT(relay_mx_addr_answer(p.b, (int)p.n, 0, ns_t_aaaa), 0);
	dns_answer_for(&p, ns_t_a, ns_r_noerror, 1);
	dns_rr(&p, ns_t_a, v6, sizeof(v6));
	CHECK_INT(relay_mx_addr_answer(p.b, (int)p.n, 0, ns_t_a), 0);
	/* What res_nquery says without an answer: NXDOMAIN and NODATA are
	 * the DNS's word, the rest (SERVFAIL, a timeout, REFUSED) is not. */
	CHECK_INT(relay_mx_addr_answer(p.b, -1, HOST_NOT_FOUND, ns_t_a), 0);
	CHECK_INT(relay_mx_addr_answer(p.b, -1, NO_DATA, ns_t_a), 0);
	CHECK_INT(relay_mx_addr_answer(p.b, -1, TRY_AGAIN, ns_t_a), -1);
	CHECK_INT(relay_mx_addr_answer(p.b, -1, NO_RECOVERY, ns_t_a), -1);
	CHECK_INT(relay_mx_addr_answer(p.b, -1, NETDB_INTERNAL, ns_t_a), -1);
	/* An answer's own rcode. */
	dns_answer_for(&p, ns_t_a, ns_r_servfail, 0);
	CHECK_INT(relay_mx_addr_answer(p.b, (int)p.n, 0, ns_t_a), -1);
	dns_answer_for(&p, ns_t_a, ns_r_nxdomain, 0);
	CHECK_INT(relay_mx_addr_answer(p.b, (int)p.n, 0, ns_t_a), 0);
	dns_answer_for(&p, ns_t_a, ns_r_noerror, 0);
	CHECK_INT(relay_mx_addr_answer(p.b, (int)p.n, 0, ns_t_a), 0);
	/* Cut short: malformed, no word. */
	dns_answer_for(&p, ns_t_a, ns_r_noerror, 1);
	dns_rr(&p, ns_t_a, v4, sizeof(v4));
	CHECK_INT(relay_mx_addr_answer(p.b, (int)p.n - 2, 0, ns_t_a), -1);
	CHECK_INT(relay_mx_addr_answer(p.b, 5, 0, ns_t_a), -1);
}

static void mx_set(struct relay_mx *mx, size_t i, int pref, const char *host)
{
	mx[i].pref = pref;
	snprintf(mx[i].host, sizeof(mx[i].host), "%s", host);
}

TEST(test_below_self_keeps_only_hosts_strictly_preferred_to_the_local_host)
{
	struct relay_mx mx[4];
	unsigned char self[4];

	mx_set(mx, 0, 10, "a");
	mx_set(mx, 1, 20, "b");
	mx_set(mx, 2, 20, "c");
	mx_set(mx, 3, 30, "d");
	memset(self, 0, sizeof(self));
	CHECK_INT(relay_mx_below_self(mx, 4, self), 4); /* not among them */
	self[3] = 1;
	CHECK_INT(relay_mx_below_self(mx, 4, self), 3);
	/* An equal preference is not better: b goes with c. */
	memset(self, 0, sizeof(self));
	self[2] = 1;
	CHECK_INT(relay_mx_below_self(mx, 4, self), 1);
	self[1] = 1;
	CHECK_INT(relay_mx_below_self(mx, 4, self), 1);
	/* The local host the best: the mail would loop. */
	memset(self, 0, sizeof(self));
	self[0] = 1;
	CHECK_INT(relay_mx_below_self(mx, 4, self), 0);
	mx_set(mx, 1, 10, "b");
	memset(self, 0, sizeof(self));
	self[1] = 1;
	CHECK_INT(relay_mx_below_self(mx, 4, self), 0);
	CHECK_INT(relay_mx_below_self(mx, 0, self), 0);
}

TEST(test_addressed_bounces_5_4_4_when_no_mx_host_has_an_address)
{
	struct relay_mx mx[3];
	int addr[3] = {0, 0, 0};
	struct cl_err err;
	size_t kept = 99;

	mx_set(mx, 0, 10, "a.example.test");
	mx_set(mx, 1, 20, "b.example.test");
	mx_set(mx, 2, 30, "c.example.test");
	err_clear(&err);
	CHECK_INT(relay_mx_addressed(mx, addr, 3, RELAY_MX_MAX, "example.test", &kept, &err), -1);
	CHECK_INT(kept, 0);
	CHECK_INT(err.cls, CL_ENOHOST);
	/* The leading code is the notice's Status (dsn_status). */
	CHECK_STR(err.msg, "5.4.4 DNS: no MX host of example.test has an address");
}

TEST(test_addressed_defers_4_4_3_when_a_lookup_did_not_answer)
{
	struct relay_mx mx[3];
	int addr[3] = {0, -1, 0};
	struct cl_err err;
	size_t kept = 99;

	mx_set(mx, 0, 10, "a.example.test");
	mx_set(mx, 1, 20, "b.example.test");
	mx_set(mx, 2, 30, "c.example.test");
	err_clear(&err);
	CHECK_INT(relay_mx_addressed(mx, addr, 3, RELAY_MX_MAX, "example.test", &kept, &err), -1);
	CHECK_INT(kept, 0);
	CHECK_INT(err.cls, CL_ETEMP);
	CHECK_STR(err.msg, "4.4.3 DNS: no answer for the address of b.example.test, MX of "
	                   "example.test");
}

TEST(test_addressed_keeps_the_hosts_with_an_address_in_order)
{
	struct relay_mx mx[5];
	int addr[5] = {0, 1, -1, 1, 1};
	struct cl_err err;
	size_t kept = 99;

	mx_set(mx, 0, 10, "none");
	mx_set(mx, 1, 20, "first");
	mx_set(mx, 2, 20, "temp");
	mx_set(mx, 3, 30, "second");
	mx_set(mx, 4, 40, "third");
	err_clear(&err);
	CHECK_INT(relay_mx_addressed(mx, addr, 5, 2, "example.test", &kept, &err), 0);
	CHECK_INT(kept, 2);
	CHECK_STR(mx[0].host, "first");
	CHECK_INT(mx[0].pref, 20);
	CHECK_STR(mx[1].host, "second");
	CHECK_INT(mx[1].pref, 30);
	CHECK_INT(err.cls, CL_OK);
	/* No host at all is no host with an address. */
	CHECK_INT(relay_mx_addressed(mx, addr, 0, 2, "example.test", &kept, &err), -1);
	CHECK_INT(kept, 0);
	CHECK_INT(err.cls, CL_ENOHOST);
}

TEST(test_name_is_self_ignores_case_and_a_final_dot)
{
	struct relay_mx_self me = {"mx.example.test", NULL, 0};

	CHECK_INT(relay_mx_name_is_self(&me, "mx.example.test"), 1);
	CHECK_INT(relay_mx_name_is_self(&me, "MX.Example.TEST."), 1);
	CHECK_INT(relay_mx_name_is_self(&me, "mx.example.tes"), 0);
	CHECK_INT(relay_mx_name_is_self(&me, "mx.example.test.org"), 0);
	CHECK_INT(relay_mx_name_is_self(&me, "x.mx.example.test"), 0);
	CHECK_INT(relay_mx_name_is_self(&me, ""), 0);
	me.hostname = "mx.example.test.";
	CHECK_INT(relay_mx_name_is_self(&me, "mx.example.test"), 1);
	me.hostname = NULL;
	CHECK_INT(relay_mx_name_is_self(&me, "mx.example.test"), 0);
}

/* An address as getaddrinfo would give it. */
static int self_addr(const struct relay_mx_self *me, const char *addr)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *in = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, addr, &in->sin_addr) == 1)
		in->sin_family = AF_INET;
	else if (inet_pton(AF_INET6, addr, &in6->sin6_addr) == 1)
		in6->sin6_family = AF_INET6;
	else
		return -1;
	return relay_mx_addr_is_self(me, &ss);
}

TEST(test_addr_is_self_compares_with_the_listen_addresses)
{
	static const char *const listen[] = {"127.0.0.1", "::1", "192.0.2.7"};
	struct relay_mx_self me = {"mx.example.test", listen, 3};

	CHECK_INT(self_addr(&me, "127.0.0.1"), 1);
	CHECK_INT(self_addr(&me, "::1"), 1);
	CHECK_INT(self_addr(&me, "192.0.2.7"), 1);
	CHECK_INT(self_addr(&me, "::ffff:127.0.0.1"), 1); /* the same IPv4 address */
	CHECK_INT(self_addr(&me, "::ffff:192.0.2.7"), 1);
	CHECK_INT(self_addr(&me, "127.0.0.2"), 0); /* not bound: another server */
	CHECK_INT(self_addr(&me, "192.0.2.8"), 0);
	CHECK_INT(self_addr(&me, "2001:db8::7"), 0);
	CHECK_INT(self_addr(&me, "::2"), 0);
	/* A connection to the unspecified address reaches this machine. */
	CHECK_INT(self_addr(&me, "0.0.0.0"), 1);
	CHECK_INT(self_addr(&me, "::"), 1);
	me.nlisten = 1;
	CHECK_INT(self_addr(&me, "::1"), 0);
}

TEST(test_addr_is_self_with_a_wildcard_listener_means_any_local_address)
{
	static const char *const star[] = {"*"}, *const zero4[] = {"0.0.0.0"},
	                         *const zero6[] = {"::"};
	struct relay_mx_self me = {NULL, star, 1};
	struct ifaddrs *ifs, *i;
	char a[INET6_ADDRSTRLEN], lo8[INET_ADDRSTRLEN] = "";
	int found = 0;

	/* 192.0.2.0/24 (RFC 5737) is on no interface of a test machine. */
	CHECK_INT(self_addr(&me, "192.0.2.1"), 0);
	CHECK_INT(self_addr(&me, "2001:db8::1"), 0);
	/* Every address of every interface, as getifaddrs lists them. */
	CHECK(getifaddrs(&ifs) == 0);
	for (i = ifs; i != NULL; i = i->ifa_next) {
		if (i->ifa_addr == NULL || i->ifa_addr->sa_family != AF_INET)
			continue;
		inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr, a,
		          sizeof(a));
		me.listen = star;
		CHECK_INT(self_addr(&me, a), 1);
		me.listen = zero4;
		CHECK_INT(self_addr(&me, a), 1);
		me.listen = zero6;
		CHECK_INT(self_addr(&me, a), 1);
		if ((i->ifa_flags & IFF_LOOPBACK) && strcmp(a, "127.0.0.1") == 0)
			snprintf(lo8, sizeof(lo8), "127.0.0.9");
		found++;
	}
	freeifaddrs(ifs);
	CHECK(found > 0);
	/* All of 127.0.0.0/8 is answered on lo, not only its 127.0.0.1. */
	me.listen = star;
	if (lo8[0])
		CHECK_INT(self_addr(&me, lo8), 1);
}

struct scan_count {
	struct spool *sp;
	int outer, inner;
};

static int scan_inner(void *arg, const char *qid)
{
	struct scan_count *c = arg;
	(void)qid;
	c->inner++;
	return 0;
}

static int scan_outer(void *arg, const char *qid)
{
	struct scan_count *c = arg;
	struct cl_err err;
	(void)qid;
	/* The other agent scans meanwhile (here: with the same handle). */
	if (c->outer++ == 0)
		spool_scan(c->sp, scan_inner, c, &err);
	return 0;
}

TEST(test_two_agents_scanning_at_once_see_every_message)
{
	char dir[] = "/tmp/test_relay_spool.XXXXXX", path[256], cmd[128];
	struct spool *sp;
	struct cl_err err;
	struct scan_count c = {NULL, 0, 0};
	int i, n = 1500; /* more than one getdents buffer of names */

	CHECK(mkdtemp(dir) != NULL);
	CHECK(spool_open(&sp, dir, &err) == 0);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/msg/6B0449B1D4E59%07X", dir, (unsigned)i);
		close(open(path, O_CREAT | O_WRONLY, 0600));
	}
	c.sp = sp;
	spool_scan(sp, scan_outer, &c, &err);
	CHECK_INT(c.outer, n);
	CHECK_INT(c.inner, n);
	spool_close(sp);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK(system(cmd) == 0);
}

int main(void)
{
	RUN(test_backoff_doubles_from_retry_min_up_to_retry_max);
	RUN(test_duration_accepts_units_and_refuses_the_rest);
	RUN(test_defaults_are_the_documented_ones);
	RUN(test_smarthost_directive_parses_host_and_port);
	RUN(test_relay_directives_check_their_values);
	RUN(test_check_wants_a_password_source_with_a_user);
	RUN(test_password_file_must_be_private_and_gives_its_first_line);
	RUN(test_passwordeval_takes_the_first_line_and_reports_failure);
	RUN(test_mx_parse_sorts_by_preference);
	RUN(test_mx_parse_recognises_null_mx_and_bad_packets);
	RUN(test_mx_parse_keeps_the_best_max_hosts);
	RUN(test_addr_answer_tells_an_address_from_none_and_from_no_answer);
	RUN(test_below_self_keeps_only_hosts_strictly_preferred_to_the_local_host);
	RUN(test_addressed_bounces_5_4_4_when_no_mx_host_has_an_address);
	RUN(test_addressed_defers_4_4_3_when_a_lookup_did_not_answer);
	RUN(test_addressed_keeps_the_hosts_with_an_address_in_order);
	RUN(test_name_is_self_ignores_case_and_a_final_dot);
	RUN(test_addr_is_self_compares_with_the_listen_addresses);
	RUN(test_addr_is_self_with_a_wildcard_listener_means_any_local_address);
	RUN(test_two_agents_scanning_at_once_see_every_message);
	CHECK_DONE();
}
