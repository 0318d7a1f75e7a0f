/*
 * attach.h - an attachment before it is sent: the open file (or standard
 * input), its size when it can be known without reading it, the name the
 * recipient sees, and its Content-Type (mimetype.h by name; text found by
 * content gets text/plain and a charset). Nothing is read into memory but
 * the first ATTACH_PEEK octets of a pipe.
 */
#ifndef CLSMTP_ATTACH_H
#define CLSMTP_ATTACH_H

#include "base/buf.h"
#include "base/err.h"

/* Octets of a pipe read ahead to tell text from binary. */
#define ATTACH_PEEK (64 * 1024)
/* Longest file name we send (bytes of UTF-8). */
#define ATTACH_NAME_MAX 1000

enum attach_text {
	ATTACH_BINARY, /* NUL or control characters: application/... */
	ATTACH_ASCII,  /* text, US-ASCII */
	ATTACH_UTF8,   /* text, UTF-8 with non-ASCII characters */
	ATTACH_OTHER,  /* text in some other charset (8-bit, or ISO-2022 escapes) */
};

struct attach {
	const char *path;    /* as given; "-" is standard input */
	struct buf name;     /* the file name for the recipient, UTF-8 */
	struct buf type;     /* "application/pdf" */
	const char *charset; /* for text: "UTF-8", "US-ASCII", or NULL */
	int fd, own_fd;
	long long size;  /* octets to send; -1 unknown (a pipe) */
	struct buf peek; /* octets already read from a pipe */
};

/* Open path ("-": standard input) to be sent under name (UTF-8; NULL: the
 * file's base name). table: media type table (NULL: the system's). Errors:
 * CL_EIO (cannot open or read; a directory), CL_EUSAGE ("-" without a
 * name), CL_EDATA (a name that is not UTF-8 or has control characters). */
int attach_open(struct attach *a, const char *path, const char *name, const char *table,
                struct cl_err *err);
void attach_close(struct attach *a);

/* What kind of text the n octets are; final: nothing follows them (else a
 * character cut at the end is not held against them). */
enum attach_text attach_classify(const char *p, size_t n, int final);

#endif
