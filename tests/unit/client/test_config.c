/*
 * test_config.c - the configuration file (config.c): msmtp's syntax,
 * defaults and inheritance, provider presets from data/providers.conf,
 * account selection by name, From address and default, errors that name the
 * file and line, the refused "password" key and the permission check.
 * Run from the repository root (make check does), so data/ is found.
 */
#include "check.h"
#include "config.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int parse(struct config *c, const char *text, struct cl_err *err)
{
	memset(c, 0, sizeof(*c));
	err_clear(err);
	return config_parse(c, "test.conf", text, strlen(text), err);
}

TEST(test_config_reads_msmtp_style_account)
{
	struct config c;
	struct cl_err err;
	const struct config_account *a;

	CHECK_INT(parse(&c,
	                "# comment\n"
	                "account work\n"
	                "host smtp.example.ac.jp\n"
	                "port 587\n"
	                "tls on\n"
	                "tls_trust_file /etc/ssl/certs/ca-certificates.crt\n"
	                "auth plain\n"
	                "user 64L114\n"
	                "passwordeval \"pass show \\\"smtp\\\"\"\n"
	                "from 64L114@mail.example.ac.jp\n"
	                "timeout 30\n",
	                &err),
	          0);
	a = config_find(&c, "work");
	CHECK(a != NULL);
	if (a) {
		CHECK_STR(a->host, "smtp.example.ac.jp");
		CHECK_STR(a->port, "587");
		CHECK_INT(a->tls_mode_set, 1);
		CHECK_INT(a->tls_mode, SMTP_TLS_STARTTLS);
		CHECK_STR(a->auth, "plain");
		CHECK_STR(a->user, "64L114");
		CHECK_STR(a->passwordeval, "pass show \"smtp\"");
		CHECK_STR(a->from, "64L114@mail.example.ac.jp");
		CHECK_INT(a->timeout_s, 30);
		CHECK_INT(a->line, 2);
	}
	config_free(&c);
}

TEST(test_config_tls_switches_fold_into_mode)
{
	struct config c;
	struct cl_err err;

	CHECK_INT(parse(&c,
	                "account a\nhost h\ntls on\ntls_starttls off\n"
	                "account b\nhost h\ntls off\n"
	                "account c\nhost h\n"
	                "account d\nhost h\ntls_mode smtps\n"
	                "account e\nhost h\ntls_mode tls\n",
	                &err),
	          0);
	CHECK_INT(config_find(&c, "a")->tls_mode, SMTP_TLS_SMTPS);
	CHECK_INT(config_find(&c, "b")->tls_mode, SMTP_TLS_NONE);
	CHECK_INT(config_find(&c, "c")->tls_mode_set, 0);
	CHECK_INT(config_find(&c, "c")->tls_mode, SMTP_TLS_AUTO);
	CHECK_INT(config_find(&c, "d")->tls_mode, SMTP_TLS_SMTPS);
	CHECK_INT(config_find(&c, "e")->tls_mode, SMTP_TLS_STARTTLS);
	config_free(&c);
}

TEST(test_config_defaults_and_parents_are_inherited)
{
	struct config c;
	struct cl_err err;
	const struct config_account *a;

	CHECK_INT(parse(&c,
	                "defaults\n"
	                "tls on\n"
	                "timeout 20\n"
	                "account base\n"
	                "host smtp.example.org\n"
	                "user alice\n"
	                "account child : base\n"
	                "from alice@example.org\n"
	                "account other\n"
	                "host other.example\n"
	                "tls off\n",
	                &err),
	          0);
	a = config_find(&c, "child");
	CHECK(a != NULL);
	if (a) {
		CHECK_STR(a->host, "smtp.example.org");
		CHECK_STR(a->user, "alice");
		CHECK_STR(a->from, "alice@example.org");
		CHECK_INT(a->tls_mode, SMTP_TLS_STARTTLS);
		CHECK_INT(a->timeout_s, 20);
	}
	a = config_find(&c, "other");
	CHECK(a && a->tls_mode == SMTP_TLS_NONE && a->timeout_s == 20);
	CHECK(config_find(&c, "base")->from == NULL);
	config_free(&c);
}

