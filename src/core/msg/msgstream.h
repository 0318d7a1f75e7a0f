/*
 * msgstream.h - a message as a list of pieces read in order by the SMTP
 * engine (a struct smtp_body_source): bytes in memory (header, text parts,
 * MIME boundaries), files turned into base64 lines as they are read
 * (attachments), and a spool file sent as it is (--raw). Memory stays at one
 * read buffer whatever the size of the files: a 100 MB attachment is never
 * held whole.
 */
#ifndef CLSMTP_MSGSTREAM_H
#define CLSMTP_MSGSTREAM_H

#include "base/b64.h"
#include "base/buf.h"
#include "base/err.h"
#include "smtp/body_source.h"

/* Largest piece held in memory (header and text parts of one message). */
#define MSGSTREAM_MEM_MAX (256u * 1024 * 1024)
/* Octets read from a file per read(2): 1024 base64 lines' worth. */
#define MSGSTREAM_READ (B64_LINE_RAW * 1024)

enum msgstream_kind {
	MSGSTREAM_MEM, /* bytes held here */
	MSGSTREAM_B64, /* a file, base64 in 76-column CRLF lines */
	MSGSTREAM_FD,  /* a file, sent as it is (already canonical) */
};

struct msgstream_seg {
	enum msgstream_kind kind;
	struct buf mem;   /* MEM: the bytes */
	int fd;           /* B64, FD: read from here (not closed by us) */
	const char *peek; /* B64: bytes already read from fd, sent first */
	size_t npeek;
	long long size;  /* B64, FD: octets the fd holds, -1 unknown */
	long long done;  /* octets consumed from peek and fd */
	long long start; /* fd's offset when added, -1 if it cannot seek */
	char what[256];  /* names the file in errors */
	struct b64_enc enc;
};

struct msgstream {
	struct msgstream_seg *seg;
	size_t nseg, cap;
	size_t cur;          /* segment being read */
	size_t off;          /* read offset in a MEM segment */
	int seg_eof;         /* the current B64/FD segment's file is at its end */
	unsigned char *rbuf; /* MSGSTREAM_READ octets, allocated on first use */
};

void msgstream_init(struct msgstream *ms);
void msgstream_free(struct msgstream *ms);
/* The memory piece at the end of the stream, to append to (a new one if the
 * last piece is a file). NULL if out of memory. */
struct buf *msgstream_mem(struct msgstream *ms);
/* Append bytes (or a string) to the memory piece at the end. */
int msgstream_add(struct msgstream *ms, const void *p, size_t n);
int msgstream_adds(struct msgstream *ms, const char *s);
/* A file as base64 lines: peek (npeek octets already read from fd) then the
 * rest of fd; size is the whole (peek included), -1 if unknown (a pipe).
 * what names it in errors ("attachment report.pdf"). */
int msgstream_add_b64(struct msgstream *ms, int fd, const char *peek, size_t npeek, long long size,
                      const char *what);
/* A file sent as it is from its current offset, size octets (-1 unknown). */
int msgstream_add_fd(struct msgstream *ms, int fd, long long size, const char *what);

/* Octets the stream will produce, or -1 if a file's size is unknown. */
long long msgstream_size(const struct msgstream *ms);
/* Fill src to read ms from its start (the body source of a smtp_message). */
void msgstream_source(struct msgstream *ms, struct smtp_body_source *src);
/* The read callback itself: append up to max octets; 1 more, 0 end, -1. */
int msgstream_read(void *arg, struct buf *out, size_t max, struct cl_err *err);
/* Back to the start, to read the message again (the offline queue keeps a
 * message the server did not take): -1 (CL_EIO) if a file piece cannot be
 * read again (a pipe that was read from). */
int msgstream_rewind(struct msgstream *ms, struct cl_err *err);
/* Read everything that is left into out (tests, and small messages). */
int msgstream_drain(struct msgstream *ms, struct buf *out, struct cl_err *err);

/* Encoded size of n octets as base64 lines of 76 characters + CRLF. */
long long msgstream_b64_size(long long n);

#endif
