/*
 * queue_flush.h - send what the offline queue holds (queue_flush.c): under
 * the queue's lock, recover what a killed flush left, group the messages by
 * connection and send each group over one session, back to back.
 */
#ifndef CLSMTPC_QUEUE_FLUSH_H
#define CLSMTPC_QUEUE_FLUSH_H

#include <stdio.h>
#include <time.h>

#include "queue.h"

/* How messages reach a server. The default is the core engine
 * (smtp_client.h); unit tests plug in a recorder. */
struct queue_transport {
	/* Connect for h's connection (h stays valid until close). */
	int (*open)(void *arg, const struct queue_header *h, struct cl_err *err);
	/* Send one message; last: nothing follows on this session. After a
	 * failure the session is closed and open is called again. */
	int (*send)(void *arg, const struct queue_header *h, struct smtp_body_source *body,
	            int last, struct cl_err *err);
	/* Close the session if one is open. */
	void (*close)(void *arg);
	void *arg;
};

struct queue_flush_opts {
	int due_only; /* --flush=due: only messages whose next attempt has come */
	int verbose;  /* -v: the session transcript on stderr */
	int progress; /* a progress line (stderr is a terminal) */
	FILE *report; /* where per-message trouble goes (stderr) */
	time_t now;   /* 0: time(NULL) */
	const struct queue_transport *transport; /* NULL: the core engine */
};

struct queue_flush_stats {
	unsigned sent, deferred, failed, not_due, bad;
	unsigned resent;    /* found in "sending" (a killed flush): sent again */
	unsigned held;      /* found in "sending" a second time: moved to failed/ */
	long long next_due; /* earliest next attempt among those not due, 0 if none */
};

/* Flush the queue q. Returns 0 when everything attempted was sent, else -1:
 * CL_ETEMP (some deferred, or another flush holds the lock), CL_EUNAVAIL
 * (some failed permanently), with a one-line summary in err. */
int queue_flush_run(struct queue *q, const struct queue_flush_opts *fo,
                    struct queue_flush_stats *st, struct cl_err *err);

#endif
