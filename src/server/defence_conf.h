/*
 * defence_conf.h - the defence part of clsmtpd.conf (documented, with the
 * reason for every default, in clsmtpd.conf.5 and docs/defence.md): when
 * clients are delayed and banned, how bans grow, per-account protection and
 * the per-client resource limits. conf.c hands each directive it does not
 * know to defence_conf_directive.
 */
#ifndef CLSMTPD_DEFENCE_CONF_H
#define CLSMTPD_DEFENCE_CONF_H

#include <stddef.h>

#include "netprefix.h"

/* fail2ban (jail.conf [DEFAULT], inherited by [postfix-sasl]): maxretry 5
 * failures within findtime 10m give a ban of bantime 10m. */
#define DEFENCE_DEFAULT_BAN_AUTH   5
#define DEFENCE_DEFAULT_BAN_WINDOW 600
#define DEFENCE_DEFAULT_BAN_TIME   600
/* fail2ban's [postfix] jail counts RCPT refusals "554 5.7.1" (relay access
 * denied) with the same maxretry. */
#define DEFENCE_DEFAULT_BAN_RELAY 5
/* Postfix smtpd_hard_error_limit (20): a client that used up a whole
 * session's error budget within the window is banned. */
#define DEFENCE_DEFAULT_BAN_ERRORS 20
/* Repeat offenders: each ban twice as long (fail2ban bantime.increment:
 * 1, 2, 4, 8...) up to a week (fail2ban's [recidive] jail bans for 1w),
 * remembered for a day after a ban ends (fail2ban dbpurgeage 1d,
 * [recidive] findtime 1d). */
#define DEFENCE_DEFAULT_BAN_TIME_MAX (7 * 86400)
#define DEFENCE_DEFAULT_BAN_MEMORY   86400
/* One host in IPv4; one LAN in IPv6 (a /64 is the smallest subnet an ISP
 * hands out; Dovecot's auth penalty uses /48). */
#define DEFENCE_DEFAULT_IPV4_PREFIX 32
#define DEFENCE_DEFAULT_IPV6_PREFIX 64
/* Dovecot's auth penalty: the first failure answered after 2 s, then 4, 8,
 * and at most 15 s (AUTH_PENALTY_INIT_SECS, AUTH_PENALTY_MAX_SECS). */
#define DEFENCE_DEFAULT_AUTH_DELAY     2
#define DEFENCE_DEFAULT_AUTH_DELAY_MAX 15
/* Postfix: after smtpd_soft_error_limit (10) errors in a session, every
 * further error reply waits smtpd_error_sleep_time (1 s). */
#define DEFENCE_SOFT_ERRORS    10
#define DEFENCE_ERROR_DELAY_MS 1000
/* An account is under attack after twice the per-address limit of
 * failures in the window, from any number of addresses; it then gets one
 * checked attempt per 15 s (Dovecot's longest penalty) from unknown,
 * untrusted addresses. */
#define DEFENCE_DEFAULT_USER_FAILURES 10
#define DEFENCE_DEFAULT_USER_INTERVAL 15
/* A host that authenticated an account is "known" to it for 30 days. */
#define DEFENCE_KNOWN_TTL  (30 * 86400)
#define DEFENCE_KNOWN_NETS 4
/* Postfix's smtpd_client_connection_count_limit is 50 of 100 processes;
 * 20 is what a well-behaved MTA opens to one destination at most (Postfix
 * default_destination_concurrency_limit) and a tenth of max_sessions. */
#define DEFENCE_DEFAULT_PER_CLIENT 20
/* A command must arrive, and its reply be taken, within 60 s of its first
 * byte (slowloris); message data must keep 500 bytes/s (Postfix
 * smtpd_min_data_rate), each read extending the deadline, never beyond
 * idle_timeout from now. */
#define DEFENCE_DEFAULT_REQUEST_TIMEOUT 60
#define DEFENCE_DEFAULT_MIN_DATA_RATE   500
/* Overload (Postfix "stress"): from 80% of max_sessions, unauthenticated
 * sessions get 10 s (Postfix's stress smtpd_timeout) per request and idle. */
#define DEFENCE_OVERLOAD_PERCENT 80
#define DEFENCE_OVERLOAD_TIMEOUT 10
/* When max_sessions is reached, a newcomer under its fair share takes the
 * place of the idlest unauthenticated session of the heaviest client. */
/* pregreet: plain listeners wait this long before the greeting, and a client
 * that talks first is dropped (postscreen_greet_wait is 6 s, 2 s under
 * stress; it also waits for DNSBL answers, which we do not ask). Clients
 * that passed are greeted at once for a day (postscreen_greet_ttl 1d). */
#define DEFENCE_DEFAULT_GREET_PLAIN 1
#define DEFENCE_GREET_TTL           86400
/* Clients tracked at once (about 200 bytes each, more with counters). */
#define DEFENCE_DEFAULT_MAX_CLIENTS 16384
/* Upper bound of every event threshold (the window keeps that many times). */
#define DEFENCE_THRESHOLD_MAX 100
#define DEFENCE_EXEMPT_MAX    32

struct defence_conf {
	unsigned ban_auth, ban_relay, ban_errors; /* events in the window; 0 never bans */
	int ban_window, ban_time, ban_time_max, ban_memory;
	int ipv4_prefix, ipv6_prefix;
	struct net_prefix exempt[DEFENCE_EXEMPT_MAX];
	size_t nexempt;
	int exempt_given;
	int auth_delay, auth_delay_max; /* seconds */
	unsigned user_failures;         /* 0: no per-account protection */
	int user_interval;
	unsigned per_client; /* 0: no per-client limit */
	int request_timeout;
	unsigned min_data_rate;
	unsigned max_clients;
};

void defence_conf_default(struct defence_conf *dc);
/* One clsmtpd.conf directive (w[0] its name, n words): 0 if it is not a
 * defence directive, 1 if it was taken (*msg NULL), -1 with *msg saying
 * what is wrong. */
int defence_conf_directive(struct defence_conf *dc, char **w, size_t n, const char **msg);
/* 1 if the host address is in the exempt list. */
int defence_conf_exempt(const struct defence_conf *dc, const struct net_prefix *host);

#endif
