/*
 * send_pretend.h - --pretend (msmtp -P): print the configuration a send
 * would use, in msmtp's "key = value" form and order, and send nothing.
 * Secrets are never printed: a password shows as "*".
 */
#ifndef CLSMTPC_SEND_PRETEND_H
#define CLSMTPC_SEND_PRETEND_H

#include <stdio.h>

#include "base/err.h"
#include "engine/smtp_client.h"
#include "options.h"

/* from: the sender as resolved ("" if none). */
int send_pretend(const struct client_opts *o, const struct smtp_client_params *p,
                 const char *from, FILE *out, struct cl_err *err);

#endif
