/*
 * msmtprc.h - --import-msmtprc: read an msmtp configuration (~/.msmtprc)
 * and print the equivalent clsmtpc configuration, so a user can switch
 * without retyping. Passwords written in the file are never printed: the
 * account gets "keyring on" and stderr says how to store the password.
 */
#ifndef CLSMTPC_MSMTPRC_H
#define CLSMTPC_MSMTPRC_H

#include <stdio.h>

#include "base/buf.h"
#include "base/err.h"

/* Translate msmtp configuration text into clsmtpc configuration text
 * (appended to out); notes for the user (skipped keys, passwords to store)
 * are appended to notes, one per line. name is shown in messages. */
int msmtprc_translate(const char *name, const char *text, size_t len, struct buf *out,
                      struct buf *notes, struct cl_err *err);

/* Read path (NULL: ~/.msmtprc, then $XDG_CONFIG_HOME/msmtp/config), print
 * the translation on out and the notes on stderr. The result is checked
 * with clsmtpc's own parser before it is printed. */
int msmtprc_import(const char *path, FILE *out, struct cl_err *err);

#endif
