/*
 * queue_cli.h - the offline queue on clsmtpc's command line (queue_cli.c):
 * --queue (store a message that failed temporarily), --flush[=due],
 * --list-queue, --drop-queued ID, --queue-dir DIR. docs/queue.md.
 */
#ifndef CLSMTPC_QUEUE_CLI_H
#define CLSMTPC_QUEUE_CLI_H

#include "base/err.h"
#include "options.h"
#include "engine/smtp_client.h"

/* 1 if o asks for a queue command (--flush, --list-queue, --drop-queued). */
int queue_cli_wanted(const struct client_opts *o);
/* Run that command. */
int queue_cli_run(struct client_opts *o, struct cl_err *err);
/* Before sending with --queue: refuse what could not be stored (a password
 * given with -r). CL_EUSAGE. */
int queue_cli_check(const struct client_opts *o, struct cl_err *err);
/* After a temporary failure (why, class CL_ETEMP) with --queue: store m
 * (m->body must be readable from its start) with o's connection settings
 * and print the note on stderr. On failure err says both what failed first
 * and why it could not be queued. */
int queue_cli_store(const struct client_opts *o, const struct smtp_message *m,
                    const struct cl_err *why, struct cl_err *err);

#endif
