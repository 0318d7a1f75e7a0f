/*
 * users.c - reading, changing and atomically rewriting the users file
 * (users.h). Salts come from OpenSSL's RAND_bytes; the SCRAM keys are
 * derived by sasl_server_scram_keys so the server and the tool agree.
 */
#include "users.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/b64.h"
#include "base/buf.h"

int users_name_ok(const char *name)
{
	const unsigned char *p = (const unsigned char *)name;

	if (*p == '\0' || strlen(name) > USERS_NAME_MAX)
		return 0;
	for (; *p; p++)
		if (*p <= ' ' || *p == 0x7f || *p == '#')
			return 0;
	return 1;
}

static int users_copy(char *dst, size_t max, const char *src, size_t n)
{
	if (n >= max)
		return -1;
	memcpy(dst, src, n);
	dst[n] = '\0';
	return 0;
}

/* "ITER,SALT,ST1,SK1,ST256,SK256" */
static int users_parse_scram(const char *v, struct sasl_server_cred *c)
{
	const char *f[6];
	size_t len[6], i;
	const char *p = v;
	char *end;

	for (i = 0; i < 6; i++) {
		f[i] = p;
		len[i] = strcspn(p, ",");
		p += len[i];
		if (i < 5) {
			if (*p != ',')
				return -1;
			p++;
		}
	}
	if (*p != '\0')
		return -1;
	c->iter = (unsigned)strtoul(f[0], &end, 10);
	if (end != f[0] + len[0] || c->iter < 1 || c->iter > 10000000)
		return -1;
	if (users_copy(c->salt, sizeof(c->salt), f[1], len[1]) < 0 ||
	    users_copy(c->stored1, sizeof(c->stored1), f[2], len[2]) < 0 ||
	    users_copy(c->server1, sizeof(c->server1), f[3], len[3]) < 0 ||
	    users_copy(c->stored256, sizeof(c->stored256), f[4], len[4]) < 0 ||
	    users_copy(c->server256, sizeof(c->server256), f[5], len[5]) < 0)
		return -1;
	return 0;
}

static int users_parse_line(struct users *u, char *line)
{
	char *save, *tok, *name;
	struct users_entry e;
	void *p;

	memset(&e, 0, sizeof(e));
	name = strtok_r(line, " \t", &save);
	if (name == NULL)
		return 0;
	if (!users_name_ok(name) || users_find(u, name) != NULL)
		return -1;
	while ((tok = strtok_r(NULL, " \t", &save)) != NULL) {
		if (strncmp(tok, "scram=", 6) == 0) {
			if (users_parse_scram(tok + 6, &e.cred) < 0)
				goto bad;
		} else if (strncmp(tok, "plain=", 6) == 0 && e.cred.plain == NULL) {
			struct buf b = BUF_INIT(1024);
			buf_set_secret(&b);
			if (b64_decode(tok + 6, strlen(tok + 6), &b) < 0 || b.len == 0 ||
			    strlen(buf_cstr(&b)) != b.len) {
				buf_wipe(&b);
				goto bad;
			}
			e.cred.plain = buf_release(&b);
		} else {
			goto bad;
		}
	}
	if (e.cred.iter == 0 && e.cred.plain == NULL)
		goto bad;
	if ((e.name = strdup(name)) == NULL || (p = realloc(u->e, (u->n + 1) * sizeof(e))) == NULL)
		goto bad;
	u->e = p;
	u->e[u->n++] = e;
	return 0;
bad:
	free(e.name);
	sasl_server_cred_wipe(&e.cred);
	return -1;
}

int users_load(struct users *u, const char *file, int missing_ok, struct cl_err *err)
{
	FILE *f = fopen(file, "r");
	char line[2048];
	int n = 0;

	u->e = NULL;
	u->n = 0;
	if (f == NULL) {
		if (errno == ENOENT && missing_ok)
			return 0;
		return err_set(err, CL_ECONFIG, "%s: %s", file, strerror(errno));
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		n++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			err_set(err, CL_ECONFIG, "%s:%d: line too long", file, n);
			goto bad;
		}
		if (line[0] == '#')
			continue;
		line[strcspn(line, "\r\n")] = '\0';
		if (users_parse_line(u, line) < 0) {
			err_set(err, CL_ECONFIG, "%s:%d: malformed entry (or a duplicate name)",
			        file, n);
			goto bad;
		}
	}
	explicit_bzero(line, sizeof(line));
	fclose(f);
	return 0;
bad:
	explicit_bzero(line, sizeof(line));
	fclose(f);
	users_free(u);
	return -1;
}

void users_free(struct users *u)
{
	size_t i;

	for (i = 0; i < u->n; i++) {
		free(u->e[i].name);
		sasl_server_cred_wipe(&u->e[i].cred);
	}
	free(u->e);
	u->e = NULL;
	u->n = 0;
}

struct users_entry *users_find(struct users *u, const char *name)
{
	size_t i;

	for (i = 0; i < u->n; i++)
		if (strcmp(u->e[i].name, name) == 0)
			return &u->e[i];
	return NULL;
}

int users_lookup(void *arg, const char *name, struct sasl_server_cred *cred)
{
	struct users_entry *e = users_find(arg, name);

	if (e == NULL)
		return -1;
	*cred = e->cred;
	cred->plain = NULL;
	if (e->cred.plain != NULL && (cred->plain = strdup(e->cred.plain)) == NULL)
		return -1;
	return 0;
}

int users_set(struct users *u, const char *name, const char *password, int keep_plain,
              struct cl_err *err)
{
	unsigned char salt[SASL_SCRAM_SALT_LEN];
	struct buf s = BUF_INIT(64), st = BUF_INIT(64), sk = BUF_INIT(64);
	struct buf st2 = BUF_INIT(64), sk2 = BUF_INIT(64);
	struct sasl_server_cred c;
	struct users_entry *e;
	int r = -1;

