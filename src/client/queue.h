/*
 * queue.h - clsmtpc's offline queue on disk: one file per message (its
 * connection, envelope and bytes), states encoded in the file's name, every
 * change one rename(2) plus an fsync of the directory. docs/queue.md is the
 * contract: the layout, the file format and what each file guarantees.
 * queue_file.c reads and writes names and headers (no I/O); queue.c does the
 * directories, the lock, storing, scanning and moving.
 */
#ifndef CLSMTPC_QUEUE_H
#define CLSMTPC_QUEUE_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "base/buf.h"
#include "base/err.h"
#include "engine/smtp_client.h"

/* Hex: creation time in seconds (8 digits) and microseconds (5), 12
 * random bits (3). */
#define QUEUE_ID_LEN         16
#define QUEUE_FORMAT_VERSION 1
/* Backoff after the A-th failed attempt: min(BASE * 2^(A-1), MAX). */
#define QUEUE_BACKOFF_BASE_S 60
#define QUEUE_BACKOFF_MAX_S  (4 * 3600)
/* Postfix's maximal_queue_lifetime: 5 days. */
#define QUEUE_LIFETIME_S (5 * 24 * 3600)
/* A tmp/ file this old has no writer left (a store takes milliseconds). */
#define QUEUE_TMP_STALE_S 3600
/* A header holds up to OPT_RCPT_MAX recipients of at most 320 bytes. */
#define QUEUE_HEADER_MAX (1024 * 1024)
/* Longest file name we make: ID.s1.A.T */
#define QUEUE_NAME_MAX 64

/* ---- names (queue_file.c) ------------------------------------------- */

struct queue_name {
	char id[QUEUE_ID_LEN + 1];
	int sending;       /* 's' (a flush holds it) rather than 'q' */
	int uncertain;     /* an earlier attempt may have delivered it */
	unsigned attempts; /* failed attempts so far */
	long long next;    /* Unix time of the next attempt under --flush=due */
};

/* Parse "ID.q0.A.T" (or s0, q1, s1). -1 for any other name (ID.err, junk). */
int queue_file_name_parse(const char *s, struct queue_name *n);
/* Write the name of n into out (reset first). */
int queue_file_name_format(const struct queue_name *n, struct buf *out);
/* 1 if s is a well-formed ID (16 lower-case hex digits). */
int queue_file_id_valid(const char *s);
/* Seconds to wait after the attempts-th failed attempt. */
long long queue_file_backoff(unsigned attempts);

/* ---- the header of a queue file (queue_file.c) ---------------------- */

/* Strings point into storage owned by the header (after a parse) or by the
 * caller (before a format). NULL means "not set". */
struct queue_header {
	char id[QUEUE_ID_LEN + 1];
	long long created;
	/* where the settings came from */
	const char *account, *config;
	/* the connection */
	const char *host, *port;
	enum smtp_tls_mode tls_mode;
	const char *auth; /* NULL: no AUTH */
	const char *user;
	const char *trust_file, *fingerprint;
	int certcheck; /* 1 on, 0 off */
	int family;    /* AF_UNSPEC, AF_INET, AF_INET6 */
	const char *domain;
	int timeout_s; /* 0: RFC 5321's */
	/* the password's source, never the password */
	const char *passfile, *passwordeval, *password_env;
	int keyring;
	/* the envelope */
	const char *from; /* "" for <> */
	const char **rcpts;
	size_t nrcpt;
	int body_8bit, smtputf8;
	const char *message_id;
	long long size; /* bytes of message after the header */
	/* storage of a parsed header */
	char *store_;
	const char **rcpts_store_;
};

void queue_file_header_init(struct queue_header *h);
void queue_file_header_free(struct queue_header *h);
/* Append the header and its terminating empty line to out. CL_EDATA if a
 * value holds CR, LF or NUL. size < 0 writes a fixed-width blank field to
 * be filled with queue_file_size_field once the size is known. */
int queue_file_header_format(const struct queue_header *h, struct buf *out, size_t *size_at,
                             struct cl_err *err);
