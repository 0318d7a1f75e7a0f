/*
 * body_source.c - body sources over bytes in memory, over a file
 * descriptor, and a prefix before another source (body_source.h).
 */
#include "smtp/body_source.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

static int smtp_mem_read(void *arg, struct buf *out, size_t max, struct cl_err *err)
{
	struct smtp_mem_source *mem = arg;
	size_t n = mem->len - mem->off;

	if (n > max)
		n = max;
	if (buf_add(out, mem->data + mem->off, n) < 0)
		return err_set(err, CL_ESOFTWARE, "out of memory");
	mem->off += n;
	return mem->off < mem->len;
}

void smtp_body_from_memory(struct smtp_body_source *src, struct smtp_mem_source *mem,
                           const char *data, size_t len)
{
	mem->data = data;
	mem->len = len;
	mem->off = 0;
	src->read = smtp_mem_read;
	src->arg = mem;
	src->size = (long long)len;
}

static int smtp_fd_read(void *arg, struct buf *out, size_t max, struct cl_err *err)
{
	struct smtp_fd_source *fs = arg;
	char tmp[65536];
	size_t got = 0, want;
	ssize_t n;

	while (got < max && fs->left > 0) {
		want = max - got < sizeof(tmp) ? max - got : sizeof(tmp);
		/* The last read is shorter (cppcheck wrongly finds this always false). */
		/* cppcheck-suppress knownConditionTrueFalse */
		if ((long long)want > fs->left)
			want = (size_t)fs->left;
		n = read(fs->fd, tmp, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_set(err, CL_EIO, "%s: reading the message: %s", fs->what,
			               strerror(errno));
		if (n == 0)
			return err_set(err, CL_EIO, "%s: the message file is shorter than its recorded size",
			               fs->what);
		if (buf_add(out, tmp, (size_t)n) < 0)
			return err_set(err, CL_ESOFTWARE, "out of memory");
		got += (size_t)n;
		fs->left -= n;
	}
	return fs->left > 0;
}

void smtp_body_from_fd(struct smtp_body_source *src, struct smtp_fd_source *fs, int fd,
                       long long size, const char *what)
{
	fs->fd = fd;
	fs->left = size;
	fs->what = what;
	src->read = smtp_fd_read;
	src->arg = fs;
	src->size = size;
}

static int smtp_prefix_read(void *arg, struct buf *out, size_t max, struct cl_err *err)
{
	struct smtp_prefix_source *ps = arg;
	size_t n = ps->len - ps->off;

	if (n > max)
		n = max;
	if (n > 0 && buf_add(out, ps->pre + ps->off, n) < 0)
		return err_set(err, CL_ESOFTWARE, "out of memory");
	ps->off += n;
	if (ps->off < ps->len)
		return 1;
	/* The rest of the read from the inner source: a message that fits
	 * one chunk stays one chunk (BDAT LAST in the first flight). */
	if (max == n)
		return ps->inner.size != 0 ? 1 : 0;
	return ps->inner.read(ps->inner.arg, out, max - n, err);
}

void smtp_body_prefixed(struct smtp_body_source *src, struct smtp_prefix_source *ps,
                        const char *pre, size_t len, const struct smtp_body_source *inner)
{
	ps->inner = *inner;
	ps->pre = pre;
	ps->len = len;
	ps->off = 0;
	src->read = smtp_prefix_read;
	src->arg = ps;
	src->size = inner->size >= 0 ? inner->size + (long long)len : -1;
}
