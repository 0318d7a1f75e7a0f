/*
 * defence_net.h - IP networks as the defence counts and bans them: an
 * address family, a prefix length and the masked address. A client is
 * aggregated to its /32 (or /24) in IPv4 and its /64 in IPv6 before it is
 * counted, so that one host or one customer's subnet is one entity.
 */
#ifndef CLSMTPD_DEFENCE_NET_H
#define CLSMTPD_DEFENCE_NET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255/128" and a NUL. */
#define DEFENCE_NET_TEXT_MAX 56

struct defence_net {
	uint8_t family; /* AF_INET or AF_INET6 */
	uint8_t bits;   /* prefix length */
	uint8_t addr[16];
};

/* Parse "ADDR" or "ADDR/BITS" (IPv4 or IPv6). ADDR alone is a host
 * (/32, /128). Bits beyond the prefix are cleared. 0 or -1. */
int defence_net_parse(const char *s, struct defence_net *n);
/* The client's address from a socket address (IPv4-mapped IPv6 becomes
 * IPv4), as a host network. -1 for other families. */
int defence_net_from_sa(const struct sockaddr *sa, struct defence_net *n);
/* Shorten n to bits (no-op when it is already that short). */
void defence_net_mask(struct defence_net *n, int bits);
/* 1 if net contains addr (same family, addr's prefix at least as long). */
int defence_net_contains(const struct defence_net *net, const struct defence_net *addr);
int defence_net_equal(const struct defence_net *a, const struct defence_net *b);
/* "192.0.2.0/24", "2001:db8::/64"; hosts without "/32" or "/128" when
 * host_short is set. Writes at most DEFENCE_NET_TEXT_MAX bytes. */
void defence_net_format(const struct defence_net *n, int host_short, char *out, size_t max);
/* Bucket hash; seed is random per process, so that nobody can choose
 * addresses that collide. */
uint32_t defence_net_hash(const struct defence_net *n, uint32_t seed);

#endif
