/*
 * rawspool.c - a whole message spooled as it is (see rawspool.h). The input
 * goes through smtp_data's canonicaliser (no dot-stuffing: the engine does
 * that for DATA); header lines are looked at one by one until the empty
 * line, the body is written through untouched.
 */
#include "rawspool.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "compose.h"
#include "smtp_data.h"

#define RAWSPOOL_READ 65536

struct rawspool_state {
	struct rawspool *r;
	struct buf line; /* a header line being assembled */
	int in_header;
	int dropping; /* the current field is a Bcc being left out */
	size_t lineno;
};

void rawspool_init(struct rawspool *r)
{
	memset(r, 0, sizeof(*r));
	r->fd = -1;
	buf_init(&r->header, RAWSPOOL_HEADER_MAX);
}

void rawspool_free(struct rawspool *r)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	buf_free(&r->header);
}

static int rawspool_write(struct rawspool *r, const char *p, size_t n, struct cl_err *err)
{
	ssize_t w;
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)p[i] >= 0x80) {
			r->is_8bit = 1;
			break;
		}
	while (n > 0) {
		w = write(r->fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return err_set(err, CL_EIO, "--raw: writing the spool file: %s",
			               strerror(errno));
		p += w;
		n -= (size_t)w;
		r->size += w;
	}
	return 0;
}

static int rawspool_is_field(const char *l, size_t n, const char *name)
{
	size_t k = strlen(name);

	return n > k && l[k] == ':' && strncasecmp(l, name, k) == 0;
}

/* One complete header line (with its CRLF). */
static int rawspool_header_line(struct rawspool_state *st, const char *l, size_t n,
                                struct cl_err *err)
{
	struct rawspool *r = st->r;
	size_t i;

	st->lineno++;
	if (n == 2) {
		st->in_header = 0;
		return rawspool_write(r, l, n, err);
	}
	if (l[0] == ' ' || l[0] == '\t') {
		if (st->lineno == 1)
			return err_set(err, CL_EDATA,
			               "--raw: the message starts with a folded line");
		if (st->dropping)
			return 0;
	} else {
		if (st->lineno == 1 && n > 5 && memcmp(l, "From ", 5) == 0) {
			st->lineno = 0; /* an mbox separator, not part of the message */
			return 0;
		}
		for (i = 0; i < n - 2 && l[i] != ':'; i++)
			if ((unsigned char)l[i] < 33 || (unsigned char)l[i] > 126)
				break;
		if (i == 0 || i >= n - 2 || l[i] != ':')
			return err_set(
			    err, CL_EDATA,
			    "--raw: line %zu is not a header field (\"Name: value\"), and "
			    "no empty line ends the header before it",
			    st->lineno);
		st->dropping = rawspool_is_field(l, n, "Bcc");
		if (st->dropping) {
			r->dropped++;
			return 0;
		}
		r->has_date |= rawspool_is_field(l, n, "Date");
		r->has_msgid |= rawspool_is_field(l, n, "Message-ID");
	}
	if (buf_add(&r->header, l, n) < 0)
		return err_set(err, CL_EDATA, "--raw: the header section is larger than %d bytes",
		               RAWSPOOL_HEADER_MAX);
	return rawspool_write(r, l, n, err);
}

/* Canonical bytes: header lines one by one, then the body as it comes. */
static int rawspool_take(struct rawspool_state *st, const char *p, size_t n, struct cl_err *err)
{
	const char *nl;
	size_t k;

	while (n > 0 && st->in_header) {
		nl = memchr(p, '\n', n);
		k = nl ? (size_t)(nl - p) + 1 : n;
		if (buf_add(&st->line, p, k) < 0)
			return err_set(err, CL_EDATA, "--raw: a header line is too long");
		p += k;
		n -= k;
		if (nl == NULL)
			return 0;
		if (rawspool_header_line(st, st->line.data, st->line.len, err) < 0)
			return -1;
		buf_reset(&st->line);
	}
	return n ? rawspool_write(st->r, p, n, err) : 0;
}

static int rawspool_tmpfile(struct rawspool *r, struct cl_err *err)
{
	const char *dir = getenv("TMPDIR");
	struct buf path = BUF_INIT(4096);
	int fd;

	buf_printf(&path, "%s/clsmtpc-raw.XXXXXX", dir && *dir ? dir : "/tmp");
	fd = mkstemp(path.data);
	if (fd < 0) {
		err_set(err, CL_EIO, "--raw: cannot create a spool file in %s: %s",
		        dir && *dir ? dir : "/tmp", strerror(errno));
		buf_free(&path);
		return -1;
	}
	unlink(path.data);
	buf_free(&path);
	r->fd = fd;
	return 0;
}

int rawspool_spool(struct rawspool *r, int fd, struct cl_err *err)
{
	struct rawspool_state st;
	struct smtp_data_enc enc;
	struct buf canon = BUF_INIT(2 * RAWSPOOL_READ + 4);
	char *in = malloc(RAWSPOOL_READ);
	long long total = 0;
	ssize_t n;
	int rc = -1;

	memset(&st, 0, sizeof(st));
	st.r = r;
	st.in_header = 1;
	buf_init(&st.line, RAWSPOOL_HEADER_MAX);
	smtp_data_enc_init(&enc, 0);
	if (in == NULL) {
		err_set(err, CL_ESOFTWARE, "out of memory");
		goto out;
	}
	if (rawspool_tmpfile(r, err) < 0)
		goto out;
	for (;;) {
		n = read(fd, in, RAWSPOOL_READ);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err_set(err, CL_EIO, "--raw: reading the message: %s", strerror(errno));
			goto out;
		}
		buf_reset(&canon);
		if (n == 0 ? smtp_data_enc_end(&enc, &canon) < 0
		           : smtp_data_enc_chunk(&enc, in, (size_t)n, &canon) < 0) {
			err_set(err, CL_ESOFTWARE, "out of memory");
			goto out;
		}
		total += n;
		if (rawspool_take(&st, canon.data ? canon.data : "", canon.len, err) < 0)
			goto out;
		if (n == 0)
			break;
	}
	if (total == 0 || r->size == 0) {
		err_set(err, CL_EDATA, "--raw: the message on standard input is empty");
		goto out;
	}
	if (lseek(r->fd, 0, SEEK_SET) < 0) {
		err_set(err, CL_EIO, "--raw: rewinding the spool file: %s", strerror(errno));
		goto out;
	}
	rc = 0;
out:
	free(in);
	buf_free(&canon);
	buf_free(&st.line);
	return rc;
}

int rawspool_stream(struct rawspool *r, const char *msgid_domain, time_t date, struct msgstream *ms,
                    struct cl_err *err)
{
	struct buf v = BUF_INIT(512);
	int rc = 0;

	if (!r->has_date) {
		rc |= buf_adds(&v, "Date: ") | compose_date(date ? date : time(NULL), &v) |
		      buf_adds(&v, "\r\n");
	}
	if (!r->has_msgid) {
		rc |= buf_adds(&v, "Message-ID: ");
		if (compose_message_id(msgid_domain, &v) < 0) {
			buf_free(&v);
			return err_set(err, CL_EDATA, "cannot make a Message-ID with domain \"%s\"",
			               msgid_domain ? msgid_domain : "");
		}
		rc |= buf_adds(&v, "\r\n");
	}
	if (v.len)
		rc |= msgstream_add(ms, v.data, v.len);
	buf_free(&v);
	if (rc || msgstream_add_fd(ms, r->fd, r->size, "--raw message") < 0)
		return err_set(err, CL_ESOFTWARE, "out of memory");
	return 0;
}
