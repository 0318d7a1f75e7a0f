/*
 * test_msmtp_compat.c - what msmtp users rely on (docs/msmtp-compat.md):
 * the %U %H %C %M patterns, msmtp's keys in the configuration and in
 * --import-msmtprc, the log line's fields, and msmtp's long options in
 * sendmail mode (each works or is refused with an alternative).
 */
#include "check.h"
#include "config.h"
#include "msmtprc.h"
#include "netrc.h"
#include "options.h"
#include "sendlog.h"
#include "sendmail_long.h"
#include "subst.h"

#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

TEST(test_subst_replaces_each_pattern)
{
	struct subst_values v = {"joe", "box", "box.example.org", "example.org"};
	struct buf out = BUF_INIT(1024);
	struct cl_err err;

	err_clear(&err);
	CHECK_INT(subst_expand("%U@%H", &v, "from", &out, &err), 0);
	CHECK_STR(buf_cstr(&out), "joe@box");
	CHECK_INT(subst_expand("%U@%C", &v, "from", &out, &err), 0);
	CHECK_STR(buf_cstr(&out), "joe@box.example.org");
	CHECK_INT(subst_expand("%U+cron@%M", &v, "from", &out, &err), 0);
	CHECK_STR(buf_cstr(&out), "joe+cron@example.org");
	/* msmtp leaves any other '%' as it is. */
	CHECK_INT(subst_expand("100%x%", &v, "domain", &out, &err), 0);
	CHECK_STR(buf_cstr(&out), "100%x%");
	CHECK(subst_has_pattern("a%Mb") && !subst_has_pattern("a%xb") && !subst_has_pattern("%"));
	buf_free(&out);
}

TEST(test_subst_unknown_value_is_an_error_naming_it)
{
	struct subst_values v = {"joe", "box", "box", NULL};
	struct buf out = BUF_INIT(1024);
	struct cl_err err;

	err_clear(&err);
	CHECK_INT(subst_expand("%U@%M", &v, "from", &out, &err), -1);
	CHECK_INT(err.cls, CL_ECONFIG);
	CHECK(strstr(err.msg, "/etc/mailname") != NULL);
	buf_free(&out);
}

TEST(test_subst_values_read_environment_and_mailname)
{
	struct buf u = BUF_INIT(256), h = BUF_INIT(256), c = BUF_INIT(256), m = BUF_INIT(256);
	struct subst_values v;
	char path[] = "/tmp/test_mailname_XXXXXX";
	int fd = mkstemp(path);

	CHECK(fd >= 0);
	CHECK(write(fd, "mail.example.net\nignored\n", 25) == 25);
	close(fd);
	setenv("USER", "alice", 1);
	setenv("HOSTNAME", "localhost", 1);
	subst_values(&v, &u, &h, &c, &m, path);
	CHECK_STR(v.user, "alice");
	CHECK_STR(v.host, "localhost");
	CHECK(v.canon != NULL && v.canon[0]);
	CHECK_STR(v.mailname, "mail.example.net");
	unlink(path);
	buf_free(&u);
	buf_free(&h);
	buf_free(&c);
	buf_free(&m);
}

TEST(test_config_from_and_domain_expand_patterns)
{
	static const char text[] = "account a\nhost h\nfrom %U@%H\ndomain %H\n";
	struct config c;
	struct cl_err err;
	const struct config_account *a;

	setenv("USER", "joe", 1);
	setenv("HOSTNAME", "box.example.org", 1);
	memset(&c, 0, sizeof(c));
	err_clear(&err);
	CHECK_INT(config_parse(&c, "t", text, sizeof(text) - 1, &err), 0);
	a = config_find(&c, "a");
	/* The values were read once per process (the first expansion). */
	CHECK(a && a->from && strchr(a->from, '%') == NULL && strchr(a->from, '@'));
	CHECK(a && a->domain && strchr(a->domain, '%') == NULL);
	config_free(&c);
}

