/*
 * err.c - error values (see err.h). Messages are truncated to one line of at
 * most CL_ERR_MSG_MAX bytes; control characters from server replies are
 * replaced so a hostile server cannot forge extra lines in our output.
 */
#include "base/err.h"

#include <stdio.h>
#include <string.h>

static void err_sanitize(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

int err_set(struct cl_err *e, enum cl_errclass cls, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return -1;
	e->cls = cls;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	err_sanitize(e->msg);
	return -1;
}

int err_prefix(struct cl_err *e, const char *fmt, ...)
{
	struct buf b = BUF_INIT(2 * CL_ERR_MSG_MAX);
	va_list ap;
	size_t n;

	if (e == NULL)
		return -1;
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	buf_adds(&b, ": ");
	buf_adds(&b, e->msg);
	n = b.len < sizeof(e->msg) - 1 ? b.len : sizeof(e->msg) - 1;
	memcpy(e->msg, buf_cstr(&b), n);
	e->msg[n] = '\0';
	buf_free(&b);
	err_sanitize(e->msg);
	return -1;
}

void err_clear(struct cl_err *e)
{
	e->cls = CL_OK;
	e->msg[0] = '\0';
}

const char *err_class_name(enum cl_errclass cls)
{
	static const char *const names[] = {
	    "ok",       "usage",       "data",       "nohost", "unavailable", "io",
	    "tempfail", "protocol",    "auth",       "config", "software",    "tls",
	};
	if ((unsigned)cls < sizeof(names) / sizeof(names[0]))
		return names[cls];
	return "unknown";
}
