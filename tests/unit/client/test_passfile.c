/*
 * test_passfile.c - the -p password file: matching rules (first match, exact
 * user, case-insensitive server, ':' in passwords, CRLF, comments), the
 * permission check and its message, errors naming the line, and that the
 * password buffer is empty after every failure. Files live in a mkdtemp dir.
 */
#include "check.h"
#include "testutil.h"
#include "passfile.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];
static char path[128];

#define WRITE(s, mode) test_write_file(NULL, path, (s), sizeof(s) - 1, (mode))

/* Look up user at server; returns the password or NULL (then err is set and
 * the password buffer must be empty). */
static const char *lookup(const char *user, const char *server, struct buf *pw, struct cl_err *err)
{
	err_clear(err);
	if (passfile_lookup(path, user, server, pw, err) == 0)
		return buf_cstr(pw);
	if (pw->data != NULL || pw->len != 0) {
		printf("# password buffer not wiped after a failure\n");
		check_failed_now = 1;
	}
	if (err->cls != CL_ECONFIG && err->cls != CL_ESOFTWARE) {
		printf("# error class %d, message '%s'\n", err->cls, err->msg);
		check_failed_now = 1;
	}
	return NULL;
}

TEST(test_passfile_finds_the_matching_line)
{
	struct buf pw = BUF_INIT(256);
	struct cl_err err;

	WRITE("other:smtp.example.ac.jp:nope\n"
	      "64L114:smtp.example.ac.jp:password\n"
	      "64L114:smtp.other.example:wrong\n",
	      0600);
	CHECK_STR(lookup("64L114", "smtp.example.ac.jp", &pw, &err), "password");
	CHECK_STR(lookup("64L114", "smtp.other.example", &pw, &err), "wrong");
	buf_wipe(&pw);
}

TEST(test_passfile_first_matching_line_wins)
{
	struct buf pw = BUF_INIT(256);
	struct cl_err err;

	WRITE("u:s.example:first\nu:s.example:second\n", 0600);
	CHECK_STR(lookup("u", "s.example", &pw, &err), "first");
	buf_wipe(&pw);
}

TEST(test_passfile_password_may_contain_colons_and_spaces)
{
	struct buf pw = BUF_INIT(256);
	struct cl_err err;

	WRITE("u:s.example:pa:ss w#rd:\n", 0600);
	CHECK_STR(lookup("u", "s.example", &pw, &err), "pa:ss w#rd:");
	buf_wipe(&pw);
}

TEST(test_passfile_accepts_crlf_line_endings)
{
	struct buf pw = BUF_INIT(256);
	struct cl_err err;

	WRITE("# written on Windows\r\n\r\nu:s.example:secret\r\nv:s.example:other\r\n", 0600);
	CHECK_STR(lookup("u", "s.example", &pw, &err), "secret");
	CHECK_STR(lookup("v", "s.example", &pw, &err), "other");
	buf_wipe(&pw);
}

TEST(test_passfile_last_line_without_newline)
{
	struct buf pw = BUF_INIT(256);
	struct cl_err err;

	WRITE("a:s.example:x\nu:s.example:last", 0600);
	CHECK_STR(lookup("u", "s.example", &pw, &err), "last");
	WRITE("u:s.example:last\r", 0600);
	CHECK_STR(lookup("u", "s.example", &pw, &err), "last");
	buf_wipe(&pw);
}

TEST(test_passfile_skips_comments_and_blank_lines)
{
	struct buf pw = BUF_INIT(256);
	struct cl_err err;

	WRITE("# user:server:password\n\n   \n\t\n#u:s.example:commented\nu:s.example:real\n",
	      0600);
	CHECK_STR(lookup("u", "s.example", &pw, &err), "real");
	buf_wipe(&pw);
}

TEST(test_passfile_server_is_case_insensitive_user_is_exact)
{
	struct buf pw = BUF_INIT(256);
	struct cl_err err;

	WRITE("Yahoo:YBBSMTP.mail.yahoo.co.jp:pw\n", 0600);
	CHECK_STR(lookup("Yahoo", "ybbsmtp.mail.yahoo.co.jp", &pw, &err), "pw");
	CHECK(lookup("yahoo", "ybbsmtp.mail.yahoo.co.jp", &pw, &err) == NULL);
	CHECK(lookup("Yahoo ", "ybbsmtp.mail.yahoo.co.jp", &pw, &err) == NULL);
	CHECK(lookup("Yaho", "ybbsmtp.mail.yahoo.co.jp", &pw, &err) == NULL);
	CHECK(lookup("Yahoo", "ybbsmtp.mail.yahoo.co", &pw, &err) == NULL);
	buf_wipe(&pw);
}

