/*
 * addr.h - checks for the text we put on the wire: envelope addresses, header
 * values and SMTP parameters. CR, LF and NUL are refused everywhere (header
 * and command injection, SMTP smuggling); addresses are checked against the
 * RFC 5321 Mailbox syntax closely enough to refuse anything that could break
 * out of "<...>".
 */
#ifndef CLSMTP_ADDR_H
#define CLSMTP_ADDR_H

#include "base/buf.h"
#include "base/err.h"

/* RFC 5321 4.5.3.1.3: a path is at most 256 octets including "<>". */
#define ADDR_MAX 254

/* Refuse CR, LF, NUL (and other C0 controls but TAB) in s; "what" names the
 * field in the error ("subject", "-H header"). Class CL_EDATA. */
int text_check_line(const char *s, const char *what, struct cl_err *err);

/* A usable envelope address: local@domain (or "" for the null sender when
 * allow_empty), no controls, no spaces outside a quoted local part, no
 * '<', '>' outside quotes, length <= ADDR_MAX, exactly one unquoted '@'. */
int addr_check(const char *addr, const char *what, int allow_empty, struct cl_err *err);

/* 1 if the address has any non-ASCII byte (needs SMTPUTF8 or IDN). */
int addr_is_8bit(const char *addr);

/* Parse the -N argument: "Name <addr>", "Name", "<addr>" or "addr".
 * name gets the display name (trimmed, outer quotes removed), addr the
 * address inside <> or "" when there is none. */
int addr_parse_display(const char *in, struct buf *name, struct buf *addr, struct cl_err *err);

/* Split a comma-separated list of addresses ("a@x, b@y") calling cb on each
 * trimmed, non-empty element. Stops and returns -1 if cb does. */
int addr_split_list(const char *in, int (*cb)(void *arg, const char *addr), void *arg);

#endif
