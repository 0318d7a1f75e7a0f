/*
 * defence_srv.h - the defence inside the running clsmtpd: one anvil per
 * process (defence.h) fed by the event loop and the sessions, its decision
 * lines sent to the log, its bans kept in SPOOL/bans (banlist.h, saved at
 * most once a second and at exit), and who is never delayed or banned
 * (trusted networks and ban_exempt).
 */
#ifndef CLSMTPD_DEFENCE_SRV_H
#define CLSMTPD_DEFENCE_SRV_H

#include <stdint.h>
#include <sys/socket.h>

#include "conf.h"
#include "defence.h"

/* Bans are written at most this often (each write is fsync'ed). */
#define DEFENCE_SRV_SAVE_MS 1000

/* Create the anvil and restore SPOOL/bans (as root, before listening). */
int defence_srv_init(const struct conf *conf, struct cl_err *err);
/* The process's anvil (NULL before init: callers then do nothing). */
struct defence *defence_srv(void);
/* The configuration it was made from. */
const struct conf *defence_srv_config(void);
/* 1 if the client is trusted or ban_exempt: never counted, delayed,
 * banned, limited or evicted. */
int defence_srv_exempt(const struct sockaddr *sa);
/* 1 if net overlaps a trusted or exempt network of conf (it may not be
 * banned). */
int defence_srv_protected(const struct conf *conf, const struct net_prefix *net);
/* Save the bans if they changed and the last save is old enough; returns
 * when to call again (0: nothing pending). */
int64_t defence_srv_tick(int64_t now);
/* The counter summary into the log (SIGUSR1). */
void defence_srv_log_stats(unsigned sessions, int64_t now);
void defence_srv_note_sessions(unsigned sessions);
/* Save what is pending and free everything. */
void defence_srv_shutdown(int64_t now);

#endif
