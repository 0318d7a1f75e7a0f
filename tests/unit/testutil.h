/*
 * testutil.h - helpers the unit tests share (header-only, beside check.h,
 * which it needs): a seeded xorshift64* generator so that every run is the
 * same, writing a file, appending a code point as UTF-8, and a loopback
 * listener on a free port. One copy instead of one per test file.
 */
#ifndef CLSMTP_TESTUTIL_H
#define CLSMTP_TESTUTIL_H

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "check.h"

/* xorshift64*: the next number of the sequence kept in *state. */
static inline uint32_t test_xorshift(uint64_t *state)
{
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return (uint32_t)((*state * 0x2545f4914f6cdd1dull) >> 32);
}

/* TEST_RNG(rng, SEED): a generator rng() with a fixed seed of its own. */
#define TEST_RNG(name, seed)                                                                       \
	static uint64_t name##_state = (seed);                                                     \
	static uint32_t name(void)                                                                 \
	{                                                                                          \
		return test_xorshift(&name##_state);                                               \
	}

/* Write len bytes to DIR/NAME (or to NAME when dir is NULL), replacing
 * what was there, with the given mode; -1 (and the test fails) if not. */
static inline int test_write_file(const char *dir, const char *name, const void *data, size_t len,
                                  mode_t mode)
{
	char path[4096];
	int fd, r = -1;

	if (snprintf(path, sizeof(path), "%s%s%s", dir ? dir : "", dir ? "/" : "", name) >=
	    (int)sizeof(path))
		return -1;
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd >= 0 && (len == 0 || write(fd, data, len) == (ssize_t)len) && fchmod(fd, mode) == 0)
		r = 0;
	if (fd >= 0 && close(fd) < 0)
		r = -1;
	if (r < 0) {
		printf("# cannot write %s\n", path);
		check_failed_now = 1;
	}
	return r;
}

/* Append the UTF-8 form of code point cp. */
static inline void test_put_utf8(struct buf *b, uint32_t cp)
{
	char u[4];

	if (cp < 0x80) {
		buf_addc(b, (char)cp);
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | cp >> 6), u[1] = (char)(0x80 | (cp & 0x3f));
		buf_add(b, u, 2);
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | cp >> 12), u[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		buf_add(b, u, 3);
	} else {
		u[0] = (char)(0xf0 | cp >> 18), u[1] = (char)(0x80 | (cp >> 12 & 0x3f));
		u[2] = (char)(0x80 | (cp >> 6 & 0x3f)), u[3] = (char)(0x80 | (cp & 0x3f));
		buf_add(b, u, 4);
	}
}

/* A listening loopback socket on a free port (in *port); -1 on failure. */
static inline int test_listener(int *port)
{
	struct sockaddr_in a;
	socklen_t l = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 4) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &l) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*port = ntohs(a.sin_port);
	return fd;
}

#endif
