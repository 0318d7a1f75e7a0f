/*
 * maildir.h - delivery into a Maildir (https://cr.yp.to/proto/maildir.html):
 * a unique file in tmp/, written and fsynced, renamed into new/, and new/
 * fsynced, before the delivery counts as done. A batch does this for many
 * files at once, in an order that lets them share the file system's flushes.
 */
#ifndef CLSMTPD_MAILDIR_H
#define CLSMTPD_MAILDIR_H

#include <stddef.h>

#include "base/err.h"

/* A batch holds at most this many files (each an open descriptor until
 * its commit), and stops taking more once this many bytes are written:
 * the dirty data waiting for one flush, and the wait of the first
 * message for its outcome, stay bounded. */
#define MAILDIR_BATCH_FILES 64
#define MAILDIR_BATCH_BYTES (4 * 1024 * 1024)

struct maildir_batch;

int maildir_batch_new(struct maildir_batch **out, struct cl_err *err);
void maildir_batch_free(struct maildir_batch *b);
/* Copy the message from fd (CRLF lines, as spooled) into a new file in
 * dir/tmp/, creating dir, tmp/, new/ and cur/ when missing; lines are
 * stored with LF, as Maildir readers expect. return_path (the envelope
 * sender, "" for <>; NULL: none) is written first as the Return-Path:
 * field the final delivery adds (RFC 5321 4.4). Returns the file's index in
 * the batch, or -1 (class CL_ETEMP) when this file failed: the batch
 * itself goes on. Nothing is in new/ before maildir_batch_commit. */
int maildir_batch_add(struct maildir_batch *b, const char *dir, int fd, const char *qid,
                      const char *return_path, struct cl_err *err);
/* 1 when the batch holds MAILDIR_BATCH_FILES files or MAILDIR_BATCH_BYTES
 * bytes: commit it before adding more. */
int maildir_batch_full(const struct maildir_batch *b);
/* Make every file of the batch durable in new/: fsync each file, rename
 * each into new/, then fsync each distinct new/ directory once. A failure
 * fails only the files it concerns (a directory: the files in it). */
void maildir_batch_commit(struct maildir_batch *b);
/* After the commit: 0 if file i is durably in new/, else -1 with its
 * error (CL_ETEMP). */
int maildir_batch_result(const struct maildir_batch *b, size_t i, struct cl_err *err);
/* Empty the batch for the next one (tmp/ files never renamed are removed). */
void maildir_batch_reset(struct maildir_batch *b);

/* One message alone: a batch of one file. Class CL_ETEMP on failure
 * (CL_ESOFTWARE out of memory). */
int maildir_deliver(const char *dir, int fd, const char *qid, struct cl_err *err);

#endif
