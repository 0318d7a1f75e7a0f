/*
 * doctor_discover.h - find the submission server of user@domain: RFC 6186
 * and RFC 8314 SRV records, then the provider presets (data/providers.conf),
 * then the common names smtp.DOMAIN and mail.DOMAIN, then the MX hosts;
 * every step is recorded so the report can say which one was used.
 */
#ifndef CLSMTPC_DOCTOR_DISCOVER_H
#define CLSMTPC_DOCTOR_DISCOVER_H

#include <stddef.h>

#include "doctor.h"

/* Per DNS query: seconds per try and tries (the resolver's default is 5 s
 * and 2 tries per server, too long for a 10 s doctor). */
#define DOCTOR_DNS_RETRANS_S 2
#define DOCTOR_DNS_TRIES     1
#define DOCTOR_DNS_RR_MAX    16

struct doctor_srv {
	unsigned prio, weight, port;
	char target[DOCTOR_HOST_MAX]; /* without the final dot; "." = none */
};

struct doctor_mx {
	unsigned pref;
	char host[DOCTOR_HOST_MAX];
};

/* Fill d from target: a host name is used as it is ("given"); user@domain
 * is looked up as above. -1 with err: CL_EUSAGE for a malformed target,
 * CL_ENOHOST when nothing was found. family as for getaddrinfo. */
int doctor_discover(const char *target, int family, struct doctor_discovery *d,
		    struct cl_err *err);

/* Parse a DNS response (RFC 1035 4.1) for SRV (RFC 2782) or MX records,
 * sorted: SRV by priority then highest weight, MX by preference. Pure;
 * -1 for a malformed message. */
int doctor_discover_parse_srv(const unsigned char *msg, size_t len, struct doctor_srv *out,
			      size_t max, size_t *n);
int doctor_discover_parse_mx(const unsigned char *msg, size_t len, struct doctor_mx *out,
			     size_t max, size_t *n);

/* 1 if domain is one of the space-separated words of list (any case). */
int doctor_discover_domain_in(const char *domain, const char *list);

#endif
