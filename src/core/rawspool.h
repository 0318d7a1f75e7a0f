/*
 * rawspool.h - a whole RFC 5322 message given by the user (--raw): spooled
 * from its file descriptor to an unlinked temporary file with every line
 * ending made CRLF and any Bcc field left out, its header section checked
 * and kept, so that it can be streamed after a Date and a Message-ID that
 * are added only when it has none.
 */
#ifndef CLSMTP_RAWSPOOL_H
#define CLSMTP_RAWSPOOL_H

#include <time.h>

#include "buf.h"
#include "err.h"
#include "msgstream.h"

/* Largest header section we accept (Postfix's header_size_limit is 100 KB). */
#define RAWSPOOL_HEADER_MAX (1024 * 1024)

struct rawspool {
	int fd;            /* the spool, unlinked; -1 before rawspool_spool */
	long long size;    /* octets in it */
	int is_8bit;       /* an octet above 127 somewhere: BODY=8BITMIME */
	int has_date;      /* the header has a Date field */
	int has_msgid;     /* ... a Message-ID field */
	size_t dropped;    /* Bcc fields left out */
	struct buf header; /* the header section as spooled, CRLF, no Bcc */
};

void rawspool_init(struct rawspool *r);
/* Read fd to its end into the spool (in $TMPDIR or /tmp). Errors: CL_EIO,
 * CL_EDATA (empty input, a header line that is not a field, header too
 * large). A leading mbox "From " line is dropped. */
int rawspool_spool(struct rawspool *r, int fd, struct cl_err *err);
/* Append to ms the Date and Message-ID fields the message lacks (date 0:
 * now; msgid_domain: right-hand side), then the spool from its start. */
int rawspool_stream(struct rawspool *r, const char *msgid_domain, time_t date, struct msgstream *ms,
                    struct cl_err *err);
void rawspool_free(struct rawspool *r);

#endif
