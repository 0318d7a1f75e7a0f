/*
 * dkim_cli.c - "clsmtpd -dkim-keygen | -dkim-records | -dkim-sign"
 * (dkim_cli.h).
 */
#include "dkim_cli.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/fdio.h"
#include "conf.h"
#include "dkim_relay.h"

#define DKIM_DEFAULT_DIR "/etc/clsmtpd/dkim"

static int dkim_usage(void)
{
	fprintf(stderr, "usage: clsmtpd [-f config] -dkim-keygen DOMAIN SELECTOR [-a rsa|ed25519] "
	                "[-b BITS] [-d DIR]\n"
	                "       clsmtpd [-f config] -dkim-records\n"
	                "       clsmtpd [-f config] -dkim-sign < message\n");
	return 64;
}

/* The configuration, keys read: 0, or an exit status. */
static int dkim_load(const char *cfile, struct conf **c)
{
	struct cl_err err;

	err_clear(&err);
	if (conf_load(c, cfile, &err) < 0 || dkim_conf_load_keys(&(*c)->dkim, &err) < 0) {
		fprintf(stderr, "clsmtpd: %s\n", err.msg);
		if (*c)
			conf_free(*c);
		*c = NULL;
		return 78;
	}
	return 0;
}

/* Write the new key: mode 0640 and the group of the configured user when
 * run as root (clsmtpd reads it after starting as that user), else 0600. */
static int dkim_write_key(const char *path, const struct buf *pem, const char *user,
                          struct buf *said)
{
	const struct passwd *pw = user && geteuid() == 0 ? getpwnam(user) : NULL;
	mode_t mode = pw ? 0640 : 0600;
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (fd < 0) {
		fprintf(stderr, "clsmtpd: %s: %s%s\n", path, strerror(errno),
		        errno == EEXIST ? " (a key is never overwritten: choose a new selector)"
		                        : "");
		return errno == EEXIST ? 73 : 74;
	}
	if ((pw && fchown(fd, 0, pw->pw_gid) < 0) || fchmod(fd, mode) < 0 ||
	    fd_write_all(fd, pem->data, pem->len) < 0 || fsync(fd) < 0) {
		fprintf(stderr, "clsmtpd: %s: %s\n", path, strerror(errno));
		close(fd);
		unlink(path);
		return 74;
	}
	close(fd);
	if (pw) {
		const struct group *g = getgrgid(pw->pw_gid);
		buf_printf(said, "mode 0640, group %s", g ? g->gr_name : user);
	} else {
		buf_adds(said, "mode 0600");
	}
	return 0;
}

static int dkim_keygen(const char *cfile, int cfile_given, char **a, int n)
{
	const char *domain = NULL, *selector = NULL, *alg = "rsa", *dir = DKIM_DEFAULT_DIR;
	struct buf pem = BUF_INIT(1 << 16), rec = BUF_INIT(8192), zone = BUF_INIT(8192);
	struct buf path = BUF_INIT(4096), said = BUF_INIT(256);
	struct dkim_key k = {0};
	struct conf *c = NULL;
	struct cl_err err;
	int bits = 2048, rc;
	char *end;

	for (int i = 0; i < n; i++) {
		if (strcmp(a[i], "-a") == 0 && i + 1 < n)
			alg = a[++i];
		else if (strcmp(a[i], "-b") == 0 && i + 1 < n) {
			errno = 0;
			bits = (int)strtol(a[++i], &end, 10);
			if (errno || *end)
				return dkim_usage();
		} else if (strcmp(a[i], "-d") == 0 && i + 1 < n)
			dir = a[++i];
		else if (a[i][0] != '-' && domain == NULL)
			domain = a[i];
		else if (a[i][0] != '-' && selector == NULL)
			selector = a[i];
		else
			return dkim_usage();
	}
	if (selector == NULL || (strcmp(alg, "rsa") != 0 && strcmp(alg, "ed25519") != 0))
		return dkim_usage();
	{
		/* The names are checked as the configuration will check them. */
		struct dkim_conf probe = {0};
		char *w[4] = {"dkim_sign", (char *)domain, (char *)selector, "/"};
		const char *msg;
		dkim_conf_directive(&probe, w, 4, &msg);
		dkim_conf_free(&probe);
		if (msg) {
			fprintf(stderr, "clsmtpd: %s\n", msg);
			return 64;
		}
	}
	/* The configuration names the user to give the key to; without one
	 * (none yet, or no -f) the key is root's alone. */
	err_clear(&err);
	if (conf_load(&c, cfile, &err) < 0) {
		if (cfile_given) {
			fprintf(stderr, "clsmtpd: %s\n", err.msg);
			return 78;
		}
		c = NULL;
	}
	if (dkim_key_generate(&k, alg[0] == 'e' ? DKIM_ED25519_SHA256 : DKIM_RSA_SHA256, bits,
	                      &err) < 0 ||
	    dkim_key_pem(&k, &pem, &err) < 0 || dkim_key_record(&k, &rec, &err) < 0) {
		fprintf(stderr, "clsmtpd: %s\n", err.msg);
		rc = err.cls == CL_EUSAGE ? 64 : 70;
		goto out;
	}
	buf_set_secret(&pem);
	if (mkdir(dir, 0750) == 0) {
		/* A new directory: the group clsmtpd runs as may enter it. */
		const struct passwd *pw = c && c->user && geteuid() == 0 ? getpwnam(c->user) : NULL;
		if (pw && chown(dir, 0, pw->pw_gid) < 0)
			fprintf(stderr, "clsmtpd: %s: %s\n", dir, strerror(errno));
	} else if (errno != EEXIST) {
		fprintf(stderr, "clsmtpd: %s: %s\n", dir, strerror(errno));
		rc = 73;
		goto out;
	}
	buf_printf(&path, "%s/%s.%s.key", dir, domain, selector);
	rc = dkim_write_key(buf_cstr(&path), &pem, c ? c->user : NULL, &said);
	if (rc != 0)
		goto out;
	dkim_zone_line(selector, domain, buf_cstr(&rec), &zone);
	printf("# %s: %s key (%d bits), %s\n"
	       "# 1. in clsmtpd.conf, then restart clsmtpd:\n"
	       "dkim_sign %s %s %s\n"
	       "# 2. in the DNS zone of %s (before the restart, or mail fails to verify):\n"
	       "%s",
	       buf_cstr(&path), dkim_key_type_name(&k), k.bits, buf_cstr(&said), domain, selector,
	       buf_cstr(&path), domain, buf_cstr(&zone));
out:
	dkim_key_free(&k);
	if (c)
		conf_free(c);
	buf_wipe(&pem);
	buf_free(&pem);
	buf_free(&rec);
	buf_free(&zone);
	buf_free(&path);
	buf_free(&said);
	return rc;
}

