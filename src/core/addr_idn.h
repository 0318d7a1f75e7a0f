/*
 * addr_idn.h - internationalised addresses for the server at hand. With
 * SMTPUTF8 (RFC 6531) they go as they are; without it a non-ASCII domain
 * goes out as A-labels (IDNA2008 through libidn2, RFC 5890), and a non-ASCII
 * local part cannot be sent at all: that is an error before the transaction.
 */
#ifndef CLSMTP_ADDR_IDN_H
#define CLSMTP_ADDR_IDN_H

#include "buf.h"
#include "err.h"
#include "smtp_client.h"

/* Append addr to out, its domain as A-labels if not ASCII. A non-ASCII
 * local part: CL_EUNAVAIL "<what> <addr>: the local part is not ASCII and
 * <server> does not offer SMTPUTF8 (RFC 6531)". An invalid IDN: CL_EDATA. */
int addr_idn_ascii(const char *addr, struct buf *out, const char *what, const char *server,
                   struct cl_err *err);

/* The envelope of a message as this server takes it. */
struct addr_idn_env {
	struct smtp_message m; /* the message with rewritten addresses */
	const char **rcpts;
	struct buf store; /* the rewritten addresses, NUL-separated */
	size_t *offs;
};

/* Fill env from m for a server that does (smtputf8 != 0) or does not
 * offer SMTPUTF8. env->m.smtputf8 is m->smtputf8 (what the message's own
 * header needs), or 1 when an address stays non-ASCII. */
int addr_idn_envelope(const struct smtp_message *m, int smtputf8, const char *server,
                      struct addr_idn_env *env, struct cl_err *err);
void addr_idn_env_free(struct addr_idn_env *env);

#endif
