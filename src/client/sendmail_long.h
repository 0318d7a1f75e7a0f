/*
 * sendmail_long.h - msmtp's long options in sendmail mode (msmtp(1), 1.8):
 * each one either does what msmtp does, or is refused with a message that
 * names what to use instead. None is accepted and ignored.
 * docs/msmtp-compat.md lists them all.
 */
#ifndef CLSMTPC_SENDMAIL_LONG_H
#define CLSMTPC_SENDMAIL_LONG_H

#include "base/err.h"

#define SENDMAIL_FWD_MAX 64

/* What the sendmail command line asks for beyond clsmtpc's own options. */
struct sendmail_opts {
	int extract;          /* -t, --read-recipients */
	int dot_ignore;       /* -i, -oi: a lone "." does not end the message */
	int verbose;          /* -v, -d, --debug */
	int read_env_from;    /* --read-envelope-from: -f from From: */
	int sender_set;       /* -f, -r or --from given */
	const char *sender;   /* its address, "" for <> */
	const char *fullname; /* -F */
	const char *account, *config;
	const char *aliases;  /* --aliases=FILE ("" unsets the account's) */
	int aliases_set;
	int auto_from;        /* --auto-from: -1 unset, 0, 1 */
	const char *maildomain; /* --maildomain */
	const char *envid;    /* -V: the DSN envelope id */
	int show_version, show_help;
	/* Options handed to clsmtpc's own parser (options.c), as
	 * "--name=value" words; fwd[0] is the program name. */
	char *fwd[SENDMAIL_FWD_MAX];
	int nfwd;
	char *fwd_alloc[SENDMAIL_FWD_MAX]; /* the words we built, to free */
	int nalloc;
};

/* Handle argv[*i], a word beginning with "--" (not "--" itself); *i is
 * moved past a separate argument it takes. -1 with err (CL_EUSAGE) for an
 * unknown or refused option. */
int sendmail_long_option(int argc, char **argv, int *i, struct sendmail_opts *so,
                         struct cl_err *err);
/* Add one word for options_parse (e.g. "--logfile=FILE"), copied. */
int sendmail_forward(struct sendmail_opts *so, const char *name, const char *value,
                     struct cl_err *err);
void sendmail_opts_free(struct sendmail_opts *so);

#endif
