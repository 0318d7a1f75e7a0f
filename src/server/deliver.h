/*
 * deliver.h - the local delivery agent: a child process of clsmtpd that
 * works only from the spool. It is woken through a pipe after each commit,
 * rescans the spool at start (so a restart resumes exactly) and at least
 * every DELIVER_RESCAN_S, and journals every outcome per recipient.
 */
#ifndef CLSMTPD_DELIVER_H
#define CLSMTPD_DELIVER_H

#include "conf.h"
#include "serve/spool.h"

#define DELIVER_RESCAN_S 60
/* A local delivery that failed temporarily is first tried again after
 * this, then after longer waits (deliver_backoff), until the queue lifetime
 * (queue_lifetime) has passed: then it fails and the sender gets a failure
 * notice (dsn.h). */
#define DELIVER_RETRY_S 60
/* Seconds before the next try of a recipient that failed n times (n >= 1):
 * DELIVER_RETRY_S, doubling, never more than retry_max. A Maildir its owner
 * repairs is found within a minute at first; a broken one is not tried
 * every minute for the whole queue lifetime. */
int deliver_backoff(const struct conf *c, int n);

/* Deliver every due local recipient once (every deferred one if flush),
 * in batches whose flushes are shared (maildir.h; the order that keeps it
 * safe is in docs/spool.md); returns the seconds until the next deferred
 * one is due (or DELIVER_RESCAN_S). */
int deliver_pass(const struct conf *c, struct spool *sp, int flush);
/* The agent's main loop: returns when wakefd reaches EOF (parent gone).
 * "clsmtpd -flush" reaches it through SPOOL/local.flush (queuectl.h). */
void deliver_run(const struct conf *c, struct spool *sp, int wakefd);

#endif
