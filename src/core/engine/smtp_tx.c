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
#include "engine/smtp_tx_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/smtp_envelope.h"
#include "engine/smtp_dsn.h"

void smtp_result_init(struct smtp_result *r)
{
	memset(r, 0, sizeof(*r));
}

void smtp_result_free(struct smtp_result *r)
{
	free(r->rcpt);
	memset(r, 0, sizeof(*r));
}

int smtp_tx_expect(struct smtp_tx *t, enum smtp_expect_kind kind, size_t rcpt, int timeout_ms)
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
int smtp_tx_read_replies(struct smtp_tx *t, struct cl_err *err)
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
				smtp_client_auth_refused(s, s->auth_mech, &t->oc.auth_err);
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
int smtp_tx_envelope_ok(const struct smtp_tx *t)
{
	if (t->oc.auth_err.cls != CL_OK || t->oc.mail_err.cls != CL_OK)
		return 0;
	if (t->oc.rcpt_ok == 0)
		return 0;
	return t->oc.rcpt_bad == 0 || t->s->p->allow_partial;
}

/* The one error to report, most fundamental first. */
int smtp_tx_envelope_error(struct smtp_tx *t, struct cl_err *err)
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
	if (smtp_dsn_check(m, err) < 0)
		return -1;
	if (!(s->caps.flags & CAP_DSN) && smtp_dsn_any(m))
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

int smtp_tx_queue_quit(struct smtp_tx *t, struct cl_err *err)
{
	if (smtp_client_queue(t->s, "QUIT", (size_t)-1, err) < 0 ||
	    smtp_tx_expect(t, EXP_QUIT, 0, t->s->p->timeouts.command_ms) < 0)
		return -1;
	smtp_client_set_state(t->s, SMTP_S_QUIT);
	return 0;
}

/* After a failed transaction on a live session: RSET, or QUIT if last. */
void smtp_tx_abandon(struct smtp_tx *t, int last)
{
	struct smtp_client *s = t->s;
	struct cl_err e;

	if (s->state == SMTP_S_BROKEN || s->state == SMTP_S_QUIT)
		return;
	t->nexp = 0;
	if (last) {
		if (smtp_tx_queue_quit(t, &e) < 0)
			return;
	} else if (smtp_client_queue(s, "RSET", (size_t)-1, &e) < 0 ||
	           smtp_tx_expect(t, EXP_RSET, 0, s->p->timeouts.command_ms) < 0) {
		return;
	}
	if (smtp_client_flush(s, s->p->timeouts.command_ms, &e) == 0)
		smtp_tx_read_replies(t, &e);
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
		if (queued < 0 || smtp_tx_expect(t, EXP_AUTH, 0, to->command_ms) < 0)
			goto out;
	}
	if (tx_mail_from(t, err) < 0 || smtp_tx_expect(t, EXP_MAIL, 0, to->command_ms) < 0)
		goto out;
	for (i = 0; i < m->nrcpt; i++) {
		if (!pipelining) {
			if (smtp_client_flush(s, to->command_ms, err) < 0 ||
			    smtp_tx_read_replies(t, err) < 0)
				goto out;
			if (t->oc.auth_err.cls != CL_OK || t->oc.mail_err.cls != CL_OK)
				break;
		}
		if (tx_rcpt_to(t, i, err) < 0 || smtp_tx_expect(t, EXP_RCPT, i, to->command_ms) < 0)
			goto out;
	}
	if (!pipelining) {
		if (smtp_client_flush(s, to->command_ms, err) < 0 || smtp_tx_read_replies(t, err) < 0)
			goto out;
		if (!smtp_tx_envelope_ok(t)) {
			smtp_tx_abandon(t, last);
			r = smtp_tx_envelope_error(t, err);
			goto out;
		}
	}
	more = m->body.read(m->body.arg, &chunk, SMTP_BDAT_CHUNK, err);
	if (more < 0)
		goto out;

	r = chunking ? smtp_tx_bdat(t, &chunk, more, last, err)
	             : smtp_tx_data(t, &chunk, more, last, err);
	if (r <= 0)
		goto out; /* r is 0 only when the message was accepted */
	r = -1;
	if (t->oc.data_err.cls != CL_OK) {
		*err = t->oc.data_err;
		smtp_tx_abandon(t, last);
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
