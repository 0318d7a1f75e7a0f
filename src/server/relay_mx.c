/*
 * relay_mx.c - MX lookup for direct delivery (relay_mx.h). The answer is
 * walked here with dn_expand (as src/client/doctor_discover.c does) so the
 * parser can be tested on crafted packets without any network. Each MX
 * host is resolved as the client engine will (conn_resolve): hosts without
 * an address are dropped, and the loop check compares the addresses with
 * clsmtpd's listeners. Error texts begin with their RFC 3463 status
 * ("5.1.10 ..."), the code a notice gives.
 */
#include "relay_mx.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <ifaddrs.h>
#include <idn2.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "dnsmsg.h"
#include "net/conn.h"

/* One try of 5 s, twice: the relay agent will simply come back later. */
#define RELAY_MX_RETRANS_S 5
#define RELAY_MX_TRIES     2
/* Records looked at in one answer (a real MX set has a handful). */
#define RELAY_MX_PARSE_MAX 32
/* The port for the address lookups (it does not change the answer). */
#define RELAY_MX_PORT "25"

/* A failure of ours with its RFC 3463 status: the message starts with it
 * (what people read) and err->enh holds it (what the notice reads). */
static int relay_mx_fail(struct cl_err *err, enum cl_errclass cls, const char *status,
                         const char *fmt, ...) BUF_PRINTF(4, 5);

static int relay_mx_fail(struct cl_err *err, enum cl_errclass cls, const char *status,
                         const char *fmt, ...)
{
	struct buf b = BUF_INIT(4 * CL_ERR_MSG_MAX);
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	err_set(err, cls, "%s %s", status, buf_cstr(&b));
	buf_free(&b);
	return err_reply(err, CL_STAGE_NONE, 0, status, NULL);
}

static int relay_mx_cmp(const void *x, const void *y)
{
	const struct relay_mx *a = x, *b = y;

	if (a->pref != b->pref)
		return a->pref < b->pref ? -1 : 1;
	return strcmp(a->host, b->host);
}

int relay_mx_parse(const unsigned char *msg, size_t len, struct relay_mx *out, size_t max,
                   size_t *n)
{
	struct dns_walk w;
	struct relay_mx all[RELAY_MX_PARSE_MAX];
	const unsigned char *rd;
	size_t nall = 0;
	unsigned type, rdlen;
	int null_mx = 0, r;

	*n = 0;
	if (dns_walk_init(&w, msg, len) < 0)
		return -1;
	while ((r = dns_walk_next(&w, &type, &rd, &rdlen)) > 0) {
		struct relay_mx m;
		if (type != ns_t_mx)
			continue;
		if (rdlen < 3 || dn_expand(msg, msg + len, rd + 2, m.host, sizeof(m.host)) < 0)
			return -1;
		m.pref = (int)dns_get16(rd);
		if (m.host[0] == '\0' || strcmp(m.host, ".") == 0)
			null_mx = 1;
		else if (nall < RELAY_MX_PARSE_MAX)
			all[nall++] = m;
	}
	if (r < 0)
		return -1;
	if (null_mx && nall == 0)
		return 1;
	/* The best max of them, not the first max. */
	qsort(all, nall, sizeof(*all), relay_mx_cmp);
	*n = nall < max ? nall : max;
	memcpy(out, all, *n * sizeof(*out));
	return 0;
}

int relay_mx_addr_answer(const unsigned char *msg, int len, int herr, unsigned type)
{
	struct dns_walk w;
	const unsigned char *rd;
	unsigned t, rdlen, want = type == ns_t_a ? 4 : 16;
	int r;

	/* NXDOMAIN and NODATA are the DNS's word; the rest is no word. */
	if (len < 0)
		return herr == HOST_NOT_FOUND || herr == NO_DATA ? 0 : -1;
	if (dns_walk_init(&w, msg, (size_t)len) < 0)
		return -1;
	switch (msg[3] & 0x0f) {
	case ns_r_noerror:
		break;
	case ns_r_nxdomain:
		return 0;
	default:
		return -1;
	}
	while ((r = dns_walk_next(&w, &t, &rd, &rdlen)) > 0)
		if (t == type && rdlen == want)
			return 1;
	return r < 0 ? -1 : 0;
}