	memset(&c, 0, sizeof(c));
	if (!users_name_ok(name))
		return err_set(err, CL_EUSAGE, "bad user name (no blanks, controls or '#')");
	if (*password == '\0')
		return err_set(err, CL_EUSAGE, "empty password");
	if (RAND_bytes(salt, sizeof(salt)) != 1 || b64_encode(salt, sizeof(salt), &s) < 0)
		return err_set(err, CL_ESOFTWARE, "no random salt");
	c.iter = SASL_SCRAM_ITER_DEFAULT;
	if (sasl_server_scram_keys("SHA-1", password, s.data, c.iter, &st, &sk) < 0 ||
	    sasl_server_scram_keys("SHA-256", password, s.data, c.iter, &st2, &sk2) < 0 ||
	    users_copy(c.salt, sizeof(c.salt), s.data, s.len) < 0 ||
	    users_copy(c.stored1, sizeof(c.stored1), st.data, st.len) < 0 ||
	    users_copy(c.server1, sizeof(c.server1), sk.data, sk.len) < 0 ||
	    users_copy(c.stored256, sizeof(c.stored256), st2.data, st2.len) < 0 ||
	    users_copy(c.server256, sizeof(c.server256), sk2.data, sk2.len) < 0) {
		err_set(err, CL_ESOFTWARE, "SCRAM key derivation failed");
		goto out;
	}
	if (keep_plain && (c.plain = strdup(password)) == NULL)
		goto out;
	e = users_find(u, name);
	if (e == NULL) {
		void *p = realloc(u->e, (u->n + 1) * sizeof(*u->e));
		if (p == NULL)
			goto out;
		u->e = p;
		e = &u->e[u->n];
		if ((e->name = strdup(name)) == NULL)
			goto out;
		u->n++;
	} else {
		sasl_server_cred_wipe(&e->cred);
	}
	e->cred = c;
	memset(&c, 0, sizeof(c));
	r = 0;
out:
	sasl_server_cred_wipe(&c);
	buf_free(&s);
	buf_wipe(&st);
	buf_wipe(&sk);
	buf_wipe(&st2);
	buf_wipe(&sk2);
	return r;
}

int users_remove(struct users *u, const char *name)
{
	struct users_entry *e = users_find(u, name);

	if (e == NULL)
		return -1;
	free(e->name);
	sasl_server_cred_wipe(&e->cred);
	memmove(e, e + 1, (size_t)(&u->e[u->n] - (e + 1)) * sizeof(*e));
	u->n--;
	return 0;
}

/* The file replaced keeps its owner and group, and its mode without any
 * right for others: the packaged /etc/clsmtpd.users is root:clsmtpd 0640,
 * so that clsmtpd, started as its own user, reads it and root edits it. */
static int users_keep_owner(int fd, const char *file)
{
	struct stat st;

	if (stat(file, &st) < 0)
		return errno == ENOENT ? 0 : -1;
	if (fchown(fd, st.st_uid, st.st_gid) < 0 && (st.st_uid != geteuid() || errno != EPERM))
		return -1;
	return fchmod(fd, st.st_mode & 0640);
}

int users_save(const struct users *u, const char *file, struct cl_err *err)
{
	struct buf out = BUF_INIT(1 << 26), tmp = BUF_INIT(4096), dir = BUF_INIT(4096);
	size_t i;
	int fd = -1, dfd, r = -1;
	const char *slash;

	buf_set_secret(&out);
	buf_adds(&out, "# clsmtpd users file: managed by clsmtpd-passwd(8); see clsmtpd.conf(5)\n");
	for (i = 0; i < u->n; i++) {
		const struct sasl_server_cred *c = &u->e[i].cred;
		buf_adds(&out, u->e[i].name);
		/* A plaintext-only account has no keys: "scram=0,,,,," would not
		 * load again (found by tests/fuzz/fuzz_passwords). */
		if (c->iter > 0)
			buf_printf(&out, " scram=%u,%s,%s,%s,%s,%s", c->iter, c->salt, c->stored1,
			           c->server1, c->stored256, c->server256);
		if (c->plain != NULL) {
			buf_adds(&out, " plain=");
			b64_encode(c->plain, strlen(c->plain), &out);
		}
		if (buf_addc(&out, '\n') < 0) {
			err_set(err, CL_ESOFTWARE, "users file too big");
			goto out;
		}
	}
	buf_printf(&tmp, "%s.tmp%ld", file, (long)getpid());
	fd = open(tmp.data, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
	if (fd >= 0 && users_keep_owner(fd, file) < 0) {
		err_set(err, CL_EIO, "%s: keeping the owner and mode of %s: %s", tmp.data, file,
		        strerror(errno));
		goto out;
	}
	if (fd < 0 || write(fd, out.data, out.len) != (ssize_t)out.len || fsync(fd) < 0) {
		err_set(err, CL_EIO, "%s: %s", tmp.data, strerror(errno));
		goto out;
	}
	close(fd);
	fd = -1;
	if (rename(tmp.data, file) < 0) {
		err_set(err, CL_EIO, "rename to %s: %s", file, strerror(errno));
		goto out;
	}
	slash = strrchr(file, '/');
	if (slash == NULL)
		buf_adds(&dir, ".");
	else
		buf_add(&dir, file, slash == file ? 1 : (size_t)(slash - file));
	dfd = open(dir.data, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	r = 0;
out:
	if (fd >= 0) {
		close(fd);
		unlink(tmp.data);
	}
	buf_wipe(&out);
	buf_free(&tmp);
	buf_free(&dir);
	return r;
}
