/* test_options.c - clsmtpc's command line: the original's short options,
 * msmtp's long names, recipient lists, and usage errors. */
#include <sys/socket.h>
#include <sysexits.h>

#include "check.h"
#include "exitcode.h"
#include "options.h"


#define ARGC(v) ((int)(sizeof(v) / sizeof((v)[0]) - 1))

static int parse(int argc, char **argv, struct client_opts *o, struct cl_err *e)
{
	err_clear(e);
	return options_parse(argc, argv, o, e);
}

TEST(test_options_seed_command_line)
{
	char pw[] = "password";
	char *v[] = {"clsmtpc", "-P", "587", "-M", "smtp.example.ac.jp", "-U", "64L114", "-A",
		     "auto", "-r", pw, "-F", "64L114@mail.example.ac.jp", "-T", "nobody@example.com",
		     "-s", "clsmtpc test mail", "test test test", NULL};
	struct client_opts o;
	struct cl_err e;

	CHECK(parse(ARGC(v), v, &o, &e) == 0);
	CHECK_STR(o.port, "587");
	CHECK_STR(o.host, "smtp.example.ac.jp");
	CHECK_STR(o.user, "64L114");
	CHECK_STR(o.auth, "auto");
	CHECK_STR(o.password, "password");
	CHECK_STR(o.from, "64L114@mail.example.ac.jp");
	CHECK_INT(o.nrcpt, 1);
	CHECK_STR(o.rcpts[0], "nobody@example.com");
	CHECK_STR(o.subject, "clsmtpc test mail");
	CHECK_STR(o.body_arg, "test test test");
	CHECK_INT(o.tls_mode, SMTP_TLS_AUTO);
	CHECK_INT(o.certcheck, 1);
	options_free(&o);
}

TEST(test_options_long_names_match_msmtp)
{
	char *v[] = {"clsmtpc", "--host=mx", "--port=465", "--user=u", "--auth=plain",
		     "--from=a@b", "--tls-trust-file=/ca.pem", "--tls-fingerprint=AB:CD",
		     "--tls-certcheck=off", "--passwordeval=pass show x", "--timeout=30",
		     "--domain=me.example", "--to=c@d", NULL};
	struct client_opts o;
	struct cl_err e;

	CHECK(parse(ARGC(v), v, &o, &e) == 0);
	CHECK_STR(o.host, "mx");
	CHECK_STR(o.port, "465");
	CHECK_STR(o.auth, "plain");
	CHECK_STR(o.trust_file, "/ca.pem");
	CHECK_STR(o.fingerprint, "AB:CD");
	CHECK_INT(o.certcheck, 0);
	CHECK_STR(o.passwordeval, "pass show x");
	CHECK_INT(o.timeout_s, 30);
	CHECK_STR(o.domain, "me.example");
	CHECK(o.body_arg == NULL);
	options_free(&o);
}

TEST(test_options_tls_modes)
{
	struct client_opts o;
	struct cl_err e;
	char *a[] = {"clsmtpc", "-Z", "smtps", NULL};
	char *b[] = {"clsmtpc", "-Z", "tls", NULL};
	char *c[] = {"clsmtpc", "-Z", "none", NULL};
	char *d[] = {"clsmtpc", "--tls=on", "--tls-starttls=off", NULL};
	char *f[] = {"clsmtpc", "-Z", "maybe", NULL};

	CHECK(parse(ARGC(a), a, &o, &e) == 0);
	CHECK_INT(o.tls_mode, SMTP_TLS_SMTPS);
	options_free(&o);
	CHECK(parse(ARGC(b), b, &o, &e) == 0);
	CHECK_INT(o.tls_mode, SMTP_TLS_STARTTLS);
	options_free(&o);
	CHECK(parse(ARGC(c), c, &o, &e) == 0);
	CHECK_INT(o.tls_mode, SMTP_TLS_NONE);
	options_free(&o);
	CHECK(parse(ARGC(d), d, &o, &e) == 0);
	CHECK_INT(o.tls_mode, SMTP_TLS_SMTPS);
	options_free(&o);
	CHECK(parse(ARGC(f), f, &o, &e) == -1);
	CHECK_INT(e.cls, CL_EUSAGE);
	options_free(&o);
}

TEST(test_options_recipients_repeat_and_split_on_commas)
{
	char *v[] = {"clsmtpc", "-T",   "a@x, b@y", "-T", "c@z", "--to", "\"d, e\"@q",
		     "-T",      "Bob <bob@example.com>", NULL};
	struct client_opts o;
	struct cl_err e;

	CHECK(parse(ARGC(v), v, &o, &e) == 0);
	CHECK_INT(o.nrcpt, 5);
	if (o.nrcpt == 5) {
		CHECK_STR(o.rcpts[4], "bob@example.com");
		CHECK_STR(o.rcpts[0], "a@x");
		CHECK_STR(o.rcpts[1], "b@y");
		CHECK_STR(o.rcpts[2], "c@z");
		CHECK_STR(o.rcpts[3], "\"d, e\"@q");
	}
	options_free(&o);
}

