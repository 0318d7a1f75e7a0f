/*
 * dkim_relay.h - which relayed messages clsmtpd signs, and their
 * signatures: mail that originates here (an authenticated user, or a
 * client of a trusted network) whose one From address is in a signing
 * domain (and, under sender binding, an address the user may use). Mail
 * relayed in from outside is never signed. The relay signs the message as
 * it will send it, just before sending: after any rewrite, whatever the
 * next hop (DATA or BDAT), with the same bytes.
 */
#ifndef CLSMTPD_DKIM_RELAY_H
#define CLSMTPD_DKIM_RELAY_H

#include "base/buf.h"
#include "base/err.h"
#include "conf.h"
#include "serve/spool.h"

enum dkim_verdict {
	DKIM_SIGNED,     /* fields holds one DKIM-Signature per key of the domain */
	DKIM_NOT_OURS,   /* not signed; why says why (not an error) */
	DKIM_READ_ERROR, /* the spool could not be read: err */
};

/* Decide and sign env's message: head (a rewritten header section, or
 * NULL) then size bytes of fd from where it stands (fd's offset is left
 * where it was). now is the t= tag. */
enum dkim_verdict dkim_relay_sign(const struct conf *c, const struct spool_envelope *env,
                                  const struct buf *head, int fd, long long size, long long now,
                                  struct buf *fields, struct buf *why, struct cl_err *err);
/* The same for a message in memory (clsmtpd -dkim-sign): signs by the From
 * domain alone, without the origin rules. */
enum dkim_verdict dkim_sign_text(const struct conf *c, const char *msg, size_t len, long long now,
                                 struct buf *fields, struct buf *why, struct cl_err *err);

#endif
