/*
 * doctor_json.c - write the doctor's report as JSON (see doctor_json.h).
 * A small writer of our own: one object, known fields, strings escaped by
 * base/json.c.
 */
#include "doctor_json.h"

#include <stdio.h>
#include <string.h>

#include "exitcode.h"
#include "base/json.h"
#include "base/version.h"

struct doctor_json {
	struct buf *out;
	int depth;
	int first; /* no comma before the next member */
};

static void j_indent(struct doctor_json *j)
{
	buf_addc(j->out, '\n');
	for (int i = 0; i < j->depth; i++)
		buf_adds(j->out, "  ");
}

static void j_key(struct doctor_json *j, const char *key)
{
	if (!j->first)
		buf_addc(j->out, ',');
	j->first = 0;
	j_indent(j);
	if (key) {
		json_string(j->out, key);
		buf_adds(j->out, ": ");
	}
}

static void j_open(struct doctor_json *j, const char *key, char c)
{
	j_key(j, key);
	buf_addc(j->out, c);
	j->depth++;
	j->first = 1;
}

static void j_close(struct doctor_json *j, char c)
{
	int empty = j->first;

	j->depth--;
	if (!empty)
		j_indent(j);
	buf_addc(j->out, c);
	j->first = 0;
}

static void j_str(struct doctor_json *j, const char *key, const char *v)
{
	j_key(j, key);
	if (v)
		json_string(j->out, v);
	else
		buf_adds(j->out, "null");
}

/* "" is reported as null: "not known" rather than an empty value. */
static void j_str_or_null(struct doctor_json *j, const char *key, const char *v)
{
	j_str(j, key, v && v[0] ? v : NULL);
}

static void j_int(struct doctor_json *j, const char *key, long long v)
{
	j_key(j, key);
	buf_printf(j->out, "%lld", v);
}

static void j_null(struct doctor_json *j, const char *key)
{
	j_key(j, key);
	buf_adds(j->out, "null");
}

static void j_bool(struct doctor_json *j, const char *key, int v)
{
	j_key(j, key);
	buf_adds(j->out, v ? "true" : "false");
}

/* A space-separated list as an array of strings. */
static void j_words(struct doctor_json *j, const char *key, const char *list)
{
	j_open(j, key, '[');
	for (const char *p = list; p && *p;) {
		size_t l;
		char w[256];

		while (*p == ' ')
			p++;
		l = strcspn(p, " ");
		if (l == 0)
			break;
		snprintf(w, sizeof(w), "%.*s", (int)l, p);
		j_str(j, NULL, w);
		p += l;
	}
	j_close(j, ']');
}

static void j_ehlo(struct doctor_json *j, const char *key, const struct smtp_probe_ehlo *e)
{
	const struct smtp_caps *c = &e->caps;

	if (e->code == 0) {
		j_null(j, key);
		return;
	}
	j_open(j, key, '{');
	j_int(j, "code", e->code);
	j_bool(j, "esmtp", e->esmtp);
	j_open(j, "lines", '[');
	for (const char *p = e->text; *p;) {
		size_t l = strcspn(p, "\n");
		char w[SMTP_PROBE_TEXT_MAX];

		snprintf(w, sizeof(w), "%.*s", (int)l, p);
		j_str(j, NULL, w);
		p += l;
		if (*p)
			p++;
	}
	j_close(j, ']');
	j_words(j, "auth", c->flags & CAP_AUTH ? c->auth : "");
	j_bool(j, "starttls", c->flags & CAP_STARTTLS);
	if (c->flags & CAP_SIZE)
		j_int(j, "size", (long long)c->size_max);
	else
		j_null(j, "size");
	j_bool(j, "pipelining", c->flags & CAP_PIPELINING);
	j_bool(j, "chunking", c->flags & CAP_CHUNKING);
	j_bool(j, "smtputf8", c->flags & CAP_SMTPUTF8);
	j_bool(j, "8bitmime", c->flags & CAP_8BITMIME);
	j_bool(j, "enhancedstatuscodes", c->flags & CAP_ENHANCEDSTATUSCODES);
	j_bool(j, "dsn", c->flags & CAP_DSN);
	j_bool(j, "requiretls", c->flags & CAP_REQUIRETLS);
	j_close(j, '}');
}

