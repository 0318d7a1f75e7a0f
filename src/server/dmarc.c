/*
 * dmarc.c - DMARC policy discovery and evaluation (dmarc.h, RFC 7489 6):
 * the record of the From: domain, else of its organizational domain; the
 * tags v (first, exactly "DMARC1"), p, sp, adkim, aspf, pct and rua (an
 * invalid p with a rua is read as p=none, 6.6.3); relaxed or strict
 * alignment; pct sampling steps the policy down one level.
 */
#include "dmarc.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libpsl.h>

#include "base/buf.h"

#define DMARC_NAME_MAX 253

struct dmarc_txt {
	char *name;
	enum spf_dns_status st;
	char **txt;
	size_t n;
};

struct dmarc {
	char from[DMARC_NAME_MAX + 1], org[DMARC_NAME_MAX + 1];
	enum spf_result spf;
	char spf_domain[DMARC_NAME_MAX + 1];
	char **dkim;
	size_t ndkim;
	struct dmarc_txt cache[2];
	size_t ncache;
	char q[DMARC_NAME_MAX + 16];
	enum dmarc_policy published, disposition;
	struct buf comment, reason;
};

/* A parsed record. */
struct dmarc_rec {
	enum dmarc_policy p, sp;
	int has_sp, strict_dkim, strict_spf;
	unsigned pct;
};

static const char *const dmarc_rnames[] = {"none", "pass", "fail", "temperror", "permerror",
                                           "(dns)"};
static const char *const dmarc_pnames[] = {"none", "quarantine", "reject"};

const char *dmarc_result_name(enum dmarc_result r)
{
	return dmarc_rnames[r];
}

const char *dmarc_policy_name(enum dmarc_policy p)
{
	return dmarc_pnames[p];
}

/* Lower case, no trailing dot; a byte no domain has (the From: header
 * is the sender's to write) becomes '?', so what is logged is printable. */
static void dmarc_lower(char *out, const char *in, size_t max)
{
	size_t i, n = strlen(in);

	if (n > 0 && in[n - 1] == '.')
		n--;
	if (n >= max)
		n = max - 1;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)in[i];
		out[i] = c <= ' ' || c >= 0x7f ? '?' : (char)tolower(c);
	}
	out[n] = '\0';
}

const char *dmarc_org_domain(const char *domain, char *out, size_t max)
{
	static const psl_ctx_t *psl;
	const char *reg;

	if (psl == NULL) {
		psl = psl_latest(NULL);
		if (psl == NULL)
			psl = psl_builtin();
	}
	dmarc_lower(out, domain, max);
	reg = psl ? psl_registrable_domain(psl, out) : NULL;
	/* reg points into out; move it to the front. */
	if (reg != NULL && reg != out)
		memmove(out, reg, strlen(reg) + 1);
	return out;
}

struct dmarc *dmarc_new(const char *from_domain)
{
	struct dmarc *d;

	if (from_domain == NULL || *from_domain == '\0')
		return NULL;
	d = calloc(1, sizeof(*d));
	if (d == NULL)
		return NULL;
	dmarc_lower(d->from, from_domain, sizeof(d->from));
	dmarc_org_domain(d->from, d->org, sizeof(d->org));
	d->spf = SPF_NONE;
	buf_init(&d->comment, 256);
	buf_init(&d->reason, 512);
	return d;
}

void dmarc_free(struct dmarc *d)
{
	size_t i, j;

	if (d == NULL)
		return;
	for (i = 0; i < d->ndkim; i++)
		free(d->dkim[i]);
	free(d->dkim);
	for (i = 0; i < d->ncache; i++) {
		for (j = 0; j < d->cache[i].n; j++)
			free(d->cache[i].txt[j]);
		free(d->cache[i].txt);
		free(d->cache[i].name);
	}
	buf_free(&d->comment);
	buf_free(&d->reason);
	free(d);
}

void dmarc_spf(struct dmarc *d, enum spf_result r, const char *domain)
{
	d->spf = r;
	dmarc_lower(d->spf_domain, domain ? domain : "", sizeof(d->spf_domain));
}

int dmarc_dkim_pass(struct dmarc *d, const char *sdid)
{
	char **n = realloc(d->dkim, (d->ndkim + 1) * sizeof(char *));
	char tmp[DMARC_NAME_MAX + 1];

	if (n == NULL)
		return -1;
	d->dkim = n;
	dmarc_lower(tmp, sdid, sizeof(tmp));
	if ((d->dkim[d->ndkim] = strdup(tmp)) == NULL)
		return -1;
	d->ndkim++;
	return 0;
}

