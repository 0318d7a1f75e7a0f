/*
 * dkim_sign.c - a message read as a stream, and its DKIM-Signature fields
 * (dkim_sign.h).
 */
#include "msg/dkim_sign.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>

#include "base/b64.h"
#include "base/xalloc.h"
#include "msg/rawmsg_addr.h"

/* Where the header section's end may be: 2 at a line's start, 1 after a
 * CR at a line's start, 0 inside a line. */
enum { HEAD_IN_LINE = 0, HEAD_START_CR = 1, HEAD_LINE_START = 2 };

/* Folded lines of the signature field stay within this (RFC 5322 2.1.1). */
#define DKIM_LINE_MAX 78

static void msg_body_emit(void *arg, const char *p, size_t n)
{
	struct dkim_msg *m = arg;
	EVP_DigestUpdate(m->bh, p, n);
}

int dkim_msg_init(struct dkim_msg *m, struct cl_err *err)
{
	memset(m, 0, sizeof(*m));
	buf_init(&m->head, DKIM_HEADER_MAX);
	m->state = HEAD_LINE_START;
	m->bh = EVP_MD_CTX_new();
	if (m->bh == NULL || !EVP_DigestInit_ex(m->bh, EVP_sha256(), NULL)) {
		EVP_MD_CTX_free(m->bh);
		m->bh = NULL;
		return err_set(err, CL_EIO, "DKIM: SHA-256 is not available");
	}
	dkim_body_canon_init(&m->canon, msg_body_emit, m);
	return 0;
}

static void msg_head_add(struct dkim_msg *m, char ch)
{
	if (!m->too_big && buf_addc(&m->head, ch) < 0)
		m->too_big = 1;
}

int dkim_msg_feed(struct dkim_msg *m, const char *p, size_t n, struct cl_err *err)
{
	size_t i = 0;

	if (m->ended)
		return err_set(err, CL_EIO, "DKIM: message fed after its end");
	for (; i < n && !m->in_body; i++) {
		char ch = p[i];
		if (m->state == HEAD_START_CR) {
			if (ch == '\n') {
				m->in_body = 1;
				continue;
			}
			msg_head_add(m, '\r');
			m->state = HEAD_IN_LINE;
		}
		if (m->state == HEAD_LINE_START && ch == '\r') {
			m->state = HEAD_START_CR;
			continue;
		}
		msg_head_add(m, ch);
		m->state = ch == '\n' ? HEAD_LINE_START : HEAD_IN_LINE;
	}
	if (i < n)
		dkim_body_canon_feed(&m->canon, p + i, n - i);
	return 0;
}

int dkim_msg_end(struct dkim_msg *m, struct cl_err *err)
{
	unsigned int len = 0;

	if (m->ended)
		return 0;
	if (m->state == HEAD_START_CR && !m->in_body)
		msg_head_add(m, '\r');
	dkim_body_canon_end(&m->canon);
	m->ended = 1;
	if (!EVP_DigestFinal_ex(m->bh, m->body_hash, &len) || len != sizeof(m->body_hash))
		return err_set(err, CL_EIO, "DKIM: SHA-256 failed");
	return 0;
}

void dkim_msg_free(struct dkim_msg *m)
{
	buf_free(&m->head);
	EVP_MD_CTX_free(m->bh);
	m->bh = NULL;
}

/* The header fields: where each starts and how long it is (its folded
 * lines and final CRLF). */
struct head_field {
	const char *p;
	size_t len, namelen;
};

static size_t head_fields(const struct dkim_msg *m, struct head_field **out)
{
	const char *h = m->head.data ? m->head.data : "";
	size_t len = m->head.len, i = 0, n = 0, cap = 0;
	struct head_field *f = NULL;

	while (i < len) {
		size_t start = i, k;
		/* To the end of the field: a line end not followed by a blank. */
		for (;;) {
			const char *nl = memchr(h + i, '\n', len - i);
			i = nl ? (size_t)(nl - h) + 1 : len;
			if (i >= len || (h[i] != ' ' && h[i] != '\t'))
				break;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			f = xreallocarray(f, cap, sizeof(*f));
		}
		f[n].p = h + start;
		f[n].len = i - start;
		for (k = 0; k < f[n].len && f[n].p[k] != ':'; k++)
			;
		f[n].namelen = k;
		while (f[n].namelen > 0 &&
		       (f[n].p[f[n].namelen - 1] == ' ' || f[n].p[f[n].namelen - 1] == '\t'))
			f[n].namelen--;
		/* A line without a colon is not a field anyone can sign. */
		if (k < f[n].len)
			n++;
	}
	*out = f;
	return n;
}

static int field_is(const struct head_field *f, const char *name, size_t len)
{
	return f->namelen == len && strncasecmp(f->p, name, len) == 0;
}

