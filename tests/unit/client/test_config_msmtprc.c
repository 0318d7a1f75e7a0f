/*
 * test_config_msmtprc.c - --import-msmtprc's translation (msmtprc.c): lines
 * that pass through, "auth on|off", passwords never copied (keyring on and
 * a note instead), unsupported keys kept as comments, and the result read
 * back by our own parser; plus sendmail mode's aliases file.
 */
#include "check.h"
#include "config.h"
#include "msmtprc.h"
#include "sendmail.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char rc[] = "# msmtp\n"
                         "defaults\n"
                         "auth on\n"
                         "tls on\n"
                         "tls_trust_file /etc/ssl/certs/ca-certificates.crt\n"
                         "logfile ~/.msmtp.log\n"
                         "\n"
                         "account gmail\n"
                         "host smtp.gmail.com\n"
                         "port 587\n"
                         "from me@gmail.com\n"
                         "user me@gmail.com\n"
                         "password \"very secret\"\n"
                         "\n"
                         "account work\n"
                         "host mail.example.ac.jp\n"
                         "auth cram-md5\n"
                         "user 64L114\n"
                         "passwordeval \"gpg -q -d ~/.work.gpg\"\n"
                         "protocol smtp\n"
                         "\n"
                         "account plain\n"
                         "host localhost\n"
                         "auth off\n"
                         "\n"
                         "account default : gmail\n";

TEST(test_config_msmtprc_translation_reads_back)
{
	struct buf out = BUF_INIT(65536), notes = BUF_INIT(65536);
	struct cl_err err;
	struct config c;
	const struct config_account *a;
	const char *s;

	err_clear(&err);
	CHECK_INT(msmtprc_translate("rc", rc, sizeof(rc) - 1, &out, &notes, &err), 0);
	s = buf_cstr(&out);
	CHECK(strstr(s, "very secret") == NULL);
	CHECK(strstr(buf_cstr(&notes), "very secret") == NULL);
	/* logfile is ours too (sendlog.c): it passes through. */
	CHECK(strstr(s, "\nlogfile ~/.msmtp.log\n") != NULL);
	CHECK(strstr(buf_cstr(&notes),
	             "secret-tool store --label=clsmtpc host smtp.gmail.com service smtp user "
	             "me@gmail.com") != NULL);
	memset(&c, 0, sizeof(c));
	CHECK_INT(config_parse(&c, "out", s, out.len, &err), 0);
	if (err.cls != CL_OK)
		printf("# %s\n", err.msg);
	a = config_find(&c, "gmail");
	CHECK(a && a->keyring == 1 && strcmp(a->auth, "auto") == 0);
	CHECK(a && a->tls_mode == SMTP_TLS_STARTTLS && strcmp(a->port, "587") == 0);
	a = config_find(&c, "work");
	/* A password source of its own: no keyring. */
	CHECK(a && a->keyring != 1 && strcmp(a->passwordeval, "gpg -q -d ~/.work.gpg") == 0);
	CHECK(a && strcmp(a->auth, "cram-md5") == 0);
	a = config_find(&c, "plain");
	CHECK(a && a->keyring != 1 && strcmp(a->auth, "none") == 0);
	CHECK_STR(c.default_name, "default");
	CHECK(config_find(&c, "default") &&
	      strcmp(config_find(&c, "default")->host, "smtp.gmail.com") == 0);
	config_free(&c);
	buf_free(&out);
	buf_free(&notes);
}

TEST(test_config_msmtprc_unsupported_auth_becomes_auto_with_note)
{
	static const char t[] = "account a\nhost h\nauth gssapi\n";
	struct buf out = BUF_INIT(4096), notes = BUF_INIT(4096);
	struct cl_err err;

	CHECK_INT(msmtprc_translate("rc", t, sizeof(t) - 1, &out, &notes, &err), 0);
	CHECK(strstr(buf_cstr(&out), "\nauth auto\n") != NULL);
	CHECK(strstr(buf_cstr(&notes), "rc, line 3: auth gssapi is not supported") != NULL);
	buf_free(&out);
	buf_free(&notes);
}

static char got[1024];

static int collect(void *arg, const char *addr)
{
	(void)arg;
	if (got[0])
		strncat(got, "|", sizeof(got) - strlen(got) - 1);
	strncat(got, addr, sizeof(got) - strlen(got) - 1);
	return 0;
}

TEST(test_config_aliases_file_maps_unqualified_names)
{
	char path[] = "/tmp/test_aliases.XXXXXX";
	static const char text[] = "# aliases\nroot: admin@example.org, Ops <ops@example.org>\n"
	                           "default: catchall@example.org\n";
	struct cl_err err;
	int fd = mkstemp(path);

	CHECK(fd >= 0 && write(fd, text, sizeof(text) - 1) == (ssize_t)(sizeof(text) - 1));
	if (fd >= 0)
		close(fd);
	got[0] = '\0';
	CHECK_INT(sendmail_alias_expand(path, "root", collect, NULL, &err), 0);
	CHECK_STR(got, "admin@example.org|ops@example.org");
	got[0] = '\0';
	CHECK_INT(sendmail_alias_expand(path, "www-data", collect, NULL, &err), 0);
	CHECK_STR(got, "catchall@example.org");
	unlink(path);
	CHECK_INT(sendmail_alias_expand(path, "root", collect, NULL, &err), -1);
	CHECK_INT(err.cls, CL_ECONFIG);
}

int main(void)
{
	RUN(test_config_msmtprc_translation_reads_back);
	RUN(test_config_msmtprc_unsupported_auth_becomes_auto_with_note);
	RUN(test_config_aliases_file_maps_unqualified_names);
	CHECK_DONE();
}
