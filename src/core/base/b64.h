/*
 * b64.h - base64 (RFC 4648) through OpenSSL's EVP_EncodeBlock: one-line for
 * RFC 2047 encoded-words and SASL, and a streaming MIME body encoder that
 * writes 76-column CRLF lines (RFC 2045 6.8) from input of any chunking.
 */
#ifndef CLSMTP_B64_H
#define CLSMTP_B64_H

#include <stddef.h>

#include "base/buf.h"

/* RFC 2045 6.8: encoded lines are at most 76 characters: 57 input octets. */
#define B64_LINE     76
#define B64_LINE_RAW 57

/* Encoded length of n octets, without line breaks. */
#define B64_LEN(n) ((((n) + 2) / 3) * 4)

struct b64_enc {
	unsigned char pend[B64_LINE_RAW]; /* input not yet making a full line */
	size_t npend;
};

/* Append the base64 of in on one line (no CRLF). */
int b64_encode(const void *in, size_t len, struct buf *out);
/* Append the decoded bytes of in; CR and LF are skipped, anything else
 * outside the alphabet, bad padding or a partial quantum fails (-1). */
int b64_decode(const char *in, size_t len, struct buf *out);

void b64_enc_init(struct b64_enc *e);
/* Append every complete 76-column line the input makes, each ending CRLF.
 * On failure (out full) nothing is appended and e is unchanged. */
int b64_enc_chunk(struct b64_enc *e, const void *in, size_t len, struct buf *out);
/* Append the last, shorter line (if any) with its CRLF. */
int b64_enc_end(struct b64_enc *e, struct buf *out);

#endif