TEST(test_passfile_refuses_a_group_readable_file)
{
	struct buf pw = BUF_INIT(256);
	struct cl_err err;

	WRITE("u:s.example:secret\n", 0640);
	CHECK(lookup("u", "s.example", &pw, &err) == NULL);
	CHECK_INT(err.cls, CL_ECONFIG);
	CHECK(strstr(err.msg, "readable by group or others") != NULL);
	CHECK(strstr(err.msg, "run: chmod 600 ") != NULL);
	CHECK(strstr(err.msg, "secret") == NULL);
	WRITE("u:s.example:secret\n", 0604);
	CHECK(lookup("u", "s.example", &pw, &err) == NULL);
	CHECK(strstr(err.msg, "readable by group or others") != NULL);
	buf_wipe(&pw);
}

TEST(test_passfile_refuses_a_file_writable_by_others)
{
	struct buf pw = BUF_INIT(256);
	struct cl_err err;

	WRITE("u:s.example:secret\n", 0602);
	CHECK(lookup("u", "s.example", &pw, &err) == NULL);
	CHECK(strstr(err.msg, "writable by group or others (mode 0602)") != NULL);
	WRITE("u:s.example:secret\n", 0610);
	CHECK(lookup("u", "s.example", &pw, &err) == NULL);
	CHECK(strstr(err.msg, "chmod 600") != NULL);
	WRITE("u:s.example:secret\n", 0400);
	CHECK_STR(lookup("u", "s.example", &pw, &err), "secret");
	buf_wipe(&pw);
}

TEST(test_passfile_permission_message_shows_home_as_tilde)
{
	struct buf pw = BUF_INIT(256);
	struct cl_err err;
	const char *home = getenv("HOME");
	char *old = home ? strdup(home) : NULL;

	setenv("HOME", dir, 1);
	WRITE("u:s.example:secret\n", 0644);
	CHECK(lookup("u", "s.example", &pw, &err) == NULL);
	CHECK_STR(err.msg, "password file ~/pass is readable by group or others (mode 0644); "
	                   "run: chmod 600 ~/pass");
	if (old) {
		setenv("HOME", old, 1);
		free(old);
	} else {
		unsetenv("HOME");
	}
	buf_wipe(&pw);
}

TEST(test_passfile_no_matching_line_names_user_and_server)
{
	struct buf pw = BUF_INIT(256);
	struct cl_err err;

	WRITE("u:s.example:x\n", 0600);
	CHECK(lookup("64L114", "smtp.example.ac.jp", &pw, &err) == NULL);
	CHECK_INT(err.cls, CL_ECONFIG);
	CHECK(strstr(err.msg, "no line for user '64L114' at server 'smtp.example.ac.jp'") != NULL);
	WRITE("", 0600);
	CHECK(lookup("u", "s.example", &pw, &err) == NULL);
	CHECK(strstr(err.msg, "no line for user 'u'") != NULL);
	buf_wipe(&pw);
}

TEST(test_passfile_malformed_line_names_its_number)
{
	struct buf pw = BUF_INIT(256);
	struct cl_err err;

	WRITE("# comment\n\nuser-without-colons\nu:s.example:x\n", 0600);
	CHECK(lookup("u", "s.example", &pw, &err) == NULL);
	CHECK(strstr(err.msg, "line 3: expected user:server:password") != NULL);
	WRITE("u:s.example\n", 0600);
	CHECK(lookup("u", "s.example", &pw, &err) == NULL);
	CHECK(strstr(err.msg, "line 1:") != NULL);
	WRITE(":s.example:x\n", 0600);
	CHECK(lookup("u", "s.example", &pw, &err) == NULL);
	CHECK(strstr(err.msg, "line 1:") != NULL);
	WRITE("u::x\n", 0600);
	CHECK(lookup("u", "s.example", &pw, &err) == NULL);
	CHECK(strstr(err.msg, "line 1:") != NULL);
	buf_wipe(&pw);
}

