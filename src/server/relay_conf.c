/*
 * relay_conf.c - the relay directives of clsmtpd.conf (relay_conf.h):
 * parsed and checked when the file is read, so that a mistake names its
 * line at start; the smarthost password is read once, as root, from a file
 * only its owner may read or from a command (passwordeval).
 */
#include "relay_conf.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/xalloc.h"

/* passwordeval gets this long to answer. */
#define RELAY_EVAL_TIMEOUT_MS (30 * 1000)

static void relay_conf_set(char **dst, const char *v)
{
	free(*dst);
	*dst = xstrdup(v);
}

void relay_conf_init(struct relay_conf *rc)
{
	memset(rc, 0, sizeof(*rc));
	rc->mode = RELAY_MODE_SMARTHOST;
	rc->tls = RELAY_TLS_BY_PORT;
	rc->certcheck = 1;
	rc->mx_tls = RELAY_MX_TLS_MAY;
	rc->retry_min = RELAY_DEFAULT_RETRY_MIN;
	rc->retry_max = RELAY_DEFAULT_RETRY_MAX;
	rc->lifetime = RELAY_DEFAULT_LIFETIME;
	rc->secret_uid = -1;
	buf_init(&rc->password, RELAY_SECRET_MAX);
	buf_set_secret(&rc->password);
}

void relay_conf_free(struct relay_conf *rc)
{
	size_t i;

	free(rc->host);
	free(rc->port);
	free(rc->user);
	free(rc->password_file);
	free(rc->passwordeval);
	free(rc->auth);
	free(rc->ca_file);
	free(rc->fingerprint);
	for (i = 0; i < rc->nroute; i++) {
		free(rc->route[i].domain);
		free(rc->route[i].host);
		free(rc->route[i].port);
	}
	free(rc->route);
	relay_sender_free(rc);
	buf_wipe(&rc->password);
	memset(rc, 0, sizeof(*rc));
}

long long relay_conf_duration(const char *s)
{
	char *end;
	long long v, mult = 1;

	if (!isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || v > 100LL * 365 * 86400)
		return -1;
	if (*end != '\0') {
		if (end[1] != '\0')
			return -1;
		switch (*end) {
		case 's':
			break;
		case 'm':
			mult = 60;
			break;
		case 'h':
			mult = 3600;
			break;
		case 'd':
			mult = 86400;
			break;
		default:
			return -1;
		}
	}
	return v * mult;
}

void relay_conf_duration_str(int s, char *out, size_t n)
{
	if (s % 86400 == 0)
		snprintf(out, n, "%dd", s / 86400);
	else if (s % 3600 == 0)
		snprintf(out, n, "%dh", s / 3600);
	else if (s % 60 == 0)
		snprintf(out, n, "%dm", s / 60);
	else
		snprintf(out, n, "%ds", s);
}

/* "host", "host:port", "[v6]" or "[v6]:port". */
int relay_conf_hostport(const char *s, const char *defport, char **host, char **port)
{
	const char *colon = NULL, *hend;
	char *end;
	long p;

	if (s[0] == '[') {
		hend = strchr(s, ']');
		if (hend == NULL || hend == s + 1 || (hend[1] != '\0' && hend[1] != ':'))
			return -1;
		colon = hend[1] == ':' ? hend + 1 : NULL;
		s++;
	} else {
		colon = strrchr(s, ':');
		if (colon != NULL && memchr(s, ':', (size_t)(colon - s)) != NULL)
			return -1; /* an IPv6 address needs brackets */
		hend = colon ? colon : s + strlen(s);
	}
	if (hend == s)
		return -1;
	if (colon != NULL) {
		errno = 0;
		p = strtol(colon + 1, &end, 10);
		if (errno != 0 || *end != '\0' || end == colon + 1 || p < 1 || p > 65535)
			return -1;
	}
	*host = xstrndup(s, (size_t)(hend - s));
	*port = xstrdup(colon ? colon + 1 : defport);
	return 0;
}

