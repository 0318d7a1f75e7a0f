/*
 * msgstream.c - the message as pieces read in order (see msgstream.h). A
 * read fills the caller's buffer from as many pieces as fit; a file piece is
 * read MSGSTREAM_READ octets at a time and encoded line by line, so the
 * memory used is the read buffer plus the caller's chunk.
 */
#include "msg/msgstream.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* One base64 line with its CRLF. */
#define MSGSTREAM_LINE (B64_LINE + 2)

void msgstream_init(struct msgstream *ms)
{
	memset(ms, 0, sizeof(*ms));
}

void msgstream_free(struct msgstream *ms)
{
	size_t i;

	for (i = 0; i < ms->nseg; i++)
		buf_free(&ms->seg[i].mem);
	free(ms->seg);
	free(ms->rbuf);
	msgstream_init(ms);
}

static struct msgstream_seg *msgstream_new(struct msgstream *ms, enum msgstream_kind kind)
{
	struct msgstream_seg *s;

	if (ms->nseg == ms->cap) {
		size_t ncap = ms->cap ? 2 * ms->cap : 8;
		s = realloc(ms->seg, ncap * sizeof(*s));
		if (s == NULL)
			return NULL;
		ms->seg = s;
		ms->cap = ncap;
	}
	s = &ms->seg[ms->nseg++];
	memset(s, 0, sizeof(*s));
	s->kind = kind;
	s->fd = -1;
	buf_init(&s->mem, MSGSTREAM_MEM_MAX);
	b64_enc_init(&s->enc);
	return s;
}

struct buf *msgstream_mem(struct msgstream *ms)
{
	struct msgstream_seg *s;

	if (ms->nseg > 0 && ms->seg[ms->nseg - 1].kind == MSGSTREAM_MEM)
		return &ms->seg[ms->nseg - 1].mem;
	s = msgstream_new(ms, MSGSTREAM_MEM);
	return s ? &s->mem : NULL;
}

int msgstream_add(struct msgstream *ms, const void *p, size_t n)
{
	struct buf *b = msgstream_mem(ms);

	return b ? buf_add(b, p, n) : -1;
}

int msgstream_adds(struct msgstream *ms, const char *s)
{
	return msgstream_add(ms, s, strlen(s));
}

static int msgstream_add_file(struct msgstream *ms, enum msgstream_kind kind, int fd,
                              const char *peek, size_t npeek, long long size, const char *what)
{
	struct msgstream_seg *s = msgstream_new(ms, kind);

	if (s == NULL)
		return -1;
	s->fd = fd;
	s->peek = peek;
	s->npeek = npeek;
	s->size = size;
	s->start = (long long)lseek(fd, 0, SEEK_CUR);
	snprintf(s->what, sizeof(s->what), "%s", what);
	return 0;
}

int msgstream_rewind(struct msgstream *ms, struct cl_err *err)
{
	size_t i;

	for (i = 0; i < ms->nseg; i++) {
		struct msgstream_seg *s = &ms->seg[i];
		if (s->kind == MSGSTREAM_MEM || s->done == 0)
			continue;
		if ((size_t)s->done > s->npeek &&
		    (s->start < 0 || lseek(s->fd, (off_t)s->start, SEEK_SET) < 0))
			return err_set(err, CL_EIO, "%s cannot be read a second time", s->what);
		s->done = 0;
		b64_enc_init(&s->enc);
	}
	ms->cur = 0;
	ms->off = 0;
	ms->seg_eof = 0;
	return 0;
}

int msgstream_add_b64(struct msgstream *ms, int fd, const char *peek, size_t npeek, long long size,
                      const char *what)
{
	return msgstream_add_file(ms, MSGSTREAM_B64, fd, peek, npeek, size, what);
}

int msgstream_add_fd(struct msgstream *ms, int fd, long long size, const char *what)
{
	return msgstream_add_file(ms, MSGSTREAM_FD, fd, NULL, 0, size, what);
}

long long msgstream_b64_size(long long n)
{
	long long lines = (n + B64_LINE_RAW - 1) / B64_LINE_RAW;

	return (n + 2) / 3 * 4 + 2 * lines;
}

long long msgstream_size(const struct msgstream *ms)
{
	long long total = 0;
	size_t i;

	for (i = 0; i < ms->nseg; i++) {
		const struct msgstream_seg *s = &ms->seg[i];
		if (s->kind == MSGSTREAM_MEM)
			total += (long long)s->mem.len;
		else if (s->size < 0)
			return -1;
		else
			total += s->kind == MSGSTREAM_B64 ? msgstream_b64_size(s->size) : s->size;
	}
	return total;
}

