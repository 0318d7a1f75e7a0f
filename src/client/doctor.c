/*
 * doctor.c - clsmtpc --doctor (see doctor.h): find the server, probe its
 * ports in parallel within one time budget, try AUTH once on the port it
 * would recommend when the user gave credentials, conclude, and print the
 * report (text or JSON). The parts live in doctor_*.c; this file only
 * runs them in order and owns the resources.
 */
#include "doctor.h"

#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "doctor_conclude.h"
#include "doctor_discover.h"
#include "doctor_json.h"
#include "doctor_probe.h"
#include "doctor_report.h"
#include "base/hostname.h"
#include "passfile.h"
#include "secret.h"
#include "engine/smtp_client.h"
#include "base/timeout.h"
#include "transcript.h"

/* The text or JSON report: a few KB, bounded anyway. */
#define DOCTOR_OUTPUT_MAX (1024 * 1024)

const char *doctor_state_name(enum doctor_state s)
{
	static const char *const names[] = {
	    "open", "refused", "filtered", "unreachable", "tls-failure", "no-smtp", "not-probed",
	};

	return (size_t)s < sizeof(names) / sizeof(names[0]) ? names[s] : "not-probed";
}

static void doctor_ports_add(struct doctor_report *r, int port, int implicit)
{
	size_t i;

	if (port <= 0 || port > 65535 || r->nports == DOCTOR_PORTS_MAX)
		return;
	for (i = 0; i < r->nports; i++)
		if (r->ports[i].port == port)
			return;
	memset(&r->ports[r->nports], 0, sizeof(r->ports[0]));
	r->ports[r->nports].port = port;
	r->ports[r->nports].implicit_tls = implicit;
	r->ports[r->nports].state = DOCTOR_NOT_PROBED;
	r->nports++;
}

void doctor_ports_init(struct doctor_report *r, int extra_port, int extra_implicit)
{
	r->nports = 0;
	/* 25 first: it is the question most users come with (OP25B). */
	doctor_ports_add(r, 25, 0);
	doctor_ports_add(r, 465, 1);
	doctor_ports_add(r, 587, 0);
	doctor_ports_add(r, 2525, 0);
	doctor_ports_add(r, extra_port, extra_implicit);
}

void doctor_report_free(struct doctor_report *r)
{
	size_t i;

	for (i = 0; i < r->nports; i++) {
		free(r->ports[i].transcript);
		r->ports[i].transcript = NULL;
	}
	doctor_conclude_free(&r->concl);
}

static int doctor_password(struct client_opts *o, const char *host, struct buf *pw,
                           struct cl_err *err)
{
	if (o->password) {
		buf_set(pw, o->password);
		explicit_bzero(o->password, strlen(o->password));
		return 0;
	}
	if (o->passfile)
		return passfile_lookup(o->passfile, o->user, host, pw, err);
	if (o->passwordeval)
		return secret_from_command(o->passwordeval, pw, err);
	return err_set(err, CL_ECONFIG, "no password source");
}

/* Try the credentials on the port the doctor would recommend: AUTH, then
 * QUIT, no mail. Once, so that a wrong password does not count several
 * failures against the account. */
