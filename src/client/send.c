/*
 * send.c - clsmtpc's main job: send one mail. Checks every value that will
 * reach the wire, finds the password, composes the message from the body,
 * and hands it to the core engine (smtp_client.h). Returns an error value;
 * main.c turns it into an exit code.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "smtp/addr.h"
#include "msg/compose.h"
#include "base/hostname.h"
#include "netrc.h"
#include "passfile.h"
#include "queue_cli.h"
#include "secret.h"
#include "send.h"
#include "send_msg.h"
#include "send_pretend.h"
#include "sendlog.h"
#include "exitcode.h"
#include "engine/smtp_client.h"
#include "transcript.h"
#include "base/version.h"

/* Check everything the user gave that will be written to the wire. */
static int send_check_input(const struct client_opts *o, struct cl_err *err)
{
	size_t i;

	if (text_check_line(o->host, "-M host", err) < 0 ||
	    (o->user && text_check_line(o->user, "-U user", err) < 0) ||
	    (o->subject && text_check_line(o->subject, "-s subject", err) < 0) ||
	    (o->name && text_check_line(o->name, "-N name", err) < 0) ||
	    (o->domain && text_check_line(o->domain, "--domain", err) < 0))
		return -1;
	if (o->domain && (strchr(o->domain, ' ') || o->domain[0] == '\0'))
		return err_set(err, CL_EDATA, "--domain '%s' is not a host name", o->domain);
	/* A whole message (sendmail -f '<>') may have the null sender. */
	if (o->from && addr_check(o->from, "sender (-F)", o->raw_msg != NULL, err) < 0)
		return -1;
	for (i = 0; i < o->nrcpt; i++)
		if (addr_check(o->rcpts[i], "recipient (-T)", 0, err) < 0)
			return -1;
	for (i = 0; i < o->ncc; i++)
		if (addr_check(o->cc[i], "recipient (--cc)", 0, err) < 0)
			return -1;
	for (i = 0; i < o->nbcc; i++)
		if (addr_check(o->bcc[i], "recipient (--bcc)", 0, err) < 0)
			return -1;
	return 0;
}

static int send_get_password(struct client_opts *o, struct buf *pw, struct cl_err *err)
{
	int r;

	if (o->password) {
		if (isatty(STDERR_FILENO))
			fprintf(stderr, "clsmtpc: warning: -r shows the password to every user of "
					"ps; prefer -p FILE or --passwordeval\n");
		buf_set(pw, o->password);
		/* Hide it from ps as soon as we can. */
		explicit_bzero(o->password, strlen(o->password));
		return 0;
	}
	if (o->passfile)
		return passfile_lookup(o->passfile, o->user, o->host, pw, err);
	if (o->passwordeval)
		return secret_from_command(o->passwordeval, pw, err);
	if (o->keyring)
		return secret_from_keyring(o->host, o->user, pw, err);
	if (o->password_env)
		return secret_from_env(o->password_env, pw, err);
	/* msmtp's last resorts: ~/.netrc (~/.authinfo, /etc/netrc), then the
	 * terminal. */
	r = netrc_lookup(o->host, o->user, pw, err);
	if (r == 0)
		r = secret_from_tty(o->host, o->user, pw, err);
	if (r != 0)
		return r < 0 ? -1 : 0;
	return err_set(err, CL_ECONFIG,
		       "no password for %s: give -p FILE (user:server:password), "
		       "--passwordeval CMD, --keyring, --password-env NAME, an account "
		       "(clsmtpc.conf(5)), a ~/.netrc entry, or -r PASSWORD (no terminal to ask on)",
		       o->user);
}

/* Sender: -N's <addr> wins over -F (the original's rule). */
static int send_sender(const struct client_opts *o, struct buf *name, struct buf *addr,
		       struct cl_err *err)
{
	if (o->name && addr_parse_display(o->name, name, addr, err) < 0)
		return -1;
	if (addr->len) {
		if (addr_check(buf_cstr(addr), "address in -N", 0, err) < 0)
			return -1;
		return 0;
	}
	if (o->from)
		return buf_set(addr, o->from);
	if (o->user && strchr(o->user, '@'))
		return buf_set(addr, o->user);
	return err_set(err, CL_EUSAGE, "no sender: give -F ADDRESS");
}

