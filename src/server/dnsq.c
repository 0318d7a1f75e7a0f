/*
 * dnsq.c - blocking DNS questions and the SPF and DMARC evaluations they
 * answer (dnsq.h).
 */
#include "dnsq.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dnsmsg.h"
#include "base/xalloc.h"

/* A TXT record's character-strings joined (RFC 7208 3.3, RFC 6376 3.6.2.2). */
static char *dnsq_txt(const unsigned char *rd, unsigned len)
{
	char *s = xcalloc(len + 1, 1);
	size_t n = 0;
	unsigned i = 0;

	while (i < len) {
		unsigned k = rd[i++];
		if (k > len - i)
			k = len - i;
		memcpy(s + n, rd + i, k);
		n += k;
		i += k;
	}
	s[n] = '\0';
	return s;
}

static unsigned dnsq_type(enum spf_qtype t)
{
	switch (t) {
	case SPF_Q_TXT:
		return ns_t_txt;
	case SPF_Q_A:
		return ns_t_a;
	case SPF_Q_AAAA:
		return ns_t_aaaa;
	case SPF_Q_MX:
		return ns_t_mx;
	case SPF_Q_PTR:
		return ns_t_ptr;
	}
	return ns_t_txt;
}

/* The reverse name of an address ("1.2.0.192.in-addr.arpa"). */
static int dnsq_reverse(const char *ip, char *out, size_t max)
{
	unsigned char a[16];
	size_t n = 0;

	if (inet_pton(AF_INET, ip, a) == 1)
		return snprintf(out, max, "%u.%u.%u.%u.in-addr.arpa", a[3], a[2], a[1], a[0]) <
		               (int)max
		           ? 0
		           : -1;
	if (inet_pton(AF_INET6, ip, a) != 1 || max < 74)
		return -1;
	for (int i = 15; i >= 0; i--)
		n += (size_t)snprintf(out + n, max - n, "%x.%x.", a[i] & 15, a[i] >> 4);
	snprintf(out + n, max - n, "ip6.arpa");
	return 0;
}

enum spf_dns_status dnsq_query(const char *name, enum spf_qtype type, struct dnsq_rr *out)
{
	unsigned char ans[65536];
	char host[NS_MAXDNAME], rev[80];
	struct __res_state st;
	struct dns_walk w;
	const unsigned char *rd;
	unsigned t, rdlen, want = dnsq_type(type);
	int len, r;

	memset(out, 0, sizeof(*out));
	if (type == SPF_Q_PTR && strstr(name, ".arpa") == NULL) {
		if (dnsq_reverse(name, rev, sizeof(rev)) < 0)
			return SPF_DNS_ERROR;
		name = rev;
	}
	memset(&st, 0, sizeof(st));
	if (res_ninit(&st) != 0)
		return SPF_DNS_ERROR;
	len = res_nquery(&st, name, ns_c_in, (int)want, ans, (int)sizeof(ans));
	r = st.res_h_errno;
	res_nclose(&st);
	if (len < 0)
		return r == HOST_NOT_FOUND ? SPF_DNS_NXDOMAIN
		       : r == NO_DATA      ? SPF_DNS_OK
		                           : SPF_DNS_ERROR;
	if (dns_walk_init(&w, ans, (size_t)len) < 0)
		return SPF_DNS_ERROR;
	while ((r = dns_walk_next(&w, &t, &rd, &rdlen)) > 0 && out->n < DNSQ_RR_MAX) {
		char *v = NULL;
		if (t != want)
			continue; /* a CNAME on the way */
		if (t == ns_t_txt) {
			v = dnsq_txt(rd, rdlen);
		} else if ((t == ns_t_a && rdlen == 4) || (t == ns_t_aaaa && rdlen == 16)) {
			char a[INET6_ADDRSTRLEN];
			inet_ntop(t == ns_t_a ? AF_INET : AF_INET6, rd, a, sizeof(a));
			v = xstrdup(a);
		} else if (t == ns_t_mx && rdlen > 2 &&
		           dn_expand(ans, ans + len, rd + 2, host, sizeof(host)) >= 0) {
			out->pref[out->n] = dns_get16(rd);
			v = xstrdup(host);
		} else if (t == ns_t_ptr &&
		           dn_expand(ans, ans + len, rd, host, sizeof(host)) >= 0) {
			v = xstrdup(host);
		}
		if (v != NULL)
			out->v[out->n++] = v;
	}
	return r < 0 ? SPF_DNS_ERROR : SPF_DNS_OK;
}

void dnsq_rr_free(struct dnsq_rr *rr)
{
	for (size_t i = 0; i < rr->n; i++)
		free(rr->v[i]);
	rr->n = 0;
}

enum spf_result dnsq_spf(struct spf *s)
{
	enum spf_result r;

	/* Bounded by spf.c: at most SPF_CACHE_MAX questions. */
	while ((r = spf_eval(s)) == SPF_NEED_DNS) {
		enum spf_qtype type;
		const char *name;
		struct dnsq_rr rr;
		enum spf_dns_status st;
		spf_question(s, &type, &name);
		st = dnsq_query(name, type, &rr);
		if (spf_answer(s, type, name, st, (const char *const *)rr.v, rr.n) < 0) {
			dnsq_rr_free(&rr);
			return SPF_TEMPERROR;
		}
		dnsq_rr_free(&rr);
	}
	return r;
}

enum dmarc_result dnsq_dmarc(struct dmarc *d)
{
	enum dmarc_result r;
	int asked = 0;

	/* Two questions at most (the From domain, its organizational domain). */
	while ((r = dmarc_eval(d, 0)) == DMARC_NEED_DNS && asked++ < 4) {
		const char *name = dmarc_question(d);
		struct dnsq_rr rr;
		enum spf_dns_status st = dnsq_query(name, SPF_Q_TXT, &rr);
		dmarc_answer(d, name, st, (const char *const *)rr.v, rr.n);
		dnsq_rr_free(&rr);
	}
	return r == DMARC_NEED_DNS ? DMARC_TEMPERROR : r;
}