TEST(test_config_account_default_names_the_default)
{
	struct config c;
	struct cl_err err;
	const struct config_account *a;

	CHECK_INT(parse(&c,
	                "account one\nhost one.example\nfrom me@one.example\n"
	                "account two\nhost two.example\nfrom me@two.example\n"
	                "account default : two\n",
	                &err),
	          0);
	CHECK_STR(c.default_name, "default");
	CHECK_INT(config_select(&c, NULL, NULL, &a, &err), 0);
	CHECK(a && strcmp(a->host, "two.example") == 0);
	config_free(&c);
}

TEST(test_config_select_by_name_from_and_default)
{
	struct config c;
	struct cl_err err;
	const struct config_account *a;

	CHECK_INT(parse(&c,
	                "account one\nhost one.example\nfrom me@one.example\n"
	                "account wild\nhost wild.example\nfrom *@two.example\n"
	                "account exact\nhost exact.example\nfrom boss@TWO.example\n"
	                "account default : one\n",
	                &err),
	          0);
	CHECK_INT(config_select(&c, "wild", "me@one.example", &a, &err), 0);
	CHECK(a && strcmp(a->name, "wild") == 0);
	/* An exact address wins over a pattern defined before it. */
	CHECK_INT(config_select(&c, NULL, "Boss@two.example", &a, &err), 0);
	CHECK(a && strcmp(a->name, "exact") == 0);
	CHECK_INT(config_select(&c, NULL, "anyone@two.example", &a, &err), 0);
	CHECK(a && strcmp(a->name, "wild") == 0);
	CHECK_INT(config_select(&c, NULL, "me@one.example", &a, &err), 0);
	CHECK(a && strcmp(a->name, "one") == 0);
	CHECK_INT(config_select(&c, NULL, "stranger@else.example", &a, &err), 0);
	CHECK(a && strcmp(a->name, "default") == 0);
	CHECK_INT(config_select(&c, "nosuch", NULL, &a, &err), -1);
	CHECK_INT(err.cls, CL_ECONFIG);
	CHECK(strstr(err.msg, "nosuch") != NULL);
	config_free(&c);
}

TEST(test_config_no_default_selects_nothing)
{
	struct config c;
	struct cl_err err;
	const struct config_account *a = (void *)&c;

	CHECK_INT(parse(&c, "account one\nhost one.example\n", &err), 0);
	CHECK_INT(config_select(&c, NULL, "x@y.example", &a, &err), 0);
	CHECK(a == NULL);
	config_free(&c);
}

TEST(test_config_password_is_refused_naming_passwordeval)
{
	struct config c;
	struct cl_err err;

	CHECK_INT(parse(&c, "account a\nhost h\npassword secret123\n", &err), -1);
	CHECK_INT(err.cls, CL_ECONFIG);
	CHECK(strstr(err.msg, "test.conf, line 3") != NULL);
	CHECK(strstr(err.msg, "passwordeval") != NULL);
	CHECK(strstr(err.msg, "secret123") == NULL);
	config_free(&c);
}

