/*
 * spf.c - RFC 7208 check_host() (spf.h): record selection, the syntax check
 * of the whole record before anything is evaluated (4.6), every mechanism
 * and the redirect modifier, the DNS lookup limits (4.6.4) and macros (7).
 * "exp" is parsed but not fetched (6.2 makes the explanation a SHOULD, and
 * it would cost a lookup for every failure); %{p} expands to "unknown".
 */
#include "spf.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/buf.h"

/* Internal outcomes of one mechanism, beside the results of spf.h. */
#define SPF_M_MATCH   100
#define SPF_M_NOMATCH 101

#define SPF_NAME_MAX  253
#define SPF_TERMS_MAX 64 /* terms of one record (a 450-byte TXT holds fewer) */

struct spf_rrset {
	enum spf_qtype type;
	char *name;
	enum spf_dns_status st;
	char **rr;
	size_t n;
};

struct spf {
	char ip[64];
	int family; /* 4 or 6 */
	unsigned char addr[16];
	char *sender, *local, *sdomain, *helo;
	struct spf_rrset cache[SPF_CACHE_MAX];
	size_t ncache, asked;
	/* One evaluation (spf_eval replays from the start). */
	unsigned dns_terms, voids;
	enum spf_qtype qtype;
	char qname[SPF_NAME_MAX + 2];
	struct buf reason;
	char domain[SPF_NAME_MAX + 2];
};

/* A parsed term of a record. */
struct spf_term {
	char qual;         /* '+', '-', '~', '?'; 0 for a modifier */
	char name[16];     /* mechanism or modifier name, lower case */
	const char *arg;   /* domain-spec, ip, or modifier value; NULL if none */
	size_t arglen;
	int cidr4, cidr6;  /* prefix lengths, -1 when not given */
	const char *text;  /* the whole term, for the reason */
	size_t textlen;
};

static const char *const spf_names[] = {"none",   "neutral",   "pass",      "fail",
                                        "softfail", "temperror", "permerror", "(dns)"};

const char *spf_result_name(enum spf_result r)
{
	return spf_names[r];
}

