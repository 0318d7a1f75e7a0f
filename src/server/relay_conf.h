/*
 * relay_conf.h - the relay part of clsmtpd.conf (documented in
 * clsmtpd.conf.5): smarthost or direct MX delivery, TLS and AUTH towards
 * the smarthost, per-domain routes, the retry schedule and the queue
 * lifetime. conf.c hands each directive it does not know to
 * relay_conf_directive; the smarthost password is read at start, as root.
 */
#ifndef CLSMTPD_RELAY_CONF_H
#define CLSMTPD_RELAY_CONF_H

#include <stddef.h>

#include "base/buf.h"
#include "base/err.h"

/* Postfix minimal_backoff_time is 300 s: the first retry after 5 minutes. */
#define RELAY_DEFAULT_RETRY_MIN (5 * 60)
/* Each retry waits twice as long, up to 4 hours (Postfix caps at 4000 s;
 * a home server's smarthost outage is usually hours, not minutes). */
#define RELAY_DEFAULT_RETRY_MAX (4 * 3600)
/* RFC 5321 4.5.4.1: give up after "at least 4-5 days" (Postfix
 * maximal_queue_lifetime is 5d). */
#define RELAY_DEFAULT_LIFETIME (5 * 86400)
/* The submission port (RFC 6409) unless the smarthost line names one. */
#define RELAY_DEFAULT_SMARTHOST_PORT "587"
#define RELAY_DEFAULT_MX_PORT        "25"
/* A password file or a passwordeval answer longer than this is refused. */
#define RELAY_SECRET_MAX 1024

enum relay_mode { RELAY_MODE_SMARTHOST, RELAY_MODE_MX };
enum relay_tls { RELAY_TLS_BY_PORT, RELAY_TLS_SMTPS, RELAY_TLS_STARTTLS, RELAY_TLS_NONE };
/* TLS towards MX hosts and routes: RFC 7435 opportunistic by default. */
enum relay_mx_tls { RELAY_MX_TLS_MAY, RELAY_MX_TLS_VERIFY, RELAY_MX_TLS_NONE };

struct relay_route {
	char *domain, *host, *port;
};

/* A smarthost account chosen by the envelope sender (sender_relay, Postfix's
 * sender_dependent_relayhost_maps with its password and generic maps), for
 * providers that take mail only from their own account's address. */
struct relay_account {
	char *pattern; /* "user@domain" or "@domain", lower case */
	char *host, *port;
	enum relay_tls tls;
	char *user, *password_file, *auth, *ca_file;
	char *rewrite;    /* MAIL FROM becomes this address; NULL: unchanged */
	int rewrite_from; /* and the From: field's address (rewrite=ADDR from) */
	int line;
	struct buf password; /* read at start, as root (secret) */
};

struct relay_conf {
	enum relay_mode mode;
	char *host, *port; /* the smarthost; NULL if none */
	enum relay_tls tls;
	char *user;          /* AUTH identity, NULL: no AUTH */
	char *password_file; /* owned by root, us or secret_uid; mode 0600/0400 */
	long secret_uid;     /* the service user (conf "user"), -1: none */
	char *passwordeval;  /* a command whose first output line is the password */
	char *auth;          /* "auto" or a mechanism name */
	char *ca_file;       /* trust file; NULL: the system store */
	char *fingerprint;   /* pinned SHA-256 of the smarthost's certificate */
	int certcheck;       /* verify the smarthost's chain and name (default 1) */
	enum relay_mx_tls mx_tls;
	struct relay_route *route;
	size_t nroute;
	struct relay_account *acct; /* sender_relay lines, in file order */
	size_t nacct;
	int retry_min, retry_max, lifetime; /* seconds */
	int timeout;                        /* seconds; 0: RFC 5321 4.5.3.2 defaults */
	int line_host, line_user;           /* for errors found after reading */
	struct buf password;                /* read by relay_conf_load_secret (secret) */
};

void relay_conf_init(struct relay_conf *rc);
void relay_conf_free(struct relay_conf *rc);
/* One directive of clsmtpd.conf: 0 if it is not a relay directive; 1 if it
 * is, with *msg NULL or the problem ("expects ..."). */
int relay_conf_directive(struct relay_conf *rc, char **w, size_t n, int line, const char **msg);
/* Checks that need the whole file; NULL or the problem, *line its line. */
const char *relay_conf_check(const struct relay_conf *rc, int *line);
/* Read the smarthost password (password file or passwordeval) into
 * rc->password. Called as root before privileges are dropped. */
int relay_conf_load_secret(struct relay_conf *rc, struct cl_err *err);
/* "host", "host:port", "[v6]:port" into *host and *port (defport when
 * none): 0, or -1 when malformed. */
int relay_conf_hostport(const char *s, const char *defport, char **host, char **port);
/* Read a password file's first line into out (a secret buffer): owned by
 * root, us or secret_uid, readable by its owner only. what names the
 * directive in errors. */
int relay_conf_read_secret(const char *path, const char *what, long secret_uid, struct buf *out,
                           struct cl_err *err);
/* sender_relay (relay_sender.c): 1 if w[0] is it (*msg NULL or the
 * problem), 0 if not; its secrets; the account for an envelope sender
 * (address first, then its domain; NULL: the default smarthost or MX). */
int relay_sender_directive(struct relay_conf *rc, char **w, size_t n, int line, const char **msg);
int relay_sender_load_secrets(struct relay_conf *rc, struct cl_err *err);
const struct relay_account *relay_sender_route(const struct relay_conf *rc, const char *sender);
void relay_sender_free(struct relay_conf *rc);
/* "300", "90s", "5m", "4h", "5d" -> seconds; -1 if malformed. */
long long relay_conf_duration(const char *s);
/* seconds -> "5d", "4h", "5m", "90s" (the largest unit that divides it). */
void relay_conf_duration_str(int s, char *out, size_t n);
/* The route for domain (any case), or NULL. */
const struct relay_route *relay_conf_route(const struct relay_conf *rc, const char *domain);

#endif
