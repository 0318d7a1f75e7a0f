/*
 * rawmsg_addr.h - RFC 5322 address lists as they appear in the header of a
 * whole message (sendmail -t's To/Cc/Bcc) and in an aliases file: the
 * addr-specs out of display names, comments, groups and source routes.
 * Pure: a string in, callbacks out.
 */
#ifndef CLSMTP_RAWMSG_ADDR_H
#define CLSMTP_RAWMSG_ADDR_H

#include "base/err.h"

/* Longest address we pass on (RFC 5321 4.5.3.1.3 path, plus slack for
 * quoting in the header form). */
#define RAWMSG_ADDR_MAX 512

/* An RFC 5322 address-list ("A <a@x>, b@y (Bob), group: c@z;") into its
 * addr-specs, calling cb on each: display names, comments, group names and
 * source routes are dropped; an address without '@' is passed as it is
 * (the caller decides: aliases or an error). Empty groups give nothing.
 * cb returns 0 to go on, or -1 (err filled) to stop: then -1. */
int rawmsg_addr_list(const char *value, int (*cb)(void *arg, const char *addr), void *arg,
                     struct cl_err *err);

#endif
