/*
 * timeout.c - monotonic deadlines and a bounded poll (see timeout.h).
 * EINTR restarts the wait with the time that remains.
 */
#include "base/timeout.h"

#include <errno.h>
#include <poll.h>
#include <time.h>

int64_t timeout_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int timeout_wait_fd(int fd, short events, int64_t deadline_ms)
{
	struct pollfd p;
	int64_t left;
	int r;

	for (;;) {
		left = deadline_ms - timeout_now_ms();
		if (left < 0)
			left = 0;
		p.fd = fd;
		p.events = events;
		p.revents = 0;
		r = poll(&p, 1, left > 0x7fffffff ? 0x7fffffff : (int)left);
		if (r > 0)
			return 1;
		if (r == 0)
			return 0;
		if (errno != EINTR)
			return -1;
	}
}
