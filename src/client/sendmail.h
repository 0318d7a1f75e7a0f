/*
 * sendmail.h - clsmtpc as /usr/sbin/sendmail: the command line that cron,
 * mailx, git send-email, PHP's mail() and logwatch use (-t -f -r -F -i -oi
 * -bm -odi -oem ...), the message on standard input sent as it is, through
 * an account of the configuration file (config.h).
 */
#ifndef CLSMTPC_SENDMAIL_H
#define CLSMTPC_SENDMAIL_H

#include "base/err.h"

/* 1 if this invocation is sendmail mode: the program's name is "sendmail"
 * (a symlink) or the first argument is --sendmail. */
int sendmail_wanted(int argc, char **argv);

/* Parse the sendmail command line, read the message from standard input,
 * send it. -1 with err on failure (main turns the class into sendmail's
 * sysexits code). */
int sendmail_run(int argc, char **argv, struct cl_err *err);

/* Load an aliases file ("name: addr, addr" lines, "default: addr" for any
 * other unqualified name, '#' comments; msmtp's format) and expand the
 * unqualified name into cb calls. 0 done, 1 no alias applies, -1 error. */
int sendmail_alias_expand(const char *path, const char *name,
                          int (*cb)(void *arg, const char *addr), void *arg, struct cl_err *err);

#endif
