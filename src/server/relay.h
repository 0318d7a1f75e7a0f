/*
 * relay.h - the relay agent: a child process of clsmtpd, like the local
 * delivery agent, that works only from the spool. It sends the "relay"
 * recipients through the smarthost (or to the domains' MX hosts) with the
 * client engine of clsmtpc (smtp_client.h), many messages per connection,
 * journals every recipient's outcome, retries with exponential backoff,
 * gives up after the queue lifetime and has failure notices queued (dsn.h).
 */
#ifndef CLSMTPD_RELAY_H
#define CLSMTPD_RELAY_H

#include <time.h>

#include "conf.h"
#include "serve/spool.h"

/* Look at the spool at least this often even when nothing is due. */
#define RELAY_RESCAN_S 300

/* Seconds to wait after the n-th failed attempt (n >= 1): retry_min,
 * doubling each time, never more than retry_max. */
int relay_backoff(const struct relay_conf *rc, int n);
/* The agent's main loop: returns when wakefd reaches EOF (clsmtpd gone). */
void relay_run(const struct conf *c, struct spool *sp, int wakefd);

#endif
