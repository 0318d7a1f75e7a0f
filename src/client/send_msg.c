/*
 * send_msg.c - the message of one run (see send_msg.h). Text from the
 * command line and from files is in the locale's charset and is made UTF-8
 * here; the core composes from UTF-8 only. The first composition, made
 * before connecting, only checks; the one that is sent is made for the
 * server's capabilities.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "msg/charset.h"
#include "send_msg.h"
#include "base/version.h"

/* Read fd to its end into out (bounded by out->max). */
static int send_msg_read_fd(int fd, struct buf *out, const char *what, struct cl_err *err)
{
	char tmp[65536];
	ssize_t n;

	for (;;) {
		n = read(fd, tmp, sizeof(tmp));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_set(err, CL_EIO, "reading %s: %s", what, strerror(errno));
		if (n == 0)
			return 0;
		if (buf_add(out, tmp, (size_t)n) < 0)
			return err_set(err, CL_EDATA, "%s is larger than %u bytes", what,
			               (unsigned)MSG_MAX);
	}
}

/* Text in the locale's charset, appended to out as UTF-8. */
static int send_msg_utf8(struct send_msg *sm, const char *in, size_t len, struct buf *out,
                         const char *what, struct cl_err *err)
{
	if (strcasecmp(sm->locale, "UTF-8") == 0)
		return buf_add(out, in, len) < 0 ? err_set(err, CL_EDATA, "%s is too large", what)
		                                 : 0;
	return charset_to_utf8(sm->locale, in, len, out, what, err);
}

/* A string option made UTF-8 into its own buffer; NULL stays NULL. */
static const char *send_msg_str(struct send_msg *sm, const char *s, struct buf *b, const char *what,
                                struct cl_err *err, int *failed)
{
	if (s == NULL || *failed)
		return s;
	if (send_msg_utf8(sm, s, strlen(s), b, what, err) < 0) {
		*failed = 1;
		return NULL;
	}
	return buf_cstr(b);
}

static int send_msg_usage(const struct client_opts *o, struct cl_err *err)
{
	size_t i, stdin_att = 0;
	int body_stdin = o->body_arg == NULL || strcmp(o->body_arg, "-") == 0;

	if (o->raw) {
		if (o->subject || o->nattach || o->html || o->charset || o->nheaders ||
		    o->reply_to || o->in_reply_to || o->references || o->ncc)
			return err_set(
			    err, CL_EUSAGE,
			    "--raw sends standard input as it is: -s, -c, -H, --cc, "
			    "--reply-to, --in-reply-to, --references, --attach and --html "
			    "do not apply (give the recipients with -T and --bcc)");
		if (!body_stdin)
			return err_set(err, CL_EUSAGE,
			               "--raw reads the message from standard input, not from an "
			               "argument");
		return 0;
	}
	for (i = 0; i < o->nattach; i++)
		stdin_att += strcmp(o->attach[i].path, "-") == 0;
	if (stdin_att > 1)
		return err_set(err, CL_EUSAGE, "only one --attach can read standard input");
	if (stdin_att && body_stdin)
		return err_set(err, CL_EUSAGE,
		               "standard input cannot be both the body and an attachment: give "
		               "the body as the last argument");
	if (o->html && strcmp(o->html, "-") == 0)
		return err_set(err, CL_EUSAGE, "--html wants a file name");
	return 0;
}

static int send_msg_html(struct send_msg *sm, const char *path, struct cl_err *err)
{
	struct buf raw = BUF_INIT(MSG_MAX);
	int fd = open(path, O_RDONLY | O_CLOEXEC), r;

	if (fd < 0)
		return err_set(err, CL_EIO, "cannot open --html %s: %s", path, strerror(errno));
	r = send_msg_read_fd(fd, &raw, "the --html file", err);
	close(fd);
	if (r == 0)
		r = send_msg_utf8(sm, buf_cstr(&raw), raw.len, &sm->html, "the --html file", err);
	buf_free(&raw);
	return r;
}

static int send_msg_attachments(struct send_msg *sm, const struct client_opts *o,
                                struct cl_err *err)
{
	struct buf name = BUF_INIT(ATTACH_NAME_MAX * 4);
	const char *n, *base;
	size_t i;
	int r = 0;

