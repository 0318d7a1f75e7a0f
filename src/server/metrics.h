/*
 * metrics.h - clsmtpd's counters for Prometheus: what the reception, the
 * delivery agent and the relay agent count (in one shared page, so that
 * the agents' counts reach the daemon that answers "clsmtpd -stats
 * --format=prometheus"), and the exposition text built from them, from
 * the defence's counters and from the queue (docs/metrics.md).
 */
#ifndef CLSMTPD_METRICS_H
#define CLSMTPD_METRICS_H

#include <stdint.h>
#include <time.h>

#include "base/buf.h"
#include "base/err.h"
#include "defence.h"

/* Why a message (or one of its recipients) was refused at reception. */
enum metrics_refusal {
	METRICS_REFUSED_SENDER,    /* MAIL FROM refused by the sender policy */
	METRICS_REFUSED_RELAY,     /* RCPT: relay access denied (554 5.7.1) */
	METRICS_REFUSED_RECIPIENT, /* RCPT: unknown user or other refusal */
	METRICS_REFUSED_CONTENT,   /* DATA refused (size, bare CR/LF, line length) */
	METRICS_REFUSED_QUEUE,     /* our spool could not take it (451) */
	METRICS_REFUSALS
};

enum metrics_class { METRICS_LOCAL, METRICS_RELAY, METRICS_CLASSES };
enum metrics_outcome { METRICS_SENT, METRICS_DEFERRED, METRICS_BOUNCED, METRICS_OUTCOMES };

/* Upper bounds (seconds) of the relay delay histogram: from acceptance to
 * the next hop's 250; a home server's mail leaves within a second, a
 * smarthost outage keeps it hours (retry_max 4h, queue_lifetime 5d). */
#define METRICS_DELAY_BUCKETS 9
extern const unsigned metrics_delay_le[METRICS_DELAY_BUCKETS];

struct metrics {
	uint64_t accepted, accepted_bytes;
	uint64_t refused[METRICS_REFUSALS];
	uint64_t outcome[METRICS_CLASSES][METRICS_OUTCOMES];
	uint64_t delay_bucket[METRICS_DELAY_BUCKETS]; /* not cumulative */
	uint64_t delay_count, delay_sum;              /* seconds */
};

/* What the queue holds (metrics_queue.c reads it from the spool). */
struct metrics_queue {
	uint64_t messages, recipients[METRICS_CLASSES], deferred;
	time_t oldest; /* arrival of the oldest message; 0: empty */
};

/* Map the counters into memory shared with the agents forked later;
 * before that (and in tests) they live in this process only. */
int metrics_init(struct cl_err *err);
void metrics_refused(enum metrics_refusal why);
void metrics_accepted(uint64_t bytes);
void metrics_outcome(enum metrics_class cls, enum metrics_outcome o);
/* A relayed recipient accepted by the next hop, seconds after arrival. */
void metrics_relay_delay(long long seconds);
/* A consistent-enough copy (each counter read atomically). */
void metrics_snapshot(struct metrics *out);
/* When metrics_init ran (the daemon's start). */
time_t metrics_start_time(void);

/* The daemon's part of the exposition text: reception, delivery and relay
 * counters, and the defence's (d may be NULL). */
void metrics_render(const struct metrics *m, struct defence *d, unsigned sessions, int64_t now,
                    time_t started, struct buf *out);
/* The queue's part, at wall time now. */
void metrics_render_queue(const struct metrics_queue *q, time_t now, struct buf *out);
/* Replace file with text atomically (FILE.tmpPID, rename), mode 0644: the
 * node_exporter textfile collector never reads half a file. */
int metrics_write_file(const char *file, const struct buf *text, struct cl_err *err);

#endif
