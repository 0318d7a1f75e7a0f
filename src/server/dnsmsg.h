/*
 * dnsmsg.h - the answer section of a DNS message (RFC 1035 4.1), a record
 * at a time, bounds-checked: what relay_mx.c and dnsq.c read replies with.
 */
#ifndef CLSMTPD_DNSMSG_H
#define CLSMTPD_DNSMSG_H

#include <stddef.h>

struct dns_walk {
	const unsigned char *p, *end;
	unsigned left;
};

unsigned dns_get16(const unsigned char *p);
/* Past the header and the question section: 0, or -1 if malformed. */
int dns_walk_init(struct dns_walk *w, const unsigned char *msg, size_t len);
/* 1 with the next record's type and data, 0 after the last, -1 if the
 * message is malformed. */
int dns_walk_next(struct dns_walk *w, unsigned *type, const unsigned char **rdata, unsigned *rdlen);

#endif
