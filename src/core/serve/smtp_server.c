/*
 * smtp_server.c - the server session state machine (smtp_server.h). Input
 * is cut into CRLF lines (or handed to the DATA/BDAT reader), each command
 * is checked against the state, and the reply is queued; pipelined commands
 * are answered in order (RFC 2920). smtp_server_set_state is the only place
 * the state changes. Relies on smtp_server_cmd.c and smtp_server_data.c.
 */
#include "serve/smtp_server.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "serve/smtp_server_data.h"

struct smtp_server {
	struct smtp_server_cfg cfg;
	struct smtp_server_hooks h;
	enum smtp_srv_state state;
	struct buf out, line, reply, arg, data;
	struct buf held; /* input that arrived during SMTP_SRV_COMMIT */
	char *mechs;     /* mechanisms offered now */
	char helo[256];
	int esmtp, authed, tls, pregreet;
	int line_long;  /* discarding the rest of an overlong line */
	int more_input; /* bytes followed the command line being processed */
	int in_tx_data; /* data_begin accepted for this transaction */
	int bdat_used, bdat_failed, bdat_last, werr;
	enum smtp_srv_state bdat_prev;
	unsigned long long bdat_left;
	size_t nrcpt;
	unsigned errors, commands;
	struct smtp_dreader dr;
	unsigned act;
};

static const char *const smtp_srv_state_names[] = {
    "GREET", "INIT", "READY",      "MAIL", "RCPT",   "DATA",
    "BDAT",  "AUTH", "AUTH_FINAL", "TLS",  "COMMIT", "CLOSING",
};

const char *smtp_server_state_name(enum smtp_srv_state st)
{
	return smtp_srv_state_names[st];
}

void smtp_server_limits_default(struct smtp_server_limits *l)
{
	l->line_max = 2048;
	l->size_max = 25LL * 1024 * 1024;
	l->data_line_max = 998;
	l->rcpt_max = 100;
	l->errors_max = 20;
	l->commands_max = 1000;
	l->bare_lf_normalize = 0;
}

static void smtp_server_note(struct smtp_server *s, const char *msg)
{
	if (s->h.note)
		s->h.note(s->h.arg, msg);
}

static void smtp_server_set_state(struct smtp_server *s, enum smtp_srv_state st)
{
	if (s->state != st && s->h.note) {
		struct buf b = BUF_INIT(128);
		buf_printf(&b, "state %s -> %s", smtp_srv_state_names[s->state],
		           smtp_srv_state_names[st]);
		smtp_server_note(s, buf_cstr(&b));
		buf_free(&b);
	}
	s->state = st;
}

struct smtp_server *smtp_server_new(const struct smtp_server_cfg *cfg,
                                    const struct smtp_server_hooks *hooks)
{
	struct smtp_server *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->cfg = *cfg;
	s->h = *hooks;
	if (s->cfg.lim.line_max == 0 || s->cfg.lim.line_max > SMTP_SERVER_LINE_MAX)
		s->cfg.lim.line_max = SMTP_SERVER_LINE_MAX;
	s->mechs = strdup(cfg->auth_mechs ? cfg->auth_mechs : "");
	if (s->mechs == NULL) {
		free(s);
		return NULL;
	}
	s->tls = cfg->tls_active;
	buf_init(&s->out, SMTP_SERVER_OUT_MAX);
	buf_init(&s->line, s->cfg.lim.line_max + 2);
	buf_init(&s->reply, 1024);
	buf_init(&s->arg, SMTP_SERVER_LINE_MAX);
	buf_init(&s->data, SMTP_SERVER_CHUNK + 16);
	buf_init(&s->held, SMTP_SERVER_HELD_MAX);
	s->state = SMTP_SRV_GREET;
	return s;
}

void smtp_server_free(struct smtp_server *s)
{
	if (s == NULL)
		return;
	if (s->state == SMTP_SRV_AUTH || s->state == SMTP_SRV_AUTH_FINAL) {
		if (s->h.auth_abort)
			s->h.auth_abort(s->h.arg);
	}
	if (s->in_tx_data && s->h.data_end)
		s->h.data_end(s->h.arg, SMTP_DATA_ABORTED, &s->reply);
	buf_wipe(&s->line);
	buf_free(&s->out);
	buf_free(&s->reply);
	buf_free(&s->arg);
	buf_free(&s->data);
	buf_wipe(&s->held);
	free(s->mechs);
	free(s);
}

