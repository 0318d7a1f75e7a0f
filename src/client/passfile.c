/*
 * passfile.c - look up a password in the original clsmtpc's -p file
 * ("user:server:password" lines). The permissions are checked with fstat on
 * the descriptor we read (no check-then-open race); the file is read with
 * read(2) into one line buffer allocated once, wiped after each line and at
 * the end, so no copy of a password is left in freed memory or stdio buffers.
 */
#include "homepath.h"
#include "passfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* Longer than any sane "user:server:password" line; a longer line is an
 * error rather than a reason to grow (and realloc copies of secrets). */
#define PASSFILE_LINE_MAX 4096

struct passfile_ctx {
	const char *path; /* as shown in messages */
	const char *user;
	const char *server;
	struct buf *password;
	struct cl_err *err;
	size_t lineno;
};

/* One line: 1 when it gave the password, 0 when it did not match, -1 on an
 * error. */
static int passfile_line(struct passfile_ctx *c, char *line, size_t len)
{
	char *c1, *c2;

	if (len > 0 && line[len - 1] == '\r')
		line[--len] = '\0';
	if (memchr(line, '\0', len) != NULL)
		return err_set(c->err, CL_ECONFIG, "password file %s, line %zu: NUL byte", c->path,
		               c->lineno);
	if (len == 0 || line[0] == '#' || strspn(line, " \t") == len)
		return 0;
	c1 = strchr(line, ':');
	c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	if (c2 == NULL || c1 == line || c2 == c1 + 1)
		return err_set(c->err, CL_ECONFIG,
		               "password file %s, line %zu: expected user:server:password", c->path,
		               c->lineno);
	if ((size_t)(c1 - line) != strlen(c->user) ||
	    memcmp(line, c->user, (size_t)(c1 - line)) != 0)
		return 0;
	/* A host name: compared without regard to case. */
	if ((size_t)(c2 - c1 - 1) != strlen(c->server) ||
	    strncasecmp(c1 + 1, c->server, (size_t)(c2 - c1 - 1)) != 0)
		return 0;
	if (c2[1] == '\0')
		return err_set(c->err, CL_ECONFIG, "password file %s, line %zu: empty password",
		               c->path, c->lineno);
	/* Into a fresh allocation: growing the caller's buffer with realloc could
	 * leave a copy of an older secret behind. */
	buf_wipe(c->password);
	if (buf_adds(c->password, c2 + 1) < 0)
		return err_set(c->err, CL_ECONFIG, "password file %s, line %zu: password too long",
		               c->path, c->lineno);
	return 1;
}

/* Read fd line by line; 1 found, 0 not found, -1 error. */
static int passfile_scan(struct passfile_ctx *c, int fd, struct buf *line)
{
	char chunk[1024];
	int r = 0;

	for (;;) {
		char *p, *nl;
		size_t n;
		ssize_t got = read(fd, chunk, sizeof(chunk));

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			r = err_set(c->err, CL_ECONFIG, "password file %s: read error: %s", c->path,
			            strerror(errno));
			break;
		}
		if (got == 0) {
			c->lineno++;
			if (line->len > 0)
				r = passfile_line(c, line->data, line->len);
			break;
		}
		for (p = chunk, n = (size_t)got; n > 0 && r == 0;) {
			nl = memchr(p, '\n', n);
			size_t seg = nl ? (size_t)(nl - p) : n;
			if (buf_add(line, p, seg) < 0) {
				r = err_set(c->err, CL_ECONFIG,
				            "password file %s, line %zu: longer than %d bytes",
				            c->path, c->lineno + 1, PASSFILE_LINE_MAX);
				break;
			}
			p += seg;
			n -= seg;
			if (nl == NULL)
				break;
			p++;
			n--;
			c->lineno++;
			r = line->len > 0 ? passfile_line(c, line->data, line->len) : 0;
			explicit_bzero(line->data, line->len);
			buf_reset(line);
		}
		if (r != 0)
			break;
	}
	explicit_bzero(chunk, sizeof(chunk));
	return r;
}

int passfile_lookup(const char *path, const char *user, const char *server, struct buf *password,
                    struct cl_err *err)
{
	struct buf shown = BUF_INIT(4096), line = BUF_INIT(PASSFILE_LINE_MAX);
	struct passfile_ctx c;
	struct stat st;
	int fd, r = -1;

	buf_wipe(password);
	if (path == NULL || *path == '\0')
		return err_set(err, CL_ECONFIG, "no password file given");
	homepath_show(path, &shown);
	c.path = buf_cstr(&shown);
	c.user = user ? user : "";
	c.server = server ? server : "";
	c.password = password;
	c.err = err;
	c.lineno = 0;
	if (*c.user == '\0' || *c.server == '\0') {
		err_set(err, CL_ECONFIG,
		        "password file %s: needs a user name (-U) and a server (-M)", c.path);
		goto out;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		err_set(err, CL_ECONFIG, "password file %s: cannot open: %s", c.path,
		        strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) < 0) {
		err_set(err, CL_ECONFIG, "password file %s: %s", c.path, strerror(errno));
	} else if (!S_ISREG(st.st_mode)) {
		err_set(err, CL_ECONFIG, "password file %s: not a regular file", c.path);
	} else if (st.st_mode & 077) {
		err_set(err, CL_ECONFIG,
		        "password file %s is %s by group or others (mode %04o); run: chmod 600 %s",
		        c.path,
		        (st.st_mode & 044)   ? "readable"
		        : (st.st_mode & 022) ? "writable"
		                             : "accessible",
		        (unsigned)(st.st_mode & 07777), c.path);
	} else {
		/* One allocation of the full size up front: the line buffer never
		 * grows, so realloc never leaves a partial line in freed memory. */
		if (buf_printf(&line, "%*s", PASSFILE_LINE_MAX, "") < 0)
			err_set(err, CL_ESOFTWARE, "out of memory");
		else {
			buf_reset(&line);
			r = passfile_scan(&c, fd, &line);
			if (r == 0)
				err_set(err, CL_ECONFIG,
				        "password file %s: no line for user '%s' at server '%s'",
				        c.path, c.user, c.server);
			r = r == 1 ? 0 : -1;
		}
	}
	close(fd);
out:
	if (r < 0)
		buf_wipe(password);
	buf_wipe(&line);
	buf_free(&shown);
	return r;
}