static const char *send_nonempty(const char *s)
{
	return s && s[0] ? s : NULL;
}

/* TLS options of msmtp's: client certificate, CRL, version floor, the name
 * checked. Below TLS 1.2 only when asked, and never silently. */
static int send_tls_opts(const struct client_opts *o, struct smtp_client_params *p,
                         struct cl_err *err)
{
	/* msmtp: an empty value unsets ("--tls-trust-file=" is the system's). */
	p->tls.trust_file = send_nonempty(o->trust_file);
	p->tls.fingerprint = send_nonempty(o->fingerprint);
	p->tls.cert_file = send_nonempty(o->tls_cert_file);
	p->tls.key_file = send_nonempty(o->tls_key_file);
	p->tls.crl_file = send_nonempty(o->tls_crl_file);
	p->tls.host_override = send_nonempty(o->tls_host_override);
	if (p->tls.key_file && !p->tls.cert_file)
		return err_set(err, CL_EUSAGE,
		               "--tls-key-file needs --tls-cert-file (the certificate it belongs to)");
	if (p->tls.host_override &&
	    text_check_line(p->tls.host_override, "--tls-host-override", err) < 0)
		return -1;
	if (o->tls_min_version) {
		p->tls.min_version = 10 + (o->tls_min_version[2] - '0');
		if (p->tls.min_version < 12)
			fprintf(stderr,
			        "clsmtpc: warning: TLS %s allowed (--tls-min-version): TLS 1.0 and 1.1 "
			        "are broken (RFC 8996: weak hashes, downgrade attacks); an attacker "
			        "on the path may read the session, password included. Use it only "
			        "for an old server that speaks nothing newer.\n",
			        o->tls_min_version);
	}
	return 0;
}

/* --dsn-notify, --dsn-return, sendmail -V: RFC 3461 parameters for every
 * recipient ("off": the server decides, nothing is sent). */
static int send_dsn(const struct client_opts *o, struct smtp_message *m, const char ***notify,
                    struct cl_err *err)
{
	size_t i;

	if (o->dsn_return && strcasecmp(o->dsn_return, "off") != 0)
		m->ret = strcasecmp(o->dsn_return, "full") == 0 ? "FULL" : "HDRS";
	m->envid = o->dsn_envid;
	if (o->dsn_notify && strcasecmp(o->dsn_notify, "off") != 0) {
		size_t l = strlen(o->dsn_notify);
		char *up;

		/* One allocation: the pointers, then the value in upper case. */
		*notify = calloc(1, (m->nrcpt + 1) * sizeof(**notify) + l + 1);
		if (*notify == NULL)
			return err_set(err, CL_ESOFTWARE, "out of memory");
		up = (char *)(*notify + m->nrcpt + 1);
		for (i = 0; i < l; i++)
			up[i] = (char)toupper((unsigned char)o->dsn_notify[i]);
		for (i = 0; i < m->nrcpt; i++)
			(*notify)[i] = up;
		m->notify = *notify;
	}
	return 0;
}

/* Counts the bytes of the message as the engine reads them (the log's
 * mailsize). */
static int send_count_read(void *arg, struct buf *out, size_t max, struct cl_err *err)
{
	struct send_count *c = arg;
	size_t before = out->len;
	int r = c->inner.read(c->inner.arg, out, max, err);

	if (r >= 0)
		c->bytes += (long long)(out->len - before);
	return r;
}

static void send_count_wrap(struct send_count *c, struct smtp_body_source *src)
{
	c->inner = *src;
	c->bytes = 0;
	src->read = send_count_read;
	src->arg = c;
}

