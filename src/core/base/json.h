/*
 * json.h - a JSON string (RFC 8259) from any bytes: quotes, backslashes and
 * control characters escaped, invalid UTF-8 as U+FFFD (what a peer wrote
 * may hold anything). For clsmtpc --doctor --json and clsmtpd -check-dns.
 */
#ifndef CLSMTP_JSON_H
#define CLSMTP_JSON_H

#include "base/buf.h"

/* Append s as a quoted JSON string; -1 when out is full. */
int json_string(struct buf *out, const char *s);

#endif
