/*
 * xtext.h - RFC 3461 section 4 "xtext", the encoding of the DSN parameters
 * ENVID= and ORCPT=: printable ASCII except "+" and "=", any other octet
 * as "+XX". One checker for everything we read or write, one decoder for
 * the failure notices.
 */
#ifndef CLSMTP_XTEXT_H
#define CLSMTP_XTEXT_H

#include <stddef.h>
#include "base/buf.h"

/* 1 if v[0..n) is xtext (so never a space, control, CR, LF or NUL). */
int xtext_valid(const char *v, size_t n);
/* Decode in into out; -1 if it would produce a control character (a
 * "+0D+0A" would write a line of the sender's choosing into a report) or
 * out is full. A "+" not followed by two hex digits is kept as it is. */
int xtext_decode(const char *in, struct buf *out);

#endif