struct from_addrs {
	size_t n;
	struct buf *addr, *domain;
};

static int from_addr_cb(void *arg, const char *addr)
{
	struct from_addrs *fa = arg;
	const char *at = strrchr(addr, '@');

	if (++fa->n == 1 && at != NULL) {
		buf_set(fa->addr, addr);
		buf_reset(fa->domain);
		for (at++; *at; at++)
			buf_addc(fa->domain, (char)tolower((unsigned char)*at));
	}
	return 0;
}

int dkim_msg_from(const struct dkim_msg *m, struct buf *addr, struct buf *out, struct cl_err *err)
{
	struct head_field *f = NULL, *from = NULL;
	size_t n = head_fields(m, &f), nfrom = 0, i;
	struct from_addrs fa = {0, addr, out};
	struct buf value = BUF_INIT(DKIM_HEADER_MAX);
	int r = -1;

	for (i = 0; i < n; i++)
		if (field_is(&f[i], "from", 4)) {
			from = &f[i];
			nfrom++;
		}
	buf_reset(out);
	buf_reset(addr);
	if (nfrom != 1) {
		err_set(err, CL_EDATA, nfrom ? "%zu From fields" : "no From field", nfrom);
		goto out;
	}
	/* The value, unfolded. */
	for (i = from->namelen; i < from->len && from->p[i] != ':'; i++)
		;
	for (i++; i < from->len; i++)
		if (from->p[i] != '\r' && from->p[i] != '\n')
			buf_addc(&value, from->p[i]);
	if (rawmsg_addr_list(buf_cstr(&value), from_addr_cb, &fa, err) < 0)
		goto out;
	if (fa.n != 1 || out->len == 0) {
		err_set(err, CL_EDATA, "the From field holds %zu addresses", fa.n);
		buf_reset(out);
		buf_reset(addr);
		goto out;
	}
	r = 0;
out:
	buf_free(&value);
	free(f);
	return r;
}

/* The signature field being written: folded at DKIM_LINE_MAX. */
struct fold {
	struct buf *out;
	size_t col;
};

static void fold_token(struct fold *fo, const char *tok, size_t len, int space)
{
	if (fo->col + len + (space ? 1 : 0) > DKIM_LINE_MAX && fo->col > 1) {
		buf_adds(fo->out, "\r\n\t");
		fo->col = 1;
	} else if (space) {
		buf_addc(fo->out, ' ');
		fo->col++;
	}
	buf_add(fo->out, tok, len);
	fo->col += len;
}

/* "TAG=VALUE;" as one token. */
static void fold_tag(struct fold *fo, const char *tag, const char *value)
{
	char t[300];
	int n = snprintf(t, sizeof(t), "%s=%s;", tag, value);
	fold_token(fo, t, n < 0 ? 0 : (size_t)n >= sizeof(t) ? sizeof(t) - 1 : (size_t)n, 1);
}

/* The names to sign, each once, lower case, in the configuration's order. */
static size_t sign_names(const char *list, char names[][64], size_t max)
{
	size_t n = 0;

	while (*list && n < max) {
		size_t len = 0, i;
		char name[64];
		int dup;
		while (*list == ':' || *list == ' ' || *list == '\t')
			list++;
		while (list[len] && list[len] != ':' && list[len] != ' ' && list[len] != '\t')
			len++;
		if (len == 0 || len >= sizeof(name)) {
			list += len;
			continue;
		}
		for (i = 0; i < len; i++)
			name[i] = (char)tolower((unsigned char)list[i]);
		name[len] = '\0';
		list += len;
		dup = strcmp(name, "from") == 0; /* always first (dkim_sign) */
		for (i = 0; i < n; i++)
			dup |= strcmp(names[i], name) == 0;
		if (!dup)
			memcpy(names[n++], name, len + 1);
	}
	return n;
}

static int sign_bytes(const struct dkim_key *k, const struct buf *data, struct buf *sig,
                      struct cl_err *err)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char digest[32], out[1024];
	unsigned int dlen = 0;
	size_t olen = sizeof(out);
	int ok;

	if (ctx == NULL)
		return err_set(err, CL_EIO, "DKIM: out of memory");
	if (k->alg == DKIM_ED25519_SHA256) {
		/* RFC 8463 3: Ed25519 signs the SHA-256 hash of the data. */
		ok = EVP_Digest(data->data, data->len, digest, &dlen, EVP_sha256(), NULL) &&
		     EVP_DigestSignInit(ctx, NULL, NULL, NULL, k->pkey) &&
		     EVP_DigestSign(ctx, out, &olen, digest, dlen);
	} else {
		ok = EVP_PKEY_get_size(k->pkey) <= (int)sizeof(out) &&
		     EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, k->pkey) &&
		     EVP_DigestSign(ctx, out, &olen, (const unsigned char *)data->data, data->len);
	}
	EVP_MD_CTX_free(ctx);
	if (!ok) {
		char e[256];
		ERR_error_string_n(ERR_get_error(), e, sizeof(e));
		ERR_clear_error();
		return err_set(err, CL_EIO, "DKIM: signing failed: %s", e);
	}
	return b64_encode(out, olen, sig) < 0 ? err_set(err, CL_EIO, "DKIM: signature too long")
	                                      : 0;
}

