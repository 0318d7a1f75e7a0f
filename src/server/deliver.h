/*
 * deliver.h - the local delivery agent: a child process of clsmtpd that
 * works only from the spool. It is woken through a pipe after each commit,
 * rescans the spool at start (so a restart resumes exactly) and at least
 * every DELIVER_RESCAN_S, and journals every outcome per recipient.
 */
#ifndef CLSMTPD_DELIVER_H
#define CLSMTPD_DELIVER_H

#include "spool.h"

#define DELIVER_RESCAN_S 60
/* A local delivery that failed temporarily is tried again after this. */
#define DELIVER_RETRY_S 60

/* Deliver every due local recipient once; returns the seconds until the
 * next deferred one is due (or DELIVER_RESCAN_S). */
int deliver_pass(struct spool *sp);
/* The agent's main loop: returns when wakefd reaches EOF (parent gone). */
void deliver_run(struct spool *sp, int wakefd);

#endif