/* The 20 characters that replace the blank size field. */
void queue_file_size_field(long long size, char out[21]);
/* Parse text (the header up to and including its empty line, *used set to
 * its length) into h, which is overwritten (free it first if it held a
 * parsed header). Returns 0, 1 if text holds no complete header yet, or -1
 * (CL_EDATA: unknown version or key, bad value, missing field). */
int queue_file_header_parse(const char *text, size_t len, struct queue_header *h, size_t *used,
                            struct cl_err *err);
/* The connection and password source as one string: messages with equal
 * keys share a session. */
int queue_file_conn_key(const struct queue_header *h, struct buf *out);
/* The Message-ID field of a message's header section, if any, into out. */
int queue_file_find_message_id(const char *msg, size_t len, struct buf *out);

/* ---- the directories (queue.c) -------------------------------------- */

struct queue {
	char *path;
	int dirfd, msgfd, tmpfd, failedfd, lockfd;
};

/* The default queue directory: $XDG_STATE_HOME/clsmtpc/queue or
 * ~/.local/state/clsmtpc/queue. */
int queue_default_dir(struct buf *out, struct cl_err *err);
/* Open (create when asked) the queue at path, checking ownership and
 * modes. Returns 0, 1 if it does not exist and create is 0, or -1. */
int queue_open(struct queue *q, const char *path, int create, struct cl_err *err);
void queue_close(struct queue *q);
/* Take the queue's lock without waiting: CL_ETEMP if another process has
 * it. Released by queue_close (or when the process dies). */
int queue_lock(struct queue *q, struct cl_err *err);
/* fsync a directory of the queue. */
int queue_sync_dir(struct queue *q, int dirfd, struct cl_err *err);

/* Store a message: h's connection and envelope, body's bytes. Fills h->id,
 * h->created and h->size; the message is durable when this returns 0.
 * last_error (may be NULL) is the failure that made us queue it. */
int queue_store(struct queue *q, struct queue_header *h, struct smtp_body_source *body,
                const char *last_error, struct cl_err *err);

/* One entry of a directory listing. */
struct queue_item {
	char name[QUEUE_NAME_MAX];
	struct queue_name qn; /* for msg/ entries */
	int failed;           /* an entry of failed/ (qn.id only) */
};
/* The message files of msg/ (failed also: of failed/), sorted by ID;
 * other names are skipped. *items is malloc'ed. */
int queue_scan(struct queue *q, int with_failed, struct queue_item **items, size_t *n,
               struct cl_err *err);

/* Open a queue file (dirfd: q->msgfd or q->failedfd) and read its header;
 * the descriptor is left at the first byte of the message. Refuses a file
 * not owned by us. */
int queue_read(struct queue *q, int dirfd, const char *name, struct queue_header *h, int *fd,
               struct cl_err *err);
/* Rename in msg/ from one state to another and fsync msg/ (sync 0: leave
 * the fsync to the caller). */
int queue_rename(struct queue *q, const struct queue_name *from, const struct queue_name *to,
                 int sync, struct cl_err *err);
/* Move msg/<from> to failed/ID with reason (one line) in failed/ID.err. */
int queue_fail(struct queue *q, const struct queue_name *from, const char *reason,
               struct cl_err *err);
/* Remove msg/<n> after delivery, with its error file; no fsync. */
int queue_remove_sent(struct queue *q, const struct queue_name *n, struct cl_err *err);
/* Write dir/ID.err (informational: no fsync). */
void queue_write_error(struct queue *q, int dirfd, const char *id, const char *text);
/* Read dir/ID.err into out ("" if none). */
void queue_read_error(struct queue *q, int dirfd, const char *id, struct buf *out);
/* Remove message ID (queued or failed); CL_EUSAGE if there is none. The
 * caller holds the lock. */
int queue_drop(struct queue *q, const char *id, struct cl_err *err);
/* The start of a flush (lock held): s0 -> q1, s1 -> failed/, leftovers of
 * cut-off moves and stale tmp/ files removed. Counts what it did. */
int queue_recover(struct queue *q, time_t now, unsigned *resent, unsigned *held,
                  struct cl_err *err);


#endif
