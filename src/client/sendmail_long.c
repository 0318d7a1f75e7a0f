/*
 * sendmail_long.c - msmtp's long options in sendmail mode (see
 * sendmail_long.h). One table: an option is forwarded to clsmtpc's own
 * parser (which checks its value), handled here, or refused with the
 * alternative. msmtp's rule for arguments holds: "--opt=value", or
 * "--opt value" for an option whose argument is required.
 */
#include "sendmail_long.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum sml_arg { SML_NONE, SML_REQ, SML_OPT };
enum sml_act {
	SML_FWD,    /* clsmtpc's option of the same name */
	SML_SELF,   /* handled here */
	SML_REFUSE, /* refused: why says what to use */
};

struct sml {
	const char *name;
	enum sml_arg arg;
	enum sml_act act;
	const char *why; /* SML_REFUSE */
};

static const struct sml sml_table[] = {
    /* General and configuration options (msmtp(1) OPTIONS). */
    {"version", SML_NONE, SML_SELF, NULL},
    {"help", SML_NONE, SML_SELF, NULL},
    {"pretend", SML_NONE, SML_FWD, NULL},
    {"debug", SML_NONE, SML_SELF, NULL},
    {"verbose", SML_NONE, SML_SELF, NULL},
    {"configure", SML_REQ, SML_REFUSE,
     "clsmtpc --doctor ADDRESS finds the server of a mail address (SRV, MX, provider "
     "presets) and prints the options that work"},
    {"serverinfo", SML_NONE, SML_REFUSE,
     "clsmtpc -v -M HOST shows the greeting and capabilities (add -Z tls for those after "
     "STARTTLS); clsmtpc --doctor HOST also checks the certificate and the ports"},
    {"rmqs", SML_REQ, SML_REFUSE,
     "Remote Message Queue Starting (ETRN) is not supported: clsmtpc only submits mail; "
     "clsmtpd -flush sends clsmtpd's queue"},
    {"file", SML_REQ, SML_SELF, NULL},
    {"account", SML_REQ, SML_SELF, NULL},
    {"host", SML_REQ, SML_FWD, NULL},
    {"port", SML_REQ, SML_FWD, NULL},
    {"source-ip", SML_REQ, SML_FWD, NULL},
    {"proxy-host", SML_REQ, SML_FWD, NULL},
    {"proxy-port", SML_REQ, SML_FWD, NULL},
    {"socket", SML_REQ, SML_REFUSE,
     "a Unix-domain socket is not supported: clsmtpc connects over TCP (give --host and "
     "--port)"},
    {"timeout", SML_REQ, SML_FWD, NULL},
    {"protocol", SML_REQ, SML_SELF, NULL},
    {"domain", SML_REQ, SML_FWD, NULL},
    {"auth", SML_OPT, SML_FWD, NULL},
    {"user", SML_REQ, SML_FWD, NULL},
    {"passwordeval", SML_REQ, SML_FWD, NULL},
    {"tls", SML_OPT, SML_FWD, NULL},
    {"tls-starttls", SML_OPT, SML_FWD, NULL},
    {"tls-trust-file", SML_REQ, SML_FWD, NULL},
    {"tls-crl-file", SML_REQ, SML_FWD, NULL},
    {"tls-fingerprint", SML_REQ, SML_FWD, NULL},
    {"tls-key-file", SML_REQ, SML_FWD, NULL},
    {"tls-cert-file", SML_REQ, SML_FWD, NULL},
    {"tls-certcheck", SML_OPT, SML_FWD, NULL},
    {"tls-priorities", SML_REQ, SML_REFUSE,
     "GnuTLS priority strings do not apply: clsmtpc uses OpenSSL; use "
     "--tls-min-version=1.2|1.3 for the version floor"},
    {"tls-host-override", SML_REQ, SML_FWD, NULL},
    {"tls-min-dh-prime-bits", SML_REQ, SML_REFUSE,
     "deprecated in msmtp itself; OpenSSL's security level decides (use "
     "--tls-min-version for the protocol floor)"},
    {"tls-min-version", SML_REQ, SML_FWD, NULL},
    /* Options specific to sendmail mode. */
    {"from", SML_REQ, SML_SELF, NULL},
    {"dsn-notify", SML_REQ, SML_FWD, NULL},
    {"dsn-return", SML_REQ, SML_FWD, NULL},
    {"set-from-header", SML_OPT, SML_FWD, NULL},
    {"set-date-header", SML_OPT, SML_FWD, NULL},
    {"set-msgid-header", SML_OPT, SML_FWD, NULL},
    {"remove-bcc-headers", SML_OPT, SML_FWD, NULL},
    {"undisclosed-recipients", SML_OPT, SML_FWD, NULL},
    {"logfile", SML_REQ, SML_FWD, NULL},
    {"logfile-time-format", SML_REQ, SML_FWD, NULL},
    {"syslog", SML_OPT, SML_FWD, NULL},
    {"read-recipients", SML_NONE, SML_SELF, NULL},
    {"read-envelope-from", SML_NONE, SML_SELF, NULL},
    {"aliases", SML_REQ, SML_SELF, NULL},
    {"auto-from", SML_OPT, SML_SELF, NULL},
    {"maildomain", SML_REQ, SML_SELF, NULL},
    /* clsmtpc's own, useful from a sendmail command line. */
    {"dump-mail", SML_NONE, SML_FWD, NULL},
    {"fallback", SML_REQ, SML_FWD, NULL},
    {"proxy", SML_REQ, SML_FWD, NULL},
    {"keyring", SML_NONE, SML_FWD, NULL},
    {"password-env", SML_REQ, SML_FWD, NULL},
    {"queue", SML_NONE, SML_FWD, NULL},
    {"queue-dir", SML_REQ, SML_FWD, NULL},
};

