/*
 * queue.c - the queue's directories (docs/queue.md): finding and checking
 * them, the flush lock, storing a message durably (tmp/, fsync, link into
 * msg/, fsync of msg/), listing, reading, and the renames that change a
 * message's state. Everything goes through directory descriptors (openat),
 * so a queue directory renamed under us cannot redirect a write.
 */
#include "queue.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fdio.h"

int queue_default_dir(struct buf *out, struct cl_err *err)
{
	const char *state = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	struct passwd *pw;

	buf_reset(out);
	if (state && state[0] == '/')
		return buf_printf(out, "%s/clsmtpc/queue", state) < 0
		           ? err_set(err, CL_ECONFIG, "XDG_STATE_HOME is too long")
		           : 0;
	if (home == NULL || home[0] != '/') {
		pw = getpwuid(geteuid());
		home = pw ? pw->pw_dir : NULL;
	}
	if (home == NULL || home[0] != '/')
		return err_set(err, CL_ECONFIG,
		               "no home directory for the queue: set HOME or give --queue-dir DIR");
	if (buf_printf(out, "%s/.local/state/clsmtpc/queue", home) < 0)
		return err_set(err, CL_ECONFIG, "HOME is too long");
	return 0;
}

/* The queue holds whole messages and password commands that a flush runs:
 * only its owner may write into it. */
static int queue_check_dir(int fd, const char *what, struct cl_err *err)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return err_set(err, CL_EIO, "queue: %s: %s", what, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return err_set(err, CL_ECONFIG, "queue: %s is not a directory", what);
	if (st.st_uid != geteuid())
		return err_set(err, CL_ECONFIG,
		               "queue: %s belongs to uid %u, not to us (uid %u): refused, since "
		               "a flush runs the commands stored in it",
		               what, (unsigned)st.st_uid, (unsigned)geteuid());
	if (st.st_mode & 022)
		return err_set(err, CL_ECONFIG,
		               "queue: %s is writable by group or others: refused, since a flush "
		               "runs the commands stored in it (chmod 700 it)",
		               what);
	return 0;
}

/* mkdir -p with mode 0700 for what we create. */
static int queue_mkdirs(const char *path, struct cl_err *err)
{
	struct buf p = BUF_INIT(4096);
	size_t i;
	int r = 0;

	if (buf_set(&p, path) < 0)
		return err_set(err, CL_ECONFIG, "queue directory name too long");
	for (i = 1; i <= p.len && r == 0; i++) {
		if (p.data[i] != '/' && p.data[i] != '\0')
			continue;
		p.data[i] = '\0';
		if (mkdir(p.data, 0700) < 0 && errno != EEXIST)
			r = err_set(err, CL_EIO, "queue: cannot create %s: %s", p.data,
			            strerror(errno));
		if (i < p.len)
			p.data[i] = '/';
	}
	buf_free(&p);
	return r;
}