int dmarc_answer(struct dmarc *d, const char *name, enum spf_dns_status st,
                 const char *const *txt, size_t n)
{
	struct dmarc_txt *c;
	size_t i;

	if (d->ncache >= sizeof(d->cache) / sizeof(d->cache[0]))
		return -1;
	c = &d->cache[d->ncache];
	memset(c, 0, sizeof(*c));
	c->name = strdup(name);
	c->st = st;
	c->txt = n ? calloc(n, sizeof(char *)) : NULL;
	if (c->name == NULL || (n && c->txt == NULL)) {
		free(c->name);
		free(c->txt);
		return -1;
	}
	for (i = 0; i < n && (c->txt[i] = strdup(txt[i])) != NULL; i++)
		c->n++;
	d->ncache++;
	return c->n == n ? 0 : -1;
}

const char *dmarc_question(const struct dmarc *d)
{
	return d->q;
}

/* The cached answer for _dmarc.DOMAIN, or NULL (the question is set). */
static const struct dmarc_txt *dmarc_lookup(struct dmarc *d, const char *domain)
{
	size_t i;

	snprintf(d->q, sizeof(d->q), "_dmarc.%s", domain);
	for (i = 0; i < d->ncache; i++)
		if (strcmp(d->cache[i].name, d->q) == 0)
			return &d->cache[i];
	return NULL;
}

static int dmarc_policy_word(const char *v, size_t n, enum dmarc_policy *out)
{
	size_t i;

	for (i = 0; i < 3; i++)
		if (strlen(dmarc_pnames[i]) == n && strncasecmp(v, dmarc_pnames[i], n) == 0) {
			*out = (enum dmarc_policy)i;
			return 0;
		}
	return -1;
}

/* Parse one TXT string: 1 a DMARC record (rec filled), 0 not one (no
 * v=DMARC1 first, or no usable p and no rua). */
static int dmarc_parse(const char *t, struct dmarc_rec *rec)
{
	const char *p = t;
	int first = 1, p_ok = 0, sp_bad = 0, rua = 0;

	memset(rec, 0, sizeof(*rec));
	rec->pct = 100;
	while (*p) {
		const char *tag, *eq, *val, *end;
		size_t tl, vl;

		while (*p == ' ' || *p == '\t' || *p == ';')
			p++;
		if (*p == '\0')
			break;
		tag = p;
		end = strchr(p, ';');
		if (end == NULL)
			end = p + strlen(p);
		eq = memchr(p, '=', (size_t)(end - p));
		p = *end ? end + 1 : end;
		if (eq == NULL) {
			if (first)
				return 0;
			continue;
		}
		tl = (size_t)(eq - tag);
		while (tl > 0 && (tag[tl - 1] == ' ' || tag[tl - 1] == '\t'))
			tl--;
		val = eq + 1;
		while (val < end && (*val == ' ' || *val == '\t'))
			val++;
		vl = (size_t)(end - val);
		while (vl > 0 && (val[vl - 1] == ' ' || val[vl - 1] == '\t'))
			vl--;
		if (first) {
			/* "v" first, and exactly "DMARC1" (6.3). */
			if (tl != 1 || tag[0] != 'v' || vl != 6 || strncmp(val, "DMARC1", 6) != 0)
				return 0;
			first = 0;
			continue;
		}
		if (tl == 1 && tolower((unsigned char)tag[0]) == 'p')
			p_ok = dmarc_policy_word(val, vl, &rec->p) == 0;
		else if (tl == 2 && strncasecmp(tag, "sp", 2) == 0)
			sp_bad = !(rec->has_sp = dmarc_policy_word(val, vl, &rec->sp) == 0);
		else if (tl == 5 && strncasecmp(tag, "adkim", 5) == 0)
			rec->strict_dkim = vl == 1 && tolower((unsigned char)val[0]) == 's';
		else if (tl == 4 && strncasecmp(tag, "aspf", 4) == 0)
			rec->strict_spf = vl == 1 && tolower((unsigned char)val[0]) == 's';
		else if (tl == 3 && strncasecmp(tag, "pct", 3) == 0) {
			unsigned v = 0;
			size_t i;
			for (i = 0; i < vl && isdigit((unsigned char)val[i]) && v <= 100; i++)
				v = v * 10 + (unsigned)(val[i] - '0');
			if (i == vl && vl > 0 && v <= 100)
				rec->pct = v;
		} else if (tl == 3 && strncasecmp(tag, "rua", 3) == 0) {
			rua = vl > 7 && (strncasecmp(val, "mailto:", 7) == 0 || strncasecmp(val, "https:", 6) == 0);
		}
	}
	if (first)
		return 0;
	if (!p_ok || sp_bad) {
		if (!rua)
			return 0;
		rec->p = DMARC_P_NONE; /* 6.6.3: as if p=none */
		rec->has_sp = 0;
	}
	return 1;
}

