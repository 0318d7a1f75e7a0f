/*
 * netprefix.c - parsing, masking, comparing and printing IP networks
 * (netprefix.h). Only numeric addresses: nothing here
 * resolves a name.
 */
#include "netprefix.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"

void net_prefix_mask(struct net_prefix *n, int bits)
{
	int max = n->family == AF_INET ? 32 : 128, i;

	if (bits < 0)
		bits = 0;
	if (bits > max)
		bits = max;
	if (bits > n->bits)
		bits = n->bits;
	for (i = 0; i < 16; i++) {
		int keep = bits - i * 8;
		if (keep >= 8)
			continue;
		n->addr[i] = keep <= 0 ? 0 : (uint8_t)(n->addr[i] & (0xff << (8 - keep)));
	}
	n->bits = (uint8_t)bits;
}

int net_prefix_parse(const char *s, struct net_prefix *n)
{
	char tmp[64];
	const char *slash = strchr(s, '/');
	size_t len = slash ? (size_t)(slash - s) : strlen(s);
	int max;

	memset(n, 0, sizeof(*n));
	if (len == 0 || len >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	if (inet_pton(AF_INET, tmp, n->addr) == 1)
		n->family = AF_INET;
	else if (inet_pton(AF_INET6, tmp, n->addr) == 1)
		n->family = AF_INET6;
	else
		return -1;
	max = n->family == AF_INET ? 32 : 128;
	n->bits = (uint8_t)max;
	if (slash != NULL) {
		char *end;
		long b;
		errno = 0;
		b = strtol(slash + 1, &end, 10);
		if (errno || end == slash + 1 || *end != '\0' || b < 0 || b > max)
			return -1;
		net_prefix_mask(n, (int)b);
	}
	return 0;
}

int net_prefix_from_sa(const struct sockaddr *sa, struct net_prefix *n)
{
	memset(n, 0, sizeof(*n));
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
		n->family = AF_INET;
		n->bits = 32;
		memcpy(n->addr, &in->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
			n->family = AF_INET;
			n->bits = 32;
			memcpy(n->addr, (const uint8_t *)&in6->sin6_addr + 12, 4);
			return 0;
		}
		n->family = AF_INET6;
		n->bits = 128;
		memcpy(n->addr, &in6->sin6_addr, 16);
		return 0;
	}
	return -1;
}

int net_prefix_contains(const struct net_prefix *net, const struct net_prefix *addr)
{
	struct net_prefix a;

	if (net->family != addr->family || addr->bits < net->bits)
		return 0;
	a = *addr;
	net_prefix_mask(&a, net->bits);
	return memcmp(a.addr, net->addr, 16) == 0;
}

int net_prefix_equal(const struct net_prefix *a, const struct net_prefix *b)
{
	return a->family == b->family && a->bits == b->bits && memcmp(a->addr, b->addr, 16) == 0;
}

void net_prefix_format(const struct net_prefix *n, int host_short, char *out, size_t max)
{
	char a[INET6_ADDRSTRLEN];
	struct buf b = BUF_INIT(NET_PREFIX_TEXT_MAX - 1);
	int host = n->bits == (n->family == AF_INET ? 32 : 128);

	if (max == 0)
		return;
	if (inet_ntop(n->family == AF_INET ? AF_INET : AF_INET6, n->addr, a, sizeof(a)) == NULL)
		memcpy(a, "?", 2);
	if (host && host_short)
		buf_adds(&b, a);
	else
		buf_printf(&b, "%s/%u", a, (unsigned)n->bits);
	if (b.len + 1 > max)
		buf_truncate(&b, max - 1);
	memcpy(out, buf_cstr(&b), b.len + 1);
	buf_free(&b);
}

uint32_t net_prefix_hash(const struct net_prefix *n, uint32_t seed)
{
	/* FNV-1a over the key, from a seeded basis. */
	uint32_t h = 2166136261u ^ seed;
	size_t i;

	h = (h ^ n->family) * 16777619u;
	h = (h ^ n->bits) * 16777619u;
	for (i = 0; i < 16; i++)
		h = (h ^ n->addr[i]) * 16777619u;
	return h;
}
