/*
 * relay_mx.h - where direct delivery goes (relay_mode mx): the MX hosts of
 * a domain, by preference, through the system resolver (res_nquery); the
 * domain itself when it has no MX (RFC 5321 5.1, implicit MX); nothing for
 * a null MX (RFC 7505) or a domain that does not exist.
 */
#ifndef CLSMTPD_RELAY_MX_H
#define CLSMTPD_RELAY_MX_H

#include <stddef.h>

#include "err.h"

/* Postfix smtp_mx_address_limit is 5: we try at most this many hosts. */
#define RELAY_MX_MAX 5

struct relay_mx {
	int pref;
	char host[256];
};

/* Parse a DNS answer to an MX query: 0 with the hosts sorted by
 * preference (at most max), 1 for a null MX ("0 ."), -1 if malformed. */
int relay_mx_parse(const unsigned char *msg, size_t len, struct relay_mx *out, size_t max,
                   size_t *n);
/* Look the hosts up: 0 with *n >= 1; -1 with err CL_ENOHOST (no such
 * domain, null MX: permanent) or CL_ETEMP (the DNS did not answer). */
int relay_mx_lookup(const char *domain, struct relay_mx *out, size_t max, size_t *n,
                    struct cl_err *err);

#endif