TEST(test_options_family_verbose_and_auth_switches)
{
	char *v[] = {"clsmtpc", "-6", "-v", "-v", "--auth=off", NULL};
	char *w[] = {"clsmtpc", "-4", "--auth", NULL};
	struct client_opts o;
	struct cl_err e;

	CHECK(parse(ARGC(v), v, &o, &e) == 0);
	CHECK_INT(o.family, AF_INET6);
	CHECK_INT(o.verbose, 2);
	CHECK_STR(o.auth, "none");
	options_free(&o);
	CHECK(parse(ARGC(w), w, &o, &e) == 0);
	CHECK_INT(o.family, AF_INET);
	CHECK_STR(o.auth, "auto");
	options_free(&o);
}

TEST(test_options_usage_errors_name_the_problem)
{
	struct client_opts o;
	struct cl_err e;
	char *unknown[] = {"clsmtpc", "--frobnicate", NULL};
	char *missing[] = {"clsmtpc", "-M", NULL};
	char *two_bodies[] = {"clsmtpc", "-M", "h", "one", "two", NULL};
	char *bad_timeout[] = {"clsmtpc", "--timeout=soon", NULL};

	CHECK(parse(ARGC(unknown), unknown, &o, &e) == -1);
	CHECK(strstr(e.msg, "--frobnicate") != NULL);
	options_free(&o);
	CHECK(parse(ARGC(missing), missing, &o, &e) == -1);
	CHECK(strstr(e.msg, "-M") != NULL);
	options_free(&o);
	CHECK(parse(ARGC(two_bodies), two_bodies, &o, &e) == -1);
	CHECK(strstr(e.msg, "two") != NULL);
	options_free(&o);
	CHECK(parse(ARGC(bad_timeout), bad_timeout, &o, &e) == -1);
	CHECK_INT(e.cls, CL_EUSAGE);
	options_free(&o);
}

TEST(test_exitcodes_are_sysexits_with_clean_temporary_line)
{
	CHECK_INT(exitcode_for(CL_OK), 0);
	CHECK_INT(exitcode_for(CL_EUSAGE), EX_USAGE);
	CHECK_INT(exitcode_for(CL_EDATA), EX_DATAERR);
	CHECK_INT(exitcode_for(CL_ENOHOST), EX_NOHOST);
	CHECK_INT(exitcode_for(CL_EUNAVAIL), EX_UNAVAILABLE);
	CHECK_INT(exitcode_for(CL_ETLS), EX_UNAVAILABLE);
	CHECK_INT(exitcode_for(CL_EIO), EX_IOERR);
	CHECK_INT(exitcode_for(CL_ETEMP), EX_TEMPFAIL);
	CHECK_INT(exitcode_for(CL_EPROTO), EX_PROTOCOL);
	CHECK_INT(exitcode_for(CL_EAUTH), EX_NOPERM);
	CHECK_INT(exitcode_for(CL_ECONFIG), EX_CONFIG);
	CHECK_INT(exitcode_for(CL_ESOFTWARE), EX_SOFTWARE);
}

TEST(test_options_optional_values_also_as_next_word)
{
	char *v[] = {"clsmtpc", "--tls-certcheck", "off", "--auth", "plain", "--tls", "on",
		     "--tls-starttls", "off", "the body", NULL};
	char *w[] = {"clsmtpc", "--auth", "the body", NULL};
	struct client_opts o;
	struct cl_err e;

	CHECK(parse(ARGC(v), v, &o, &e) == 0);
	CHECK_INT(o.certcheck, 0);
	CHECK_STR(o.auth, "plain");
	CHECK_INT(o.tls_mode, SMTP_TLS_SMTPS);
	CHECK_STR(o.body_arg, "the body");
	options_free(&o);
	CHECK(parse(ARGC(w), w, &o, &e) == 0);
	CHECK_STR(o.auth, "auto");
	CHECK_STR(o.body_arg, "the body");
	options_free(&o);
}

int main(void)
{
	RUN(test_options_seed_command_line);
	RUN(test_options_long_names_match_msmtp);
	RUN(test_options_tls_modes);
	RUN(test_options_recipients_repeat_and_split_on_commas);
	RUN(test_options_family_verbose_and_auth_switches);
	RUN(test_options_usage_errors_name_the_problem);
	RUN(test_options_optional_values_also_as_next_word);
	RUN(test_exitcodes_are_sysexits_with_clean_temporary_line);
	CHECK_DONE();
}
