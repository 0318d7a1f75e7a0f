/*
 * subst.c - msmtp's %U %H %C %M patterns (see subst.h). %C resolves %H
 * with AI_CANONNAME as msmtp does; a name that does not resolve is kept.
 */
#include "subst.h"

#include <fcntl.h>
#include <netdb.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/fdio.h"

int subst_has_pattern(const char *s)
{
	for (; s && *s; s++)
		if (s[0] == '%' && s[1] && strchr("UHCM", s[1]))
			return 1;
	return 0;
}

int subst_expand(const char *in, const struct subst_values *v, const char *what, struct buf *out,
                 struct cl_err *err)
{
	const char *p, *val, *name;

	buf_reset(out);
	for (p = in; *p; p++) {
		if (*p != '%') {
			if (buf_add(out, p, 1) < 0)
				return err_set(err, CL_ECONFIG, "%s: value too long", what);
			continue;
		}
		switch (p[1]) {
		case 'U':
			val = v->user, name = "%U (user name: $USER, $LOGNAME)";
			break;
		case 'H':
			val = v->host, name = "%H (host name)";
			break;
		case 'C':
			val = v->canon, name = "%C (canonical host name)";
			break;
		case 'M':
			val = v->mailname, name = "%M (/etc/mailname)";
			break;
		default: /* msmtp leaves any other '%' as it is */
			if (buf_add(out, p, 1) < 0)
				return err_set(err, CL_ECONFIG, "%s: value too long", what);
			continue;
		}
		if (val == NULL || val[0] == '\0')
			return err_set(err, CL_ECONFIG, "%s '%s': %s is not known on this machine",
			               what, in, name);
		if (buf_adds(out, val) < 0)
			return err_set(err, CL_ECONFIG, "%s: value too long", what);
		p++;
	}
	return 0;
}

static void subst_first_line(const char *path, struct buf *out)
{
	struct buf line = BUF_INIT(512);
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	/* out is replaced only by a line actually read */
	if (fd_first_line(fd, 256, &line) == 0)
		buf_set(out, buf_cstr(&line));
	close(fd);
	buf_free(&line);
}

void subst_values(struct subst_values *v, struct buf *user, struct buf *host, struct buf *canon,
                  struct buf *mailname, const char *mailname_path)
{
	const char *e;
	char name[256];
	struct passwd *pw;
	struct addrinfo hints, *res = NULL;

	if ((e = getenv("USER")) && e[0])
		buf_set(user, e);
	else if ((e = getenv("LOGNAME")) && e[0])
		buf_set(user, e);
	else if ((pw = getpwuid(geteuid())) != NULL)
		buf_set(user, pw->pw_name);
	if ((e = getenv("HOSTNAME")) && e[0])
		buf_set(host, e);
	else if (gethostname(name, sizeof(name)) == 0) {
		name[sizeof(name) - 1] = '\0';
		buf_set(host, name);
	}
	if (host->len) {
		memset(&hints, 0, sizeof(hints));
		hints.ai_flags = AI_CANONNAME;
		hints.ai_socktype = SOCK_STREAM;
		if (getaddrinfo(buf_cstr(host), NULL, &hints, &res) == 0 && res &&
		    res->ai_canonname)
			buf_set(canon, res->ai_canonname);
		else
			buf_set(canon, buf_cstr(host));
		if (res)
			freeaddrinfo(res);
	}
	subst_first_line(mailname_path ? mailname_path : "/etc/mailname", mailname);
	v->user = user->len ? buf_cstr(user) : NULL;
	v->host = host->len ? buf_cstr(host) : NULL;
	v->canon = canon->len ? buf_cstr(canon) : NULL;
	v->mailname = mailname->len ? buf_cstr(mailname) : NULL;
}

int subst_expand_here(const char *in, const char *what, struct buf *out, struct cl_err *err)
{
	static struct buf user = BUF_INIT(256), host = BUF_INIT(256), canon = BUF_INIT(256),
	                  mailname = BUF_INIT(256);
	static struct subst_values v;
	static int done;

	if (!subst_has_pattern(in))
		return buf_set(out, in) < 0 ? err_set(err, CL_ECONFIG, "%s: value too long", what)
		                            : 0;
	if (!done) {
		subst_values(&v, &user, &host, &canon, &mailname, NULL);
		done = 1;
	}
	return subst_expand(in, &v, what, out, err);
}
