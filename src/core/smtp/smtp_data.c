/*
 * smtp_data.c - the message bytes on the wire (see smtp_data.h): every CR
 * and LF, alone or paired, leaves as exactly one CRLF, and for DATA a line
 * starting with '.' gets another '.' (RFC 5321 4.5.2). Runs of ordinary
 * bytes are copied whole; the state carries a CR or a line start across
 * chunk boundaries.
 */
#include "smtp/smtp_data.h"

void smtp_data_enc_init(struct smtp_data_enc *e, int dotstuff)
{
	e->dotstuff = dotstuff ? 1 : 0;
	e->at_bol = 1;
	e->pending_cr = 0;
}

static int smtp_data_enc_run(struct smtp_data_enc *e, const char *in, size_t len, struct buf *out)
{
	size_t i = 0, j;

	while (i < len) {
		if (e->pending_cr) {
			/* CR LF, or a bare CR: either way one line end. */
			e->pending_cr = 0;
			if (buf_add(out, "\r\n", 2) < 0)
				return -1;
			e->at_bol = 1;
			if (in[i] == '\n') {
				i++;
				continue;
			}
		}
		if (in[i] == '\r') {
			e->pending_cr = 1;
			i++;
			continue;
		}
		if (in[i] == '\n') {
			if (buf_add(out, "\r\n", 2) < 0)
				return -1;
			e->at_bol = 1;
			i++;
			continue;
		}
		if (e->at_bol && e->dotstuff && in[i] == '.' && buf_addc(out, '.') < 0)
			return -1;
		for (j = i; j < len && in[j] != '\r' && in[j] != '\n'; j++)
			;
		if (buf_add(out, in + i, j - i) < 0)
			return -1;
		e->at_bol = 0;
		i = j;
	}
	return 0;
}

int smtp_data_enc_chunk(struct smtp_data_enc *e, const char *in, size_t len, struct buf *out)
{
	struct smtp_data_enc saved = *e;
	size_t start = out->len;

	/* All or nothing, so a caller can flush out and offer the chunk again. */
	if (smtp_data_enc_run(e, in, len, out) < 0) {
		buf_truncate(out, start);
		*e = saved;
		return -1;
	}
	return 0;
}

int smtp_data_enc_end(struct smtp_data_enc *e, struct buf *out)
{
	size_t start = out->len;

	if ((e->pending_cr || !e->at_bol) && buf_add(out, "\r\n", 2) < 0)
		return -1;
	if (e->dotstuff && buf_add(out, ".\r\n", 3) < 0) {
		buf_truncate(out, start);
		return -1;
	}
	e->pending_cr = 0;
	e->at_bol = 1;
	return 0;
}

int smtp_data_canonicalize(const char *in, size_t len, struct buf *out)
{
	struct smtp_data_enc e;
	size_t start = out->len;

	smtp_data_enc_init(&e, 0);
	if (smtp_data_enc_chunk(&e, in, len, out) < 0 || smtp_data_enc_end(&e, out) < 0) {
		buf_truncate(out, start);
		return -1;
	}
	return 0;
}
