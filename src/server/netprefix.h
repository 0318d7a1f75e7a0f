/*
 * netprefix.h - IP networks (an address family, a prefix length and the
 * masked address): clsmtpd's trusted networks, and the networks its
 * defence counts and bans (a client aggregated to its /32 or /24 in IPv4,
 * its /64 in IPv6, so that one host or one customer's subnet is one entity).
 */
#ifndef CLSMTPD_NETPREFIX_H
#define CLSMTPD_NETPREFIX_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255/128" and a NUL. */
#define NET_PREFIX_TEXT_MAX 56

struct net_prefix {
	uint8_t family; /* AF_INET or AF_INET6 */
	uint8_t bits;   /* prefix length */
	uint8_t addr[16];
};

/* Parse "ADDR" or "ADDR/BITS" (IPv4 or IPv6). ADDR alone is a host
 * (/32, /128). Bits beyond the prefix are cleared. 0 or -1. */
int net_prefix_parse(const char *s, struct net_prefix *n);
/* The client's address from a socket address (IPv4-mapped IPv6 becomes
 * IPv4), as a host network. -1 for other families. */
int net_prefix_from_sa(const struct sockaddr *sa, struct net_prefix *n);
/* Shorten n to bits (no-op when it is already that short). */
void net_prefix_mask(struct net_prefix *n, int bits);
/* 1 if net contains addr (same family, addr's prefix at least as long). */
int net_prefix_contains(const struct net_prefix *net, const struct net_prefix *addr);
int net_prefix_equal(const struct net_prefix *a, const struct net_prefix *b);
/* "192.0.2.0/24", "2001:db8::/64"; hosts without "/32" or "/128" when
 * host_short is set. Writes at most NET_PREFIX_TEXT_MAX bytes. */
void net_prefix_format(const struct net_prefix *n, int host_short, char *out, size_t max);
/* Bucket hash; seed is random per process, so that nobody can choose
 * addresses that collide. */
uint32_t net_prefix_hash(const struct net_prefix *n, uint32_t seed);

#endif