TEST(test_config_msmtp_keys_parse_and_inherit)
{
	static const char text[] = "defaults\n"
	                           "logfile /tmp/x.log\n"
	                           "syslog LOG_MAIL\n"
	                           "remove_bcc_headers off\n"
	                           "account a\n"
	                           "host h\n"
	                           "dsn_notify failure,delay\n"
	                           "dsn_return headers\n"
	                           "tls_min_version 1.3\n"
	                           "set_from_header on\n"
	                           "undisclosed_recipients\n"
	                           "account b : a\n"
	                           "tls_cert_file /tmp/c.pem\n";
	struct config c;
	struct cl_err err;
	const struct config_account *b;

	memset(&c, 0, sizeof(c));
	err_clear(&err);
	CHECK_INT(config_parse(&c, "t", text, sizeof(text) - 1, &err), 0);
	b = config_find(&c, "b");
	CHECK(b != NULL);
	if (b == NULL)
		return;
	CHECK_STR(b->logfile, "/tmp/x.log");
	CHECK_STR(b->syslog, "LOG_MAIL");
	CHECK_STR(b->dsn_notify, "failure,delay");
	CHECK_STR(b->dsn_return, "headers");
	CHECK_STR(b->tls_min_version, "1.3");
	CHECK_STR(b->set_from_header, "on");
	CHECK_STR(b->tls_cert_file, "/tmp/c.pem");
	CHECK_INT(b->remove_bcc_headers, 0);
	/* msmtp: an empty argument to an on/off key means on. */
	CHECK_INT(b->undisclosed_recipients, 1);
	CHECK_INT(b->allow_from_override, -1);
	config_free(&c);
}

TEST(test_config_msmtp_keys_refuse_bad_values)
{
	static const char *bad[] = {
	    "account a\nhost h\ndsn_notify failure,sometimes\n",
	    "account a\nhost h\ndsn_notify never,failure,\n",
	    "account a\nhost h\ndsn_return body\n",
	    "account a\nhost h\nsyslog LOG_KERN\n",
	    "account a\nhost h\ntls_min_version 1.4\n",
	    "account a\nhost h\nset_date_header on\n",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct config c;
		struct cl_err err;

		memset(&c, 0, sizeof(c));
		err_clear(&err);
		CHECK_INT(config_parse(&c, "t", bad[i], strlen(bad[i]), &err), -1);
		CHECK_INT(err.cls, CL_ECONFIG);
		CHECK(strstr(err.msg, "line 3") != NULL);
		config_free(&c);
	}
}

TEST(test_msmtprc_every_key_becomes_a_line_or_a_comment_with_why)
{
	static const char rc[] = "defaults\n"
	                         "logfile ~/.msmtp.log\n"
	                         "account a\n"
	                         "host h\n"
	                         "from %U@%H\n"
	                         "dsn_notify failure\n"
	                         "add_missing_from_header off\n"
	                         "add_missing_date_header on\n"
	                         "tls_priorities NORMAL\n"
	                         "eval echo host x\n"
	                         "socket /run/x\n"
	                         "protocol lmtp\n"
	                         "auth external\n"
	                         "tls_cert_file /tmp/c.pem\n";
	struct buf out = BUF_INIT(65536), notes = BUF_INIT(65536);
	struct config c;
	struct cl_err err;
	const char *s;

	err_clear(&err);
	CHECK_INT(msmtprc_translate("rc", rc, sizeof(rc) - 1, &out, &notes, &err), 0);
	s = buf_cstr(&out);
	CHECK(strstr(s, "\nfrom %U@%H\n") != NULL);
	CHECK(strstr(s, "\ndsn_notify failure\n") != NULL);
	CHECK(strstr(s, "\nset_from_header off\n") != NULL);
	CHECK(strstr(s, "\nset_date_header auto\n") != NULL);
	CHECK(strstr(s, "# not supported by clsmtpc (GnuTLS priority") != NULL);
	CHECK(strstr(s, "# not supported by clsmtpc (clsmtpc runs no command") != NULL);
	CHECK(strstr(s, "# not supported by clsmtpc (Unix-domain") != NULL);
	CHECK(strstr(s, "# not supported by clsmtpc (LMTP") != NULL);
	CHECK(strstr(s, "\nauth external\n") != NULL);
	/* EXTERNAL needs no password: no keyring line. */
	CHECK(strstr(s, "keyring on") == NULL);
	memset(&c, 0, sizeof(c));
	CHECK_INT(config_parse(&c, "out", s, out.len, &err), 0);
	CHECK(config_find(&c, "a") && strcmp(config_find(&c, "a")->auth, "external") == 0);
	config_free(&c);
	buf_free(&out);
	buf_free(&notes);
}

