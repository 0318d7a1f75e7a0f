/*
 * sendlog.h - msmtp's log of what was sent: one line per mail to a file
 * (logfile, --logfile, sendmail -X; "-" is standard output) and/or syslog,
 * with msmtp's fields in msmtp's order: host, tls, auth, user, from,
 * recipients, mailsize, smtpstatus, smtpmsg, errormsg, exitcode. Never a
 * secret; control characters in values become '?'.
 */
#ifndef CLSMTPC_SENDLOG_H
#define CLSMTPC_SENDLOG_H

#include "base/buf.h"
#include "base/err.h"

struct sendlog_rec {
	const char *host;
	int tls, auth;
	const char *user;               /* logged only with auth */
	const char *from;
	const char *const *rcpts;
	size_t nrcpt;
	long long mailsize;             /* logged when >= 0 and sent */
	int smtpstatus;                 /* 0: none */
	const char *smtpmsg;            /* the server's reply, or NULL */
	const char *errormsg;           /* NULL on success */
	int exitcode;                   /* sysexits */
};

/* The line without the time prefix and without a newline (pure). */
int sendlog_format(const struct sendlog_rec *r, struct buf *out);
/* "EX_OK", "EX_TEMPFAIL"...: msmtp's spelling of a sysexits code. */
const char *sendlog_exit_name(int code);
/* Append the line to logfile (time_format NULL: "%b %d %H:%M:%S") and
 * send it to syslog when facility is set and not "off" ("on": LOG_USER).
 * A log that cannot be written is a warning on stderr, not a failure. */
void sendlog_write(const struct sendlog_rec *r, const char *logfile, const char *time_format,
                   const char *facility);

#endif
