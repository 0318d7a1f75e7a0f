/*
 * doctor_conclude.c - the doctor's verdict (see doctor_conclude.h): port
 * 25 first, because OP25B is why most users come here; then the port to
 * use, the mechanism, whether the credentials work; warnings; and the
 * command line and account block, built from what actually answered.
 */
#include "doctor_conclude.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "sasl/sasl_client.h"

#define DOCTOR_SUMMARY_MAX (16 * 1024)
/* Shown where the user has to put their own value. */
#define DOCTOR_USER_PLACEHOLDER "USER"
#define DOCTOR_ADDR_PLACEHOLDER "ADDRESS"

static const struct doctor_port *doctor_find_port(const struct doctor_report *r, int port)
{
	size_t i;

	for (i = 0; i < r->nports; i++)
		if (r->ports[i].port == port)
			return &r->ports[i];
	return NULL;
}

/* "AB:CD" and "abcd" name the same fingerprint. */
static int doctor_fpr_equal(const char *a, const char *b)
{
	for (;;) {
		while (*a == ':' || *a == ' ')
			a++;
		while (*b == ':' || *b == ' ')
			b++;
		if (*a == '\0' || *b == '\0')
			return *a == *b;
		if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
			return 0;
		a++;
		b++;
	}
}

/* TLS is up and the user would accept it: verified, or the certificate
 * they pinned, or they turned checking off themselves. */
static int doctor_tls_trusted(const struct doctor_port *p, const struct client_opts *o)
{
	if (!p->smtp.tls_up)
		return 0;
	if (o->fingerprint)
		return doctor_fpr_equal(o->fingerprint, p->smtp.peer.sha256);
	return p->smtp.peer.verify == TLS_VERIFY_OK || !o->certcheck;
}

static int doctor_usable(const struct doctor_port *p, const struct client_opts *o)
{
	if (p->state != DOCTOR_OPEN && p->state != DOCTOR_TLS_FAILURE)
		return 0;
	if (!p->smtp.completed || !doctor_tls_trusted(p, o))
		return 0;
	return (p->smtp.tls.caps.flags & CAP_AUTH) != 0;
}

static int doctor_port_rank(const struct doctor_port *p, int disc_port)
{
	int rank;

	switch (p->port) {
	case 465:
		rank = 4;
		break;
	case 587:
		rank = 3;
		break;
	case 2525:
		rank = 2;
		break;
	case 25:
		rank = 0;
		break;
	default:
		rank = 1;
		break;
	}
	/* RFC 8314 3: implicit TLS is preferred to STARTTLS; within one
	 * mode, the port the domain itself published wins. */
	return (p->implicit_tls ? 100 : 0) + (p->port == disc_port ? 10 : 0) + rank;
}

int doctor_conclude_choose(const struct doctor_report *r, const struct client_opts *o)
{
	int best = -1, best_rank = -1, rank;
	size_t i;

	for (i = 0; i < r->nports; i++) {
		if (!doctor_usable(&r->ports[i], o))
			continue;
		rank = doctor_port_rank(&r->ports[i], r->disc.port);
		if (rank > best_rank) {
			best_rank = rank;
			best = (int)i;
		}
	}
	return best;
}

int doctor_conclude_quote(struct buf *out, const char *arg)
{
	const char *p;
	int plain = arg[0] != '\0';

	for (p = arg; *p && plain; p++)
		if (!isalnum((unsigned char)*p) && !strchr("@%+=:,./_-", *p))
			plain = 0;
	if (plain)
		return buf_adds(out, arg);
	if (buf_addc(out, '\'') < 0)
		return -1;
	for (p = arg; *p; p++) {
		if (*p == '\'' ? buf_adds(out, "'\\''") < 0 : buf_addc(out, *p) < 0)
			return -1;
	}
	return buf_addc(out, '\'');
}

