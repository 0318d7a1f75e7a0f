/*
 * session.h - one client's SMTP session inside clsmtpd: the smtp_server
 * state machine plus the hooks that apply policy, run SASL, write the
 * spool and log. The event loop (evloop.c) owns the socket and TLS.
 */
#ifndef CLSMTPD_SESSION_H
#define CLSMTPD_SESSION_H

#include <sys/socket.h>
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

#endif