	for (i = 0; i < o->nattach && r == 0; i++) {
		buf_reset(&name);
		n = o->attach[i].name;
		if (n == NULL && strcmp(o->attach[i].path, "-") != 0) {
			base = strrchr(o->attach[i].path, '/');
			n = base ? base + 1 : o->attach[i].path;
		}
		if (n && send_msg_utf8(sm, n, strlen(n), &name, "attachment name", err) < 0)
			r = -1;
		else if (attach_open(&sm->att[i], o->attach[i].path, n ? buf_cstr(&name) : NULL,
		                     NULL, err) < 0)
			r = -1;
		sm->natt = i + 1;
	}
	buf_free(&name);
	return r;
}

static int send_msg_envelope(struct send_msg *sm, const struct client_opts *o, struct cl_err *err)
{
	size_t i, n = 0;

	sm->rcpts = calloc(o->nrcpt + o->ncc + o->nbcc + 1, sizeof(*sm->rcpts));
	if (sm->rcpts == NULL)
		return err_set(err, CL_ESOFTWARE, "out of memory");
	for (i = 0; i < o->nrcpt; i++)
		sm->rcpts[n++] = o->rcpts[i];
	for (i = 0; i < o->ncc; i++)
		sm->rcpts[n++] = o->cc[i];
	for (i = 0; i < o->nbcc; i++)
		sm->rcpts[n++] = o->bcc[i];
	sm->nrcpt = n;
	return 0;
}

void send_msg_raw_policy(const struct client_opts *o, struct rawmsg_add *a)
{
	if (o->set_from_header && strcasecmp(o->set_from_header, "off") == 0)
		a->from_addr = NULL;
	a->replace_from = o->set_from_header && strcasecmp(o->set_from_header, "on") == 0;
	if (o->set_date_header && strcasecmp(o->set_date_header, "off") == 0)
		a->add_date = 0;
	if (o->set_msgid_header && strcasecmp(o->set_msgid_header, "off") == 0)
		a->msgid_domain = NULL;
	a->keep_bcc = o->remove_bcc_headers == 0;
	a->undisclosed = o->undisclosed_recipients == 1;
}