static int relay_conf_yesno(const char *s, int *v)
{
	if (strcmp(s, "yes") == 0)
		*v = 1;
	else if (strcmp(s, "no") == 0)
		*v = 0;
	else
		return -1;
	return 0;
}

/* Durations: name, where, min, max, and the message when out of range. */
struct relay_conf_dur {
	const char *name;
	size_t off;
	long long min, max;
	const char *msg;
};

static const struct relay_conf_dur relay_conf_durs[] = {
    {"retry_min", offsetof(struct relay_conf, retry_min), 1, 86400,
     "expects a duration from 1s to 1d (300, 5m, 1h)"},
    {"retry_max", offsetof(struct relay_conf, retry_max), 1, 30 * 86400,
     "expects a duration from 1s to 30d (4h, 1d)"},
    {"queue_lifetime", offsetof(struct relay_conf, lifetime), 1, 60 * 86400,
     "expects a duration from 1s to 60d (5d)"},
    {"relay_timeout", offsetof(struct relay_conf, timeout), 1, 3600,
     "expects a duration from 1s to 1h"},
};

int relay_conf_directive(struct relay_conf *rc, char **w, size_t n, int line, const char **msg)
{
	const char *d = w[0];
	size_t i;

	*msg = NULL;
	if (relay_sender_directive(rc, w, n, line, msg))
		return 1;
	for (i = 0; i < sizeof(relay_conf_durs) / sizeof(relay_conf_durs[0]); i++) {
		const struct relay_conf_dur *x = &relay_conf_durs[i];
		long long v;
		if (strcmp(d, x->name) != 0)
			continue;
		v = n == 2 ? relay_conf_duration(w[1]) : -1;
		if (v < x->min || v > x->max)
			*msg = x->msg;
		else
			*(int *)(void *)((char *)rc + x->off) = (int)v;
		return 1;
	}
	if (strcmp(d, "relay_mode") == 0) {
		if (n == 2 && strcmp(w[1], "smarthost") == 0)
			rc->mode = RELAY_MODE_SMARTHOST;
		else if (n == 2 && strcmp(w[1], "mx") == 0)
			rc->mode = RELAY_MODE_MX;
		else
			*msg = "must be smarthost or mx";
	} else if (strcmp(d, "smarthost") == 0) {
		free(rc->host);
		free(rc->port);
		rc->host = rc->port = NULL;
		if (n != 2 || relay_conf_hostport(w[1], RELAY_DEFAULT_SMARTHOST_PORT, &rc->host,
		                                  &rc->port) < 0)
			*msg = "usage: smarthost HOST[:PORT] (smtp.isp.example:465, [::1]:587)";
		rc->line_host = line;
	} else if (strcmp(d, "smarthost_tls") == 0) {
		if (n == 2 && strcmp(w[1], "smtps") == 0)
			rc->tls = RELAY_TLS_SMTPS;
		else if (n == 2 && strcmp(w[1], "starttls") == 0)
			rc->tls = RELAY_TLS_STARTTLS;
		else if (n == 2 && strcmp(w[1], "none") == 0)
			rc->tls = RELAY_TLS_NONE;
		else
			*msg = "must be smtps, starttls or none";
	} else if (strcmp(d, "smarthost_user") == 0) {
		if (n != 2)
			*msg = "expects exactly one value";
		else
			relay_conf_set(&rc->user, w[1]);
		rc->line_user = line;
	} else if (strcmp(d, "smarthost_password_file") == 0) {
		if (n != 2 || w[1][0] != '/')
			*msg = "needs an absolute path";
		else
			relay_conf_set(&rc->password_file, w[1]);
	} else if (strcmp(d, "smarthost_passwordeval") == 0) {
		struct buf cmd = BUF_INIT(4096);
		if (n < 2) {
			*msg = "expects a command";
			return 1;
		}
		/* The rest of the line, words joined by one space. */
		for (i = 1; i < n; i++)
			buf_printf(&cmd, "%s%s", i > 1 ? " " : "", w[i]);
		relay_conf_set(&rc->passwordeval, buf_cstr(&cmd));
		buf_free(&cmd);
	} else if (strcmp(d, "smarthost_auth") == 0) {
		if (n != 2)
			*msg = "expects auto or a mechanism name (PLAIN, SCRAM-SHA-256, ...)";
		else
			relay_conf_set(&rc->auth, w[1]);
	} else if (strcmp(d, "smarthost_ca") == 0) {
		if (n != 2 || w[1][0] != '/')
			*msg = "needs an absolute path";
		else
			relay_conf_set(&rc->ca_file, w[1]);
	} else if (strcmp(d, "smarthost_fingerprint") == 0) {
		if (n != 2 || strspn(w[1], "0123456789abcdefABCDEF:") != strlen(w[1]))
			*msg = "expects the SHA-256 fingerprint in hex (AB:CD:... or abcd...)";
		else
			relay_conf_set(&rc->fingerprint, w[1]);
	} else if (strcmp(d, "smarthost_certcheck") == 0) {
		if (n != 2 || relay_conf_yesno(w[1], &rc->certcheck) < 0)
			*msg = "must be yes or no";
	} else if (strcmp(d, "mx_tls") == 0) {
		if (n == 2 && strcmp(w[1], "may") == 0)
			rc->mx_tls = RELAY_MX_TLS_MAY;
		else if (n == 2 && strcmp(w[1], "verify") == 0)
			rc->mx_tls = RELAY_MX_TLS_VERIFY;
		else if (n == 2 && strcmp(w[1], "none") == 0)
			rc->mx_tls = RELAY_MX_TLS_NONE;
		else
			*msg = "must be may, verify or none";
	} else if (strcmp(d, "route") == 0) {
		struct relay_route r, *nr;
		if (n != 3 || strchr(w[1], '@') != NULL ||
		    relay_conf_hostport(w[2], RELAY_DEFAULT_MX_PORT, &r.host, &r.port) < 0) {
			*msg = "usage: route DOMAIN HOST[:PORT]";
			return 1;
		}
		nr = xreallocarray(rc->route, rc->nroute + 1, sizeof(*nr));
		rc->route = nr;
		r.domain = xstrdup(w[1]);
		rc->route[rc->nroute++] = r;
	} else {
		return 0;
	}
	return 1;
}