TEST(test_passfile_empty_password_is_an_error)
{
	struct buf pw = BUF_INIT(256);
	struct cl_err err;

	WRITE("u:s.example:\r\n", 0600);
	CHECK(lookup("u", "s.example", &pw, &err) == NULL);
	CHECK(strstr(err.msg, "line 1: empty password") != NULL);
	buf_wipe(&pw);
}

TEST(test_passfile_refuses_nul_in_a_line)
{
	struct buf pw = BUF_INIT(256);
	struct cl_err err;

	WRITE("u:s.example:se\0cret\n", 0600);
	CHECK(lookup("u", "s.example", &pw, &err) == NULL);
	CHECK(strstr(err.msg, "line 1: NUL") != NULL);
	buf_wipe(&pw);
}

TEST(test_passfile_missing_file_and_directory)
{
	struct buf pw = BUF_INIT(256);
	struct cl_err err;

	unlink(path);
	CHECK(lookup("u", "s.example", &pw, &err) == NULL);
	CHECK(strstr(err.msg, "cannot open") != NULL);
	err_clear(&err);
	CHECK_INT(passfile_lookup(dir, "u", "s.example", &pw, &err), -1);
	CHECK_INT(err.cls, CL_ECONFIG);
	CHECK(strstr(err.msg, "not a regular file") != NULL);
	err_clear(&err);
	CHECK_INT(passfile_lookup("", "u", "s.example", &pw, &err), -1);
	CHECK_INT(err.cls, CL_ECONFIG);
	buf_wipe(&pw);
}

TEST(test_passfile_needs_user_and_server)
{
	struct buf pw = BUF_INIT(256);
	struct cl_err err;

	WRITE("u:s.example:x\n", 0600);
	CHECK(lookup("", "s.example", &pw, &err) == NULL);
	CHECK(lookup(NULL, "s.example", &pw, &err) == NULL);
	CHECK(lookup("u", NULL, &pw, &err) == NULL);
	CHECK(strstr(err.msg, "-U") != NULL);
	buf_wipe(&pw);
}

TEST(test_passfile_refuses_an_overlong_line)
{
	struct buf pw = BUF_INIT(256), content = BUF_INIT(100000);
	struct cl_err err;
	int i;

	buf_adds(&content, "a:s.example:");
	for (i = 0; i < 5000; i++)
		buf_addc(&content, 'x');
	buf_adds(&content, "\nu:s.example:ok\n");
	test_write_file(NULL, path, content.data, content.len, 0600);
	CHECK(lookup("u", "s.example", &pw, &err) == NULL);
	CHECK(strstr(err.msg, "line 1: longer than") != NULL);
	buf_free(&content);
	buf_wipe(&pw);
}

TEST(test_passfile_password_longer_than_the_buffer_is_refused)
{
	struct buf pw = BUF_INIT(8);
	struct cl_err err;

	WRITE("u:s.example:123456789\n", 0600);
	CHECK(lookup("u", "s.example", &pw, &err) == NULL);
	CHECK(strstr(err.msg, "password too long") != NULL);
	WRITE("u:s.example:12345678\n", 0600);
	CHECK_STR(lookup("u", "s.example", &pw, &err), "12345678");
	buf_wipe(&pw);
}

TEST(test_passfile_failure_wipes_an_earlier_password)
{
	struct buf pw = BUF_INIT(256);
	struct cl_err err;

	buf_adds(&pw, "left-over-secret");
	WRITE("u:s.example:x\n", 0644);
	CHECK(lookup("u", "s.example", &pw, &err) == NULL);
	CHECK(pw.data == NULL && pw.len == 0);
	CHECK_INT(pw.max, 256); /* still usable */
	buf_adds(&pw, "left-over-secret");
	WRITE("u:s.example:x\n", 0600);
	CHECK(lookup("nobody", "s.example", &pw, &err) == NULL);
	CHECK(pw.data == NULL && pw.len == 0);
	buf_wipe(&pw);
}

