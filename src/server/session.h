/*
 * session.h - one client's SMTP session inside clsmtpd: the smtp_server
 * state machine plus the hooks that apply policy, run SASL, write the
 * spool and log. The event loop (evloop.c) owns the socket and TLS.
 */
#ifndef CLSMTPD_SESSION_H
#define CLSMTPD_SESSION_H

#include <sys/socket.h>
#include "defence_net.h"
#include "server.h"
#include "smtp_server.h"

struct session;

struct session *session_new(struct srv *srv, const struct conf_listener *l,
                            const struct sockaddr *peer, int tls_now);
void session_free(struct session *s);
struct smtp_server *session_smtp(struct session *s);
/* TLS is up (implicit or after STARTTLS): record it for Received: and
 * AUTH (-PLUS binding, PLAIN/LOGIN allowed). */
void session_tls_up(struct session *s, struct tls_server_conn *tc, int after_starttls);
const char *session_peer(const struct session *s);

/* The group commit (commit.h): 1 when the message this session handed
 * over is committed; then session_commit_finish logs it, queues the reply
 * and goes on with what the client pipelined (SMTP_SRV_ACT_* flags). */
int session_commit_ready(struct session *s);
unsigned session_commit_finish(struct session *s);
/* committer_collect's report of a commit whose session had gone (arg: the
 * struct srv). */
void session_orphan_committed(void *arg, const char *qid, int ok);

/* The defence's view (defence_srv.h). The reply delay (ms) this session's
 * last input earned, cleared by taking it: the event loop holds the output
 * that long. */
long session_take_delay(struct session *s);
/* Banned while talking: the event loop drops the session. */
int session_banned(const struct session *s);
/* Trusted or ban_exempt: never delayed, banned, limited or evicted. */
int session_exempt(const struct session *s);
const struct defence_net *session_host(const struct session *s);
/* sasl_server_lookup_fn (arg: the struct srv): users_lookup, plus the
 * per-account limit of the defence for the session whose AUTH runs. */
int session_sasl_lookup(void *arg, const char *user, struct sasl_server_cred *cred);

#endif