int send_msg_prepare(struct send_msg *sm, const struct client_opts *o, const char *from,
                     const char *name, const char *domain, struct cl_err *err)
{
	struct buf raw = BUF_INIT(MSG_MAX);
	struct compose_params *cp = &sm->cp;
	struct msgstream check;
	size_t i, off[OPT_HDR_MAX];
	int failed = 0, r = -1;

	memset(sm, 0, sizeof(*sm));
	sm->inited = 1;
	buf_init(&sm->body, MSG_MAX);
	buf_init(&sm->html, MSG_MAX);
	buf_init(&sm->subject, 64 * 1024);
	buf_init(&sm->name, 64 * 1024);
	buf_init(&sm->reply_to, 64 * 1024);
	buf_init(&sm->hstore, 1024 * 1024);
	msgstream_init(&sm->ms);
	rawmsg_init(&sm->rawm, RAWMSG_RAW);
	charset_locale(sm->locale, sizeof(sm->locale));
	cp->msgid_domain = domain;
	if (send_msg_usage(o, err) < 0 || send_msg_envelope(sm, o, err) < 0)
		goto out;
	if (o->raw_msg) { /* sendmail mode: spooled and completed by the caller */
		sm->raw = 1;
		sm->rawp = o->raw_msg;
		r = 0;
		goto out;
	}
	if (o->raw) {
		struct rawmsg_add add;
		memset(&add, 0, sizeof(add));
		add.add_date = 1;
		add.msgid_domain = domain;
		/* --raw adds no From unless --set-from-header asks for it. */
		if (o->set_from_header && strcasecmp(o->set_from_header, "off") != 0)
			add.from_addr = from;
		send_msg_raw_policy(o, &add);
		sm->raw = 1;
		sm->rawp = &sm->rawm;
		if (rawmsg_spool(&sm->rawm, STDIN_FILENO, 0, err) == 0 &&
		    rawmsg_complete(&sm->rawm, &add, err) == 0)
			r = 0;
		goto out;
	}
	if (o->body_arg && strcmp(o->body_arg, "-") != 0) {
		if (send_msg_utf8(sm, o->body_arg, strlen(o->body_arg), &sm->body, "message body",
		                  err) < 0)
			goto out;
	} else if (send_msg_read_fd(STDIN_FILENO, &raw, "the body from standard input", err) < 0 ||
	           send_msg_utf8(sm, buf_cstr(&raw), raw.len, &sm->body, "message body", err) < 0) {
		goto out;
	}
	if (o->html && send_msg_html(sm, o->html, err) < 0)
		goto out;
	cp->subject = send_msg_str(sm, o->subject, &sm->subject, "subject", err, &failed);
	cp->from_name = send_msg_str(sm, name, &sm->name, "display name", err, &failed);
	cp->reply_to = send_msg_str(sm, o->reply_to, &sm->reply_to, "--reply-to", err, &failed);
	for (i = 0; i < o->nheaders && !failed; i++) {
		off[i] = sm->hstore.len;
		if (send_msg_utf8(sm, o->headers[i], strlen(o->headers[i]) + 1, &sm->hstore, "-H",
		                  err) < 0)
			failed = 1;
	}
	if (failed || send_msg_attachments(sm, o, err) < 0)
		goto out;
	for (i = 0; i < o->nheaders; i++)
		sm->headers[i] = sm->hstore.data + off[i];
	cp->from_addr = from;
	cp->to = o->rcpts;
	cp->nto = o->nrcpt;
	cp->cc = o->cc;
	cp->ncc = o->ncc;
	cp->in_reply_to = o->in_reply_to;
	cp->references = o->references;
	cp->headers = sm->headers;
	cp->nheaders = o->nheaders;
	cp->charset = o->charset;
	cp->body = buf_cstr(&sm->body);
	cp->body_len = sm->body.len;
	cp->html = o->html ? buf_cstr(&sm->html) : NULL;
	cp->html_len = sm->html.len;
	cp->att = sm->att;
	cp->natt = sm->natt;
	cp->mailer = "clsmtpc-" CLSMTP_VERSION;
	cp->msgid_domain = domain;
	/* Check every field now: nothing is read from the attachments yet. */
	msgstream_init(&check);
	r = compose_stream(cp, &check, NULL, err);
	msgstream_free(&check);
out:
	buf_free(&raw);
	return r;
}

int send_msg_build(struct send_msg *sm, const struct smtp_caps *caps, const char *server,
                   struct smtp_message *m, struct cl_err *err)
{
	struct compose_result cr;

	msgstream_free(&sm->ms);
	sm->built = 0;
	if (sm->raw) {
		if (rawmsg_stream(sm->rawp, &sm->ms, err) < 0)
			return -1;
		m->body_8bit = sm->rawp->is_8bit;
		m->smtputf8 = 0;
	} else {
		sm->cp.allow_8bit = caps && (caps->flags & CAP_8BITMIME);
		sm->cp.ascii_addrs = caps && !(caps->flags & CAP_SMTPUTF8);
		sm->cp.server = server;
		if (compose_stream(&sm->cp, &sm->ms, &cr, err) < 0)
			return -1;
		m->body_8bit = cr.is_8bit;
		m->smtputf8 = cr.smtputf8;
	}
	msgstream_source(&sm->ms, &m->body);
	sm->built = 1;
	return 0;
}

int send_msg_rewind(struct send_msg *sm, struct smtp_message *m, struct cl_err *err)
{
	if (!sm->built)
		return send_msg_build(sm, NULL, NULL, m, err);
	if (msgstream_rewind(&sm->ms, err) < 0)
		return -1;
	msgstream_source(&sm->ms, &m->body);
	return 0;
}

void send_msg_free(struct send_msg *sm)
{
	size_t i;

	if (!sm->inited)
		return;
	for (i = 0; i < sm->natt; i++)
		attach_close(&sm->att[i]);
	sm->natt = 0;
	msgstream_free(&sm->ms);
	rawmsg_free(&sm->rawm);
	buf_free(&sm->body);
	buf_free(&sm->html);
	buf_free(&sm->subject);
	buf_free(&sm->name);
	buf_free(&sm->reply_to);
	buf_free(&sm->hstore);
	free(sm->rcpts);
	sm->rcpts = NULL;
	sm->inited = 0;
}
