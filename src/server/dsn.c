/*
 * dsn.c - failure and success notices (dsn.h): who gets one (NOTIFY, the
 * null sender, the sender's own domain), reading the original, and queueing
 * the report dsn_compose.c writes in the spool with the null sender through
 * spool_writer like received mail; then the journal's B lines.
 */
#include "dsn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "base/utf8.h"
#include "log.h"
#include "policy.h"

/* 1 if the NOTIFY list holds word as a whole item. */
static int dsn_notify_has(const char *notify, const char *word)
{
	size_t n = strlen(word);
	const char *p;

	for (p = notify; (p = strcasestr(p, word)) != NULL; p += n)
		if ((p == notify || p[-1] == ',') && (p[n] == '\0' || p[n] == ','))
			return 1;
	return 0;
}

int dsn_wants_failure(const char *notify)
{
	if (notify == NULL || strcmp(notify, "-") == 0 || *notify == '\0')
		return 1;
	return dsn_notify_has(notify, "FAILURE");
}

int dsn_wants_success(const char *notify)
{
	if (notify == NULL || strcmp(notify, "-") == 0 || *notify == '\0')
		return 0;
	return dsn_notify_has(notify, "SUCCESS");
}

int dsn_settled(const struct spool_envelope *env)
{
	size_t i;

	for (i = 0; i < env->nrcpt; i++)
		if (env->rcpt[i].state != SPOOL_DELIVERED && env->rcpt[i].state != SPOOL_BOUNCED)
			return 0;
	return 1;
}

int dsn_last_open(const struct spool_envelope *env, size_t i)
{
	size_t k;

	for (k = 0; k < env->nrcpt; k++)
		if (k != i && env->rcpt[k].state != SPOOL_DELIVERED &&
		    env->rcpt[k].state != SPOOL_BOUNCED)
			return 0;
	return 1;
}

/* Read the original (at most DSN_RETURN_MAX bytes) into b. */
static int dsn_read_original(struct spool *sp, const struct spool_envelope *env, struct buf *b,
                             int *complete, struct cl_err *err)
{
	char chunk[8192];
	int fd = spool_data_fd(sp, env, err);
	ssize_t n;

	if (fd < 0)
		return -1;
	*complete = 1;
	while ((n = read(fd, chunk, sizeof(chunk))) > 0) {
		size_t room = DSN_RETURN_MAX - b->len;
		if ((size_t)n > room) {
			buf_add(b, chunk, room);
			*complete = 0;
			break;
		}
		buf_add(b, chunk, (size_t)n);
	}
	close(fd);
	if (n < 0)
		return err_set(err, CL_EIO, "%s: reading the message for its notice", env->qid);
	return 0;
}

/* Queue the notice (action, status and text as in struct dsn_report) for
 * the recipients idx[0..n) of env. */
static int dsn_queue(const struct conf *c, struct spool *sp, const struct spool_envelope *env,
                     const size_t *idx, size_t n, enum dsn_action action, const char *status,
                     const struct outcome *o, enum spool_class *ncls, char *nqid,
                     struct cl_err *err)
{
	struct policy_client pc = {NULL, 1};
	struct buf target = BUF_INIT(4096), reply = BUF_INIT(512), orig = BUF_INIT(DSN_RETURN_MAX);
	struct buf msg = BUF_INIT(DSN_MAX), hdr = BUF_INIT(1024);
	struct spool_envelope de;
	struct spool_writer *w = NULL;
	struct dsn_report rep;
	char date[64];
	int complete = 0, r = -1;
	time_t now = time(NULL);

	spool_env_init(&de);
	if (policy_rcpt(c, &pc, env->from, ncls, &target, &reply) < 0) {
		err_set(err, CL_EUNAVAIL, "the sender <%s> cannot take a notice: %s", env->from,
		        buf_cstr(&reply));
		goto out;
	}
	if (dsn_read_original(sp, env, &orig, &complete, err) < 0)
		goto out;
	de.from = strdup("");
	de.from_params =
	    strdup(!utf8_is_ascii(orig.data ? orig.data : "", orig.len)
	               ? (dsn_has_param(env->from_params, "SMTPUTF8") ? "BODY=8BITMIME SMTPUTF8"
	                                                              : "BODY=8BITMIME")
	               : (dsn_has_param(env->from_params, "SMTPUTF8") ? "SMTPUTF8" : "-"));
	de.helo = strdup(c->hostname);
	if (de.from == NULL || de.from_params == NULL || de.helo == NULL ||
	    spool_env_add_rcpt(&de, env->from, *ncls, buf_cstr(&target), "-", "-") < 0) {
		err_set(err, CL_ESOFTWARE, "out of memory");
		goto out;
	}
	de.arrival = now;
	if (spool_writer_begin(sp, &de, &w, err) < 0)
		goto out;
	memset(&rep, 0, sizeof(rep));
	rep.hostname = c->hostname;
	rep.notice_qid = de.qid;
	rep.now = now;
	rep.env = env;
	rep.rcpt = idx;
	rep.nrcpt = n;
	rep.orig = orig.data ? orig.data : "";
	rep.orig_len = orig.len;
	rep.orig_complete = complete;
	rep.action = action;
	rep.status = status;
	rep.outcome = o;
	dsn_date(now, date, sizeof(date));
	buf_printf(&hdr, "Received: by %s (clsmtpd) id %s; %s\r\n", c->hostname, de.qid, date);
	if (dsn_compose(&rep, &msg) < 0) {
		err_set(err, CL_ESOFTWARE, "%s: the %s notice is too large", env->qid,
		        action == DSN_FAILED ? "failure" : "success");
		spool_writer_abort(w);
		goto out;
	}
	if (spool_writer_write(w, hdr.data, hdr.len, err) < 0 ||
	    spool_writer_write(w, msg.data, msg.len, err) < 0) {
		spool_writer_abort(w);
		goto out;
	}
	memcpy(nqid, de.qid, SPOOL_QID_LEN + 1);
	r = spool_writer_commit(w, err);
	if (r == 0)
		log_msg(LOG_INFO, "%s: from=<>, size=%zu, nrcpt=1 (%s notice about %s)", nqid,
		        hdr.len + msg.len, action == DSN_FAILED ? "failure" : "success", env->qid);
out:
	spool_env_free(&de);
	buf_free(&target);
	buf_free(&reply);
	buf_free(&orig);
	buf_free(&msg);
	buf_free(&hdr);
	return r;
}

