/*
 * dnsmsg.c - the answer section of a DNS message, a record at a time
 * (dnsmsg.h).
 */
#include "dnsmsg.h"

#include <arpa/nameser.h>
#include <resolv.h>

unsigned dns_get16(const unsigned char *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

int dns_walk_init(struct dns_walk *w, const unsigned char *msg, size_t len)
{
	unsigned qd, i;
	int k;

	if (len < NS_HFIXEDSZ)
		return -1;
	w->p = msg + NS_HFIXEDSZ;
	w->end = msg + len;
	qd = dns_get16(msg + 4);
	w->left = dns_get16(msg + 6);
	for (i = 0; i < qd; i++) {
		if ((k = dn_skipname(w->p, w->end)) < 0 || (size_t)(w->end - w->p) < (size_t)k + 4)
			return -1;
		w->p += k + 4;
	}
	return 0;
}

int dns_walk_next(struct dns_walk *w, unsigned *type, const unsigned char **rdata, unsigned *rdlen)
{
	int k;

	if (w->left == 0)
		return 0;
	w->left--;
	if ((k = dn_skipname(w->p, w->end)) < 0 || (size_t)(w->end - w->p) < (size_t)k + 10)
		return -1;
	w->p += k;
	*type = dns_get16(w->p);
	*rdlen = dns_get16(w->p + 8);
	w->p += 10;
	if ((size_t)(w->end - w->p) < *rdlen)
		return -1;
	*rdata = w->p;
	w->p += *rdlen;
	return 1;
}