/* "PLAIN", "PLAIN and LOGIN", "SCRAM-SHA-256, PLAIN and LOGIN". */
static void doctor_words_and(struct buf *b, const char *list)
{
	char tmp[SMTP_CAPS_AUTH_MAX];
	char *words[64], *save = NULL, *w;
	size_t n = 0, i;

	snprintf(tmp, sizeof(tmp), "%s", list);
	for (w = strtok_r(tmp, " ", &save); w && n < 64; w = strtok_r(NULL, " ", &save))
		words[n++] = w;
	for (i = 0; i < n; i++) {
		if (i > 0)
			buf_adds(b, i + 1 == n ? " and " : ", ");
		buf_adds(b, words[i]);
	}
}

/* 1 if word is one of the space-separated words of list (any case). */
static int doctor_word_in(const char *word, const char *list)
{
	size_t wl = strlen(word), l;

	while (*list) {
		while (*list == ' ')
			list++;
		l = strcspn(list, " ");
		if (l == wl && l > 0 && strncasecmp(list, word, l) == 0)
			return 1;
		list += l;
	}
	return 0;
}

/* 1 if every mechanism offered is a weak one (and there is one). */
static int doctor_all_weak(const char *mechs)
{
	char tmp[SMTP_CAPS_AUTH_MAX];
	char *save = NULL, *w;
	int any = 0;

	snprintf(tmp, sizeof(tmp), "%s", mechs);
	for (w = strtok_r(tmp, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		if (!doctor_word_in(w, DOCTOR_WEAK_MECHS))
			return 0;
		any = 1;
	}
	return any;
}

/* The secret-exposing mechanisms of a list ("PLAIN LOGIN"), or "". */
static void doctor_exposing(const char *mechs, char *out, size_t n)
{
	char tmp[SMTP_CAPS_AUTH_MAX];
	char *save = NULL, *w;
	size_t off = 0;

	out[0] = '\0';
	snprintf(tmp, sizeof(tmp), "%s", mechs);
	for (w = strtok_r(tmp, " ", &save); w; w = strtok_r(NULL, " ", &save))
		if (sasl_mech_exposes_secret(w) && off < n)
			off += (size_t)snprintf(out + off, n - off, "%s%s", off ? " " : "", w);
}

static void doctor_warn(struct doctor_conclusion *c, const char *fmt, ...) BUF_PRINTF(2, 3);

static void doctor_warn(struct doctor_conclusion *c, const char *fmt, ...)
{
	struct buf b = BUF_INIT(2048);
	va_list ap;

	if (c->nwarnings == DOCTOR_WARNINGS_MAX)
		return;
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	c->warnings[c->nwarnings++] = buf_release(&b);
}

static long long doctor_iso_time(const char *s)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm) == NULL)
		return -1;
	return (long long)timegm(&tm);
}

