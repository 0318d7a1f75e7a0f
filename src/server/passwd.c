/*
 * passwd.c - the clsmtpd-passwd command (passwd.h). The password is read
 * from the terminal with echo off (asked twice), or as one line from a
 * non-terminal stdin; it never appears on the command line. --plaintext
 * also stores it for CRAM-MD5/DIGEST-MD5 (see clsmtpd.conf(5)).
 */
#include "passwd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "conf.h"
#include "users.h"

static void passwd_usage(void)
{
	fprintf(stderr,
	        "usage: clsmtpd-passwd [-u usersfile] add|change USER [--plaintext]\n"
	        "       clsmtpd-passwd [-u usersfile] remove USER\n"
	        "       clsmtpd-passwd [-u usersfile] list\n"
	        "The password is read from the terminal, or one line from standard input.\n");
}

static int passwd_read_line(const char *prompt, char *out, size_t max)
{
	struct termios old, quiet;
	int tty = isatty(0), r = 0;
	size_t n;

	if (tty) {
		fprintf(stderr, "%s", prompt);
		tcgetattr(0, &old);
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(0, TCSAFLUSH, &quiet);
	}
	if (fgets(out, (int)max, stdin) == NULL)
		r = -1;
	if (tty) {
		tcsetattr(0, TCSAFLUSH, &old);
		fprintf(stderr, "\n");
	}
	if (r == 0) {
		n = strcspn(out, "\r\n");
		if (out[n] == '\0' && n == max - 1)
			r = -1; /* too long */
		out[n] = '\0';
	}
	return r;
}

static int passwd_get(char *pw, size_t max)
{
	char again[1024];

	if (passwd_read_line("Password: ", pw, max) < 0 || pw[0] == '\0') {
		fprintf(stderr, "clsmtpd-passwd: no password given\n");
		return -1;
	}
	if (isatty(0)) {
		if (passwd_read_line("Again: ", again, sizeof(again)) < 0 ||
		    strcmp(pw, again) != 0) {
			explicit_bzero(again, sizeof(again));
			fprintf(stderr, "clsmtpd-passwd: the passwords differ\n");
			return -1;
		}
		explicit_bzero(again, sizeof(again));
	}
	return 0;
}

int passwd_main(int argc, char **argv)
{
	const char *file = CONF_DEFAULT_USERS, *cmd, *user = NULL;
	struct users u;
	struct cl_err err;
	char pw[1024];
	int i = 1, plain = 0, r = 1;

	if (argc > 2 && strcmp(argv[1], "-u") == 0) {
		file = argv[2];
		i = 3;
	}
	if (i >= argc) {
		passwd_usage();
		return 64;
	}
	cmd = argv[i++];
	if (i < argc)
		user = argv[i++];
	if (i < argc && strcmp(argv[i], "--plaintext") == 0) {
		plain = 1;
		i++;
	}
	if (i != argc || (strcmp(cmd, "list") != 0 && user == NULL)) {
		passwd_usage();
		return 64;
	}
	err_clear(&err);
	if (users_load(&u, file, strcmp(cmd, "add") == 0, &err) < 0) {
		fprintf(stderr, "clsmtpd-passwd: %s\n", err.msg);
		return 78;
	}
	if (strcmp(cmd, "list") == 0) {
		size_t k;
		for (k = 0; k < u.n; k++)
			printf("%s\t%s\n", u.e[k].name,
			       u.e[k].cred.plain ? "scram+plaintext (all mechanisms)"
			                         : "scram (SCRAM-*, PLAIN, LOGIN)");
		r = 0;
	} else if (strcmp(cmd, "add") == 0 || strcmp(cmd, "change") == 0) {
		int exists = users_find(&u, user) != NULL;
		if (exists != (cmd[0] == 'c')) {
			fprintf(stderr, "clsmtpd-passwd: user %s %s\n", user,
			        exists ? "already exists (use change)"
			               : "does not exist (use add)");
			r = 67;
		} else if (passwd_get(pw, sizeof(pw)) == 0) {
			if (users_set(&u, user, pw, plain, &err) < 0 ||
			    users_save(&u, file, &err) < 0)
				fprintf(stderr, "clsmtpd-passwd: %s\n", err.msg);
			else
				r = 0;
		}
		explicit_bzero(pw, sizeof(pw));
	} else if (strcmp(cmd, "remove") == 0) {
		if (users_remove(&u, user) < 0) {
			fprintf(stderr, "clsmtpd-passwd: user %s does not exist\n", user);
			r = 67;
		} else if (users_save(&u, file, &err) < 0) {
			fprintf(stderr, "clsmtpd-passwd: %s\n", err.msg);
		} else {
			r = 0;
		}
	} else {
		passwd_usage();
		r = 64;
	}
	users_free(&u);
	return r;
}
