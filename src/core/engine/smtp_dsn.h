/*
 * smtp_dsn.h - the RFC 3461 parameters of a message (RET, ENVID, NOTIFY,
 * ORCPT) checked before anything is sent: each goes on the wire as it is,
 * so a bad one is refused rather than written. No I/O.
 */
#ifndef CLSMTP_SMTP_DSN_H
#define CLSMTP_SMTP_DSN_H

#include "base/err.h"
#include "engine/smtp_client.h"

/* RFC 3461 4.4: an ENVID is at most 100 characters; 4.2: an ORCPT at most
 * 500 (both counted as sent, in xtext). */
#define SMTP_DSN_ENVID_MAX 100
#define SMTP_DSN_ORCPT_MAX 500

/* 0 if every DSN parameter of m is well formed, else -1 (CL_EDATA, naming
 * the parameter and the recipient). */
int smtp_dsn_check(const struct smtp_message *m, struct cl_err *err);
/* 1 if m has any DSN parameter. */
int smtp_dsn_any(const struct smtp_message *m);

#endif
