/*
 * smtp_reply.c - parse SMTP replies (RFC 5321 4.2) line by line into one
 * struct smtp_reply, with the RFC 3463 enhanced status code of the first line.
 * Untrusted input: every line and the line count are bounded, NUL refused.
 * The text is kept as received (enhanced code included); summaries for error
 * messages are one sanitised, truncated line.
 */
#include "smtp/smtp_reply.h"

#include <string.h>

/* A one-line summary longer than this is cut (with "..."): it ends up in a
 * single stderr line, where a 100-line EHLO would be noise. */
#define SMTP_REPLY_SUMMARY_MAX 400

void smtp_reply_init(struct smtp_reply *r)
{
	memset(r, 0, sizeof(*r));
	/* Each line's text plus its '\n' separator. */
	buf_init(&r->text, (size_t)SMTP_REPLY_LINES_MAX * (SMTP_REPLY_LINE_MAX + 1));
}

void smtp_reply_reset(struct smtp_reply *r)
{
	r->code = 0;
	r->enh[0] = '\0';
	buf_reset(&r->text);
	r->nlines = 0;
	r->complete = 0;
	r->first_code = 0;
}

void smtp_reply_free(struct smtp_reply *r)
{
	buf_free(&r->text);
	smtp_reply_reset(r);
}

static int smtp_reply_isdigit(char c)
{
	return c >= '0' && c <= '9';
}

/* Length of 1-3 digits at s (bounded by n), 0 if none or more than 3. */
static size_t smtp_reply_digits(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && smtp_reply_isdigit(s[i]))
		i++;
	return i > 3 ? 0 : i;
}

/*
 * RFC 3463 section 2: class "." subject "." detail, class 2, 4 or 5 and (RFC
 * 2034) the same as the reply's first digit, subject and detail 1-3 digits,
 * then a space or the end of the line. Copies it into enh.
 */
static void smtp_reply_parse_enh(struct smtp_reply *r, const char *t, size_t n, int code)
{
	size_t i, d;
	char cls = (char)('0' + code / 100);

	if (n < 5 || t[0] != cls || (cls != '2' && cls != '4' && cls != '5') || t[1] != '.')
		return;
	i = 2;
	d = smtp_reply_digits(t + i, n - i);
	if (d == 0 || i + d >= n || t[i + d] != '.')
		return;
	i += d + 1;
	d = smtp_reply_digits(t + i, n - i);
	if (d == 0)
		return;
	i += d;
	if (i < n && t[i] != ' ')
		return;
	memcpy(r->enh, t, i); /* at most 9 bytes */
	r->enh[i] = '\0';
}

int smtp_reply_feed(struct smtp_reply *r, const char *line, size_t len, struct cl_err *err)
{
	int code, last;
	const char *text;
	size_t tlen;

	/* A new reply starts after a complete one: the caller may skip reset. */
	if (r->complete)
		smtp_reply_reset(r);
	/* Tolerate a line reader that split at LF and left the CR. */
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len > SMTP_REPLY_LINE_MAX)
		return err_set(err, CL_EPROTO, "reply line too long (%zu bytes, limit %d)", len,
		               SMTP_REPLY_LINE_MAX);
	if (memchr(line, '\0', len) != NULL)
		return err_set(err, CL_EPROTO, "NUL byte in reply line '%.*s'", (int)strlen(line),
		               line);
	/* '\n' separates the lines in text: one inside a line would forge a line. */
	if (memchr(line, '\n', len) != NULL)
		return err_set(err, CL_EPROTO, "bare LF in reply line '%.*s'",
		               (int)(len > 80 ? 80 : len), line);
	if (len < 3 || line[0] < '2' || line[0] > '5' || !smtp_reply_isdigit(line[1]) ||
	    !smtp_reply_isdigit(line[2]))
		return err_set(err, CL_EPROTO, "reply without a status code 200-599: '%.*s'",
		               (int)(len > 80 ? 80 : len), line);
	if (len > 3 && line[3] != ' ' && line[3] != '-')
		return err_set(err, CL_EPROTO, "bad separator after the reply code: '%.*s'",
		               (int)(len > 80 ? 80 : len), line);
	code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
	if (r->nlines > 0 && code != r->first_code)
		return err_set(err, CL_EPROTO, "reply code changed from %d to %d within one reply",
		               r->first_code, code);
	if (r->nlines >= SMTP_REPLY_LINES_MAX)
		return err_set(err, CL_EPROTO, "reply longer than %d lines", SMTP_REPLY_LINES_MAX);
	/* RFC 5321 4.2.1: a bare "NNN" is a valid last line. */
	last = len == 3 || line[3] == ' ';
	text = len > 4 ? line + 4 : "";
	tlen = len > 4 ? len - 4 : 0;
	if ((r->nlines > 0 && buf_addc(&r->text, '\n') < 0) || buf_add(&r->text, text, tlen) < 0)
		return err_set(err, CL_ESOFTWARE, "out of memory for a reply");
	if (r->nlines == 0) {
		r->first_code = code;
		smtp_reply_parse_enh(r, text, tlen, code);
	}
	r->nlines++;
	if (!last)
		return 0;
	r->code = code;
	r->complete = 1;
	return 1;
}