TEST(test_config_errors_name_file_and_line)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
	    {"account a\nhost h\nport 99999\n", "line 3: port '99999'"},
	    {"account a\nbogus thing\n", "line 2: unknown key 'bogus'"},
	    {"host h\n", "line 1: 'host' before any"},
	    {"account a\ntls maybe\n", "line 2: 'tls' wants on or off"},
	    {"account a\nauth rot13\n", "line 2: unknown auth 'rot13'"},
	    {"account a\naccount a\n", "line 2: 'a' is defined twice"},
	    {"account b : a\n", "line 1: account 'b' inherits from 'a'"},
	    {"account a\npasswordeval \"unterminated\n", "line 2: missing closing"},
	    {"account a\ntimeout soon\n", "line 2: timeout 'soon'"},
	    {"account a\nqueue always\n", "line 2: queue wants on-tempfail"},
	    {"account a\npassword_env 9X\n", "line 2: '9X' is not an environment"},
	    {"defaults\nprovider gmail\n", "line 2: 'provider' belongs in an account"},
	    {"account a\ntitle x\n", "line 2: 'title' is not allowed"},
	};
	struct config c;
	struct cl_err err;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CHECK_INT(parse(&c, cases[i].text, &err), -1);
		CHECK_INT(err.cls, CL_ECONFIG);
		if (strstr(err.msg, cases[i].want) == NULL || strncmp(err.msg, "test.conf", 9)) {
			printf("# case %zu: got '%s', want '%s'\n", i, err.msg, cases[i].want);
			check_failed_now = 1;
		}
		config_free(&c);
	}
}

TEST(test_config_key_equals_value_and_crlf)
{
	struct config c;
	struct cl_err err;

	CHECK_INT(parse(&c, "account a\r\nhost = smtp.example\r\nqueue = on-tempfail\r\n", &err),
	          0);
	CHECK_STR(config_find(&c, "a")->host, "smtp.example");
	CHECK_INT(config_find(&c, "a")->queue, CONFIG_QUEUE_ON_TEMPFAIL);
	config_free(&c);
}

TEST(test_config_provider_fills_the_rest_and_lines_override)
{
	struct config c;
	struct cl_err err;
	const struct config_account *a;

	setenv("CLSMTPC_PROVIDERS", "data/providers.conf", 1);
	CHECK_INT(parse(&c,
	                "defaults\nport 2525\n"
	                "account g\nprovider gmail\nuser me@gmail.com\nfrom me@gmail.com\n"
	                "account g2\ntls_mode tls\nprovider gmail\nport 587\n",
	                &err),
	          0);
	if (err.cls != CL_OK)
		printf("# %s\n", err.msg);
	a = config_find(&c, "g");
	CHECK(a != NULL);
	if (a) {
		CHECK_STR(a->host, "smtp.gmail.com");
		/* The preset overrides the defaults section... */
		CHECK_STR(a->port, "465");
		CHECK_INT(a->tls_mode, SMTP_TLS_SMTPS);
		CHECK_STR(a->sender_policy, "account");
		CHECK_STR(a->provider, "gmail");
		CHECK(a->source && strstr(a->source, "google.com") != NULL);
	}
	a = config_find(&c, "g2");
	CHECK(a != NULL);
	if (a) {
		/* ...and the account's own lines, before or after, override it. */
		CHECK_INT(a->tls_mode, SMTP_TLS_STARTTLS);
		CHECK_STR(a->port, "587");
		CHECK_STR(a->host, "smtp.gmail.com");
	}
	config_free(&c);
	CHECK_INT(parse(&c, "account x\nprovider nosuchisp\n", &err), -1);
	CHECK(strstr(err.msg, "unknown provider 'nosuchisp'") != NULL);
	CHECK(strstr(err.msg, "gmail") != NULL);
	config_free(&c);
}

/* Every preset names its source page, a host, a port and a TLS mode. */
TEST(test_config_every_shipped_preset_is_sourced)
{
	struct config p;
	struct cl_err err;
	size_t i;

	err_clear(&err);
	CHECK_INT(config_load_presets(&p, "data/providers.conf", &err), 0);
	CHECK(p.naccounts >= 5);
	for (i = 0; i < p.naccounts; i++) {
		const struct config_account *a = &p.accounts[i];
		if (!a->source || strncmp(a->source, "https://", 8) != 0 || !a->host || !a->port ||
		    !a->tls_mode_set || !a->title) {
			printf("# preset %s is incomplete\n", a->name);
			check_failed_now = 1;
		}
	}
	CHECK(config_find(&p, "gmail") != NULL);
	CHECK(config_find(&p, "docomo") != NULL);
	CHECK_INT(config_find(&p, "docomo")->tls_mode, SMTP_TLS_SMTPS);
	config_free(&p);
}