static void doctor_warnings(struct doctor_report *r, const struct client_opts *o, long long now)
{
	struct doctor_conclusion *c = &r->concl;
	char exposing[SMTP_CAPS_AUTH_MAX];
	size_t i;

	for (i = 0; i < r->nports; i++) {
		const struct doctor_port *p = &r->ports[i];
		const struct smtp_probe_result *s = &p->smtp;

		if (!p->connected)
			continue;
		if (s->clear.code == 250 && (s->clear.caps.flags & CAP_AUTH)) {
			doctor_exposing(s->clear.caps.auth, exposing, sizeof(exposing));
			if (exposing[0] && (s->clear.caps.flags & CAP_STARTTLS))
				doctor_warn(
				    c,
				    "%d offers AUTH %s before STARTTLS: a client that does not "
				    "insist on TLS would send the password in clear (clsmtpc "
				    "never does).",
				    p->port, exposing);
			else if (s->clear.caps.auth[0] && !(s->clear.caps.flags & CAP_STARTTLS))
				doctor_warn(c,
				            "%d offers AUTH %s without any TLS: the password would "
				            "cross the network in clear%s. Do not use this port.",
				            p->port, s->clear.caps.auth,
				            exposing[0] ? "" : " or as a weak MD5 hash");
		}
		if (s->tls_up && (s->tls.caps.flags & CAP_AUTH) &&
		    doctor_all_weak(s->tls.caps.auth))
			doctor_warn(c,
			            "%d offers only %s: MD5-based mechanisms that need the server "
			            "to keep your password in a reversible form (DIGEST-MD5 is "
			            "historic, RFC 6331).",
			            p->port, s->tls.caps.auth);
		if (s->starttls_discarded)
			doctor_warn(c,
			            "%d sent %zu bytes after its STARTTLS reply and before the "
			            "handshake (STARTTLS response injection, CVE-2011-0411, or a "
			            "broken server); they were discarded.",
			            p->port, s->starttls_discarded);
		/* Without a recommendation the summary already names it. */
		if (p->state == DOCTOR_TLS_FAILURE && c->rec >= 0 && (int)i != c->rec)
			doctor_warn(c, "%d: TLS fails: %s.", p->port, p->detail);
		if (s->tls_up && s->peer.verify == TLS_VERIFY_OK && now > 0) {
			long long until = doctor_iso_time(s->peer.not_after);
			if (until > 0 && until - now < DOCTOR_CERT_WARN_DAYS * 86400LL)
				doctor_warn(c, "%d: the certificate expires soon, on %s.", p->port,
				            s->peer.not_after);
		}
		if (s->tls_up && s->peer.verify != TLS_VERIFY_OK && doctor_tls_trusted(p, o))
			doctor_warn(
			    c,
			    "%d: the certificate does not verify (%s), accepted only because "
			    "of %s.",
			    p->port, s->peer.verify_msg,
			    o->fingerprint ? "--tls-fingerprint" : "--tls-certcheck=off");
	}
}

/* -A for the command: what worked, else what the preset says, else what
 * auto would pick from the offer (SCRAM-*-PLUS is chosen by the client
 * itself when it can). */
static void doctor_rec_auth(struct doctor_report *r, const struct doctor_port *p)
{
	struct doctor_conclusion *c = &r->concl;
	struct sasl_choice_ctx ctx;
	struct cl_err e;
	const char *m = NULL;
	char *plus;

	if (r->auth.tried && r->auth.ok && r->auth.port == p->port && r->auth.mech[0]) {
		m = r->auth.mech;
	} else if (r->disc.preset_auth[0] && strcasecmp(r->disc.preset_auth, "auto") != 0) {
		m = r->disc.preset_auth;
	} else {
		memset(&ctx, 0, sizeof(ctx));
		ctx.offered = p->smtp.tls.caps.auth;
		ctx.tls_active = 1;
		ctx.have_password = 1;
		m = sasl_choose("auto", &ctx, &e);
		if (m == NULL && smtp_caps_has_auth(&p->smtp.tls.caps, "XOAUTH2"))
			m = "xoauth2";
		else if (m == NULL && smtp_caps_has_auth(&p->smtp.tls.caps, "OAUTHBEARER"))
			m = "oauthbearer";
		else if (m == NULL)
			m = "auto";
	}
	snprintf(c->rec_auth, sizeof(c->rec_auth), "%s", m);
	for (char *q = c->rec_auth; *q; q++)
		*q = (char)tolower((unsigned char)*q);
	plus = strstr(c->rec_auth, "-plus");
	if (plus)
		*plus = '\0';
}

static int doctor_argv_add(struct doctor_conclusion *c, size_t *cap, const char *a)
{
	char **nv;

	if (c->argc + 2 > *cap) {
		*cap = *cap ? *cap * 2 : 32;
		nv = realloc(c->argv, *cap * sizeof(*nv));
		if (nv == NULL)
			return -1;
		c->argv = nv;
	}
	c->argv[c->argc] = strdup(a);
	if (c->argv[c->argc] == NULL)
		return -1;
	c->argv[++c->argc] = NULL;
	return 0;
}

