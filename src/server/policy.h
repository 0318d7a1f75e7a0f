/*
 * policy.h - who may send what where, and nothing more permissive: a
 * recipient in one of our domains is delivered locally (mailbox, alias,
 * catch-all); any other recipient only for an authenticated client or a
 * trusted network (relayed); otherwise 554 relay denied. Open-relay tricks
 * (%, !, quoted "@", source routes, literals) are refused. Sender binding.
 */
#ifndef CLSMTPD_POLICY_H
#define CLSMTPD_POLICY_H

#include "base/buf.h"
#include "conf.h"
#include "serve/spool.h"

/* Aliases may point to aliases this deep (Postfix: virtual_alias_recursion_limit). */
#define POLICY_ALIAS_DEPTH 10

struct policy_client {
	const char *authuser; /* NULL if not authenticated */
	int trusted;          /* from a trusted network */
};

/* Decide a recipient: 0 with *cls and target (Maildir for local) set, or
 * -1 with reply holding the refusal. */
int policy_rcpt(const struct conf *c, const struct policy_client *cl, const char *addr,
                enum spool_class *cls, struct buf *target, struct buf *reply);
/* Check (and maybe rewrite into from_out) the envelope sender. */
int policy_mail(const struct conf *c, const struct policy_client *cl, const char *from,
                struct buf *from_out, struct buf *reply);
/* 1 if domain (any case) is one of ours. */
int policy_our_domain(const struct conf *c, const char *domain);

#endif