static char dir[64], path[128];

static void write_mode(const char *text, mode_t mode)
{
	int fd;

	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text) ||
	    fchmod(fd, mode) < 0)
		check_failed_now = 1;
	if (fd >= 0)
		close(fd);
}

TEST(test_config_load_refuses_group_readable_file)
{
	struct config c;
	struct cl_err err;

	write_mode("account a\nhost h\n", 0640);
	err_clear(&err);
	CHECK_INT(config_load(&c, path, &err), -1);
	CHECK_INT(err.cls, CL_ECONFIG);
	CHECK(strstr(err.msg, "chmod 600") != NULL);
	config_free(&c);
	write_mode("account a\nhost h\n", 0600);
	CHECK_INT(config_load(&c, path, &err), 0);
	CHECK(config_find(&c, "a") != NULL);
	CHECK_STR(c.path, path);
	config_free(&c);
}

TEST(test_config_search_order_xdg_then_nothing)
{
	struct config c;
	struct cl_err err;
	char sub[160], file[200];

	snprintf(sub, sizeof(sub), "%s/clsmtpc", dir);
	snprintf(file, sizeof(file), "%s/config", sub);
	mkdir(sub, 0700);
	setenv("XDG_CONFIG_HOME", dir, 1);
	/* No file: not an error (unless /etc/clsmtpc.conf exists here). */
	err_clear(&err);
	if (access("/etc/clsmtpc.conf", F_OK) != 0) {
		CHECK_INT(config_load(&c, NULL, &err), 0);
		CHECK(c.path == NULL);
		config_free(&c);
	}
	{
		int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		CHECK(fd >= 0 && write(fd, "account x\nhost h\n", 17) == 17);
		if (fd >= 0)
			close(fd);
	}
	CHECK_INT(config_load(&c, NULL, &err), 0);
	CHECK(c.path && strcmp(c.path, file) == 0);
	CHECK(config_find(&c, "x") != NULL);
	config_free(&c);
	unlink(file);
	rmdir(sub);
	unsetenv("XDG_CONFIG_HOME");
}

TEST(test_config_tilde_paths_expand_to_home)
{
	struct config c;
	struct cl_err err;

	setenv("HOME", "/home/tester", 1);
	CHECK_INT(parse(&c, "account a\npassfile ~/.clsmtpc-pass\ntls_trust_file system\n", &err),
	          0);
	CHECK_STR(config_find(&c, "a")->passfile, "/home/tester/.clsmtpc-pass");
	CHECK(config_find(&c, "a")->trust_file == NULL);
	config_free(&c);
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/test_config.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(path, sizeof(path), "%s/config", dir);
	RUN(test_config_reads_msmtp_style_account);
	RUN(test_config_tls_switches_fold_into_mode);
	RUN(test_config_defaults_and_parents_are_inherited);
	RUN(test_config_account_default_names_the_default);
	RUN(test_config_select_by_name_from_and_default);
	RUN(test_config_no_default_selects_nothing);
	RUN(test_config_password_is_refused_naming_passwordeval);
	RUN(test_config_errors_name_file_and_line);
	RUN(test_config_key_equals_value_and_crlf);
	RUN(test_config_provider_fills_the_rest_and_lines_override);
	RUN(test_config_every_shipped_preset_is_sourced);
	RUN(test_config_load_refuses_group_readable_file);
	RUN(test_config_search_order_xdg_then_nothing);
	RUN(test_config_tilde_paths_expand_to_home);
	unlink(path);
	rmdir(dir);
	CHECK_DONE();
}
