/*
 * relay_rewrite.h - the From: field rewritten for a sender_relay account
 * with rewrite_from=yes (providers that take only mail From the account's
 * own address): the spooled header section read, its From address
 * replaced, the display name kept. The spool is not changed; failure
 * notices still go to the original sender.
 */
#ifndef CLSMTPD_RELAY_REWRITE_H
#define CLSMTPD_RELAY_REWRITE_H

#include "base/buf.h"
#include "base/err.h"

/* A header section longer than this is not rewritten (the message waits
 * with an error rather than leave with the wrong From). */
#define RELAY_REWRITE_HEAD_MAX (1024 * 1024)

/* From fd's current offset (size bytes of message follow): the header
 * section with the From address replaced by addr, and its empty line,
 * into head; *consumed the bytes of the spool it stands for. fd's offset
 * is left where it was. */
int relay_rewrite_from(int fd, long long size, const char *addr, struct buf *head,
                       long long *consumed, struct cl_err *err);
/* The same over a header section in memory (head_in: up to and including
 * the empty line). */
int relay_rewrite_head(const char *head_in, size_t len, const char *addr, struct buf *out,
                       struct cl_err *err);

#endif
