/*
 * timeout.h - deadlines on the monotonic clock, and a poll() wrapper that
 * waits for one descriptor until a deadline. Used by every blocking wait in
 * the client so that no read, write or handshake can hang for ever.
 */
#ifndef CLSMTP_TIMEOUT_H
#define CLSMTP_TIMEOUT_H

#include <stdint.h>

/* Milliseconds on CLOCK_MONOTONIC. */
int64_t timeout_now_ms(void);
/* Wait until fd is readable (events POLLIN) or writable (POLLOUT) or the
 * deadline passes. Returns 1 ready, 0 timed out, -1 poll error (errno). */
int timeout_wait_fd(int fd, short events, int64_t deadline_ms);

#endif
