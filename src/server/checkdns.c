/*
 * checkdns.c - the DNS checks of "clsmtpd -check-dns" and the command
 * itself (checkdns.h). Questions go to the system resolver (dnsq.h);
 * nothing is changed anywhere.
 */
#include "checkdns.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dkim_conf.h"
#include "dnsq.h"
#include "base/xalloc.h"

static void cd_add(struct cd_domain *d, const char *check, enum cd_status st, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void cd_add(struct cd_domain *d, const char *check, enum cd_status st, const char *fmt, ...)
{
	struct buf b = BUF_INIT(4096);
	va_list ap;

	if (d->n == CD_FINDINGS_MAX)
		return;
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	d->f[d->n].check = check;
	d->f[d->n].status = st;
	d->f[d->n].detail = buf_release(&b);
	d->n++;
}

const char *checkdns_status_name(enum cd_status s)
{
	return s == CD_OK ? "ok" : s == CD_WARN ? "warn" : s == CD_FAIL ? "fail" : "unknown";
}

enum cd_status checkdns_worst(const struct cd_domain *d)
{
	enum cd_status w = CD_OK;

	/* fail > unknown > warn > ok */
	for (size_t i = 0; i < d->n; i++) {
		enum cd_status s = d->f[i].status;
		if (s == CD_FAIL || (s == CD_UNKNOWN && w != CD_FAIL) ||
		    (s == CD_WARN && w == CD_OK))
			w = s;
	}
	return w;
}

static int cd_same_name(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	while (la > 0 && a[la - 1] == '.')
		la--;
	while (lb > 0 && b[lb - 1] == '.')
		lb--;
	return la == lb && strncasecmp(a, b, la) == 0;
}

/* clsmtpd receives mail from the world: a listener on port 25. */
static int cd_receives(const struct conf *c)
{
	for (size_t i = 0; i < c->nlisten; i++)
		if (strcmp(c->listen[i].port, "25") == 0)
			return 1;
	return 0;
}

static int cd_our_domain(const struct conf *c, const char *domain)
{
	for (size_t i = 0; i < c->ndomain; i++)
		if (cd_same_name(c->domain[i], domain))
			return 1;
	return 0;
}

/* A name's IPv4 addresses, or its IPv6 ones when it has none. */
static enum spf_dns_status cd_addrs(const char *name, struct dnsq_rr *addr)
{
	enum spf_dns_status st = dnsq_query(name, SPF_Q_A, addr);

	if (st == SPF_DNS_OK && addr->n == 0)
		st = dnsq_query(name, SPF_Q_AAAA, addr);
	return st;
}

static void cd_mx(const struct conf *c, const char *domain, struct cd_domain *d)
{
	int receiving = cd_receives(c) && cd_our_domain(c, domain), ours = 0;
	struct dnsq_rr mx, addr;
	struct buf list = BUF_INIT(4096);
	enum spf_dns_status st = dnsq_query(domain, SPF_Q_MX, &mx);

	if (st == SPF_DNS_NXDOMAIN) {
		cd_add(d, "mx", CD_FAIL, "%s does not exist in the DNS (NXDOMAIN)", domain);
		return;
	}
	if (st == SPF_DNS_ERROR) {
		cd_add(d, "mx", CD_UNKNOWN,
		       "the MX query for %s failed (no answer from the resolver)", domain);
		return;
	}
	for (size_t i = 0; i < mx.n; i++) {
		buf_printf(&list, "%s%u %s", i ? ", " : "", mx.pref[i], mx.v[i]);
		ours |= cd_same_name(mx.v[i], c->hostname);
		if (cd_addrs(mx.v[i], &addr) == SPF_DNS_ERROR)
			cd_add(d, "mx", CD_UNKNOWN, "the address query for MX host %s failed",
			       mx.v[i]);
		else if (addr.n == 0)
			cd_add(d, "mx", CD_FAIL, "MX host %s has no address", mx.v[i]);
		dnsq_rr_free(&addr);
	}
	if (mx.n == 0 && receiving) {
		cd_add(d, "mx", CD_FAIL, "no MX record: mail for %s cannot find this server",
		       domain);
		buf_printf(&d->publish, "%s. IN MX 10 %s.\n", domain, c->hostname);
	} else if (mx.n == 0) {
		cd_add(d, "mx", CD_OK, "no MX record (this server does not receive mail for %s)",
		       domain);
	} else if (receiving && !ours) {
		cd_add(d, "mx", CD_WARN, "MX %s, not this server (hostname %s)", buf_cstr(&list),
		       c->hostname);
	} else {
		cd_add(d, "mx", CD_OK, "MX %s", buf_cstr(&list));
	}
	buf_free(&list);
	dnsq_rr_free(&mx);
}

/* The SPF record(s) of domain: how many, and the first. */
static size_t cd_spf_records(const char *domain, char **first, enum spf_dns_status *st)
{
	struct dnsq_rr txt;
	size_t n = 0;

	*first = NULL;
	*st = dnsq_query(domain, SPF_Q_TXT, &txt);
	for (size_t i = 0; i < txt.n; i++)
		if (strncasecmp(txt.v[i], "v=spf1", 6) == 0 &&
		    (txt.v[i][6] == '\0' || txt.v[i][6] == ' ')) {
			if (n++ == 0)
				*first = xstrdup(txt.v[i]);
		}
	dnsq_rr_free(&txt);
	return n;
}

static void cd_spf(const struct conf *c, const char *domain, struct cd_domain *d)
{
	const struct relay_conf *rc = &c->relay;
	int signs = dkim_conf_signs(&c->dkim, domain);
	enum spf_dns_status st;
	char *rec = NULL, sender[512];
	size_t n = cd_spf_records(domain, &rec, &st);
	struct dnsq_rr addr;

	if (st == SPF_DNS_ERROR) {
		cd_add(d, "spf", CD_UNKNOWN, "the TXT query for %s failed", domain);
		return;
	}
	if (n == 0) {
		cd_add(d, "spf", signs ? CD_WARN : CD_FAIL,
		       "no SPF record: receivers cannot tell which servers may send for %s%s",
		       domain, signs ? " (DKIM still carries your mail)" : "");
		buf_printf(
		    &d->publish,
		    "%s. IN TXT \"v=spf1 %sinclude:<the SPF include your ISP gives> ~all\"\n",
		    domain, cd_receives(c) ? "mx " : "");
		return;
	}
	if (n > 1) {
		cd_add(
		    d, "spf", CD_FAIL,
		    "%zu SPF records: receivers treat that as an error (RFC 7208 4.5); merge them "
		    "into one",
		    n);
		free(rec);
		return;
	}
	if (rc->mode == RELAY_MODE_MX || rc->host == NULL) {
		cd_add(d, "spf", CD_UNKNOWN,
		       "\"%s\"; mail leaves from this machine's public address, which cannot be "
		       "learned here: make sure the record names it",
		       rec);
		free(rec);
		return;
	}
	/* The smarthost's own addresses: the nearest thing to the ISP's
	 * outbound servers that can be known here. */
	snprintf(sender, sizeof(sender), "postmaster@%s", domain);
	if (cd_addrs(rc->host, &addr) != SPF_DNS_OK || addr.n == 0) {
		cd_add(d, "spf", CD_UNKNOWN, "\"%s\"; the smarthost %s has no address to check",
		       rec, rc->host);
	} else {
		struct spf *s = spf_new(addr.v[0], sender, c->hostname);
		enum spf_result r = s ? dnsq_spf(s) : SPF_TEMPERROR;
		if (r == SPF_PASS)
			cd_add(
			    d, "spf", CD_OK,
			    "\"%s\" passes for the smarthost %s (%s); the servers your ISP sends "
			    "from may be others: its documentation or support says which",
			    rec, rc->host, addr.v[0]);
		else
			cd_add(d, "spf", signs ? CD_WARN : CD_FAIL,
			       "\"%s\" gives %s for the smarthost %s (%s): SPF passes only if the "
			       "ISP's "
			       "outbound servers are in it; ask your ISP for its SPF include%s",
			       rec, spf_result_name(r), rc->host, addr.v[0],
			       signs ? " (DKIM carries your mail meanwhile)" : "");
		spf_free(s);
	}
	dnsq_rr_free(&addr);
	free(rec);
}

/* The p= of a DKIM record, blanks removed. */
static void cd_dkim_p(const char *rec, struct buf *out)
{
	const char *p = rec;

	buf_reset(out);
	while ((p = strstr(p, "p=")) != NULL && p != rec && p[-1] != ';' && p[-1] != ' ' &&
	       p[-1] != '\t')
		p += 2;
	if (p == NULL)
		return;
	for (p += 2; *p && *p != ';'; p++)
		if (!isspace((unsigned char)*p))
			buf_addc(out, *p);
}

static void cd_dkim(const struct conf *c, const char *domain, struct cd_domain *d)
{
	struct buf want = BUF_INIT(8192), got = BUF_INIT(8192), wantp = BUF_INIT(8192);
	struct cl_err err;
	int any = 0;

	for (size_t i = 0; i < c->dkim.n; i++) {
		const struct dkim_signer *s = &c->dkim.s[i];
		char name[600];
		struct dnsq_rr txt;
		enum spf_dns_status st;
		size_t k;
		if (!cd_same_name(s->domain, domain))
			continue;
		any = 1;
		buf_reset(&want);
		if (s->key.pkey == NULL || dkim_key_record(&s->key, &want, &err) < 0) {
			cd_add(d, "dkim", CD_UNKNOWN, "selector %s: the key %s could not be read",
			       s->selector, s->path);
			continue;
		}
		cd_dkim_p(buf_cstr(&want), &wantp);
		snprintf(name, sizeof(name), "%s._domainkey.%s", s->selector, domain);
		st = dnsq_query(name, SPF_Q_TXT, &txt);
		for (k = 0; k < txt.n; k++) {
			cd_dkim_p(txt.v[k], &got);
			if (got.len == wantp.len && memcmp(got.data, wantp.data, got.len) == 0)
				break;
		}
		if (st == SPF_DNS_ERROR)
			cd_add(d, "dkim", CD_UNKNOWN, "selector %s: the TXT query for %s failed",
			       s->selector, name);
		else if (k < txt.n)
			cd_add(d, "dkim", CD_OK, "selector %s (%s): %s matches the key %s",
			       s->selector, dkim_key_sig_name(&s->key), name, s->path);
		else {
			cd_add(d, "dkim", CD_FAIL, "selector %s: %s %s", s->selector, name,
			       txt.n ? "holds another key than the configured one"
			             : "has no record: receivers cannot verify the signature");
			dkim_zone_line(s->selector, domain, buf_cstr(&want), &d->publish);
		}
		dnsq_rr_free(&txt);
	}
	if (!any)
		cd_add(d, "dkim", CD_WARN,
		       "mail From %s is not DKIM-signed: clsmtpd -dkim-keygen %s SELECTOR, then "
		       "dkim_sign in clsmtpd.conf",
		       domain, domain);
	buf_free(&want);
	buf_free(&got);
	buf_free(&wantp);
}

static void cd_dmarc(const struct conf *c, const char *domain, struct cd_domain *d)
{
	struct dmarc *m = dmarc_new(domain);
	enum dmarc_result r = m ? dnsq_dmarc(m) : DMARC_TEMPERROR;
	int signs = dkim_conf_signs(&c->dkim, domain);

	if (r == DMARC_TEMPERROR || m == NULL) {
		cd_add(d, "dmarc", CD_UNKNOWN, "the DMARC query for _dmarc.%s failed", domain);
	} else if (r == DMARC_NONE || r == DMARC_PERMERROR) {
		cd_add(d, "dmarc", CD_WARN,
		       "%s: receivers apply their own judgement; publish a policy, p=none first "
		       "and read the reports",
		       r == DMARC_NONE ? "no DMARC record" : "the DMARC record is malformed");
		buf_printf(&d->publish,
		           "_dmarc.%s. IN TXT \"v=DMARC1; p=none; rua=mailto:postmaster@%s\"\n",
		           domain, domain);
	} else {
		enum dmarc_policy p = dmarc_published(m);
		if (p == DMARC_P_NONE)
			cd_add(d, "dmarc", CD_OK,
			       "p=none: receivers only report; move to quarantine once the reports "
			       "show your mail aligned");
		else if (signs)
			cd_add(d, "dmarc", CD_OK,
			       "p=%s: mail From %s that is not aligned is %s; clsmtpd's DKIM "
			       "signature (d=%s) aligns",
			       dmarc_policy_name(p), domain,
			       p == DMARC_P_REJECT ? "refused" : "put in spam", domain);
		else
			cd_add(d, "dmarc", CD_FAIL,
			       "p=%s, but clsmtpd does not sign mail From %s: unless SPF aligns, "
			       "receivers %s it",
			       dmarc_policy_name(p), domain,
			       p == DMARC_P_REJECT ? "refuse" : "put in spam");
	}
	dmarc_free(m);
}

static void cd_ptr(const struct conf *c, struct cd_domain *d)
{
	struct dnsq_rr addr, ptr;
	enum spf_dns_status st = cd_addrs(c->hostname, &addr);

	if (st == SPF_DNS_ERROR) {
		cd_add(d, "ptr", CD_UNKNOWN, "the address query for %s failed", c->hostname);
		return;
	}
	if (addr.n == 0) {
		cd_add(d, "ptr", CD_FAIL, "this server's name %s has no address", c->hostname);
		return;
	}
	for (size_t i = 0; i < addr.n; i++) {
		size_t k = 0;
		if (dnsq_query(addr.v[i], SPF_Q_PTR, &ptr) != SPF_DNS_OK) {
			cd_add(d, "ptr", CD_UNKNOWN, "the PTR query for %s failed", addr.v[i]);
			continue;
		}
		while (k < ptr.n && !cd_same_name(ptr.v[k], c->hostname))
			k++;
		if (k < ptr.n)
			cd_add(d, "ptr", CD_OK, "%s has the address %s, whose PTR is %s",
			       c->hostname, addr.v[i], c->hostname);
		else
			cd_add(
			    d, "ptr", CD_WARN,
			    "the PTR of %s is %s, not %s: many receivers distrust a server whose "
			    "name and address disagree; ask your ISP to set it",
			    addr.v[i], ptr.n ? ptr.v[0] : "missing", c->hostname);
		dnsq_rr_free(&ptr);
	}
	dnsq_rr_free(&addr);
}

void checkdns_domain(const struct conf *c, const char *domain, struct cd_domain *out)
{
	memset(out, 0, sizeof(*out));
	out->domain = xstrdup(domain);
	buf_init(&out->publish, 64 * 1024);
	cd_mx(c, domain, out);
	cd_spf(c, domain, out);
	cd_dkim(c, domain, out);
	cd_dmarc(c, domain, out);
	if (cd_receives(c) && cd_our_domain(c, domain))
		cd_ptr(c, out);
}

void checkdns_free(struct cd_domain *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->f[i].detail);
	free(d->domain);
	buf_free(&d->publish);
}

