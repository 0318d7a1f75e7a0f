/* test_conf_print.c - "clsmtpd -t": the effective configuration it prints
 * holds every default, loads again into the same configuration (printed
 * twice, the same text), names the control socket, and never shows the
 * smarthost password or a passwordeval command. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "conf_print.h"

static char test_dir[64];

static void write_file(const char *path, const char *text, int mode)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		abort();
	fputs(text, f);
	fclose(f);
	chmod(path, (mode_t)mode);
}

/* Load text as a configuration and print it; NULL if it does not load. */
static char *printed(const char *text, int read_secret)
{
	char path[128];
	struct conf *c;
	struct cl_err err;
	struct buf out = BUF_INIT(1 << 20);

	snprintf(path, sizeof(path), "%s/c%d.conf", test_dir, rand());
	write_file(path, text, 0644);
	err_clear(&err);
	if (conf_load(&c, path, &err) < 0) {
		printf("# %s\n", err.msg);
		return NULL;
	}
	if (read_secret && relay_conf_load_secret(&c->relay, &err) < 0) {
		printf("# %s\n", err.msg);
		conf_free(c);
		return NULL;
	}
	conf_print(c, &out);
	conf_free(c);
	unlink(path);
	return buf_release(&out);
}

/* The printed text without its first line (which names the file). */
static const char *body(const char *s)
{
	const char *nl = s ? strchr(s, '\n') : NULL;
	return nl ? nl + 1 : "";
}

TEST(test_conf_print_fills_in_the_defaults)
{
	char *p = printed("listen 127.0.0.1:2525 plain\n", 0);

	CHECK(p != NULL);
	if (p == NULL)
		return;
	CHECK(strstr(p, "\nspool /var/spool/clsmtpd\n") != NULL);
	CHECK(strstr(p, "\nusers /etc/clsmtpd.users\n") != NULL);
	CHECK(strstr(p, "\ncontrol_socket /var/spool/clsmtpd/ctl\n") != NULL);
	CHECK(strstr(p, "\nlisten 127.0.0.1:2525 plain noauth\n") != NULL);
	CHECK(strstr(p, "\nban_auth_failures 5\n") != NULL);
	CHECK(strstr(p, "\nban_exempt 127.0.0.1/32 ::1/128\n") != NULL);
	CHECK(strstr(p, "\nqueue_lifetime 5d\n") != NULL);
	CHECK(strstr(p, "\nmax_recipients 100\n") != NULL);
	free(p);
}

TEST(test_conf_print_loads_again_unchanged)
{
	const char *conf = "hostname mx.example.test\n"
	                   "user nobody\n"
	                   "control_socket /run/clsmtpd/ctl\n"
	                   "listen [::1]:2587 plain auth\n"
	                   "listen *:2525 plain\n"
	                   "domain example.org example.net\n"
	                   "mailbox a@example.org /var/mail/a\n"
	                   "alias postmaster@example.org a@example.org\n"
	                   "catchall example.net a@example.org\n"
	                   "trusted 192.168.1.0/24 fd00::/8\n"
	                   "sender a rewrite a@example.org\n"
	                   "auth_mechanisms SCRAM-SHA-256 PLAIN\n"
	                   "bare_lf normalize\n"
	                   "greeting_delay 3\n"
	                   "ban_exempt none\n"
	                   "auth_failure_delay 1 4\n"
	                   "relay_mode mx\n"
	                   "mx_tls verify\n"
	                   "route example.com [2001:db8::1]:2525\n"
	                   "retry_min 90s\n"
	                   "relay_timeout 2m\n";
	char *one = printed(conf, 0), *two = one ? printed(body(one), 0) : NULL;

	CHECK(one != NULL && two != NULL);
	if (one != NULL && two != NULL)
		CHECK_STR(body(two), body(one));
	CHECK(one != NULL && strstr(one, "\nroute example.com [2001:db8::1]:2525\n") != NULL);
	CHECK(one != NULL && strstr(one, "\nban_exempt none\n") != NULL);
	free(one);
	free(two);
}

TEST(test_conf_print_never_shows_the_smarthost_secret)
{
	char conf[512], pwfile[128];
	char *p;

	snprintf(pwfile, sizeof(pwfile), "%s/isp.secret", test_dir);
	write_file(pwfile, "Hunter2-isp-password\n", 0600);
	snprintf(conf, sizeof(conf),
	         "listen 127.0.0.1:2525 plain\nsmarthost smtp.isp.example:465\n"
	         "smarthost_user u\nsmarthost_password_file %s\n",
	         pwfile);
	p = printed(conf, 1);
	CHECK(p != NULL && strstr(p, "Hunter2") == NULL);
	CHECK(p != NULL && strstr(p, "# smarthost password: read (hidden)\n") != NULL);
	CHECK(p != NULL && strstr(p, pwfile) != NULL); /* the path is no secret */
	free(p);
	p = printed("listen 127.0.0.1:2525 plain\nsmarthost smtp.isp.example\n"
	            "smarthost_user u\nsmarthost_passwordeval echo Hunter3-in-a-command\n",
	            0);
	CHECK(p != NULL && strstr(p, "Hunter3") == NULL);
	CHECK(p != NULL && strstr(p, "# smarthost_passwordeval: set (the command is not shown)\n") !=
	                       NULL);
	free(p);
}

int main(void)
{
	snprintf(test_dir, sizeof(test_dir), "/tmp/test_conf_print.XXXXXX");
	if (mkdtemp(test_dir) == NULL)
		return 1;
	RUN(test_conf_print_fills_in_the_defaults);
	RUN(test_conf_print_loads_again_unchanged);
	RUN(test_conf_print_never_shows_the_smarthost_secret);
	{
		char f[128];
		snprintf(f, sizeof(f), "%s/isp.secret", test_dir);
		unlink(f);
	}
	rmdir(test_dir);
	CHECK_DONE();
}
