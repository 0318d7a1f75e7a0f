/*
 * server.h - what every part of the running clsmtpd shares: the
 * configuration, the spool, the SASL server and users, the TLS context
 * (replaced on SIGHUP) and the pipe that wakes the delivery agent.
 */
#ifndef CLSMTPD_SERVER_H
#define CLSMTPD_SERVER_H

#include "conf.h"
#include "sasl_server.h"
#include "spool.h"
#include "tls_server.h"
#include "users.h"

struct srv {
	struct conf *conf;
	struct spool *spool;
	struct sasl_server *sasl;
	struct users users;
	struct tls_server_ctx *tls; /* NULL without tls_cert */
	int wake_fd;                /* write end; -1 when there is no agent */
	unsigned nsessions;
};

/* Tell the delivery agent there is new mail (never blocks). */
void srv_wake_agent(struct srv *s);

#endif
