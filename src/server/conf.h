/*
 * conf.h - clsmtpd.conf (documented in clsmtpd.conf.5): one directive per
 * line, "#" comments, words separated by blanks. conf_load validates all of
 * it at start and names the file and line of the first error.
 */
#ifndef CLSMTPD_CONF_H
#define CLSMTPD_CONF_H

#include <stddef.h>
#include "base/buf.h"
#include "base/err.h"
#include "defence_conf.h"
#include "dkim_conf.h"
#include "netprefix.h"
#include "relay_conf.h"
#include "serve/smtp_server.h"

#define CONF_DEFAULT_FILE  "/etc/clsmtpd.conf"
#define CONF_DEFAULT_SPOOL "/var/spool/clsmtpd"
#define CONF_DEFAULT_USERS "/etc/clsmtpd.users"
/* RFC 5321 4.5.3.2.7: the server waits at least 5 minutes for a command. */
#define CONF_DEFAULT_IDLE_TIMEOUT 300
/* A whole session (Postfix has no cap; an hour bounds a stuck client). */
#define CONF_DEFAULT_SESSION_TIMEOUT 3600
/* Concurrent sessions (Postfix default_process_limit is 100). */
#define CONF_DEFAULT_MAX_SESSIONS 200

enum conf_listen_mode { CONF_PLAIN, CONF_STARTTLS, CONF_TLS };
enum conf_binding { CONF_BIND_FREE, CONF_BIND_OWN, CONF_BIND_REWRITE };

struct conf_listener {
	char *host, *port;
	enum conf_listen_mode mode;
	int auth; /* offer AUTH on this listener */
	int line;
};

struct conf_pair {
	char *key, *value;
};

struct conf_sender {
	char *user;
	enum conf_binding mode;
	char **addr;
	size_t naddr;
};

struct conf {
	char *file;
	char *hostname, *user, *spool, *users, *cert, *key, *auth_mechs;
	char *ctl_socket; /* control_socket; default SPOOL/ctl */
	int log_stderr;
	int auth_before_tls; /* offer AUTH in clear too (RFC 8314 says no: default 0) */
	struct conf_listener *listen;
	size_t nlisten;
	char **domain;
	size_t ndomain;
	struct conf_pair *mailbox, *alias, *catchall;
	size_t nmailbox, nalias, ncatchall;
	struct net_prefix *trusted;
	size_t ntrusted;
	struct conf_sender *sender;
	size_t nsender;
	enum conf_binding sender_default;
	struct smtp_server_limits lim;
	int idle_timeout, session_timeout;
	int greeting_delay; /* seconds; a client talking earlier is refused; -1: default */
	unsigned max_sessions;
	struct relay_conf relay;     /* relay_conf.h: smarthost, MX, retries, lifetime */
	struct defence_conf defence; /* defence_conf.h: delays, bans, per-client limits */
	struct dkim_conf dkim;       /* dkim_conf.h: signing domains, selectors, keys */
};

int conf_load(struct conf **out, const char *file, struct cl_err *err);
void conf_free(struct conf *c);
/* 1 if the socket address (struct sockaddr *) is in a trusted network. */
int conf_trusted(const struct conf *c, const void *sa);
const struct conf_sender *conf_sender_for(const struct conf *c, const char *user);

#endif