int dsn_bounce(const struct conf *c, struct spool *sp, struct spool_envelope *env,
               enum spool_class cls, enum spool_class *notice_cls, struct cl_err *err)
{
	size_t *idx, n = 0, i, done, k;
	char nqid[SPOOL_QID_LEN + 1];
	struct buf why = BUF_INIT(1024);
	struct outcome note;
	const char *none = NULL;
	int r = 0;

	outcome_init(&note);
	idx = calloc(env->nrcpt ? env->nrcpt : 1, sizeof(*idx));
	if (idx == NULL)
		return err_set(err, CL_ESOFTWARE, "out of memory");
	for (i = 0; i < env->nrcpt; i++) {
		struct spool_rcpt *rc = &env->rcpt[i];
		if (rc->cls != cls || rc->state != SPOOL_FAILED)
			continue;
		if (env->from[0] == '\0')
			none =
			    "no failure notice: the sender is <> (never a notice about a notice)";
		else if (!dsn_wants_failure(rc->notify))
			none = "no failure notice: the recipient asked for none (NOTIFY)";
		else
			none = NULL;
		if (none != NULL) {
			if (outcome_note(&note, NULL, none) < 0 ||
			    spool_record(sp, env, i, 'B', 0, &note, err) < 0) {
				r = -1;
				goto out;
			}
			log_msg(LOG_INFO, "%s: to=<%s>, %s", env->qid, rc->addr, none);
			continue;
		}
		idx[n++] = i;
	}
	/* A notice reports on DSN_RCPT_MAX recipients at most. */
	for (done = 0; done < n; done += k) {
		k = n - done < DSN_RCPT_MAX ? n - done : DSN_RCPT_MAX;
		buf_reset(&why);
		if (dsn_queue(c, sp, env, idx + done, k, DSN_FAILED, NULL, NULL, notice_cls, nqid,
		              err) < 0) {
			if (err->cls != CL_EUNAVAIL) {
				r = -1;
				goto out;
			}
			/* Nobody to tell: the sender's own domain refuses it. */
			log_msg(LOG_WARNING, "%s: %s", env->qid, err->msg);
			buf_printf(&why, "no failure notice: %s", err->msg);
		} else {
			log_msg(LOG_INFO, "%s: sender non-delivery notification: %s", env->qid,
			        nqid);
			buf_printf(&why, "failure notice queued as %s", nqid);
			r = 1;
		}
		if (outcome_note(&note, NULL, buf_cstr(&why)) < 0) {
			r = err_set(err, CL_ESOFTWARE, "out of memory");
			goto out;
		}
		for (i = done; i < done + k; i++)
			if (spool_record(sp, env, idx[i], 'B', 0, &note, err) < 0) {
				r = -1;
				goto out;
			}
	}
out:
	free(idx);
	buf_free(&why);
	outcome_free(&note);
	return r;
}

int dsn_success(const struct conf *c, struct spool *sp, const struct spool_envelope *env,
                const size_t *idx, size_t n, enum dsn_action action, const struct outcome *o,
                enum spool_class *notice_cls, struct cl_err *err)
{
	size_t *want, m = 0, i, done, k;
	char nqid[SPOOL_QID_LEN + 1];
	int r = 0;

	/* Never a notice about a notice (RFC 3461 6.2: nor about <>). */
	if (env->from[0] == '\0' || n == 0)
		return 0;
	want = calloc(n, sizeof(*want));
	if (want == NULL)
		return err_set(err, CL_ESOFTWARE, "out of memory");
	for (i = 0; i < n; i++)
		if (dsn_wants_success(env->rcpt[idx[i]].notify))
			want[m++] = idx[i];
	for (done = 0; done < m; done += k) {
		k = m - done < DSN_RCPT_MAX ? m - done : DSN_RCPT_MAX;
		if (dsn_queue(c, sp, env, want + done, k, action, "2.0.0", o, notice_cls, nqid,
		              err) < 0) {
			if (err->cls != CL_EUNAVAIL) {
				r = -1;
				break;
			}
			log_msg(LOG_WARNING, "%s: no success notice: %s", env->qid, err->msg);
			err_clear(err);
			continue;
		}
		log_msg(LOG_INFO, "%s: sender delivery status notification: %s", env->qid, nqid);
		r = 1;
	}
	free(want);
	return r;
}
