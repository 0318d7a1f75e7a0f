/*
 * json.c - a JSON string (RFC 8259) from any bytes (json.h).
 */
#include "base/json.h"

#include <string.h>

#include "base/utf8.h"

int json_string(struct buf *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), i = 0, k;
	int r = buf_addc(out, '"');

	while (i < n) {
		unsigned char ch = p[i];
		if (ch == '"' || ch == '\\') {
			r |= buf_addc(out, '\\');
			r |= buf_addc(out, (char)ch);
			i++;
		} else if (ch == '\n') {
			r |= buf_adds(out, "\\n");
			i++;
		} else if (ch < 0x20 || ch == 0x7f) {
			r |= buf_printf(out, "\\u%04x", ch);
			i++;
		} else if (ch < 0x80) {
			r |= buf_addc(out, (char)ch);
			i++;
		} else if ((k = utf8_seq_len(p + i, n - i)) > 0) {
			r |= buf_add(out, p + i, k);
			i += k;
		} else {
			r |= buf_adds(out, "\\ufffd");
			i++;
		}
	}
	r |= buf_addc(out, '"');
	return r ? -1 : 0;
}
