/*
 * doctor_discover.c - where to submit mail for user@domain (see
 * doctor_discover.h). DNS through the system resolver (res_nquery, with
 * short timeouts); answers parsed here with dn_expand, so that the parser
 * can be tested on bytes. Presets come from config.c's providers.conf.
 * Common names are tried before the MX: an MX host receives mail for the
 * domain on port 25 and often takes no submissions (gmail-smtp-in...).
 */
#include "doctor_discover.h"

#include <arpa/nameser.h>
#include <ctype.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "config.h"

#define DOCTOR_DNS_ANSWER_MAX 8192

static void doctor_step(struct doctor_discovery *d, const char *what, const char *fmt, ...)
    BUF_PRINTF(3, 4);

static void doctor_step(struct doctor_discovery *d, const char *what, const char *fmt, ...)
{
	struct doctor_step *s;
	va_list ap;

	if (d->nsteps == DOCTOR_STEPS_MAX)
		return;
	s = &d->steps[d->nsteps++];
	snprintf(s->what, sizeof(s->what), "%s", what);
	va_start(ap, fmt);
	vsnprintf(s->result, sizeof(s->result), fmt, ap);
	va_end(ap);
}

/* Copy s into out (n bytes), cut if it must be. */
static void doctor_copy(char *out, size_t n, const char *s)
{
	size_t l = strnlen(s, n - 1);

	memcpy(out, s, l);
	out[l] = '\0';
}

