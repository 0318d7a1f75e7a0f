/*
 * netrc.h - passwords from ~/.netrc, ~/.authinfo and /etc/netrc, as msmtp
 * (and ftp, curl, Emacs) read them: tokens "machine HOST login USER
 * password PASS" (and "port N" in authinfo, "default" for any host). The
 * parser is pure over the file's text (unit-tested, fuzzed); the lookup
 * refuses a file that group or others may read, as passfile.c does.
 */
#ifndef CLSMTPC_NETRC_H
#define CLSMTPC_NETRC_H

#include <stddef.h>

#include "base/buf.h"
#include "base/err.h"

/* The password of the first entry for host (case-insensitive) whose login
 * is user (or that names no login), else of "default". 1 found (password
 * holds it), 0 none, -1 malformed (err: CL_ECONFIG naming the token). */
int netrc_parse(const char *text, size_t len, const char *host, const char *user,
                struct buf *password, struct cl_err *err);

/* Look in $HOME/.netrc, $HOME/.authinfo, then /etc/netrc; the first with a
 * match wins. 1 found, 0 none, -1 error (a readable-by-others file with
 * entries, a malformed one). */
int netrc_lookup(const char *host, const char *user, struct buf *password, struct cl_err *err);

#endif
