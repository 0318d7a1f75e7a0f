/*
 * metrics_queue.h - count the messages and open recipients of a spool and
 * find the oldest, for clsmtpd's queue metrics (metrics.h).
 */
#ifndef CLSMTPD_METRICS_QUEUE_H
#define CLSMTPD_METRICS_QUEUE_H

#include "metrics.h"

int metrics_queue_read(const char *spooldir, struct metrics_queue *q, struct cl_err *err);

#endif