static unsigned doctor_get16(const unsigned char *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

/* Walk the answer section; call fn for each record of type want. */
static int doctor_dns_walk(const unsigned char *msg, size_t len, unsigned want,
                           int (*fn)(void *arg, const unsigned char *msg, size_t len,
                                     const unsigned char *rd, size_t rdlen),
                           void *arg)
{
	const unsigned char *p = msg + HFIXEDSZ, *end = msg + len;
	unsigned qd, an, type, rdlen, i;
	int k;

	if (len < HFIXEDSZ)
		return -1;
	qd = doctor_get16(msg + 4);
	an = doctor_get16(msg + 6);
	for (i = 0; i < qd; i++) {
		k = dn_skipname(p, end);
		if (k < 0 || end - (p + k) < QFIXEDSZ)
			return -1;
		p += k + QFIXEDSZ;
	}
	for (i = 0; i < an; i++) {
		k = dn_skipname(p, end);
		if (k < 0 || end - (p + k) < RRFIXEDSZ)
			return -1;
		p += k;
		type = doctor_get16(p);
		rdlen = doctor_get16(p + 8);
		p += RRFIXEDSZ;
		if ((size_t)(end - p) < rdlen)
			return -1;
		if (type == want && fn(arg, msg, len, p, rdlen) < 0)
			return -1;
		p += rdlen;
	}
	return 0;
}

struct doctor_srv_acc {
	struct doctor_srv *out;
	size_t max, n;
};

static int doctor_srv_one(void *arg, const unsigned char *msg, size_t len, const unsigned char *rd,
                          size_t rdlen)
{
	struct doctor_srv_acc *a = arg;
	struct doctor_srv *s;
	size_t tl;

	if (rdlen < 7)
		return -1;
	if (a->n == a->max)
		return 0;
	s = &a->out[a->n];
	s->prio = doctor_get16(rd);
	s->weight = doctor_get16(rd + 2);
	s->port = doctor_get16(rd + 4);
	if (dn_expand(msg, msg + len, rd + 6, s->target, sizeof(s->target)) < 0)
		return -1;
	/* RFC 2782: a target of "." means "decidedly not available". */
	if (s->target[0] == '\0')
		snprintf(s->target, sizeof(s->target), ".");
	tl = strlen(s->target);
	if (tl > 1 && s->target[tl - 1] == '.')
		s->target[tl - 1] = '\0';
	a->n++;
	return 0;
}

static int doctor_srv_cmp(const void *x, const void *y)
{
	const struct doctor_srv *a = x, *b = y;

	if (a->prio != b->prio)
		return a->prio < b->prio ? -1 : 1;
	if (a->weight != b->weight)
		return a->weight > b->weight ? -1 : 1;
	return strcmp(a->target, b->target);
}

int doctor_discover_parse_srv(const unsigned char *msg, size_t len, struct doctor_srv *out,
                              size_t max, size_t *n)
{
	struct doctor_srv_acc a = {out, max, 0};

	*n = 0;
	if (doctor_dns_walk(msg, len, ns_t_srv, doctor_srv_one, &a) < 0)
		return -1;
	/* Deterministic: the weight's random choice (RFC 2782) would make
	 * two doctor runs disagree; the heaviest of the best priority. */
	qsort(out, a.n, sizeof(*out), doctor_srv_cmp);
	*n = a.n;
	return 0;
}

struct doctor_mx_acc {
	struct doctor_mx *out;
	size_t max, n;
};

static int doctor_mx_one(void *arg, const unsigned char *msg, size_t len, const unsigned char *rd,
                         size_t rdlen)
{
	struct doctor_mx_acc *a = arg;
	struct doctor_mx *m;
	size_t hl;

	if (rdlen < 3)
		return -1;
	if (a->n == a->max)
		return 0;
	m = &a->out[a->n];
	m->pref = doctor_get16(rd);
	if (dn_expand(msg, msg + len, rd + 2, m->host, sizeof(m->host)) < 0)
		return -1;
	hl = strlen(m->host);
	if (hl > 1 && m->host[hl - 1] == '.')
		m->host[hl - 1] = '\0';
	/* RFC 7505: "0 ." is a null MX, the domain takes no mail. */
	if (m->host[0] != '\0' && strcmp(m->host, ".") != 0)
		a->n++;
	return 0;
}

static int doctor_mx_cmp(const void *x, const void *y)
{
	const struct doctor_mx *a = x, *b = y;

	if (a->pref != b->pref)
		return a->pref < b->pref ? -1 : 1;
	return strcmp(a->host, b->host);
}

int doctor_discover_parse_mx(const unsigned char *msg, size_t len, struct doctor_mx *out,
                             size_t max, size_t *n)
{
	struct doctor_mx_acc a = {out, max, 0};

	*n = 0;
	if (doctor_dns_walk(msg, len, ns_t_mx, doctor_mx_one, &a) < 0)
		return -1;
	qsort(out, a.n, sizeof(*out), doctor_mx_cmp);
	*n = a.n;
	return 0;
}

int doctor_discover_domain_in(const char *domain, const char *list)
{
	size_t dl = strlen(domain), wl;
	const char *p = list;

	while (p && *p) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		wl = strcspn(p, " \t,");
		if (wl == dl && dl > 0 && strncasecmp(p, domain, dl) == 0)
			return 1;
		p += wl;
	}
	return 0;
}

/* One DNS query; the length of the answer, or -1 with *why. */
static int doctor_dns_query(const char *name, int type, unsigned char *ans, size_t max,
                            const char **why)
{
	struct __res_state st;
	int n;

	memset(&st, 0, sizeof(st));
	if (res_ninit(&st) != 0) {
		*why = "the resolver could not be initialised";
		return -1;
	}
	st.retrans = DOCTOR_DNS_RETRANS_S;
	st.retry = DOCTOR_DNS_TRIES;
	n = res_nquery(&st, name, ns_c_in, type, ans, (int)max);
	if (n < 0) {
		switch (st.res_h_errno) {
		case HOST_NOT_FOUND:
			*why = "none (no such name)";
			break;
		case NO_DATA:
			*why = "none";
			break;
		case TRY_AGAIN:
			*why = "no answer (DNS timeout or server failure)";
			break;
		default:
			*why = "DNS error";
			break;
		}
	}
	res_nclose(&st);
	return n;
}

