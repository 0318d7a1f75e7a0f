/*
 * qp.c - quoted-printable encoding and decoding (see qp.h). Besides the
 * RFC 2045 rules, a "From " at the start of an encoded line is written
 * "=46rom " so an mbox on the way cannot mangle it into ">From ".
 */
#include "base/qp.h"

#include <string.h>

static const char qp_hex[] = "0123456789ABCDEF";

/* 1 if in[i] ends a line: followed by CRLF or by the end of the input. */
static int qp_at_eol(const char *in, size_t len, size_t i)
{
	return i + 1 == len || (i + 2 < len && in[i + 1] == '\r' && in[i + 2] == '\n');
}

static int qp_literal(const char *in, size_t len, size_t i, size_t col)
{
	unsigned char c = (unsigned char)in[i];

	if (c == ' ' || c == '\t')
		return !qp_at_eol(in, len, i);
	if (c < 33 || c > 126 || c == '=')
		return 0;
	if (c == 'F' && col == 0 && len - i >= 5 && memcmp(in + i, "From ", 5) == 0)
		return 0;
	return 1;
}

size_t qp_encoded_count(const char *in, size_t len)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++) {
		if (in[i] == '\r' && i + 1 < len && in[i + 1] == '\n') {
			i++;
			continue;
		}
		if (!qp_literal(in, len, i, 1))
			n++;
	}
	return n;
}

int qp_encode(const char *in, size_t len, struct buf *out)
{
	size_t i, col = 0, start = out->len, w;
	char tok[3];

	for (i = 0; i < len; i++) {
		if (in[i] == '\r' && i + 1 < len && in[i + 1] == '\n') {
			if (buf_add(out, "\r\n", 2) < 0)
				goto full;
			i++;
			col = 0;
			continue;
		}
		if (qp_literal(in, len, i, col)) {
			tok[0] = in[i];
			w = 1;
		} else {
			tok[0] = '=';
			tok[1] = qp_hex[(unsigned char)in[i] >> 4];
			tok[2] = qp_hex[(unsigned char)in[i] & 15];
			w = 3;
		}
		/* Room for the token, and for a soft break "=" after it unless
		 * the line ends right after it. */
		if (col + w > QP_LINE_MAX - (qp_at_eol(in, len, i) ? 0 : 1)) {
			if (buf_add(out, "=\r\n", 3) < 0)
				goto full;
			col = 0;
			if (w == 1 && !qp_literal(in, len, i, col)) {
				/* "From " now starts the line. */
				tok[0] = '=';
				tok[1] = qp_hex[(unsigned char)in[i] >> 4];
				tok[2] = qp_hex[(unsigned char)in[i] & 15];
				w = 3;
			}
		}
		if (buf_add(out, tok, w) < 0)
			goto full;
		col += w;
	}
	return 0;
full:
	buf_truncate(out, start);
	return -1;
}

static int qp_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int qp_decode(const char *in, size_t len, struct buf *out)
{
	size_t i, j, start = out->len;
	int hi, lo;

	for (i = 0; i < len; i++) {
		if (in[i] != '=') {
			if (buf_addc(out, in[i]) < 0)
				goto bad;
			continue;
		}
		/* A soft line break: "=" then optional whitespace then CRLF. */
		j = i + 1;
		while (j < len && (in[j] == ' ' || in[j] == '\t'))
			j++;
		if (j + 1 < len && in[j] == '\r' && in[j + 1] == '\n') {
			i = j + 1;
			continue;
		}
		if (j == len) {
			i = j;
			continue;
		}
		if (i + 2 >= len || (hi = qp_hexval(in[i + 1])) < 0 ||
		    (lo = qp_hexval(in[i + 2])) < 0)
			goto bad;
		if (buf_addc(out, (char)(hi << 4 | lo)) < 0)
			goto bad;
		i += 2;
	}
	return 0;
bad:
	buf_truncate(out, start);
	return -1;
}
