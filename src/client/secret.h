/*
 * secret.h - where clsmtpc gets the password: -r, the original's password
 * file (-p), --passwordeval (a command whose first output line is it), the
 * system keyring through secret-tool, or an environment variable (CI).
 */
#ifndef CLSMTPC_SECRET_H
#define CLSMTPC_SECRET_H

#include "base/buf.h"
#include "base/err.h"

/* The longest secret we accept (OAuth2 tokens run to a few KB). */
#define SECRET_MAX 8192

/* Run cmd with /bin/sh and keep the first line of its output in out.
 * Fails (CL_ECONFIG) if it exits non-zero or prints nothing. */
int secret_from_command(const char *cmd, struct buf *out, struct cl_err *err);

/* The keyring, as msmtp stores it: "secret-tool lookup host HOST service
 * smtp user USER" (libsecret's command-line tool, package libsecret-tools).
 * Fails (CL_ECONFIG) if secret-tool is missing or holds no such password,
 * saying how to store one. */
int secret_from_keyring(const char *host, const char *user, struct buf *out, struct cl_err *err);

/* The value of environment variable name, which is then wiped from this
 * process's environment (children, such as passwordeval commands, do not
 * inherit it). Fails (CL_ECONFIG) if it is unset or empty. */
int secret_from_env(const char *name, struct buf *out, struct cl_err *err);

/* Ask on the terminal (/dev/tty, echo off), as msmtp does when no other
 * source gives a password: "password for USER at HOST: ". 1 read, 0 no
 * terminal (the caller says which sources exist), -1 error. */
int secret_from_tty(const char *host, const char *user, struct buf *out, struct cl_err *err);

#endif
