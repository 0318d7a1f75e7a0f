/*
 * maildir.h - delivery into a Maildir (https://cr.yp.to/proto/maildir.html):
 * a unique file in tmp/, written and fsynced, renamed into new/, and new/
 * fsynced, before the delivery counts as done.
 */
#ifndef CLSMTPD_MAILDIR_H
#define CLSMTPD_MAILDIR_H

#include "err.h"

/* Copy the message from fd (CRLF lines, as spooled) into the Maildir at
 * dir, creating dir, tmp/, new/ and cur/ when missing. Lines are stored
 * with LF, as Maildir readers expect. Class CL_ETEMP or CL_EIO on failure. */
int maildir_deliver(const char *dir, int fd, const char *qid, struct cl_err *err);

#endif
