/*
 * peer.h - one client's SMTP session inside clsmtpd: the smtp_server
 * state machine plus the hooks that apply policy, run SASL, write the
 * spool and log. The event loop (evloop.c) owns the socket and TLS.
 */
#ifndef CLSMTPD_SESSION_H
#define CLSMTPD_SESSION_H

#include <sys/socket.h>
#include "netprefix.h"
#include "server.h"
#include "serve/smtp_server.h"

struct peer;

struct peer *peer_new(struct srv *srv, const struct conf_listener *l,
                            const struct sockaddr *peer, int tls_now);
void peer_free(struct peer *s);
struct smtp_server *peer_smtp(struct peer *s);
/* TLS is up (implicit or after STARTTLS): record it for Received: and
 * AUTH (-PLUS binding, PLAIN/LOGIN allowed). */
void peer_tls_up(struct peer *s, struct tls_server_conn *tc, int after_starttls);
const char *peer_addr(const struct peer *s);

/* The group commit (commit.h): 1 when the message this session handed
 * over is committed; then peer_commit_finish logs it, queues the reply
 * and goes on with what the client pipelined (SMTP_SRV_ACT_* flags). */
int peer_commit_ready(struct peer *s);
unsigned peer_commit_finish(struct peer *s);
/* committer_collect's report of a commit whose session had gone (arg: the
 * struct srv). */
void peer_orphan_committed(void *arg, const char *qid, int ok);

/* The defence's view (defence_srv.h). The reply delay (ms) this session's
 * last input earned, cleared by taking it: the event loop holds the output
 * that long. */
long peer_take_delay(struct peer *s);
/* Banned while talking: the event loop drops the session. */
int peer_banned(const struct peer *s);
/* Trusted or ban_exempt: never delayed, banned, limited or evicted. */
int peer_exempt(const struct peer *s);
const struct net_prefix *peer_host(const struct peer *s);
/* sasl_server_lookup_fn (arg: the struct srv): users_lookup, plus the
 * per-account limit of the defence for the session whose AUTH runs. */
int peer_sasl_lookup(void *arg, const char *user, struct sasl_server_cred *cred);

#endif
