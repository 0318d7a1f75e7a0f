/*
 * log.c - the log sink of clsmtpd (log.h): syslog or stderr, one sanitised
 * line per call.
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

static int log_stderr_on;
static const char *log_ident = "clsmtpd";

void log_init(const char *ident, int to_stderr)
{
	log_ident = ident;
	log_stderr_on = to_stderr;
	if (!to_stderr)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

void log_msg(int prio, const char *fmt, ...)
{
	struct buf b = BUF_INIT(LOG_LINE_MAX);
	va_list ap;
	size_t i;

	va_start(ap, fmt);
	if (buf_vprintf(&b, fmt, ap) < 0) {
		va_end(ap);
		va_start(ap, fmt);
		buf_reset(&b);
		/* Too long: keep what fits. */
		{
			char tmp[LOG_LINE_MAX];
			vsnprintf(tmp, sizeof(tmp), fmt, ap);
			buf_adds(&b, tmp);
		}
	}
	va_end(ap);
	for (i = 0; i < b.len; i++)
		if ((unsigned char)b.data[i] < 0x20 || b.data[i] == 0x7f)
			b.data[i] = '?';
	if (log_stderr_on)
		fprintf(stderr, "%s[%ld]: %s\n", log_ident, (long)getpid(), buf_cstr(&b));
	else
		syslog(prio, "%s", buf_cstr(&b));
	buf_free(&b);
}