static const char *doctor_user(const struct doctor_report *r, const struct client_opts *o)
{
	if (o->user)
		return o->user;
	if (r->disc.address[0])
		return r->disc.address;
	return DOCTOR_USER_PLACEHOLDER;
}

static const char *doctor_address(const struct doctor_report *r, const struct client_opts *o)
{
	if (o->from)
		return o->from;
	if (r->disc.address[0])
		return r->disc.address;
	if (o->user && strchr(o->user, '@'))
		return o->user;
	return DOCTOR_ADDR_PLACEHOLDER;
}

static int doctor_build_command(struct doctor_report *r, const struct client_opts *o,
                                const struct doctor_port *p)
{
	struct doctor_conclusion *c = &r->concl;
	struct buf line = BUF_INIT(8192), acct = BUF_INIT(8192);
	char port[8];
	size_t cap = 0, i;
	const char *addr = doctor_address(r, o), *user = doctor_user(r, o);
	int bad = 0;

	snprintf(port, sizeof(port), "%d", p->port);
#define ADD(s) (bad |= doctor_argv_add(c, &cap, (s)))
	ADD("clsmtpc");
	if (o->family == AF_INET)
		ADD("-4");
	else if (o->family == AF_INET6)
		ADD("-6");
	ADD("-Z");
	ADD(p->implicit_tls ? "smtps" : "tls");
	ADD("-M");
	ADD(r->host);
	ADD("-P");
	ADD(port);
	ADD("-A");
	ADD(c->rec_auth);
	ADD("-U");
	ADD(user);
	if (o->trust_file) {
		ADD("--tls-trust-file");
		ADD(o->trust_file);
	}
	if (o->fingerprint) {
		ADD("--tls-fingerprint");
		ADD(o->fingerprint);
	}
	if (!o->certcheck && !o->fingerprint)
		ADD("--tls-certcheck=off");
	if (o->domain) {
		ADD("--domain");
		ADD(o->domain);
	}
	/* A password source that is not itself a secret; never -r. */
	if (o->passfile) {
		ADD("-p");
		ADD(o->passfile);
	} else if (o->passwordeval) {
		ADD("--passwordeval");
		ADD(o->passwordeval);
	}
	ADD("-F");
	ADD(addr);
	ADD("-T");
	ADD(addr);
	ADD("-s");
	ADD("clsmtpc test");
	ADD("This mail was sent with the command that clsmtpc --doctor recommended.");
#undef ADD
	for (i = 0; i < c->argc; i++) {
		if (i)
			buf_addc(&line, ' ');
		doctor_conclude_quote(&line, c->argv[i]);
	}
	c->command = buf_release(&line);

	/* The same in the configuration file's syntax (msmtp's). */
	buf_printf(&acct, "account %s\nhost %s\nport %d\ntls on\ntls_starttls %s\nauth %s\n",
	           r->disc.domain[0] ? r->disc.domain : r->host, r->host, p->port,
	           p->implicit_tls ? "off" : "on", c->rec_auth);
	buf_printf(&acct, "user %s\nfrom %s\n", user, addr);
	if (o->trust_file)
		buf_printf(&acct, "tls_trust_file %s\n", o->trust_file);
	if (o->fingerprint)
		buf_printf(&acct, "tls_fingerprint %s\n", o->fingerprint);
	if (!o->certcheck && !o->fingerprint)
		buf_adds(&acct, "tls_certcheck off\n");
	if (o->passwordeval) {
		buf_adds(&acct, "passwordeval ");
		doctor_conclude_quote(&acct, o->passwordeval);
		buf_addc(&acct, '\n');
	}
	c->account = buf_release(&acct);
	buf_free(&line);
	buf_free(&acct);
	return bad || c->command == NULL || c->account == NULL ? -1 : 0;
}

