/*
 * fdio.c - whole writes to a file descriptor (fdio.h).
 */
#include "base/fdio.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"

int fd_write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		ssize_t w = write(fd, c, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		if (w == 0) {
			errno = EIO;
			return -1;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

int fd_first_line(int fd, size_t max, struct buf *out)
{
	char tmp[4096];
	ssize_t n;

	if (max > sizeof(tmp) - 1)
		max = sizeof(tmp) - 1;
	do
		n = read(fd, tmp, max);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return -1;
	tmp[n] = '\0';
	tmp[strcspn(tmp, "\r\n")] = '\0';
	return buf_adds(out, tmp);
}