static void doctor_try_auth(struct doctor_report *r, struct client_opts *o, const char *ehlo)
{
	struct doctor_auth *a = &r->auth;
	struct transcript tr = {stderr};
	struct smtp_client_params p;
	struct smtp_client *s = NULL;
	struct buf pw = BUF_INIT(SECRET_MAX);
	struct cl_err e;
	const struct doctor_port *dp;
	char port[8];
	int idx = doctor_conclude_choose(r, o);

	if (idx < 0)
		return;
	dp = &r->ports[idx];
	memset(a, 0, sizeof(*a));
	a->tried = 1;
	a->port = dp->port;
	err_clear(&e);
	if (doctor_password(o, r->host, &pw, &e) < 0) {
		a->cls = e.cls;
		snprintf(a->detail, sizeof(a->detail), "%s", e.msg);
		buf_wipe(&pw);
		return;
	}
	memset(&p, 0, sizeof(p));
	snprintf(port, sizeof(port), "%d", dp->port);
	p.host = r->host;
	p.port = port;
	p.family = o->family;
	p.tls_mode = dp->implicit_tls ? SMTP_TLS_SMTPS : SMTP_TLS_STARTTLS;
	p.tls.trust_file = o->trust_file;
	p.tls.fingerprint = o->fingerprint;
	p.tls.certcheck = o->certcheck;
	p.ehlo_domain = ehlo;
	smtp_timeouts_all(&p.timeouts, r->timeout_s * 1000);
	if (o->verbose) {
		p.transcript = transcript_line;
		p.transcript_arg = &tr;
		fprintf(stderr, "clsmtpc --doctor: AUTH test on port %d\n", dp->port);
	}
	p.auth = o->auth ? o->auth
	         : r->disc.preset_auth[0] && strcasecmp(r->disc.preset_auth, "auto") != 0
	             ? r->disc.preset_auth
	             : "auto";
	p.creds.user = o->user;
	if (strcasecmp(p.auth, "xoauth2") == 0 || strcasecmp(p.auth, "oauthbearer") == 0)
		p.creds.token = buf_cstr(&pw);
	else
		p.creds.password = buf_cstr(&pw);
	if (smtp_client_open(&s, &p, &e) == 0 && smtp_probe_auth(s, &e) == 0) {
		a->ok = 1;
		snprintf(a->mech, sizeof(a->mech), "%s", smtp_probe_auth_mech(s));
	} else {
		a->cls = e.cls;
		snprintf(a->detail, sizeof(a->detail), "%s", e.msg);
		if (s)
			snprintf(a->mech, sizeof(a->mech), "%s", smtp_probe_auth_mech(s));
	}
	smtp_client_quit(s);
	smtp_client_free(s);
	buf_wipe(&pw);
}

static int doctor_target(const struct client_opts *o, const char **target, struct cl_err *err)
{
	if (o->doctor_target && o->body_arg)
		return err_set(err, CL_EUSAGE, "--doctor takes one target, not also '%s'",
		               o->body_arg);
	if (o->nrcpt || o->subject)
		return err_set(err, CL_EUSAGE,
		               "--doctor sends no mail: leave out -T and -s (it prints the "
		               "command that will send)");
	*target = o->doctor_target ? o->doctor_target : o->body_arg ? o->body_arg : o->host;
	if (*target == NULL)
		return err_set(err, CL_EUSAGE,
		               "--doctor wants a server or an address: clsmtpc --doctor HOST, or "
		               "clsmtpc --doctor you@example.com");
	return 0;
}

static int doctor_host_exists(const char *host, int family, struct cl_err *err)
{
	struct addrinfo hints, *res = NULL;
	int r;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = SOCK_STREAM;
	r = getaddrinfo(host, NULL, &hints, &res);
	if (res)
		freeaddrinfo(res);
	if (r == 0)
		return 0;
	if (r == EAI_NONAME || r == EAI_NODATA || r == EAI_ADDRFAMILY)
		return err_set(err, CL_ENOHOST, "doctor: host %s not found", host);
	return err_set(err, CL_ETEMP, "doctor: cannot resolve %s: %s", host, gai_strerror(r));
}

static int doctor_discover_all(struct doctor_report *r, const struct client_opts *o,
                               const char *target, struct cl_err *err)
{
	/* NOLINTNEXTLINE(clang-analyzer-core.NonNullParamChecker): set, or failed */
	const char *at = strrchr(target, '@');

	if (o->host && at && strcmp(o->host, target) != 0) {
		/* -M names the server: the address only fills the command. */
		if (doctor_discover(o->host, o->family, &r->disc, err) < 0)
			return -1;
		if (at == target || at[1] == '\0')
			return err_set(err, CL_EUSAGE,
			               "--doctor: '%s' is not an address (user@domain)", target);
		snprintf(r->disc.target, sizeof(r->disc.target), "%s", target);
		snprintf(r->disc.address, sizeof(r->disc.address), "%s", target);
		snprintf(r->disc.domain, sizeof(r->disc.domain), "%s", at + 1);
	} else if (doctor_discover(target, o->family, &r->disc, err) < 0) {
		return -1;
	}
	r->host = r->disc.host;
	return doctor_host_exists(r->host, o->family, err);
}