TEST(test_sendlog_line_has_msmtps_fields_in_order)
{
	const char *rcpts[] = {"a@example.test", "b@example.test"};
	struct sendlog_rec r;
	struct buf out = BUF_INIT(4096);

	memset(&r, 0, sizeof(r));
	r.host = "127.0.0.1";
	r.tls = r.auth = 1;
	r.user = "alice";
	r.from = "sender@example.test";
	r.rcpts = rcpts;
	r.nrcpt = 2;
	r.mailsize = 149;
	r.smtpstatus = 250;
	r.smtpmsg = "250 2.0.0 Ok: queued as 10539A73429";
	r.exitcode = EX_OK;
	CHECK_INT(sendlog_format(&r, &out), 0);
	/* msmtp 1.8.23's line for the same mail (tests/integration compares
	 * the two programs' logs). */
	CHECK_STR(buf_cstr(&out),
	          "host=127.0.0.1 tls=on auth=on user=alice from=sender@example.test "
	          "recipients=a@example.test,b@example.test mailsize=149 smtpstatus=250 "
	          "smtpmsg='250 2.0.0 Ok: queued as 10539A73429' exitcode=EX_OK");
	r.auth = 0;
	r.nrcpt = 1;
	r.smtpstatus = 0;
	r.errormsg = "cannot connect to 127.0.0.1, port 1: Connection refused\r\nX: y";
	r.exitcode = EX_TEMPFAIL;
	CHECK_INT(sendlog_format(&r, &out), 0);
	CHECK_STR(buf_cstr(&out),
	          "host=127.0.0.1 tls=on auth=off from=sender@example.test "
	          "recipients=a@example.test errormsg='cannot connect to 127.0.0.1, port 1: "
	          "Connection refused??X: y' exitcode=EX_TEMPFAIL");
	buf_free(&out);
}

static int parse_sm(const char *a1, const char *a2, struct sendmail_opts *so, struct cl_err *err)
{
	char *argv[] = {(char *)"sendmail", (char *)a1, (char *)a2, NULL};
	int i = 1;

	memset(so, 0, sizeof(*so));
	so->auto_from = -1;
	err_clear(err);
	return sendmail_long_option(a2 ? 3 : 2, argv, &i, so, err);
}

TEST(test_sendmail_long_options_forward_or_refuse)
{
	struct sendmail_opts so;
	struct client_opts o;
	struct cl_err err;

	CHECK_INT(parse_sm("--logfile", "/tmp/l", &so, &err), 0);
	CHECK_INT(so.nfwd, 2);
	CHECK_STR(so.fwd[1], "--logfile=/tmp/l");
	CHECK_INT(options_parse(so.nfwd, so.fwd, &o, &err), 0);
	CHECK_STR(o.logfile, "/tmp/l");
	options_free(&o);
	sendmail_opts_free(&so);

	CHECK_INT(parse_sm("--dsn-notify=sometimes", NULL, &so, &err), 0);
	/* Forwarded words are checked by clsmtpc's own parser. */
	CHECK_INT(options_parse(so.nfwd, so.fwd, &o, &err), -1);
	CHECK(strstr(err.msg, "--dsn-notify") != NULL);
	options_free(&o);
	sendmail_opts_free(&so);

	CHECK_INT(parse_sm("--from=a@example.test", NULL, &so, &err), 0);
	CHECK(so.sender_set && strcmp(so.sender, "a@example.test") == 0);
	CHECK_INT(parse_sm("--read-recipients", NULL, &so, &err), 0);
	CHECK_INT(so.extract, 1);
	CHECK_INT(parse_sm("--auto-from", NULL, &so, &err), 0);
	CHECK_INT(so.auto_from, 1);
	CHECK_INT(parse_sm("--aliases=", NULL, &so, &err), 0);
	CHECK(so.aliases_set && so.aliases[0] == '\0');

	CHECK_INT(parse_sm("--tls-priorities=NORMAL", NULL, &so, &err), -1);
	CHECK(strstr(err.msg, "--tls-min-version") != NULL);
	CHECK_INT(parse_sm("--serverinfo", NULL, &so, &err), -1);
	CHECK(strstr(err.msg, "clsmtpc -v -M HOST") != NULL);
	CHECK_INT(parse_sm("--socket=/run/s", NULL, &so, &err), -1);
	CHECK_INT(parse_sm("--protocol=lmtp", NULL, &so, &err), -1);
	CHECK(strstr(err.msg, "not supported") != NULL);
	CHECK_INT(parse_sm("--protocol=smtp", NULL, &so, &err), 0);
	CHECK_INT(parse_sm("--no-such-option", NULL, &so, &err), -1);
	CHECK_INT(err.cls, CL_EUSAGE);
	CHECK_INT(parse_sm("--read-recipients=yes", NULL, &so, &err), -1);
	CHECK_INT(parse_sm("--port", NULL, &so, &err), -1);
}

