/*
 * secret.c - passwords from a command (msmtp's passwordeval), from the
 * system keyring (secret-tool) and from the environment. A command's
 * standard output is read through a pipe, bounded to SECRET_MAX bytes, and
 * every copy is wiped. Its standard error is left to the terminal so the
 * user sees why a keyring or gpg prompt failed.
 */
#include "secret.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

/* Run argv (execvp) and keep the first line of its output. what names the
 * source in messages. 127 from the child means it could not be run. */
static int secret_run(const char *what, char *const argv[], int *status_out, struct buf *out,
                      struct cl_err *err)
{
	char tmp[512];
	struct buf all = BUF_INIT(SECRET_MAX);
	int fds[2], status, too_long = 0;
	pid_t pid;
	ssize_t n;
	char *nl;

	buf_set_secret(&all);
	buf_set_secret(out);
	if (pipe(fds) < 0)
		return err_set(err, CL_ECONFIG, "%s: pipe: %s", what, strerror(errno));
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return err_set(err, CL_ECONFIG, "%s: fork: %s", what, strerror(errno));
	}
	if (pid == 0) {
		close(fds[0]);
		if (dup2(fds[1], STDOUT_FILENO) < 0)
			_exit(127);
		close(fds[1]);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(fds[1]);
	for (;;) {
		n = read(fds[0], tmp, sizeof(tmp));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (!too_long && buf_add(&all, tmp, (size_t)n) < 0)
			too_long = 1;
	}
	explicit_bzero(tmp, sizeof(tmp));
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	*status_out = status;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		buf_wipe(&all);
		return -1; /* the caller says why */
	}
	if (too_long) {
		buf_wipe(&all);
		return err_set(err, CL_ECONFIG, "%s: output longer than %d bytes", what,
		               SECRET_MAX);
	}
	nl = all.len ? memchr(all.data, '\n', all.len) : NULL;
	if (nl)
		buf_truncate(&all, (size_t)(nl - all.data));
	if (all.len && all.data[all.len - 1] == '\r')
		buf_truncate(&all, all.len - 1);
	if (all.len == 0) {
		buf_wipe(&all);
		return err_set(err, CL_ECONFIG, "%s: the command printed no password", what);
	}
	buf_reset(out);
	if (buf_add(out, all.data, all.len) < 0) {
		buf_wipe(&all);
		return err_set(err, CL_ECONFIG, "%s: password too long", what);
	}
	buf_wipe(&all);
	return 0;
}

int secret_from_command(const char *cmd, struct buf *out, struct cl_err *err)
{
	char *argv[] = {"/bin/sh", "-c", (char *)cmd, NULL};
	int status = 0;

	err->cls = CL_OK;
	if (secret_run("passwordeval", argv, &status, out, err) == 0)
		return 0;
	if (err->cls != CL_OK)
		return -1;
	return err_set(err, CL_ECONFIG, "passwordeval: command failed (%s %d): %s",
	               WIFEXITED(status) ? "exit status" : "signal",
	               WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), cmd);
}

int secret_from_keyring(const char *host, const char *user, struct buf *out, struct cl_err *err)
{
	char *argv[] = {"secret-tool", "lookup", "host",       (char *)host, "service",
	                "smtp",        "user",   (char *)user, NULL};
	int status = 0;

	if (host == NULL || user == NULL)
		return err_set(err, CL_ECONFIG, "keyring: needs a host and a user name");
	err->cls = CL_OK;
	if (secret_run("keyring", argv, &status, out, err) == 0)
		return 0;
	if (err->cls != CL_OK && !strstr(err->msg, "printed no password"))
		return -1;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		return err_set(err, CL_ECONFIG,
		               "keyring: secret-tool not found (Debian package libsecret-tools); "
		               "or use passwordeval");
	return err_set(err, CL_ECONFIG,
	               "keyring: no password for %s at %s; store one with: secret-tool store "
	               "--label=clsmtpc host %s service smtp user %s",
	               user, host, host, user);
}

int secret_from_env(const char *name, struct buf *out, struct cl_err *err)
{
	char *v = getenv(name);
	size_t n;

	if (v == NULL || v[0] == '\0')
		return err_set(err, CL_ECONFIG, "password_env: environment variable %s is %s", name,
		               v ? "empty" : "not set");
	n = strlen(v);
	buf_wipe(out);
	buf_set_secret(out);
	if (n > SECRET_MAX || buf_add(out, v, n) < 0) {
		buf_wipe(out);
		return err_set(err, CL_ECONFIG, "password_env: %s is longer than %d bytes", name,
		               SECRET_MAX);
	}
	/* A trailing newline (VAR=$(cat file)) is not part of the secret. */
	while (out->len && (out->data[out->len - 1] == '\n' || out->data[out->len - 1] == '\r'))
		buf_truncate(out, out->len - 1);
	/* Our copy is all we need: wipe the value in place (it is also what
	 * /proc/self/environ shows) and drop the variable. */
	explicit_bzero(v, n);
	unsetenv(name);
	if (out->len == 0)
		return err_set(err, CL_ECONFIG, "password_env: environment variable %s is empty",
		               name);
	return 0;
}

int secret_from_tty(const char *host, const char *user, struct buf *out, struct cl_err *err)
{
	struct termios old, quiet;
	char c;
	ssize_t n;
	int fd, echo_off, r = 1;

	fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return 0;
	echo_off = tcgetattr(fd, &old) == 0;
	if (echo_off) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		quiet.c_lflag |= ICANON;
		echo_off = tcsetattr(fd, TCSAFLUSH, &quiet) == 0;
	}
	if (!echo_off) {
		close(fd);
		return err_set(err, CL_ECONFIG, "password prompt: cannot turn off the terminal's echo");
	}
	dprintf(fd, "password for %s at %s: ", user ? user : "(no user)", host ? host : "?");
	buf_reset(out);
	buf_set_secret(out);
	for (;;) {
		n = read(fd, &c, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || c == '\n')
			break;
		if (c == '\r')
			continue;
		if (buf_add(out, &c, 1) < 0) {
			r = err_set(err, CL_ECONFIG, "password prompt: longer than %d bytes",
			            SECRET_MAX);
			break;
		}
	}
	c = 0;
	tcsetattr(fd, TCSAFLUSH, &old);
	dprintf(fd, "\n");
	close(fd);
	if (r == 1 && (n < 0 || out->len == 0))
		r = err_set(err, CL_ECONFIG, "password prompt: no password typed");
	if (r < 0)
		buf_wipe(out);
	return r;
}
