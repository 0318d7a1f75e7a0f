/*
 * dnsq.h - blocking DNS questions through the system resolver (res_nquery):
 * a name's records as text, and SPF and DMARC evaluations (spf.h, dmarc.h)
 * driven to their results. For the administrator's commands (clsmtpd
 * -check-dns), not for the event loop.
 */
#ifndef CLSMTPD_DNSQ_H
#define CLSMTPD_DNSQ_H

#include <stddef.h>

#include "dmarc.h"
#include "spf.h"

/* At most this many records of one name are kept. */
#define DNSQ_RR_MAX 32

struct dnsq_rr {
	char *v[DNSQ_RR_MAX]; /* TXT: the strings joined; A/AAAA: the address;
	                         MX: the exchange; PTR: the name */
	unsigned pref[DNSQ_RR_MAX]; /* MX preference */
	size_t n;
};

enum spf_dns_status dnsq_query(const char *name, enum spf_qtype type, struct dnsq_rr *out);
void dnsq_rr_free(struct dnsq_rr *rr);
/* check_host() to its result, every question asked of the resolver. */
enum spf_result dnsq_spf(struct spf *s);
/* DMARC's record discovery to its result (roll 0: pct sampling applies). */
enum dmarc_result dnsq_dmarc(struct dmarc *d);

#endif
