/*
 * passfile.h - the original clsmtpc password file (-p): lines
 * "username:smtp_server:password", the first line matching both user and
 * server wins. A file readable by group or others is refused.
 */
#ifndef CLSMTPC_PASSFILE_H
#define CLSMTPC_PASSFILE_H

#include "base/buf.h"
#include "base/err.h"

/* Look up the password for user at server in path. On success password
 * holds the secret (the caller wipes it with buf_wipe). Errors, class
 * CL_ECONFIG: unreadable file, permissions (saying "chmod 600 FILE"),
 * no matching line (naming user and server), a malformed line (naming its
 * number). Blank lines and lines starting with '#' are skipped; the password
 * is everything after the second ':' (it may contain ':'); a trailing CR is
 * removed. */
int passfile_lookup(const char *path, const char *user, const char *server, struct buf *password,
		    struct cl_err *err);

#endif
