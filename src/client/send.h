/*
 * send.h - send one mail as the command line describes it (send.c).
 */
#ifndef CLSMTPC_SEND_H
#define CLSMTPC_SEND_H

#include "base/err.h"
#include "options.h"
#include "smtp/body_source.h"

/* The message's bytes counted as the engine reads them (the log's size). */
struct send_count {
	struct smtp_body_source inner;
	long long bytes;
};

/* Compose and send; -1 with err on failure. With -v and no recipient,
 * only probe the server (greeting, capabilities, QUIT). */
int send_run(struct client_opts *o, struct cl_err *err);

#endif
