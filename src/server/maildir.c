/*
 * maildir.c - Maildir delivery (maildir.h), one batch of files at a time.
 * The unique name is "TIME.QID_PID_COUNT.HOST"; the order tmp -> fsync ->
 * rename -> fsync(new) is what lets the delivery agent record a recipient
 * as delivered; a batch keeps that order for each file and only shares
 * the flushes (docs/spool.md, "Delivery and removal").
 */
#include "maildir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/fdio.h"
#include "base/buf.h"

#define MAILDIR_PATH_MAX 4096

enum maildir_fstate {
	MAILDIR_WRITTEN, /* in tmp/, fd open, not yet fsynced */
	MAILDIR_SYNCED,  /* in tmp/, fsynced and closed */
	MAILDIR_RENAMED, /* in new/, waiting for the flush of new/ */
	MAILDIR_DONE,    /* durably in new/ */
	MAILDIR_FAILED,  /* err says why; nothing left in tmp/ */
};

struct maildir_file {
	enum maildir_fstate state;
	int fd;
	struct buf dir, tmp, new; /* the Maildir, its tmp/ and new/ paths */
	struct cl_err err;
};

struct maildir_batch {
	struct maildir_file f[MAILDIR_BATCH_FILES];
	size_t n;
	size_t bytes;
	char host[256];
};

static unsigned maildir_counter;

static int maildir_mkdir(const char *dir, const char *sub, struct cl_err *err)
{
	struct buf p = BUF_INIT(MAILDIR_PATH_MAX);
	int r = 0;

	if (buf_printf(&p, "%s%s%s", dir, *sub ? "/" : "", sub) < 0)
		r = err_set(err, CL_ETEMP, "maildir: path too long: %s", dir);
	else if (mkdir(p.data, 0700) < 0 && errno != EEXIST)
		r = err_set(err, CL_ETEMP, "maildir: mkdir %s: %s", p.data, strerror(errno));
	buf_free(&p);
	return r;
}

/* Copy in to out turning CRLF into LF (a CR before the chunk end waits);
 * adds the bytes written to *total. */
static int maildir_copy(int in, int out, size_t *total)
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
		if (fd_write_all(out, ob, o) < 0)
			return -1;
		*total += o;
	}
	if (cr) {
		if (fd_write_all(out, "\r", 1) < 0)
			return -1;
		*total += 1;
	}
	return 0;
}

int maildir_batch_new(struct maildir_batch **out, struct cl_err *err)
{
	struct maildir_batch *b = calloc(1, sizeof(*b));
	size_t i;

	*out = NULL;
	if (b == NULL) {
		err_set(err, CL_ESOFTWARE, "maildir: out of memory");
		return -1;
	}
	for (i = 0; i < MAILDIR_BATCH_FILES; i++) {
		b->f[i].fd = -1;
		buf_init(&b->f[i].dir, MAILDIR_PATH_MAX);
		buf_init(&b->f[i].tmp, MAILDIR_PATH_MAX);
		buf_init(&b->f[i].new, MAILDIR_PATH_MAX);
	}
	if (gethostname(b->host, sizeof(b->host) - 1) < 0)
		memcpy(b->host, "localhost", sizeof("localhost"));
	b->host[sizeof(b->host) - 1] = '\0';
	/* The spec asks to replace '/' and ':' in the host name. */
	for (i = 0; b->host[i]; i++)
		if (b->host[i] == '/' || b->host[i] == ':')
			b->host[i] = '_';
	*out = b;
	return 0;
}

void maildir_batch_free(struct maildir_batch *b)
{
	size_t i;

	if (b == NULL)
		return;
	maildir_batch_reset(b);
	for (i = 0; i < MAILDIR_BATCH_FILES; i++) {
		buf_free(&b->f[i].dir);
		buf_free(&b->f[i].tmp);
		buf_free(&b->f[i].new);
	}
	free(b);
}

/* f failed: close it and remove what it left in tmp/. */
static void maildir_file_fail(struct maildir_file *f)
{
	if (f->fd >= 0) {
		close(f->fd);
		f->fd = -1;
	}
	if (f->state == MAILDIR_WRITTEN || f->state == MAILDIR_SYNCED)
		unlink(f->tmp.data);
	f->state = MAILDIR_FAILED;
}