static int netrc_get(const char *text, const char *host, const char *user, struct buf *pw)
{
	struct cl_err err;

	err_clear(&err);
	buf_reset(pw);
	return netrc_parse(text, strlen(text), host, user, pw, &err);
}

TEST(test_netrc_machine_login_default_and_authinfo)
{
	static const char netrc[] = "machine other.example login alice password wrong\n"
	                            "machine smtp.example.org\n"
	                            "  login bob password bobs-pw\n"
	                            "machine SMTP.example.org login alice password \"a b\\\"c\"\n"
	                            "macdef init\n"
	                            "machine smtp.example.org login alice password in-macro\n"
	                            "\n"
	                            "default login alice password fallback\n";
	static const char authinfo[] = "machine mail.example.jp port 587 user taro passwd t-pw\n";
	struct buf pw = BUF_INIT(1024);

	CHECK_INT(netrc_get(netrc, "smtp.example.org", "alice", &pw), 1);
	CHECK_STR(buf_cstr(&pw), "a b\"c");
	CHECK_INT(netrc_get(netrc, "smtp.example.org", "bob", &pw), 1);
	CHECK_STR(buf_cstr(&pw), "bobs-pw");
	/* No machine entry for this user: "default". */
	CHECK_INT(netrc_get(netrc, "elsewhere.example", "alice", &pw), 1);
	CHECK_STR(buf_cstr(&pw), "fallback");
	CHECK_INT(netrc_get(netrc, "elsewhere.example", "carol", &pw), 0);
	CHECK_INT(netrc_get(authinfo, "mail.example.jp", "taro", &pw), 1);
	CHECK_STR(buf_cstr(&pw), "t-pw");
	CHECK_INT(netrc_get("machine", "h", "u", &pw), -1);
	CHECK_INT(netrc_get("machine h login", "h", "u", &pw), -1);
	buf_free(&pw);
}

TEST(test_config_from_subaddress_chooses_the_base_account)
{
	static const char text[] = "account a\nhost h\nfrom joe@example.org\n"
	                           "account b\nhost h2\nfrom joe+lists@example.org\n";
	const struct config_account *a;
	struct config c;
	struct cl_err err;

	memset(&c, 0, sizeof(c));
	err_clear(&err);
	CHECK_INT(config_parse(&c, "t", text, sizeof(text) - 1, &err), 0);
	CHECK_INT(config_select(&c, NULL, "joe+cron@example.org", &a, &err), 0);
	CHECK(a && strcmp(a->name, "a") == 0);
	/* An exact match wins over the base address. */
	CHECK_INT(config_select(&c, NULL, "joe+lists@example.org", &a, &err), 0);
	CHECK(a && strcmp(a->name, "b") == 0);
	CHECK_INT(config_select(&c, NULL, "jane+x@example.org", &a, &err), 0);
	CHECK(a == NULL);
	config_free(&c);
}

int main(void)
{
	RUN(test_subst_replaces_each_pattern);
	RUN(test_subst_unknown_value_is_an_error_naming_it);
	RUN(test_subst_values_read_environment_and_mailname);
	RUN(test_config_from_and_domain_expand_patterns);
	RUN(test_config_msmtp_keys_parse_and_inherit);
	RUN(test_config_msmtp_keys_refuse_bad_values);
	RUN(test_msmtprc_every_key_becomes_a_line_or_a_comment_with_why);
	RUN(test_sendlog_line_has_msmtps_fields_in_order);
	RUN(test_sendmail_long_options_forward_or_refuse);
	RUN(test_netrc_machine_login_default_and_authinfo);
	RUN(test_config_from_subaddress_chooses_the_base_account);
	CHECK_DONE();
}
