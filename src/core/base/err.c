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
	e->code = 0;
	e->enh[0] = '\0';
	e->stage = CL_STAGE_NONE;
	e->reply[0] = '\0';
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

int err_reply(struct cl_err *e, enum cl_stage stage, int code, const char *enh, const char *reply)
{
	if (e == NULL)
		return -1;
	e->stage = stage;
	e->code = code;
	snprintf(e->enh, sizeof(e->enh), "%s", enh ? enh : "");
	snprintf(e->reply, sizeof(e->reply), "%s", reply ? reply : "");
	err_sanitize(e->enh);
	err_sanitize(e->reply);
	return -1;
}

void err_clear(struct cl_err *e)
{
	e->cls = CL_OK;
	e->msg[0] = '\0';
	e->code = 0;
	e->enh[0] = '\0';
	e->stage = CL_STAGE_NONE;
	e->reply[0] = '\0';
}

static const char *const err_stage_names[CL_STAGE_COUNT] = {
    "",     "connect",   "greeting", "EHLO", "STARTTLS",
    "AUTH", "MAIL FROM", "RCPT TO",  "DATA", "end of DATA",
};

const char *err_stage_name(enum cl_stage st)
{
	return (unsigned)st < CL_STAGE_COUNT ? err_stage_names[st] : "";
}

enum cl_stage err_stage_by_name(const char *name)
{
	int i;

	for (i = 1; i < CL_STAGE_COUNT; i++)
		if (strcmp(name, err_stage_names[i]) == 0)
			return (enum cl_stage)i;
	return CL_STAGE_NONE;
}

const char *err_class_name(enum cl_errclass cls)
{
	static const char *const names[] = {
	    "ok",       "usage",    "data", "nohost", "unavailable", "io",
	    "tempfail", "protocol", "auth", "config", "software",    "tls",
	};
	if ((unsigned)cls < sizeof(names) / sizeof(names[0]))
		return names[cls];
	return "unknown";
}
