/*
 * smtp_tx.c - one mail transaction on an open session, at the
 * round-trip floor: [AUTH] MAIL RCPT... and BDAT LAST (+ QUIT) go out in one
 * write when the server pipelines and chunks; with DATA the group ends at
 * DATA and the message (dot-stuffed) and QUIT follow the 354. If any
 * recipient is refused the message goes to nobody, so that a retry cannot
 * duplicate it: with DATA we drop the connection after 354, with several
 * recipients and BDAT the first chunk is sent without LAST and RSET undoes it.
 * RFC 3461 DSN parameters ride on MAIL and RCPT only when the server offers
 * DSN, and are checked first: nothing with a space, CR, LF or NUL goes out.
 */
#include "engine/smtp_client_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/smtp_envelope.h"
#include "smtp/smtp_data.h"
#include "base/xtext.h"

/* RFC 3461 4.4: an ENVID is at most 100 characters; 4.2: an ORCPT at most
 * 500 (both counted as sent, in xtext). */
#define TX_DSN_ENVID_MAX 100
#define TX_DSN_ORCPT_MAX 500

enum smtp_expect_kind {
	EXP_AUTH,
	EXP_MAIL,
	EXP_RCPT,
	EXP_DATA,     /* 354 expected */
	EXP_CHUNK,    /* a BDAT chunk that is not the last */
	EXP_DATA_END, /* the final reply: BDAT LAST, or "." after DATA */
	EXP_QUIT,
	EXP_RSET,
};

struct smtp_expect {
	enum smtp_expect_kind kind;
	size_t rcpt; /* for EXP_RCPT */
	int timeout_ms;
};

/* What the server said to each part of the transaction so far. */
struct smtp_outcome {
	struct cl_err auth_err; /* cls != CL_OK: AUTH failed */
	struct cl_err mail_err;
	size_t rcpt_ok, rcpt_bad;
	int data_code; /* 354 to DATA, or the BDAT LAST reply */
	char data_reply[512];
	char data_enh[16];
	int data_done; /* final data reply received */
	struct cl_err data_err;
};

struct smtp_tx {
	struct smtp_client *s;
	const struct smtp_message *m;
	struct smtp_result *res;
	struct smtp_expect *exp;
	size_t nexp, cap;
	struct smtp_outcome oc;
	int body_shown; /* the header section is in the transcript */
};

void smtp_result_init(struct smtp_result *r)
{
	memset(r, 0, sizeof(*r));
}

void smtp_result_free(struct smtp_result *r)
{
	free(r->rcpt);
	memset(r, 0, sizeof(*r));
}

static int tx_expect(struct smtp_tx *t, enum smtp_expect_kind kind, size_t rcpt, int timeout_ms)
{
	if (t->nexp == t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 16;
		struct smtp_expect *n = realloc(t->exp, ncap * sizeof(*n));
		if (n == NULL)
			return -1;
		t->exp = n;
		t->cap = ncap;
	}
	t->exp[t->nexp].kind = kind;
	t->exp[t->nexp].rcpt = rcpt;
	t->exp[t->nexp].timeout_ms = timeout_ms;
	t->nexp++;
	return 0;
}

static void tx_summary(struct smtp_client *s, char *out, size_t n)
{
	buf_reset(&s->scratch);
	snprintf(out, n, "%s", smtp_reply_summary(&s->reply, &s->scratch));
}

/* e = "<stage><arg>: <reply>", classed by the reply code; the reply, its
 * codes and st as the error's fields. */
static void tx_set_reply_err(struct smtp_client *s, struct cl_err *e, enum cl_stage st,
                             const char *stage, const char *arg)
{
	int c = s->reply.code / 100;
	const char *sum;

	buf_reset(&s->scratch);
	sum = smtp_reply_summary(&s->reply, &s->scratch);
	err_set(e,
	        c == 4   ? CL_ETEMP
	        : c == 5 ? CL_EUNAVAIL
	                 : CL_EPROTO,
	        "%s%s: %s", stage, arg, sum);
	err_reply(e, st, s->reply.code, s->reply.enh, sum);
}

/* Read the replies to everything expected, in order, and record them. A
 * broken connection stops the reading; the error is returned. */