#define SML_N (sizeof(sml_table) / sizeof(sml_table[0]))

int sendmail_forward(struct sendmail_opts *so, const char *name, const char *value,
                     struct cl_err *err)
{
	size_t n = strlen(name) + (value ? strlen(value) + 1 : 0) + 3;
	char *w;

	if (so->nfwd == 0)
		so->fwd[so->nfwd++] = (char *)"clsmtpc";
	if (so->nfwd == SENDMAIL_FWD_MAX)
		return err_set(err, CL_EUSAGE, "too many options (at most %d)",
		               SENDMAIL_FWD_MAX - 1);
	w = malloc(n);
	if (w == NULL)
		return err_set(err, CL_ESOFTWARE, "out of memory");
	snprintf(w, n, "--%s%s%s", name, value ? "=" : "", value ? value : "");
	so->fwd_alloc[so->nalloc++] = w;
	so->fwd[so->nfwd++] = w;
	return 0;
}

void sendmail_opts_free(struct sendmail_opts *so)
{
	int k;

	for (k = 0; k < so->nalloc; k++)
		free(so->fwd_alloc[k]);
	so->nalloc = so->nfwd = 0;
}

/* msmtp's on/off for an optional argument: none or "on" is on. */
static int sml_on(const char *v, int *out)
{
	if (v == NULL || v[0] == '\0' || strcasecmp(v, "on") == 0)
		*out = 1;
	else if (strcasecmp(v, "off") == 0)
		*out = 0;
	else
		return -1;
	return 0;
}

static int sml_self(const struct sml *o, const char *v, struct sendmail_opts *so,
                    struct cl_err *err)
{
	const char *n = o->name;

	if (strcmp(n, "version") == 0)
		so->show_version = 1;
	else if (strcmp(n, "help") == 0)
		so->show_help = 1;
	else if (strcmp(n, "debug") == 0 || strcmp(n, "verbose") == 0)
		so->verbose++;
	else if (strcmp(n, "file") == 0)
		so->config = v;
	else if (strcmp(n, "account") == 0)
		so->account = v;
	else if (strcmp(n, "protocol") == 0) {
		if (strcasecmp(v, "smtp") != 0)
			return err_set(err, CL_EUSAGE,
			               "--protocol=%s is not supported: clsmtpc submits over SMTP "
			               "only (deliver to a local mailbox through clsmtpd or an MTA)",
			               v);
	} else if (strcmp(n, "from") == 0) {
		so->sender = v;
		so->sender_set = 1;
	} else if (strcmp(n, "read-recipients") == 0)
		so->extract = 1;
	else if (strcmp(n, "read-envelope-from") == 0)
		so->read_env_from = 1;
	else if (strcmp(n, "aliases") == 0) {
		so->aliases = v;
		so->aliases_set = 1;
	} else if (strcmp(n, "auto-from") == 0) {
		if (sml_on(v, &so->auto_from) < 0)
			return err_set(err, CL_EUSAGE, "--auto-from wants on or off");
	} else if (strcmp(n, "maildomain") == 0)
		so->maildomain = v;
	else
		return err_set(err, CL_ESOFTWARE, "--%s has no handler", n);
	return 0;
}

int sendmail_long_option(int argc, char **argv, int *i, struct sendmail_opts *so,
                         struct cl_err *err)
{
	const char *a = argv[*i] + 2, *eq = strchr(a, '='), *v = NULL;
	size_t nl = eq ? (size_t)(eq - a) : strlen(a), k;
	const struct sml *o = NULL;

	for (k = 0; k < SML_N; k++)
		if (strlen(sml_table[k].name) == nl && strncmp(sml_table[k].name, a, nl) == 0)
			o = &sml_table[k];
	if (o == NULL)
		return err_set(err, CL_EUSAGE,
		               "unknown option %s (sendmail mode takes msmtp's options; see "
		               "clsmtpc(1) and docs/msmtp-compat.md)",
		               argv[*i]);
	if (o->act == SML_REFUSE)
		return err_set(err, CL_EUSAGE, "--%s is not supported: %s", o->name, o->why);
	if (eq) {
		if (o->arg == SML_NONE)
			return err_set(err, CL_EUSAGE, "--%s takes no argument", o->name);
		v = eq + 1;
	} else if (o->arg == SML_REQ) {
		if (*i + 1 >= argc)
			return err_set(err, CL_EUSAGE, "--%s needs an argument", o->name);
		v = argv[++*i];
	}
	if (o->act == SML_SELF)
		return sml_self(o, v, so, err);
	return sendmail_forward(so, o->name, v, err);
}
