/*
 * dsn.c - failure and success notices (dsn.h): the RFC 3464 report composed
 * from the spool's envelope and journal texts (or the outcome just reached),
 * returned with the original message (or its header section, for RET=HDRS,
 * a large message or a success), and queued in the spool with the null
 * sender through spool_writer like received mail.
 */
#include "dsn.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "log.h"
#include "policy.h"
#include "base/xtext.h"

/* Fold header-style lines here; break even inside a word at the hard
 * limit (RFC 5322 2.1.1: 998). */
#define DSN_FOLD 76
#define DSN_HARD 900

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

static const char *dsn_action_name(enum dsn_action a)
{
	return a == DSN_DELIVERED ? "delivered" : a == DSN_RELAYED ? "relayed" : "failed";
}

/* The outcome reported for recipient rc: the shared one, or its own. */
static const struct outcome *dsn_outcome_of(const struct dsn_report *r,
                                            const struct spool_rcpt *rc)
{
	return r->outcome != NULL ? r->outcome : &rc->last;
}

/* Its sentence (into scratch when it has to be written). */
static const char *dsn_text_of(const struct dsn_report *r, const struct spool_rcpt *rc,
                               struct buf *scratch)
{
	if (r->outcome != NULL) {
		buf_reset(scratch);
		outcome_text(r->outcome, scratch);
		return buf_cstr(scratch);
	}
	return rc->last_text ? rc->last_text : r->action == DSN_FAILED ? "failed" : "delivered";
}

/* "Name: value" folded at spaces (continuation lines start with a space,
 * which is the space between the two words). */
static void dsn_field(struct buf *out, const char *name, const char *value)
{
	size_t col = strlen(name) + 2, start = col;
	const char *p = value;

	buf_printf(out, "%s:", name);
	while (*p == ' ')
		p++;
	while (*p) {
		size_t w = strcspn(p, " ");
		if (w > DSN_HARD)
			w = DSN_HARD;
		if (col > start && col + 1 + w > DSN_FOLD) {
			buf_adds(out, "\r\n ");
			col = 1;
		} else {
			buf_addc(out, ' ');
			col++;
		}
		buf_add(out, p, w);
		col += w;
		p += w;
		while (*p == ' ')
			p++;
	}
	buf_adds(out, "\r\n");
}

/* Plain text wrapped at DSN_FOLD; following lines indented by indent. */
static void dsn_wrap(struct buf *out, const char *text, const char *indent)
{
	size_t col = 0;
	const char *p = text;

	while (*p) {
		size_t w = strcspn(p, " ");
		if (w > DSN_HARD)
			w = DSN_HARD;
		if (col > 0 && col + 1 + w > DSN_FOLD) {
			buf_printf(out, "\r\n%s", indent);
			col = strlen(indent);
		} else if (col > 0) {
			buf_addc(out, ' ');
			col++;
		}
		buf_add(out, p, w);
		col += w;
		p += w;
		while (*p == ' ')
			p++;
	}
	buf_adds(out, "\r\n");
}

static void dsn_date(time_t t, char *out, size_t n)
{
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(out, n, "%a, %d %b %Y %H:%M:%S %z", &tm);
}

static int dsn_has_8bit(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)p[i] >= 0x80)
			return 1;
	return 0;
}

/* The length of the header section of orig, including its empty line (or
 * up to the last whole line of what we have). */
static size_t dsn_header_len(const char *orig, size_t len)
{
	const char *e = memmem(orig, len, "\r\n\r\n", 4);
	size_t i;

	if (e != NULL)
		return (size_t)(e - orig) + 4;
	for (i = len; i > 0; i--)
		if (orig[i - 1] == '\n')
			return i;
	return 0;
}

/* 1 if the MAIL FROM parameters (space-separated words) hold word: a
 * whole word, so ENVID=SMTPUTF8x is not SMTPUTF8. */
static int dsn_has_param(const char *params, const char *word)
{
	size_t n = strlen(word);
	const char *p = params;

	while (p != NULL && *p != '\0') {
		size_t len = strcspn(p, " ");
		if (len == n && strncasecmp(p, word, n) == 0)
			return 1;
		p += len;
		p += strspn(p, " ");
	}
	return 0;
}

static int dsn_utf8(const struct dsn_report *r)
{
	struct buf scratch = BUF_INIT(SPOOL_LINE_MAX * 2);
	size_t i;
	int utf8 = 0;

	if (dsn_has_param(r->env->from_params, "SMTPUTF8") ||
	    dsn_has_8bit(r->env->from, strlen(r->env->from)))
		return 1;
	for (i = 0; i < r->nrcpt && !utf8; i++) {
		const struct spool_rcpt *rc = &r->env->rcpt[r->rcpt[i]];
		const char *text = dsn_text_of(r, rc, &scratch);
		if (dsn_has_8bit(rc->addr, strlen(rc->addr)) || dsn_has_8bit(text, strlen(text)))
			utf8 = 1;
	}
	buf_free(&scratch);
	return utf8;
}

