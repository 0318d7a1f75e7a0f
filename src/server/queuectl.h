/*
 * queuectl.h - the queue from the operator's side and the delivery agents'
 * control channel: "clsmtpd -q" lists the spool, "clsmtpd -flush" asks the
 * running agents to retry every deferred recipient now. Each agent reads a
 * FIFO in the spool, SPOOL/<agent>.flush, and holds SPOOL/<agent>.lock so
 * that never two of the same kind run (docs/spool.md).
 */
#ifndef CLSMTPD_QUEUE_CLI_H
#define CLSMTPD_QUEUE_CLI_H

#include <stdio.h>

#include "conf.h"

/* What a byte in an agent's FIFO asks for. */
#define QUEUE_CLI_FLUSH 'f' /* retry every deferred recipient now */
#define QUEUE_CLI_WAKE  'w' /* new mail for you (a failure notice) */

#define QUEUE_CLI_AGENT_LOCAL "local"
#define QUEUE_CLI_AGENT_RELAY "relay"

/* The agent side. Take SPOOL/<name>.lock, waiting while another agent of
 * the same name still runs; -1 if wakefd reaches EOF meanwhile (clsmtpd is
 * gone). Returns the descriptor to keep open. */
int queue_cli_agent_lock(const char *spooldir, const char *name, int wakefd);
/* Create and open SPOOL/<name>.flush (non-blocking); -1 on error. */
int queue_cli_agent_fifo(const char *spooldir, const char *name);
/* Drain the FIFO: 1 if a flush was asked for, else 0. */
int queue_cli_agent_read(int fifofd);

/* Send what (QUEUE_CLI_FLUSH or _WAKE) to the agent called name: 0 if a
 * running agent will see it, -1 if none runs. */
int queue_cli_poke(const char *spooldir, const char *name, char what);

/* clsmtpd -q: one block per message (QID, size, arrival, sender; then each
 * recipient with its class, state, attempts, next try and last reply). */
int queue_cli_list(const char *spooldir, FILE *out);
/* "clsmtpd -q" (flush = 0) and "clsmtpd -flush" (flush = 1) with the
 * configuration file cfile: the exit status (sysexits). */
int queue_cli_main(const char *cfile, int flush);

#endif
