/*
 * smtp_client.c - opening and closing an SMTP client session: connect,
 * greeting, EHLO (HELO fall-back), STARTTLS or implicit TLS, EHLO again,
 * and AUTH. A one-shot AUTH (PLAIN, XOAUTH2...) is left pending so that
 * smtp_tx.c can pipeline it with the first MAIL FROM; the others
 * run their challenge exchange here. Relies on conn.c for bytes and TLS and
 * on smtp_reply.c / smtp_caps.c / sasl_client.c for the protocol.
 */
#include "engine/smtp_client_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static const char *const smtp_state_names[] = {
    "INIT", "CONNECTED", "GREETED", "EHLO",   "TLS",    "READY",
    "MAIL", "DATA",      "QUIT",    "CLOSED", "BROKEN",
};

void smtp_timeouts_default(struct smtp_timeouts *t)
{
	t->connect_ms = SMTP_TIMEOUT_CONNECT_MS;
	t->greeting_ms = SMTP_TIMEOUT_GREETING_MS;
	t->command_ms = SMTP_TIMEOUT_COMMAND_MS;
	t->data_init_ms = SMTP_TIMEOUT_DATA_INIT_MS;
	t->data_block_ms = SMTP_TIMEOUT_DATA_BLOCK_MS;
	t->data_end_ms = SMTP_TIMEOUT_DATA_END_MS;
}

void smtp_timeouts_all(struct smtp_timeouts *t, int ms)
{
	t->connect_ms = t->greeting_ms = t->command_ms = ms;
	t->data_init_ms = t->data_block_ms = t->data_end_ms = ms;
}

static void smtp_transcript(struct smtp_client *s, char dir, const char *line)
{
	if (s->p->transcript)
		s->p->transcript(s->p->transcript_arg, s->tag, dir, line);
}

void smtp_client_set_state(struct smtp_client *s, enum smtp_state st)
{
	if (s->p->debug && s->state != st)
		smtp_client_note(s, "state %s -> %s", smtp_state_names[s->state],
		                 smtp_state_names[st]);
	s->state = st;
}

void smtp_client_note(struct smtp_client *s, const char *fmt, ...)
{
	struct buf b = BUF_INIT(1024);
	va_list ap;

	if (s->p->transcript == NULL)
		return;
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	smtp_transcript(s, '-', buf_cstr(&b));
	buf_free(&b);
}

int smtp_client_queue(struct smtp_client *s, const char *cmd, size_t shown_len, struct cl_err *err)
{
	size_t len = strlen(cmd);

	/* Never a bare CR or LF on the wire: the caller validated the
	 * parameters, this is the last line of defence. */
	if (strpbrk(cmd, "\r\n") != NULL)
		return err_set(err, CL_EDATA, "refusing to send a command containing CR or LF");
	if (len > SMTP_CMD_MAX)
		return err_set(err, CL_EDATA, "command too long (%zu bytes)", len);
	if (buf_add(&s->out, cmd, len) < 0 || buf_add(&s->out, "\r\n", 2) < 0)
		return err_set(err, CL_ESOFTWARE, "output buffer full");
	if (s->p->transcript) {
		if (shown_len < len) {
			struct buf b = BUF_INIT(SMTP_CMD_MAX);
			buf_add(&b, cmd, shown_len);
			buf_adds(&b, shown_len ? " ********" : "********");
			smtp_transcript(s, '>', buf_cstr(&b));
			buf_free(&b);
		} else {
			smtp_transcript(s, '>', cmd);
		}
	}
	return 0;
}

int smtp_client_flush(struct smtp_client *s, int timeout_ms, struct cl_err *err)
{
	int r;

	if (s->out.len == 0)
		return 0;
	r = conn_write(s->conn, s->out.data, s->out.len, timeout_ms, err);
	/* The group may hold an AUTH initial response. */
	explicit_bzero(s->out.data, s->out.len);
	buf_reset(&s->out);
	if (r < 0) {
		smtp_client_set_state(s, SMTP_S_BROKEN);
		return err_prefix(err, "sending to %s", s->p->host);
	}
	return 0;
}