void msgstream_source(struct msgstream *ms, struct smtp_body_source *src)
{
	ms->cur = 0;
	ms->off = 0;
	ms->seg_eof = 0;
	src->read = msgstream_read;
	src->arg = ms;
	src->size = msgstream_size(ms);
}

/* Up to want octets of the file piece into ms->rbuf (peek first); 0 at the
 * end of the file. */
static ssize_t msgstream_fill(struct msgstream *ms, struct msgstream_seg *s, size_t want,
                              struct cl_err *err)
{
	ssize_t n;

	if ((size_t)s->done < s->npeek) {
		n = (ssize_t)(s->npeek - (size_t)s->done);
		if ((size_t)n > want)
			n = (ssize_t)want;
		memcpy(ms->rbuf, s->peek + s->done, (size_t)n);
	} else {
		do
			n = read(s->fd, ms->rbuf, want);
		while (n < 0 && errno == EINTR);
		if (n < 0)
			return err_set(err, CL_EIO, "reading %s: %s", s->what, strerror(errno));
	}
	s->done += n;
	if (n == 0 && s->size >= 0 && s->done != s->size)
		return err_set(err, CL_EIO, "%s changed size while it was being sent", s->what);
	if (s->size >= 0 && s->done > s->size)
		return err_set(err, CL_EIO, "%s grew while it was being sent", s->what);
	return n;
}

/* Move on from a file piece: 1 if out has room for more, 0 if not. */
static int msgstream_file(struct msgstream *ms, struct msgstream_seg *s, struct buf *out,
                          size_t room, struct cl_err *err)
{
	size_t want, start = out->len;
	ssize_t n;

	if (ms->rbuf == NULL && (ms->rbuf = malloc(MSGSTREAM_READ)) == NULL)
		return err_set(err, CL_ESOFTWARE, "out of memory");
	while (!ms->seg_eof) {
		if (s->kind == MSGSTREAM_FD) {
			want = room - (out->len - start);
			if (want == 0)
				return 0;
		} else {
			/* Whole lines only, so the last partial line still fits. */
			want = (room - (out->len - start)) / MSGSTREAM_LINE * B64_LINE_RAW;
			if (want <= s->enc.npend)
				return 0;
			want -= s->enc.npend;
		}
		if (want > MSGSTREAM_READ)
			want = MSGSTREAM_READ;
		if ((n = msgstream_fill(ms, s, want, err)) < 0)
			return -1;
		if (n == 0) {
			ms->seg_eof = 1;
			if (s->kind == MSGSTREAM_B64 && b64_enc_end(&s->enc, out) < 0)
				return err_set(err, CL_ESOFTWARE, "out of memory");
			break;
		}
		if ((s->kind == MSGSTREAM_FD
		         ? buf_add(out, ms->rbuf, (size_t)n)
		         : b64_enc_chunk(&s->enc, ms->rbuf, (size_t)n, out)) < 0)
			return err_set(err, CL_ESOFTWARE, "out of memory");
	}
	return 1;
}

int msgstream_read(void *arg, struct buf *out, size_t max, struct cl_err *err)
{
	struct msgstream *ms = arg;
	size_t start = out->len, n;
	int r;

	if (max < MSGSTREAM_LINE)
		return err_set(err, CL_ESOFTWARE, "message read of %zu octets is too small", max);
	while (ms->cur < ms->nseg) {
		struct msgstream_seg *s = &ms->seg[ms->cur];
		size_t room = max - (out->len - start);
		if (s->kind == MSGSTREAM_MEM) {
			n = s->mem.len - ms->off;
			if (n > room)
				n = room;
			if (buf_add(out, s->mem.data + ms->off, n) < 0)
				return err_set(err, CL_ESOFTWARE, "out of memory");
			ms->off += n;
			if (ms->off < s->mem.len)
				return 1;
		} else {
			r = msgstream_file(ms, s, out, room, err);
			if (r < 0)
				return -1;
			if (r == 0)
				return 1;
		}
		ms->cur++;
		ms->off = 0;
		ms->seg_eof = 0;
	}
	return 0;
}

int msgstream_drain(struct msgstream *ms, struct buf *out, struct cl_err *err)
{
	int r;

	do
		r = msgstream_read(ms, out, 1 << 20, err);
	while (r > 0);
	return r;
}
