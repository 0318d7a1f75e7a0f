/*
 * rawmsg.c - a whole message read once and sent as it is (see rawmsg.h).
 * The input goes through smtp_data's canonicaliser (no dot-stuffing: the
 * engine does that for DATA); header lines are looked at one by one until
 * the header section ends and kept, the body is written to the spool file
 * untouched. Header questions walk the kept section field by field.
 */
#include "msg/rawmsg.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "base/utf8.h"
#include "msg/compose.h"
#include "msg/hdr.h"
#include "msg/rawmsg_addr.h"
#include "smtp/smtp_data.h"

/* Octets per read(2) of the input. */
#define RAWMSG_READ 65536

/* sendmail's lone-dot rule, across reads: where the input stands. */
enum rawmsg_dot {
	RAWMSG_DOT_MID,   /* inside a line */
	RAWMSG_DOT_BOL,   /* at the start of a line */
	RAWMSG_DOT_HELD,  /* "." at the start of a line, held back */
	RAWMSG_DOT_HELDR, /* ".\r" at the start of a line, held back */
	RAWMSG_DOT_ENDED, /* the lone dot was seen: the rest is ignored */
};

/* One spool in progress. */
struct rawmsg_reader {
	struct rawmsg *m;
	struct buf line; /* a header line being assembled */
	int in_header;
	int have_field; /* a field has begun: a folded line continues it */
	int dropping;   /* the current field is left out when sending */
	int mbox_line;  /* an mbox "From " line was dropped */
	size_t lineno;
	size_t kept;  /* header octets that are sent (not left out) */
	int dot_ends; /* sendmail's lone-dot rule applies */
	enum rawmsg_dot dot;
};

/* One field of the kept header section: [start, end) with its CRLFs. */
struct rawmsg_field {
	size_t start, end, namelen;
};

static const char *rawmsg_prefix(const struct rawmsg *m)
{
	return m->mode == RAWMSG_RAW ? "--raw: " : "";
}

void rawmsg_init(struct rawmsg *m, enum rawmsg_mode mode)
{
	memset(m, 0, sizeof(*m));
	m->mode = mode;
	m->fd = -1;
	buf_init(&m->header, RAWMSG_HEADER_MAX);
	buf_init(&m->added, 64 * 1024);
}

void rawmsg_free(struct rawmsg *m)
{
	if (m->fd >= 0)
		close(m->fd);
	m->fd = -1;
	buf_free(&m->header);
	buf_free(&m->added);
}

/* Length of the name if the line starts a field (ftext, 33-126 but ':',
 * then ':'), else 0. */
static size_t rawmsg_field_name(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == ':')
			return i;
		if (c < 33 || c > 126)
			return 0;
	}
	return 0;
}

static int rawmsg_name_is(const char *name, size_t namelen, const char *want)
{
	return namelen == strlen(want) && strncasecmp(name, want, namelen) == 0;
}

/* Fields never sent: Bcc (RFC 5322 3.6.3), and in sendmail mode
 * Resent-Bcc too, as sendmail -t does. */
static int rawmsg_left_out(const struct rawmsg *m, const char *name, size_t namelen)
{
	if (m->undisclosed && (rawmsg_name_is(name, namelen, "To") ||
	                       rawmsg_name_is(name, namelen, "Cc") ||
	                       rawmsg_name_is(name, namelen, "Bcc")))
		return 1;
	if (m->replace_from && rawmsg_name_is(name, namelen, "From"))
		return 1;
	if (m->keep_bcc)
		return 0;
	return rawmsg_name_is(name, namelen, "Bcc") ||
	       (m->mode == RAWMSG_SENDMAIL && rawmsg_name_is(name, namelen, "Resent-Bcc"));
}

/* ---- reading the input ------------------------------------------------ */