size_t relay_mx_below_self(const struct relay_mx *mx, size_t n, const unsigned char *self)
{
	size_t i, k;

	for (i = 0; i < n && !self[i]; i++) {
	}
	if (i == n)
		return n;
	for (k = 0; k < n && mx[k].pref < mx[i].pref; k++) {
	}
	return k;
}

int relay_mx_name_is_self(const struct relay_mx_self *self, const char *host)
{
	size_t a, b;

	if (self->hostname == NULL || *self->hostname == '\0')
		return 0;
	a = strlen(self->hostname);
	b = strlen(host);
	if (a > 0 && self->hostname[a - 1] == '.')
		a--;
	if (b > 0 && host[b - 1] == '.')
		b--;
	return a == b && strncasecmp(self->hostname, host, a) == 0;
}

/* An address to compare: IPv4-mapped IPv6 is its IPv4 address (a connection
 * to ::ffff:127.0.0.1 reaches 127.0.0.1). */
struct relay_mx_ip {
	int family;
	unsigned char a[16];
};

static int relay_mx_ip_of(const struct sockaddr *sa, struct relay_mx_ip *ip)
{
	memset(ip, 0, sizeof(*ip));
	if (sa->sa_family == AF_INET) {
		ip->family = AF_INET;
		memcpy(ip->a, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family != AF_INET6)
		return -1;
	{
		const struct in6_addr *a6 =
		    &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
		if (IN6_IS_ADDR_V4MAPPED(a6)) {
			ip->family = AF_INET;
			memcpy(ip->a, a6->s6_addr + 12, 4);
		} else {
			ip->family = AF_INET6;
			memcpy(ip->a, a6->s6_addr, 16);
		}
	}
	return 0;
}

static size_t relay_mx_ip_len(const struct relay_mx_ip *ip)
{
	return ip->family == AF_INET ? 4 : 16;
}

/* Is ip within mask of net (both of ip's family)? */
static int relay_mx_ip_within(const struct relay_mx_ip *ip, const struct relay_mx_ip *net,
                              const struct relay_mx_ip *mask)
{
	size_t i;

	for (i = 0; i < relay_mx_ip_len(ip); i++)
		if ((ip->a[i] & mask->a[i]) != (net->a[i] & mask->a[i]))
			return 0;
	return 1;
}

/* A wildcard listener takes connections to every address of this machine:
 * those of its interfaces, and on a loopback interface its whole network
 * (Linux answers all of 127.0.0.0/8 on lo). */
static int relay_mx_ip_is_local(const struct relay_mx_ip *ip)
{
	struct ifaddrs *ifs, *i;
	int r = 0;

	if (getifaddrs(&ifs) < 0)
		return 0;
	for (i = ifs; i != NULL && !r; i = i->ifa_next) {
		struct relay_mx_ip a, m;
		if (i->ifa_addr == NULL || relay_mx_ip_of(i->ifa_addr, &a) < 0 ||
		    a.family != ip->family)
			continue;
		if ((i->ifa_flags & IFF_LOOPBACK) && i->ifa_netmask != NULL &&
		    i->ifa_netmask->sa_family == i->ifa_addr->sa_family &&
		    relay_mx_ip_of(i->ifa_netmask, &m) == 0 && m.family == a.family)
			r = relay_mx_ip_within(ip, &a, &m);
		else
			r = memcmp(ip->a, a.a, relay_mx_ip_len(ip)) == 0;
	}
	freeifaddrs(ifs);
	return r;
}

int relay_mx_addr_is_self(const struct relay_mx_self *self, const void *sa)
{
	static const unsigned char zero[16];
	struct relay_mx_ip ip, l;
	size_t i;

	if (relay_mx_ip_of(sa, &ip) < 0)
		return 0;
	/* A connection to 0.0.0.0 or :: goes to this machine. */
	if (memcmp(ip.a, zero, relay_mx_ip_len(&ip)) == 0)
		return 1;
	for (i = 0; i < self->nlisten; i++) {
		const char *h = self->listen[i];
		memset(&l, 0, sizeof(l));
		if (strcmp(h, "*") == 0)
			l.family = AF_UNSPEC;
		else if (inet_pton(AF_INET, h, l.a) == 1)
			l.family = AF_INET;
		else if (inet_pton(AF_INET6, h, l.a) == 1)
			l.family = AF_INET6;
		else
			continue; /* the listeners are numeric (evloop.c) */
		if (l.family == AF_UNSPEC || memcmp(l.a, zero, sizeof(zero)) == 0) {
			if (relay_mx_ip_is_local(&ip))
				return 1;
		} else if (l.family == ip.family && memcmp(l.a, ip.a, relay_mx_ip_len(&ip)) == 0) {
			return 1;
		}
	}
	return 0;
}

/* Look host up as the client engine will (conn_resolve: getaddrinfo, files
 * then DNS): 1 it has an address, 0 none (no such name, no address record,
 * not a valid IDN), -1 the DNS did not answer. *is_self: host is the local
 * host by name or by one of its addresses (self NULL: never). */
static int relay_mx_probe(const struct relay_mx_self *self, const char *host,
                          unsigned char *is_self)
{
	struct addrinfo *res = NULL, *ai;
	struct cl_err e;

	*is_self = self != NULL && relay_mx_name_is_self(self, host);
	if (*is_self)
		return 1;
	if (conn_resolve(host, RELAY_MX_PORT, AF_UNSPEC, &res, &e) < 0)
		return e.cls == CL_ETEMP ? -1 : 0;
	for (ai = res; self != NULL && ai != NULL && !*is_self; ai = ai->ai_next)
		*is_self = (unsigned char)relay_mx_addr_is_self(self, ai->ai_addr);
	freeaddrinfo(res);
	return 1;
}

int relay_mx_addressed(struct relay_mx *mx, const int *addr, size_t n, size_t max,
                       const char *domain, size_t *kept, struct cl_err *err)
{
	size_t i, k = 0;
	const char *temp = NULL;

	for (i = 0; i < n; i++) {
		if (addr[i] > 0 && k < max)
			mx[k++] = mx[i];
		else if (addr[i] < 0 && temp == NULL)
			temp = mx[i].host;
	}
	*kept = k;
	if (k > 0)
		return 0;
	if (temp != NULL)
		return relay_mx_fail(err, CL_ETEMP,
		               "4.4.3", "DNS: no answer for the address of %s, MX of %s", temp,
		               domain);
	/* RFC 3463 X.4.4 "Unable to route"; Postfix bounces the same way
	 * ("Host or domain name not found"). */
	return relay_mx_fail(err, CL_ENOHOST, "5.4.4", "DNS: no MX host of %s has an address", domain);
}

/* RFC 5321 5.1: hosts of equal preference "MUST" be tried in random
 * order, to spread the load. all[] is sorted by preference. */
static void relay_mx_shuffle(struct relay_mx *all, size_t n)
{
	unsigned seed;
	size_t i, j, k;

	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != (ssize_t)sizeof(seed))
		seed = (unsigned)time(NULL) ^ (unsigned)getpid();
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && all[j].pref == all[i].pref; j++) {
		}
		for (k = j - 1; k > i; k--) {
			size_t r = i + (size_t)rand_r(&seed) % (k - i + 1);
			struct relay_mx t = all[k];
			all[k] = all[r];
			all[r] = t;
		}
	}
}

