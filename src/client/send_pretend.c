/*
 * send_pretend.c - print the resolved configuration (see send_pretend.h).
 * The keys are msmtp's, so the two outputs can be compared line by line;
 * what msmtp has and clsmtpc does not (socket, ntlmdomain, tls_priorities)
 * is not printed.
 */
#include "send_pretend.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

static const char *sp_v(const char *v)
{
	return v && v[0] ? v : "(not set)";
}

static const char *sp_onoff(int v)
{
	return v ? "on" : "off";
}

int send_pretend(const struct client_opts *o, const struct smtp_client_params *p,
                 const char *from, FILE *out, struct cl_err *err)
{
	const char *auth = "off";

	if (p->auth)
		auth = strcasecmp(p->auth, "auto") == 0 ? "choose" : p->auth;
	if (o->account)
		fprintf(out, "using account %s\n", o->account);
	fprintf(out, "host = %s\n", sp_v(p->host));
	fprintf(out, "port = %s\n", sp_v(p->port));
	fprintf(out, "source ip = %s\n", sp_v(o->source_ip));
	fprintf(out, "proxy host = %s\n", sp_v(p->proxy_host));
	fprintf(out, "proxy port = %s\n", p->proxy_host ? (p->proxy_port ? p->proxy_port : "1080")
	                                                  : "0");
	fprintf(out, "fallback = %s\n", sp_v(o->fallback));
	if (o->timeout_s)
		fprintf(out, "timeout = %d seconds\n", o->timeout_s);
	else
		fprintf(out, "timeout = off\n");
	fprintf(out, "protocol = smtp\n");
	fprintf(out, "domain = %s\n", sp_v(p->ehlo_domain));
	fprintf(out, "auth = %s\n", auth);
	fprintf(out, "user = %s\n", sp_v(o->user));
	/* Where the password comes from; the password itself never. */
	fprintf(out, "password = %s\n", o->password ? "*" : "(not set)");
	fprintf(out, "passwordeval = %s\n", sp_v(o->passwordeval));
	fprintf(out, "passfile = %s\n", sp_v(o->passfile));
	fprintf(out, "keyring = %s\n", sp_onoff(o->keyring));
	fprintf(out, "password_env = %s\n", sp_v(o->password_env));
	fprintf(out, "tls = %s\n", sp_onoff(p->tls_mode == SMTP_TLS_STARTTLS ||
	                                    p->tls_mode == SMTP_TLS_SMTPS));
	fprintf(out, "tls_starttls = %s\n", sp_onoff(p->tls_mode != SMTP_TLS_SMTPS));
	fprintf(out, "tls_mode = %s\n",
	        p->tls_mode == SMTP_TLS_SMTPS      ? "smtps"
	        : p->tls_mode == SMTP_TLS_STARTTLS ? "tls"
	        : p->tls_mode == SMTP_TLS_NONE     ? "none"
	                                           : "auto (STARTTLS when offered)");
	fprintf(out, "tls_trust_file = %s\n", p->tls.trust_file ? p->tls.trust_file : "system");
	fprintf(out, "tls_crl_file = %s\n", sp_v(p->tls.crl_file));
	fprintf(out, "tls_fingerprint = %s\n", sp_v(p->tls.fingerprint));
	fprintf(out, "tls_key_file = %s\n", sp_v(p->tls.key_file));
	fprintf(out, "tls_cert_file = %s\n", sp_v(p->tls.cert_file));
	fprintf(out, "tls_certcheck = %s\n", sp_onoff(p->tls.certcheck));
	fprintf(out, "tls_min_version = %s\n", o->tls_min_version ? o->tls_min_version : "1.2");
	fprintf(out, "tls_host_override = %s\n", sp_v(p->tls.host_override));
	fprintf(out, "from = %s\n", sp_v(from));
	fprintf(out, "set_from_header = %s\n", o->set_from_header ? o->set_from_header : "auto");
	fprintf(out, "set_date_header = %s\n", o->set_date_header ? o->set_date_header : "auto");
	fprintf(out, "set_msgid_header = %s\n",
	        o->set_msgid_header ? o->set_msgid_header : "auto");
	fprintf(out, "remove_bcc_headers = %s\n", sp_onoff(o->remove_bcc_headers != 0));
	fprintf(out, "undisclosed_recipients = %s\n", sp_onoff(o->undisclosed_recipients == 1));
	/* As msmtp prints them: the keywords that go on the wire. */
	const char *nt = o->dsn_notify && strcasecmp(o->dsn_notify, "off") != 0 ? o->dsn_notify
	                                                                          : NULL;
	fprintf(out, "dsn_notify = ");
	for (const char *c = sp_v(nt); *c; c++)
		fputc(nt ? toupper((unsigned char)*c) : *c, out);
	fprintf(out, "\ndsn_return = %s\n",
	        o->dsn_return == NULL                 ? "(not set)"
	        : strcasecmp(o->dsn_return, "full") == 0 ? "FULL"
	        : strcasecmp(o->dsn_return, "off") == 0  ? "(not set)"
	                                                 : "HDRS");
	fprintf(out, "logfile = %s\n", sp_v(o->logfile));
	fprintf(out, "logfile_time_format = %s\n", sp_v(o->logfile_time_format));
	fprintf(out, "syslog = %s\n",
	        o->syslog == NULL || strcasecmp(o->syslog, "off") == 0 ? "(not set)"
	        : strcasecmp(o->syslog, "on") == 0                     ? "LOG_USER"
	                                                               : o->syslog);
	fprintf(out, "queue = %s\n", o->queue ? "on-tempfail" : "off");
	if (fflush(out) != 0)
		return err_set(err, CL_EIO, "--pretend: cannot write the configuration");
	return 0;
}