struct buf *smtp_server_output(struct smtp_server *s)
{
	return &s->out;
}

enum smtp_srv_state smtp_server_state(const struct smtp_server *s)
{
	return s->state;
}

int smtp_server_authenticated(const struct smtp_server *s)
{
	return s->authed;
}

int smtp_server_tls_active(const struct smtp_server *s)
{
	return s->tls;
}

const char *smtp_server_helo(const struct smtp_server *s)
{
	return s->helo;
}

int smtp_server_input_pending(const struct smtp_server *s)
{
	return s->line.len > 0 || s->line_long || s->state == SMTP_SRV_DATA ||
	       s->state == SMTP_SRV_BDAT || s->state == SMTP_SRV_TLS;
}

/* Queue one reply line; a client that never reads fills the buffer and is
 * dropped. Counts 5xx replies as errors. */
static void smtp_server_reply(struct smtp_server *s, const char *line)
{
	if (buf_adds(&s->out, line) < 0 || buf_add(&s->out, "\r\n", 2) < 0) {
		s->act |= SMTP_SRV_ACT_CLOSE;
		smtp_server_set_state(s, SMTP_SRV_CLOSING);
		return;
	}
	if (line[0] == '5') {
		s->errors++;
		if (s->h.error)
			s->h.error(s->h.arg, line);
	}
}

static void smtp_server_close(struct smtp_server *s, const char *line)
{
	smtp_server_reply(s, line);
	s->act |= SMTP_SRV_ACT_CLOSE;
	smtp_server_set_state(s, SMTP_SRV_CLOSING);
}

/* The hook's reply, or def when it left none. */
static void smtp_server_reply_hook(struct smtp_server *s, int r, const char *def,
                                   const char *def_fail)
{
	if (s->reply.len > 0)
		smtp_server_reply(s, buf_cstr(&s->reply));
	else
		smtp_server_reply(s, r == 0 ? def : def_fail);
}

unsigned smtp_server_greet(struct smtp_server *s)
{
	struct buf b = BUF_INIT(512);

	s->act = 0;
	if (s->pregreet) {
		/* A client that talks before the greeting is not waiting for
		 * us: RFC 5321 4.3.1 says it must (postscreen's pregreet test). */
		smtp_server_close(s, "554 5.5.1 Protocol error: data sent before the greeting");
		return s->act;
	}
	buf_printf(&b, "220 %s ESMTP clsmtpd", s->cfg.hostname);
	smtp_server_reply(s, buf_cstr(&b));
	buf_free(&b);
	smtp_server_set_state(s, SMTP_SRV_INIT);
	return s->act;
}

unsigned smtp_server_refuse(struct smtp_server *s, const char *reply)
{
	s->act = 0;
	smtp_server_close(s, reply);
	return s->act;
}

unsigned smtp_server_timeout(struct smtp_server *s)
{
	struct buf b = BUF_INIT(512);

	s->act = 0;
	buf_printf(&b, "421 4.4.2 %s Error: timeout exceeded", s->cfg.hostname);
	smtp_server_close(s, buf_cstr(&b));
	buf_free(&b);
	return s->act;
}

/* Forget the transaction (and any data already handed to the hooks). */
static void smtp_server_reset_tx(struct smtp_server *s)
{
	if (s->in_tx_data && s->h.data_end)
		s->h.data_end(s->h.arg, SMTP_DATA_ABORTED, &s->reply);
	if (s->h.reset)
		s->h.reset(s->h.arg);
	s->in_tx_data = 0;
	s->bdat_used = s->bdat_failed = 0;
	s->nrcpt = 0;
	buf_reset(&s->data);
	if (s->state >= SMTP_SRV_MAIL && s->state <= SMTP_SRV_BDAT)
		smtp_server_set_state(s, SMTP_SRV_READY);
}

void smtp_server_set_mechs(struct smtp_server *s, const char *auth_mechs)
{
	char *m = strdup(auth_mechs ? auth_mechs : "");

	if (m != NULL) {
		free(s->mechs);
		s->mechs = m;
	}
}

void smtp_server_tls_started(struct smtp_server *s, const char *auth_mechs)
{
	smtp_server_set_mechs(s, auth_mechs);
	s->tls = 1;
	s->esmtp = 0;
	s->helo[0] = '\0';
	s->authed = 0;
	s->line_long = 0;
	buf_reset(&s->line);
	smtp_server_set_state(s, SMTP_SRV_INIT);
}

