/* test_smtp_dsn_check.c - the RFC 3461 parameter checks on their own (no
 * server): RET, ENVID, NOTIFY and ORCPT accepted when well formed, refused
 * with the parameter and the recipient named when not. */
#include <stdlib.h>

#include "check.h"
#include "engine/smtp_dsn.h"

static void msg(struct smtp_message *m, const char *const *rcpts, size_t n)
{
	memset(m, 0, sizeof(*m));
	m->from = "a@example.org";
	m->rcpts = rcpts;
	m->nrcpt = n;
}

TEST(test_dsn_check_accepts_well_formed_parameters)
{
	static const char *const rcpts[] = {"b@example.org", "c@example.org"};
	static const char *const notify[] = {"SUCCESS,failure,DELAY", "NEVER"};
	static const char *const orcpt[] = {"rfc822;b+2Bx@example.org", NULL};
	struct smtp_message m;
	struct cl_err err;

	msg(&m, rcpts, 2);
	CHECK_INT(smtp_dsn_any(&m), 0);
	CHECK_INT(smtp_dsn_check(&m, &err), 0);
	m.ret = "hdrs";
	m.envid = "QQ+2B1";
	m.notify = notify;
	m.orcpt = orcpt;
	CHECK_INT(smtp_dsn_any(&m), 1);
	CHECK_INT(smtp_dsn_check(&m, &err), 0);
}

TEST(test_dsn_check_refuses_and_names_what_is_wrong)
{
	static const char *const rcpts[] = {"b@example.org", "c@example.org"};
	static const char *const notify_bad[] = {NULL, "NEVER,SUCCESS"};
	static const char *const notify_word[] = {"SOMETIMES", NULL};
	static const char *const orcpt_bad[] = {NULL, "rfc822;a b@example.org"};
	static const char *const orcpt_notype[] = {";x@example.org", NULL};
	struct smtp_message m;
	struct cl_err err;
	char longid[SMTP_DSN_ENVID_MAX + 2];

	msg(&m, rcpts, 2);
	m.ret = "BODY";
	CHECK_INT(smtp_dsn_check(&m, &err), -1);
	CHECK_INT(err.cls, CL_EDATA);
	CHECK(strstr(err.msg, "RET=") != NULL);
	m.ret = NULL;
	m.envid = "a\r\nRSET";
	CHECK_INT(smtp_dsn_check(&m, &err), -1);
	CHECK(strstr(err.msg, "ENVID=") != NULL);
	memset(longid, 'x', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';
	m.envid = longid;
	CHECK_INT(smtp_dsn_check(&m, &err), -1);
	m.envid = "";
	CHECK_INT(smtp_dsn_check(&m, &err), -1);
	m.envid = NULL;
	m.notify = notify_bad;
	CHECK_INT(smtp_dsn_check(&m, &err), -1);
	CHECK(strstr(err.msg, "NOTIFY= of recipient 2") != NULL);
	m.notify = notify_word;
	CHECK_INT(smtp_dsn_check(&m, &err), -1);
	CHECK(strstr(err.msg, "NOTIFY= of recipient 1") != NULL);
	m.notify = NULL;
	m.orcpt = orcpt_bad;
	CHECK_INT(smtp_dsn_check(&m, &err), -1);
	CHECK(strstr(err.msg, "ORCPT= of recipient 2") != NULL);
	m.orcpt = orcpt_notype;
	CHECK_INT(smtp_dsn_check(&m, &err), -1);
	CHECK(strstr(err.msg, "ORCPT= of recipient 1") != NULL);
}

int main(void)
{
	RUN(test_dsn_check_accepts_well_formed_parameters);
	RUN(test_dsn_check_refuses_and_names_what_is_wrong);
	CHECK_DONE();
}