TEST(test_passfile_lines_across_read_chunks)
{
	struct buf pw = BUF_INIT(256), content = BUF_INIT(1 << 20);
	struct cl_err err;
	size_t j;
	int i;

	/* Lines of varied lengths ("userN:hhh...s.example:pwN") so that some
	 * straddle every read boundary. */
	for (i = 0; i < 3000; i++)
		buf_printf(&content, "user%d:%*s.example:pw%d\r\n", i, 1 + i % 97, "s", i);
	for (j = 0; j < content.len; j++)
		if (content.data[j] == ' ')
			content.data[j] = 'h';
	test_write_file(NULL, path, content.data, content.len, 0600);
	for (i = 0; i < 3000; i += 131) {
		struct buf user = BUF_INIT(64), server = BUF_INIT(256), want = BUF_INIT(64);
		const char *got;

		buf_printf(&user, "user%d", i);
		buf_printf(&server, "%*s.example", 1 + i % 97, "s");
		for (j = 0; j < server.len; j++)
			if (server.data[j] == ' ')
				server.data[j] = 'h';
		buf_printf(&want, "pw%d", i);
		got = lookup(buf_cstr(&user), buf_cstr(&server), &pw, &err);
		CHECK_STR(got ? got : "(none)", buf_cstr(&want));
		buf_free(&user);
		buf_free(&server);
		buf_free(&want);
	}
	buf_free(&content);
	buf_wipe(&pw);
}

TEST_RNG(rng, 0xfeedfacecafebeefull)

TEST(test_passfile_random_files_keep_the_invariants)
{
	/* Whole lines, mostly plausible, sometimes broken. */
	static const char *const lines[] = {
	    "u:s:pw", "u:S:p:w", "v:s:other", "u:t:other", "# comment", "",
	    " \t",    "u:s:",    "u:s",       ":s:x",      "u::x",      "\r",
	    "u:s:\r", "u:s:x\r", "#u:s:no",   "x"};
	static const char noise[] = "us:\n\r#\t \xff";
	struct buf pw = BUF_INIT(64), content = BUF_INIT(4096);
	struct cl_err err;
	int i, found = 0, failed = 0;

	for (i = 0; i < 500; i++) {
		size_t nl = rng() % 6, k;

		buf_reset(&content);
		for (k = 0; k < nl; k++) {
			if (rng() % 8 == 0)
				buf_addc(&content,
				         rng() % 4 ? noise[rng() % (sizeof(noise) - 1)] : '\0');
			else
				buf_adds(&content,
				         lines[rng() % (sizeof(lines) / sizeof(lines[0]))]);
			if (k + 1 < nl || rng() % 2)
				buf_adds(&content, rng() % 3 ? "\n" : "\r\n");
		}
		test_write_file(NULL, path, buf_cstr(&content), content.len, 0600);
		if (lookup("u", "s", &pw, &err) != NULL) {
			found++;
			CHECK(pw.len > 0 && pw.len <= 64);
			CHECK(memchr(pw.data, '\n', pw.len) == NULL);
			CHECK(memchr(pw.data, '\0', pw.len) == NULL);
		} else {
			failed++;
		}
		if (check_failed_now)
			break;
	}
	printf("# of 500 random files, %d gave a password, %d an error\n", found, failed);
	CHECK(found > 50 && failed > 50);
	buf_free(&content);
	buf_wipe(&pw);
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/clsmtpc-passfile.XXXXXX");
	if (mkdtemp(dir) == NULL) {
		printf("Bail out! mkdtemp failed\n");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/pass", dir);
	RUN(test_passfile_finds_the_matching_line);
	RUN(test_passfile_first_matching_line_wins);
	RUN(test_passfile_password_may_contain_colons_and_spaces);
	RUN(test_passfile_accepts_crlf_line_endings);
	RUN(test_passfile_last_line_without_newline);
	RUN(test_passfile_skips_comments_and_blank_lines);
	RUN(test_passfile_server_is_case_insensitive_user_is_exact);
	RUN(test_passfile_refuses_a_group_readable_file);
	RUN(test_passfile_refuses_a_file_writable_by_others);
	RUN(test_passfile_permission_message_shows_home_as_tilde);
	RUN(test_passfile_no_matching_line_names_user_and_server);
	RUN(test_passfile_malformed_line_names_its_number);
	RUN(test_passfile_empty_password_is_an_error);
	RUN(test_passfile_refuses_nul_in_a_line);
	RUN(test_passfile_missing_file_and_directory);
	RUN(test_passfile_needs_user_and_server);
	RUN(test_passfile_refuses_an_overlong_line);
	RUN(test_passfile_password_longer_than_the_buffer_is_refused);
	RUN(test_passfile_failure_wipes_an_earlier_password);
	RUN(test_passfile_lines_across_read_chunks);
	RUN(test_passfile_random_files_keep_the_invariants);
	unlink(path);
	rmdir(dir);
	CHECK_DONE();
}
