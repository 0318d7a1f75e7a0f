/*
 * sendlog.c - one line per mail to a log file or syslog (see sendlog.h).
 * The format is msmtp 1.8's, field for field, so that scripts reading an
 * msmtp log read ours.
 */
#include "sendlog.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <syslog.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

/* A value as written: control characters (CR, LF, NUL cannot reach a C
 * string) replaced, so one mail is one line. */
static int sendlog_add(struct buf *out, const char *v)
{
	for (; v && *v; v++) {
		char c = (unsigned char)*v < 0x20 || *v == 0x7f ? '?' : *v;
		if (buf_add(out, &c, 1) < 0)
			return -1;
	}
	return 0;
}

const char *sendlog_exit_name(int code)
{
	static const struct {
		int code;
		const char *name;
	} names[] = {
	    {EX_OK, "EX_OK"},           {EX_USAGE, "EX_USAGE"},
	    {EX_DATAERR, "EX_DATAERR"}, {EX_NOINPUT, "EX_NOINPUT"},
	    {EX_NOUSER, "EX_NOUSER"},   {EX_NOHOST, "EX_NOHOST"},
	    {EX_UNAVAILABLE, "EX_UNAVAILABLE"}, {EX_SOFTWARE, "EX_SOFTWARE"},
	    {EX_OSERR, "EX_OSERR"},     {EX_OSFILE, "EX_OSFILE"},
	    {EX_CANTCREAT, "EX_CANTCREAT"}, {EX_IOERR, "EX_IOERR"},
	    {EX_TEMPFAIL, "EX_TEMPFAIL"}, {EX_PROTOCOL, "EX_PROTOCOL"},
	    {EX_NOPERM, "EX_NOPERM"},   {EX_CONFIG, "EX_CONFIG"},
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].code == code)
			return names[i].name;
	return "EX_SOFTWARE";
}

int sendlog_format(const struct sendlog_rec *r, struct buf *out)
{
	size_t i;
	int x = 0;

	buf_reset(out);
	x |= buf_adds(out, "host=");
	x |= sendlog_add(out, r->host);
	x |= buf_printf(out, " tls=%s auth=%s", r->tls ? "on" : "off", r->auth ? "on" : "off");
	if (r->auth && r->user) {
		x |= buf_adds(out, " user=");
		x |= sendlog_add(out, r->user);
	}
	x |= buf_adds(out, " from=");
	x |= sendlog_add(out, r->from);
	x |= buf_adds(out, " recipients=");
	for (i = 0; i < r->nrcpt; i++) {
		if (i)
			x |= buf_adds(out, ",");
		x |= sendlog_add(out, r->rcpts[i]);
	}
	if (r->errormsg == NULL && r->mailsize >= 0)
		x |= buf_printf(out, " mailsize=%lld", r->mailsize);
	if (r->smtpstatus) {
		x |= buf_printf(out, " smtpstatus=%d", r->smtpstatus);
		if (r->smtpmsg && r->smtpmsg[0]) {
			x |= buf_adds(out, " smtpmsg='");
			x |= sendlog_add(out, r->smtpmsg);
			x |= buf_adds(out, "'");
		}
	}
	if (r->errormsg) {
		x |= buf_adds(out, " errormsg='");
		x |= sendlog_add(out, r->errormsg);
		x |= buf_adds(out, "'");
	}
	x |= buf_printf(out, " exitcode=%s", sendlog_exit_name(r->exitcode));
	return x ? -1 : 0;
}

static int sendlog_facility(const char *f)
{
	static const struct {
		const char *name;
		int fac;
	} fac[] = {
	    {"LOG_USER", LOG_USER},     {"LOG_MAIL", LOG_MAIL},     {"LOG_LOCAL0", LOG_LOCAL0},
	    {"LOG_LOCAL1", LOG_LOCAL1}, {"LOG_LOCAL2", LOG_LOCAL2}, {"LOG_LOCAL3", LOG_LOCAL3},
	    {"LOG_LOCAL4", LOG_LOCAL4}, {"LOG_LOCAL5", LOG_LOCAL5}, {"LOG_LOCAL6", LOG_LOCAL6},
	    {"LOG_LOCAL7", LOG_LOCAL7},
	};
	size_t i;

	for (i = 0; i < sizeof(fac) / sizeof(fac[0]); i++)
		if (strcasecmp(f, fac[i].name) == 0)
			return fac[i].fac;
	return LOG_USER;
}

/* logfile_time_format is the user's strftime format, as in msmtp. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static size_t sendlog_stamp(char *out, size_t n, const char *fmt, const struct tm *tm)
{
	return strftime(out, n, fmt && fmt[0] ? fmt : "%b %d %H:%M:%S", tm);
}
#pragma GCC diagnostic pop

void sendlog_write(const struct sendlog_rec *r, const char *logfile, const char *time_format,
                   const char *facility)
{
	struct buf line = BUF_INIT(64 * 1024), full = BUF_INIT(64 * 1024 + 256);
	char stamp[128] = "";
	time_t now = time(NULL);
	struct tm tm;
	int fd;

	if (sendlog_format(r, &line) < 0)
		fprintf(stderr, "clsmtpc: warning: the log line is too long; it is cut\n");
	if (logfile && logfile[0]) {
		if (localtime_r(&now, &tm) == NULL || sendlog_stamp(stamp, sizeof(stamp), time_format,
		                                                   &tm) == 0)
			stamp[0] = '\0';
		buf_printf(&full, "%s%s%s\n", stamp, stamp[0] ? " " : "", buf_cstr(&line));
		if (strcmp(logfile, "-") == 0)
			fd = STDOUT_FILENO;
		else
			fd = open(logfile, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
		/* One write with O_APPEND: lines of concurrent runs do not mix. */
		if (fd < 0 || write(fd, full.data, full.len) != (ssize_t)full.len)
			fprintf(stderr, "clsmtpc: warning: cannot write log file %s: %s\n", logfile,
			        strerror(errno));
		if (fd >= 0 && fd != STDOUT_FILENO)
			close(fd);
	}
	if (facility && strcasecmp(facility, "off") != 0) {
		openlog("clsmtpc", LOG_PID, sendlog_facility(facility));
		syslog(r->errormsg ? LOG_ERR : LOG_INFO, "%s", buf_cstr(&line));
		closelog();
	}
	buf_free(&line);
	buf_free(&full);
}
