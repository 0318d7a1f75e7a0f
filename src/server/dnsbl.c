/*
 * dnsbl.c - DNS blocklist entries, query names and scores (dnsbl.h).
 */
#include "dnsbl.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int dnsbl_octet(const char **p, unsigned char *out)
{
	unsigned v = 0;
	int digits = 0;

	while (isdigit((unsigned char)**p) && digits < 3) {
		v = v * 10 + (unsigned)(**p - '0');
		(*p)++;
		digits++;
	}
	if (digits == 0 || v > 255)
		return -1;
	*out = (unsigned char)v;
	return 0;
}

const char *dnsbl_site_parse(const char *spec, struct dnsbl_site *out)
{
	const char *eq = strchr(spec, '='), *star = strrchr(spec, '*'), *end, *p;
	size_t zl, i;

	memset(out, 0, sizeof(*out));
	out->weight = 1;
	end = eq ? eq : star ? star : spec + strlen(spec);
	zl = (size_t)(end - spec);
	if (zl == 0 || zl >= sizeof(out->zone) - 1)
		return "expects a list's DNS zone, e.g. zen.spamhaus.org";
	for (i = 0; i < zl; i++) {
		unsigned char c = (unsigned char)spec[i];
		if (!isalnum(c) && c != '-' && c != '.' && c != '_')
			return "the zone is not a domain name";
	}
	memcpy(out->zone, spec, zl);
	if (out->zone[zl - 1] == '.')
		zl--;
	out->zone[zl] = '\0';
	if (eq != NULL) {
		p = eq + 1;
		for (i = 0; i < 3; i++)
			if (dnsbl_octet(&p, &out->prefix[i]) < 0 || *p++ != '.')
				return "a filter is 127.0.0.N or 127.0.0.[A..B]";
		if (*p == '[') {
			p++;
			if (dnsbl_octet(&p, &out->lo) < 0 || strncmp(p, "..", 2) != 0)
				return "a filter is 127.0.0.N or 127.0.0.[A..B]";
			p += 2;
			if (dnsbl_octet(&p, &out->hi) < 0 || *p++ != ']' || out->hi < out->lo)
				return "a filter is 127.0.0.N or 127.0.0.[A..B]";
		} else {
			if (dnsbl_octet(&p, &out->lo) < 0)
				return "a filter is 127.0.0.N or 127.0.0.[A..B]";
			out->hi = out->lo;
		}
		if (p != (star ? star : spec + strlen(spec)))
			return "a filter is 127.0.0.N or 127.0.0.[A..B]";
		if (out->prefix[0] != 127)
			return "a list answers in 127.0.0.0/8";
		out->filtered = 1;
	}
	if (star != NULL) {
		char *e;
		long w = strtol(star + 1, &e, 10);
		if (star[1] == '\0' || *e != '\0' || w < -100 || w > 100 || w == 0)
			return "a weight is *N, N from -100 to 100 and not 0";
		out->weight = (int)w;
	}
	return NULL;
}

int dnsbl_query(const char *ip, const struct dnsbl_site *site, char *out, size_t max)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char a[16];
	size_t used = 0;
	int i, n;

	if (inet_pton(AF_INET, ip, a) == 1) {
		n = snprintf(out, max, "%u.%u.%u.%u.%s", a[3], a[2], a[1], a[0], site->zone);
		return n < 0 || (size_t)n >= max ? -1 : 0;
	}
	if (inet_pton(AF_INET6, ip, a) != 1)
		return -1;
	if (max < 64 + strlen(site->zone) + 1)
		return -1;
	for (i = 15; i >= 0; i--) {
		out[used++] = hex[a[i] & 15];
		out[used++] = '.';
		out[used++] = hex[a[i] >> 4];
		out[used++] = '.';
	}
	memcpy(out + used, site->zone, strlen(site->zone) + 1);
	return 0;
}

int dnsbl_score(const struct dnsbl_site *site, const char *const *a, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char b[4];
		if (inet_pton(AF_INET, a[i], b) != 1 || b[0] != 127)
			continue;
		if ((b[1] == 255 && b[2] == 255) || (b[1] == 0 && b[2] == 0 && b[3] == 1))
			continue;
		if (site->filtered && (memcmp(b, site->prefix, 3) != 0 || b[3] < site->lo || b[3] > site->hi))
			continue;
		return site->weight;
	}
	return 0;
}
