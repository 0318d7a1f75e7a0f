/*
 * hdr.c - header field writer (see hdr.h). A field is built from tokens,
 * each preceded by whitespace that becomes CRLF+SP (a fold) when the token
 * would pass the column limit; unfolding (RFC 5322 2.2.3) removes only the
 * CRLF, so the text is unchanged. Encoded-words follow RFC 2047 2 and 5.
 */
#include "msg/hdr.h"

#include <string.h>

#include "base/b64.h"
#include "base/utf8.h"

/* "=?UTF-8?B?" + "?=" around the base64 text of an encoded-word. */
#define HDR_EW_OVERHEAD 12

static void hdr_emit(struct hdr *h, const char *p, size_t n)
{
	if (h->failed)
		return;
	if (buf_add(h->out, p, n) < 0)
		h->failed = 1;
	h->col += n;
}

static void hdr_fold(struct hdr *h)
{
	if (h->failed)
		return;
	if (buf_add(h->out, "\r\n", 2) < 0)
		h->failed = 1;
	h->col = 0;
	h->has_token = 0;
	h->has_ew = 0;
}

void hdr_begin(struct hdr *h, struct buf *out, const char *name)
{
	h->out = out;
	h->start = out->len;
	h->col = 0;
	h->has_token = 0;
	h->has_ew = 0;
	h->failed = 0;
	h->cs = NULL;
	h->fold_col = 0;
	hdr_emit(h, name, strlen(name));
	hdr_emit(h, ":", 1);
}

void hdr_set_charset(struct hdr *h, struct charset *cs)
{
	h->cs = cs && !cs->is_utf8 ? cs : NULL;
}

void hdr_token(struct hdr *h, const char *tok, size_t len)
{
	size_t limit = h->has_ew ? HDR_EW_LINE : h->fold_col ? h->fold_col : HDR_FOLD_COL;

	if (h->has_token && h->col + 1 + len > limit)
		hdr_fold(h);
	hdr_emit(h, " ", 1);
	hdr_emit(h, tok, len);
	h->has_token = 1;
}

static int hdr_is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* Where to end the next encoded-word, given room for max octets: on a
 * character boundary and, when possible, between two non-blank characters.
 * RFC 2047 6.2 drops the blanks between adjacent encoded-words, but readers
 * that mishandle them (Python 3.11's phrase parser puts a space there) would
 * show a doubled blank where a word's text begins or ends with one. */
static size_t hdr_words_cut(const char *s, size_t len, size_t max)
{
	size_t k = utf8_prefix_len(s, len, max), c = k;

	if (k == len)
		return k;
	while (c > 0 && (hdr_is_wsp(s[c - 1]) || hdr_is_wsp(s[c])))
		c = utf8_prefix_len(s, len, c - 1);
	return c > 0 ? c : k;
}

/* For a charset other than UTF-8: the longest prefix of s (whole characters)
 * whose conversion fits in max octets, cut between non-blanks when it can
 * be, with its conversion left in conv. */
static size_t hdr_words_cut_cs(struct charset *cs, const char *s, size_t len, size_t max,
                               struct buf *conv)
{
	struct cl_err e;
	size_t k = 0, next, c, q;

	while (k < len) {
		q = utf8_seq_len((const unsigned char *)s + k, len - k);
		next = k + (q ? q : 1);
		buf_reset(conv);
		if (charset_from_utf8(cs, s, next, conv, "header", &e) < 0 || conv->len > max)
			break;
		k = next;
	}
	c = k;
	if (k < len)
		while (c > 0 && (hdr_is_wsp(s[c - 1]) || hdr_is_wsp(s[c])))
			c = utf8_prefix_len(s, len, c - 1);
	if (c == 0)
		c = k;
	buf_reset(conv);
	if (c > 0 && charset_from_utf8(cs, s, c, conv, "header", &e) < 0)
		return 0;
	return c;
}

void hdr_words(struct hdr *h, const char *s, size_t len)
{
	struct buf conv = BUF_INIT(HDR_EW_MAX);
	size_t avail, raw, k, start, overhead = HDR_EW_OVERHEAD;
	int folded = 0;

	if (h->cs)
		overhead = 7 + strlen(h->cs->name); /* "=?" "?B?" "?=" */
	while (len > 0 && !h->failed) {
		avail = h->col + 1 < HDR_EW_LINE ? HDR_EW_LINE - h->col - 1 : 0;
		if (avail > HDR_EW_MAX)
			avail = HDR_EW_MAX;
		/* Whole base64 quanta only: padding inside a word is legal, but
		 * a full quantum carries more text in the same room. */
		raw = avail >= overhead + 4 ? 3 * ((avail - overhead) / 4) : 0;
		k = h->cs ? hdr_words_cut_cs(h->cs, s, len, raw, &conv)
		          : hdr_words_cut(s, len, raw);
		if (k == 0) {
			/* After a fold a whole character always fits: in UTF-8 45
			 * octets, in ISO-2022-JP one character and its escapes. */
			if (folded)
				h->failed = 1;
			hdr_fold(h);
			folded = 1;
			continue;
		}
		folded = 0;
		hdr_emit(h, " =?", 3);
		hdr_emit(h, h->cs ? h->cs->name : "UTF-8", strlen(h->cs ? h->cs->name : "UTF-8"));
		hdr_emit(h, "?B?", 3);
		start = h->out->len;
		if (!h->failed &&
		    b64_encode(h->cs ? conv.data : s, h->cs ? conv.len : k, h->out) < 0)
			h->failed = 1;
		h->col += h->out->len - start;
		hdr_emit(h, "?=", 2);
		h->has_token = 1;
		h->has_ew = 1;
		s += k;
		len -= k;
	}
	buf_free(&conv);
}

/* The longest run of whitespace or of non-whitespace in s. */
static size_t hdr_longest_run(const char *s, size_t len)
{
	size_t i, run = 0, best = 0;
	int ws, prev = -1;

	for (i = 0; i < len; i++) {
		ws = s[i] == ' ' || s[i] == '\t';
		run = ws == prev ? run + 1 : 1;
		prev = ws;
		if (run > best)
			best = run;
	}
	return best;
}

static int hdr_has_ctl_or_8bit(const char *s, size_t len)
{
	size_t i;
	unsigned char c;

	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if ((c < 0x20 && c != '\t') || c >= 0x7f)
			return 1;
	}
	return 0;
}

