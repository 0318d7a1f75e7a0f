/*
 * relay_mx.h - where direct delivery goes (relay_mode mx): the MX hosts of
 * a domain, by preference, through the system resolver (res_nquery); the
 * domain itself when it has no MX (RFC 5321 5.1, implicit MX); nothing for
 * a null MX (RFC 7505), a domain without MX or address, one whose MX
 * hosts have no address, or one whose MX hosts would bring the mail back
 * to this host (RFC 5321 5.1).
 */
#ifndef CLSMTPD_RELAY_MX_H
#define CLSMTPD_RELAY_MX_H

#include <stddef.h>

#include "base/err.h"

/* Postfix smtp_mx_address_limit is 5: we try at most this many hosts. */
#define RELAY_MX_MAX 5

struct relay_mx {
	int pref;
	char host[256];
};

/* The local host, for the loop check: clsmtpd.conf's hostname and the
 * addresses of its listen lines, numeric ("*", 0.0.0.0 and :: stand for
 * every address of this machine, read with getifaddrs). */
struct relay_mx_self {
	const char *hostname;
	const char *const *listen;
	size_t nlisten;
};

/* Parse a DNS answer to an MX query: 0 with the hosts sorted by
 * preference (at most max), 1 for a null MX ("0 ."), -1 if malformed. */
int relay_mx_parse(const unsigned char *msg, size_t len, struct relay_mx *out, size_t max,
                   size_t *n);
/* What an A or AAAA query (type ns_t_a or ns_t_aaaa) found, from
 * res_nquery's length and, when that is < 0, its h_errno: 1 an address of
 * that type; 0 none (NXDOMAIN, NODATA, a CNAME to nothing); -1 the DNS did
 * not say (SERVFAIL, timeout, refusal, a malformed answer). */
int relay_mx_addr_answer(const unsigned char *msg, int len, int herr, unsigned type);
/* RFC 5321 5.1: of mx[0..n), sorted by preference, where self[i] is set
 * when mx[i] is the local host, how many lead the list with a preference
 * value strictly lower than the local host's best: n if the local host is
 * not among them, 0 if the mail would loop back. */
size_t relay_mx_below_self(const struct relay_mx *mx, size_t n, const unsigned char *self);
/* 1 if host is the local host's name (case and a final dot ignored). */
int relay_mx_name_is_self(const struct relay_mx_self *self, const char *host);
/* 1 if the address (a struct sockaddr, AF_INET or AF_INET6) reaches a
 * listener of the local host. */
int relay_mx_addr_is_self(const struct relay_mx_self *self, const void *sa);
/* Of mx[0..n), in the order they will be tried, where addr[i] is what the
 * lookup of mx[i]'s address found (1 an address, 0 none, -1 the DNS did
 * not answer): move the first max with an address to the front, in order;
 * 0 with *kept >= 1. None: -1 with err CL_ETEMP ("4.4.3 ...") if a lookup
 * did not answer, else CL_ENOHOST ("5.4.4 DNS: no MX host of DOMAIN has
 * an address"). */
int relay_mx_addressed(struct relay_mx *mx, const int *addr, size_t n, size_t max,
                       const char *domain, size_t *kept, struct cl_err *err);
/* Look the hosts up: 0 with *n >= 1; -1 with err CL_ENOHOST (permanent:
 * no such domain, neither MX nor address, null MX, no MX host with an
 * address, or, self not NULL, the local host is the best MX left) or
 * CL_ETEMP (the DNS did not answer). err's text begins with its RFC 3463
 * status. Each host is resolved as the client engine will (conn_resolve)
 * and those without an address are left out; with self, so are the hosts
 * not strictly preferred to the local host. */
int relay_mx_lookup(const char *domain, const struct relay_mx_self *self, struct relay_mx *out,
                    size_t max, size_t *n, struct cl_err *err);

#endif