int smtp_client_read_reply(struct smtp_client *s, int timeout_ms, const char *what,
                           struct cl_err *err)
{
	int r;

	smtp_reply_reset(&s->reply);
	for (;;) {
		r = conn_read_line(s->conn, &s->line, SMTP_REPLY_LINE_MAX, timeout_ms, err);
		if (r == 0) {
			smtp_client_set_state(s, SMTP_S_BROKEN);
			return err_set(err, CL_ETEMP, "%s: connection closed by %s", what,
			               s->p->host);
		}
		if (r < 0) {
			smtp_client_set_state(s, SMTP_S_BROKEN);
			return err_prefix(err, "%s", what);
		}
		if (s->in_sasl && s->line.len >= 4 && memcmp(s->line.data, "334", 3) == 0)
			smtp_transcript(s, '<',
			                s->line.data[3] == '-' ? "334-********" : "334 ********");
		else
			smtp_transcript(s, '<', buf_cstr(&s->line));
		r = smtp_reply_feed(&s->reply, s->line.data, s->line.len, err);
		if (r < 0) {
			smtp_client_set_state(s, SMTP_S_BROKEN);
			return err_prefix(err, "%s: bad reply from %s", what, s->p->host);
		}
		if (r == 1)
			return 0;
	}
}

int smtp_client_reply_error(struct smtp_client *s, const char *stage, struct cl_err *err)
{
	static const struct {
		const char *word;
		enum cl_stage st;
	} known[] = {{"greeting", CL_STAGE_GREETING},
	             {"HELO", CL_STAGE_EHLO},
	             {"EHLO", CL_STAGE_EHLO},
	             {"STARTTLS", CL_STAGE_STARTTLS},
	             {"STARTTLS refused", CL_STAGE_STARTTLS}};
	int c = s->reply.code / 100;
	enum cl_errclass cls = c == 4 ? CL_ETEMP : c == 5 ? CL_EUNAVAIL : CL_EPROTO;
	enum cl_stage st = CL_STAGE_NONE;
	const char *sum;
	size_t i;

	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strcmp(stage, known[i].word) == 0)
			st = known[i].st;
	buf_reset(&s->scratch);
	sum = smtp_reply_summary(&s->reply, &s->scratch);
	err_set(err, cls, "%s: %s", stage, sum);
	return err_reply(err, st, s->reply.code, s->reply.enh, sum);
}

static int smtp_ehlo(struct smtp_client *s, struct cl_err *err)
{
	struct buf cmd = BUF_INIT(SMTP_CMD_MAX);
	int r;

	memset(&s->caps, 0, sizeof(s->caps));
	buf_printf(&cmd, "EHLO %s", s->p->ehlo_domain);
	r = smtp_client_queue(s, buf_cstr(&cmd), (size_t)-1, err);
	if (r == 0)
		r = smtp_client_flush(s, s->p->timeouts.command_ms, err);
	if (r == 0)
		r = smtp_client_read_reply(s, s->p->timeouts.command_ms, "EHLO", err);
	if (r == 0 && s->reply.code == 250) {
		s->esmtp = 1;
		smtp_caps_parse(&s->caps, &s->reply);
		smtp_client_set_state(s, SMTP_S_EHLO);
		buf_free(&cmd);
		return 0;
	}
	if (r == 0 && s->reply.code / 100 == 5) {
		/* RFC 5321 3.2: a server that does not know EHLO gets HELO. */
		buf_reset(&cmd);
		buf_printf(&cmd, "HELO %s", s->p->ehlo_domain);
		r = smtp_client_queue(s, buf_cstr(&cmd), (size_t)-1, err);
		if (r == 0)
			r = smtp_client_flush(s, s->p->timeouts.command_ms, err);
		if (r == 0)
			r = smtp_client_read_reply(s, s->p->timeouts.command_ms, "HELO", err);
		if (r == 0 && s->reply.code != 250)
			r = smtp_client_reply_error(s, "HELO", err);
		if (r == 0) {
			s->esmtp = 0;
			smtp_client_set_state(s, SMTP_S_EHLO);
		}
	} else if (r == 0) {
		r = smtp_client_reply_error(s, "EHLO", err);
	}
	buf_free(&cmd);
	return r;
}