/* The record of one domain: 1 found (rec), 0 none, 2 more than one (no
 * DMARC for this message, 6.6.3 step 5), -DMARC_TEMPERROR, -DMARC_NEED_DNS. */
static int dmarc_record(struct dmarc *d, const char *domain, struct dmarc_rec *rec)
{
	const struct dmarc_txt *c = dmarc_lookup(d, domain);
	struct dmarc_rec r;
	size_t i, found = 0;

	if (c == NULL)
		return -DMARC_NEED_DNS;
	if (c->st == SPF_DNS_ERROR)
		return -DMARC_TEMPERROR;
	for (i = 0; i < c->n; i++)
		if (dmarc_parse(c->txt[i], &r)) {
			*rec = r;
			found++;
		}
	return found > 1 ? 2 : (int)found;
}

static int dmarc_aligned(const struct dmarc *d, const char *id, int strict)
{
	char org[DMARC_NAME_MAX + 1];

	if (strcmp(id, d->from) == 0)
		return 1;
	if (strict)
		return 0;
	dmarc_org_domain(id, org, sizeof(org));
	return strcmp(org, d->org) == 0;
}

enum dmarc_result dmarc_eval(struct dmarc *d, unsigned roll)
{
	struct dmarc_rec rec;
	int r, at_org = 0, pass = 0;
	size_t i;

	buf_reset(&d->comment);
	buf_reset(&d->reason);
	d->published = d->disposition = DMARC_P_NONE;
	r = dmarc_record(d, d->from, &rec);
	if (r == 0 && strcmp(d->org, d->from) != 0) {
		r = dmarc_record(d, d->org, &rec);
		at_org = 1;
	}
	if (r == -DMARC_NEED_DNS)
		return DMARC_NEED_DNS;
	if (r == -DMARC_TEMPERROR) {
		buf_printf(&d->reason, "DNS error looking up %s", d->q);
		return DMARC_TEMPERROR;
	}
	if (r == 0 || r == 2) {
		buf_printf(&d->reason, r ? "more than one DMARC record for %s" : "no DMARC record for %s",
		           r && at_org ? d->org : d->from);
		return DMARC_NONE;
	}
	/* 6.6.3: a record found at the organizational domain for a
	 * subdomain's mail gives that subdomain sp= (or p=). */
	d->published = at_org && rec.has_sp ? rec.sp : rec.p;
	if (d->spf == SPF_PASS && d->spf_domain[0] && dmarc_aligned(d, d->spf_domain, rec.strict_spf)) {
		pass = 1;
		buf_printf(&d->reason, "SPF pass for %s is aligned with %s", d->spf_domain, d->from);
	}
	for (i = 0; !pass && i < d->ndkim; i++)
		if (dmarc_aligned(d, d->dkim[i], rec.strict_dkim)) {
			pass = 1;
			buf_printf(&d->reason, "DKIM pass for %s is aligned with %s", d->dkim[i], d->from);
		}
	if (!pass) {
		d->disposition = d->published;
		/* pct: the messages not sampled get the next lower policy (6.6.4). */
		if (roll >= rec.pct && d->disposition > DMARC_P_NONE)
			d->disposition = (enum dmarc_policy)(d->disposition - 1);
		buf_printf(&d->reason, "neither SPF nor DKIM passed aligned with %s", d->from);
	}
	buf_printf(&d->comment, "p=%s sp=%s dis=%s", dmarc_pnames[rec.p],
	           dmarc_pnames[rec.has_sp ? rec.sp : rec.p], dmarc_pnames[d->disposition]);
	return pass ? DMARC_PASS : DMARC_FAIL;
}

enum dmarc_policy dmarc_published(const struct dmarc *d)
{
	return d->published;
}

enum dmarc_policy dmarc_disposition(const struct dmarc *d)
{
	return d->disposition;
}

const char *dmarc_comment(const struct dmarc *d)
{
	return buf_cstr(&d->comment);
}

const char *dmarc_reason(const struct dmarc *d)
{
	return buf_cstr(&d->reason);
}