const char *relay_conf_check(const struct relay_conf *rc, int *line)
{
	*line = rc->line_user;
	if (rc->user != NULL && rc->password_file == NULL && rc->passwordeval == NULL)
		return "smarthost_user needs smarthost_password_file or smarthost_passwordeval";
	if (rc->password_file != NULL && rc->passwordeval != NULL)
		return "give smarthost_password_file or smarthost_passwordeval, not both";
	if (rc->user == NULL && (rc->password_file != NULL || rc->passwordeval != NULL)) {
		*line = 0;
		return "a smarthost password is given but no smarthost_user";
	}
	if (rc->user != NULL && rc->host == NULL)
		return "smarthost_user given but no smarthost";
	*line = 0;
	if (rc->retry_min > rc->retry_max)
		return "retry_min is longer than retry_max";
	return NULL;
}

const struct relay_route *relay_conf_route(const struct relay_conf *rc, const char *domain)
{
	size_t i;

	for (i = 0; i < rc->nroute; i++)
		if (strcasecmp(rc->route[i].domain, domain) == 0)
			return &rc->route[i];
	return NULL;
}

/* Keep the first line of what was read: the password. */
static int relay_conf_first_line(struct buf *b, const char *what, struct cl_err *err)
{
	char *nl = b->data ? memchr(b->data, '\n', b->len) : NULL;

	if (nl != NULL)
		buf_truncate(b, (size_t)(nl - b->data));
	/* NOLINTNEXTLINE(clang-analyzer-core.NullDereference): len > 0: data set */
	if (b->len && b->data[b->len - 1] == '\r')
		buf_truncate(b, b->len - 1);
	if (b->len == 0)
		return err_set(err, CL_ECONFIG, "%s: empty password", what);
	return 0;
}

