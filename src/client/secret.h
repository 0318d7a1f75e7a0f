/*
 * secret.h - where clsmtpc gets the password: -r, the original's password
 * file (-p), or --passwordeval (a command whose first output line is it).
 */
#ifndef CLSMTPC_SECRET_H
#define CLSMTPC_SECRET_H

#include "buf.h"
#include "err.h"

/* The longest secret we accept (OAuth2 tokens run to a few KB). */
#define SECRET_MAX 8192

/* Run cmd with /bin/sh and keep the first line of its output in out.
 * Fails (CL_ECONFIG) if it exits non-zero or prints nothing. */
int secret_from_command(const char *cmd, struct buf *out, struct cl_err *err);

#endif