static int tx_read_replies(struct smtp_tx *t, struct cl_err *err)
{
	struct smtp_client *s = t->s;
	size_t i;

	for (i = 0; i < t->nexp; i++) {
		struct smtp_expect *x = &t->exp[i];
		static const char *const what[] = {"AUTH", "MAIL FROM",   "RCPT TO", "DATA",
		                                   "BDAT", "end of data", "QUIT",    "RSET"};
		static const enum cl_stage stage[] = {
		    CL_STAGE_AUTH,     CL_STAGE_MAIL,     CL_STAGE_RCPT, CL_STAGE_DATA,
		    CL_STAGE_DATA_END, CL_STAGE_DATA_END, CL_STAGE_NONE, CL_STAGE_NONE};
		if (smtp_client_read_reply(s, x->timeout_ms, what[x->kind], err) < 0) {
			err_reply(err, stage[x->kind], 0, NULL, NULL);
			t->nexp = 0;
			return -1;
		}
		switch (x->kind) {
		case EXP_AUTH:
			if (s->reply.code == 235) {
				if (sasl_client_finish(s->auth_pending, &t->oc.auth_err) == 0)
					s->authenticated = 1;
			} else {
				int c = s->reply.code;
				const char *sum;
				buf_reset(&s->scratch);
				sum = smtp_reply_summary(&s->reply, &s->scratch);
				err_set(&t->oc.auth_err,
				        c / 100 == 4                       ? CL_ETEMP
				        : c == 534 || c == 538 || c == 504 ? CL_EUNAVAIL
				                                           : CL_EAUTH,
				        "AUTH %s as %s rejected: %s", s->auth_mech,
				        s->p->creds.user ? s->p->creds.user : "", sum);
				err_reply(&t->oc.auth_err, CL_STAGE_AUTH, c, s->reply.enh, sum);
			}
			sasl_client_free(s->auth_pending);
			s->auth_pending = NULL;
			break;
		case EXP_MAIL:
			if (s->reply.code != 250)
				tx_set_reply_err(s, &t->oc.mail_err, CL_STAGE_MAIL,
				                 "MAIL FROM rejected for ",
				                 t->m->from[0] ? t->m->from : "<>");
			break;
		case EXP_RCPT:
			t->res->rcpt[x->rcpt].code = s->reply.code;
			tx_summary(s, t->res->rcpt[x->rcpt].reply, sizeof(t->res->rcpt[0].reply));
			snprintf(t->res->rcpt[x->rcpt].enh, sizeof(t->res->rcpt[0].enh), "%s",
			         s->reply.enh);
			if (s->reply.code == 250 || s->reply.code == 251)
				t->oc.rcpt_ok++;
			else
				t->oc.rcpt_bad++;
			break;
		case EXP_DATA:
		case EXP_CHUNK:
		case EXP_DATA_END:
			if (x->kind == EXP_DATA && s->reply.code == 354) {
				t->oc.data_code = 354;
				break;
			}
			if (s->reply.code != 250 && t->oc.data_err.cls == CL_OK)
				tx_set_reply_err(
				    s, &t->oc.data_err,
				    x->kind == EXP_DATA ? CL_STAGE_DATA : CL_STAGE_DATA_END,
				    x->kind == EXP_DATA ? "DATA" : "message data", " rejected");
			if (x->kind != EXP_CHUNK || s->reply.code != 250) {
				t->oc.data_code = s->reply.code;
				tx_summary(s, t->oc.data_reply, sizeof(t->oc.data_reply));
				snprintf(t->oc.data_enh, sizeof(t->oc.data_enh), "%s",
				         s->reply.enh);
			}
			if (x->kind == EXP_DATA_END)
				t->oc.data_done = 1;
			break;
		case EXP_QUIT:
		case EXP_RSET:
			break;
		}
	}
	t->nexp = 0;
	return 0;
}

/* The envelope is acceptable: authenticated if asked, sender and every
 * recipient accepted (or, with allow_partial, at least one). */
static int tx_envelope_ok(const struct smtp_tx *t)
{
	if (t->oc.auth_err.cls != CL_OK || t->oc.mail_err.cls != CL_OK)
		return 0;
	if (t->oc.rcpt_ok == 0)
		return 0;
	return t->oc.rcpt_bad == 0 || t->s->p->allow_partial;
}

