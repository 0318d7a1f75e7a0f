/*
 * defence.h - clsmtpd's anvil: per-client and per-account sliding windows,
 * the reply delays (tarpit) and escalating bans they call for, connection
 * counts, and the counters of SIGUSR1 and -stats. Pure bookkeeping: the
 * caller passes the time (monotonic ms) and acts on the verdicts.
 */
#ifndef CLSMTPD_DEFENCE_H
#define CLSMTPD_DEFENCE_H

#include <stdint.h>

#include "base/buf.h"
#include "defence_conf.h"
#include "netprefix.h"

/* A ban without an end (manual bans given no duration). */
#define DEFENCE_FOREVER INT64_MAX

enum defence_kind { DEFENCE_AUTH, DEFENCE_RELAY, DEFENCE_ERROR, DEFENCE_KINDS };
enum defence_verdict { DEFENCE_OK, DEFENCE_BANNED, DEFENCE_CLIENT_LIMIT };
enum defence_user_verdict { DEFENCE_USER_OK, DEFENCE_USER_THROTTLE };

/* Counters since start (the evloop and session add their own). */
struct defence_stats {
	unsigned long long accepted, refused_banned, refused_client, refused_full, evicted;
	unsigned long long auth_failures, relay_attempts, errors, delays, delay_ms;
	unsigned long long bans, bans_manual, unbans, user_throttled, user_attacks;
	unsigned long long pregreet, slow, timeouts;
	unsigned peak_sessions;
};

/* One ban, as listed and persisted. until_wall: seconds since the epoch,
 * 0 for a permanent ban; active is 0 for a remembered, expired one. */
struct defence_ban_info {
	struct net_prefix net;
	long long until_wall;
	unsigned offences;
	char reason[16];
	int active;
};

typedef void (*defence_log_fn)(void *arg, const char *line);

struct defence;

/* seed randomises the hash tables (getrandom in the daemon, fixed in tests). */
struct defence *defence_new(const struct defence_conf *dc, uint32_t seed);
void defence_free(struct defence *d);
const struct defence_conf *defence_conf(const struct defence *d);
/* Decision lines ("defence: action=..."), one per call; NULL: none. */
void defence_set_log(struct defence *d, defence_log_fn fn, void *arg);
/* Wall-clock milliseconds = monotonic now + offset (for until_wall). */
void defence_set_wall_offset(struct defence *d, int64_t offset_ms);

/* The network a host is counted under (its /32 or /24, its /64). */
void defence_client_key(const struct defence *d, const struct net_prefix *host,
                        struct net_prefix *key);

/* A new connection from host: refused while banned or at its connection
 * limit; otherwise counted until defence_disconnect. */
enum defence_verdict defence_connect(struct defence *d, const struct net_prefix *host,
                                     int64_t now);
void defence_disconnect(struct defence *d, const struct net_prefix *host);
/* Connections counted for host's client now, and how many clients hold
 * at least one (the server's fair share is max_sessions / that). */
unsigned defence_client_conns(struct defence *d, const struct net_prefix *host);
unsigned defence_active_clients(const struct defence *d);
/* 1 if a ban covers host now. */
int defence_banned(struct defence *d, const struct net_prefix *host, int64_t now);

/* An offence by host. Returns the milliseconds to hold the reply (AUTH
 * failures: Dovecot's doubling penalty; 0 for the other kinds), or -1 when
 * it has just been banned. */
long defence_event(struct defence *d, const struct net_prefix *host, enum defence_kind k,
                   int64_t now);

/* Manual ban of net (any prefix) for seconds (0: until unbanned); offences
 * are counted as for automatic bans. -1 if no room. */
int defence_ban(struct defence *d, const struct net_prefix *net, long seconds, int64_t now);
/* Lift every ban that covers net (or that net covers) and forget their
 * history. Returns how many were lifted. */
int defence_unban(struct defence *d, const struct net_prefix *net, int64_t now);
/* Changes whenever a ban is added: the evloop then drops banned sessions. */
unsigned defence_generation(const struct defence *d);

/* pregreet cache: 1 if host should wait for its greeting (it has not
 * passed the test within the last day). */
int defence_greet_wanted(struct defence *d, const struct net_prefix *host, int64_t now);
void defence_greet_passed(struct defence *d, const struct net_prefix *host, int64_t now);

/* Per-account protection, for clients that are neither exempt nor trusted.
 * check comes before the password is looked at: THROTTLE means answer 454
 * without checking it. result records the outcome of a checked attempt
 * (ok: host becomes known to the account). Only existing accounts are
 * reported, so the table holds at most the users file. */
enum defence_user_verdict defence_user_check(struct defence *d, const char *user,
                                             const struct net_prefix *host, int64_t now);
void defence_user_result(struct defence *d, const char *user, const struct net_prefix *host,
                         int ok, int64_t now);

struct defence_stats *defence_stats(struct defence *d);
/* The one-line summary ("defence: stats sessions=... bans_active=..."). */
void defence_stats_text(struct defence *d, unsigned sessions, int64_t now, struct buf *out);

/* Bans for listing and the ban file: active ones, then (with history set)
 * expired ones still remembered for escalation. */
void defence_bans_foreach(struct defence *d, int64_t now, int history,
                          void (*fn)(void *arg, const struct defence_ban_info *b), void *arg);
/* Put back a ban read from the ban file (expired ones only for history). */
int defence_ban_restore(struct defence *d, const struct defence_ban_info *b, int64_t now);
/* 1 if bans changed since defence_mark_saved. */
int defence_dirty(const struct defence *d);
void defence_mark_saved(struct defence *d);
/* Clients tracked now (the memory bound's witness). */
size_t defence_clients(const struct defence *d);

/* Escape an untrusted word for a key=value log line: [A-Za-z0-9._@+-]
 * stay, everything else is %XX; at most 64 bytes of input. */
void defence_log_word(const char *in, struct buf *out);

#endif