/* A parameter of the MAIL FROM list ("BODY=8BITMIME RET=HDRS"), or NULL. */
static const char *dsn_param(const char *params, const char *name, struct buf *v)
{
	const char *p = params;
	size_t nl = strlen(name);

	if (p == NULL)
		return NULL;
	while (*p) {
		size_t w = strcspn(p, " ");
		if (w > nl && strncasecmp(p, name, nl) == 0 && p[nl] == '=') {
			buf_add(v, p + nl + 1, w - nl - 1);
			return buf_cstr(v);
		}
		p += w;
		while (*p == ' ')
			p++;
	}
	return NULL;
}

static void dsn_recipient_fields(struct buf *out, const struct dsn_report *r,
                                 const struct spool_rcpt *rc, int utf8, const char *date)
{
	struct buf v = BUF_INIT(SPOOL_LINE_MAX * 2), dec = BUF_INIT(SPOOL_LINE_MAX);
	struct buf scratch = BUF_INIT(SPOOL_LINE_MAX * 2);
	const struct outcome *o = dsn_outcome_of(r, rc);
	const char *text = dsn_text_of(r, rc, &scratch), *reply, *mta;

	buf_adds(out, "\r\n");
	buf_printf(&v, "%s; %s",
	           utf8 && dsn_has_8bit(rc->addr, strlen(rc->addr)) ? "utf-8" : "rfc822", rc->addr);
	dsn_field(out, "Final-Recipient", buf_cstr(&v));
	if (strcmp(rc->orcpt, "-") != 0 && strchr(rc->orcpt, ';') != NULL &&
	    xtext_decode(strchr(rc->orcpt, ';') + 1, &dec) == 0) {
		buf_reset(&v);
		buf_printf(&v, "%.*s; %s", (int)(strchr(rc->orcpt, ';') - rc->orcpt), rc->orcpt,
		           buf_cstr(&dec));
		dsn_field(out, "Original-Recipient", buf_cstr(&v));
	}
	dsn_field(out, "Action", dsn_action_name(r->action));
	dsn_field(out, "Status",
	          r->status != NULL     ? r->status
	          : o->status[0] != '\0' ? o->status
	                                 : "5.0.0");
	if ((mta = outcome_remote_mta(o)) != NULL) {
		buf_reset(&v);
		buf_printf(&v, "dns; %s", mta);
		dsn_field(out, "Remote-MTA", buf_cstr(&v));
	}
	buf_reset(&v);
	if ((reply = outcome_remote_reply(o)) != NULL)
		buf_printf(&v, "smtp; %s", reply);
	else
		buf_printf(&v, "X-clsmtpd; %s", text);
	dsn_field(out, "Diagnostic-Code", buf_cstr(&v));
	dsn_field(out, "Last-Attempt-Date", date);
	buf_free(&v);
	buf_free(&dec);
	buf_free(&scratch);
}