static void j_port(struct doctor_json *j, const struct doctor_port *p)
{
	const struct smtp_probe_result *s = &p->smtp;

	j_open(j, NULL, '{');
	j_int(j, "port", p->port);
	j_str(j, "tls_mode", p->implicit_tls ? "implicit" : "starttls");
	j_str(j, "state", doctor_state_name(p->state));
	j_str_or_null(j, "address", p->addr);
	if (p->state == DOCTOR_NOT_PROBED)
		j_null(j, "connect_ms");
	else
		j_int(j, "connect_ms", p->connect_ms);
	j_int(j, "elapsed_ms", p->elapsed_ms);
	j_str_or_null(j, "detail", p->state == DOCTOR_OPEN ? "" : p->detail);
	j_str(j, "tls_failure", p->tls_failure);
	if (s->greeting_code) {
		char g[SMTP_PROBE_TEXT_MAX + 8];
		snprintf(g, sizeof(g), "%d %s", s->greeting_code, s->greeting);
		j_str(j, "greeting", g);
	} else {
		j_null(j, "greeting");
	}
	j_ehlo(j, "ehlo", &s->clear);
	if (p->implicit_tls || s->clear.code != 250) {
		j_null(j, "starttls");
	} else {
		j_open(j, "starttls", '{');
		j_bool(j, "offered", s->clear.caps.flags & CAP_STARTTLS);
		if (s->starttls_code)
			j_int(j, "reply", s->starttls_code);
		else
			j_null(j, "reply");
		j_int(j, "discarded_bytes", (long long)s->starttls_discarded);
		j_close(j, '}');
	}
	if (s->tls_up) {
		j_open(j, "tls", '{');
		j_str(j, "version", s->tls_version);
		j_str(j, "cipher", s->tls_cipher);
		j_open(j, "certificate", '{');
		j_str(j, "subject", s->peer.subject);
		j_str(j, "issuer", s->peer.issuer);
		j_words(j, "names", s->peer.names);
		j_str_or_null(j, "not_before", s->peer.not_before);
		j_str_or_null(j, "not_after", s->peer.not_after);
		j_str_or_null(j, "sha256", s->peer.sha256);
		j_bool(j, "verified", s->peer.verify == TLS_VERIFY_OK);
		j_str(j, "verify_class", tls_verify_class_name(s->peer.verify));
		j_str(j, "verify_error",
		      s->peer.verify == TLS_VERIFY_OK ? NULL : s->peer.verify_msg);
		j_close(j, '}');
		j_close(j, '}');
	} else {
		j_null(j, "tls");
	}
	j_ehlo(j, "ehlo_tls", &s->tls);
	j_close(j, '}');
}

int doctor_json_format(struct buf *out, const struct doctor_report *r)
{
	struct doctor_json j = {out, 0, 1};
	const struct doctor_discovery *d = &r->disc;
	const struct doctor_conclusion *c = &r->concl;
	size_t i;

	buf_addc(out, '{');
	j.depth = 1;
	j_str(&j, "schema", DOCTOR_JSON_SCHEMA);
	j_str(&j, "clsmtpc", CLSMTP_VERSION);
	j_str(&j, "target", d->target);
	j_open(&j, "discovery", '{');
	j_str(&j, "method", d->method);
	j_str_or_null(&j, "address", d->address);
	j_str_or_null(&j, "domain", d->domain);
	j_str(&j, "host", d->host);
	if (d->port)
		j_int(&j, "port", d->port);
	else
		j_null(&j, "port");
	j_str_or_null(&j, "preset", d->preset);
	j_open(&j, "steps", '[');
	for (i = 0; i < d->nsteps; i++) {
		j_open(&j, NULL, '{');
		j_str(&j, "what", d->steps[i].what);
		j_str(&j, "result", d->steps[i].result);
		j_close(&j, '}');
	}
	j_close(&j, ']');
	j_close(&j, '}');
	j_str(&j, "host", r->host);
	j_int(&j, "timeout_ms", (long long)r->timeout_s * 1000);
	j_int(&j, "elapsed_ms", r->elapsed_ms);
	j_open(&j, "ports", '[');
	for (i = 0; i < r->nports; i++)
		j_port(&j, &r->ports[i]);
	j_close(&j, ']');
	if (r->auth.tried) {
		j_open(&j, "auth_test", '{');
		j_int(&j, "port", r->auth.port);
		j_bool(&j, "ok", r->auth.ok);
		j_str_or_null(&j, "mechanism", r->auth.mech);
		j_str_or_null(&j, "detail", r->auth.ok ? "" : r->auth.detail);
		j_close(&j, '}');
	} else {
		j_null(&j, "auth_test");
	}
	j_open(&j, "conclusion", '{');
	j_str(&j, "summary", c->summary ? c->summary : "");
	{
		const char *p25 = NULL;
		for (i = 0; i < r->nports; i++)
			if (r->ports[i].port == 25)
				p25 = doctor_state_name(r->ports[i].state);
		j_str(&j, "port25", p25);
	}
	if (c->rec >= 0) {
		const struct doctor_port *p = &r->ports[c->rec];
		j_open(&j, "recommended", '{');
		j_str(&j, "host", r->host);
		j_int(&j, "port", p->port);
		j_str(&j, "tls_mode", p->implicit_tls ? "smtps" : "tls");
		j_str(&j, "auth", c->rec_auth);
		j_open(&j, "command", '[');
		for (i = 0; i < c->argc; i++)
			j_str(&j, NULL, c->argv[i]);
		j_close(&j, ']');
		j_str(&j, "command_line", c->command);
		j_str(&j, "account", c->account);
		j_close(&j, '}');
	} else {
		j_null(&j, "recommended");
	}
	j_open(&j, "warnings", '[');
	for (i = 0; i < c->nwarnings; i++)
		j_str(&j, NULL, c->warnings[i]);
	j_close(&j, ']');
	j_int(&j, "exit_status", exitcode_for(c->cls));
	j_close(&j, '}');
	j.depth = 0;
	buf_adds(out, "\n}\n");
	return 0;
}