static void doctor_port25(struct buf *b, const struct doctor_report *r)
{
	const struct doctor_port *p = doctor_find_port(r, 25);
	size_t i, silent = 0;

	if (p == NULL)
		return;
	for (i = 0; i < r->nports; i++)
		if (r->ports[i].state == DOCTOR_FILTERED || r->ports[i].state == DOCTOR_UNREACHABLE)
			silent++;
	if (silent == r->nports) {
		buf_printf(b,
		           "No port of %s answers from here: the host is down, or a firewall "
		           "drops everything on the way. ",
		           r->host);
		return;
	}
	switch (p->state) {
	case DOCTOR_FILTERED:
		buf_printf(b,
		           "Port 25 is filtered from this network: no answer at all, while other "
		           "ports answer. That is the signature of Outbound Port 25 Blocking "
		           "(OP25B) by your provider. ");
		break;
	case DOCTOR_OPEN:
	case DOCTOR_TLS_FAILURE:
	case DOCTOR_NO_SMTP:
		buf_printf(b, "Port 25 is open from this network");
		if (p->state == DOCTOR_OPEN && !(p->smtp.tls.caps.flags & CAP_AUTH) &&
		    !(p->smtp.clear.caps.flags & CAP_AUTH))
			buf_printf(b, " (without AUTH: it takes mail for its own domains)");
		buf_adds(b, ". ");
		break;
	case DOCTOR_REFUSED:
		buf_printf(b, "Port 25 is closed on %s (connection refused). ", r->host);
		break;
	case DOCTOR_UNREACHABLE:
		buf_printf(b, "Port 25: %s is unreachable from here (%s). ", r->host, p->detail);
		break;
	default:
		buf_printf(b, "Port 25: %s. ", p->detail);
		break;
	}
}

static void doctor_describe_tls(struct buf *b, const struct doctor_port *p)
{
	buf_printf(b, "%s, certificate %s", p->smtp.tls_version,
	           p->smtp.peer.verify == TLS_VERIFY_OK ? "verified" : "NOT verified");
}

static void doctor_summary(struct doctor_report *r, const struct client_opts *o)
{
	struct doctor_conclusion *c = &r->concl;
	struct buf b = BUF_INIT(DOCTOR_SUMMARY_MAX);
	const struct doctor_port *p = c->rec >= 0 ? &r->ports[c->rec] : NULL;
	size_t i;

	doctor_port25(&b, r);
	if (p) {
		buf_printf(&b, "%d works with %s (", p->port,
		           p->implicit_tls ? "implicit TLS" : "STARTTLS");
		doctor_describe_tls(&b, p);
		buf_adds(&b, ") and offers ");
		doctor_words_and(&b, p->smtp.tls.caps.auth);
		if (!p->implicit_tls && !(p->smtp.clear.caps.flags & CAP_AUTH))
			buf_adds(&b, " after STARTTLS");
		buf_adds(&b, ". ");
		for (i = 0; i < r->nports; i++) {
			const struct doctor_port *q = &r->ports[i];
			if ((int)i == c->rec || !doctor_usable(q, o))
				continue;
			if (q->implicit_tls != p->implicit_tls) {
				buf_printf(&b, "%d works too, with %s; ", q->port,
				           q->implicit_tls ? "implicit TLS" : "STARTTLS");
				buf_adds(&b,
				         p->implicit_tls
				             ? "implicit TLS is preferred (RFC 8314). "
				             : "STARTTLS is used here because of your choice. ");
			} else {
				buf_printf(&b, "%d works too. ", q->port);
			}
		}
		if (r->auth.tried) {
			if (r->auth.ok)
				buf_printf(&b,
				           "Your credentials work: AUTH %s on %d was accepted. ",
				           r->auth.mech, r->auth.port);
			else if (r->auth.cls == CL_EAUTH)
				buf_printf(&b, "The server refused your credentials: %s. ",
				           r->auth.detail);
			else
				buf_printf(&b, "Your credentials could not be tested: %s. ",
				           r->auth.detail);
		}
		if (strcmp(doctor_user(r, o), DOCTOR_USER_PLACEHOLDER) == 0 ||
		    strcmp(doctor_address(r, o), DOCTOR_ADDR_PLACEHOLDER) == 0)
			buf_printf(&b, "In the command below, replace %s and %s with yours. ",
			           DOCTOR_USER_PLACEHOLDER, DOCTOR_ADDR_PLACEHOLDER);
	} else {
		buf_printf(&b, "No port of %s takes authenticated mail over TLS from here. ",
		           r->host);
		for (i = 0; i < r->nports; i++) {
			const struct doctor_port *q = &r->ports[i];
			if (q->state == DOCTOR_TLS_FAILURE)
				buf_printf(&b, "%d: %s. ", q->port, q->detail);
			else if (q->state == DOCTOR_OPEN && !q->smtp.tls_up)
				buf_printf(&b, "%d answers but offers no TLS. ", q->port);
			else if (q->state == DOCTOR_OPEN && !(q->smtp.tls.caps.flags & CAP_AUTH))
				buf_printf(&b, "%d offers no AUTH. ", q->port);
			else if (q->state == DOCTOR_NO_SMTP)
				buf_printf(&b, "%d: %s. ", q->port, q->detail);
		}
	}
	/* The trailing space of the last sentence. */
	if (b.len && b.data[b.len - 1] == ' ')
		buf_truncate(&b, b.len - 1);
	c->summary = buf_release(&b);
	buf_free(&b);
}

