/*
 * relay_mx.c - MX lookup for direct delivery (relay_mx.h). The answer is
 * walked here with dn_expand (as src/client/doctor_discover.c does) so the
 * parser can be tested on crafted packets without any network.
 */
#include "relay_mx.h"

#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One try of 5 s, twice: the relay agent will simply come back later. */
#define RELAY_MX_RETRANS_S 5
#define RELAY_MX_TRIES     2
/* Records looked at in one answer (a real MX set has a handful). */
#define RELAY_MX_PARSE_MAX 32

static unsigned relay_mx_get16(const unsigned char *p)
{
	return (unsigned)p[0] << 8 | p[1];
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
	const unsigned char *p = msg + NS_HFIXEDSZ, *end = msg + len;
	struct relay_mx all[RELAY_MX_PARSE_MAX];
	size_t nall = 0;
	unsigned qd, an, i;
	int null_mx = 0, k;

	*n = 0;
	if (len < NS_HFIXEDSZ)
		return -1;
	qd = relay_mx_get16(msg + 4);
	an = relay_mx_get16(msg + 6);
	for (i = 0; i < qd; i++) {
		if ((k = dn_skipname(p, end)) < 0 || p + k + 4 > end)
			return -1;
		p += k + 4;
	}
	for (i = 0; i < an; i++) {
		unsigned type, rdlen;
		if ((k = dn_skipname(p, end)) < 0 || p + k + 10 > end)
			return -1;
		p += k;
		type = relay_mx_get16(p);
		rdlen = relay_mx_get16(p + 8);
		p += 10;
		if (p + rdlen > end)
			return -1;
		if (type == ns_t_mx) {
			struct relay_mx m;
			if (rdlen < 3 || dn_expand(msg, end, p + 2, m.host, sizeof(m.host)) < 0)
				return -1;
			m.pref = (int)relay_mx_get16(p);
			if (m.host[0] == '\0' || strcmp(m.host, ".") == 0)
				null_mx = 1;
			else if (nall < RELAY_MX_PARSE_MAX)
				all[nall++] = m;
		}
		p += rdlen;
	}
	if (null_mx && nall == 0)
		return 1;
	/* The best max of them, not the first max. */
	qsort(all, nall, sizeof(*all), relay_mx_cmp);
	*n = nall < max ? nall : max;
	memcpy(out, all, *n * sizeof(*out));
	return 0;
}

int relay_mx_lookup(const char *domain, struct relay_mx *out, size_t max, size_t *n,
                    struct cl_err *err)
{
	struct __res_state st;
	unsigned char ans[NS_PACKETSZ * 4];
	int len, r, herr;

	*n = 0;
	memset(&st, 0, sizeof(st));
	if (res_ninit(&st) != 0)
		return err_set(err, CL_ETEMP, "DNS: the resolver could not be initialised");
	st.retrans = RELAY_MX_RETRANS_S;
	st.retry = RELAY_MX_TRIES;
	len = res_nquery(&st, domain, ns_c_in, ns_t_mx, ans, (int)sizeof(ans));
	herr = st.res_h_errno;
	res_nclose(&st);
	if (len < 0 && herr == HOST_NOT_FOUND)
		return err_set(err, CL_ENOHOST, "DNS: the domain %s does not exist", domain);
	if (len < 0 && herr != NO_DATA)
		return err_set(err, CL_ETEMP, "DNS: no answer for the MX of %s", domain);
	r = len < 0
	        ? 0
	        : relay_mx_parse(ans, (size_t)(len > (int)sizeof(ans) ? sizeof(ans) : (size_t)len),
	                         out, max, n);
	if (r < 0)
		return err_set(err, CL_ETEMP, "DNS: malformed answer for the MX of %s", domain);
	if (r == 1)
		return err_set(err, CL_ENOHOST, "the domain %s accepts no mail (null MX, RFC 7505)",
		               domain);
	if (*n == 0 && max > 0) {
		/* RFC 5321 5.1: no MX, the domain itself is the host. */
		out[0].pref = 0;
		snprintf(out[0].host, sizeof(out[0].host), "%s", domain);
		*n = 1;
	}
	return 0;
}
