/*
 * ctl.h - "clsmtpd -ban ADDR [SECONDS] | -unban ADDR | -bans | -stats":
 * the administrator talks to the running daemon through a Unix socket
 * (control_socket: /run/clsmtpd/ctl in the packaged configuration, SPOOL/ctl
 * by default; mode 0600, the daemon's). One request line, the answer, then
 * the daemon closes. When no daemon answers, -ban, -unban and -bans work on
 * SPOOL/bans directly, and the next start applies it.
 */
#ifndef CLSMTPD_CTL_H
#define CLSMTPD_CTL_H

#include <poll.h>
#include <stdint.h>

#include "base/err.h"

/* Administrators talking at once; a request line; seconds to send it. */
#define CTL_CLIENTS_MAX 4
#define CTL_LINE_MAX    512
#define CTL_TIMEOUT_MS  5000
/* pollfd entries ctl_pollfds may fill. */
#define CTL_POLLFDS (1 + CTL_CLIENTS_MAX)

/* The command line: -1 if argv holds none of our options, otherwise the
 * exit status (sysexits) after doing what it asks. */
int ctl_main(int argc, char **argv);

/* Daemon side. Bind the socket at path (replacing a stale one). */
int ctl_listen(const char *path, struct cl_err *err);
/* Fill pfd with our descriptors; returns how many (<= CTL_POLLFDS). */
size_t ctl_pollfds(struct pollfd *pfd);
/* Serve what poll reported on the n entries ctl_pollfds filled; returns
 * the next deadline (0: none). */
int64_t ctl_serve(const struct pollfd *pfd, size_t n, unsigned sessions, int64_t now);
/* Close everything (the delivery agent; at exit, also unlink SPOOL/ctl). */
void ctl_close(int unlink_socket);

#endif