static int queue_open_sub(struct queue *q, const char *name, int create, struct cl_err *err)
{
	struct buf what = BUF_INIT(4200);
	int fd;

	buf_printf(&what, "%s/%s", q->path, name);
	if (create && mkdirat(q->dirfd, name, 0700) < 0 && errno != EEXIST) {
		err_set(err, CL_EIO, "queue: cannot create %s: %s", buf_cstr(&what),
		        strerror(errno));
		buf_free(&what);
		return -1;
	}
	fd = openat(q->dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		err_set(err, CL_EIO, "queue: cannot open %s: %s", buf_cstr(&what), strerror(errno));
	else if (queue_check_dir(fd, buf_cstr(&what), err) < 0) {
		close(fd);
		fd = -1;
	}
	buf_free(&what);
	return fd;
}

int queue_open(struct queue *q, const char *path, int create, struct cl_err *err)
{
	memset(q, 0, sizeof(*q));
	q->dirfd = q->msgfd = q->tmpfd = q->failedfd = q->lockfd = -1;
	q->path = strdup(path);
	if (q->path == NULL)
		return err_set(err, CL_ESOFTWARE, "out of memory");
	if (create && queue_mkdirs(path, err) < 0)
		goto bad;
	q->dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (q->dirfd < 0) {
		if (errno == ENOENT && !create) {
			queue_close(q);
			return 1;
		}
		err_set(err, CL_EIO, "queue: cannot open %s: %s", path, strerror(errno));
		goto bad;
	}
	if (queue_check_dir(q->dirfd, path, err) < 0)
		goto bad;
	/* A queue made by a store is complete; one made by hand may lack
	 * subdirectories: make them, we own the directory. */
	if ((q->tmpfd = queue_open_sub(q, "tmp", 1, err)) < 0 ||
	    (q->msgfd = queue_open_sub(q, "msg", 1, err)) < 0 ||
	    (q->failedfd = queue_open_sub(q, "failed", 1, err)) < 0)
		goto bad;
	return 0;
bad:
	queue_close(q);
	return -1;
}

void queue_close(struct queue *q)
{
	int *fdp[] = {&q->dirfd, &q->msgfd, &q->tmpfd, &q->failedfd, &q->lockfd};
	size_t i;

	for (i = 0; i < sizeof(fdp) / sizeof(fdp[0]); i++) {
		int fd = *fdp[i];
		if (fd >= 0)
			close(fd);
		*fdp[i] = -1;
	}
	free(q->path);
	q->path = NULL;
}

int queue_lock(struct queue *q, struct cl_err *err)
{
	if (q->lockfd >= 0)
		return 0;
	q->lockfd = openat(q->dirfd, "lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (q->lockfd < 0)
		return err_set(err, CL_EIO, "queue: cannot open %s/lock: %s", q->path,
		               strerror(errno));
	if (flock(q->lockfd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;
		close(q->lockfd);
		q->lockfd = -1;
		if (e == EWOULDBLOCK)
			return err_set(err, CL_ETEMP,
			               "another clsmtpc is flushing the queue %s; try again when "
			               "it has finished",
			               q->path);
		return err_set(err, CL_EIO, "queue: cannot lock %s/lock: %s", q->path, strerror(e));
	}
	return 0;
}

int queue_sync_dir(struct queue *q, int dirfd, struct cl_err *err)
{
	if (fsync(dirfd) < 0)
		return err_set(err, CL_EIO, "queue: fsync of a directory of %s: %s", q->path,
		               strerror(errno));
	return 0;
}

/* ---- storing -------------------------------------------------------------- */

/* Seconds (8 hex digits), microseconds (5) and 12 random bits (3): IDs
 * sort by creation time, and two stores collide only within one
 * microsecond and one chance in 4096 (and then O_EXCL draws again). */
static int queue_new_id(char id[QUEUE_ID_LEN + 1], const struct timespec *now)
{
	unsigned char r[2];

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		return -1;
	snprintf(id, QUEUE_ID_LEN + 1, "%08llx%05lx%03x",
	         (unsigned long long)now->tv_sec & 0xffffffffu,
	         (long)(now->tv_nsec / 1000) & 0xfffff, ((unsigned)r[0] << 4 | r[1] >> 4) & 0xfff);
	return 0;
}

int queue_store(struct queue *q, struct queue_header *h, struct smtp_body_source *body,
                const char *last_error, struct cl_err *err)
{
	struct buf out = BUF_INIT(QUEUE_HEADER_MAX), chunk = BUF_INIT(1024 * 1024),
	           msgid = BUF_INIT(1000), name = BUF_INIT(QUEUE_NAME_MAX);
	struct queue_name qn;
	size_t size_at = 0;
	long long total = 0;
	int fd = -1, tries, more, r = -1, linked = 0, created = 0;
	char field[21];
	struct timespec ts;
	time_t now;

	clock_gettime(CLOCK_REALTIME, &ts);
	now = ts.tv_sec;
	/* Create tmp/ID exclusively; an ID already in use is drawn again. */
	for (tries = 0; tries < 10; tries++) {
		if (queue_new_id(h->id, &ts) < 0) {
			err_set(err, CL_EIO, "queue: no random bytes: %s", strerror(errno));
			goto out;
		}
		fd = openat(q->tmpfd, h->id, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		            0600);
		if (fd >= 0 || errno != EEXIST)
			break;
	}
	created = fd >= 0;
	if (fd < 0) {
		err_set(err, CL_EIO, "queue: cannot create %s/tmp/%s: %s", q->path, h->id,
		        strerror(errno));
		goto out;
	}
	h->created = (long long)now;
	more = body->read(body->arg, &chunk, 1024 * 1024, err);
	if (more < 0)
		goto out;
	if (h->message_id == NULL && queue_file_find_message_id(chunk.data, chunk.len, &msgid) == 0)
		h->message_id = buf_cstr(&msgid);
	h->size = more ? -1 : (long long)chunk.len;
	if (queue_file_header_format(h, &out, &size_at, err) < 0)
		goto out;
	/* The header, then the message chunk by chunk. */
	for (;;) {
		total += (long long)chunk.len;
		if (fd_write_all(fd, out.data, out.len) < 0 ||
		    fd_write_all(fd, chunk.data, chunk.len) < 0) {
			err_set(err, CL_EIO, "queue: cannot write %s/tmp/%s: %s", q->path, h->id,
			        strerror(errno));
			goto out;
		}
		buf_reset(&out);
		buf_reset(&chunk);
		if (!more)
			break;
		more = body->read(body->arg, &chunk, 1024 * 1024, err);
		if (more < 0)
			goto out;
	}
	if (h->size < 0) {
		h->size = total;
		queue_file_size_field(total, field);
		if (pwrite(fd, field, 20, (off_t)size_at) != 20) {
			err_set(err, CL_EIO, "queue: cannot write %s/tmp/%s: %s", q->path, h->id,
			        strerror(errno));
			goto out;
		}
	}
	if (fsync(fd) < 0 || close(fd) < 0) {
		fd = -1;
		err_set(err, CL_EIO, "queue: cannot write %s/tmp/%s: %s", q->path, h->id,
		        strerror(errno));
		goto out;
	}
	fd = -1;
	memcpy(qn.id, h->id, sizeof(qn.id));
	qn.sending = 0;
	qn.uncertain = 0;
	qn.attempts = 1;
	qn.next = (long long)now + queue_file_backoff(1);
	queue_file_name_format(&qn, &name);
	/* link(2), not rename(2): it never replaces an existing name. */
	if (linkat(q->tmpfd, h->id, q->msgfd, buf_cstr(&name), 0) < 0) {
		err_set(err, CL_EIO, "queue: cannot link %s into %s/msg: %s", h->id, q->path,
		        strerror(errno));
		goto out;
	}
	linked = 1;
	if (queue_sync_dir(q, q->msgfd, err) < 0)
		goto out;
	if (last_error)
		queue_write_error(q, q->msgfd, h->id, last_error);
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	if (created)
		unlinkat(q->tmpfd, h->id, 0);
	if (r < 0 && linked)
		unlinkat(q->msgfd, buf_cstr(&name), 0);
	if (h->message_id == buf_cstr(&msgid))
		h->message_id = NULL;
	buf_free(&out);
	buf_free(&chunk);
	buf_free(&msgid);
	buf_free(&name);
	return r;
}

/* ---- listing and reading -------------------------------------------------------- */

static int queue_item_cmp(const void *a, const void *b)
{
	const struct queue_item *x = a, *y = b;
	int c = strcmp(x->qn.id, y->qn.id);

	return c ? c : x->failed - y->failed;
}

/* Append the message names of one directory to *items. */
static int queue_scan_dir(struct queue *q, int dirfd, int failed, struct queue_item **items,
                          size_t *n, size_t *cap, struct cl_err *err)
{
	DIR *d;
	struct dirent *de;
	struct queue_item it;
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 || (d = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		return err_set(err, CL_EIO, "queue: cannot read %s: %s", q->path, strerror(errno));
	}
	while ((de = readdir(d)) != NULL) {
		memset(&it, 0, sizeof(it));
		if (failed) {
			if (!queue_file_id_valid(de->d_name) || de->d_name[QUEUE_ID_LEN] != '\0')
				continue;
			memcpy(it.qn.id, de->d_name, QUEUE_ID_LEN + 1);
			it.failed = 1;
		} else if (queue_file_name_parse(de->d_name, &it.qn) < 0) {
			continue;
		}
		if (strlen(de->d_name) >= sizeof(it.name))
			continue;
		memcpy(it.name, de->d_name, strlen(de->d_name) + 1);
		if (*n == *cap) {
			size_t nc = *cap ? *cap * 2 : 64;
			struct queue_item *ni = realloc(*items, nc * sizeof(*ni));
			if (ni == NULL) {
				closedir(d);
				return err_set(err, CL_ESOFTWARE, "out of memory");
			}
			*items = ni;
			*cap = nc;
		}
		(*items)[(*n)++] = it;
	}
	closedir(d);
	return 0;
}

int queue_scan(struct queue *q, int with_failed, struct queue_item **items, size_t *n,
               struct cl_err *err)
{
	size_t cap = 0;

	*items = NULL;
	*n = 0;
	if (queue_scan_dir(q, q->msgfd, 0, items, n, &cap, err) < 0 ||
	    (with_failed && queue_scan_dir(q, q->failedfd, 1, items, n, &cap, err) < 0)) {
		free(*items);
		*items = NULL;
		*n = 0;
		return -1;
	}
	if (*n)
		qsort(*items, *n, sizeof(**items), queue_item_cmp);
	return 0;
}

int queue_read(struct queue *q, int dirfd, const char *name, struct queue_header *h, int *fdp,
               struct cl_err *err)
{
	struct buf text = BUF_INIT(QUEUE_HEADER_MAX);
	char tmp[8192];
	struct stat st;
	ssize_t n;
	size_t used = 0;
	int fd, r;

	(void)q;
	*fdp = -1;
	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return err_set(err, errno == ENOENT ? CL_ETEMP : CL_EIO,
		               "queue: cannot open %s: %s", name, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
		close(fd);
		return err_set(err, CL_ECONFIG,
		               "queue: %s is not a regular file of ours: left alone", name);
	}
	for (;;) {
		n = read(fd, tmp, sizeof(tmp));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err_set(err, CL_EIO, "queue: cannot read %s: %s", name, strerror(errno));
			goto bad;
		}
		if (n == 0) {
			err_set(err, CL_EDATA, "queue: %s: the header has no end", name);
			goto bad;
		}
		if (buf_add(&text, tmp, (size_t)n) < 0) {
			err_set(err, CL_EDATA, "queue: %s: header longer than %d bytes", name,
			        QUEUE_HEADER_MAX);
			goto bad;
		}
		r = queue_file_header_parse(text.data, text.len, h, &used, err);
		if (r < 0) {
			err_prefix(err, "queue: %s", name);
			goto bad;
		}
		if (r == 0)
			break;
	}
	if ((long long)used + h->size != (long long)st.st_size) {
		err_set(err, CL_EDATA, "queue: %s: %lld bytes of message, the header says %lld",
		        name, (long long)st.st_size - (long long)used, h->size);
		queue_file_header_free(h);
		goto bad;
	}
	if (lseek(fd, (off_t)used, SEEK_SET) < 0) {
		err_set(err, CL_EIO, "queue: %s: %s", name, strerror(errno));
		queue_file_header_free(h);
		goto bad;
	}
	buf_free(&text);
	*fdp = fd;
	return 0;
bad:
	buf_free(&text);
	close(fd);
	return -1;
}

/* ---- changing state -------------------------------------------------------------- */

int queue_rename(struct queue *q, const struct queue_name *from, const struct queue_name *to,
                 int sync, struct cl_err *err)
{
	struct buf a = BUF_INIT(QUEUE_NAME_MAX), b = BUF_INIT(QUEUE_NAME_MAX);
	int r = 0;

	queue_file_name_format(from, &a);
	queue_file_name_format(to, &b);
	if (renameat(q->msgfd, buf_cstr(&a), q->msgfd, buf_cstr(&b)) < 0)
		r = err_set(err, errno == ENOENT ? CL_ETEMP : CL_EIO,
		            "queue: cannot rename msg/%s to %s: %s", buf_cstr(&a), buf_cstr(&b),
		            strerror(errno));
	else if (sync)
		r = queue_sync_dir(q, q->msgfd, err);
	buf_free(&a);
	buf_free(&b);
	return r;
}

static void queue_err_name(const char *id, char out[QUEUE_NAME_MAX])
{
	snprintf(out, QUEUE_NAME_MAX, "%s.err", id);
}

void queue_write_error(struct queue *q, int dirfd, const char *id, const char *text)
{
	char name[QUEUE_NAME_MAX], tmpname[QUEUE_NAME_MAX + 8];
	int fd;
	size_t n = strcspn(text, "\r\n");

	queue_err_name(id, name);
	snprintf(tmpname, sizeof(tmpname), "%s.e", id);
	fd = openat(q->tmpfd, tmpname, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	if (fd_write_all(fd, text, n) < 0 || fd_write_all(fd, "\n", 1) < 0) {
		close(fd);
		unlinkat(q->tmpfd, tmpname, 0);
		return;
	}
	close(fd);
	if (renameat(q->tmpfd, tmpname, dirfd, name) < 0)
		unlinkat(q->tmpfd, tmpname, 0);
}

void queue_read_error(struct queue *q, int dirfd, const char *id, struct buf *out)
{
	char name[QUEUE_NAME_MAX];
	int fd;

	(void)q;
	buf_reset(out);
	queue_err_name(id, name);
	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return;
	fd_first_line(fd, 1023, out);
	close(fd);
}

int queue_fail(struct queue *q, const struct queue_name *from, const char *reason,
               struct cl_err *err)
{
	struct buf a = BUF_INIT(QUEUE_NAME_MAX);
	char errname[QUEUE_NAME_MAX];
	int r = -1;

	queue_file_name_format(from, &a);
	/* The reason first: failed/ID.err without failed/ID is harmless. */
	queue_write_error(q, q->failedfd, from->id, reason);
	if (linkat(q->msgfd, buf_cstr(&a), q->failedfd, from->id, 0) < 0 && errno != EEXIST) {
		err_set(err, CL_EIO, "queue: cannot move msg/%s to failed/: %s", buf_cstr(&a),
		        strerror(errno));
		goto out;
	}
	if (queue_sync_dir(q, q->failedfd, err) < 0)
		goto out;
	if (unlinkat(q->msgfd, buf_cstr(&a), 0) < 0 && errno != ENOENT) {
		err_set(err, CL_EIO, "queue: cannot remove msg/%s: %s", buf_cstr(&a),
		        strerror(errno));
		goto out;
	}
	queue_err_name(from->id, errname);
	unlinkat(q->msgfd, errname, 0);
	r = queue_sync_dir(q, q->msgfd, err);
out:
	buf_free(&a);
	return r;
}

int queue_remove_sent(struct queue *q, const struct queue_name *n, struct cl_err *err)
{
	struct buf a = BUF_INIT(QUEUE_NAME_MAX);
	char errname[QUEUE_NAME_MAX];
	int r = 0;

	queue_file_name_format(n, &a);
	if (unlinkat(q->msgfd, buf_cstr(&a), 0) < 0)
		r = err_set(err, CL_EIO, "queue: cannot remove msg/%s after delivery: %s",
		            buf_cstr(&a), strerror(errno));
	queue_err_name(n->id, errname);
	unlinkat(q->msgfd, errname, 0);
	buf_free(&a);
	return r;
}

int queue_drop(struct queue *q, const char *id, struct cl_err *err)
{
	struct queue_item *items;
	size_t n, i;
	char errname[QUEUE_NAME_MAX];
	int found = 0, r = 0;

	if (!queue_file_id_valid(id) || id[QUEUE_ID_LEN] != '\0')
		return err_set(err, CL_EUSAGE,
		               "'%s' is not a queue ID (16 hex digits; see --list-queue)", id);
	if (queue_scan(q, 1, &items, &n, err) < 0)
		return -1;
	for (i = 0; i < n && r == 0; i++) {
		if (strcmp(items[i].qn.id, id) != 0)
			continue;
		found = 1;
		if (unlinkat(items[i].failed ? q->failedfd : q->msgfd, items[i].name, 0) < 0)
			r = err_set(err, CL_EIO, "queue: cannot remove %s: %s", items[i].name,
			            strerror(errno));
	}
	free(items);
	if (r < 0)
		return -1;
	if (!found)
		return err_set(err, CL_EUSAGE, "no message %s in the queue %s", id, q->path);
	queue_err_name(id, errname);
	unlinkat(q->msgfd, errname, 0);
	unlinkat(q->failedfd, errname, 0);
	if (queue_sync_dir(q, q->msgfd, err) < 0 || queue_sync_dir(q, q->failedfd, err) < 0)
		return -1;
	return 0;
}

/* ---- recovery at the start of a flush ---------------------------------------------- */

static int queue_exists(int dirfd, const char *name)
{
	struct stat st;

	return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* Remove tmp/ files nobody writes any more, and error files of messages
 * that are gone. */
static void queue_clean(struct queue *q, int dirfd, int is_tmp, time_t now)
{
	DIR *d;
	struct dirent *de;
	struct stat st;
	char id[QUEUE_ID_LEN + 1];
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct queue_item *items = NULL;
	size_t n = 0, i;
	struct cl_err e;

	if (fd < 0 || (d = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		return;
	}
	if (!is_tmp && queue_scan(q, 1, &items, &n, &e) < 0) {
		closedir(d);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (is_tmp) {
			if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			    st.st_mtime + QUEUE_TMP_STALE_S < now)
				unlinkat(dirfd, de->d_name, 0);
			continue;
		}
		if (!queue_file_id_valid(de->d_name) ||
		    strcmp(de->d_name + QUEUE_ID_LEN, ".err") != 0)
			continue;
		memcpy(id, de->d_name, QUEUE_ID_LEN);
		id[QUEUE_ID_LEN] = '\0';
		for (i = 0; i < n; i++)
			if (strcmp(items[i].qn.id, id) == 0 &&
			    items[i].failed == (dirfd == q->failedfd))
				break;
		if (i == n)
			unlinkat(dirfd, de->d_name, 0);
	}
	free(items);
	closedir(d);
}

int queue_recover(struct queue *q, time_t now, unsigned *resent, unsigned *held, struct cl_err *err)
{
	struct queue_item *items;
	struct queue_name to;
	size_t n, i;
	int r = 0;

	*resent = *held = 0;
	if (queue_scan(q, 0, &items, &n, err) < 0)
		return -1;
	for (i = 0; i < n && r == 0; i++) {
		struct queue_name *qn = &items[i].qn;
		if (queue_exists(q->failedfd, qn->id)) {
			/* A move to failed/ was cut off after its link. */
			if (unlinkat(q->msgfd, items[i].name, 0) < 0)
				r = err_set(err, CL_EIO, "queue: cannot remove msg/%s: %s",
				            items[i].name, strerror(errno));
			continue;
		}
		if (!qn->sending)
			continue;
		if (qn->uncertain) {
			r = queue_fail(q, qn,
			               "two attempts were interrupted while sending: it may have "
			               "been delivered (twice at most); not sent a third time",
			               err);
			(*held)++;
			continue;
		}
		to = *qn;
		to.sending = 0;
		to.uncertain = 1;
		to.next = (long long)now;
		r = queue_rename(q, qn, &to, 0, err);
		(*resent)++;
	}
	free(items);
	if (r == 0)
		r = queue_sync_dir(q, q->msgfd, err);
	queue_clean(q, q->tmpfd, 1, now);
	queue_clean(q, q->msgfd, 0, now);
	queue_clean(q, q->failedfd, 0, now);
	return r;
}

/* ---- reading a message for sending --------------------------------------------------- */