static int dkim_records(const char *cfile)
{
	struct buf rec = BUF_INIT(8192), zone = BUF_INIT(8192);
	struct conf *c = NULL;
	struct cl_err err;
	int rc = dkim_load(cfile, &c);

	if (rc != 0)
		return rc;
	if (c->dkim.n == 0) {
		fprintf(stderr, "clsmtpd: %s has no dkim_sign line\n", cfile);
		conf_free(c);
		return 78;
	}
	for (size_t i = 0; i < c->dkim.n && rc == 0; i++) {
		const struct dkim_signer *s = &c->dkim.s[i];
		buf_reset(&rec);
		buf_reset(&zone);
		if (dkim_key_record(&s->key, &rec, &err) < 0) {
			fprintf(stderr, "clsmtpd: %s\n", err.msg);
			rc = 70;
			break;
		}
		dkim_zone_line(s->selector, s->domain, buf_cstr(&rec), &zone);
		printf("; %s (%s, %d bits)\n%s", s->path, dkim_key_type_name(&s->key), s->key.bits,
		       buf_cstr(&zone));
	}
	conf_free(c);
	buf_free(&rec);
	buf_free(&zone);
	return rc;
}

/* The message on stdin, LF or CRLF lines, printed with CRLF after the
 * signatures; nothing printed when it is not signed. */
static int dkim_sign_stdin(const char *cfile)
{
	struct buf msg = BUF_INIT((size_t)1 << 30), fields = BUF_INIT(64 * 1024);
	struct buf why = BUF_INIT(1024);
	struct conf *c = NULL;
	struct cl_err err;
	char tmp[65536];
	ssize_t got;
	int rc = dkim_load(cfile, &c), cr = 0;

	if (rc != 0)
		return rc;
	while ((got = read(STDIN_FILENO, tmp, sizeof(tmp))) != 0) {
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			fprintf(stderr, "clsmtpd: reading the message: %s\n", strerror(errno));
			rc = 74;
			goto out;
		}
		for (ssize_t i = 0; i < got; i++) {
			if (tmp[i] == '\n' && !cr && buf_addc(&msg, '\r') < 0)
				break;
			cr = tmp[i] == '\r';
			if (buf_addc(&msg, tmp[i]) < 0) {
				fprintf(stderr, "clsmtpd: the message is over 1 GB\n");
				rc = 65;
				goto out;
			}
		}
	}
	err_clear(&err);
	switch (dkim_sign_text(c, msg.data ? msg.data : "", msg.len, (long long)time(NULL), &fields,
	                       &why, &err)) {
	case DKIM_SIGNED:
		if (fd_write_all(STDOUT_FILENO, fields.data, fields.len) < 0 ||
		    fd_write_all(STDOUT_FILENO, msg.data ? msg.data : "", msg.len) < 0)
			rc = 74;
		break;
	case DKIM_NOT_OURS:
		fprintf(stderr, "clsmtpd: not signed: %s\n", buf_cstr(&why));
		rc = 65;
		break;
	case DKIM_READ_ERROR:
		fprintf(stderr, "clsmtpd: %s\n", err.msg);
		rc = 70;
		break;
	}
out:
	conf_free(c);
	buf_free(&msg);
	buf_free(&fields);
	buf_free(&why);
	return rc;
}

int dkim_cli_main(int argc, char **argv)
{
	const char *cfile = CONF_DEFAULT_FILE, *verb = NULL;
	char **rest = NULL;
	int i, nrest = 0, given = 0, rc;

	for (i = 1; i < argc; i++)
		if (strncmp(argv[i], "-dkim-", 6) == 0)
			break;
	if (i == argc)
		return -1;
	rest = calloc((size_t)argc, sizeof(*rest));
	if (rest == NULL)
		return 71;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-f") == 0 && i + 1 < argc) {
			cfile = argv[++i];
			given = 1;
		} else if (verb == NULL && strncmp(argv[i], "-dkim-", 6) == 0) {
			verb = argv[i] + 6;
		} else {
			rest[nrest++] = argv[i];
		}
	}
	/* "-f -dkim-sign": the command was the configuration's name. */
	if (verb == NULL)
		rc = dkim_usage();
	else if (strcmp(verb, "keygen") == 0)
		rc = dkim_keygen(cfile, given, rest, nrest);
	else if (nrest > 0)
		rc = dkim_usage();
	else if (strcmp(verb, "records") == 0)
		rc = dkim_records(cfile);
	else if (strcmp(verb, "sign") == 0)
		rc = dkim_sign_stdin(cfile);
	else
		rc = dkim_usage();
	free(rest);
	return rc;
}