/* Append n bytes of s to b, control characters replaced by '?' so the result
 * stays one line; stop at *room (keeping UTF-8 sequences whole). Returns 1 if
 * everything fitted. */
static int smtp_reply_put(struct buf *b, const char *s, size_t n, size_t *room)
{
	size_t i, take = n;
	int all = 1;

	if (take > *room) {
		take = *room;
		/* Do not cut inside a UTF-8 sequence: back up to its lead byte. */
		while (take > 0 && ((unsigned char)s[take] & 0xc0) == 0x80)
			take--;
		all = 0;
	}
	for (i = 0; i < take; i++) {
		unsigned char c = (unsigned char)s[i];
		if (buf_addc(b, c < 0x20 || c == 0x7f ? '?' : (char)c) < 0)
			return 0;
	}
	*room -= take;
	return all;
}

static int smtp_reply_shown_code(const struct smtp_reply *r)
{
	return r->complete ? r->code : r->first_code;
}

const char *smtp_reply_first_line(const struct smtp_reply *r, struct buf *scratch)
{
	const char *t = buf_cstr(&r->text), *nl;
	size_t n, room = SMTP_REPLY_SUMMARY_MAX;

	buf_reset(scratch);
	if (r->nlines == 0)
		return buf_cstr(scratch);
	nl = strchr(t, '\n');
	n = nl ? (size_t)(nl - t) : strlen(t);
	if (buf_printf(scratch, "%03d", smtp_reply_shown_code(r)) < 0)
		return buf_cstr(scratch);
	if (n > 0 && buf_addc(scratch, ' ') == 0 && !smtp_reply_put(scratch, t, n, &room))
		buf_adds(scratch, "...");
	return buf_cstr(scratch);
}

const char *smtp_reply_summary(const struct smtp_reply *r, struct buf *scratch)
{
	const char *t = buf_cstr(&r->text), *end = t + r->text.len;
	size_t enhlen = strlen(r->enh), room = SMTP_REPLY_SUMMARY_MAX;
	int first = 1;

	buf_reset(scratch);
	if (r->nlines == 0)
		return buf_cstr(scratch);
	if (buf_printf(scratch, "%03d", smtp_reply_shown_code(r)) < 0)
		return buf_cstr(scratch);
	for (;;) {
		const char *nl = memchr(t, '\n', (size_t)(end - t));
		size_t n = nl ? (size_t)(nl - t) : (size_t)(end - t);

		/* Servers repeat the enhanced code on every line (RFC 2034): once
		 * is enough on one line. */
		if (!first && enhlen > 0 && n >= enhlen && memcmp(t, r->enh, enhlen) == 0 &&
		    (n == enhlen || t[enhlen] == ' ')) {
			t += enhlen;
			n -= enhlen;
			while (n > 0 && *t == ' ')
				t++, n--;
		}
		if (n > 0) {
			if (buf_adds(scratch, first ? " " : " / ") < 0)
				break;
			if (!smtp_reply_put(scratch, t, n, &room)) {
				buf_adds(scratch, "...");
				break;
			}
			first = 0;
		}
		if (nl == NULL)
			break;
		t = nl + 1;
	}
	return buf_cstr(scratch);
}
