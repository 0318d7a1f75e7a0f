/*
 * smtp_dsn.c - RFC 3461 parameter checks (smtp_dsn.h): NOTIFY is NEVER or a
 * list of SUCCESS, FAILURE, DELAY; ORCPT is type;xtext; ENVID is xtext;
 * RET is FULL or HDRS; each within its length limit.
 */
#include "engine/smtp_dsn.h"

#include <string.h>
#include <strings.h>

#include "base/xtext.h"

/* RFC 3461 4.1: "NEVER", or a list of SUCCESS, FAILURE and DELAY. */
static int smtp_dsn_notify_ok(const char *v)
{
	static const char *const kw[] = {"NEVER", "SUCCESS", "FAILURE", "DELAY"};
	int never = 0, other = 0;
	size_t i, w;

	for (;;) {
		w = strcspn(v, ",");
		for (i = 0; i < sizeof(kw) / sizeof(kw[0]); i++)
			if (w == strlen(kw[i]) && strncasecmp(v, kw[i], w) == 0)
				break;
		if (i == sizeof(kw) / sizeof(kw[0]))
			return 0;
		if (i == 0)
			never = 1;
		else
			other = 1;
		if (v[w] == '\0')
			break;
		v += w + 1;
	}
	return never != other;
}

/* RFC 3461 4.2: addr-type ";" xtext. */
static int smtp_dsn_orcpt_ok(const char *v)
{
	size_t n = strlen(v);
	const char *semi = strchr(v, ';');

	return n <= SMTP_DSN_ORCPT_MAX && semi != NULL && semi > v && xtext_valid(v, n);
}

/* Check every DSN parameter before anything is queued: each goes on the
 * wire as it is, so a bad one (a space, CR, LF, NUL or anything outside
 * xtext) is refused rather than written, whether the server offers DSN
 * or not (so that the outcome does not depend on the server). */
int smtp_dsn_check(const struct smtp_message *m, struct cl_err *err)
{
	size_t i;

	if (m->ret != NULL && strcasecmp(m->ret, "FULL") != 0 && strcasecmp(m->ret, "HDRS") != 0)
		return err_set(err, CL_EDATA, "DSN parameter RET= is neither FULL nor HDRS");
	if (m->envid != NULL && (m->envid[0] == '\0' || strlen(m->envid) > SMTP_DSN_ENVID_MAX ||
	                         !xtext_valid(m->envid, strlen(m->envid))))
		return err_set(err, CL_EDATA,
		               "DSN parameter ENVID= is not xtext of 1 to %d characters "
		               "(RFC 3461 4.4)",
		               SMTP_DSN_ENVID_MAX);
	for (i = 0; i < m->nrcpt; i++) {
		const char *nt = m->notify ? m->notify[i] : NULL;
		const char *oc = m->orcpt ? m->orcpt[i] : NULL;
		if (nt != NULL && !smtp_dsn_notify_ok(nt))
			return err_set(err, CL_EDATA,
			               "DSN parameter NOTIFY= of recipient %zu is not NEVER or a "
			               "list of SUCCESS, FAILURE, DELAY (RFC 3461 4.1)",
			               i + 1);
		if (oc != NULL && !smtp_dsn_orcpt_ok(oc))
			return err_set(err, CL_EDATA,
			               "DSN parameter ORCPT= of recipient %zu is not type;xtext of "
			               "at most %d characters (RFC 3461 4.2)",
			               i + 1, SMTP_DSN_ORCPT_MAX);
	}
	return 0;
}

int smtp_dsn_any(const struct smtp_message *m)
{
	size_t i;

	if (m->ret != NULL || m->envid != NULL)
		return 1;
	for (i = 0; i < m->nrcpt; i++)
		if ((m->notify && m->notify[i]) || (m->orcpt && m->orcpt[i]))
			return 1;
	return 0;
}
