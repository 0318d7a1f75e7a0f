/*
 * fdio.h - whole writes to a file descriptor: write() until everything is
 * written, again after EINTR; a write that writes nothing is an error (it
 * would otherwise loop for ever). The one copy for the spool, the Maildir
 * writer, the ban list and the client's queue; and reading a small file's
 * first line.
 */
#ifndef CLSMTP_FDIO_H
#define CLSMTP_FDIO_H

#include <stddef.h>

/* 0, or -1 with errno set (EIO when write() returned 0). */
int fd_write_all(int fd, const void *p, size_t n);

/* The first line of what fd holds (at most max bytes read, the line end
 * not included) appended to out; -1 if nothing could be read. */
struct buf;
int fd_first_line(int fd, size_t max, struct buf *out);

#endif