int relay_conf_read_secret(const char *path, const char *what, long secret_uid, struct buf *out,
                           struct cl_err *err)
{
	struct stat st;
	char chunk[512];
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return err_set(err, CL_ECONFIG, "%s %s: %s", what, path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return err_set(err, CL_ECONFIG, "%s %s: not a regular file", what, path);
	}
	/* The password of the ISP account: nobody else may read it. The
	 * service user may own it: the packaged clsmtpd starts as that user
	 * and could not read root's file. */
	if ((st.st_uid != 0 && st.st_uid != geteuid() &&
	     (secret_uid < 0 || st.st_uid != (uid_t)secret_uid)) ||
	    (st.st_mode & 077) != 0) {
		close(fd);
		return err_set(err, CL_ECONFIG,
		               "%s %s: must be owned by root (or the user clsmtpd runs as) and "
		               "readable by its owner only (chown root %s; chmod 600 %s)",
		               what, path, path, path);
	}
	buf_wipe(out);
	buf_set_secret(out);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0) {
		if (buf_add(out, chunk, (size_t)n) < 0) {
			explicit_bzero(chunk, sizeof(chunk));
			close(fd);
			buf_wipe(out);
			return err_set(err, CL_ECONFIG, "%s %s: too long", what, path);
		}
	}
	explicit_bzero(chunk, sizeof(chunk));
	close(fd);
	return relay_conf_first_line(out, what, err);
}

static int relay_conf_eval(struct relay_conf *rc, struct cl_err *err)
{
	int p[2], status = 0, r = 0;
	pid_t pid;
	char chunk[512];
	struct timespec t0, t1;

	if (pipe2(p, O_CLOEXEC) < 0)
		return err_set(err, CL_ECONFIG, "smarthost_passwordeval: pipe: %s",
		               strerror(errno));
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return err_set(err, CL_ECONFIG, "smarthost_passwordeval: fork: %s",
		               strerror(errno));
	}
	if (pid == 0) {
		int nul = open("/dev/null", O_RDONLY);
		if (nul >= 0)
			dup2(nul, 0);
		dup2(p[1], 1);
		execl("/bin/sh", "sh", "-c", rc->passwordeval, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	buf_wipe(&rc->password);
	buf_set_secret(&rc->password);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd pfd = {p[0], POLLIN, 0};
		long left;
		ssize_t n;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		left = RELAY_EVAL_TIMEOUT_MS -
		       ((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0 || poll(&pfd, 1, (int)left) == 0) {
			kill(pid, SIGKILL);
			r = err_set(err, CL_ECONFIG, "smarthost_passwordeval: no answer in %d s",
			            RELAY_EVAL_TIMEOUT_MS / 1000);
			break;
		}
		n = read(p[0], chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (buf_add(&rc->password, chunk, (size_t)n) < 0) {
			kill(pid, SIGKILL);
			r = err_set(err, CL_ECONFIG, "smarthost_passwordeval: answer too long");
			break;
		}
	}
	explicit_bzero(chunk, sizeof(chunk));
	close(p[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
	}
	if (r == 0 && (!WIFEXITED(status) || WEXITSTATUS(status) != 0))
		r = err_set(err, CL_ECONFIG, "smarthost_passwordeval: the command failed (%s %d)",
		            WIFEXITED(status) ? "exit status" : "signal",
		            WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	if (r == 0)
		r = relay_conf_first_line(&rc->password, "smarthost_passwordeval", err);
	if (r < 0)
		buf_wipe(&rc->password);
	return r;
}

int relay_conf_load_secret(struct relay_conf *rc, struct cl_err *err)
{
	if (relay_sender_load_secrets(rc, err) < 0)
		return -1;
	if (rc->password_file != NULL)
		return relay_conf_read_secret(rc->password_file, "smarthost_password_file",
		                              rc->secret_uid, &rc->password, err);
	if (rc->passwordeval != NULL)
		return relay_conf_eval(rc, err);
	return 0;
}
