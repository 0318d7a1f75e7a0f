/*
 * config.h - clsmtpc's configuration file: named accounts in msmtp's syntax
 * ("defaults", "account NAME [: PARENT]", "host", "port", "tls", ...), with
 * provider presets (data/providers.conf) filling what an account leaves out.
 * Every account is fully resolved at load time (defaults, parents, preset),
 * so a caller only looks fields up. Errors name the file and the line.
 */
#ifndef CLSMTPC_CONFIG_H
#define CLSMTPC_CONFIG_H

#include <stddef.h>

#include "base/err.h"
#include "engine/smtp_client.h"

/* Limits: a config longer than these is a mistake, not a reason to grow. */
#define CONFIG_LINE_MAX     4096
#define CONFIG_ACCOUNTS_MAX 256
#define CONFIG_FILE_MAX     (1024 * 1024)

/* queue: what to do with a message that cannot be delivered now. */
enum config_queue {
	CONFIG_QUEUE_UNSET = -1,
	CONFIG_QUEUE_OFF = 0,
	CONFIG_QUEUE_ON_TEMPFAIL = 1, /* store it (4xx, timeout, no network) */
};

/* One account. A NULL string or -1 / 0 as noted means "not set": the
 * command line or the built-in default decides. Strings are owned by the
 * struct config. */
struct config_account {
	char *name;
	char *host;
	char *port;                  /* as written: "587" */
	int tls_mode_set;            /* 0: not set (STARTTLS when offered) */
	enum smtp_tls_mode tls_mode; /* valid when tls_mode_set */
	char *trust_file;            /* tls_trust_file */
	char *fingerprint;           /* tls_fingerprint */
	int certcheck;               /* tls_certcheck: -1 unset, 0 off, 1 on */
	char *auth;                  /* "auto", "plain", "xoauth2", "none", ... */
	char *user;
	/* Password sources: the first one set is used, in this order. */
	char *passfile;     /* the original's user:server:password file */
	char *passwordeval; /* command; its first output line */
	int keyring;        /* -1 unset, 0 off, 1 on: secret-tool lookup */
	char *password_env; /* name of an environment variable */
	char *from;         /* envelope sender and From: address */
	char *domain;       /* EHLO argument */
	char *aliases;      /* sendmail mode: file of "name: address" lines */
	int timeout_s;      /* 0: not set */
	enum config_queue queue;
	char *provider;      /* preset name, as written */
	char *sender_policy; /* from the preset: "any", "account", "registered" */
	/* Only in the presets file (data/providers.conf): */
	char *title;       /* "Gmail" */
	char *domains;     /* mail domains served: "gmail.com googlemail.com" */
	char *source;      /* the provider page the values come from */
	char *source_note; /* how that page was read, when indirectly */
	char *file;        /* where the account was defined */
	int line;
	/* msmtp's raw switches ("tls on", "tls_starttls off"), -1 unset; they
	 * are folded into tls_mode once the account is complete. */
	int tls_on, tls_starttls;
	/* msmtp's keys (docs/msmtp-compat.md); NULL / -1: not set. */
	char *logfile;             /* "-": standard output */
	char *logfile_time_format; /* strftime format */
	char *syslog;              /* "LOG_USER"..., or "off" */
	char *dsn_notify;          /* "off", "never", "failure,delay,success" */
	char *dsn_return;          /* "off", "headers", "full" */
	char *tls_cert_file, *tls_key_file, *tls_crl_file;
	char *tls_min_version;     /* "1.0" ... "1.3" */
	char *tls_host_override;   /* name checked in the certificate and sent in SNI */
	char *source_ip;
	char *proxy_host, *proxy_port; /* SOCKS5 */
	char *set_from_header;     /* auto, on, off */
	char *set_date_header;     /* auto, off */
	char *set_msgid_header;    /* auto, off */
	char *maildomain;          /* for auto_from */
	char *fallback;            /* further hosts or accounts, comma separated */
	int allow_from_override, remove_bcc_headers, undisclosed_recipients, auto_from;
};

struct config {
	char *path; /* the file read, NULL if none was found */
	struct config_account *accounts;
	size_t naccounts;
	char *default_name; /* "account default : NAME", or an account named "default" */
};

/* Read a configuration. path: -C FILE, or NULL to search
 * $XDG_CONFIG_HOME/clsmtpc/config (~/.config/clsmtpc/config), then
 * /etc/clsmtpc.conf; finding none is not an error (c->path stays NULL).
 * A user's file readable by group or others is refused (CL_ECONFIG, with a
 * "chmod 600" hint); so is "password" (use passwordeval). */
int config_load(struct config *c, const char *path, struct cl_err *err);
/* Parse text as if read from file name (no permission check): for tests
 * and for --import-msmtprc's checks. */
int config_parse(struct config *c, const char *name, const char *text, size_t len,
                 struct cl_err *err);
void config_free(struct config *c);

/* Look up one account by name; NULL if there is none. */
const struct config_account *config_find(const struct config *c, const char *name);

/* Choose the account for a send: by name when given (error if it does not
 * exist), else the account whose "from" matches the sender address
 * (case-insensitive; "*@example.com"-style patterns allowed), else the
 * default account. *out is NULL (and 0 returned) when none applies. */
int config_select(const struct config *c, const char *name, const char *from,
                  const struct config_account **out, struct cl_err *err);

/* Read the provider presets (blocks "preset NAME" with host, port,
 * tls_mode, auth, sender_policy, title, domains, source) into c: each preset
 * becomes an account named after it. path NULL: config_providers_path. */
int config_load_presets(struct config *c, const char *path, struct cl_err *err);

/* 0 if v is a dsn_notify value msmtp takes: off, never, or a comma list of
 * failure, delay, success; -1 otherwise. */
int config_dsn_notify_ok(const char *v);

/* Where the provider presets live: $CLSMTPC_PROVIDERS, then next to the
 * program (../data/providers.conf, ../share/clsmtpc/providers.conf), then
 * /usr/local/share/clsmtpc and /usr/share/clsmtpc. Fills path; -1 if none. */
int config_providers_path(struct buf *path);

#endif
