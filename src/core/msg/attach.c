/*
 * attach.c - opening an attachment (see attach.h). A regular file's size
 * comes from fstat and its text-ness from one pass of pread (the offset
 * stays where sending starts); a pipe is read ahead ATTACH_PEEK octets,
 * which msgstream sends first.
 */
#include "msg/attach.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "msg/mimetype.h"
#include "base/utf8.h"

/* Octets per pread(2) when classifying a whole file. */
#define ATTACH_SCAN 65536

enum attach_text attach_classify(const char *p, size_t n, int final)
{
	const unsigned char *u = (const unsigned char *)p;
	size_t i = 0, k;
	int eight = 0, esc = 0, utf8 = 1;

	while (i < n) {
		if (u[i] < 0x80) {
			if (u[i] == 0 || u[i] == 0x7f ||
			    (u[i] < 0x20 && strchr("\t\n\r\f\v\x1b", u[i]) == NULL))
				return ATTACH_BINARY;
			esc |= u[i] == 0x1b;
			i++;
			continue;
		}
		eight = 1;
		k = utf8_seq_len(u + i, n - i);
		if (k == 0) {
			/* A character cut by the end of a chunk is not an error. */
			if (!final && n - i < 4 && (u[i] & 0xc0) == 0xc0) {
				size_t j;
				for (j = i + 1; j < n && (u[j] & 0xc0) == 0x80; j++)
					;
				if (j == n)
					break;
			}
			utf8 = 0;
			k = 1;
		}
		i += k;
	}
	if (esc || (eight && !utf8))
		return ATTACH_OTHER;
	return eight ? ATTACH_UTF8 : ATTACH_ASCII;
}

/* Combine the kinds of two parts of one file. */
static enum attach_text attach_join(enum attach_text a, enum attach_text b)
{
	if (a == ATTACH_BINARY || b == ATTACH_BINARY)
		return ATTACH_BINARY;
	if (a == ATTACH_OTHER || b == ATTACH_OTHER)
		return ATTACH_OTHER;
	return a == ATTACH_UTF8 || b == ATTACH_UTF8 ? ATTACH_UTF8 : ATTACH_ASCII;
}

/* Octets at the end of p that begin a UTF-8 character and do not finish it. */
static size_t attach_cut_tail(const unsigned char *p, size_t n)
{
	size_t i = n, need;

	while (i > 0 && n - i < 3 && (p[i - 1] & 0xc0) == 0x80)
		i--;
	if (i == 0 || p[i - 1] < 0xc0)
		return 0;
	need = p[i - 1] >= 0xf0 ? 4 : p[i - 1] >= 0xe0 ? 3 : 2;
	return n - (i - 1) < need ? n - (i - 1) : 0;
}