static int doctor_resolves(const char *name, int family)
{
	struct addrinfo hints, *res = NULL;
	int r;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = SOCK_STREAM;
	r = getaddrinfo(name, NULL, &hints, &res);
	if (res)
		freeaddrinfo(res);
	return r == 0;
}

static int doctor_try_srv(struct doctor_discovery *d, const char *service, int implicit)
{
	unsigned char ans[DOCTOR_DNS_ANSWER_MAX];
	struct doctor_srv srv[DOCTOR_DNS_RR_MAX];
	char name[DOCTOR_HOST_MAX + 32], what[DOCTOR_HOST_MAX + 40];
	const char *why = "";
	size_t n = 0, i;
	int len;

	snprintf(name, sizeof(name), "%s._tcp.%s", service, d->domain);
	snprintf(what, sizeof(what), "SRV %s", name);
	len = doctor_dns_query(name, ns_t_srv, ans, sizeof(ans), &why);
	if (len < 0) {
		doctor_step(d, what, "%s", why);
		return 0;
	}
	if (doctor_discover_parse_srv(ans, (size_t)len, srv, DOCTOR_DNS_RR_MAX, &n) < 0) {
		doctor_step(d, what, "malformed DNS answer");
		return 0;
	}
	for (i = 0; i < n; i++) {
		if (strcmp(srv[i].target, ".") == 0 || srv[i].port == 0) {
			doctor_step(d, what, "\".\": the domain says this service is not offered");
			return 0;
		}
		doctor_copy(d->host, sizeof(d->host), srv[i].target);
		d->port = (int)srv[i].port;
		d->port_implicit_tls = implicit;
		d->method = "srv";
		doctor_step(d, what, "%s port %u (priority %u, weight %u)", srv[i].target,
		            srv[i].port, srv[i].prio, srv[i].weight);
		return 1;
	}
	doctor_step(d, what, "none");
	return 0;
}

/* A preset's host may be "smtp.%{domain}" for providers with one server
 * per customer domain. */
static void doctor_preset_host(const char *tmpl, const char *domain, char *out, size_t n)
{
	const char *m = strstr(tmpl, "%{domain}");
	struct buf b = BUF_INIT(1024);

	if (m)
		buf_printf(&b, "%.*s%s%s", (int)(m - tmpl), tmpl, domain, m + 9);
	else
		buf_adds(&b, tmpl);
	doctor_copy(out, n, buf_cstr(&b));
	buf_free(&b);
}

static int doctor_try_preset(struct doctor_discovery *d)
{
	struct config c;
	struct cl_err e;
	size_t i;
	int found = 0;

	err_clear(&e);
	if (config_load_presets(&c, NULL, &e) < 0) {
		doctor_step(d, "provider presets", "not available: %s", e.msg);
		config_free(&c);
		return 0;
	}
	for (i = 0; i < c.naccounts && !found; i++) {
		const struct config_account *a = &c.accounts[i];

		if (a->domains == NULL || a->host == NULL ||
		    !doctor_discover_domain_in(d->domain, a->domains))
			continue;
		doctor_preset_host(a->host, d->domain, d->host, sizeof(d->host));
		/* NOLINTNEXTLINE(cert-err34-c): config.c checked it is a number from 1 to 65535 */
		d->port = a->port ? atoi(a->port) : 0;
		d->port_implicit_tls = a->tls_mode_set && a->tls_mode == SMTP_TLS_SMTPS;
		snprintf(d->preset, sizeof(d->preset), "%s", a->name ? a->name : "?");
		snprintf(d->preset_auth, sizeof(d->preset_auth), "%s", a->auth ? a->auth : "");
		d->method = "preset";
		doctor_step(d, "provider presets", "%s (%s): %s port %s", d->preset,
		            a->title ? a->title : d->preset, d->host, a->port ? a->port : "?");
		found = 1;
	}
	if (!found)
		doctor_step(d, "provider presets", "none for %s", d->domain);
	config_free(&c);
	return found;
}

