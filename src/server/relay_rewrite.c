/*
 * relay_rewrite.c - the From: address of a relayed message replaced for a
 * sender_relay account (relay_rewrite.h).
 */
#include "relay_rewrite.h"

#include <errno.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "msg/rawmsg_addr.h"

static int first_addr_cb(void *arg, const char *addr)
{
	struct buf *b = arg;
	if (b->len == 0)
		buf_adds(b, addr);
	return 0;
}

static int is_from(const char *p, size_t len)
{
	size_t i = 4;

	if (len < 5 || strncasecmp(p, "from", 4) != 0)
		return 0;
	while (i < len && (p[i] == ' ' || p[i] == '\t'))
		i++;
	return i < len && p[i] == ':';
}

/* One From field rewritten into out: its address replaced where it
 * stands, or the whole field made anew when it cannot be found. */
static void rewrite_field(const char *f, size_t len, const char *addr, struct buf *out)
{
	struct buf value = BUF_INIT(RELAY_REWRITE_HEAD_MAX), old = BUF_INIT(1024);
	const char *colon = memchr(f, ':', len), *hit = NULL;
	struct cl_err err;

	for (const char *p = colon + 1; p < f + len; p++)
		if (*p != '\r' && *p != '\n')
			buf_addc(&value, *p);
	if (rawmsg_addr_list(buf_cstr(&value), first_addr_cb, &old, &err) == 0 && old.len > 0) {
		/* The address as it was written, in the field itself. */
		for (const char *p = colon + 1; p + old.len <= f + len; p++)
			if (strncasecmp(p, old.data, old.len) == 0) {
				hit = p;
				break;
			}
	}
	if (hit != NULL) {
		buf_add(out, f, (size_t)(hit - f));
		buf_adds(out, addr);
		buf_add(out, hit + old.len, (size_t)(f + len - hit - old.len));
	} else {
		buf_printf(out, "From: <%s>\r\n", addr);
	}
	buf_free(&value);
	buf_free(&old);
}

int relay_rewrite_head(const char *head_in, size_t len, const char *addr, struct buf *out,
                       struct cl_err *err)
{
	size_t i = 0, nfrom = 0;

	buf_reset(out);
	while (i < len) {
		size_t start = i;
		/* To the end of the field: a line end not followed by a blank. */
		for (;;) {
			const char *nl = memchr(head_in + i, '\n', len - i);
			i = nl ? (size_t)(nl - head_in) + 1 : len;
			if (i >= len || (head_in[i] != ' ' && head_in[i] != '\t'))
				break;
		}
		if (is_from(head_in + start, i - start) && nfrom++ == 0)
			rewrite_field(head_in + start, i - start, addr, out);
		else
			buf_add(out, head_in + start, i - start);
	}
	if (nfrom == 0) {
		/* No From at all: the provider wants one; put it before the
		 * empty line. */
		size_t keep = out->len >= 2 ? out->len - 2 : 0;
		buf_truncate(out, keep);
		buf_printf(out, "From: <%s>\r\n\r\n", addr);
	}
	if (out->len >= out->max)
		return err_set(err, CL_EDATA,
		               "the header section is too big to rewrite its From field");
	return 0;
}

int relay_rewrite_from(int fd, long long size, const char *addr, struct buf *head,
                       long long *consumed, struct cl_err *err)
{
	struct buf in = BUF_INIT(RELAY_REWRITE_HEAD_MAX);
	char tmp[8192];
	off_t off = lseek(fd, 0, SEEK_CUR);
	size_t end = 0;
	int r = -1;

	if (off < 0)
		return err_set(err, CL_EIO, "spool: %s", strerror(errno));
	/* Up to the empty line (or the whole message, a header alone). */
	while (size > 0) {
		size_t want = size < (long long)sizeof(tmp) ? (size_t)size : sizeof(tmp);
		ssize_t got = pread(fd, tmp, want, off + (off_t)in.len);
		const char *e;
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			err_set(err, CL_EIO, "spool: reading the header to rewrite From: %s",
			        got < 0 ? strerror(errno) : "shorter than its size");
			goto out;
		}
		if (buf_add(&in, tmp, (size_t)got) < 0) {
			err_set(err, CL_EDATA,
			        "the header section is over %d bytes: From not rewritten",
			        RELAY_REWRITE_HEAD_MAX);
			goto out;
		}
		size -= got;
		if (in.len >= 2 && memcmp(in.data, "\r\n", 2) == 0) {
			end = 2;
			break;
		}
		if ((e = memmem(in.data, in.len, "\r\n\r\n", 4)) != NULL) {
			end = (size_t)(e - in.data) + 4;
			break;
		}
	}
	if (end == 0) {
		/* A message that is all header: it gets its empty line. */
		*consumed = (long long)in.len;
		buf_adds(&in, "\r\n");
		end = in.len;
	} else {
		*consumed = (long long)end;
	}
	r = relay_rewrite_head(in.data, end, addr, head, err);
out:
	buf_free(&in);
	return r;
}
