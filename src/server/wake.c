/*
 * wake.c - srv_wake_agent (server.h): one byte down each delivery agent's
 * pipe when new mail is committed. The pipes are non-blocking: a full pipe
 * means a wake-up is pending already, which is all we want.
 */
#include <unistd.h>

#include "server.h"

static void wake_one(int fd)
{
	char c = 1;

	if (fd >= 0 && write(fd, &c, 1) < 0) {
		/* EAGAIN: the agent has a wake-up pending already */
	}
}

void srv_wake_agent(struct srv *s)
{
	wake_one(s->wake_fd);
	wake_one(s->relay_wake_fd);
}
