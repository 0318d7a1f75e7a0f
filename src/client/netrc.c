/*
 * netrc.c - the netrc/authinfo lookup (see netrc.h). Tokens are separated
 * by blanks and newlines and may be quoted ("a b"); "macdef" skips to the
 * next empty line, as ftp does. Every copy of a password is wiped.
 */
#include "netrc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define NETRC_FILE_MAX (256 * 1024)
#define NETRC_TOKEN_MAX 4096

struct netrc_lex {
	const char *p, *end;
};

/* The next token into tok; 0 at the end. */
static int netrc_token(struct netrc_lex *lx, struct buf *tok)
{
	buf_reset(tok);
	while (lx->p < lx->end && strchr(" \t\r\n", *lx->p))
		lx->p++;
	if (lx->p >= lx->end)
		return 0;
	if (*lx->p == '"') {
		for (lx->p++; lx->p < lx->end && *lx->p != '"'; lx->p++) {
			if (*lx->p == '\\' && lx->p + 1 < lx->end)
				lx->p++;
			if (buf_add(tok, lx->p, 1) < 0)
				return -1;
		}
		if (lx->p < lx->end)
			lx->p++;
		return 1;
	}
	for (; lx->p < lx->end && !strchr(" \t\r\n", *lx->p); lx->p++)
		if (buf_add(tok, lx->p, 1) < 0)
			return -1;
	return 1;
}

/* macdef NAME: the macro's lines up to an empty line. */
static void netrc_skip_macro(struct netrc_lex *lx)
{
	while (lx->p < lx->end && *lx->p != '\n')
		lx->p++;
	while (lx->p < lx->end) {
		lx->p++;
		if (lx->p < lx->end && *lx->p == '\n')
			return;
		while (lx->p < lx->end && *lx->p != '\n')
			lx->p++;
	}
}

/* Keywords followed by a value (authinfo's "user", "passwd", "port"). */
static int netrc_keyword(const char *t)
{
	static const char *const kw[] = {"login", "password", "account", "port", "user", "passwd"};
	size_t i;

	for (i = 0; i < sizeof(kw) / sizeof(kw[0]); i++)
		if (strcmp(t, kw[i]) == 0)
			return 1;
	return 0;
}

int netrc_parse(const char *text, size_t len, const char *host, const char *user,
                struct buf *password, struct cl_err *err)
{
	struct buf tok = BUF_INIT(NETRC_TOKEN_MAX), login = BUF_INIT(NETRC_TOKEN_MAX),
	           pass = BUF_INIT(NETRC_TOKEN_MAX);
	struct netrc_lex lx = {text, text + len};
	int in_entry = 0, match = 0, is_default = 0, found = 0, have_login = 0, have_pass = 0, t;

	buf_set_secret(&tok);
	buf_set_secret(&pass);
	for (;;) {
		t = netrc_token(&lx, &tok);
		if (t < 0) {
			found = err_set(err, CL_ECONFIG, "netrc: a token longer than %d bytes",
			                NETRC_TOKEN_MAX);
			break;
		}
		/* An entry ends at the next "machine"/"default" or at the end. */
		if (t == 0 || strcmp(buf_cstr(&tok), "machine") == 0 ||
		    strcmp(buf_cstr(&tok), "default") == 0) {
			if (in_entry && match && have_pass &&
			    (!have_login || (user && strcmp(buf_cstr(&login), user) == 0)) &&
			    (!is_default || found == 0)) {
				buf_reset(password);
				buf_set_secret(password);
				if (buf_add(password, pass.data, pass.len) < 0) {
					found = err_set(err, CL_ECONFIG, "netrc: password too long");
					break;
				}
				found = 1;
				if (!is_default)
					break; /* a machine entry wins at once */
			}
			if (t == 0)
				break;
			in_entry = 1;
			have_login = have_pass = 0;
			buf_reset(&login);
			buf_wipe(&pass);
			buf_set_secret(&pass);
			is_default = strcmp(buf_cstr(&tok), "default") == 0;
			match = is_default;
			if (!is_default) {
				if (netrc_token(&lx, &tok) != 1) {
					found = err_set(err, CL_ECONFIG, "netrc: 'machine' without a name");
					break;
				}
				match = host && strcasecmp(buf_cstr(&tok), host) == 0;
			}
			continue;
		}
		if (strcmp(buf_cstr(&tok), "macdef") == 0) {
			netrc_skip_macro(&lx);
			continue;
		}
		if (netrc_keyword(buf_cstr(&tok))) {
			int is_login = strcmp(buf_cstr(&tok), "login") == 0 ||
			               strcmp(buf_cstr(&tok), "user") == 0;
			int is_pass = strcmp(buf_cstr(&tok), "password") == 0 ||
			              strcmp(buf_cstr(&tok), "passwd") == 0;

			if (netrc_token(&lx, &tok) != 1) {
				found = err_set(err, CL_ECONFIG, "netrc: a keyword without its value");
				break;
			}
			if (is_login) {
				buf_set(&login, buf_cstr(&tok));
				have_login = 1;
			} else if (is_pass) {
				buf_reset(&pass);
				buf_add(&pass, tok.data, tok.len);
				have_pass = 1;
			} /* account, port: their value is skipped */
			continue;
		}
		/* Anything else (tokens of other programs): ignored, as ftp does. */
	}
	buf_wipe(&tok);
	buf_free(&login);
	buf_wipe(&pass);
	return found;
}

/* One file: 1 found, 0 none or missing, -1 error. */
static int netrc_file(const char *path, const char *host, const char *user, struct buf *password,
                      struct cl_err *err)
{
	struct buf text = BUF_INIT(NETRC_FILE_MAX);
	struct stat st;
	char tmp[4096];
	ssize_t n;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return 0;
	buf_set_secret(&text);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return 0;
	}
	while ((n = read(fd, tmp, sizeof(tmp))) > 0)
		if (buf_add(&text, tmp, (size_t)n) < 0) {
			close(fd);
			explicit_bzero(tmp, sizeof(tmp));
			buf_wipe(&text);
			return err_set(err, CL_ECONFIG, "%s is larger than %d bytes", path,
			               NETRC_FILE_MAX);
		}
	close(fd);
	explicit_bzero(tmp, sizeof(tmp));
	r = netrc_parse(text.data ? text.data : "", text.len, host, user, password, err);
	buf_wipe(&text);
	if (r < 0)
		return err_prefix(err, "%s", path);
	/* ftp's rule: a password others can read is not used. */
	if (r == 1 && strcmp(path, "/etc/netrc") != 0 && (st.st_mode & 077)) {
		buf_wipe(password);
		return err_set(err, CL_ECONFIG,
		               "%s holds a password and is accessible by group or others (mode "
		               "%03o): run chmod 600 %s",
		               path, (unsigned)(st.st_mode & 0777), path);
	}
	return r;
}

int netrc_lookup(const char *host, const char *user, struct buf *password, struct cl_err *err)
{
	static const char *const rel[] = {".netrc", ".authinfo"};
	const char *home = getenv("HOME");
	struct buf path = BUF_INIT(PATH_MAX);
	size_t i;
	int r = 0;

	for (i = 0; i < 2 && r == 0 && home && home[0]; i++) {
		buf_reset(&path);
		if (buf_printf(&path, "%s/%s", home, rel[i]) == 0)
			r = netrc_file(buf_cstr(&path), host, user, password, err);
	}
	if (r == 0)
		r = netrc_file("/etc/netrc", host, user, password, err);
	buf_free(&path);
	return r;
}