/* Classify a regular file from offset off on, without moving its offset. */
static int attach_scan(struct attach *a, off_t off, enum attach_text *kind, struct cl_err *err)
{
	char buf[ATTACH_SCAN + 4];
	size_t carry = 0, n;
	ssize_t r;

	*kind = ATTACH_ASCII;
	for (;;) {
		r = pread(a->fd, buf + carry, ATTACH_SCAN, off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return err_set(err, CL_EIO, "reading %s: %s", a->path, strerror(errno));
		off += r;
		n = carry + (size_t)r;
		*kind = attach_join(*kind, attach_classify(buf, n, r == 0));
		if (r == 0 || *kind == ATTACH_BINARY)
			return 0;
		/* Carry an incomplete last character into the next chunk. */
		carry = attach_cut_tail((const unsigned char *)buf, n);
		memmove(buf, buf + n - carry, carry);
	}
}

/* Read ahead from a pipe: up to ATTACH_PEEK octets, or to its end. */
static int attach_peek(struct attach *a, int *at_end, struct cl_err *err)
{
	char tmp[8192];
	ssize_t r;

	*at_end = 0;
	while (a->peek.len < ATTACH_PEEK) {
		size_t want = ATTACH_PEEK - a->peek.len;
		r = read(a->fd, tmp, want < sizeof(tmp) ? want : sizeof(tmp));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return err_set(err, CL_EIO, "reading %s: %s", a->path, strerror(errno));
		if (r == 0) {
			*at_end = 1;
			return 0;
		}
		if (buf_add(&a->peek, tmp, (size_t)r) < 0)
			return err_set(err, CL_ESOFTWARE, "out of memory");
	}
	return 0;
}

static int attach_name_ok(const struct attach *a, struct cl_err *err)
{
	const char *n = buf_cstr(&a->name);
	size_t i, bad;

	if (a->name.len == 0)
		return err_set(err, CL_EDATA, "attachment %s: empty file name", a->path);
	if (a->name.len > ATTACH_NAME_MAX)
		return err_set(err, CL_EDATA, "attachment %s: file name longer than %d octets",
		               a->path, ATTACH_NAME_MAX);
	if (!utf8_valid(n, a->name.len, &bad))
		return err_set(err, CL_EDATA,
		               "attachment %s: file name is not UTF-8 (at byte %zu); give "
		               "--attach-name",
		               a->path, bad + 1);
	for (i = 0; i < a->name.len; i++)
		if ((unsigned char)n[i] < 0x20 || n[i] == 0x7f)
			return err_set(err, CL_EDATA,
			               "attachment %s: file name holds a control character",
			               a->path);
	return 0;
}

int attach_open(struct attach *a, const char *path, const char *name, const char *table,
                struct cl_err *err)
{
	struct stat st;
	enum attach_text kind = ATTACH_BINARY;
	const char *base;
	off_t off;
	int at_end = 0, text_type, unknown;

	memset(a, 0, sizeof(*a));
	a->path = path;
	a->fd = -1;
	a->size = -1;
	buf_init(&a->name, ATTACH_NAME_MAX + 1);
	buf_init(&a->type, 256);
	buf_init(&a->peek, ATTACH_PEEK);
	if (strcmp(path, "-") == 0) {
		if (name == NULL)
			return err_set(
			    err, CL_EUSAGE,
			    "--attach - (standard input) needs --attach-name NAME after it");
		a->fd = 0;
	} else {
		a->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		if (a->fd < 0)
			return err_set(err, CL_EIO, "cannot open attachment %s: %s", path,
			               strerror(errno));
		a->own_fd = 1;
	}
	if (name == NULL) {
		base = strrchr(path, '/');
		name = base ? base + 1 : path;
	}
	/* Readers strip white space around a file name (Python's get_filename
	 * does): send it without, so that every reader sees the same name. */
	while (*name == ' ' || *name == '\t')
		name++;
	if (buf_adds(&a->name, name) < 0)
		return err_set(err, CL_EDATA, "attachment %s: file name longer than %d octets",
		               path, ATTACH_NAME_MAX);
	while (a->name.len &&
	       (a->name.data[a->name.len - 1] == ' ' || a->name.data[a->name.len - 1] == '\t'))
		buf_truncate(&a->name, a->name.len - 1);
	if (attach_name_ok(a, err) < 0)
		return -1;
	if (fstat(a->fd, &st) < 0)
		return err_set(err, CL_EIO, "attachment %s: %s", path, strerror(errno));
	if (S_ISDIR(st.st_mode))
		return err_set(err, CL_EIO, "attachment %s is a directory", path);
	unknown = mimetype_for_name(table, buf_cstr(&a->name), &a->type);
	if (unknown < 0)
		return err_set(err, CL_ESOFTWARE, "out of memory");
	unknown = !unknown; /* no table knew the extension */
	text_type = strncmp(buf_cstr(&a->type), "text/", 5) == 0;
	if (S_ISREG(st.st_mode)) {
		off = lseek(a->fd, 0, SEEK_CUR);
		if (off < 0 || off > st.st_size)
			off = 0;
		a->size = (long long)(st.st_size - off);
		if ((text_type || unknown) && attach_scan(a, off, &kind, err) < 0)
			return -1;
	} else {
		if (attach_peek(a, &at_end, err) < 0)
			return -1;
		if (at_end)
			a->size = (long long)a->peek.len;
		kind = attach_classify(a->peek.data ? a->peek.data : "", a->peek.len, at_end);
	}
	/* An empty file tells nothing: it stays application/octet-stream. */
	if (unknown && a->size != 0 && (kind == ATTACH_ASCII || kind == ATTACH_UTF8)) {
		buf_reset(&a->type);
		buf_adds(&a->type, "text/plain");
		text_type = 1;
	}
	if (text_type)
		a->charset = kind == ATTACH_UTF8    ? "UTF-8"
		             : kind == ATTACH_ASCII ? "US-ASCII"
		                                    : NULL;
	return 0;
}

void attach_close(struct attach *a)
{
	if (a->own_fd && a->fd >= 0)
		close(a->fd);
	a->fd = -1;
	a->own_fd = 0;
	buf_free(&a->name);
	buf_free(&a->type);
	buf_free(&a->peek);
}
