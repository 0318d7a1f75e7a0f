/*
 * body_source.h - how a message's bytes reach the SMTP engines: a read
 * callback over canonical CRLF text (not dot-stuffed), and one over bytes
 * in memory (body_source.c). Its own header so that the message layer
 * can produce a body without including the client engine.
 */
#ifndef CLSMTP_BODY_SOURCE_H
#define CLSMTP_BODY_SOURCE_H

#include <stddef.h>

#include "base/buf.h"
#include "base/err.h"

/* The message bytes, canonical CRLF form, not dot-stuffed. */
struct smtp_body_source {
	/* Append up to max bytes to out: 1 more to come, 0 end, -1 error. */
	int (*read)(void *arg, struct buf *out, size_t max, struct cl_err *err);
	void *arg;
	long long size; /* total size if known (for SIZE=), else -1 */
};

/* A body source over bytes in memory. */
struct smtp_mem_source {
	const char *data;
	size_t len, off;
};
void smtp_body_from_memory(struct smtp_body_source *src, struct smtp_mem_source *mem,
			   const char *data, size_t len);

/* A body source over size bytes of a file descriptor, read from where it
 * stands; what names the file in errors ("spool", "queue"): a read error,
 * or an end before size bytes (the file changed under us), is CL_EIO. */
struct smtp_fd_source {
	int fd;
	long long left;
	const char *what;
};
void smtp_body_from_fd(struct smtp_body_source *src, struct smtp_fd_source *fs, int fd,
                       long long size, const char *what);

/* Header fields added in front of another source (the relay's DKIM
 * signatures before the spooled message): pre first, then inner's bytes. */
struct smtp_prefix_source {
	struct smtp_body_source inner;
	const char *pre;
	size_t len, off;
};
void smtp_body_prefixed(struct smtp_body_source *src, struct smtp_prefix_source *ps,
                        const char *pre, size_t len, const struct smtp_body_source *inner);

#endif