static char *spf_lower_dup(const char *p, size_t n)
{
	char *d = malloc(n + 1);
	size_t i;

	if (d == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		d[i] = (char)tolower((unsigned char)p[i]);
	d[n] = '\0';
	return d;
}

struct spf *spf_new(const char *ip, const char *sender, const char *helo)
{
	struct spf *s = calloc(1, sizeof(*s));
	const char *at;

	if (s == NULL)
		return NULL;
	buf_init(&s->reason, 512);
	if (inet_pton(AF_INET, ip, s->addr) == 1) {
		s->family = 4;
	} else if (inet_pton(AF_INET6, ip, s->addr) == 1) {
		s->family = 6;
		/* An IPv4-mapped address is checked as IPv4 (RFC 7208 5). */
		if (memcmp(s->addr, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0) {
			memmove(s->addr, s->addr + 12, 4);
			s->family = 4;
		}
	} else {
		spf_free(s);
		return NULL;
	}
	inet_ntop(s->family == 4 ? AF_INET : AF_INET6, s->addr, s->ip, sizeof(s->ip));
	s->helo = strdup(helo ? helo : "");
	if (sender == NULL || *sender == '\0' || strrchr(sender, '@') == NULL) {
		/* RFC 7208 2.4: the null sender is checked as postmaster@HELO. */
		size_t n = strlen(s->helo) + sizeof("postmaster@");
		s->sender = malloc(n);
		if (s->sender)
			snprintf(s->sender, n, "postmaster@%s", s->helo);
	} else {
		s->sender = strdup(sender);
	}
	if (s->helo == NULL || s->sender == NULL) {
		spf_free(s);
		return NULL;
	}
	/* %{l} keeps the case it was given in (7.3); the domain is a key. */
	at = strrchr(s->sender, '@');
	s->local = at == s->sender ? strdup("postmaster") : strndup(s->sender, (size_t)(at - s->sender));
	s->sdomain = spf_lower_dup(at + 1, strlen(at + 1));
	if (s->local == NULL || s->sdomain == NULL) {
		spf_free(s);
		return NULL;
	}
	return s;
}

void spf_free(struct spf *s)
{
	size_t i, j;

	if (s == NULL)
		return;
	for (i = 0; i < s->ncache; i++) {
		for (j = 0; j < s->cache[i].n; j++)
			free(s->cache[i].rr[j]);
		free(s->cache[i].rr);
		free(s->cache[i].name);
	}
	free(s->sender);
	free(s->local);
	free(s->sdomain);
	free(s->helo);
	buf_free(&s->reason);
	free(s);
}

/* The cache key of a name: lower case, no trailing dot. */
static void spf_key(const char *name, char *out, size_t max)
{
	size_t n = strlen(name), i;

	if (n > 0 && name[n - 1] == '.')
		n--;
	if (n >= max)
		n = max - 1;
	for (i = 0; i < n; i++)
		out[i] = (char)tolower((unsigned char)name[i]);
	out[n] = '\0';
}

int spf_answer(struct spf *s, enum spf_qtype type, const char *name,
               enum spf_dns_status status, const char *const *rr, size_t nrr)
{
	struct spf_rrset *e;
	char key[SPF_NAME_MAX + 2];
	size_t i;

	if (s->ncache >= SPF_CACHE_MAX)
		return -1;
	spf_key(name, key, sizeof(key));
	e = &s->cache[s->ncache];
	memset(e, 0, sizeof(*e));
	e->type = type;
	e->st = status;
	e->name = strdup(key);
	e->rr = nrr ? calloc(nrr, sizeof(char *)) : NULL;
	if (e->name == NULL || (nrr && e->rr == NULL)) {
		free(e->name);
		free(e->rr);
		return -1;
	}
	for (i = 0; i < nrr; i++) {
		e->rr[i] = strdup(rr[i]);
		if (e->rr[i] == NULL)
			break;
		e->n++;
	}
	s->ncache++;
	return e->n == nrr ? 0 : -1;
}

/* A cached answer, or SPF_NEED_DNS with the question set. */
static int spf_lookup(struct spf *s, enum spf_qtype type, const char *name,
                      const struct spf_rrset **out)
{
	static const struct spf_rrset nx = {SPF_Q_TXT, NULL, SPF_DNS_NXDOMAIN, NULL, 0};
	char key[SPF_NAME_MAX + 2];
	size_t i, n = strlen(name);

	/* A name no DNS query should carry (from a hostile sender, record
	 * or answer: control bytes, blanks, too long) exists nowhere. */
	for (i = 0; i < n; i++)
		if ((unsigned char)name[i] <= ' ' || (unsigned char)name[i] >= 0x7f)
			break;
	if (n == 0 || i < n || n > SPF_NAME_MAX + 1) {
		*out = &nx;
		return 0;
	}
	spf_key(name, key, sizeof(key));
	for (i = 0; i < s->ncache; i++)
		if (s->cache[i].type == type && strcmp(s->cache[i].name, key) == 0) {
			*out = &s->cache[i];
			return 0;
		}
	if (s->ncache >= SPF_CACHE_MAX)
		return SPF_TEMPERROR;
	s->qtype = type;
	memcpy(s->qname, key, strlen(key) + 1);
	s->asked++;
	return SPF_NEED_DNS;
}

void spf_question(const struct spf *s, enum spf_qtype *type, const char **name)
{
	*type = s->qtype;
	*name = s->qname;
}

size_t spf_lookups(const struct spf *s)
{
	return s->asked;
}

const char *spf_domain(const struct spf *s)
{
	return s->domain;
}

const char *spf_reason(const struct spf *s)
{
	return buf_cstr(&s->reason);
}

/* Return r, saying why (the first reason given is kept). */
static int spf_fail(struct spf *s, int r, const char *fmt, ...) BUF_PRINTF(3, 4);
static int spf_fail(struct spf *s, int r, const char *fmt, ...)
{
	va_list ap;

	if (s->reason.len == 0) {
		va_start(ap, fmt);
		buf_vprintf(&s->reason, fmt, ap);
		va_end(ap);
	}
	return r;
}

/* RFC 7208 4.3: a name check_host() can work on: labels of 1..63
 * characters, at least two of them, 253 in all. */
static int spf_domain_ok(const char *d)
{
	size_t n = strlen(d), label = 0, labels = 0, i;

	if (n > 0 && d[n - 1] == '.')
		n--;
	if (n == 0 || n > SPF_NAME_MAX)
		return 0;
	for (i = 0; i <= n; i++) {
		if (i == n || d[i] == '.') {
			if (label == 0 || label > 63)
				return 0;
			labels++;
			label = 0;
		} else {
			label++;
		}
	}
	return labels >= 2;
}

/* ---- macros (RFC 7208 7) -------------------------------------------------- */

static void spf_ip_text(const struct spf *s, struct buf *out)
{
	static const char hex[] = "0123456789abcdef";
	int i;

	if (s->family == 4) {
		buf_printf(out, "%u.%u.%u.%u", s->addr[0], s->addr[1], s->addr[2], s->addr[3]);
		return;
	}
	for (i = 0; i < 16; i++) {
		buf_addc(out, hex[s->addr[i] >> 4]);
		buf_addc(out, '.');
		buf_addc(out, hex[s->addr[i] & 15]);
		if (i < 15)
			buf_addc(out, '.');
	}
}

/* Expand one %{...} body (letter, transformers, delimiters) into out. */
static int spf_macro_one(const struct spf *s, const char *cur, const char *p, size_t n,
                         struct buf *out)
{
	struct buf v = BUF_INIT(1024);
	char letter, delims[8] = "";
	const char *parts[128];
	size_t lens[128], np = 0, i, k = 1, nd = 0, start;
	unsigned long digits = 0;
	int rev = 0, upper, r = 0;

	if (n == 0)
		return -1;
	letter = p[0];
	upper = isupper((unsigned char)letter);
	switch (tolower((unsigned char)letter)) {
	case 's': buf_adds(&v, s->sender); break;
	case 'l': buf_adds(&v, s->local); break;
	case 'o': buf_adds(&v, s->sdomain); break;
	case 'd': buf_adds(&v, cur); break;
	case 'i': spf_ip_text(s, &v); break;
	case 'p': buf_adds(&v, "unknown"); break;
	case 'v': buf_adds(&v, s->family == 4 ? "in-addr" : "ip6"); break;
	case 'h': buf_adds(&v, s->helo); break;
	default: buf_free(&v); return -1; /* c, r, t belong to exp only */
	}
	if (k < n && isdigit((unsigned char)p[k])) {
		while (k < n && isdigit((unsigned char)p[k]) && digits < 1000)
			digits = digits * 10 + (unsigned long)(p[k++] - '0');
		if (digits == 0)
			r = -1;
	}
	if (k < n && (p[k] == 'r' || p[k] == 'R')) {
		rev = 1;
		k++;
	}
	for (; k < n && r == 0; k++) {
		if (strchr(".-+,/_=", p[k]) == NULL || nd >= sizeof(delims) - 1)
			r = -1;
		else
			delims[nd++] = p[k];
	}
	if (nd == 0)
		delims[0] = '.';
	if (r == 0) {
		const char *x = buf_cstr(&v);
		start = 0;
		for (i = 0; i <= v.len; i++) {
			if (i == v.len || strchr(delims, x[i]) != NULL) {
				if (np == sizeof(parts) / sizeof(parts[0])) {
					r = -1;
					break;
				}
				parts[np] = x + start;
				lens[np++] = i - start;
				start = i + 1;
			}
		}
	}
	if (r == 0) {
		size_t from = 0, cnt;
		if (rev)
			for (i = 0; i < np / 2; i++) {
				const char *tp = parts[i];
				size_t tl = lens[i];
				parts[i] = parts[np - 1 - i];
				lens[i] = lens[np - 1 - i];
				parts[np - 1 - i] = tp;
				lens[np - 1 - i] = tl;
			}
		cnt = np;
		if (digits > 0 && digits < np) {
			from = np - digits;
			cnt = digits;
		}
		for (i = from; i < from + cnt; i++) {
			size_t j;
			if (i > from)
				buf_addc(out, '.');
			for (j = 0; j < lens[i]; j++) {
				unsigned char c = (unsigned char)parts[i][j];
				if (upper && !isalnum(c) && strchr("-._~", c) == NULL)
					buf_printf(out, "%%%02X", c);
				else
					buf_addc(out, (char)c);
			}
		}
	}
	buf_free(&v);
	return r;
}

/* Expand a domain-spec; cut to 253 characters from the left (7.3). */
static int spf_expand(const struct spf *s, const char *cur, const char *p, size_t n,
                      struct buf *out)
{
	size_t i = 0;

	buf_reset(out);
	while (i < n) {
		if (p[i] != '%') {
			if ((unsigned char)p[i] <= ' ' || (unsigned char)p[i] >= 0x7f)
				return -1;
			buf_addc(out, p[i++]);
			continue;
		}
		if (i + 1 >= n)
			return -1;
		switch (p[i + 1]) {
		case '%': buf_addc(out, '%'); i += 2; continue;
		case '_': buf_addc(out, ' '); i += 2; continue;
		case '-': buf_adds(out, "%20"); i += 2; continue;
		case '{': {
			const char *e = memchr(p + i + 2, '}', n - i - 2);
			if (e == NULL || spf_macro_one(s, cur, p + i + 2, (size_t)(e - (p + i + 2)), out) < 0)
				return -1;
			i = (size_t)(e - p) + 1;
			continue;
		}
		default:
			return -1;
		}
	}
	while (out->len > SPF_NAME_MAX) {
		const char *dot = strchr(buf_cstr(out), '.');
		if (dot == NULL)
			return -1;
		buf_consume(out, (size_t)(dot - buf_cstr(out)) + 1);
	}
	return out->len > 0 ? 0 : -1;
}

/* ---- record syntax (RFC 7208 4.6, 12) ------------------------------------ */

static int spf_cidr(const char **p, const char *end, int max, int *out)
{
	int v = 0, digits = 0;

	while (*p < end && isdigit((unsigned char)**p)) {
		v = v * 10 + (**p - '0');
		(*p)++;
		if (++digits > 3)
			return -1;
	}
	/* A leading zero is not allowed (12: ip4-cidr-length = "/" ("0" / %x31-39 0*1DIGIT)). */
	if (digits == 0 || v > max || (digits > 1 && (*p)[-digits] == '0'))
		return -1;
	*out = v;
	return 0;
}

/* Split "domain-spec/24//64" (or ip/24): the argument and its prefixes. */
static int spf_dual_cidr(struct spf_term *t, const char *p, const char *end, int ip6_only,
                         int ip4_only)
{
	const char *slash = NULL, *q;

	for (q = p; q < end; q++) {
		if (*q == '%' && q + 1 < end && q[1] == '{') { /* "/" may be a macro delimiter */
			while (q < end && *q != '}')
				q++;
			if (q == end)
				return -1;
			continue;
		}
		if (*q == '/') {
			slash = q;
			break;
		}
	}
	t->arg = p < (slash ? slash : end) ? p : NULL;
	t->arglen = (size_t)((slash ? slash : end) - p);
	if (slash == NULL)
		return 0;
	q = slash + 1;
	if (q < end && *q == '/') { /* "//64": only the IPv6 prefix */
		if (ip4_only)
			return -1;
		q++;
		return spf_cidr(&q, end, 128, &t->cidr6) < 0 || q != end ? -1 : 0;
	}
	if (spf_cidr(&q, end, ip6_only ? 128 : 32, ip6_only ? &t->cidr6 : &t->cidr4) < 0)
		return -1;
	if (q == end)
		return 0;
	if (ip6_only || ip4_only || end - q < 3 || q[0] != '/' || q[1] != '/')
		return -1;
	q += 2;
	return spf_cidr(&q, end, 128, &t->cidr6) < 0 || q != end ? -1 : 0;
}

/* Parse one term; -1 on a syntax error. */
static int spf_term_parse(const char *p, size_t n, struct spf_term *t)
{
	const char *end = p + n, *q = p;
	size_t nl;

	memset(t, 0, sizeof(*t));
	t->cidr4 = t->cidr6 = -1;
	t->text = p;
	t->textlen = n;
	/* A modifier: name "=" value, name = ALPHA *(ALPHA / DIGIT / "-" / "_" / ".") */
	if (isalpha((unsigned char)*q)) {
		while (q < end && (isalnum((unsigned char)*q) || strchr("-_.", *q)))
			q++;
		if (q < end && *q == '=') {
			nl = (size_t)(q - p);
			if (nl >= sizeof(t->name))
				nl = sizeof(t->name) - 1; /* unknown and long: ignored anyway */
			for (size_t i = 0; i < nl; i++)
				t->name[i] = (char)tolower((unsigned char)p[i]);
			t->arg = q + 1;
			t->arglen = (size_t)(end - q - 1);
			return 0;
		}
	}
	q = p;
	t->qual = '+';
	if (strchr("+-~?", *q)) {
		t->qual = *q;
		q++;
	}
	nl = 0;
	while (q < end && *q != ':' && *q != '/' && nl < sizeof(t->name) - 1)
		t->name[nl++] = (char)tolower((unsigned char)*q++);
	if (q < end && *q != ':' && *q != '/')
		return -1;
	if (strcmp(t->name, "all") == 0)
		return q == end ? 0 : -1;
	if (strcmp(t->name, "include") == 0 || strcmp(t->name, "exists") == 0) {
		if (q == end || *q != ':' || q + 1 == end)
			return -1;
		t->arg = q + 1;
		t->arglen = (size_t)(end - q - 1);
		return 0;
	}
	if (strcmp(t->name, "a") == 0 || strcmp(t->name, "mx") == 0) {
		if (q < end && *q == ':') {
			if (++q == end || *q == '/')
				return -1;
		}
		return spf_dual_cidr(t, q, end, 0, 0);
	}
	if (strcmp(t->name, "ptr") == 0) {
		if (q == end)
			return 0;
		if (*q != ':' || q + 1 == end)
			return -1;
		t->arg = q + 1;
		t->arglen = (size_t)(end - q - 1);
		return 0;
	}
	if (strcmp(t->name, "ip4") == 0 || strcmp(t->name, "ip6") == 0) {
		int six = t->name[2] == '6';
		char tmp[64];
		unsigned char a[16];
		if (q == end || *q != ':' || ++q == end)
			return -1;
		if (spf_dual_cidr(t, q, end, six, !six) < 0 || t->arg == NULL || t->arglen >= sizeof(tmp))
			return -1;
		memcpy(tmp, t->arg, t->arglen);
		tmp[t->arglen] = '\0';
		return inet_pton(six ? AF_INET6 : AF_INET, tmp, a) == 1 ? 0 : -1;
	}
	return -1; /* an unknown mechanism (5: permerror) */
}

/* ---- evaluation ------------------------------------------------------------ */

static int spf_prefix_match(const unsigned char *a, const unsigned char *b, int bits)
{
	int full = bits / 8, rest = bits % 8;

	if (memcmp(a, b, (size_t)full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	return ((a[full] ^ b[full]) & (0xff << (8 - rest)) & 0xff) == 0;
}

/* Does one textual address match our client at this prefix? */
static int spf_addr_match(const struct spf *s, const char *text, const struct spf_term *t)
{
	unsigned char a[16];
	int bits;

	if (s->family == 4) {
		if (inet_pton(AF_INET, text, a) != 1)
			return 0;
		bits = t->cidr4 < 0 ? 32 : t->cidr4;
	} else {
		if (inet_pton(AF_INET6, text, a) != 1)
			return 0;
		bits = t->cidr6 < 0 ? 128 : t->cidr6;
	}
	return spf_prefix_match(a, s->addr, bits);
}

static int spf_count_term(struct spf *s)
{
	if (++s->dns_terms > SPF_DNS_TERMS_MAX)
		return spf_fail(s, SPF_PERMERROR, "more than %d DNS-querying terms (RFC 7208 4.6.4)", SPF_DNS_TERMS_MAX);
	return 0;
}

/* A lookup that found nothing (NXDOMAIN or no records; not an error). */
static int spf_void(struct spf *s, const struct spf_rrset *rs)
{
	if (rs->st != SPF_DNS_ERROR && (rs->st == SPF_DNS_NXDOMAIN || rs->n == 0) &&
	    ++s->voids > SPF_VOID_MAX)
		return spf_fail(s, SPF_PERMERROR, "more than %d lookups found nothing (RFC 7208 4.6.4)", SPF_VOID_MAX);
	return 0;
}

/* The address records of name for our family, matched against t. */
static int spf_match_name(struct spf *s, const char *name, const struct spf_term *t, int count_void)
{
	const struct spf_rrset *rs;
	int r = spf_lookup(s, s->family == 4 ? SPF_Q_A : SPF_Q_AAAA, name, &rs);
	size_t i;

	if (r != 0)
		return r;
	if (rs->st == SPF_DNS_ERROR)
		return spf_fail(s, SPF_TEMPERROR, "DNS error looking up %s", name);
	if (count_void && (r = spf_void(s, rs)) != 0)
		return r;
	for (i = 0; i < rs->n; i++)
		if (spf_addr_match(s, rs->rr[i], t))
			return SPF_M_MATCH;
	return SPF_M_NOMATCH;
}

static enum spf_result spf_check_host(struct spf *s, const char *domain, int depth);

/* The reverse name of our address (in-addr.arpa or ip6.arpa). */
static void spf_reverse(const struct spf *s, struct buf *out)
{
	static const char hex[] = "0123456789abcdef";
	int i;

	if (s->family == 4) {
		buf_printf(out, "%u.%u.%u.%u.in-addr.arpa", s->addr[3], s->addr[2], s->addr[1],
		           s->addr[0]);
		return;
	}
	for (i = 15; i >= 0; i--) {
		buf_addc(out, hex[s->addr[i] & 15]);
		buf_addc(out, '.');
		buf_addc(out, hex[s->addr[i] >> 4]);
		buf_addc(out, '.');
	}
	buf_adds(out, "ip6.arpa");
}

static int spf_name_within(const char *name, const char *target)
{
	size_t n = strlen(name), t = strlen(target);

	if (n > 0 && name[n - 1] == '.')
		n--;
	if (t > 0 && target[t - 1] == '.')
		t--;
	if (n == t)
		return strncasecmp(name, target, n) == 0;
	return n > t && name[n - t - 1] == '.' && strncasecmp(name + n - t, target, t) == 0;
}

static int spf_mechanism(struct spf *s, const char *domain, const struct spf_term *t, int depth)
{
	struct buf target = BUF_INIT(1024);
	const struct spf_rrset *rs;
	int r;
	size_t i;

	if (t->arg && strcmp(t->name, "ip4") != 0 && strcmp(t->name, "ip6") != 0) {
		if (spf_expand(s, domain, t->arg, t->arglen, &target) < 0) {
			buf_free(&target);
			return spf_fail(s, SPF_PERMERROR, "bad macro in %s", t->name);
		}
	} else {
		buf_set(&target, domain);
	}
	if (strcmp(t->name, "all") == 0) {
		r = SPF_M_MATCH;
	} else if (strcmp(t->name, "ip4") == 0 || strcmp(t->name, "ip6") == 0) {
		char tmp[64];
		memcpy(tmp, t->arg, t->arglen);
		tmp[t->arglen] = '\0';
		r = (t->name[2] == '4') == (s->family == 4) && spf_addr_match(s, tmp, t) ? SPF_M_MATCH
		                                                                          : SPF_M_NOMATCH;
	} else if ((r = spf_count_term(s)) != 0) {
		/* over the limit */
	} else if (strcmp(t->name, "include") == 0) {
		size_t kept = s->reason.len;
		r = spf_check_host(s, buf_cstr(&target), depth + 1);
		if (r == SPF_PASS)
			r = SPF_M_MATCH;
		else if (r == SPF_FAIL || r == SPF_SOFTFAIL || r == SPF_NEUTRAL)
			r = SPF_M_NOMATCH;
		if (r == SPF_M_NOMATCH)
			buf_truncate(&s->reason, kept); /* the inner match said nothing of ours */
		else if (r == SPF_NONE || r == SPF_PERMERROR)
			r = spf_fail(s, SPF_PERMERROR, "include:%s has no usable SPF record", buf_cstr(&target));
	} else if (strcmp(t->name, "a") == 0) {
		r = spf_match_name(s, buf_cstr(&target), t, 1);
	} else if (strcmp(t->name, "exists") == 0) {
		r = spf_lookup(s, SPF_Q_A, buf_cstr(&target), &rs);
		if (r == 0 && rs->st == SPF_DNS_ERROR)
			r = spf_fail(s, SPF_TEMPERROR, "DNS error looking up %s", buf_cstr(&target));
		else if (r == 0 && (r = spf_void(s, rs)) == 0)
			r = rs->n > 0 ? SPF_M_MATCH : SPF_M_NOMATCH;
	} else if (strcmp(t->name, "mx") == 0) {
		r = spf_lookup(s, SPF_Q_MX, buf_cstr(&target), &rs);
		if (r == 0 && rs->st == SPF_DNS_ERROR)
			r = spf_fail(s, SPF_TEMPERROR, "DNS error looking up MX %s", buf_cstr(&target));
		else if (r == 0 && (r = spf_void(s, rs)) == 0) {
			if (rs->n > SPF_NAMES_MAX)
				r = spf_fail(s, SPF_PERMERROR, "more than 10 MX records for %s", buf_cstr(&target));
			else
				for (i = 0, r = SPF_M_NOMATCH; i < rs->n && r == SPF_M_NOMATCH; i++)
					r = spf_match_name(s, rs->rr[i], t, 0);
		}
	} else { /* ptr */
		struct buf rev = BUF_INIT(128);
		spf_reverse(s, &rev);
		r = spf_lookup(s, SPF_Q_PTR, buf_cstr(&rev), &rs);
		buf_free(&rev);
		/* A DNS error on the PTR query is no match, not temperror (5.5). */
		if (r == 0 && rs->st != SPF_DNS_ERROR)
			r = spf_void(s, rs);
		if (r == 0)
			r = SPF_M_NOMATCH;
		for (i = 0; r == SPF_M_NOMATCH && rs->st == SPF_DNS_OK && i < rs->n && i < SPF_NAMES_MAX;
		     i++) {
			const struct spf_rrset *as;
			struct spf_term exact = *t;
			size_t j;
			/* Only a name within the target can match: skip the others'
			 * validation (the result is the same, with fewer lookups). */
			if (!spf_name_within(rs->rr[i], buf_cstr(&target)))
				continue;
			r = spf_lookup(s, s->family == 4 ? SPF_Q_A : SPF_Q_AAAA, rs->rr[i], &as);
			if (r != 0)
				break;
			r = SPF_M_NOMATCH;
			exact.cidr4 = exact.cidr6 = -1;
			for (j = 0; as->st == SPF_DNS_OK && j < as->n; j++)
				if (spf_addr_match(s, as->rr[j], &exact))
					r = SPF_M_MATCH;
		}
	}
	if (r == SPF_M_MATCH && s->reason.len == 0)
		buf_printf(&s->reason, "%s matched %.*s in %s", s->ip, (int)t->textlen, t->text, domain);
	buf_free(&target);
	return r;
}

static enum spf_result spf_qualified(char q)
{
	return q == '-' ? SPF_FAIL : q == '~' ? SPF_SOFTFAIL : q == '?' ? SPF_NEUTRAL : SPF_PASS;
}

static enum spf_result spf_check_host(struct spf *s, const char *domain, int depth)
{
	const struct spf_rrset *rs;
	struct spf_term terms[SPF_TERMS_MAX];
	const struct spf_term *redirect = NULL, *exp = NULL;
	const char *rec = NULL, *p, *end;
	size_t nt = 0, i;
	int r;

	if (depth == 0) {
		size_t n = strlen(domain);
		memcpy(s->domain, domain, n < sizeof(s->domain) ? n + 1 : sizeof(s->domain) - 1);
	}
	if (!spf_domain_ok(domain))
		return depth == 0 ? (enum spf_result)spf_fail(s, SPF_NONE, "%s is not a domain name", domain)
		                  : SPF_NONE;
	r = spf_lookup(s, SPF_Q_TXT, domain, &rs);
	if (r != 0)
		return (enum spf_result)r;
	if (rs->st == SPF_DNS_ERROR)
		return (enum spf_result)spf_fail(s, SPF_TEMPERROR, "DNS error looking up TXT %s", domain);
	for (i = 0; i < rs->n; i++) {
		const char *t = rs->rr[i];
		if (strncasecmp(t, "v=spf1", 6) == 0 && (t[6] == '\0' || t[6] == ' ')) {
			if (rec != NULL)
				return (enum spf_result)spf_fail(s, SPF_PERMERROR, "%s has two SPF records", domain);
			rec = t;
		}
	}
	if (rec == NULL)
		return depth == 0 ? (enum spf_result)spf_fail(s, SPF_NONE, "%s has no SPF record", domain)
		                  : SPF_NONE;
	/* The whole record is checked before anything is evaluated (4.6). */
	p = rec + 6;
	end = rec + strlen(rec);
	while (p < end) {
		const char *q;
		while (p < end && *p == ' ')
			p++;
		if (p == end)
			break;
		q = p;
		while (q < end && *q != ' ')
			q++;
		if (nt == SPF_TERMS_MAX || spf_term_parse(p, (size_t)(q - p), &terms[nt]) < 0)
			return (enum spf_result)spf_fail(s, SPF_PERMERROR, "syntax error in the SPF record of %s",
			                                 domain);
		if (terms[nt].qual == 0) {
			const struct spf_term **slot = strcmp(terms[nt].name, "redirect") == 0 ? &redirect
			                               : strcmp(terms[nt].name, "exp") == 0   ? &exp
			                                                                      : NULL;
			if (slot != NULL) {
				if (*slot != NULL || terms[nt].arglen == 0)
					return (enum spf_result)spf_fail(s, SPF_PERMERROR,
					                                 "bad redirect= or exp= in the SPF record of %s",
					                                 domain);
				*slot = &terms[nt];
			}
		}
		nt++;
		p = q;
	}
	for (i = 0; i < nt; i++) {
		if (terms[i].qual == 0)
			continue;
		r = spf_mechanism(s, domain, &terms[i], depth);
		if (r == SPF_M_NOMATCH)
			continue;
		if (r == SPF_M_MATCH)
			return spf_qualified(terms[i].qual);
		return (enum spf_result)r;
	}
	/* "all" after redirect wins: redirect is only followed without a match. */
	if (redirect != NULL) {
		struct buf target = BUF_INIT(1024);
		if ((r = spf_count_term(s)) != 0) {
			buf_free(&target);
			return (enum spf_result)r;
		}
		if (spf_expand(s, domain, redirect->arg, redirect->arglen, &target) < 0) {
			buf_free(&target);
			return (enum spf_result)spf_fail(s, SPF_PERMERROR, "bad macro in redirect= of %s", domain);
		}
		r = spf_check_host(s, buf_cstr(&target), depth + 1);
		if (r == SPF_NONE)
			r = spf_fail(s, SPF_PERMERROR, "redirect=%s has no SPF record", buf_cstr(&target));
		buf_free(&target);
		return (enum spf_result)r;
	}
	(void)exp;
	if (depth == 0 && s->reason.len == 0)
		buf_printf(&s->reason, "no mechanism of %s matched %s", domain, s->ip);
	return SPF_NEUTRAL;
}

enum spf_result spf_eval(struct spf *s)
{
	enum spf_result r;

	s->dns_terms = 0;
	s->voids = 0;
	buf_reset(&s->reason);
	r = spf_check_host(s, s->sdomain, 0);
	if (r == SPF_NEED_DNS) {
		buf_reset(&s->reason);
	} else {
		/* The reason quotes DNS data: it goes into logs and headers. */
		size_t i;
		for (i = 0; i < s->reason.len; i++)
			if ((unsigned char)s->reason.data[i] < 0x20 || (unsigned char)s->reason.data[i] >= 0x7f)
				s->reason.data[i] = '?';
	}
	return r;
}