/* The one error to report, most fundamental first. */
static int tx_envelope_error(struct smtp_tx *t, struct cl_err *err)
{
	struct buf b = BUF_INIT(CL_ERR_MSG_MAX);
	enum cl_errclass cls = CL_ETEMP;
	size_t i, shown = 0;

	if (t->oc.auth_err.cls != CL_OK) {
		*err = t->oc.auth_err;
		return -1;
	}
	if (t->oc.mail_err.cls != CL_OK) {
		*err = t->oc.mail_err;
		return -1;
	}
	if (t->oc.rcpt_bad == 0) {
		if (t->oc.data_err.cls != CL_OK) {
			*err = t->oc.data_err;
			return -1;
		}
		return err_set(err, CL_EPROTO, "the server accepted no recipient");
	}
	if (t->m->nrcpt == 1)
		buf_printf(&b, "RCPT TO ");
	else
		buf_printf(&b, "%zu of %zu recipients rejected: ", t->oc.rcpt_bad, t->m->nrcpt);
	for (i = 0; i < t->m->nrcpt; i++) {
		int c = t->res->rcpt[i].code;
		if (c == 250 || c == 251)
			continue;
		if (c / 100 == 5)
			cls = CL_EUNAVAIL; /* a retry cannot succeed */
		else if (c / 100 != 4 && cls != CL_EUNAVAIL)
			cls = CL_EPROTO;
		buf_printf(&b, "%s<%s>%s %s", shown++ ? "; " : "", t->m->rcpts[i],
		           t->m->nrcpt == 1 ? " rejected:" : ":",
		           c ? t->res->rcpt[i].reply : "no reply");
	}
	if (t->oc.rcpt_ok > 0 && !t->s->p->allow_partial)
		buf_adds(&b, "; the mail was sent to nobody");
	err_set(err, cls, "%s", buf_cstr(&b));
	buf_free(&b);
	return -1;
}

static int tx_queue_printf(struct smtp_tx *t, struct cl_err *err, const char *fmt, ...)
    BUF_PRINTF(3, 4);

static int tx_queue_printf(struct smtp_tx *t, struct cl_err *err, const char *fmt, ...)
{
	struct buf cmd = BUF_INIT(SMTP_CMD_MAX);
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = buf_vprintf(&cmd, fmt, ap);
	va_end(ap);
	if (r < 0)
		r = err_set(err, CL_EDATA, "command too long");
	else
		r = smtp_client_queue(t->s, buf_cstr(&cmd), (size_t)-1, err);
	buf_free(&cmd);
	return r;
}