/* Start the writeback of f (written, not yet fsynced): by the first fsync
 * of the commit the data of every file of the batch is on its way, so that
 * fsync's journal commit covers them all (ext4) and the fsyncs after it
 * find little left to do; without a journal the writes at least overlap.
 * Each file's is started when the next one is added, the last one's at the
 * commit: a batch of one file (light load) makes no call more than before.
 * A hint only: its failure is the fsync's to report. */
static void maildir_writeback(const struct maildir_file *f)
{
	if (f->state == MAILDIR_WRITTEN)
		sync_file_range(f->fd, 0, 0, SYNC_FILE_RANGE_WRITE);
}

/* 1 if a file of the batch already went into dir (so it exists: the
 * system calls to create it are spared). */
static int maildir_batch_has(const struct maildir_batch *b, const char *dir)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		if (strcmp(b->f[i].dir.data, dir) == 0)
			return 1;
	return 0;
}

int maildir_batch_add(struct maildir_batch *b, const char *dir, int fd, const char *qid,
                      const char *return_path, struct cl_err *err)
{
	struct maildir_file *f;
	struct buf name = BUF_INIT(512);
	size_t written = 0;
	int out;

	if (b->n == MAILDIR_BATCH_FILES)
		return err_set(err, CL_ESOFTWARE, "maildir: batch full");
	f = &b->f[b->n];
	if (!maildir_batch_has(b, dir) &&
	    (maildir_mkdir(dir, "", err) < 0 || maildir_mkdir(dir, "tmp", err) < 0 ||
	     maildir_mkdir(dir, "new", err) < 0 || maildir_mkdir(dir, "cur", err) < 0))
		return -1;
	buf_reset(&f->dir);
	buf_reset(&f->tmp);
	buf_reset(&f->new);
	if (buf_printf(&name, "%lld.%s_%ld_%u.%s", (long long)time(NULL), qid, (long)getpid(),
	               maildir_counter++, b->host) < 0 ||
	    buf_adds(&f->dir, dir) < 0 || buf_printf(&f->tmp, "%s/tmp/%s", dir, name.data) < 0 ||
	    buf_printf(&f->new, "%s/new/%s", dir, name.data) < 0) {
		buf_free(&name);
		return err_set(err, CL_ETEMP, "maildir: path too long: %s", dir);
	}
	buf_free(&name);
	out = open(f->tmp.data, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
	if (out < 0)
		return err_set(err, CL_ETEMP, "maildir: create %s: %s", f->tmp.data,
		               strerror(errno));
	if (return_path != NULL) {
		/* The envelope sender never holds CR, LF or NUL (the command
		 * parser refused them), so it cannot add a line of its own. */
		struct buf rp = BUF_INIT(1024);
		int r = buf_printf(&rp, "Return-Path: <%s>\n", return_path) < 0 ||
		        fd_write_all(out, rp.data, rp.len) < 0;
		written += rp.len;
		buf_free(&rp);
		if (r) {
			err_set(err, CL_ETEMP, "maildir: write %s: %s", f->tmp.data,
			        strerror(errno));
			close(out);
			unlink(f->tmp.data);
			return -1;
		}
	}
	if (maildir_copy(fd, out, &written) < 0) {
		err_set(err, CL_ETEMP, "maildir: write %s: %s", f->tmp.data, strerror(errno));
		close(out);
		unlink(f->tmp.data);
		return -1;
	}
	/* A second file: the batch is a batch, start the first one's writeback. */
	if (b->n > 0)
		maildir_writeback(&b->f[b->n - 1]);
	f->fd = out;
	f->state = MAILDIR_WRITTEN;
	err_clear(&f->err);
	b->bytes += written;
	return (int)b->n++;
}

int maildir_batch_full(const struct maildir_batch *b)
{
	return b->n >= MAILDIR_BATCH_FILES || b->bytes >= MAILDIR_BATCH_BYTES;
}

/* fsync new/ of the Maildir of file i, then settle every renamed file of
 * that Maildir: one flush for all of them. */
static void maildir_flush_dir(struct maildir_batch *b, size_t i)
{
	struct buf p = BUF_INIT(MAILDIR_PATH_MAX);
	struct cl_err derr;
	int dfd = -1, ok;
	size_t k;

	err_clear(&derr);
	ok = buf_printf(&p, "%s/new", b->f[i].dir.data) == 0 &&
	     (dfd = open(p.data, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0 && fsync(dfd) == 0;
	if (!ok)
		err_set(&derr, CL_ETEMP, "maildir: fsync %s: %s", buf_cstr(&p), strerror(errno));
	if (dfd >= 0)
		close(dfd);
	buf_free(&p);
	for (k = i; k < b->n; k++) {
		struct maildir_file *f = &b->f[k];
		if (f->state != MAILDIR_RENAMED || strcmp(f->dir.data, b->f[i].dir.data) != 0)
			continue;
		if (ok) {
			f->state = MAILDIR_DONE;
		} else {
			/* It may still be in new/ after a crash: a duplicate then,
			 * as when the agent dies before recording the delivery. */
			f->err = derr;
			f->state = MAILDIR_FAILED;
		}
	}
}

void maildir_batch_commit(struct maildir_batch *b)
{
	size_t i;

	if (b->n > 1)
		maildir_writeback(&b->f[b->n - 1]);
	/* Every file's data first: the first fsync waits for the journal
	 * commit, the ones after it mostly find their inode committed. */
	for (i = 0; i < b->n; i++) {
		struct maildir_file *f = &b->f[i];
		if (f->state != MAILDIR_WRITTEN)
			continue;
		if (fsync(f->fd) < 0) {
			err_set(&f->err, CL_ETEMP, "maildir: write %s: %s", f->tmp.data,
			        strerror(errno));
			maildir_file_fail(f);
			continue;
		}
		close(f->fd);
		f->fd = -1;
		f->state = MAILDIR_SYNCED;
	}
	/* Only a durable file may appear in new/ (a reader takes what is there). */
	for (i = 0; i < b->n; i++) {
		struct maildir_file *f = &b->f[i];
		if (f->state != MAILDIR_SYNCED)
			continue;
		if (rename(f->tmp.data, f->new.data) < 0) {
			err_set(&f->err, CL_ETEMP, "maildir: rename into %s/new: %s", f->dir.data,
			        strerror(errno));
			maildir_file_fail(f);
			continue;
		}
		f->state = MAILDIR_RENAMED;
	}
	/* Each distinct new/ once: the first file still RENAMED names one. */
	for (i = 0; i < b->n; i++)
		if (b->f[i].state == MAILDIR_RENAMED)
			maildir_flush_dir(b, i);
}

int maildir_batch_result(const struct maildir_batch *b, size_t i, struct cl_err *err)
{
	if (i >= b->n)
		return err_set(err, CL_ESOFTWARE, "maildir: no file %zu in the batch", i);
	if (b->f[i].state == MAILDIR_DONE)
		return 0;
	if (b->f[i].state == MAILDIR_FAILED) {
		*err = b->f[i].err;
		return -1;
	}
	return err_set(err, CL_ESOFTWARE, "maildir: %s not committed", b->f[i].tmp.data);
}

void maildir_batch_reset(struct maildir_batch *b)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		if (b->f[i].state == MAILDIR_WRITTEN || b->f[i].state == MAILDIR_SYNCED)
			maildir_file_fail(&b->f[i]);
	b->n = 0;
	b->bytes = 0;
}

int maildir_deliver(const char *dir, int fd, const char *qid, struct cl_err *err)
{
	struct maildir_batch *b = NULL;
	int i, r;

	if (maildir_batch_new(&b, err) < 0 || b == NULL)
		return -1;
	i = maildir_batch_add(b, dir, fd, qid, NULL, err);
	if (i < 0) {
		maildir_batch_free(b);
		return -1;
	}
	maildir_batch_commit(b);
	r = maildir_batch_result(b, (size_t)i, err);
	maildir_batch_free(b);
	return r;
}