static int smtp_server_mech_offered(const struct smtp_server *s, const char *mech)
{
	const char *p = s->mechs;
	size_t n = strlen(mech);

	while (*p != '\0') {
		size_t l = strcspn(p, " ");
		if (l == n && strncasecmp(p, mech, n) == 0)
			return 1;
		p += l;
		while (*p == ' ')
			p++;
	}
	return 0;
}

static void smtp_server_ehlo(struct smtp_server *s, const char *args, int ehlo)
{
	struct buf b = BUF_INIT(1024);
	const char *p;

	for (p = args; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
			break;
	if (*args == '\0' || *p != '\0' || strlen(args) >= sizeof(s->helo)) {
		smtp_server_reply(s, ehlo ? "501 5.5.4 Syntax: EHLO hostname"
		                          : "501 5.5.4 Syntax: HELO hostname");
		return;
	}
	smtp_server_reset_tx(s);
	buf_reset(&s->reply);
	if (s->h.helo && s->h.helo(s->h.arg, args, ehlo, &s->reply) < 0) {
		smtp_server_reply_hook(s, -1, "", "550 5.7.1 Refused");
		return;
	}
	memcpy(s->helo, args, strlen(args) + 1);
	s->esmtp = ehlo;
	if (!ehlo) {
		buf_printf(&b, "250 %s", s->cfg.hostname);
	} else {
		const char *ext[12];
		struct buf size = BUF_INIT(64), auth = BUF_INIT(512);
		size_t n = 0, i;

		ext[n++] = "PIPELINING";
		if (s->cfg.lim.size_max > 0)
			buf_printf(&size, "SIZE %lld", s->cfg.lim.size_max);
		else
			buf_adds(&size, "SIZE");
		ext[n++] = buf_cstr(&size);
		ext[n++] = "8BITMIME";
		ext[n++] = "ENHANCEDSTATUSCODES";
		ext[n++] = "SMTPUTF8";
		ext[n++] = "CHUNKING";
		ext[n++] = "DSN";
		if (s->cfg.starttls && !s->tls)
			ext[n++] = "STARTTLS";
		if (s->mechs[0] != '\0' && !s->authed) {
			buf_printf(&auth, "AUTH %s", s->mechs);
			ext[n++] = buf_cstr(&auth);
		}
		buf_printf(&b, "250-%s", s->cfg.hostname);
		for (i = 0; i < n; i++)
			buf_printf(&b, "\r\n250%c%s", i + 1 == n ? ' ' : '-', ext[i]);
		buf_free(&size);
		buf_free(&auth);
	}
	smtp_server_reply(s, buf_cstr(&b));
	buf_free(&b);
	smtp_server_set_state(s, SMTP_SRV_READY);
}

static int smtp_server_need_helo(struct smtp_server *s)
{
	if (s->state == SMTP_SRV_INIT) {
		smtp_server_reply(s, "503 5.5.1 Error: send HELO/EHLO first");
		return 1;
	}
	return 0;
}

static void smtp_server_mail(struct smtp_server *s, const char *args)
{
	struct smtp_mail_params mp;
	const char *params;
	int r;

	if (smtp_server_need_helo(s))
		return;
	if (s->state != SMTP_SRV_READY) {
		smtp_server_reply(s, "503 5.5.1 Error: nested MAIL command");
		return;
	}
	if (smtp_cmd_path(args, "FROM:", 1, &s->arg, &params, &s->reply) < 0 ||
	    smtp_cmd_mail_params(params, &mp, &s->reply) < 0 ||
	    (s->arg.len > 0 && smtp_cmd_addr_check(s->arg.data, mp.smtputf8, &s->reply) < 0)) {
		smtp_server_reply(s, buf_cstr(&s->reply));
		return;
	}
	if (!s->esmtp &&
	    (mp.size >= 0 || mp.body_8bit || mp.smtputf8 || mp.ret[0] || mp.envid[0])) {
		smtp_server_reply(s, "555 5.5.4 MAIL parameters need EHLO");
		return;
	}
	if (s->cfg.lim.size_max > 0 && mp.size > s->cfg.lim.size_max) {
		smtp_server_reply(s, "552 5.3.4 Message size exceeds fixed limit");
		return;
	}
	buf_reset(&s->reply);
	r = s->h.mail ? s->h.mail(s->h.arg, buf_cstr(&s->arg), &mp, &s->reply) : 0;
	smtp_server_reply_hook(s, r, "250 2.1.0 Ok", "550 5.7.1 Sender refused");
	if (r == 0) {
		s->nrcpt = 0;
		smtp_server_set_state(s, SMTP_SRV_MAIL);
	}
}

static void smtp_server_rcpt(struct smtp_server *s, const char *args)
{
	struct smtp_rcpt_params rp;
	const char *params;
	int r;

	if (smtp_server_need_helo(s))
		return;
	if (s->state != SMTP_SRV_MAIL && s->state != SMTP_SRV_RCPT) {
		smtp_server_reply(s, "503 5.5.1 Error: need MAIL command");
		return;
	}
	if (s->bdat_used) {
		smtp_server_reply(s, "503 5.5.1 Error: RCPT after BDAT");
		return;
	}
	if (s->nrcpt >= s->cfg.lim.rcpt_max) {
		/* RFC 5321 4.5.3.1.10: 452 and the client sends the rest later. */
		smtp_server_reply(s, "452 4.5.3 Error: too many recipients");
		return;
	}
	if (smtp_cmd_path(args, "TO:", 0, &s->arg, &params, &s->reply) < 0 ||
	    smtp_cmd_rcpt_params(params, &rp, &s->reply) < 0 ||
	    smtp_cmd_addr_check(s->arg.data, 1, &s->reply) < 0) {
		smtp_server_reply(s, buf_cstr(&s->reply));
		return;
	}
	buf_reset(&s->reply);
	r = s->h.rcpt ? s->h.rcpt(s->h.arg, buf_cstr(&s->arg), &rp, &s->reply) : 0;
	smtp_server_reply_hook(s, r, "250 2.1.5 Ok", "550 5.1.1 Recipient refused");
	if (r == 0) {
		s->nrcpt++;
		smtp_server_set_state(s, SMTP_SRV_RCPT);
	}
}

/* Start the message (first DATA or BDAT of the transaction). */
static int smtp_server_begin_data(struct smtp_server *s, int dots)
{
	int r;

	buf_reset(&s->reply);
	r = s->h.data_begin ? s->h.data_begin(s->h.arg, &s->reply) : 0;
	if (r < 0)
		return -1;
	s->in_tx_data = 1;
	buf_reset(&s->data);
	smtp_dreader_init(&s->dr, dots, s->cfg.lim.bare_lf_normalize, s->cfg.lim.data_line_max,
	                  s->cfg.lim.size_max);
	return 0;
}

static void smtp_server_data(struct smtp_server *s, const char *args)
{
	if (smtp_server_need_helo(s))
		return;
	if (*args != '\0') {
		smtp_server_reply(s, "501 5.5.4 Syntax: DATA");
		return;
	}
	if (s->bdat_used) {
		smtp_server_reply(s, "503 5.5.1 Error: DATA after BDAT");
		return;
	}
	if (s->state == SMTP_SRV_MAIL) {
		smtp_server_reply(s, "554 5.5.1 Error: no valid recipients");
		return;
	}
	if (s->state != SMTP_SRV_RCPT) {
		smtp_server_reply(s, "503 5.5.1 Error: need RCPT command");
		return;
	}
	if (s->more_input) {
		/* Bytes behind DATA were sent before our 354 could be seen:
		 * RFC 2920 3.1 forbids it, only spamware does it, and taking
		 * them as the message would deliver whatever a desynchronised
		 * client meant as commands (Postfix: smtpd_forbid_unauth_pipelining). */
		smtp_server_reset_tx(s);
		smtp_server_close(s, "503 5.5.0 Error: improper use of SMTP command pipelining "
		                     "(message text sent before the 354 reply)");
		return;
	}
	if (smtp_server_begin_data(s, 1) < 0) {
		smtp_server_reply_hook(s, -1, "", "451 4.3.0 Error: queue file write error");
		return;
	}
	smtp_server_reply(s, "354 End data with <CR><LF>.<CR><LF>");
	smtp_server_set_state(s, SMTP_SRV_DATA);
}

/* Hand the reader's output to the hook; a write failure refuses the message. */
static void smtp_server_flush_data(struct smtp_server *s)
{
	if (s->data.len > 0 && s->dr.flags == 0 && !s->werr && s->h.data_write)
		if (s->h.data_write(s->h.arg, s->data.data, s->data.len) < 0)
			s->werr = 1;
	buf_reset(&s->data);
}

/* The refusal the reader's findings call for, or NULL. */
static const char *smtp_server_data_verdict(const struct smtp_server *s)
{
	if (s->dr.flags & SMTP_DR_TOO_BIG)
		return "552 5.3.4 Error: message too big";
	if (s->dr.flags & SMTP_DR_BARE_EOL)
		return "550 5.6.0 Error: bare CR or LF in message; lines must end with CRLF "
		       "(RFC 5321 2.3.8)";
	if (s->dr.flags & SMTP_DR_NUL)
		return "550 5.6.0 Error: NUL byte in message (RFC 2045 2.8)";
	if (s->dr.flags & SMTP_DR_LONG_LINE)
		return "550 5.6.0 Error: message line too long (RFC 5322 2.1.1: 998 characters)";
	if (s->werr)
		return "451 4.3.0 Error: queue file write error";
	return NULL;
}

/* The message's verdict is queued: the transaction is over. */
static void smtp_server_end_tx(struct smtp_server *s)
{
	s->in_tx_data = 0;
	s->werr = 0;
	smtp_server_reset_tx(s);
	smtp_server_set_state(s, SMTP_SRV_READY);
}

/* The end of a message: judge the reader's findings, then commit. */
static void smtp_server_end_data(struct smtp_server *s)
{
	const char *refusal;
	int r;

	smtp_server_flush_data(s);
	refusal = smtp_server_data_verdict(s);
	buf_reset(&s->reply);
	if (refusal != NULL) {
		if (s->h.data_end)
			s->h.data_end(s->h.arg, SMTP_DATA_REFUSED, &s->reply);
		smtp_server_reply(s, refusal);
	} else {
		r = s->h.data_end ? s->h.data_end(s->h.arg, SMTP_DATA_OK, &s->reply) : 0;
		if (r == SMTP_HOOK_LATER) {
			/* The hook owns the data now: nothing to abort. */
			s->in_tx_data = 0;
			smtp_server_set_state(s, SMTP_SRV_COMMIT);
			return;
		}
		smtp_server_reply_hook(s, r, "250 2.0.0 Ok",
		                       "451 4.3.0 Error: queue file write error");
	}
	smtp_server_end_tx(s);
}

unsigned smtp_server_commit_done(struct smtp_server *s, int r, const char *reply)
{
	struct buf rest = BUF_INIT(SMTP_SERVER_HELD_MAX);
	unsigned act;

	s->act = 0;
	if (s->state != SMTP_SRV_COMMIT)
		return 0;
	if (reply != NULL && *reply != '\0')
		smtp_server_reply(s, reply);
	else
		smtp_server_reply(s, r == 0 ? "250 2.0.0 Ok"
		                            : "451 4.3.0 Error: queue file write error");
	if (s->state == SMTP_SRV_CLOSING)
		return s->act;
	smtp_server_end_tx(s);
	if (s->held.len == 0)
		return s->act;
	/* What the client pipelined behind the end of data, in order. */
	if (buf_add(&rest, s->held.data, s->held.len) < 0) {
		buf_free(&rest);
		smtp_server_close(s, "421 4.3.0 Error: out of memory");
		return s->act;
	}
	buf_wipe(&s->held);
	act = s->act;
	act |= smtp_server_feed(s, rest.data, rest.len);
	buf_wipe(&rest);
	return act;
}

static void smtp_server_bdat(struct smtp_server *s, const char *args)
{
	unsigned long long size;
	int last;

	if (smtp_cmd_bdat(args, &size, &last, &s->reply) < 0) {
		/* We cannot know how many bytes follow: the session is lost. */
		smtp_server_close(s, buf_cstr(&s->reply));
		return;
	}
	s->bdat_left = size;
	s->bdat_last = last;
	s->bdat_failed = 1;
	s->bdat_prev = s->state;
	/* RFC 3030 2: a refused BDAT's chunk is still read and discarded. */
	if (s->state == SMTP_SRV_INIT)
		buf_set(&s->reply, "503 5.5.1 Error: send HELO/EHLO first");
	else if (s->state == SMTP_SRV_MAIL)
		buf_set(&s->reply, "554 5.5.1 Error: no valid recipients");
	else if (s->state != SMTP_SRV_RCPT)
		buf_set(&s->reply, "503 5.5.1 Error: need MAIL and RCPT first");
	else if (!s->bdat_used && smtp_server_begin_data(s, 0) < 0) {
		if (s->reply.len == 0)
			buf_set(&s->reply, "451 4.3.0 Error: queue file write error");
	} else {
		s->bdat_failed = 0;
	}
	if (!s->bdat_failed)
		s->bdat_used = 1;
	smtp_server_set_state(s, SMTP_SRV_BDAT);
}

/* The chunk of a BDAT has been read entirely. */
static void smtp_server_bdat_done(struct smtp_server *s)
{
	struct buf b = BUF_INIT(128);
	const char *refusal;

	if (s->bdat_failed) {
		smtp_server_reply(s, buf_cstr(&s->reply));
		smtp_server_set_state(s, s->bdat_prev);
		return;
	}
	if (s->bdat_last) {
		smtp_dreader_finish(&s->dr, &s->data);
		smtp_server_end_data(s);
		return;
	}
	smtp_server_flush_data(s);
	refusal = smtp_server_data_verdict(s);
	if (refusal != NULL) {
		/* RFC 3030 2: the transaction has failed; later chunks already
		 * in the pipeline are read and refused. */
		smtp_server_reply(s, refusal);
		smtp_server_reset_tx(s);
		smtp_server_set_state(s, SMTP_SRV_READY);
		return;
	}
	buf_printf(&b, "250 2.0.0 %lld octets received", s->dr.size);
	smtp_server_reply(s, buf_cstr(&b));
	buf_free(&b);
	smtp_server_set_state(s, SMTP_SRV_RCPT);
}

/* Only the base64 alphabet may reach the SASL library (RFC 4954 4). */
static int smtp_server_b64_ok(const char *p)
{
	size_t n = strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/");

	while (p[n] == '=')
		n++;
	return p[n] == '\0' && n % 4 == 0;
}

static void smtp_server_auth_result(struct smtp_server *s, enum smtp_auth_result r)
{
	struct buf b = BUF_INIT(SMTP_SERVER_LINE_MAX);

	switch (r) {
	case SMTP_AUTH_CONTINUE:
		buf_printf(&b, "334 %s", buf_cstr(&s->arg));
		smtp_server_reply(s, buf_cstr(&b));
		smtp_server_set_state(s, SMTP_SRV_AUTH);
		break;
	case SMTP_AUTH_OK:
		if (s->arg.len > 0) {
			/* DIGEST-MD5 rspauth, SCRAM server-final: sent as a 334,
			 * and the client answers with an empty line. */
			buf_printf(&b, "334 %s", buf_cstr(&s->arg));
			smtp_server_reply(s, buf_cstr(&b));
			smtp_server_set_state(s, SMTP_SRV_AUTH_FINAL);
			break;
		}
		s->authed = 1;
		smtp_server_reply(s, "235 2.7.0 Authentication successful");
		smtp_server_set_state(s, SMTP_SRV_READY);
		break;
	case SMTP_AUTH_FAIL:
		smtp_server_reply(s, "535 5.7.8 Error: authentication failed");
		smtp_server_set_state(s, SMTP_SRV_READY);
		break;
	case SMTP_AUTH_TEMPFAIL:
		smtp_server_reply(s, "454 4.7.0 Temporary authentication failure");
		smtp_server_set_state(s, SMTP_SRV_READY);
		break;
	}
	buf_free(&b);
	buf_wipe(&s->arg);
}

static void smtp_server_auth(struct smtp_server *s, const char *args)
{
	char mech[32];
	size_t n = strcspn(args, " ");
	const char *ir = NULL;

	if (smtp_server_need_helo(s))
		return;
	if (s->mechs[0] == '\0' || s->h.auth == NULL) {
		smtp_server_reply(s, s->cfg.starttls && !s->tls
		                         ? "530 5.7.0 Must issue a STARTTLS command first"
		                         : "503 5.5.1 Error: authentication not enabled");
		return;
	}
	if (s->authed) {
		smtp_server_reply(s, "503 5.5.1 Error: already authenticated");
		return;
	}
	if (s->state != SMTP_SRV_READY) {
		smtp_server_reply(s, "503 5.5.1 Error: MAIL transaction in progress");
		return;
	}
	if (n == 0 || n >= sizeof(mech)) {
		smtp_server_reply(s, "501 5.5.4 Syntax: AUTH mechanism [initial-response]");
		return;
	}
	memcpy(mech, args, n);
	mech[n] = '\0';
	if (!smtp_server_mech_offered(s, mech)) {
		smtp_server_reply(s, "504 5.5.4 Unrecognized authentication type");
		return;
	}
	if (args[n] == ' ') {
		ir = args + n + 1;
		/* RFC 4954 4: "=" is an empty initial response. */
		if (strcmp(ir, "=") == 0)
			ir = "";
		else if (!smtp_server_b64_ok(ir)) {
			smtp_server_reply(s, "501 5.5.2 Error: cannot decode the initial response");
			return;
		}
	}
	buf_reset(&s->arg);
	smtp_server_auth_result(s, s->h.auth(s->h.arg, mech, ir, &s->arg));
}

static void smtp_server_auth_line(struct smtp_server *s, const char *line)
{
	if (strcmp(line, "*") == 0) {
		if (s->h.auth_abort)
			s->h.auth_abort(s->h.arg);
		smtp_server_reply(s, "501 5.0.0 Authentication cancelled");
		smtp_server_set_state(s, SMTP_SRV_READY);
		return;
	}
	if (s->state == SMTP_SRV_AUTH_FINAL) {
		/* The exchange is complete; this line only acknowledges our
		 * final data and is not passed to the SASL library again. */
		if (s->h.auth_abort)
			s->h.auth_abort(s->h.arg);
		if (line[0] != '\0') {
			smtp_server_reply(s, "501 5.5.2 Error: expected an empty response");
			smtp_server_set_state(s, SMTP_SRV_READY);
			return;
		}
		s->authed = 1;
		smtp_server_reply(s, "235 2.7.0 Authentication successful");
		smtp_server_set_state(s, SMTP_SRV_READY);
		return;
	}
	if (!smtp_server_b64_ok(line)) {
		if (s->h.auth_abort)
			s->h.auth_abort(s->h.arg);
		smtp_server_reply(s, "501 5.5.2 Error: cannot decode the response");
		smtp_server_set_state(s, SMTP_SRV_READY);
		return;
	}
	buf_reset(&s->arg);
	smtp_server_auth_result(s, s->h.auth(s->h.arg, NULL, line, &s->arg));
}

static void smtp_server_starttls(struct smtp_server *s, const char *args)
{
	if (!s->cfg.starttls || s->tls) {
		smtp_server_reply(s, s->tls ? "503 5.5.1 Error: TLS already active"
		                            : "502 5.5.1 Error: command not implemented");
		return;
	}
	if (*args != '\0') {
		smtp_server_reply(s, "501 5.5.4 Syntax: STARTTLS");
		return;
	}
	smtp_server_reset_tx(s);
	smtp_server_reply(s, "220 2.0.0 Ready to start TLS");
	s->act |= SMTP_SRV_ACT_STARTTLS;
	smtp_server_set_state(s, SMTP_SRV_TLS);
}

static void smtp_server_command(struct smtp_server *s, const char *line)
{
	const char *args;
	enum smtp_verb v = smtp_cmd_verb(line, &args);

	if (++s->commands > s->cfg.lim.commands_max) {
		smtp_server_close(s, "421 4.7.0 Error: too many commands");
		return;
	}
	switch (v) {
	case SMTP_V_HELO:
		smtp_server_ehlo(s, args, 0);
		break;
	case SMTP_V_EHLO:
		smtp_server_ehlo(s, args, 1);
		break;
	case SMTP_V_MAIL:
		smtp_server_mail(s, args);
		break;
	case SMTP_V_RCPT:
		smtp_server_rcpt(s, args);
		break;
	case SMTP_V_DATA:
		smtp_server_data(s, args);
		break;
	case SMTP_V_BDAT:
		smtp_server_bdat(s, args);
		break;
	case SMTP_V_AUTH:
		smtp_server_auth(s, args);
		break;
	case SMTP_V_STARTTLS:
		smtp_server_starttls(s, args);
		break;
	case SMTP_V_RSET:
		smtp_server_reset_tx(s);
		smtp_server_reply(s, "250 2.0.0 Ok");
		break;
	case SMTP_V_NOOP:
		smtp_server_reply(s, "250 2.0.0 Ok");
		break;
	case SMTP_V_VRFY:
		smtp_server_reply(s, "252 2.5.0 Cannot VRFY user");
		break;
	case SMTP_V_EXPN:
		smtp_server_reply(s, "502 5.5.1 Error: EXPN not implemented");
		break;
	case SMTP_V_HELP:
		smtp_server_reply(s, "214 2.0.0 See RFC 5321");
		break;
	case SMTP_V_QUIT:
		smtp_server_reset_tx(s);
		smtp_server_close(s, "221 2.0.0 Bye");
		break;
	case SMTP_V_UNKNOWN:
		smtp_server_reply(s, "500 5.5.2 Error: command not recognized");
		break;
	}
	if (s->state != SMTP_SRV_CLOSING && s->errors > s->cfg.lim.errors_max)
		smtp_server_close(s, "421 4.7.0 Error: too many errors");
}

/* A complete line (CRLF or LF removed). */
static void smtp_server_line(struct smtp_server *s, int bare_lf)
{
	const char *line = buf_cstr(&s->line);

	if (s->line_long) {
		s->line_long = 0;
		smtp_server_reply(s, "500 5.5.2 Error: line too long");
	} else if (bare_lf && !s->cfg.lim.bare_lf_normalize) {
		smtp_server_reply(s, "500 5.5.2 Error: bare LF received; commands end with CRLF");
	} else if (memchr(line, '\r', s->line.len) != NULL || strlen(line) != s->line.len) {
		smtp_server_reply(s, "500 5.5.2 Error: bare CR or NUL in command");
	} else if (s->state == SMTP_SRV_AUTH || s->state == SMTP_SRV_AUTH_FINAL) {
		smtp_server_auth_line(s, line);
	} else {
		smtp_server_command(s, line);
	}
	buf_wipe(&s->line);
	if (s->state != SMTP_SRV_CLOSING && s->errors > s->cfg.lim.errors_max)
		smtp_server_close(s, "421 4.7.0 Error: too many errors");
}

/* Message bytes for DATA or BDAT; returns how many were used. */
static size_t smtp_server_feed_data(struct smtp_server *s, const char *p, size_t n)
{
	size_t used = 0, k;

	if (s->state == SMTP_SRV_DATA) {
		while (used < n && !s->dr.done) {
			k = smtp_dreader_feed(&s->dr, p + used, n - used, &s->data);
			used += k;
			if (!s->dr.done)
				smtp_server_flush_data(s);
		}
		if (s->dr.done)
			smtp_server_end_data(s);
		return used;
	}
	/* BDAT: exactly bdat_left bytes, no dot handling. */
	k = n < s->bdat_left ? n : (size_t)s->bdat_left;
	if (!s->bdat_failed) {
		size_t off = 0;
		while (off < k) {
			off += smtp_dreader_feed(&s->dr, p + off, k - off, &s->data);
			smtp_server_flush_data(s);
		}
	}
	s->bdat_left -= k;
	if (s->bdat_left == 0)
		smtp_server_bdat_done(s);
	return k;
}

unsigned smtp_server_feed(struct smtp_server *s, const char *p, size_t n)
{
	size_t i = 0;

	s->act = 0;
	if (s->state == SMTP_SRV_GREET) {
		if (n > 0)
			s->pregreet = 1;
		return 0;
	}
	while (i < n) {
		const char *lf;
		size_t len;

		if (s->state == SMTP_SRV_CLOSING || s->state == SMTP_SRV_TLS)
			break; /* pipelined behind STARTTLS or QUIT: discarded */
		if (s->state == SMTP_SRV_COMMIT) {
			/* Kept for smtp_server_commit_done. */
			if (buf_add(&s->held, p + i, n - i) < 0)
				smtp_server_close(s, "421 4.7.0 Error: too much pipelined input");
			break;
		}
		if (s->state == SMTP_SRV_DATA || s->state == SMTP_SRV_BDAT) {
			i += smtp_server_feed_data(s, p + i, n - i);
			continue;
		}
		lf = memchr(p + i, '\n', n - i);
		len = lf ? (size_t)(lf - (p + i)) : n - i;
		if (!s->line_long && buf_add(&s->line, p + i, len) < 0) {
			s->line_long = 1;
			buf_reset(&s->line);
		}
		i += len;
		if (lf == NULL)
			break;
		i++;
		{
			int bare = !(s->line.len > 0 && s->line.data[s->line.len - 1] == '\r');
			if (!bare)
				buf_truncate(&s->line, s->line.len - 1);
			if (s->line_long)
				bare = 0;
			s->more_input = i < n;
			smtp_server_line(s, bare);
		}
	}
	return s->act;
}