int checkdns_main(int argc, char **argv)
{
	const char *cfile = CONF_DEFAULT_FILE, *only = NULL;
	struct cd_domain *doms = NULL;
	struct buf out = BUF_INIT((size_t)4 << 20);
	struct conf *c = NULL;
	struct cl_err err;
	int i, json = 0, is = 0, rc = 0;
	size_t n = 0;

	for (i = 1; i < argc; i++)
		is |= strcmp(argv[i], "-check-dns") == 0;
	if (!is)
		return -1;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-check-dns") == 0)
			continue;
		if (strcmp(argv[i], "-f") == 0 && i + 1 < argc)
			cfile = argv[++i];
		else if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else if (argv[i][0] != '-' && only == NULL)
			only = argv[i];
		else {
			fprintf(stderr,
			        "usage: clsmtpd [-f config] -check-dns [DOMAIN] [--json]\n");
			return 64;
		}
	}
	err_clear(&err);
	if (conf_load(&c, cfile, &err) < 0) {
		fprintf(stderr, "clsmtpd: %s\n", err.msg);
		return 78;
	}
	/* The keys are compared with the records: read them (as at start). */
	if (dkim_conf_load_keys(&c->dkim, &err) < 0)
		fprintf(stderr, "clsmtpd: %s (its record is not checked)\n", err.msg);
	doms = xcalloc(c->ndomain + c->dkim.n + 1, sizeof(*doms));
	if (only != NULL) {
		checkdns_domain(c, only, &doms[n++]);
	} else {
		/* Our domains, then the signing domains not among them. */
		const char **names = xcalloc(c->ndomain + c->dkim.n + 1, sizeof(*names));
		size_t k = 0;
		for (size_t j = 0; j < c->ndomain; j++)
			names[k++] = c->domain[j];
		for (size_t j = 0; j < c->dkim.n; j++) {
			size_t m = 0;
			while (m < k && !cd_same_name(names[m], c->dkim.s[j].domain))
				m++;
			if (m == k)
				names[k++] = c->dkim.s[j].domain;
		}
		for (size_t j = 0; j < k; j++)
			checkdns_domain(c, names[j], &doms[n++]);
		free(names);
	}
	if (n == 0) {
		fprintf(stderr, "clsmtpd: %s names no domain and no dkim_sign: give a DOMAIN\n",
		        cfile);
		rc = 64;
	} else {
		if (json)
			checkdns_json(doms, n, &out);
		else
			checkdns_text(doms, n, &out);
		fwrite(out.data, 1, out.len, stdout);
		/* 0: nothing fails; 1: a check fails; 69: the DNS did not answer. */
		for (size_t j = 0; j < n; j++) {
			enum cd_status w = checkdns_worst(&doms[j]);
			if (w == CD_FAIL)
				rc = 1;
			else if (w == CD_UNKNOWN && rc == 0)
				rc = 69;
		}
	}
	for (size_t j = 0; j < n; j++)
		checkdns_free(&doms[j]);
	free(doms);
	buf_free(&out);
	conf_free(c);
	return rc;
}