static int smtp_tls_handshake(struct smtp_client *s, const char *tag, struct cl_err *err)
{
	struct buf info = BUF_INIT(1024);
	size_t dropped = 0;

	if (s->tls_ctx == NULL && tls_client_ctx_new(&s->tls_ctx, &s->p->tls, err) < 0)
		return -1;
	if (conn_start_tls(s->conn, s->tls_ctx,
	                   s->p->tls.host_override ? s->p->tls.host_override : s->p->host,
	                   s->p->timeouts.command_ms, &dropped, err) < 0) {
		smtp_client_set_state(s, SMTP_S_BROKEN);
		return -1;
	}
	s->tag = tag;
	smtp_client_set_state(s, SMTP_S_TLS);
	if (dropped)
		smtp_client_note(s,
		                 "discarded %zu bytes the server sent before the TLS handshake "
		                 "(STARTTLS injection?)",
		                 dropped);
	if (s->p->transcript) {
		tls_session_peer_summary(conn_tls(s->conn), &info);
		smtp_client_note(s, "TLS %s %s; %s", tls_session_version(conn_tls(s->conn)),
		                 tls_session_cipher(conn_tls(s->conn)), buf_cstr(&info));
	}
	buf_free(&info);
	return 0;
}

static int smtp_starttls(struct smtp_client *s, struct cl_err *err)
{
	if (smtp_client_queue(s, "STARTTLS", (size_t)-1, err) < 0 ||
	    smtp_client_flush(s, s->p->timeouts.command_ms, err) < 0 ||
	    smtp_client_read_reply(s, s->p->timeouts.command_ms, "STARTTLS", err) < 0)
		return -1;
	if (s->reply.code != 220) {
		if (s->p->tls_mode == SMTP_TLS_STARTTLS)
			return smtp_client_reply_error(s, "STARTTLS refused", err);
		/* Opportunistic: the session stays in clear, and the secret-
		 * exposing mechanisms stay forbidden (sasl_choose). */
		smtp_client_note(s, "STARTTLS refused; continuing without TLS");
		return 0;
	}
	if (smtp_tls_handshake(s, "tls", err) < 0)
		return -1;
	/* RFC 3207 4.2: forget everything learnt before TLS, ask again. */
	return smtp_ehlo(s, err);
}
int smtp_client_auth_refused(struct smtp_client *s, const char *mech, struct cl_err *err)
{
	int c = s->reply.code;
	const char *sum;

	buf_reset(&s->scratch);
	sum = smtp_reply_summary(&s->reply, &s->scratch);
	/* 534/538: the mechanism needs more than we have (RFC 4954 6), 504
	 * it is unknown: another may work; any other 5xx refuses us. */
	err_set(err,
	        c / 100 == 4                       ? CL_ETEMP
	        : c == 534 || c == 538 || c == 504 ? CL_EUNAVAIL
	        : c / 100 == 5                     ? CL_EAUTH
	                                           : CL_EPROTO,
	        "AUTH %s as %s rejected: %s", mech, s->p->creds.user ? s->p->creds.user : "", sum);
	err_reply(err, CL_STAGE_AUTH, c, s->reply.enh, sum);
	return -1;
}


/* Run a challenge-response exchange now (everything that is not one-shot,
 * or any mechanism when the server does not pipeline). */