int hdr_text_needs_encoding(const char *s, size_t len)
{
	/* "=?" in plain text could be decoded as an encoded-word by a reader. */
	return hdr_has_ctl_or_8bit(s, len) || memmem(s, len, "=?", 2) != NULL ||
	       hdr_longest_run(s, len) > HDR_WORD_MAX;
}

void hdr_text(struct hdr *h, const char *s, size_t len)
{
	size_t i = 0, j;

	if (hdr_text_needs_encoding(s, len)) {
		hdr_words(h, s, len);
		return;
	}
	if (len == 0)
		return;
	hdr_emit(h, " ", 1);
	/* Units of whitespace then a word; a fold goes before the whitespace,
	 * never before a unit of whitespace alone (no blank continuation). */
	while (i < len) {
		j = i;
		while (j < len && (s[j] == ' ' || s[j] == '\t'))
			j++;
		while (j < len && s[j] != ' ' && s[j] != '\t')
			j++;
		if (h->has_token && i > 0 && (s[i] == ' ' || s[i] == '\t') &&
		    (s[j - 1] != ' ' && s[j - 1] != '\t') && h->col + (j - i) > HDR_FOLD_COL)
			hdr_fold(h);
		hdr_emit(h, s + i, j - i);
		h->has_token = 1;
		i = j;
	}
}

static int hdr_is_atext(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* 1 if s is atoms separated by single spaces (RFC 5322 3.2.3, 3.2.5). */
static int hdr_is_atoms(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || s[0] == ' ' || s[len - 1] == ' ')
		return 0;
	for (i = 0; i < len; i++) {
		if (s[i] == ' ') {
			if (s[i + 1] == ' ')
				return 0;
		} else if (!hdr_is_atext((unsigned char)s[i])) {
			return 0;
		}
	}
	return 1;
}

void hdr_phrase(struct hdr *h, const char *s, size_t len)
{
	struct buf q = BUF_INIT(2 * HDR_WORD_MAX);
	size_t i, j;

	if (len == 0)
		return;
	if (hdr_has_ctl_or_8bit(s, len) || memmem(s, len, "=?", 2) != NULL ||
	    hdr_longest_run(s, len) > HDR_WORD_MAX) {
		hdr_words(h, s, len);
		return;
	}
	if (hdr_is_atoms(s, len)) {
		for (i = 0; i < len; i = j + 1) {
			for (j = i; j < len && s[j] != ' '; j++)
				;
			hdr_token(h, s + i, j - i);
		}
		return;
	}
	/* A quoted string (RFC 5322 3.2.4): '\' and '"' escaped. */
	buf_addc(&q, '"');
	for (i = 0; i < len; i++) {
		if (s[i] == '"' || s[i] == '\\')
			buf_addc(&q, '\\');
		buf_addc(&q, s[i]);
	}
	if (buf_addc(&q, '"') < 0 || q.len > HDR_WORD_MAX)
		hdr_words(h, s, len);
	else
		hdr_token(h, q.data, q.len);
	buf_free(&q);
}

int hdr_end(struct hdr *h)
{
	hdr_emit(h, "\r\n", 2);
	if (h->failed) {
		buf_truncate(h->out, h->start);
		return -1;
	}
	return 0;
}
