/*
 * spool.c - the durable spool of clsmtpd (docs/spool.md is the contract):
 * tmp/ -> fsync -> rename to msg/ -> fsync(msg/) before any 250, and an
 * append-only, fsynced journal per message in state/. Works on directory
 * descriptors (openat/renameat) so a message never changes directory by name.
 */
#include "serve/spool.h"
#include "serve/spool_env.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "base/fdio.h"

struct spool {
	char *dir;
	int tmpfd, msgfd, statefd;
	unsigned counter;
	int state_dirty; /* a journal was removed since the last spool_sync */
};

struct spool_writer {
	struct spool *sp;
	int fd;
	char qid[SPOOL_QID_LEN + 1];
	off_t size;
};

static int spool_opendir(const char *dir, const char *sub, struct cl_err *err)
{
	struct buf p = BUF_INIT(4096);
	int fd;

	if (buf_printf(&p, "%s/%s", dir, sub) < 0) {
		buf_free(&p);
		return err_set(err, CL_ECONFIG, "spool path too long");
	}
	if (mkdir(p.data, 0700) < 0 && errno != EEXIST) {
		err_set(err, CL_EIO, "spool: mkdir %s: %s", p.data, strerror(errno));
		buf_free(&p);
		return -1;
	}
	fd = open(p.data, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		err_set(err, CL_EIO, "spool: open %s: %s", p.data, strerror(errno));
	buf_free(&p);
	return fd;
}

int spool_qid_valid(const char *qid)
{
	size_t i;

	for (i = 0; qid[i] != '\0'; i++)
		if (!((qid[i] >= '0' && qid[i] <= '9') || (qid[i] >= 'A' && qid[i] <= 'F')))
			return 0;
	return i == SPOOL_QID_LEN;
}

/* Remove every valid-named entry of dirfd for which keep() says 0. */
static void spool_sweep(int dirfd, int (*keep)(struct spool *, const char *), struct spool *sp)
{
	DIR *d;
	struct dirent *de;
	int fd = dup(dirfd);

	if (fd < 0 || (d = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		return;
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL)
		if (spool_qid_valid(de->d_name) && (keep == NULL || !keep(sp, de->d_name)))
			unlinkat(dirfd, de->d_name, 0);
	closedir(d);
	fsync(dirfd);
}

static int spool_has_msg(struct spool *sp, const char *qid)
{
	struct stat st;

	return fstatat(sp->msgfd, qid, &st, 0) == 0;
}

int spool_open(struct spool **out, const char *dir, struct cl_err *err)
{
	struct spool *sp = calloc(1, sizeof(*sp));

	if (sp == NULL)
		return err_set(err, CL_ESOFTWARE, "out of memory");
	sp->tmpfd = sp->msgfd = sp->statefd = -1;
	if ((sp->dir = strdup(dir)) == NULL) {
		free(sp);
		return err_set(err, CL_ESOFTWARE, "out of memory");
	}
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		err_set(err, CL_EIO, "spool: mkdir %s: %s", dir, strerror(errno));
		spool_close(sp);
		return -1;
	}
	if ((sp->tmpfd = spool_opendir(dir, "tmp", err)) < 0 ||
	    (sp->msgfd = spool_opendir(dir, "msg", err)) < 0 ||
	    (sp->statefd = spool_opendir(dir, "state", err)) < 0) {
		spool_close(sp);
		return -1;
	}
	/* Recovery (docs/spool.md): tmp/ never got a 250; a journal without
	 * its message belongs to a finished message. */
	spool_sweep(sp->tmpfd, NULL, sp);
	spool_sweep(sp->statefd, spool_has_msg, sp);
	*out = sp;
	return 0;
}

int spool_attach(struct spool **out, const char *dir, struct cl_err *err)
{
	struct spool *sp = calloc(1, sizeof(*sp));
	const char *sub[3] = {"tmp", "msg", "state"};
	int *fd[3], i;

	if (sp == NULL || (sp->dir = strdup(dir)) == NULL) {
		free(sp);
		return err_set(err, CL_ESOFTWARE, "out of memory");
	}
	fd[0] = &sp->tmpfd;
	fd[1] = &sp->msgfd;
	fd[2] = &sp->statefd;
	for (i = 0; i < 3; i++)
		*fd[i] = -1;
	for (i = 0; i < 3; i++) {
		struct buf p = BUF_INIT(4096);
		buf_printf(&p, "%s/%s", dir, sub[i]);
		*fd[i] = open(buf_cstr(&p), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (*fd[i] < 0) {
			err_set(err, CL_EIO, "spool: open %s: %s", buf_cstr(&p), strerror(errno));
			buf_free(&p);
			spool_close(sp);
			return -1;
		}
		buf_free(&p);
	}
	*out = sp;
	return 0;
}

void spool_close(struct spool *sp)
{
	if (sp == NULL)
		return;
	if (sp->tmpfd >= 0)
		close(sp->tmpfd);
	if (sp->msgfd >= 0)
		close(sp->msgfd);
	if (sp->statefd >= 0)
		close(sp->statefd);
	free(sp->dir);
	free(sp);
}

const char *spool_dir(const struct spool *sp)
{
	return sp->dir;
}

static void spool_new_qid(struct spool *sp, char *qid)
{
	struct timeval tv;
	struct buf b = BUF_INIT(64);

	gettimeofday(&tv, NULL);
	buf_printf(&b, "%08llX%05lX%05X%02X", (unsigned long long)tv.tv_sec & 0xffffffffULL,
	           (unsigned long)tv.tv_usec & 0xfffffUL, (unsigned)getpid() & 0xfffffU,
	           sp->counter++ & 0xffU);
	memcpy(qid, b.data, SPOOL_QID_LEN);
	qid[SPOOL_QID_LEN] = '\0';
	buf_free(&b);
}

int spool_writer_begin(struct spool *sp, struct spool_envelope *env, struct spool_writer **out,
                       struct cl_err *err)
{
	struct spool_writer *w;
	struct buf b = BUF_INIT((size_t)SPOOL_RCPT_MAX * (3 * SPOOL_LINE_MAX));
	int tries;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return err_set(err, CL_ESOFTWARE, "out of memory");
	w->sp = sp;
	for (tries = 0; tries < 10; tries++) {
		spool_new_qid(sp, w->qid);
		w->fd = openat(sp->tmpfd, w->qid, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
		if (w->fd >= 0 || errno != EEXIST)
			break;
	}
	if (w->fd < 0) {
		err_set(err, CL_EIO, "spool: create tmp file: %s", strerror(errno));
		free(w);
		return -1;
	}
	memcpy(env->qid, w->qid, sizeof(env->qid));
	if (env->arrival == 0)
		env->arrival = time(NULL);
	if (spool_env_format(env, &b) < 0 || fd_write_all(w->fd, b.data, b.len) < 0) {
		err_set(err, CL_EIO, "spool: write envelope: %s", strerror(errno));
		buf_free(&b);
		spool_writer_abort(w);
		return -1;
	}
	buf_free(&b);
	*out = w;
	return 0;
}

int spool_writer_write(struct spool_writer *w, const void *p, size_t n, struct cl_err *err)
{
	if (fd_write_all(w->fd, p, n) < 0)
		return err_set(err, CL_EIO, "spool: write %s: %s", w->qid, strerror(errno));
	w->size += (off_t)n;
	return 0;
}

off_t spool_writer_size(const struct spool_writer *w)
{
	return w->size;
}

int spool_writer_commit(struct spool_writer *w, struct cl_err *err)
{
	int r;

	spool_commit_batch(&w, 1, &r, err);
	return r;
}

const char *spool_writer_qid(const struct spool_writer *w)
{
	return w->qid;
}

/* Steps 3-5 of docs/spool.md for n messages at once: every file flushed,
 * every file renamed, then msg/ flushed once. Writeback of all the files is
 * started before the first fsync waits, so on a journalling file system the
 * first flush's commit carries the others and theirs cost little. */
void spool_commit_batch(struct spool_writer **w, size_t n, int *result, struct cl_err *errs)
{
	struct spool *sp;
	size_t i, renamed = 0;

	if (n == 0)
		return;
	sp = w[0]->sp;
	if (n > 1)
		for (i = 0; i < n; i++)
			sync_file_range(w[i]->fd, 0, 0, SYNC_FILE_RANGE_WRITE);
	for (i = 0; i < n; i++) {
		result[i] = -1;
		if (fsync(w[i]->fd) < 0) {
			err_set(&errs[i], CL_EIO, "spool: fsync %s: %s", w[i]->qid,
			        strerror(errno));
			spool_writer_abort(w[i]);
			w[i] = NULL;
			continue;
		}
		close(w[i]->fd);
		w[i]->fd = -1;
		if (renameat(sp->tmpfd, w[i]->qid, sp->msgfd, w[i]->qid) < 0) {
			err_set(&errs[i], CL_EIO, "spool: rename %s: %s", w[i]->qid,
			        strerror(errno));
			spool_writer_abort(w[i]);
			w[i] = NULL;
			continue;
		}
		result[i] = 0;
		renamed++;
	}
	/* The step everyone else leaves out: the renames are durable only
	 * once the directory is. */
	if (renamed > 0 && fsync(sp->msgfd) < 0) {
		int e = errno;
		for (i = 0; i < n; i++) {
			if (w[i] == NULL)
				continue;
			err_set(&errs[i], CL_EIO, "spool: fsync msg/: %s", strerror(e));
			unlinkat(sp->msgfd, w[i]->qid, 0);
			result[i] = -1;
		}
	}
	for (i = 0; i < n; i++) {
		free(w[i]);
		w[i] = NULL;
	}
}

void spool_writer_abort(struct spool_writer *w)
{
	if (w == NULL)
		return;
	if (w->fd >= 0)
		close(w->fd);
	unlinkat(w->sp->tmpfd, w->qid, 0);
	free(w);
}

int spool_scan(struct spool *sp, int (*cb)(void *arg, const char *qid), void *arg,
               struct cl_err *err)
{
	DIR *d;
	struct dirent *de;
	/* A new open file description, not dup(): the agents inherit msgfd
	 * from clsmtpd, and a shared directory offset would make two agents
	 * scanning at once skip each other's entries. */
	int fd = openat(sp->msgfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), r = 0;

	if (fd < 0 || (d = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		return err_set(err, CL_EIO, "spool: read msg/: %s", strerror(errno));
	}
	rewinddir(d);
	while (r == 0 && (de = readdir(d)) != NULL)
		if (spool_qid_valid(de->d_name))
			r = cb(arg, de->d_name);
	closedir(d);
	return r;
}

/* Read fd from its current position into a reader of the given mode until
 * the envelope's "data" line (returns 0, *consumed set) or EOF (a journal:
 * 0; an envelope cut short: -1). -1 too on damaged text. */
static int spool_read_lines(int fd, enum spool_read_mode mode, off_t *consumed,
                            struct spool_envelope *e)
{
	char chunk[4096];
	struct spool_reader rd;
	int r;

	spool_reader_init(&rd, mode);
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = mode == SPOOL_READ_ENVELOPE ? -1 : 0;
			break;
		}
		r = spool_reader_feed(&rd, e, chunk, (size_t)n);
		if (r != 0) {
			*consumed = rd.consumed;
			r = r > 0 ? 0 : -1;
			break;
		}
	}
	spool_reader_free(&rd);
	return r;
}

int spool_load(struct spool *sp, const char *qid, struct spool_envelope *env, struct cl_err *err)
{
	int fd;

	spool_env_init(env);
	if (!spool_qid_valid(qid))
		return err_set(err, CL_EDATA, "spool: bad queue id");
	memcpy(env->qid, qid, SPOOL_QID_LEN + 1);
	fd = openat(sp->msgfd, qid, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(err, CL_EIO, "spool: open msg/%s: %s", qid, strerror(errno));
	if (spool_read_lines(fd, SPOOL_READ_ENVELOPE, &env->data_offset, env) < 0 ||
	    env->from == NULL) {
		close(fd);
		spool_env_free(env);
		return err_set(err, CL_EDATA, "spool: msg/%s: damaged envelope", qid);
	}
	close(fd);
	fd = openat(sp->statefd, qid, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		off_t dummy;
		/* A damaged record stops the replay: the recipients stay pending
		 * (at least once, never lost). */
		spool_read_lines(fd, SPOOL_READ_JOURNAL, &dummy, env);
		close(fd);
	} else if (errno != ENOENT) {
		spool_env_free(env);
		return err_set(err, CL_EIO, "spool: open state/%s: %s", qid, strerror(errno));
	}
	return 0;
}

int spool_data_fd(struct spool *sp, const struct spool_envelope *env, struct cl_err *err)
{
	int fd = openat(sp->msgfd, env->qid, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return err_set(err, CL_EIO, "spool: open msg/%s: %s", env->qid, strerror(errno));
	if (lseek(fd, env->data_offset, SEEK_SET) != env->data_offset) {
		close(fd);
		return err_set(err, CL_EIO, "spool: seek msg/%s: %s", env->qid, strerror(errno));
	}
	return fd;
}

int spool_record(struct spool *sp, struct spool_envelope *env, size_t n, char kind, time_t next_try,
                 const struct outcome *o, struct cl_err *err)
{
	struct buf b = BUF_INIT(SPOOL_LINE_MAX);
	int fd, created;
	struct stat st;

	if (n >= env->nrcpt || strchr("DFTB", kind) == NULL || kind == '\0')
		return err_set(err, CL_ESOFTWARE, "spool: bad record");
	if (spool_journal_format(&b, kind, n, time(NULL), next_try, o) < 0) {
		buf_free(&b);
		return err_set(err, CL_ESOFTWARE, "spool: record too long");
	}
	created = fstatat(sp->statefd, env->qid, &st, 0) < 0;
	fd = openat(sp->statefd, env->qid, O_CREAT | O_WRONLY | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0 || fd_write_all(fd, b.data, b.len) < 0 || fsync(fd) < 0 ||
	    (created && fsync(sp->statefd) < 0)) {
		err_set(err, CL_EIO, "spool: journal %s: %s", env->qid, strerror(errno));
		if (fd >= 0)
			close(fd);
		buf_free(&b);
		return -1;
	}
	close(fd);
	/* Apply to the in-memory copy as spool_load would. */
	b.data[b.len - 1] = '\0';
	spool_journal_apply(env, b.data);
	buf_free(&b);
	return 0;
}

int spool_all_final(const struct spool_envelope *env)
{
	size_t i;

	for (i = 0; i < env->nrcpt; i++)
		if (env->rcpt[i].state == SPOOL_PENDING || env->rcpt[i].state == SPOOL_DEFERRED)
			return 0;
	return 1;
}

/* Unlink msg/QID, flushing msg/ if sync (before the journal goes: else a
 * crash could leave the message without its outcomes), then state/QID;
 * *journal says whether state/ changed. */
static int spool_unlink_msg(struct spool *sp, const struct spool_envelope *env, int sync,
                            int *journal, struct cl_err *err)
{
	*journal = 0;
	if (!spool_all_final(env))
		return err_set(err, CL_ESOFTWARE, "spool: %s still has pending recipients",
		               env->qid);
	if (unlinkat(sp->msgfd, env->qid, 0) < 0 && errno != ENOENT)
		return err_set(err, CL_EIO, "spool: unlink msg/%s: %s", env->qid, strerror(errno));
	if (sync)
		fsync(sp->msgfd);
	if (unlinkat(sp->statefd, env->qid, 0) < 0) {
		if (errno != ENOENT)
			return err_set(err, CL_EIO, "spool: unlink state/%s: %s", env->qid,
			               strerror(errno));
		return 0; /* no journal: state/ did not change, nothing to flush */
	}
	*journal = 1;
	return 0;
}

int spool_finish(struct spool *sp, const struct spool_envelope *env, struct cl_err *err)
{
	int journal;

	if (spool_unlink_msg(sp, env, 1, &journal, err) < 0)
		return -1;
	if (journal)
		fsync(sp->statefd);
	return 0;
}

int spool_finish_lazy(struct spool *sp, const struct spool_envelope *env, struct cl_err *err)
{
	int journal, r = spool_unlink_msg(sp, env, 0, &journal, err);

	if (journal)
		sp->state_dirty = 1;
	return r;
}

int spool_sync(struct spool *sp, struct cl_err *err)
{
	if (fsync(sp->msgfd) < 0)
		return err_set(err, CL_EIO, "spool: fsync msg/: %s", strerror(errno));
	/* state/ only when a journal went: a flush with nothing to write
	 * still costs the disk a cache flush. */
	if (sp->state_dirty && fsync(sp->statefd) < 0)
		return err_set(err, CL_EIO, "spool: fsync state/: %s", strerror(errno));
	sp->state_dirty = 0;
	return 0;
}
