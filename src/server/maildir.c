/*
 * maildir.c - Maildir delivery (maildir.h). The unique name is
 * "TIME.QID_PID_COUNT.HOST"; the order tmp -> fsync -> rename -> fsync(new)
 * is what lets the delivery agent journal the recipient as delivered.
 */
#include "maildir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"

static int maildir_mkdir(const char *dir, const char *sub, struct cl_err *err)
{
	struct buf p = BUF_INIT(4096);
	int r = 0;

	buf_printf(&p, "%s%s%s", dir, *sub ? "/" : "", sub);
	if (mkdir(p.data, 0700) < 0 && errno != EEXIST)
		r = err_set(err, CL_ETEMP, "maildir: mkdir %s: %s", p.data, strerror(errno));
	buf_free(&p);
	return r;
}

static int maildir_write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Copy in to out turning CRLF into LF (a CR before the chunk end waits). */
static int maildir_copy(int in, int out)
{
	char ib[65536], ob[65536];
	int cr = 0;

	for (;;) {
		ssize_t n = read(in, ib, sizeof(ib)), i;
		size_t o = 0;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		for (i = 0; i < n; i++) {
			if (cr && ib[i] != '\n')
				ob[o++] = '\r';
			cr = ib[i] == '\r';
			if (!cr)
				ob[o++] = ib[i];
		}
		if (maildir_write_all(out, ob, o) < 0)
			return -1;
	}
	if (cr && maildir_write_all(out, "\r", 1) < 0)
		return -1;
	return 0;
}

int maildir_deliver(const char *dir, int fd, const char *qid, struct cl_err *err)
{
	static unsigned counter;
	struct buf name = BUF_INIT(512), tmp = BUF_INIT(4096), new = BUF_INIT(4096);
	char host[256];
	int out = -1, dfd = -1, r = -1;
	size_t i;

	if (maildir_mkdir(dir, "", err) < 0 || maildir_mkdir(dir, "tmp", err) < 0 ||
	    maildir_mkdir(dir, "new", err) < 0 || maildir_mkdir(dir, "cur", err) < 0)
		goto out;
	if (gethostname(host, sizeof(host) - 1) < 0)
		memcpy(host, "localhost", sizeof("localhost"));
	host[sizeof(host) - 1] = '\0';
	/* The spec asks to replace '/' and ':' in the host name. */
	for (i = 0; host[i]; i++)
		if (host[i] == '/' || host[i] == ':')
			host[i] = '_';
	buf_printf(&name, "%lld.%s_%ld_%u.%s", (long long)time(NULL), qid, (long)getpid(),
	           counter++, host);
	buf_printf(&tmp, "%s/tmp/%s", dir, name.data);
	buf_printf(&new, "%s/new/%s", dir, name.data);
	out = open(tmp.data, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
	if (out < 0) {
		err_set(err, CL_ETEMP, "maildir: create %s: %s", tmp.data, strerror(errno));
		goto out;
	}
	if (maildir_copy(fd, out) < 0 || fsync(out) < 0) {
		err_set(err, CL_ETEMP, "maildir: write %s: %s", tmp.data, strerror(errno));
		goto out;
	}
	close(out);
	out = -1;
	if (rename(tmp.data, new.data) < 0) {
		err_set(err, CL_ETEMP, "maildir: rename into %s/new: %s", dir, strerror(errno));
		goto out;
	}
	buf_reset(&tmp);
	buf_printf(&tmp, "%s/new", dir);
	dfd = open(tmp.data, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) < 0) {
		err_set(err, CL_ETEMP, "maildir: fsync %s: %s", tmp.data, strerror(errno));
		goto out;
	}
	r = 0;
out:
	if (out >= 0) {
		close(out);
		unlink(tmp.data);
	}
	if (dfd >= 0)
		close(dfd);
	buf_free(&name);
	buf_free(&tmp);
	buf_free(&new);
	return r;
}