static int smtp_auth_exchange(struct smtp_client *s, struct sasl_client *sc, struct cl_err *err)
{
	struct buf cmd = BUF_INIT(SMTP_CMD_MAX);
	struct buf resp = BUF_INIT(SMTP_CMD_MAX);
	const char *mech = sasl_client_mech(sc);

	buf_set_secret(&cmd);
	buf_set_secret(&resp);
	size_t shown;
	int r, steps = 0, rejected = 0;

	buf_printf(&cmd, "AUTH %s", mech);
	shown = cmd.len;
	r = sasl_client_initial(sc, &resp, err);
	if (r < 0)
		goto out;
	if (r == 1) {
		buf_addc(&cmd, ' ');
		buf_add(&cmd, resp.data, resp.len);
	}
	r = smtp_client_queue(s, buf_cstr(&cmd), shown, err);
	s->in_sasl = 1;
	while (r == 0) {
		r = smtp_client_flush(s, s->p->timeouts.command_ms, err);
		if (r == 0)
			r = smtp_client_read_reply(s, s->p->timeouts.command_ms, "AUTH", err);
		if (r < 0)
			break;
		if (s->reply.code == 235) {
			r = sasl_client_finish(sc, err);
			break;
		}
		if (s->reply.code != 334) {
			rejected = 1;
			r = -1;
			break;
		}
		if (++steps > 10) {
			r = err_set(err, CL_EPROTO, "the server keeps sending challenges");
			break;
		}
		buf_wipe(&resp);
		r = sasl_client_step(sc, buf_cstr(&s->reply.text), &resp, err);
		if (r == 0)
			r = smtp_client_queue(s, buf_cstr(&resp), 0, err);
	}
	s->in_sasl = 0;
	if (rejected) {
		smtp_client_auth_refused(s, mech, err);
	} else if (r < 0) {
		err_prefix(err, "AUTH %s", mech);
	}
out:
	buf_wipe(&cmd);
	buf_wipe(&resp);
	return r;
}

static int smtp_auth(struct smtp_client *s, struct cl_err *err)
{
	struct sasl_choice_ctx ctx;
	struct sasl_client *sc = NULL;
	struct buf cb = BUF_INIT(128);
	const char *mech;
	int r;

	if (s->p->auth == NULL || strcasecmp(s->p->auth, "none") == 0)
		return 0;
	if (!(s->caps.flags & CAP_AUTH)) {
		if (strcasecmp(s->p->auth, "auto") != 0)
			return err_set(err, CL_EUNAVAIL, "AUTH: %s does not offer authentication%s",
			               s->p->host,
			               conn_is_tls(s->conn) ? "" : " (without TLS; try -Z tls)");
		/* The original's "auto" ends in "none". */
		smtp_client_note(s, "the server offers no AUTH; sending without authentication");
		return 0;
	}
	memset(&ctx, 0, sizeof(ctx));
	ctx.offered = s->caps.auth;
	ctx.tls_active = conn_is_tls(s->conn);
	ctx.allow_plaintext = s->p->tls_mode == SMTP_TLS_NONE;
	ctx.have_cb = ctx.tls_active && tls_session_exporter_b64(conn_tls(s->conn), &cb) == 0;
	ctx.have_token = s->p->creds.token != NULL;
	ctx.have_password = s->p->creds.password != NULL;
	mech = sasl_choose(s->p->auth, &ctx, err);
	if (mech == NULL) {
		buf_wipe(&cb);
		return -1;
	}
	snprintf(s->auth_mech, sizeof(s->auth_mech), "%s", mech);
	r = sasl_client_start(&sc, mech, &s->p->creds, s->p->host, cb.len ? cb.data : NULL, err);
	buf_wipe(&cb);
	if (r < 0)
		return err_prefix(err, "AUTH %s", mech);
	if ((s->caps.flags & CAP_PIPELINING) && sasl_client_one_shot(sc) &&
	    strcmp(mech, "PLAIN") == 0) {
		/* RFC 4954 4: an AUTH with initial response may be pipelined.
		 * Only PLAIN: a failing XOAUTH2/OAUTHBEARER answers with a 334
		 * error challenge, and the server would take our pipelined
		 * MAIL FROM as the response to it. */
		if (sasl_client_initial(sc, &s->auth_ir, err) != 1) {
			sasl_client_free(sc);
			return -1;
		}
		s->auth_pending = sc;
		return 0;
	}
	r = smtp_auth_exchange(s, sc, err);
	sasl_client_free(sc);
	if (r == 0)
		s->authenticated = 1;
	return r;
}

