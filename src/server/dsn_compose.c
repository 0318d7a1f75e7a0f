/*
 * dsn_compose.c - the RFC 3464 report of a notice (dsn_compose.h), composed
 * in memory from an envelope, the recipients' outcomes and the original
 * message: no file, no clock, no queue (dsn.c decides who gets a notice
 * and queues it). Header fields are folded by the core's msg/hdr.c.
 */
#include "dsn_compose.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/utf8.h"
#include "base/xtext.h"
#include "msg/hdr.h"

/* Fold header-style lines here; break even inside a word at the hard
 * limit (RFC 5322 2.1.1: 998). */
#define DSN_FOLD 76
#define DSN_HARD 900

static const char *dsn_action_name(enum dsn_action a)
{
	return a == DSN_DELIVERED ? "delivered" : a == DSN_RELAYED ? "relayed" : "failed";
}

/* The outcome reported for recipient rc: the shared one, or its own. */
static const struct outcome *dsn_outcome_of(const struct dsn_report *r, const struct spool_rcpt *rc)
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

/* "Name: value" folded at its spaces by the core's header writer (a word
 * longer than DSN_HARD is cut: RFC 5322 2.1.1). -1 if out is full. */
static int dsn_field(struct buf *out, const char *name, const char *value)
{
	struct hdr h;
	const char *p = value;

	hdr_begin(&h, out, name);
	h.fold_col = DSN_FOLD;
	/* Notices have always counted the space after the colon twice on the
	 * first line: kept, so they fold where they always did. */
	h.col++;
	while (*p == ' ')
		p++;
	while (*p) {
		size_t w = strcspn(p, " ");
		if (w > DSN_HARD)
			w = DSN_HARD;
		hdr_token(&h, p, w);
		p += w;
		while (*p == ' ')
			p++;
	}
	return hdr_end(&h);
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

void dsn_date(time_t t, char *out, size_t n)
{
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(out, n, "%a, %d %b %Y %H:%M:%S %z", &tm);
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
int dsn_has_param(const char *params, const char *word)
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
	    !utf8_is_ascii(r->env->from, strlen(r->env->from)))
		return 1;
	for (i = 0; i < r->nrcpt && !utf8; i++) {
		const struct spool_rcpt *rc = &r->env->rcpt[r->rcpt[i]];
		const char *text = dsn_text_of(r, rc, &scratch);
		if (!utf8_is_ascii(rc->addr, strlen(rc->addr)) || !utf8_is_ascii(text, strlen(text)))
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

static int dsn_recipient_fields(struct buf *out, const struct dsn_report *r,
                                const struct spool_rcpt *rc, int utf8, const char *date)
{
	int bad = 0;
	struct buf v = BUF_INIT(SPOOL_LINE_MAX * 2), dec = BUF_INIT(SPOOL_LINE_MAX);
	struct buf scratch = BUF_INIT(SPOOL_LINE_MAX * 2);
	const struct outcome *o = dsn_outcome_of(r, rc);
	const char *text = dsn_text_of(r, rc, &scratch), *reply, *mta;

	buf_adds(out, "\r\n");
	buf_printf(&v, "%s; %s",
	           utf8 && !utf8_is_ascii(rc->addr, strlen(rc->addr)) ? "utf-8" : "rfc822", rc->addr);
	bad |= dsn_field(out, "Final-Recipient", buf_cstr(&v));
	if (strcmp(rc->orcpt, "-") != 0 && strchr(rc->orcpt, ';') != NULL &&
	    xtext_decode(strchr(rc->orcpt, ';') + 1, &dec) == 0) {
		buf_reset(&v);
		buf_printf(&v, "%.*s; %s", (int)(strchr(rc->orcpt, ';') - rc->orcpt), rc->orcpt,
		           buf_cstr(&dec));
		bad |= dsn_field(out, "Original-Recipient", buf_cstr(&v));
	}
	bad |= dsn_field(out, "Action", dsn_action_name(r->action));
	bad |= dsn_field(out, "Status",
	                 r->status != NULL      ? r->status
	                 : o->status[0] != '\0' ? o->status
	                                        : "5.0.0");
	if ((mta = outcome_remote_mta(o)) != NULL) {
		buf_reset(&v);
		buf_printf(&v, "dns; %s", mta);
		bad |= dsn_field(out, "Remote-MTA", buf_cstr(&v));
	}
	buf_reset(&v);
	if ((reply = outcome_remote_reply(o)) != NULL)
		buf_printf(&v, "smtp; %s", reply);
	else
		buf_printf(&v, "X-clsmtpd; %s", text);
	bad |= dsn_field(out, "Diagnostic-Code", buf_cstr(&v));
	bad |= dsn_field(out, "Last-Attempt-Date", date);
	buf_free(&v);
	buf_free(&dec);
	buf_free(&scratch);
	return bad;
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
	int bit8, bad = 0;

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
	bad |= dsn_field(out, "Reporting-MTA", buf_cstr(&v));
	bad |= dsn_field(out, "X-Clsmtpd-Queue-ID", e->qid);
	buf_reset(&v);
	buf_printf(&v, "rfc822; %s", e->from);
	bad |= dsn_field(out, "X-Clsmtpd-Sender", buf_cstr(&v));
	buf_reset(&v);
	if (dsn_param(e->from_params, "ENVID", &v) && xtext_decode(buf_cstr(&v), &dec) == 0)
		bad |= dsn_field(out, "Original-Envelope-Id", buf_cstr(&dec));
	bad |= dsn_field(out, "Arrival-Date", arrival);
	for (i = 0; i < r->nrcpt; i++)
		bad |= dsn_recipient_fields(out, r, &e->rcpt[r->rcpt[i]], utf8, now);
	buf_adds(out, "\r\n");

	/* 3: the message, or its header section (RFC 6522 3: text/rfc822-headers). */
	n = hdrs_only ? dsn_header_len(r->orig, r->orig_len) : r->orig_len;
	bit8 = !utf8_is_ascii(r->orig, n);
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
	return bad || out->len + 64 >= out->max ? -1 : 0;
}