/* Show the message's header section in the transcript, not its body. */
static void tx_transcript_message(struct smtp_client *s, const char *p, size_t len, long long total)
{
	const char *end = p + len, *nl;

	if (s->p->transcript == NULL)
		return;
	while (p < end && (nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		size_t l = (size_t)(nl - p);
		char line[1024];
		if (l && p[l - 1] == '\r')
			l--;
		if (l == 0)
			break;
		snprintf(line, sizeof(line), "%.*s", (int)(l > 1000 ? 1000 : l), p);
		s->p->transcript(s->p->transcript_arg, s->tag, '>', line);
		p = nl + 1;
	}
	smtp_client_note(s, "[message body; %lld bytes in all]", total);
}

/* RFC 3461 4.1: "NEVER", or a list of SUCCESS, FAILURE and DELAY. */
static int tx_dsn_notify_ok(const char *v)
{
	static const char *const kw[] = {"NEVER", "SUCCESS", "FAILURE", "DELAY"};
	int never = 0, other = 0;
	size_t i, w;

	for (;;) {
		w = strcspn(v, ",");
		for (i = 0; i < sizeof(kw) / sizeof(kw[0]); i++)
			if (w == strlen(kw[i]) && strncasecmp(v, kw[i], w) == 0)
				break;
		if (i == sizeof(kw) / sizeof(kw[0]))
			return 0;
		if (i == 0)
			never = 1;
		else
			other = 1;
		if (v[w] == '\0')
			break;
		v += w + 1;
	}
	return never != other;
}

/* RFC 3461 4.2: addr-type ";" xtext. */
static int tx_dsn_orcpt_ok(const char *v)
{
	size_t n = strlen(v);
	const char *semi = strchr(v, ';');

	return n <= TX_DSN_ORCPT_MAX && semi != NULL && semi > v && xtext_valid(v, n);
}

/* Check every DSN parameter before anything is queued: each goes on the
 * wire as it is, so a bad one (a space, CR, LF, NUL or anything outside
 * xtext) is refused rather than written, whether the server offers DSN
 * or not (so that the outcome does not depend on the server). */
static int tx_check_dsn(const struct smtp_message *m, struct cl_err *err)
{
	size_t i;

	if (m->ret != NULL && strcasecmp(m->ret, "FULL") != 0 && strcasecmp(m->ret, "HDRS") != 0)
		return err_set(err, CL_EDATA, "DSN parameter RET= is neither FULL nor HDRS");
	if (m->envid != NULL && (m->envid[0] == '\0' || strlen(m->envid) > TX_DSN_ENVID_MAX ||
	                         !xtext_valid(m->envid, strlen(m->envid))))
		return err_set(err, CL_EDATA,
		               "DSN parameter ENVID= is not xtext of 1 to %d characters "
		               "(RFC 3461 4.4)",
		               TX_DSN_ENVID_MAX);
	for (i = 0; i < m->nrcpt; i++) {
		const char *nt = m->notify ? m->notify[i] : NULL;
		const char *oc = m->orcpt ? m->orcpt[i] : NULL;
		if (nt != NULL && !tx_dsn_notify_ok(nt))
			return err_set(err, CL_EDATA,
			               "DSN parameter NOTIFY= of recipient %zu is not NEVER or a "
			               "list of SUCCESS, FAILURE, DELAY (RFC 3461 4.1)",
			               i + 1);
		if (oc != NULL && !tx_dsn_orcpt_ok(oc))
			return err_set(err, CL_EDATA,
			               "DSN parameter ORCPT= of recipient %zu is not type;xtext of "
			               "at most %d characters (RFC 3461 4.2)",
			               i + 1, TX_DSN_ORCPT_MAX);
	}
	return 0;
}

static int tx_has_dsn(const struct smtp_message *m)
{
	size_t i;

	if (m->ret != NULL || m->envid != NULL)
		return 1;
	for (i = 0; i < m->nrcpt; i++)
		if ((m->notify && m->notify[i]) || (m->orcpt && m->orcpt[i]))
			return 1;
	return 0;
}

static int tx_mail_from(struct smtp_tx *t, struct cl_err *err)
{
	const struct smtp_client *s = t->s;
	const struct smtp_message *m = t->m;
	struct buf cmd = BUF_INIT(SMTP_CMD_MAX);
	int r;

	buf_printf(&cmd, "MAIL FROM:<%s>", m->from);
	if ((s->caps.flags & CAP_SIZE) && m->body.size >= 0)
		buf_printf(&cmd, " SIZE=%lld", m->body.size);
	if (m->body_8bit)
		buf_adds(&cmd, " BODY=8BITMIME");
	if (m->smtputf8)
		buf_adds(&cmd, " SMTPUTF8");
	if (s->caps.flags & CAP_DSN) {
		if (m->ret != NULL)
			buf_adds(&cmd, strcasecmp(m->ret, "HDRS") == 0 ? " RET=HDRS" : " RET=FULL");
		if (m->envid != NULL)
			buf_printf(&cmd, " ENVID=%s", m->envid);
	}
	r = smtp_client_queue(t->s, buf_cstr(&cmd), (size_t)-1, err);
	buf_free(&cmd);
	return r;
}

static int tx_rcpt_to(struct smtp_tx *t, size_t i, struct cl_err *err)
{
	const struct smtp_message *m = t->m;
	struct buf cmd = BUF_INIT(SMTP_CMD_MAX);
	int r;

	buf_printf(&cmd, "RCPT TO:<%s>", m->rcpts[i]);
	if (t->s->caps.flags & CAP_DSN) {
		if (m->notify && m->notify[i])
			buf_printf(&cmd, " NOTIFY=%s", m->notify[i]);
		if (m->orcpt && m->orcpt[i])
			buf_printf(&cmd, " ORCPT=%s", m->orcpt[i]);
	}
	r = smtp_client_queue(t->s, buf_cstr(&cmd), (size_t)-1, err);
	buf_free(&cmd);
	return r;
}

static int tx_check_server(struct smtp_tx *t, struct cl_err *err)
{
	const struct smtp_client *s = t->s;
	const struct smtp_message *m = t->m;

	if (m->nrcpt == 0)
		return err_set(err, CL_EUSAGE, "no recipient");
	if (tx_check_dsn(m, err) < 0)
		return -1;
	if (!(s->caps.flags & CAP_DSN) && tx_has_dsn(m))
		smtp_client_note(t->s,
		                 "%s does not offer DSN: RET, ENVID, NOTIFY and ORCPT are not "
		                 "passed on (RFC 3461 4.1)",
		                 s->p->host);
	if (m->body_8bit && !(s->caps.flags & CAP_8BITMIME))
		return err_set(err, CL_EUNAVAIL,
		               "the message has 8-bit data and %s does not offer 8BITMIME",
		               s->p->host);
	if (m->smtputf8 && !(s->caps.flags & CAP_SMTPUTF8))
		return err_set(err, CL_EUNAVAIL,
		               "an address is not ASCII and %s does not offer SMTPUTF8",
		               s->p->host);
	if ((s->caps.flags & CAP_SIZE) && s->caps.size_max && m->body.size > 0 &&
	    (unsigned long long)m->body.size > s->caps.size_max)
		return err_set(err, CL_EUNAVAIL,
		               "the message (%lld bytes) is larger than %s accepts (SIZE %llu)",
		               m->body.size, s->p->host, s->caps.size_max);
	return 0;
}

static int tx_queue_quit(struct smtp_tx *t, struct cl_err *err);

/* Send the body with DATA after a 354: dot-stuffed, in bounded writes. */
static int tx_send_data_body(struct smtp_tx *t, struct buf *chunk, int more, int last,
                             struct cl_err *err)
{
	struct smtp_client *s = t->s;
	struct smtp_data_enc enc;

	smtp_data_enc_init(&enc, 1);
	for (;;) {
		if (smtp_data_enc_chunk(&enc, chunk->data, chunk->len, &s->out) < 0)
			return err_set(err, CL_ESOFTWARE, "output buffer full");
		buf_reset(chunk);
		if (!more)
			break;
		if (smtp_client_flush(s, s->p->timeouts.data_block_ms, err) < 0)
			return -1;
		more = t->m->body.read(t->m->body.arg, chunk, SMTP_BDAT_CHUNK, err);
		if (more < 0)
			return -1;
	}
	if (smtp_data_enc_end(&enc, &s->out) < 0)
		return err_set(err, CL_ESOFTWARE, "output buffer full");
	if (tx_expect(t, EXP_DATA_END, 0, s->p->timeouts.data_end_ms) < 0)
		return err_set(err, CL_ESOFTWARE, "out of memory");
	if (last && tx_queue_quit(t, err) < 0)
		return -1;
	return smtp_client_flush(s, s->p->timeouts.data_block_ms, err);
}

/* Append one BDAT chunk (command and bytes) to the group. */
static int tx_queue_bdat(struct smtp_tx *t, struct buf *chunk, int last_chunk, struct cl_err *err)
{
	struct smtp_client *s = t->s;

	if (tx_queue_printf(t, err, "BDAT %zu%s", chunk->len, last_chunk ? " LAST" : "") < 0)
		return -1;
	if (!t->body_shown) {
		tx_transcript_message(s, chunk->data, chunk->len, t->m->body.size);
		t->body_shown = 1;
	}
	if (buf_add(&s->out, chunk->data, chunk->len) < 0)
		return err_set(err, CL_ESOFTWARE, "output buffer full");
	buf_reset(chunk);
	return tx_expect(t, last_chunk ? EXP_DATA_END : EXP_CHUNK, 0,
	                 last_chunk ? s->p->timeouts.data_end_ms : s->p->timeouts.data_block_ms) < 0
	           ? err_set(err, CL_ESOFTWARE, "out of memory")
	           : 0;
}

static int tx_queue_quit(struct smtp_tx *t, struct cl_err *err)
{
	if (smtp_client_queue(t->s, "QUIT", (size_t)-1, err) < 0 ||
	    tx_expect(t, EXP_QUIT, 0, t->s->p->timeouts.command_ms) < 0)
		return -1;
	smtp_client_set_state(t->s, SMTP_S_QUIT);
	return 0;
}

/* After a failed transaction on a live session: RSET, or QUIT if last. */
static void tx_abandon(struct smtp_tx *t, int last)
{
	struct smtp_client *s = t->s;
	struct cl_err e;

	if (s->state == SMTP_S_BROKEN || s->state == SMTP_S_QUIT)
		return;
	t->nexp = 0;
	if (last) {
		if (tx_queue_quit(t, &e) < 0)
			return;
	} else if (smtp_client_queue(s, "RSET", (size_t)-1, &e) < 0 ||
	           tx_expect(t, EXP_RSET, 0, s->p->timeouts.command_ms) < 0) {
		return;
	}
	if (smtp_client_flush(s, s->p->timeouts.command_ms, &e) == 0)
		tx_read_replies(t, &e);
	if (!last)
		smtp_client_set_state(s, SMTP_S_READY);
}

static int tx_run(struct smtp_tx *t, int last, struct cl_err *err)
{
	struct smtp_client *s = t->s;
	const struct smtp_message *m = t->m;
	const struct smtp_timeouts *to = &s->p->timeouts;
	int pipelining = (s->caps.flags & CAP_PIPELINING) != 0;
	int chunking = s->esmtp && (s->caps.flags & CAP_CHUNKING);
	struct buf chunk = BUF_INIT(SMTP_BDAT_CHUNK);
	int more, queued, r = -1; /* r becomes 0 only when the message is accepted */
	size_t i;

	smtp_client_set_state(s, SMTP_S_MAIL);
	if (s->auth_pending) {
		struct buf cmd = BUF_INIT(SMTP_CMD_MAX);
		size_t shown;
		buf_set_secret(&cmd);
		buf_printf(&cmd, "AUTH %s", s->auth_mech);
		shown = cmd.len;
		buf_addc(&cmd, ' ');
		buf_add(&cmd, s->auth_ir.data, s->auth_ir.len);
		buf_wipe(&s->auth_ir);
		queued = smtp_client_queue(s, buf_cstr(&cmd), shown, err);
		buf_wipe(&cmd);
		if (queued < 0 || tx_expect(t, EXP_AUTH, 0, to->command_ms) < 0)
			goto out;
	}
	if (tx_mail_from(t, err) < 0 || tx_expect(t, EXP_MAIL, 0, to->command_ms) < 0)
		goto out;
	for (i = 0; i < m->nrcpt; i++) {
		if (!pipelining) {
			if (smtp_client_flush(s, to->command_ms, err) < 0 ||
			    tx_read_replies(t, err) < 0)
				goto out;
			if (t->oc.auth_err.cls != CL_OK || t->oc.mail_err.cls != CL_OK)
				break;
		}
		if (tx_rcpt_to(t, i, err) < 0 || tx_expect(t, EXP_RCPT, i, to->command_ms) < 0)
			goto out;
	}
	if (!pipelining) {
		if (smtp_client_flush(s, to->command_ms, err) < 0 || tx_read_replies(t, err) < 0)
			goto out;
		if (!tx_envelope_ok(t)) {
			tx_abandon(t, last);
			r = tx_envelope_error(t, err);
			goto out;
		}
	}
	more = m->body.read(m->body.arg, &chunk, SMTP_BDAT_CHUNK, err);
	if (more < 0)
		goto out;

	if (chunking) {
		/* LAST in the first flight only if a refused recipient cannot
		 * lead to a partial delivery (or the envelope is known good). */
		int known = !pipelining;
		int first_last = !more && (known || m->nrcpt == 1 || s->p->allow_partial);

		smtp_client_set_state(s, SMTP_S_DATA);
		if (tx_queue_bdat(t, &chunk, first_last, err) < 0)
			goto out;
		if (first_last && last && tx_queue_quit(t, err) < 0)
			goto out;
		if (smtp_client_flush(s, to->data_block_ms, err) < 0 || tx_read_replies(t, err) < 0)
			goto out;
		if (!tx_envelope_ok(t)) {
			if (t->oc.data_done && t->oc.data_code == 250 &&
			    t->oc.auth_err.cls != CL_OK) {
				snprintf(t->res->warning, sizeof(t->res->warning),
				         "%s; the server accepted the message without it",
				         t->oc.auth_err.msg);
				r = 0;
				goto out;
			}
			tx_abandon(t, last);
			r = tx_envelope_error(t, err);
			goto out;
		}
		while (!t->oc.data_done) {
			if (t->oc.data_err.cls != CL_OK) {
				*err = t->oc.data_err;
				tx_abandon(t, last);
				goto out;
			}
			if (more) {
				more = m->body.read(m->body.arg, &chunk, SMTP_BDAT_CHUNK, err);
				if (more < 0)
					goto out;
			}
			if (tx_queue_bdat(t, &chunk, !more, err) < 0)
				goto out;
			if (!more && last && tx_queue_quit(t, err) < 0)
				goto out;
			if (smtp_client_flush(s, to->data_block_ms, err) < 0)
				goto out;
			/* Replies to intermediate chunks are read with the last. */
			if (!more && tx_read_replies(t, err) < 0)
				goto out;
		}
	} else {
		if (tx_queue_printf(t, err, "DATA") < 0 ||
		    tx_expect(t, EXP_DATA, 0, to->data_init_ms) < 0 ||
		    smtp_client_flush(s, to->command_ms, err) < 0 || tx_read_replies(t, err) < 0)
			goto out;
		if (t->oc.data_code != 354) {
			if (tx_envelope_ok(t))
				*err = t->oc.data_err;
			else
				tx_envelope_error(t, err);
			tx_abandon(t, last);
			goto out;
		}
		if (!tx_envelope_ok(t)) {
			/* RFC 5321 3.3: a transaction cut before "." is not
			 * delivered; dropping the link is the only abort in DATA. */
			smtp_client_note(s, "closing the connection so that nothing is delivered");
			conn_close(s->conn);
			s->conn = NULL;
			smtp_client_set_state(s, SMTP_S_BROKEN);
			r = tx_envelope_error(t, err);
			goto out;
		}
		smtp_client_set_state(s, SMTP_S_DATA);
		tx_transcript_message(s, chunk.data, chunk.len, m->body.size);
		if (tx_send_data_body(t, &chunk, more, last, err) < 0 ||
		    tx_read_replies(t, err) < 0)
			goto out;
	}
	if (t->oc.data_err.cls != CL_OK) {
		*err = t->oc.data_err;
		tx_abandon(t, last);
		goto out;
	}
	r = 0;
out:
	t->res->code = t->oc.data_code;
	snprintf(t->res->reply, sizeof(t->res->reply), "%s", t->oc.data_reply);
	snprintf(t->res->enh, sizeof(t->res->enh), "%s", t->oc.data_enh);
	buf_free(&chunk);
	return r;
}

int smtp_client_send(struct smtp_client *s, const struct smtp_message *m0, int last,
                     struct smtp_result *res, struct cl_err *err)
{
	struct smtp_tx t;
	struct addr_idn_env env;
	const struct smtp_message *m = &env.m;
	int r = -1;

	if (s->state != SMTP_S_READY)
		return err_set(err, CL_ESOFTWARE, "session not ready for a message");
	/* Addresses as this server takes them: A-labels without SMTPUTF8, and
	 * a non-ASCII local part refused before anything is sent. */
	if (addr_idn_envelope(m0, (s->caps.flags & CAP_SMTPUTF8) != 0, s->p->host, &env, err) < 0)
		goto out;
	memset(&t, 0, sizeof(t));
	t.s = s;
	t.m = m;
	t.res = res;
	res->rcpt = calloc(m->nrcpt ? m->nrcpt : 1, sizeof(*res->rcpt));
	if (res->rcpt == NULL) {
		err_set(err, CL_ESOFTWARE, "out of memory");
		goto out;
	}
	res->nrcpt = m->nrcpt;
	snprintf(res->auth_mech, sizeof(res->auth_mech), "%s", s->auth_mech);
	if (tx_check_server(&t, err) < 0)
		goto out;
	buf_reset(&s->out);
	r = tx_run(&t, last, err);
	free(t.exp);
	if (r == 0 && s->state != SMTP_S_QUIT && s->state != SMTP_S_BROKEN)
		smtp_client_set_state(s, SMTP_S_READY);
out:
	addr_idn_env_free(&env);
	return r;
}