static void doctor_verdict(struct doctor_report *r)
{
	struct doctor_conclusion *c = &r->concl;
	size_t i, silent = 0, tls_bad = 0;

	c->cls = CL_OK;
	if (c->rec >= 0) {
		if (r->auth.tried && !r->auth.ok) {
			c->cls = r->auth.cls == CL_OK ? CL_EAUTH : r->auth.cls;
			snprintf(c->why, sizeof(c->why), "%s", r->auth.detail);
		}
		return;
	}
	for (i = 0; i < r->nports; i++) {
		if (r->ports[i].state == DOCTOR_FILTERED || r->ports[i].state == DOCTOR_UNREACHABLE)
			silent++;
		if (r->ports[i].state == DOCTOR_TLS_FAILURE)
			tls_bad++;
	}
	if (silent == r->nports) {
		c->cls = CL_ETEMP;
		snprintf(c->why, sizeof(c->why), "doctor: nothing answers from %s", r->host);
	} else {
		c->cls = tls_bad ? CL_ETLS : CL_EUNAVAIL;
		snprintf(c->why, sizeof(c->why),
		         "doctor: no port of %s takes authenticated mail over TLS from here",
		         r->host);
	}
}

int doctor_conclude(struct doctor_report *r, const struct client_opts *o, long long now)
{
	struct doctor_conclusion *c = &r->concl;
	int rc = 0;

	doctor_conclude_free(c);
	c->rec = doctor_conclude_choose(r, o);
	if (c->rec >= 0) {
		doctor_rec_auth(r, &r->ports[c->rec]);
		rc = doctor_build_command(r, o, &r->ports[c->rec]);
	}
	doctor_summary(r, o);
	doctor_warnings(r, o, now);
	doctor_verdict(r);
	return rc;
}

void doctor_conclude_free(struct doctor_conclusion *c)
{
	size_t i;

	for (i = 0; c->argv && i < c->argc; i++)
		free(c->argv[i]);
	free(c->argv);
	free(c->command);
	free(c->account);
	free(c->summary);
	for (i = 0; i < c->nwarnings; i++)
		free(c->warnings[i]);
	memset(c, 0, sizeof(*c));
	c->rec = -1;
}
