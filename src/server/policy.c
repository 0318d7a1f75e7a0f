/*
 * policy.c - relay and sender policy (policy.h). Addresses reaching here
 * have passed smtp_cmd_addr_check; this adds what only a policy can judge:
 * whose domain it is, and local parts that another MTA would re-route
 * (user%other@ours, other!user@ours, "user@other"@ours).
 */
#include "policy.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

int policy_our_domain(const struct conf *c, const char *domain)
{
	size_t i;

	for (i = 0; i < c->ndomain; i++)
		if (strcasecmp(c->domain[i], domain) == 0)
			return 1;
	return 0;
}

static const char *policy_find(const struct conf_pair *p, size_t n, const char *key)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcasecmp(p[i].key, key) == 0)
			return p[i].value;
	return NULL;
}

/* A local part another MTA might route on: refused whoever asks. */
static int policy_routing_local_part(const char *addr, const char *at)
{
	const char *p;

	for (p = addr; p < at; p++)
		if (*p == '%' || *p == '!' || *p == '"' || *p == '@' || *p == '\\')
			return 1;
	return 0;
}

/* Resolve an address of one of our domains to a Maildir, or to a relayed
 * address (an alias pointing outside). */
static int policy_local(const struct conf *c, const char *addr, enum spool_class *cls,
                        struct buf *target, struct buf *reply, int depth)
{
	const char *at = strrchr(addr, '@'), *v;

	if (depth > POLICY_ALIAS_DEPTH) {
		buf_set(reply, "550 5.4.6 Alias loop");
		return -1;
	}
	if (at == NULL || !policy_our_domain(c, at + 1)) {
		*cls = SPOOL_RELAY;
		buf_set(target, "-");
		return 0;
	}
	if ((v = policy_find(c->alias, c->nalias, addr)) != NULL)
		return policy_local(c, v, cls, target, reply, depth + 1);
	if ((v = policy_find(c->mailbox, c->nmailbox, addr)) != NULL) {
		*cls = SPOOL_LOCAL;
		buf_set(target, v);
		return 0;
	}
	if (depth == 0 && (v = policy_find(c->catchall, c->ncatchall, at + 1)) != NULL)
		return policy_local(c, v, cls, target, reply, depth + 1);
	buf_set(reply, depth == 0 ? "550 5.1.1 Recipient address rejected: user unknown"
	                          : "550 5.1.1 Recipient address rejected: alias target unknown");
	return -1;
}

int policy_rcpt(const struct conf *c, const struct policy_client *cl, const char *addr,
                enum spool_class *cls, struct buf *target, struct buf *reply)
{
	const char *at = strrchr(addr, '@');

	buf_reset(reply);
	buf_reset(target);
	if (at == NULL || at[1] == '[') {
		buf_set(reply, "553 5.1.3 Address not accepted");
		return -1;
	}
	if (policy_routing_local_part(addr, at)) {
		buf_set(reply, "553 5.7.1 Routing characters (%, !, quotes, @) in the local part "
		               "are not accepted");
		return -1;
	}
	if (policy_our_domain(c, at + 1)) {
		if (policy_local(c, addr, cls, target, reply, 0) < 0)
			return -1;
		/* An alias pointing outside is relayed even for strangers: the
		 * operator set it up. */
		return 0;
	}
	if (cl->authuser != NULL || cl->trusted) {
		*cls = SPOOL_RELAY;
		buf_set(target, "-");
		return 0;
	}
	buf_set(reply, "554 5.7.1 Relay access denied");
	return -1;
}

static int policy_addr_in(const struct conf_sender *s, const char *from)
{
	size_t i;

	for (i = 0; i < s->naddr; i++)
		if (strcasecmp(s->addr[i], from) == 0)
			return 1;
	return 0;
}

int policy_mail(const struct conf *c, const struct policy_client *cl, const char *from,
                struct buf *from_out, struct buf *reply)
{
	const struct conf_sender *s;
	enum conf_binding mode;
	const char *own;

	buf_reset(reply);
	buf_set(from_out, from);
	if (cl->authuser == NULL)
		return 0;
	s = conf_sender_for(c, cl->authuser);
	mode = s ? s->mode : c->sender_default;
	/* The account's own address: the first listed, or its name when that
	 * is an address. */
	own = s && s->naddr > 0 ? s->addr[0] : strchr(cl->authuser, '@') ? cl->authuser : NULL;
	switch (mode) {
	case CONF_BIND_FREE:
		return 0;
	case CONF_BIND_OWN:
		if (*from == '\0')
			return 0; /* bounces (<>) stay allowed */
		if ((s && policy_addr_in(s, from)) || (own && strcasecmp(own, from) == 0))
			return 0;
		buf_set(reply, "553 5.7.1 Sender address not owned by the authenticated user");
		return -1;
	case CONF_BIND_REWRITE:
		if (own == NULL) {
			buf_set(reply, "553 5.7.1 No sender address configured for this account");
			return -1;
		}
		buf_set(from_out, own);
		return 0;
	}
	return 0;
}
