/*
 * smtp_probe.c - the doctor's look at a server (see smtp_probe.h): greeting,
 * EHLO, STARTTLS or implicit TLS, EHLO again, QUIT, every wait bounded by
 * one deadline. Built on the engine's own queue/flush/read_reply so that
 * transcripts look and redact the same, and the CVE-2011-0411 discard of
 * pre-handshake bytes is conn_start_tls's as everywhere else.
 */
#include "engine/smtp_probe.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sasl/sasl_client.h"
#include "engine/smtp_client_int.h"
#include "base/timeout.h"

/* Time left before the deadline, never less than 1 ms (0 would mean
 * "do not wait at all" to poll, and a reply already buffered still
 * deserves to be read). */
static int smtp_probe_left(const struct smtp_probe_params *p)
{
	int64_t left = p->deadline_ms - timeout_now_ms();

	return left < 1 ? 1 : left > 24 * 3600 * 1000 ? 24 * 3600 * 1000 : (int)left;
}

static void smtp_probe_keep(char *out, size_t n, const struct smtp_reply *r)
{
	snprintf(out, n, "%s", buf_cstr(&r->text));
}

static int smtp_probe_command(struct smtp_client *s, const struct smtp_probe_params *p,
                              const char *cmd, const char *what, struct cl_err *err)
{
	if (smtp_client_queue(s, cmd, (size_t)-1, err) < 0 ||
	    smtp_client_flush(s, smtp_probe_left(p), err) < 0)
		return -1;
	return smtp_client_read_reply(s, smtp_probe_left(p), what, err);
}

static int smtp_probe_ehlo(struct smtp_client *s, const struct smtp_probe_params *p,
                           struct smtp_probe_ehlo *e, struct cl_err *err)
{
	struct buf cmd = BUF_INIT(SMTP_CMD_MAX);
	int r, helo = 0;

	memset(e, 0, sizeof(*e));
	buf_printf(&cmd, "EHLO %s", p->ehlo_domain);
	r = smtp_probe_command(s, p, buf_cstr(&cmd), "EHLO", err);
	if (r == 0 && s->reply.code / 100 == 5) {
		/* RFC 5321 3.2: an old server; what it says to HELO is all
		 * there is to know. */
		helo = 1;
		buf_reset(&cmd);
		buf_printf(&cmd, "HELO %s", p->ehlo_domain);
		r = smtp_probe_command(s, p, buf_cstr(&cmd), "HELO", err);
	}
	buf_free(&cmd);
	if (r < 0)
		return -1;
	e->code = s->reply.code;
	smtp_probe_keep(e->text, sizeof(e->text), &s->reply);
	if (s->reply.code != 250)
		return smtp_client_reply_error(s, helo ? "HELO" : "EHLO", err);
	smtp_caps_parse(&e->caps, &s->reply);
	e->esmtp = !helo;
	smtp_client_set_state(s, SMTP_S_EHLO);
	return 0;
}

static int smtp_probe_tls(struct smtp_client *s, const struct smtp_probe_params *p,
                          struct smtp_probe_result *r, const char *tag, struct cl_err *err)
{
	struct tls_session *t;

	r->tls_tried = 1;
	if (conn_start_tls(s->conn, p->tls_ctx, p->host, smtp_probe_left(p), &r->starttls_discarded,
	                   err) < 0) {
		smtp_client_set_state(s, SMTP_S_BROKEN);
		return err_prefix(err, "TLS");
	}
	t = conn_tls(s->conn);
	r->tls_up = 1;
	s->tag = tag;
	smtp_client_set_state(s, SMTP_S_TLS);
	snprintf(r->tls_version, sizeof(r->tls_version), "%s", tls_session_version(t));
	snprintf(r->tls_cipher, sizeof(r->tls_cipher), "%s", tls_session_cipher(t));
	tls_session_peer_info(t, &r->peer);
	if (r->starttls_discarded)
		smtp_client_note(s, "discarded %zu bytes sent before the TLS handshake",
		                  r->starttls_discarded);
	smtp_client_note(s, "TLS %s %s; certificate %s; issuer %s; expires %s; %s", r->tls_version,
	                  r->tls_cipher, r->peer.subject, r->peer.issuer, r->peer.not_after,
	                  r->peer.verify == TLS_VERIFY_OK ? "verified" : r->peer.verify_msg);
	return 0;
}

int smtp_probe_run(struct conn *c, const struct smtp_probe_params *p, struct smtp_probe_result *r,
                   struct cl_err *err)
{
	struct smtp_client_params cp;
	struct smtp_client s;
	int rc = -1;