/* --dump-mail: the message as it would go, on fd. */
static int send_dump(struct smtp_body_source *src, int fd, struct cl_err *err)
{
	struct buf chunk = BUF_INIT(65536);
	int more = 1;
	size_t off;
	ssize_t n;

	while (more > 0) {
		buf_reset(&chunk);
		more = src->read(src->arg, &chunk, 65536, err);
		if (more < 0)
			break;
		for (off = 0; off < chunk.len; off += (size_t)n) {
			n = write(fd, chunk.data + off, chunk.len - off);
			if (n < 0 && errno == EINTR) {
				n = 0;
				continue;
			}
			if (n <= 0) {
				more = err_set(err, CL_EIO, "--dump-mail: cannot write: %s",
				               strerror(errno));
				break;
			}
		}
	}
	buf_free(&chunk);
	return more < 0 ? -1 : 0;
}

/* One log line (sendlog.h) for this attempt. */
static void send_log(const struct client_opts *o, const struct smtp_client_params *p,
                     const struct smtp_message *m, const struct smtp_result *res, int tls,
                     long long size, const struct cl_err *err)
{
	struct sendlog_rec lr;
	size_t i;

	memset(&lr, 0, sizeof(lr));
	lr.host = p->host;
	lr.tls = tls;
	lr.auth = p->auth != NULL;
	lr.user = p->creds.user;
	lr.from = m->from;
	lr.rcpts = m->rcpts;
	lr.nrcpt = m->nrcpt;
	lr.mailsize = size;
	lr.exitcode = err ? exitcode_for(err->cls) : 0;
	lr.errormsg = err ? err->msg : NULL;
	/* The server's word: the data reply, else the first refused
	 * recipient's. */
	for (i = 0; err && i < res->nrcpt && lr.smtpstatus == 0; i++)
		if (res->rcpt[i].code >= 400) {
			lr.smtpstatus = res->rcpt[i].code;
			lr.smtpmsg = res->rcpt[i].reply;
		}
	if (lr.smtpstatus == 0 && res->code) {
		lr.smtpstatus = res->code;
		lr.smtpmsg = res->reply;
	}
	sendlog_write(&lr, o->logfile, o->logfile_time_format, o->syslog);
}

/* May the next fallback server be tried? Only when this one certainly did
 * not take the message: it could not be reached or refused the session
 * (connect, greeting, EHLO, STARTTLS, AUTH), or answered 4xx to a
 * recipient or to the end of the data. Never after a lost reply to the
 * data: the message may have been accepted, and must not go twice. */
static int send_fallback_ok(int opened, const struct cl_err *err, const struct smtp_result *res)
{
	size_t i;

	if (err->cls != CL_ETEMP && err->cls != CL_ENOHOST)
		return 0;
	if (!opened)
		return 1;
	if (res->code >= 400 && res->code < 500)
		return 1;
	/* A refused recipient makes the engine send the message to nobody
	 * (docs/architecture.md): no copy stayed behind. */
	for (i = 0; i < res->nrcpt; i++)
		if (res->rcpt[i].code >= 400 && res->rcpt[i].code < 500)
			return 1;
	return 0;
}

/* The next "host[:port]" of --fallback / the account's fallback key into
 * host and port (the port of the first server when none is given). 0 when
 * the list is done. */
static int send_fallback_next(const struct client_opts *o, size_t *pos,
                              const struct smtp_client_params *p, struct buf *host,
                              struct buf *port)
{
	const char *list = o->fallback, *e, *colon;
	size_t n;

	if (list == NULL)
		return 0;
	for (;;) {
		list += *pos;
		list += strspn(list, " ,\t");
		if (*list == '\0')
			return 0;
		n = strcspn(list, " ,\t");
		*pos = (size_t)(list + n - o->fallback);
		e = list + n;
		list = o->fallback;
		/* "[v6]:port", "host:port", "host" */
		colon = e[-n] == '[' ? memchr(e - n, ']', n) : NULL;
		if (colon != NULL) {
			buf_reset(host);
			buf_add(host, e - n + 1, (size_t)(colon - (e - n) - 1));
			colon = colon + 1 < e && colon[1] == ':' ? colon + 1 : NULL;
		} else {
			colon = memchr(e - n, ':', n);
			buf_reset(host);
			buf_add(host, e - n, colon ? (size_t)(colon - (e - n)) : n);
		}
		buf_reset(port);
		if (colon && colon + 1 < e)
			buf_add(port, colon + 1, (size_t)(e - colon - 1));
		else
			buf_set(port, p->port);
		if (host->len)
			return 1;
	}
}

