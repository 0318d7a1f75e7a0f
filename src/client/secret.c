/*
 * secret.c - password from a command (msmtp's passwordeval): the command's
 * standard output is read through a pipe, bounded to SECRET_MAX bytes, and
 * every copy is wiped. Its standard error is left to the terminal so the
 * user sees why a keyring or gpg prompt failed.
 */
#include "secret.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int secret_from_command(const char *cmd, struct buf *out, struct cl_err *err)
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
		return err_set(err, CL_ECONFIG, "passwordeval: pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return err_set(err, CL_ECONFIG, "passwordeval: fork: %s", strerror(errno));
	}
	if (pid == 0) {
		close(fds[0]);
		if (dup2(fds[1], STDOUT_FILENO) < 0)
			_exit(127);
		close(fds[1]);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
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
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		buf_wipe(&all);
		return err_set(err, CL_ECONFIG, "passwordeval: command failed (%s %d): %s",
			       WIFEXITED(status) ? "exit status" : "signal",
			       WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), cmd);
	}
	if (too_long) {
		buf_wipe(&all);
		return err_set(err, CL_ECONFIG, "passwordeval: output longer than %d bytes",
			       SECRET_MAX);
	}
	nl = all.len ? memchr(all.data, '\n', all.len) : NULL;
	if (nl)
		buf_truncate(&all, (size_t)(nl - all.data));
	if (all.len && all.data[all.len - 1] == '\r')
		buf_truncate(&all, all.len - 1);
	if (all.len == 0) {
		buf_wipe(&all);
		return err_set(err, CL_ECONFIG, "passwordeval: the command printed no password");
	}
	buf_reset(out);
	if (buf_add(out, all.data, all.len) < 0) {
		buf_wipe(&all);
		return err_set(err, CL_ECONFIG, "passwordeval: password too long");
	}
	buf_wipe(&all);
	return 0;
}