static int doctor_try_names(struct doctor_discovery *d, int family)
{
	static const char *const prefixes[] = {"smtp", "mail"};
	char name[DOCTOR_HOST_MAX], what[DOCTOR_HOST_MAX + 16];
	size_t i;

	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		if ((size_t)snprintf(name, sizeof(name), "%s.%s", prefixes[i], d->domain) >=
		    sizeof(name))
			continue;
		snprintf(what, sizeof(what), "name %s", name);
		if (doctor_resolves(name, family)) {
			doctor_copy(d->host, sizeof(d->host), name);
			d->method = "name";
			doctor_step(d, what, "exists");
			return 1;
		}
		doctor_step(d, what, "does not resolve");
	}
	return 0;
}

static int doctor_try_mx(struct doctor_discovery *d, int family)
{
	unsigned char ans[DOCTOR_DNS_ANSWER_MAX];
	struct doctor_mx mx[DOCTOR_DNS_RR_MAX];
	char what[DOCTOR_HOST_MAX + 8];
	const char *why = "";
	size_t n = 0, i;
	int len;

	snprintf(what, sizeof(what), "MX %s", d->domain);
	len = doctor_dns_query(d->domain, ns_t_mx, ans, sizeof(ans), &why);
	if (len < 0) {
		doctor_step(d, what, "%s", why);
		return 0;
	}
	if (doctor_discover_parse_mx(ans, (size_t)len, mx, DOCTOR_DNS_RR_MAX, &n) < 0) {
		doctor_step(d, what, "malformed DNS answer");
		return 0;
	}
	for (i = 0; i < n; i++) {
		if (!doctor_resolves(mx[i].host, family))
			continue;
		doctor_copy(d->host, sizeof(d->host), mx[i].host);
		d->method = "mx";
		doctor_step(d, what, "%s (preference %u)", mx[i].host, mx[i].pref);
		return 1;
	}
	doctor_step(d, what, n ? "no MX host resolves" : "none");
	return 0;
}

static int doctor_name_ok(const char *s)
{
	if (*s == '\0' || strlen(s) >= DOCTOR_HOST_MAX)
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || *s == 0x7f || strchr("\"'\\/<>()[],;", *s))
			return 0;
	return 1;
}

int doctor_discover(const char *target, int family, struct doctor_discovery *d, struct cl_err *err)
{
	const char *at;

	memset(d, 0, sizeof(*d));
	if (target == NULL || target[0] == '\0')
		return err_set(err, CL_EUSAGE,
		               "--doctor wants a server name or an address: clsmtpc --doctor "
		               "HOST, or clsmtpc --doctor you@example.com");
	snprintf(d->target, sizeof(d->target), "%s", target);
	at = strrchr(target, '@');
	if (at == NULL) {
		if (!doctor_name_ok(target))
			return err_set(err, CL_EUSAGE, "--doctor: '%s' is not a host name", target);
		snprintf(d->host, sizeof(d->host), "%s", target);
		d->method = "given";
		return 0;
	}
	if (at == target || !doctor_name_ok(at + 1) || !doctor_name_ok(target))
		return err_set(err, CL_EUSAGE, "--doctor: '%s' is not an address (user@domain)",
		               target);
	snprintf(d->address, sizeof(d->address), "%s", target);
	snprintf(d->domain, sizeof(d->domain), "%s", at + 1);
	for (char *p = d->domain; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	/* RFC 8314 5.1: implicit TLS (submissions) is preferred over
	 * submission with STARTTLS when both are published. */
	if (doctor_try_srv(d, "_submissions", 1) || doctor_try_srv(d, "_submission", 0) ||
	    doctor_try_preset(d) || doctor_try_names(d, family) || doctor_try_mx(d, family))
		return 0;
	return err_set(err, CL_ENOHOST,
	               "no submission server found for %s: no SRV record, no preset, no smtp. or "
	               "mail. name, no MX",
	               d->domain);
}