/* RFC 5321 5.1: without MX, the domain itself is the host, if it has an
 * address. Neither (the name exists, or the DNS said NXDOMAIN now) is as
 * final as NXDOMAIN for the MX (Postfix: "Host or domain name not found");
 * a lookup the DNS did not answer leaves it open. */
static int relay_mx_implicit(res_state st, const char *qname, const char *domain,
                             struct cl_err *err)
{
	static const unsigned types[] = {ns_t_a, ns_t_aaaa};
	unsigned char ans[NS_PACKETSZ * 4];
	size_t i;
	int len, r, temp = 0;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		len = res_nquery(st, qname, ns_c_in, (int)types[i], ans, (int)sizeof(ans));
		if (len > (int)sizeof(ans))
			len = (int)sizeof(ans);
		r = relay_mx_addr_answer(ans, len, st->res_h_errno, types[i]);
		if (r == 1)
			return 0;
		temp |= r < 0;
	}
	if (temp)
		return relay_mx_fail(err, CL_ETEMP, "4.4.3", "DNS: no answer for the address of %s", domain);
	/* RFC 3463 X.1.2: the destination system "does not exist". */
	return relay_mx_fail(err, CL_ENOHOST,
	               "5.1.2", "DNS: the domain %s has neither MX nor address records", domain);
}

