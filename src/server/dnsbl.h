/*
 * dnsbl.h - DNS blocklists (RFC 5782) for clients on port 25, the pure
 * part: a list entry in Postfix's postscreen_dnsbl_sites syntax
 * ("zen.spamhaus.org=127.0.0.[2..11]*3", weight may be negative for an
 * allowlist), the query name of a client address, and what one list's
 * answer scores. The lookups themselves are the event loop's.
 */
#ifndef CLSMTPD_DNSBL_H
#define CLSMTPD_DNSBL_H

#include <stddef.h>

struct dnsbl_site {
	char zone[256];
	int filtered;         /* only answers in 127.0.0.[lo..hi] count */
	unsigned char prefix[3], lo, hi;
	int weight;           /* default 1 */
};

/* Parse one entry; NULL on success, else what is wrong. */
const char *dnsbl_site_parse(const char *spec, struct dnsbl_site *out);
/* The name to look up (A) for client address ip ("192.0.2.1" -> "1.2.0.192.zone",
 * IPv6 as reversed nibbles): 0, or -1 if ip is no address or the name is too long. */
int dnsbl_query(const char *ip, const struct dnsbl_site *site, char *out, size_t max);
/* The weight this list adds for these A records of the answer (text
 * addresses), 0 when none counts. An answer outside 127.0.0.0/8, the
 * never-listed 127.0.0.1 (RFC 5782 5) and the 127.255.255.0/24 error codes
 * of some lists (a refused or rate-limited query) never count. */
int dnsbl_score(const struct dnsbl_site *site, const char *const *a, size_t n);

#endif
