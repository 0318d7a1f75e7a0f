/*
 * accounts.c - choose an account and apply it to the command line (see
 * accounts.h). What may be set where: the command line overrides the
 * account, the account overrides the built-in defaults.
 */
#include "accounts.h"

#include <stdlib.h>
#include <string.h>

#include "smtp/addr.h"

/* "msa.%{domain}" -> "msa.ab.auone-net.jp" for x@ab.auone-net.jp (au's
 * servers are per domain; data/providers.conf). */
static int accounts_expand_host(struct config_account *a, const char *sender, struct cl_err *err)
{
	struct buf b = BUF_INIT(512);
	const char *p = strstr(a->host, "%{domain}"), *at;
	char *s;

	if (p == NULL)
		return 0;
	at = sender ? strrchr(sender, '@') : NULL;
	if (at == NULL || at[1] == '\0')
		return err_set(err, CL_ECONFIG,
		               "account %s: host %s needs the sender's domain: set from (or -F)",
		               a->name, a->host);
	if (buf_add(&b, a->host, (size_t)(p - a->host)) < 0 || buf_adds(&b, at + 1) < 0 ||
	    buf_adds(&b, p + strlen("%{domain}")) < 0) {
		buf_free(&b);
		return err_set(err, CL_ECONFIG, "account %s: host name too long", a->name);
	}
	s = buf_release(&b);
	if (s == NULL)
		return err_set(err, CL_ESOFTWARE, "out of memory");
	free(a->host);
	a->host = s;
	return 0;
}

#define ACCT_STR(field, acct_field)                                                          \
	do {                                                                                 \
		if (o->field == NULL)                                                        \
			o->field = a->acct_field;                                            \
	} while (0)

/* msmtp's keys: the command line wins, as for every other key. */
static void accounts_apply_msmtp(const struct config_account *a, struct client_opts *o)
{
	ACCT_STR(logfile, logfile);
	ACCT_STR(logfile_time_format, logfile_time_format);
	ACCT_STR(syslog, syslog);
	ACCT_STR(dsn_notify, dsn_notify);
	ACCT_STR(dsn_return, dsn_return);
	ACCT_STR(tls_cert_file, tls_cert_file);
	ACCT_STR(tls_key_file, tls_key_file);
	ACCT_STR(tls_crl_file, tls_crl_file);
	ACCT_STR(tls_min_version, tls_min_version);
	ACCT_STR(tls_host_override, tls_host_override);
	ACCT_STR(source_ip, source_ip);
	ACCT_STR(set_from_header, set_from_header);
	ACCT_STR(set_date_header, set_date_header);
	ACCT_STR(set_msgid_header, set_msgid_header);
	ACCT_STR(fallback, fallback);
	ACCT_STR(proxy_host, proxy_host);
	ACCT_STR(proxy_port, proxy_port);
	if (o->remove_bcc_headers < 0)
		o->remove_bcc_headers = a->remove_bcc_headers;
	if (o->undisclosed_recipients < 0)
		o->undisclosed_recipients = a->undisclosed_recipients;
}

int accounts_apply(struct config_account *a, struct client_opts *o, struct cl_err *err)
{
	int cli_secret =
	    o->password || o->passfile || o->passwordeval || o->keyring || o->password_env;

	if (o->from == NULL && a->from && !strpbrk(a->from, "*?["))
		o->from = a->from;
	if (o->host == NULL) {
		if (a->host == NULL)
			return err_set(err, CL_ECONFIG,
			               "account %s (%s, line %d) has no host: add 'host NAME' or "
			               "'provider NAME'",
			               a->name, a->file ? a->file : "?", a->line);
		if (accounts_expand_host(a, o->from ? o->from : a->from, err) < 0)
			return -1;
		o->host = a->host;
	}
	if (o->port == NULL)
		o->port = a->port;
	if (!o->tls_mode_set && a->tls_mode_set) {
		o->tls_mode = a->tls_mode;
		o->tls_mode_set = 1;
	}
	if (o->trust_file == NULL)
		o->trust_file = a->trust_file;
	if (o->fingerprint == NULL)
		o->fingerprint = a->fingerprint;
	if (!o->certcheck_set && a->certcheck >= 0)
		o->certcheck = a->certcheck;
	if (o->user == NULL)
		o->user = a->user;
	if (o->auth == NULL)
		o->auth = a->auth;
	if (!cli_secret) {
		o->passwordeval = a->passwordeval;
		o->passfile = a->passfile;
		o->keyring = a->keyring == 1;
		o->password_env = a->password_env;
	}
	if (o->domain == NULL)
		o->domain = a->domain;
	if (o->timeout_s == 0)
		o->timeout_s = a->timeout_s;
	accounts_apply_msmtp(a, o);
	/* "queue on-tempfail": as --queue (which "queue off" cannot undo). */
	if (a->queue == CONFIG_QUEUE_ON_TEMPFAIL)
		o->queue = 1;
	return 0;
}

int accounts_resolve(struct client_opts *o, const char *sender, struct config *cfg,
                     const struct config_account **used, struct cl_err *err)
{
	struct buf name = BUF_INIT(1024), inner = BUF_INIT(1024);
	const struct config_account *a = NULL;
	int r = -1;

	memset(cfg, 0, sizeof(*cfg));
	*used = NULL;
	if (o->host && !o->account && !o->config_file)
		return 0;
	if (config_load(cfg, o->config_file, err) < 0)
		return -1;
	if (sender == NULL) {
		if (o->name && addr_parse_display(o->name, &name, &inner, err) == 0 && inner.len)
			sender = buf_cstr(&inner);
		else
			sender = o->from;
	}
	if (config_select(cfg, o->account, sender, &a, err) < 0)
		goto out;
	if (a && accounts_apply((struct config_account *)a, o, err) < 0)
		goto out;
	/* Name the account used (the offline queue records it). */
	if (a && o->account == NULL)
		o->account = a->name;
	*used = a;
	r = 0;
out:
	buf_free(&name);
	buf_free(&inner);
	return r;
}