	memset(r, 0, sizeof(*r));
	memset(&cp, 0, sizeof(cp));
	cp.host = p->host;
	cp.ehlo_domain = p->ehlo_domain;
	cp.transcript = p->transcript;
	cp.transcript_arg = p->transcript_arg;
	memset(&s, 0, sizeof(s));
	s.p = &cp;
	s.conn = c;
	s.tag = "";
	s.state = SMTP_S_CONNECTED;
	smtp_reply_init(&s.reply);
	buf_init(&s.line, SMTP_REPLY_LINE_MAX + 2);
	buf_init(&s.out, SMTP_CMD_MAX * 2);
	buf_init(&s.scratch, 4096);

	smtp_client_note(&s, "probing %s (%s)%s", p->host, p->peer ? p->peer : conn_peer(c),
	                  p->implicit_tls ? " with implicit TLS" : "");
	if (p->implicit_tls && smtp_probe_tls(&s, p, r, "smtps", err) < 0)
		goto out;
	if (smtp_client_read_reply(&s, smtp_probe_left(p), "greeting", err) < 0)
		goto out;
	r->greeting_code = s.reply.code;
	smtp_probe_keep(r->greeting, sizeof(r->greeting), &s.reply);
	if (s.reply.code != 220) {
		smtp_client_reply_error(&s, "greeting", err);
		goto out;
	}
	smtp_client_set_state(&s, SMTP_S_GREETED);
	if (smtp_probe_ehlo(&s, p, r->tls_up ? &r->tls : &r->clear, err) < 0)
		goto out;
	if (!r->tls_up && (r->clear.caps.flags & CAP_STARTTLS)) {
		if (smtp_probe_command(&s, p, "STARTTLS", "STARTTLS", err) < 0)
			goto out;
		r->starttls_code = s.reply.code;
		if (s.reply.code != 220) {
			smtp_client_reply_error(&s, "STARTTLS", err);
			goto out;
		}
		if (smtp_probe_tls(&s, p, r, "tls", err) < 0)
			goto out;
		/* RFC 3207 4.2: forget what was said in clear, ask again. */
		if (smtp_probe_ehlo(&s, p, &r->tls, err) < 0)
			goto out;
	}
	r->completed = 1;
	rc = 0;
out:
	if (s.state != SMTP_S_BROKEN && s.state >= SMTP_S_GREETED) {
		struct cl_err e2;
		buf_reset(&s.out);
		if (smtp_probe_command(&s, p, "QUIT", "QUIT", &e2) == 0)
			smtp_client_set_state(&s, SMTP_S_QUIT);
	}
	conn_close(s.conn);
	smtp_reply_free(&s.reply);
	buf_free(&s.line);
	buf_free(&s.out);
	buf_free(&s.scratch);
	return rc;
}

int smtp_probe_auth(struct smtp_client *s, struct cl_err *err)
{
	struct buf cmd = BUF_INIT(SMTP_CMD_MAX);
	const char *mech;
	size_t shown;
	int r, c;

	if (s->authenticated)
		return 0;
	if (s->auth_pending == NULL)
		return err_set(err, CL_EUNAVAIL, "AUTH: %s offers no authentication here",
		               s->p->host);
	mech = sasl_client_mech(s->auth_pending);
	buf_printf(&cmd, "AUTH %s", mech);
	shown = cmd.len;
	buf_addc(&cmd, ' ');
	r = buf_add(&cmd, s->auth_ir.data, s->auth_ir.len);
	buf_wipe(&s->auth_ir);
	if (r < 0) {
		buf_wipe(&cmd);
		return err_set(err, CL_ESOFTWARE, "AUTH: initial response too long");
	}
	r = smtp_client_queue(s, buf_cstr(&cmd), shown, err);
	buf_wipe(&cmd);
	if (r == 0)
		r = smtp_client_flush(s, s->p->timeouts.command_ms, err);
	if (r == 0)
		r = smtp_client_read_reply(s, s->p->timeouts.command_ms, "AUTH", err);
	if (r == 0) {
		c = s->reply.code;
		if (c == 235) {
			r = sasl_client_finish(s->auth_pending, err);
			s->authenticated = r == 0;
		} else {
			r = smtp_client_auth_refused(s, mech, err);
		}
	}
	sasl_client_free(s->auth_pending);
	s->auth_pending = NULL;
	return r;
}

const char *smtp_probe_auth_mech(const struct smtp_client *s)
{
	return s->auth_mech;
}
