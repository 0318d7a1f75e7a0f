/*
 * smtp_data.h - the message bytes on the wire. Canonicalises line endings
 * (every bare CR, bare LF becomes CRLF: qmail rejects bare LF, and bare
 * CR/LF open SMTP smuggling, CVE-2023-51764) and dot-stuffs for DATA
 * (RFC 5321 4.5.2). Streaming: input can arrive in arbitrary chunks.
 */
#ifndef CLSMTP_SMTP_DATA_H
#define CLSMTP_SMTP_DATA_H

#include <stddef.h>

#include "base/buf.h"

struct smtp_data_enc {
	int dotstuff;   /* 1 for DATA, 0 for BDAT / spool */
	int at_bol;     /* next byte starts a line */
	int pending_cr; /* previous chunk ended with CR */
};

void smtp_data_enc_init(struct smtp_data_enc *e, int dotstuff);
/* Encode a chunk, appending to out. Returns -1 if out is full (out->max). */
int smtp_data_enc_chunk(struct smtp_data_enc *e, const char *in, size_t len, struct buf *out);
/* Finish: terminate an unterminated last line with CRLF, and for DATA append
 * the end-of-data ".\r\n". */
int smtp_data_enc_end(struct smtp_data_enc *e, struct buf *out);

/* One-shot: normalise line endings of a whole message into out (no dots). */
int smtp_data_canonicalize(const char *in, size_t len, struct buf *out);

#endif
