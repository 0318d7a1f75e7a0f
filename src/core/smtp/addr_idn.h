/*
 * addr_idn.h - internationalised addresses for the server at hand. With
 * SMTPUTF8 (RFC 6531) they go as they are; without it a non-ASCII domain
 * goes out as A-labels (IDNA2008 through libidn2, RFC 5890), and a non-ASCII
 * local part cannot be sent at all: that is an error before the transaction.
 */
#ifndef CLSMTP_ADDR_IDN_H
#define CLSMTP_ADDR_IDN_H

#include "base/buf.h"
#include "base/err.h"

/* Append addr to out, its domain as A-labels if not ASCII. A non-ASCII
 * local part: CL_EUNAVAIL "<what> <addr>: the local part is not ASCII and
 * <server> does not offer SMTPUTF8 (RFC 6531)". An invalid IDN: CL_EDATA. */
int addr_idn_ascii(const char *addr, struct buf *out, const char *what, const char *server,
                   struct cl_err *err);

#endif