int dsn_compose(const struct dsn_report *r, struct buf *out)
{
	const struct spool_envelope *e = r->env;
	char now[64], arrival[64];
	struct buf boundary = BUF_INIT(256), v = BUF_INIT(SPOOL_LINE_MAX), dec = BUF_INIT(1024);
	struct buf txt = BUF_INIT(SPOOL_LINE_MAX * 2);
	int utf8 = dsn_utf8(r);
	/* RFC 3461 4.3: a report without a failure returns only the headers. */
	int hdrs_only = !r->orig_complete || r->action != DSN_FAILED;
	int failed = r->action == DSN_FAILED;
	size_t i, n;
	int bit8;

	dsn_date(r->now, now, sizeof(now));
	dsn_date(e->arrival, arrival, sizeof(arrival));
	if (dsn_param(e->from_params, "RET", &v) && strcasecmp(buf_cstr(&v), "HDRS") == 0)
		hdrs_only = 1;
	buf_reset(&v);
	buf_printf(&boundary, "%s.%lld/%s", r->notice_qid, (long long)r->now, r->hostname);

	buf_printf(out, "Date: %s\r\n", now);
	buf_printf(out, "From: Mail Delivery System <MAILER-DAEMON@%s>\r\n", r->hostname);
	buf_printf(out, "To: <%s>\r\n", e->from);
	buf_printf(out, "Subject: %s\r\n",
	           failed ? "Undelivered Mail Returned to Sender"
	                  : "Successful Mail Delivery Report");
	buf_printf(out, "Message-ID: <%s.dsn@%s>\r\n", r->notice_qid, r->hostname);
	/* RFC 3834: an automatic answer; autoresponders leave it alone. */
	buf_adds(out, "Auto-Submitted: auto-replied\r\n");
	buf_adds(out, "MIME-Version: 1.0\r\n");
	buf_printf(out,
	           "Content-Type: multipart/report; report-type=delivery-status;\r\n"
	           "\tboundary=\"%s\"\r\n",
	           buf_cstr(&boundary));
	buf_adds(out, "\r\nThis is a MIME-encapsulated message.\r\n\r\n");

	/* 1: for people. */
	buf_printf(out, "--%s\r\n", buf_cstr(&boundary));
	buf_printf(out,
	           "Content-Description: Notification\r\n"
	           "Content-Type: text/plain; charset=%s\r\n",
	           utf8 ? "utf-8" : "us-ascii");
	if (utf8)
		buf_adds(out, "Content-Transfer-Encoding: 8bit\r\n");
	buf_printf(out, "\r\nThis is the mail system at host %s.\r\n\r\n", r->hostname);
	if (failed) {
		dsn_wrap(out,
		         "Your message could not be delivered to one or more recipients; this "
		         "report gives the reason for each. The message is attached below.",
		         "");
		buf_adds(out,
		         "\r\nIf you need help, forward this report to your postmaster.\r\n\r\n");
	} else if (r->action == DSN_DELIVERED) {
		dsn_wrap(out,
		         "Your message was delivered to the mailbox of the recipients listed "
		         "below, as you asked (NOTIFY=SUCCESS). Its header section is attached "
		         "below.",
		         "");
		buf_adds(out, "\r\n");
	} else {
		dsn_wrap(out,
		         "Your message was passed on to the mail server named below for the "
		         "recipients listed there, as you asked (NOTIFY=SUCCESS). That server "
		         "does not report deliveries: you will get no further notice of "
		         "success, though it may still report a failure. Its header section is "
		         "attached below.",
		         "");
		buf_adds(out, "\r\n");
	}
	for (i = 0; i < r->nrcpt; i++) {
		const struct spool_rcpt *rc = &e->rcpt[r->rcpt[i]];
		buf_reset(&v);
		buf_printf(&v, "<%s>: %s", rc->addr, dsn_text_of(r, rc, &txt));
		dsn_wrap(out, buf_cstr(&v), "    ");
		buf_adds(out, "\r\n");
	}

	/* 2: for programs (RFC 3464 2; RFC 6533 3 when addresses are UTF-8). */
	buf_printf(out, "--%s\r\n", buf_cstr(&boundary));
	buf_printf(out, "Content-Description: Delivery report\r\nContent-Type: %s\r\n",
	           utf8 ? "message/global-delivery-status" : "message/delivery-status");
	if (utf8)
		buf_adds(out, "Content-Transfer-Encoding: 8bit\r\n");
	buf_adds(out, "\r\n");
	buf_reset(&v);
	buf_printf(&v, "dns; %s", r->hostname);
	dsn_field(out, "Reporting-MTA", buf_cstr(&v));
	dsn_field(out, "X-Clsmtpd-Queue-ID", e->qid);
	buf_reset(&v);
	buf_printf(&v, "rfc822; %s", e->from);
	dsn_field(out, "X-Clsmtpd-Sender", buf_cstr(&v));
	buf_reset(&v);
	if (dsn_param(e->from_params, "ENVID", &v) && xtext_decode(buf_cstr(&v), &dec) == 0)
		dsn_field(out, "Original-Envelope-Id", buf_cstr(&dec));
	dsn_field(out, "Arrival-Date", arrival);
	for (i = 0; i < r->nrcpt; i++)
		dsn_recipient_fields(out, r, &e->rcpt[r->rcpt[i]], utf8, now);
	buf_adds(out, "\r\n");

	/* 3: the message, or its header section (RFC 6522 3: text/rfc822-headers). */
	n = hdrs_only ? dsn_header_len(r->orig, r->orig_len) : r->orig_len;
	bit8 = dsn_has_8bit(r->orig, n);
	buf_printf(out, "--%s\r\n", buf_cstr(&boundary));
	buf_printf(out, "Content-Description: %s\r\nContent-Type: %s\r\n",
	           !failed     ? (hdrs_only ? "Message Headers" : "Message")
	           : hdrs_only ? "Undelivered Message Headers"
	                       : "Undelivered Message",
	           hdrs_only ? (utf8 ? "message/global-headers" : "text/rfc822-headers")
	                     : (utf8 ? "message/global" : "message/rfc822"));
	if (bit8)
		buf_adds(out, "Content-Transfer-Encoding: 8bit\r\n");
	buf_adds(out, "\r\n");
	buf_add(out, r->orig, n);
	if (n > 0 && r->orig[n - 1] != '\n')
		buf_adds(out, "\r\n");
	buf_printf(out, "\r\n--%s--\r\n", buf_cstr(&boundary));

	buf_free(&boundary);
	buf_free(&v);
	buf_free(&dec);
	buf_free(&txt);
	/* An append that failed (too big) leaves out short: refuse it whole. */
	return out->len + 64 >= out->max ? -1 : 0;
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
	    strdup(dsn_has_8bit(orig.data ? orig.data : "", orig.len)
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
