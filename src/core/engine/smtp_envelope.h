/*
 * smtp_envelope.h - a message's envelope as the server at hand takes it:
 * with SMTPUTF8 the addresses go as they are, without it every domain goes
 * as A-labels (addr_idn.h) and a non-ASCII local part is an error.
 */
#ifndef CLSMTP_SMTP_ENVELOPE_H
#define CLSMTP_SMTP_ENVELOPE_H

#include "base/buf.h"
#include "base/err.h"
#include "engine/smtp_client.h"

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
