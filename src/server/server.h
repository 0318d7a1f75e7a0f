/*
 * server.h - what every part of the running clsmtpd shares: the
 * configuration, the spool, the SASL server and users, the TLS context
 * (replaced on SIGHUP), the pipes that wake the delivery agents and the
 * group commit.
 */
#ifndef CLSMTPD_SERVER_H
#define CLSMTPD_SERVER_H

#include "conf.h"
#include "commit.h"
#include "sasl/sasl_server.h"
#include "serve/spool.h"
#include "net/tls_server.h"
#include "users.h"

struct srv {
	struct conf *conf;
	struct spool *spool;
	struct sasl_server *sasl;
	struct users users;
	struct tls_server_ctx *tls;  /* NULL without tls_cert */
	int wake_fd;                 /* local agent's pipe, write end; -1: none */
	int relay_wake_fd;           /* relay agent's pipe, write end; -1: none */
	struct committer *committer; /* the group commit; NULL: commit in place */
	unsigned nsessions;
};

/* Tell the delivery agents there is new mail (never blocks; wake.c). */
void srv_wake_agent(struct srv *s);

#endif
