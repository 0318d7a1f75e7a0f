/*
 * b64.c - base64 encoding and decoding (see b64.h). OpenSSL does the
 * arithmetic; this file does the line structure and the strictness checks
 * that EVP_DecodeBlock lacks (it ignores padding and accepts whitespace).
 */
#include "base/b64.h"

#include <string.h>

#include <openssl/evp.h>

int b64_encode(const void *in, size_t len, struct buf *out)
{
	unsigned char line[B64_LEN(B64_LINE_RAW * 16) + 1];
	const unsigned char *p = in;
	size_t n, start = out->len;

	/* Whole 3-octet groups per call, so the pieces concatenate. */
	while (len > 0) {
		n = len > B64_LINE_RAW * 16 ? B64_LINE_RAW * 16 : len;
		EVP_EncodeBlock(line, p, (int)n);
		if (buf_add(out, line, B64_LEN(n)) < 0) {
			explicit_bzero(line, sizeof(line));
			buf_truncate(out, start);
			return -1;
		}
		p += n;
		len -= n;
	}
	/* The input may be a SASL response holding the password. */
	explicit_bzero(line, sizeof(line));
	return 0;
}

static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int b64_decode(const char *in, size_t len, struct buf *out)
{
	unsigned char q[4], o[3];
	size_t i, nq = 0, start = out->len;
	int npad = 0, v, k, done = 0;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		if (c == '\r' || c == '\n')
			continue;
		if (done)
			goto bad; /* data after the padded last quantum */
		if (c == '=') {
			if (nq < 2)
				goto bad;
			npad++;
			q[nq++] = 0;
		} else {
			v = b64_value(c);
			if (v < 0 || npad > 0)
				goto bad;
			q[nq++] = (unsigned char)v;
		}
		if (nq < 4)
			continue;
		o[0] = (unsigned char)(q[0] << 2 | q[1] >> 4);
		o[1] = (unsigned char)(q[1] << 4 | q[2] >> 2);
		o[2] = (unsigned char)(q[2] << 6 | q[3]);
		k = 3 - npad;
		if (buf_add(out, o, (size_t)k) < 0)
			goto bad;
		nq = 0;
		if (npad)
			done = 1;
	}
	if (nq != 0)
		goto bad;
	return 0;
bad:
	buf_truncate(out, start);
	return -1;
}

void b64_enc_init(struct b64_enc *e)
{
	e->npend = 0;
}

static int b64_enc_line(const unsigned char *raw, size_t n, struct buf *out)
{
	unsigned char line[B64_LINE + 3];

	EVP_EncodeBlock(line, raw, (int)n);
	/* NOLINTNEXTLINE(bugprone-not-null-terminated-result): bytes with a length */
	memcpy(line + B64_LEN(n), "\r\n", 2);
	return buf_add(out, line, B64_LEN(n) + 2);
}

int b64_enc_chunk(struct b64_enc *e, const void *in, size_t len, struct buf *out)
{
	const unsigned char *p = in;
	size_t start = out->len, n;
	struct b64_enc saved = *e;

	while (len > 0) {
		if (e->npend == 0 && len >= B64_LINE_RAW) {
			if (b64_enc_line(p, B64_LINE_RAW, out) < 0)
				goto full;
			p += B64_LINE_RAW;
			len -= B64_LINE_RAW;
			continue;
		}
		n = B64_LINE_RAW - e->npend;
		if (n > len)
			n = len;
		memcpy(e->pend + e->npend, p, n);
		e->npend += n;
		p += n;
		len -= n;
		if (e->npend == B64_LINE_RAW) {
			if (b64_enc_line(e->pend, B64_LINE_RAW, out) < 0)
				goto full;
			e->npend = 0;
		}
	}
	return 0;
full:
	buf_truncate(out, start);
	*e = saved;
	return -1;
}

int b64_enc_end(struct b64_enc *e, struct buf *out)
{
	if (e->npend == 0)
		return 0;
	if (b64_enc_line(e->pend, e->npend, out) < 0)
		return -1;
	e->npend = 0;
	return 0;
}
