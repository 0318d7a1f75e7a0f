/*
 * smtp_tx_body.c - the message part of a transaction (smtp_tx_int.h): the
 * BDAT path (RFC 3030 chunks, LAST in the first flight when it is safe) and
 * the DATA path (354, dot-stuffed body, "."). smtp_tx.c sends the envelope
 * and calls one of them; round trips are as docs/architecture.md says.
 */
#include "engine/smtp_tx_int.h"

#include <stdio.h>
#include <string.h>

#include "smtp/smtp_data.h"

static int smtp_tx_queue_printf(struct smtp_tx *t, struct cl_err *err, const char *fmt, ...)
    BUF_PRINTF(3, 4);

static int smtp_tx_queue_printf(struct smtp_tx *t, struct cl_err *err, const char *fmt, ...)
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
static void smtp_tx_transcript_message(struct smtp_client *s, const char *p, size_t len,
                                       long long total)
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

/* Send the body with DATA after a 354: dot-stuffed, in bounded writes. */
static int smtp_tx_send_data_body(struct smtp_tx *t, struct buf *chunk, int more, int last,
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
	if (smtp_tx_expect(t, EXP_DATA_END, 0, s->p->timeouts.data_end_ms) < 0)
		return err_set(err, CL_ESOFTWARE, "out of memory");
	if (last && smtp_tx_queue_quit(t, err) < 0)
		return -1;
	return smtp_client_flush(s, s->p->timeouts.data_block_ms, err);
}

/* Append one BDAT chunk (command and bytes) to the group. */
static int smtp_tx_queue_bdat(struct smtp_tx *t, struct buf *chunk, int last_chunk,
                              struct cl_err *err)
{
	struct smtp_client *s = t->s;

	if (smtp_tx_queue_printf(t, err, "BDAT %zu%s", chunk->len, last_chunk ? " LAST" : "") < 0)
		return -1;
	if (!t->body_shown) {
		smtp_tx_transcript_message(s, chunk->data, chunk->len, t->m->body.size);
		t->body_shown = 1;
	}
	if (buf_add(&s->out, chunk->data, chunk->len) < 0)
		return err_set(err, CL_ESOFTWARE, "output buffer full");
	buf_reset(chunk);
	return smtp_tx_expect(t, last_chunk ? EXP_DATA_END : EXP_CHUNK, 0,
	                      last_chunk ? s->p->timeouts.data_end_ms
	                                 : s->p->timeouts.data_block_ms) < 0
	           ? err_set(err, CL_ESOFTWARE, "out of memory")
	           : 0;
}

/* The BDAT path (RFC 3030): the first chunk in the same flight as the
 * envelope, LAST in it only when a refused recipient cannot lead to a
 * partial delivery; the later chunks' replies read with the last one. */
int smtp_tx_bdat(struct smtp_tx *t, struct buf *chunk, int more, int last, struct cl_err *err)
{
	struct smtp_client *s = t->s;
	const struct smtp_message *m = t->m;
	const struct smtp_timeouts *to = &s->p->timeouts;
	int pipelining = (s->caps.flags & CAP_PIPELINING) != 0;
	/* LAST in the first flight only if a refused recipient cannot
	 * lead to a partial delivery (or the envelope is known good). */
	int known = !pipelining;
	int first_last = !more && (known || m->nrcpt == 1 || s->p->allow_partial);

	smtp_client_set_state(s, SMTP_S_DATA);
	if (smtp_tx_queue_bdat(t, chunk, first_last, err) < 0)
		return -1;
	if (first_last && last && smtp_tx_queue_quit(t, err) < 0)
		return -1;
	if (smtp_client_flush(s, to->data_block_ms, err) < 0 || smtp_tx_read_replies(t, err) < 0)
		return -1;
	if (!smtp_tx_envelope_ok(t)) {
		if (t->oc.data_done && t->oc.data_code == 250 && t->oc.auth_err.cls != CL_OK) {
			snprintf(t->res->warning, sizeof(t->res->warning),
			         "%s; the server accepted the message without it",
			         t->oc.auth_err.msg);
			return 0;
		}
		smtp_tx_abandon(t, last);
		return smtp_tx_envelope_error(t, err);
	}
	while (!t->oc.data_done) {
		if (t->oc.data_err.cls != CL_OK) {
			*err = t->oc.data_err;
			smtp_tx_abandon(t, last);
			return -1;
		}
		if (more) {
			more = m->body.read(m->body.arg, chunk, SMTP_BDAT_CHUNK, err);
			if (more < 0)
				return -1;
		}
		if (smtp_tx_queue_bdat(t, chunk, !more, err) < 0)
			return -1;
		if (!more && last && smtp_tx_queue_quit(t, err) < 0)
			return -1;
		if (smtp_client_flush(s, to->data_block_ms, err) < 0)
			return -1;
		/* Replies to intermediate chunks are read with the last. */
		if (!more && smtp_tx_read_replies(t, err) < 0)
			return -1;
	}
	return 1;
}

/* The DATA path: DATA ends the group; after 354 the message, dot-stuffed,
 * and "."; a refused recipient drops the connection before the "." (RFC
 * 5321 3.3). */
int smtp_tx_data(struct smtp_tx *t, struct buf *chunk, int more, int last, struct cl_err *err)
{
	struct smtp_client *s = t->s;
	const struct smtp_message *m = t->m;
	const struct smtp_timeouts *to = &s->p->timeouts;

	if (smtp_tx_queue_printf(t, err, "DATA") < 0 ||
	    smtp_tx_expect(t, EXP_DATA, 0, to->data_init_ms) < 0 ||
	    smtp_client_flush(s, to->command_ms, err) < 0 || smtp_tx_read_replies(t, err) < 0)
		return -1;
	if (t->oc.data_code != 354) {
		if (smtp_tx_envelope_ok(t))
			*err = t->oc.data_err;
		else
			smtp_tx_envelope_error(t, err);
		smtp_tx_abandon(t, last);
		return -1;
	}
	if (!smtp_tx_envelope_ok(t)) {
		/* RFC 5321 3.3: a transaction cut before "." is not
		 * delivered; dropping the link is the only abort in DATA. */
		smtp_client_note(s, "closing the connection so that nothing is delivered");
		conn_close(s->conn);
		s->conn = NULL;
		smtp_client_set_state(s, SMTP_S_BROKEN);
		return smtp_tx_envelope_error(t, err);
	}
	smtp_client_set_state(s, SMTP_S_DATA);
	smtp_tx_transcript_message(s, chunk->data, chunk->len, m->body.size);
	if (smtp_tx_send_data_body(t, chunk, more, last, err) < 0 ||
	    smtp_tx_read_replies(t, err) < 0)
		return -1;
	return 1;
}
