/*
 * xtext.c - RFC 3461 xtext (xtext.h): the checker the server's MAIL/RCPT
 * parser and the client engine share, and the decoder of the failure
 * notices.
 */
#include "base/xtext.h"

#include <ctype.h>
#include <stdlib.h>

int xtext_valid(const char *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];
		if (c == '+') {
			if (i + 2 >= n || !isxdigit((unsigned char)v[i + 1]) ||
			    !isxdigit((unsigned char)v[i + 2]))
				return 0;
			i += 2;
		} else if (c < 0x21 || c > 0x7e || c == '=') {
			return 0;
		}
	}
	return 1;
}

int xtext_decode(const char *in, struct buf *out)
{
	const char *p;

	for (p = in; *p; p++) {
		if (*p == '+' && isxdigit((unsigned char)p[1]) && isxdigit((unsigned char)p[2])) {
			char h[3] = {p[1], p[2], '\0'};
			long c = strtol(h, NULL, 16);
			if (c < 0x20 || c == 0x7f || buf_addc(out, (char)c) < 0)
				return -1;
			p += 2;
		} else if (buf_addc(out, *p) < 0) {
			return -1;
		}
	}
	return 0;
}