int smtp_client_open(struct smtp_client **out, const struct smtp_client_params *p,
                     struct cl_err *err)
{
	struct smtp_client *s;
	struct conn_opts co;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return err_set(err, CL_ESOFTWARE, "out of memory");
	s->p = p;
	s->tag = "";
	smtp_reply_init(&s->reply);
	buf_init(&s->line, SMTP_REPLY_LINE_MAX + 2);
	buf_init(&s->out, SMTP_OUT_MAX);
	buf_init(&s->scratch, 4096);
	buf_init(&s->auth_ir, SMTP_CMD_MAX);
	/* The group may carry AUTH PLAIN's initial response. */
	buf_set_secret(&s->out);
	buf_set_secret(&s->auth_ir);
	*out = s;

	co.family = p->family;
	co.connect_timeout_ms = p->timeouts.connect_ms;
	co.source_ip = p->source_ip;
	co.proxy_host = p->proxy_host;
	co.proxy_port = p->proxy_port;
	if (conn_open(&s->conn, p->host, p->port, &co, err) < 0)
		return err_reply(err, CL_STAGE_CONNECT, 0, NULL, NULL);
	smtp_client_set_state(s, SMTP_S_CONNECTED);
	smtp_client_note(s, "connected to %s (%s)", p->host, conn_peer(s->conn));
	/* Build the TLS context (trust store, verification policy) while the
	 * greeting is on its way: it costs milliseconds we would otherwise
	 * spend after the 220 to STARTTLS. */
	if (p->tls_mode != SMTP_TLS_NONE && tls_client_ctx_new(&s->tls_ctx, &p->tls, err) < 0)
		return -1;
	if (p->tls_mode == SMTP_TLS_SMTPS && smtp_tls_handshake(s, "smtps", err) < 0)
		return err_prefix(err, "connecting to %s port %s", p->host, p->port);
	if (smtp_client_read_reply(s, p->timeouts.greeting_ms, "greeting", err) < 0)
		return -1;
	if (s->reply.code != 220)
		return smtp_client_reply_error(s, "greeting", err);
	smtp_client_set_state(s, SMTP_S_GREETED);
	if (smtp_ehlo(s, err) < 0)
		return -1;
	if (!conn_is_tls(s->conn) && p->tls_mode != SMTP_TLS_NONE &&
	    p->tls_mode != SMTP_TLS_SMTPS) {
		if (s->caps.flags & CAP_STARTTLS) {
			if (smtp_starttls(s, err) < 0)
				return -1;
		} else if (p->tls_mode == SMTP_TLS_STARTTLS) {
			return err_set(err, CL_EUNAVAIL,
			               "STARTTLS: %s does not offer STARTTLS, and -Z tls requires "
			               "it (try -Z smtps -P 465)",
			               p->host);
		}
	}
	if (smtp_auth(s, err) < 0)
		return -1;
	smtp_client_set_state(s, SMTP_S_READY);
	return 0;
}

int smtp_client_is_tls(const struct smtp_client *s)
{
	return s && s->conn && conn_is_tls(s->conn);
}

const struct smtp_caps *smtp_client_caps(const struct smtp_client *s)
{
	return &s->caps;
}

void smtp_client_quit(struct smtp_client *s)
{
	struct cl_err e;

	if (s == NULL || s->conn == NULL)
		return;
	if (s->state != SMTP_S_BROKEN && s->state != SMTP_S_QUIT && s->state >= SMTP_S_GREETED) {
		buf_reset(&s->out);
		if (smtp_client_queue(s, "QUIT", (size_t)-1, &e) == 0 &&
		    smtp_client_flush(s, s->p->timeouts.command_ms, &e) == 0) {
			smtp_client_set_state(s, SMTP_S_QUIT);
			smtp_client_read_reply(s, s->p->timeouts.command_ms, "QUIT", &e);
		}
	}
	conn_close(s->conn);
	s->conn = NULL;
	smtp_client_set_state(s, SMTP_S_CLOSED);
}

void smtp_client_free(struct smtp_client *s)
{
	if (s == NULL)
		return;
	if (s->conn) {
		conn_close(s->conn);
		s->conn = NULL;
	}
	sasl_client_free(s->auth_pending);
	tls_client_ctx_free(s->tls_ctx);
	smtp_reply_free(&s->reply);
	buf_wipe(&s->line);
	buf_wipe(&s->out);
	buf_free(&s->scratch);
	buf_wipe(&s->auth_ir);
	free(s);
}