int relay_mx_lookup(const char *domain, const struct relay_mx_self *self, struct relay_mx *out,
                    size_t max, size_t *n, struct cl_err *err)
{
	struct __res_state st;
	unsigned char ans[NS_PACKETSZ * 4], me[RELAY_MX_PARSE_MAX];
	struct relay_mx all[RELAY_MX_PARSE_MAX];
	int addr[RELAY_MX_PARSE_MAX];
	const char *qname = domain, *p;
	char *ascii = NULL;
	size_t nall = 0, i, k;
	int len, r, herr, implicit = 0, ret = -1, last = 0;

	*n = 0;
	for (p = domain; *p; p++) {
		if ((unsigned char)*p >= 0x80) {
			/* RFC 5890: the DNS holds a U-label as its A-label (the
			 * UTF-8 name itself would get NXDOMAIN and bounce). */
			r = idn2_to_ascii_8z(domain, &ascii, IDN2_NONTRANSITIONAL);
			if (r != IDN2_OK)
				return relay_mx_fail(err, CL_ENOHOST,
				               "5.1.2", "the domain %s is not a valid IDN: %s", domain,
				               idn2_strerror(r));
			qname = ascii;
			break;
		}
	}
	memset(&st, 0, sizeof(st));
	if (res_ninit(&st) != 0) {
		free(ascii);
		return relay_mx_fail(err, CL_ETEMP, "4.4.3", "DNS: the resolver could not be initialised");
	}
	st.retrans = RELAY_MX_RETRANS_S;
	st.retry = RELAY_MX_TRIES;
	len = res_nquery(&st, qname, ns_c_in, ns_t_mx, ans, (int)sizeof(ans));
	herr = st.res_h_errno;
	/* RFC 3463 X.1.2: "the destination system ... does not exist". */
	if (len < 0 && herr == HOST_NOT_FOUND) {
		relay_mx_fail(err, CL_ENOHOST, "5.1.2", "DNS: the domain %s does not exist", domain);
		goto out;
	}
	if (len < 0 && herr != NO_DATA) {
		relay_mx_fail(err, CL_ETEMP, "4.4.3", "DNS: no answer for the MX of %s", domain);
		goto out;
	}
	r = len < 0
	        ? 0
	        : relay_mx_parse(ans, (size_t)(len > (int)sizeof(ans) ? sizeof(ans) : (size_t)len),
	                         all, RELAY_MX_PARSE_MAX, &nall);
	if (r < 0) {
		relay_mx_fail(err, CL_ETEMP, "4.4.3", "DNS: malformed answer for the MX of %s", domain);
		goto out;
	}
	/* RFC 7505 4.3: X.1.10, "Recipient address has null MX". */
	if (r == 1) {
		relay_mx_fail(err, CL_ENOHOST, "5.1.10", "the domain %s accepts no mail (null MX, RFC 7505)",
		        domain);
		goto out;
	}
	relay_mx_shuffle(all, nall);
	if (nall == 0) {
		if (relay_mx_implicit(&st, qname, domain, err) < 0)
			goto out;
		all[0].pref = 0;
		snprintf(all[0].host, sizeof(all[0].host), "%s", domain);
		nall = implicit = 1;
	}
	/* Each host's address as the engine will find it, until max hosts
	 * that may have one: the rest are worse than all of these and would
	 * change nothing, even the local host among them (RFC 5321 5.1: "If
	 * it determines that it should relay ... it MUST NOT consider any
	 * [MX records] that have a preference value higher than or equal to
	 * that of" the local host). */
	memset(me, 0, sizeof(me));
	memset(addr, 0, sizeof(addr));
	for (i = 0, k = 0; i < nall; i++) {
		if (max > 0 && k >= max && all[i].pref > last)
			break;
		addr[i] = relay_mx_probe(self, implicit ? qname : all[i].host, &me[i]);
		if (me[i])
			break;
		if (addr[i] != 0) {
			k++;
			last = all[i].pref;
		}
	}
	if (self != NULL) {
		nall = relay_mx_below_self(all, nall, me);
		if (nall == 0) {
			/* RFC 3463 X.4.6: "Routing loop detected"; Postfix's words. */
			relay_mx_fail(err, CL_ENOHOST, "5.4.6", "mail for %s loops back to myself", domain);
			goto out;
		}
	}
	if (relay_mx_addressed(all, addr, nall, max, domain, n, err) < 0)
		goto out;
	memcpy(out, all, *n * sizeof(*out));
	ret = 0;
out:
	res_nclose(&st);
	free(ascii);
	return ret;
}