int dkim_sign(const struct dkim_msg *m, const struct dkim_key *k, const struct dkim_sig_params *p,
              struct buf *out, struct cl_err *err)
{
	char names[64][64], num[32];
	struct head_field *f = NULL;
	size_t nf, nn, i, j;
	struct buf field = BUF_INIT(64 * 1024), data = BUF_INIT(DKIM_HEADER_MAX * 2 + 65536);
	struct buf bh = BUF_INIT(64), sig = BUF_INIT(2048);
	struct fold fo = {&field, 0};
	int first = 1, r = -1;

	if (!m->ended)
		return err_set(err, CL_EIO, "DKIM: the message has not ended");
	if (m->too_big)
		return err_set(err, CL_EDATA, "DKIM: the header section is over %d bytes",
		               DKIM_HEADER_MAX);
	nf = head_fields(m, &f);
	/* From first, whatever the list says (RFC 6376 5.4: it must be signed). */
	memcpy(names[0], "from", 5);
	nn = 1 + sign_names(p->headers ? p->headers : DKIM_DEFAULT_HEADERS, names + 1, 63);
	b64_encode(m->body_hash, sizeof(m->body_hash), &bh);

	buf_adds(&field, "DKIM-Signature:");
	fo.col = field.len;
	fold_token(&fo, "v=1;", 4, 1);
	fold_tag(&fo, "a", dkim_key_sig_name(k));
	fold_token(&fo, "c=relaxed/relaxed;", 18, 1);
	fold_tag(&fo, "d", p->domain);
	fold_tag(&fo, "s", p->selector);
	snprintf(num, sizeof(num), "%lld", p->now);
	fold_tag(&fo, "t", num);

	/* h= and the header hash input: for each name, its fields from the
	 * bottom up (RFC 6376 5.4.2); From once more than it appears. */
	for (i = 0; i < nn; i++) {
		size_t len = strlen(names[i]), count = 0, times, t;
		for (j = 0; j < nf; j++)
			count += (size_t)field_is(&f[j], names[i], len);
		times = count + (strcmp(names[i], "from") == 0 ? 1 : 0);
		for (t = 0, j = nf; t < times; t++) {
			char tok[80];
			snprintf(tok, sizeof(tok), "%s%s:", first ? "h=" : "", names[i]);
			fold_token(&fo, tok, strlen(tok), first);
			first = 0;
			while (j > 0 && !field_is(&f[j - 1], names[i], len))
				j--;
			if (j > 0) {
				dkim_canon_header(f[j - 1].p, f[j - 1].len, 1, &data);
				j--;
			}
		}
	}
	if (first) {
		err_set(err, CL_EDATA, "DKIM: none of the header fields to sign is there");
		goto out;
	}
	/* The last name's colon becomes the tag's end. */
	field.data[field.len - 1] = ';';
	fold_tag(&fo, "bh", buf_cstr(&bh));
	fold_token(&fo, "b=", 2, 1);
	if (dkim_canon_header(field.data, field.len, 0, &data) < 0) {
		err_set(err, CL_EDATA, "DKIM: the header section is too big to sign");
		goto out;
	}
	if (sign_bytes(k, &data, &sig, err) < 0)
		goto out;
	/* The signature, folded where the line is full (FWS inside b= is
	 * ignored by verifiers, RFC 6376 3.5). */
	for (i = 0; i < sig.len;) {
		size_t room = fo.col < DKIM_LINE_MAX ? DKIM_LINE_MAX - fo.col : 0;
		if (room == 0) {
			buf_adds(&field, "\r\n\t");
			fo.col = 1;
			continue;
		}
		if (room > sig.len - i)
			room = sig.len - i;
		buf_add(&field, sig.data + i, room);
		fo.col += room;
		i += room;
	}
	if (buf_adds(&field, "\r\n") < 0 || buf_add(out, field.data, field.len) < 0) {
		err_set(err, CL_EIO, "DKIM: the signature does not fit");
		goto out;
	}
	r = 0;
out:
	free(f);
	buf_free(&field);
	buf_free(&data);
	buf_free(&bh);
	buf_free(&sig);
	return r;
}