static void doctor_print_transcripts(const struct doctor_report *r)
{
	size_t i;

	for (i = 0; i < r->nports; i++)
		if (r->ports[i].transcript && r->ports[i].transcript[0])
			fprintf(stderr, "clsmtpc --doctor: port %d\n%s", r->ports[i].port,
			        r->ports[i].transcript);
}

int doctor_run(struct client_opts *o, struct cl_err *err)
{
	struct doctor_report *r;
	struct doctor_probe_params pp;
	struct tls_client_opts to;
	struct tls_client_ctx *ctx = NULL;
	struct buf ehlo = BUF_INIT(256), out = BUF_INIT(DOCTOR_OUTPUT_MAX);
	const char *target = NULL;
	int64_t start = timeout_now_ms(), budget;
	int rc = -1, extra = 0;

	if (doctor_target(o, &target, err) < 0)
		return -1;
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return err_set(err, CL_ESOFTWARE, "out of memory");
	r->concl.rec = -1;
	r->family = o->family;
	r->timeout_s = o->timeout_s ? o->timeout_s : DOCTOR_TIMEOUT_DEFAULT_S;
	if (doctor_discover_all(r, o, target, err) < 0)
		goto out;

	if (o->port) {
		char *end;
		long v = strtol(o->port, &end, 10);
		extra = *end == '\0' && v > 0 && v <= 65535 ? (int)v : 0;
		if (extra <= 0 || extra > 65535) {
			err_set(err, CL_EUSAGE, "-P wants a port number, not '%s'", o->port);
			goto out;
		}
	}
	doctor_ports_init(r, extra, o->tls_mode == SMTP_TLS_SMTPS);
	doctor_ports_add(r, r->disc.port, r->disc.port_implicit_tls);

	/* Verification is reported, not enforced: a probe must be able to
	 * say *why* a certificate fails. Nothing secret is sent on these
	 * connections; the AUTH test enforces the user's policy. */
	memset(&to, 0, sizeof(to));
	to.trust_file = o->trust_file;
	to.certcheck = 0;
	if (tls_client_ctx_new(&ctx, &to, err) < 0)
		goto out;
	if (o->domain)
		buf_set(&ehlo, o->domain);
	else
		hostname_fqdn(&ehlo);

	budget = (int64_t)r->timeout_s * 1000;
	memset(&pp, 0, sizeof(pp));
	pp.host = r->host;
	pp.family = o->family;
	pp.ehlo_domain = buf_cstr(&ehlo);
	pp.tls_ctx = ctx;
	pp.connect_deadline_ms = start + budget * DOCTOR_CONNECT_SHARE_PCT / 100;
	pp.deadline_ms = start + budget;
	pp.verbose = o->verbose;
	doctor_probe_all(r, &pp, err);
	if (o->verbose)
		doctor_print_transcripts(r);

	if (o->user && (o->password || o->passfile || o->passwordeval) &&
	    !(o->auth && strcasecmp(o->auth, "none") == 0))
		doctor_try_auth(r, o, buf_cstr(&ehlo));

	if (doctor_conclude(r, o, (long long)time(NULL)) < 0) {
		err_set(err, CL_ESOFTWARE, "out of memory");
		goto out;
	}
	r->elapsed_ms = (long)(timeout_now_ms() - start);
	if (o->json)
		doctor_json_format(&out, r);
	else
		doctor_report_format(&out, r, doctor_report_colour_ok(stdout));
	fwrite(out.data ? out.data : "", 1, out.len, stdout);
	fflush(stdout);
	if (r->concl.cls != CL_OK)
		err_set(err, r->concl.cls, "%s", r->concl.why);
	else
		rc = 0;
out:
	tls_client_ctx_free(ctx);
	doctor_report_free(r);
	free(r);
	buf_free(&ehlo);
	buf_free(&out);
	return rc;
}
