/*
 * log.h - clsmtpd's log: one line per event, to syslog (mail facility) or
 * to stderr ("clsmtpd[PID]: QID: ..."). Lines are cut at LOG_LINE_MAX and
 * control characters are shown as '?', so a client cannot forge log lines.
 */
#ifndef CLSMTPD_LOG_H
#define CLSMTPD_LOG_H

#include <syslog.h>
#include "base/buf.h"

#define LOG_LINE_MAX 2048

void log_init(const char *ident, int to_stderr);
void log_msg(int prio, const char *fmt, ...) BUF_PRINTF(2, 3);

#endif
