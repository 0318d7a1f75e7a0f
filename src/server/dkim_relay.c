/*
 * dkim_relay.c - the relay's DKIM decision and signatures (dkim_relay.h).
 */
#include "dkim_relay.h"

#include <errno.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "netprefix.h"
#include "policy.h"
#include "msg/dkim_sign.h"

/* Sign the ended message m with every key of its From domain. */
static enum dkim_verdict dkim_sign_msg(const struct conf *c, const struct dkim_msg *m,
                                       const char *domain, long long now, struct buf *fields,
                                       struct buf *why, struct cl_err *err)
{
	size_t i, nsig = 0;

	buf_reset(fields);
	for (i = 0; i < c->dkim.n; i++) {
		const struct dkim_signer *s = &c->dkim.s[i];
		struct dkim_sig_params p = {s->domain, s->selector, c->dkim.headers, now};
		if (strcmp(s->domain, domain) != 0 || s->key.pkey == NULL)
			continue;
		if (dkim_sign(m, &s->key, &p, fields, err) < 0) {
			buf_printf(why, "%s", err->msg);
			buf_reset(fields);
			return DKIM_NOT_OURS;
		}
		nsig++;
	}
	if (nsig == 0) {
		buf_printf(why, "no key for %s", domain);
		return DKIM_NOT_OURS;
	}
	return DKIM_SIGNED;
}

/* The origin: an authenticated user, or a trusted network's client. */
static int dkim_ours(const struct conf *c, const struct spool_envelope *env, const char *from,
                     struct buf *why)
{
	struct net_prefix client;
	size_t i;

	if (env->auth && strcmp(env->auth, "-") != 0) {
		struct policy_client cl = {env->auth, 0};
		struct buf out = BUF_INIT(1024), reply = BUF_INIT(1024);
		/* Sender binding applies to the From address as to MAIL FROM:
		 * an address the user could not send from is not signed. */
		int ok = policy_mail(c, &cl, from, &out, &reply) == 0 &&
		         strcasecmp(buf_cstr(&out), from) == 0;
		if (!ok)
			buf_printf(why, "From <%s> is not an address %s may use", from, env->auth);
		buf_free(&out);
		buf_free(&reply);
		return ok;
	}
	if (env->client && net_prefix_parse(env->client, &client) == 0)
		for (i = 0; i < c->ntrusted; i++)
			if (net_prefix_contains(&c->trusted[i], &client))
				return 1;
	buf_printf(why, "not from an authenticated user nor a trusted network (client %s)",
	           env->client ? env->client : "?");
	return 0;
}

/* After the message's end: its From domain, the origin (unless env is
 * NULL), then the signatures. */
static enum dkim_verdict dkim_decide(const struct conf *c, const struct spool_envelope *env,
                                     const struct dkim_msg *m, long long now, struct buf *fields,
                                     struct buf *why, struct cl_err *err)
{
	struct buf addr = BUF_INIT(1024), domain = BUF_INIT(512);
	enum dkim_verdict v = DKIM_NOT_OURS;

	if (dkim_msg_from(m, &addr, &domain, err) < 0)
		buf_printf(why, "%s", err->msg);
	else if (!dkim_conf_signs(&c->dkim, buf_cstr(&domain)))
		buf_printf(why, "%s is not a signing domain (dkim_sign)", buf_cstr(&domain));
	else if (env == NULL || dkim_ours(c, env, buf_cstr(&addr), why))
		v = dkim_sign_msg(c, m, buf_cstr(&domain), now, fields, why, err);
	buf_free(&addr);
	buf_free(&domain);
	return v;
}

enum dkim_verdict dkim_relay_sign(const struct conf *c, const struct spool_envelope *env,
                                  const struct buf *head, int fd, long long size, long long now,
                                  struct buf *fields, struct buf *why, struct cl_err *err)
{
	struct dkim_msg m;
	char tmp[65536];
	off_t off;
	enum dkim_verdict v = DKIM_NOT_OURS;

	buf_reset(fields);
	buf_reset(why);
	if (c->dkim.n == 0) {
		buf_adds(why, "no dkim_sign");
		return DKIM_NOT_OURS;
	}
	off = lseek(fd, 0, SEEK_CUR);
	if (off < 0 || dkim_msg_init(&m, err) < 0) {
		if (off < 0)
			err_set(err, CL_EIO, "spool: %s", strerror(errno));
		return DKIM_READ_ERROR;
	}
	if (head != NULL && head->len > 0)
		dkim_msg_feed(&m, head->data, head->len, err);
	/* One pass over the spooled bytes, without moving fd. */
	while (size > 0) {
		size_t want = size < (long long)sizeof(tmp) ? (size_t)size : sizeof(tmp);
		ssize_t got = pread(fd, tmp, want, off);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			err_set(err, CL_EIO, "spool: reading the message to sign it: %s",
			        got < 0 ? strerror(errno) : "shorter than its size");
			v = DKIM_READ_ERROR;
			goto out;
		}
		dkim_msg_feed(&m, tmp, (size_t)got, err);
		off += got;
		size -= got;
	}
	if (dkim_msg_end(&m, err) < 0) {
		v = DKIM_READ_ERROR;
		goto out;
	}
	v = dkim_decide(c, env, &m, now, fields, why, err);
out:
	dkim_msg_free(&m);
	return v;
}

enum dkim_verdict dkim_sign_text(const struct conf *c, const char *msg, size_t len, long long now,
                                 struct buf *fields, struct buf *why, struct cl_err *err)
{
	struct dkim_msg m;
	enum dkim_verdict v = DKIM_NOT_OURS;

	buf_reset(fields);
	buf_reset(why);
	if (dkim_msg_init(&m, err) < 0)
		return DKIM_READ_ERROR;
	dkim_msg_feed(&m, msg, len, err);
	if (dkim_msg_end(&m, err) < 0) {
		v = DKIM_READ_ERROR;
		goto out;
	}
	v = dkim_decide(c, NULL, &m, now, fields, why, err);
out:
	dkim_msg_free(&m);
	return v;
}
