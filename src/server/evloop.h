/*
 * evloop.h - clsmtpd's I/O layer: the listening sockets, one poll() loop
 * over every connection (non-blocking, TLS through tls_server.c, bounded
 * buffers, idle and session deadlines), and the signals that reach it.
 * Protocol lives in smtp_server.c and peer.c, never here.
 */
#ifndef CLSMTPD_EVLOOP_H
#define CLSMTPD_EVLOOP_H

#include "server.h"

/* Stop reading from a client whose replies pile up beyond this. */
#define EVLOOP_OUT_HIGH (64 * 1024)
/* Bytes read from a socket at a time: as much as the session's data
 * buffer (SMTP_SERVER_CHUNK) takes, so a large message costs one read and
 * one spool write per 64 KB. */
#define EVLOOP_READ_CHUNK 65536
/* A closing connection that does not take its last reply is dropped. */
#define EVLOOP_LINGER_MS 10000

/* Bind every listener of the configuration (as root, before dropping
 * privileges). */
int evloop_listen(struct srv *srv, struct cl_err *err);
/* In a child process: close the listening sockets it inherited. */
void evloop_close_listeners(void);
/* Serve until SIGTERM or SIGINT. on_hup and on_chld run in the loop (not
 * in a signal handler). */
int evloop_run(struct srv *srv, void (*on_hup)(struct srv *), void (*on_chld)(struct srv *));

#endif
