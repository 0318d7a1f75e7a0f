/*
 * options.h - clsmtpc's command line: the original tool's short options
 * (-P -M -U -A -r -p -F -T -s -N -Z -v, body last) and GNU long options
 * named as msmtp names them where the feature is the same.
 */
#ifndef CLSMTPC_OPTIONS_H
#define CLSMTPC_OPTIONS_H

#include <stddef.h>
#include <stdio.h>

#include "base/err.h"
#include "engine/smtp_client.h"

struct rawmsg; /* rawmsg.h */

#define OPT_RCPT_MAX 1000
#define OPT_HDR_MAX 100
#define OPT_ATTACH_MAX 100

struct opt_attach {
	const char *path; /* "-": standard input */
	const char *name; /* --attach-name, or NULL: the file's name */
};

struct client_opts {
	const char *host;
	const char *port;        /* NULL: 587, or 465 with -Z smtps */
	const char *user;
	const char *auth;        /* "auto" default when a user is given */
	char *password;          /* -r: points into argv, wiped after copy */
	const char *passfile;    /* -p */
	const char *passwordeval;
	const char *from;        /* -F */
	const char *name;        /* -N "Name <addr>" */
	const char *subject;     /* -s */
	const char *rcpts[OPT_RCPT_MAX];
	size_t nrcpt;
	char *rcpt_storage;      /* the -T lists split, one allocation */
	int tls_mode_set;
	enum smtp_tls_mode tls_mode;
	int verbose;
	const char *trust_file;
	const char *fingerprint;
	int certcheck;
	int timeout_s;           /* 0: RFC 5321 defaults */
	const char *domain;      /* EHLO argument */
	int family;
	const char *body_arg;    /* last argument, or NULL / "-" for stdin */
	int show_help, show_version;
	int doctor;              /* --doctor: diagnose instead of sending */
	const char *doctor_target; /* --doctor=TARGET, else the last argument or -M */
	int json;                /* --json: the doctor's findings as JSON */
	/* Accounts (config.h, accounts.h): */
	const char *account;     /* -a, --account NAME */
	const char *config_file; /* -C, --config FILE */
	int certcheck_set;       /* --tls-certcheck given (else the account's) */
	int keyring;             /* --keyring: password from secret-tool */
	const char *password_env; /* --password-env NAME */
	int import_msmtprc;      /* --import-msmtprc [FILE] */
	const char *import_file;
	/* A whole message spooled and completed by the caller (sendmail
	 * mode, rawmsg.h); send_run streams it instead of composing. */
	struct rawmsg *raw_msg;
	/* The offline queue (queue_cli.h, docs/queue.md): */
	int queue;               /* --queue, or an account's "queue on-tempfail" */
	int flush;               /* --flush: 1 everything, 2 (--flush=due) due only */
	int list_queue;          /* --list-queue */
	const char *drop_queued; /* --drop-queued ID */
	const char *queue_dir;   /* --queue-dir DIR */
	/* The message (send_msg.c, compose.h, docs/mime.md): */
	const char *charset;     /* -c, --charset: the charset on the wire */
	const char **cc, **bcc;  /* --cc, --bcc (Bcc: envelope only) */
	size_t ncc, nbcc;
	char *cc_storage, *bcc_storage;
	const char *reply_to;    /* --reply-to */
	const char *in_reply_to; /* --in-reply-to */
	const char *references;  /* --references */
	const char *headers[OPT_HDR_MAX]; /* -H "Name: value" */
	size_t nheaders;
	struct opt_attach attach[OPT_ATTACH_MAX]; /* --attach FILE [--attach-name N] */
	size_t nattach;
	const char *html;        /* --html FILE */
	int raw;                 /* --raw: standard input is a whole message */
	/* msmtp's options (docs/msmtp-compat.md); NULL / -1: not given. */
	const char *logfile;     /* --logfile FILE ("-": standard output) */
	const char *logfile_time_format;
	const char *syslog;      /* --syslog[=FACILITY]: "LOG_USER"..., "off" */
	const char *dsn_notify;  /* --dsn-notify: off, never, failure,delay,success */
	const char *dsn_return;  /* --dsn-return: off, headers (hdrs), full */
	const char *dsn_envid;   /* sendmail -V: the DSN envelope id */
	const char *tls_cert_file, *tls_key_file, *tls_crl_file;
	const char *tls_min_version;   /* --tls-min-version 1.0 .. 1.3 */
	const char *tls_host_override; /* name for SNI and the certificate check */
	const char *source_ip;   /* --source-ip: bind the connection to it */
	const char *proxy_host, *proxy_port; /* --proxy socks5h://H:P, --proxy-host/-port */
	char proxy_buf[300];     /* --proxy's host and port, split */
	int pretend;             /* --pretend: print the configuration, send nothing */
	int dump_mail;           /* --dump-mail: print the message, do not connect */
	const char *fallback;    /* --fallback "host[:port],...": tried in order */
	/* Whole messages (--raw, sendmail mode): */
	const char *set_from_header;  /* auto, on, off */
	const char *set_date_header;  /* auto, off */
	const char *set_msgid_header; /* auto, off */
	int remove_bcc_headers;       /* -1 unset (on), 0, 1 */
	int undisclosed_recipients;   /* -1 unset (off), 0, 1 */
};

/* Parse argv into o. Usage errors: CL_EUSAGE with a message. */
int options_parse(int argc, char **argv, struct client_opts *o, struct cl_err *err);
void options_free(struct client_opts *o);
void options_usage(FILE *f);
/* The values an msmtp --tls-min-version (tls.h) or header option takes. */
int options_tls_version_ok(const char *v);

#endif