int send_run(struct client_opts *o, struct cl_err *err)
{
	struct smtp_client_params p;
	struct smtp_client *sess = NULL;
	struct smtp_message m;
	struct smtp_result res;
	struct send_msg sm;
	struct transcript tr = {stderr};
	struct buf host = BUF_INIT(256), pw = BUF_INIT(SECRET_MAX), body = BUF_INIT(MSG_MAX);
	struct buf msg = BUF_INIT(MSG_MAX + MSG_MAX / 2), name = BUF_INIT(1024),
		   from = BUF_INIT(1024);
	size_t nrcpt = o->nrcpt + o->ncc + o->nbcc;
	int probe = o->verbose && nrcpt == 0 && !o->pretend, r = -1, tls_used = 0;
	struct send_count counter = {0};
	const char **notify = NULL;
	struct buf fbhost = BUF_INIT(256), fbport = BUF_INIT(16);
	size_t fb = 0;

	memset(&sm, 0, sizeof(sm));
	smtp_result_init(&res);
	buf_set_secret(&pw);
	if (o->host == NULL) {
		err_set(err, CL_EUSAGE, "no server: give -M HOST (see --help)");
		goto out;
	}
	if (!probe && nrcpt == 0 && !o->pretend) {
		err_set(err, CL_EUSAGE, "no recipient: give -T ADDRESS (or -v alone to probe)");
		goto out;
	}
	if (send_check_input(o, err) < 0 || (o->queue && queue_cli_check(o, err) < 0))
		goto out;
	if (o->auth && strcasecmp(o->auth, "none") != 0 && strcasecmp(o->auth, "external") != 0 &&
	    o->user == NULL && !probe) {
		err_set(err, CL_EUSAGE, "-A %s needs a user name (-U)", o->auth);
		goto out;
	}
	if (!probe && !o->pretend && send_sender(o, &name, &from, err) < 0)
		goto out;
	if (o->pretend && (o->from || o->name))
		send_sender(o, &name, &from, err);

	memset(&p, 0, sizeof(p));
	p.host = o->host;
	p.port = o->port ? o->port : o->tls_mode == SMTP_TLS_SMTPS ? "465" : "587";
	p.family = o->family;
	p.tls_mode = o->tls_mode;
	p.tls.trust_file = o->trust_file;
	p.tls.fingerprint = o->fingerprint;
	p.tls.certcheck = o->certcheck;
	if (send_tls_opts(o, &p, err) < 0)
		goto out;
	p.source_ip = send_nonempty(o->source_ip);
	p.proxy_host = o->proxy_host && o->proxy_host[0] ? o->proxy_host : NULL;
	p.proxy_port = o->proxy_port && o->proxy_port[0] ? o->proxy_port : NULL;
	if (o->domain) {
		buf_set(&host, o->domain);
	} else {
		hostname_fqdn(&host);
	}
	p.ehlo_domain = buf_cstr(&host);
	smtp_timeouts_default(&p.timeouts);
	if (o->timeout_s)
		smtp_timeouts_all(&p.timeouts, o->timeout_s * 1000);
	if (o->verbose) {
		p.transcript = transcript_line;
		p.transcript_arg = &tr;
		p.debug = o->verbose > 1;
		transcript_banner(&tr);
	}
	if (probe) {
		/* The original's probe: greeting and capabilities, no mail. */
		if (p.tls_mode == SMTP_TLS_AUTO)
			p.tls_mode = SMTP_TLS_NONE;
		r = smtp_client_open(&sess, &p, err);
		smtp_client_quit(sess);
		goto out;
	}

	if (o->auth && strcasecmp(o->auth, "external") == 0) {
		/* The TLS client certificate is the credential; -U, if
		 * given, is the identity asked for (authzid). */
		p.auth = "external";
		p.creds.user = o->user;
		p.creds.authzid = o->user;
	} else if (o->user && !(o->auth && strcasecmp(o->auth, "none") == 0)) {
		p.auth = o->auth ? o->auth : "auto";
		if (o->pretend)
			goto pretend;
		if (send_get_password(o, &pw, err) < 0)
			goto out;
		p.creds.user = o->user;
		if (strcasecmp(p.auth, "xoauth2") == 0 || strcasecmp(p.auth, "oauthbearer") == 0)
			p.creds.token = buf_cstr(&pw);
		else
			p.creds.password = buf_cstr(&pw);
	}

pretend:
	if (o->pretend) {
		r = send_pretend(o, &p, buf_cstr(&from), stdout, err);
		goto out;
	}
	/* Body, attachments and every field read and checked before we
	 * connect (sendmail mode: the whole message the caller spooled);
	 * composed for the server once its capabilities are known. */
	if (send_msg_prepare(&sm, o, buf_cstr(&from), name.len ? buf_cstr(&name) : NULL,
			     buf_cstr(&host), err) < 0)
		goto out;

	memset(&m, 0, sizeof(m));
	m.from = buf_cstr(&from);
	m.rcpts = sm.rcpts; /* To, Cc and Bcc */
	m.nrcpt = sm.nrcpt;
	/* SMTPUTF8 for the addresses is the engine's to add (addr_idn.h):
	 * without it, domains go as A-labels. */
	m.smtputf8 = 0;
	if (send_dsn(o, &m, &notify, err) < 0)
		goto out;
	if (o->dump_mail) {
		r = send_msg_build(&sm, NULL, p.host, &m, err) == 0
		        ? send_dump(&m.body, STDOUT_FILENO, err)
		        : -1;
		goto out;
	}

	for (;;) {
		int opened = smtp_client_open(&sess, &p, err) == 0;

		if (opened && send_msg_build(&sm, smtp_client_caps(sess), p.host, &m, err) == 0) {
			send_count_wrap(&counter, &m.body);
			r = smtp_client_send(sess, &m, 1, &res, err);
		}
		tls_used = smtp_client_is_tls(sess) || p.tls_mode == SMTP_TLS_SMTPS ||
		           p.tls_mode == SMTP_TLS_STARTTLS;
		smtp_client_quit(sess);
		if (r == 0 || !send_fallback_ok(opened, err, &res) ||
		    send_fallback_next(o, &fb, &p, &fbhost, &fbport) == 0)
			break;
		if (o->logfile || o->syslog)
			send_log(o, &p, &m, &res, tls_used, -1, err);
		fprintf(stderr, "clsmtpc: %s; trying the fallback server %s port %s\n", err->msg,
		        buf_cstr(&fbhost), buf_cstr(&fbport));
		/* The next host's name (not the last one's) is checked. */
		if (text_check_line(buf_cstr(&fbhost), "fallback", err) < 0)
			goto out;
		p.host = buf_cstr(&fbhost);
		p.port = buf_cstr(&fbport);
		smtp_client_free(sess);
		sess = NULL;
		smtp_result_free(&res);
		smtp_result_init(&res);
	}
	if (o->logfile || o->syslog)
		send_log(o, &p, &m, &res, tls_used, r == 0 ? counter.bytes : -1, r == 0 ? NULL : err);
	if (r < 0 && o->queue && err->cls == CL_ETEMP) {
		/* --queue: keep it for clsmtpc --flush (docs/queue.md). */
		struct cl_err why = *err;
		r = send_msg_rewind(&sm, &m, err) == 0 ? queue_cli_store(o, &m, &why, err) : -1;
	}
	if (r == 0 && res.warning[0])
		fprintf(stderr, "clsmtpc: warning: %s\n", res.warning);
out:
	free(notify);
	buf_free(&fbhost);
	buf_free(&fbport);
	send_msg_free(&sm);
	smtp_client_free(sess);
	smtp_result_free(&res);
	buf_wipe(&pw);
	buf_free(&host);
	buf_free(&body);
	buf_free(&msg);
	buf_free(&name);
	buf_free(&from);
	return r;
}