/* Body bytes to the spool file. */
static int rawmsg_write(struct rawmsg *m, const char *p, size_t n, struct cl_err *err)
{
	ssize_t w;

	if (!m->is_8bit)
		m->is_8bit = !utf8_is_ascii(p, n);
	while (n > 0) {
		w = write(m->fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return err_set(err, CL_EIO, "%swriting the spool file: %s",
			               rawmsg_prefix(m), strerror(errno));
		p += w;
		n -= (size_t)w;
		m->size += w;
	}
	return 0;
}

/* sendmail mode: a line that is not a field ends the header section and
 * is the body's first line. */
static int rawmsg_body_starts(struct rawmsg_reader *rd, const char *l, size_t n, struct cl_err *err)
{
	rd->in_header = 0;
	return rawmsg_write(rd->m, l, n, err);
}

/* One complete header line (with its CRLF). */
static int rawmsg_header_line(struct rawmsg_reader *rd, const char *l, size_t n, struct cl_err *err)
{
	struct rawmsg *m = rd->m;
	size_t k;

	rd->lineno++;
	if (n == 2) { /* the empty line */
		rd->in_header = 0;
		m->blank = 1;
		return 0;
	}
	if (l[0] == ' ' || l[0] == '\t') {
		if (!rd->have_field && m->mode == RAWMSG_RAW)
			return err_set(err, CL_EDATA,
			               "--raw: the message starts with a folded line");
		if (!rd->have_field)
			return rawmsg_body_starts(rd, l, n, err);
	} else {
		/* An mbox separator, not part of the message: the first line
		 * (in --raw, every "From " line before the first field). */
		if (rd->lineno == 1 && n > 5 && memcmp(l, "From ", 5) == 0 &&
		    (m->mode == RAWMSG_RAW || !rd->mbox_line)) {
			rd->lineno = 0;
			rd->mbox_line = 1;
			return 0;
		}
		k = rawmsg_field_name(l, n);
		if (k == 0 && m->mode == RAWMSG_RAW)
			return err_set(
			    err, CL_EDATA,
			    "--raw: line %zu is not a header field (\"Name: value\"), and "
			    "no empty line ends the header before it",
			    rd->lineno);
		if (k == 0)
			return rawmsg_body_starts(rd, l, n, err);
		rd->have_field = 1;
		rd->dropping = rawmsg_left_out(m, l, k);
		m->dropped += rd->dropping;
		m->has_date |= rawmsg_name_is(l, k, "Date");
		m->has_msgid |= rawmsg_name_is(l, k, "Message-ID");
		m->has_from |= rawmsg_name_is(l, k, "From");
	}
	if (!rd->dropping) {
		m->is_8bit |= !utf8_is_ascii(l, n);
		rd->kept += n;
	}
	if (buf_add(&m->header, l, n) < 0)
		return err_set(err, CL_EDATA, "%sthe header section is larger than %d bytes",
		               rawmsg_prefix(m), RAWMSG_HEADER_MAX);
	return 0;
}

/* A header line longer than the line buffer. In sendmail mode a line
 * that cannot be a field starts the body (a script's output with no
 * header and no line end); anything else is refused. */
static int rawmsg_long_line(struct rawmsg_reader *rd, struct cl_err *err)
{
	struct rawmsg *m = rd->m;
	const char *l = buf_cstr(&rd->line);
	int field =
	    (l[0] == ' ' || l[0] == '\t') ? rd->have_field : rawmsg_field_name(l, rd->line.len) > 0;

	if (m->mode == RAWMSG_RAW || field)
		return err_set(err, CL_EDATA, "%sa header line is longer than %d bytes",
		               rawmsg_prefix(m), RAWMSG_HEADER_MAX);
	if (rawmsg_body_starts(rd, l, rd->line.len, err) < 0)
		return -1;
	buf_reset(&rd->line);
	return 0;
}

/* Canonical bytes: header lines one by one, then the body as it comes. */
static int rawmsg_take(struct rawmsg_reader *rd, const char *p, size_t n, struct cl_err *err)
{
	const char *nl;
	size_t k;

	while (n > 0 && rd->in_header) {
		nl = memchr(p, '\n', n);
		k = nl ? (size_t)(nl - p) + 1 : n;
		if (buf_add(&rd->line, p, k) < 0) {
			if (rawmsg_long_line(rd, err) < 0)
				return -1;
			break; /* this piece and the rest are body */
		}
		p += k;
		n -= k;
		if (nl == NULL)
			return 0;
		if (rawmsg_header_line(rd, rd->line.data, rd->line.len, err) < 0)
			return -1;
		buf_reset(&rd->line);
	}
	return n ? rawmsg_write(rd->m, p, n, err) : 0;
}

/* sendmail without -i: a line holding only "." (LF or CRLF after it, or
 * the end of the input) ends the message; what follows is read and
 * ignored. The raw input in, what remains of it appended to out. */
static int rawmsg_dot_filter(struct rawmsg_reader *rd, const char *in, size_t n, struct buf *out)
{
	const char *nl;
	size_t i = 0, e;
	int r = 0;

	while (i < n && rd->dot != RAWMSG_DOT_ENDED) {
		char c;
		if (rd->dot == RAWMSG_DOT_MID) { /* the rest of the line, whole */
			nl = memchr(in + i, '\n', n - i);
			e = nl ? (size_t)(nl - in) + 1 : n;
			r |= buf_add(out, in + i, e - i);
			rd->dot = nl ? RAWMSG_DOT_BOL : RAWMSG_DOT_MID;
			i = e;
			continue;
		}
		c = in[i++];
		if (rd->dot == RAWMSG_DOT_BOL && c == '.') {
			rd->dot = RAWMSG_DOT_HELD;
			continue;
		}
		if (rd->dot != RAWMSG_DOT_BOL && c == '\n') {
			rd->dot = RAWMSG_DOT_ENDED;
			continue;
		}
		if (rd->dot == RAWMSG_DOT_HELD && c == '\r') {
			rd->dot = RAWMSG_DOT_HELDR;
			continue;
		}
		/* Not a lone dot: what was held back goes out first. */
		if (rd->dot == RAWMSG_DOT_HELD)
			r |= buf_addc(out, '.');
		else if (rd->dot == RAWMSG_DOT_HELDR)
			r |= buf_add(out, ".\r", 2);
		r |= buf_addc(out, c);
		rd->dot = c == '\n' ? RAWMSG_DOT_BOL : RAWMSG_DOT_MID;
	}
	return r;
}

static int rawmsg_tmpfile(struct rawmsg *m, struct cl_err *err)
{
	const char *dir = getenv("TMPDIR");
	struct buf path = BUF_INIT(4096);
	int fd;

	if (dir == NULL || *dir == '\0')
		dir = "/tmp";
	if (buf_printf(&path, "%s/clsmtpc-raw.XXXXXX", dir) < 0) {
		buf_free(&path);
		return err_set(err, CL_EIO, "%sTMPDIR is too long", rawmsg_prefix(m));
	}
	fd = mkostemp(path.data, O_CLOEXEC);
	if (fd < 0) {
		err_set(err, CL_EIO, "%scannot create a spool file in %s: %s", rawmsg_prefix(m),
		        dir, strerror(errno));
		buf_free(&path);
		return -1;
	}
	unlink(path.data);
	buf_free(&path);
	m->fd = fd;
	return 0;
}

/* One read's worth of input through the lone-dot rule and the
 * canonicaliser into the reader. */
static int rawmsg_feed(struct rawmsg_reader *rd, struct smtp_data_enc *enc, const char *in,
                       size_t n, struct buf *dotted, struct buf *canon, struct cl_err *err)
{
	buf_reset(dotted);
	buf_reset(canon);
	if (rd->dot_ends) {
		if (rawmsg_dot_filter(rd, in, n, dotted) < 0)
			return err_set(err, CL_ESOFTWARE, "out of memory");
		in = buf_cstr(dotted);
		n = dotted->len;
	}
	if (smtp_data_enc_chunk(enc, in, n, canon) < 0)
		return err_set(err, CL_ESOFTWARE, "out of memory");
	return rawmsg_take(rd, buf_cstr(canon), canon->len, err);
}

int rawmsg_spool(struct rawmsg *m, int fd, int dot_ends, struct cl_err *err)
{
	struct rawmsg_reader rd;
	struct smtp_data_enc enc;
	struct buf dotted = BUF_INIT(RAWMSG_READ + 8), canon = BUF_INIT(2 * RAWMSG_READ + 32);
	char *in = malloc(RAWMSG_READ);
	long long total = 0;
	ssize_t n;
	int rc = -1;

	memset(&rd, 0, sizeof(rd));
	rd.m = m;
	rd.in_header = 1;
	rd.dot_ends = m->mode == RAWMSG_SENDMAIL && dot_ends;
	rd.dot = RAWMSG_DOT_BOL;
	buf_init(&rd.line, RAWMSG_HEADER_MAX);
	smtp_data_enc_init(&enc, 0);
	if (in == NULL) {
		err_set(err, CL_ESOFTWARE, "out of memory");
		goto out;
	}
	if (rawmsg_tmpfile(m, err) < 0)
		goto out;
	for (;;) {
		n = read(fd, in, RAWMSG_READ);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err_set(err, CL_EIO, "%sreading the message: %s", rawmsg_prefix(m),
			        strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		total += n;
		if (rawmsg_feed(&rd, &enc, in, (size_t)n, &dotted, &canon, err) < 0)
			goto out;
	}
	/* A lone dot still held back is the last line: it ends the message
	 * too, and is dropped with the rest. */
	buf_reset(&canon);
	if (smtp_data_enc_end(&enc, &canon) < 0) {
		err_set(err, CL_ESOFTWARE, "out of memory");
		goto out;
	}
	if (rawmsg_take(&rd, buf_cstr(&canon), canon.len, err) < 0)
		goto out;
	m->had_header = rd.have_field || m->blank;
	if (m->mode == RAWMSG_RAW && (total == 0 || (rd.kept == 0 && !m->blank && m->size == 0))) {
		err_set(err, CL_EDATA, "--raw: the message on standard input is empty");
		goto out;
	}
	if (lseek(m->fd, 0, SEEK_SET) < 0) {
		err_set(err, CL_EIO, "%srewinding the spool file: %s", rawmsg_prefix(m),
		        strerror(errno));
		goto out;
	}
	rc = 0;
out:
	free(in);
	buf_free(&dotted);
	buf_free(&canon);
	buf_free(&rd.line);
	return rc;
}

/* ---- the kept header section ------------------------------------------ */

/* The field at *pos (with its continuation lines); 0 at the end. */
static int rawmsg_next_field(const struct buf *h, size_t *pos, struct rawmsg_field *f)
{
	const char *s = h->data, *nl;
	size_t i = *pos;

	if (i >= h->len)
		return 0;
	f->start = i;
	f->namelen = rawmsg_field_name(s + i, h->len - i);
	do {
		nl = memchr(s + i, '\n', h->len - i);
		i = nl ? (size_t)(nl - s) + 1 : h->len;
	} while (i < h->len && (s[i] == ' ' || s[i] == '\t'));
	f->end = i;
	*pos = i;
	return 1;
}

/* The field's value unfolded and trimmed, appended to out. */
static int rawmsg_value(const char *s, const struct rawmsg_field *f, struct buf *out)
{
	size_t i = f->start + f->namelen + 1, e = f->end;

	while (e > i && (s[e - 1] == '\n' || s[e - 1] == '\r'))
		e--;
	while (i < e && (s[i] == ' ' || s[i] == '\t'))
		i++;
	for (; i < e; i++) {
		if (s[i] == '\r' || s[i] == '\n')
			continue;
		if (buf_addc(out, s[i]) < 0)
			return -1;
	}
	while (out->len && (out->data[out->len - 1] == ' ' || out->data[out->len - 1] == '\t'))
		buf_truncate(out, out->len - 1);
	return 0;
}

int rawmsg_header_get(const struct rawmsg *m, const char *name, struct buf *value)
{
	struct rawmsg_field f;
	size_t pos = 0;

	buf_reset(value);
	while (rawmsg_next_field(&m->header, &pos, &f))
		if (rawmsg_name_is(m->header.data + f.start, f.namelen, name))
			return rawmsg_value(m->header.data, &f, value) < 0 ? -1 : 1;
	return 0;
}

/* 1 if the field is one of names[0..2]. */
static int rawmsg_field_in(const struct rawmsg *m, const struct rawmsg_field *f,
                           const char *const names[3])
{
	size_t i;

	for (i = 0; i < 3; i++)
		if (rawmsg_name_is(m->header.data + f->start, f->namelen, names[i]))
			return 1;
	return 0;
}

int rawmsg_recipients(const struct rawmsg *m, int (*cb)(void *arg, const char *addr), void *arg,
                      struct cl_err *err)
{
	static const char *const plain[] = {"To", "Cc", "Bcc"};
	static const char *const resent[] = {"Resent-To", "Resent-Cc", "Resent-Bcc"};
	const char *const *names = plain;
	struct buf v = BUF_INIT(MSG_MAX);
	struct rawmsg_field f;
	size_t pos = 0;
	int r = 0;

	err->cls = CL_OK;
	while (rawmsg_next_field(&m->header, &pos, &f))
		if (rawmsg_field_in(m, &f, resent))
			names = resent;
	pos = 0;
	while (r == 0 && rawmsg_next_field(&m->header, &pos, &f)) {
		if (!rawmsg_field_in(m, &f, names))
			continue;
		buf_reset(&v);
		if (rawmsg_value(m->header.data, &f, &v) < 0 ||
		    rawmsg_addr_list(buf_cstr(&v), cb, arg, err) < 0)
			r = -1;
	}
	buf_free(&v);
	if (r < 0)
		return err->cls != CL_OK ? -1 : err_set(err, CL_EDATA, "bad recipient header");
	return 0;
}

/* ---- the message sent ---------------------------------------------------- */

int rawmsg_complete(struct rawmsg *m, const struct rawmsg_add *a, struct cl_err *err)
{
	struct buf v = BUF_INIT(1024);
	struct hdr h;
	int r = 0;

	buf_reset(&m->added);
	m->nadded = 0;
	m->replace_from = a->replace_from && a->from_addr;
	m->keep_bcc = a->keep_bcc;
	m->undisclosed = a->undisclosed;
	if (a->from_addr && (!m->has_from || m->replace_from)) {
		int named = a->from_name && a->from_name[0];
		hdr_begin(&h, &m->added, "From");
		if (named) {
			hdr_phrase(&h, a->from_name, strlen(a->from_name));
			r |= buf_printf(&v, "<%s>", a->from_addr);
		} else {
			r |= buf_adds(&v, a->from_addr);
		}
		hdr_token(&h, buf_cstr(&v), v.len);
		r |= hdr_end(&h);
		m->nadded++;
	}
	if (a->add_date && !m->has_date) {
		buf_reset(&v);
		r |= compose_date(a->date ? a->date : time(NULL), &v);
		r |= buf_printf(&m->added, "Date: %s\r\n", buf_cstr(&v));
		m->nadded++;
	}
	if (a->msgid_domain && !m->has_msgid) {
		buf_reset(&v);
		if (compose_message_id(a->msgid_domain, &v) < 0) {
			buf_free(&v);
			return err_set(err, CL_EDATA, "cannot make a Message-ID with domain \"%s\"",
			               a->msgid_domain);
		}
		r |= buf_printf(&m->added, "Message-ID: %s\r\n", buf_cstr(&v));
		m->nadded++;
	}
	if (a->undisclosed) {
		r |= buf_adds(&m->added, "To: undisclosed-recipients:;\r\n");
		m->nadded++;
	}
	buf_free(&v);
	if (r)
		return err_set(err, CL_EDATA, "the header fields to add are too long");
	m->is_8bit |= !utf8_is_ascii(m->added.data ? m->added.data : "", m->added.len);
	return 0;
}

int rawmsg_stream(struct rawmsg *m, struct msgstream *ms, struct cl_err *err)
{
	struct rawmsg_field f;
	size_t pos = 0;
	int r = 0;

	if (m->mode == RAWMSG_RAW && m->added.len)
		r |= msgstream_add(ms, m->added.data, m->added.len);
	while (rawmsg_next_field(&m->header, &pos, &f))
		if (!rawmsg_left_out(m, m->header.data + f.start, f.namelen))
			r |= msgstream_add(ms, m->header.data + f.start, f.end - f.start);
	if (m->mode == RAWMSG_SENDMAIL && m->added.len)
		r |= msgstream_add(ms, m->added.data, m->added.len);
	if (m->mode == RAWMSG_SENDMAIL || m->blank)
		r |= msgstream_add(ms, "\r\n", 2);
	if (r)
		return err_set(err, CL_ESOFTWARE, "out of memory");
	if (m->size == 0)
		return 0;
	if (lseek(m->fd, 0, SEEK_SET) < 0)
		return err_set(err, CL_EIO, "%srewinding the spool file: %s", rawmsg_prefix(m),
		               strerror(errno));
	if (msgstream_add_fd(ms, m->fd, m->size,
	                     m->mode == RAWMSG_RAW ? "--raw message" : "the message's spool file") <
	    0)
		return err_set(err, CL_ESOFTWARE, "out of memory");
	return 0;
}
