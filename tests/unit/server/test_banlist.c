/* test_banlist.c - SPOOL/bans: a "restart" (a new anvil with another clock)
 * reads what the old one wrote, with the time left, permanent bans and
 * remembered offences; no temporary file is left; damaged lines are skipped
 * and counted; a file that is not a ban list is refused. Also the defence
 * directives of clsmtpd.conf. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "banlist.h"
#include "check.h"
#include "testutil.h"
#include "server.h"

#define WALL0 1700000000LL /* seconds since the epoch at the first start */

static char test_dir[64];

static struct defence *mk(int64_t mono_now, long long wall_now)
{
	struct defence_conf dc;
	struct defence *d;

	defence_conf_default(&dc);
	d = defence_new(&dc, 7);
	defence_set_wall_offset(d, wall_now * 1000 - mono_now);
	return d;
}

static struct net_prefix net(const char *s)
{
	struct net_prefix n;

	if (net_prefix_parse(s, &n) < 0)
		abort();
	return n;
}

static void ban5(struct defence *d, const char *addr, int64_t t)
{
	struct net_prefix a = net(addr);
	int i;

	for (i = 0; i < 5; i++)
		defence_event(d, &a, DEFENCE_AUTH, t + i);
}

static void path(struct buf *p, const char *name)
{
	buf_reset(p);
	buf_printf(p, "%s/%s", test_dir, name);
}

TEST(test_bans_survive_a_restart_with_their_time_left)
{
	struct buf p = BUF_INIT(256), tmp = BUF_INIT(256);
	struct defence *d = mk(5000000, WALL0), *d2;
	struct net_prefix perm = net("192.0.2.0/24"), a = net("198.51.100.7");
	struct cl_err err;
	unsigned skipped = 9;
	struct stat st;

	path(&p, "bans");
	ban5(d, "198.51.100.7", 5000000);
	defence_ban(d, &perm, 0, 5000000);
	CHECK(defence_dirty(d));
	CHECK_INT(banlist_save(d, buf_cstr(&p), 5000000 + 100 * 1000, &err), 0);
	CHECK(!defence_dirty(d));
	path(&tmp, "bans.tmp");
	CHECK(stat(buf_cstr(&tmp), &st) < 0);
	CHECK(stat(buf_cstr(&p), &st) == 0 && (st.st_mode & 0777) == 0600);
	/* Restart 100 s later: the monotonic clock starts somewhere else. */
	d2 = mk(42, WALL0 + 200);
	CHECK_INT(banlist_load(d2, buf_cstr(&p), 42, &skipped, &err), 0);
	CHECK_INT(skipped, 0);
	CHECK(defence_banned(d2, &a, 42));
	CHECK(defence_banned(d2, &a, 42 + 399 * 1000));
	CHECK(!defence_banned(d2, &a, 42 + 401 * 1000));
	CHECK(defence_banned(d2, &perm, 42 + (int64_t)86400 * 1000 * 400));
	/* The offence is remembered: the next ban is twice as long. */
	ban5(d2, "198.51.100.7", 42 + 500 * 1000);
	CHECK(defence_banned(d2, &a, 42 + 500 * 1000 + 1199 * 1000));
	defence_free(d);
	defence_free(d2);
	buf_free(&p);
	buf_free(&tmp);
}

TEST(test_ban_list_format_is_one_line_per_ban)
{
	struct buf p = BUF_INIT(256), text = BUF_INIT(4096);
	struct defence *d = mk(1000, WALL0);
	struct net_prefix perm = net("2001:db8::/48");
	struct cl_err err;
	FILE *f;
	char line[256];

	path(&p, "bans.fmt");
	ban5(d, "198.51.100.7", 1000);
	defence_ban(d, &perm, 0, 1000);
	CHECK_INT(banlist_save(d, buf_cstr(&p), 1000, &err), 0);
	f = fopen(buf_cstr(&p), "r");
	while (fgets(line, sizeof(line), f) != NULL)
		if (line[0] != '#')
			buf_adds(&text, line);
	fclose(f);
	CHECK_STR(buf_cstr(&text), "clsmtpd-bans 1\n"
	                           "198.51.100.7/32\t1700000600\t1\tauth-failures\n"
	                           "2001:db8::/48\tforever\t1\tmanual\n");
	defence_free(d);
	buf_free(&p);
	buf_free(&text);
}

TEST(test_damaged_lines_are_skipped_and_counted)
{
	struct buf p = BUF_INIT(256);
	struct defence *d = mk(1000, WALL0);
	struct net_prefix a = net("198.51.100.9"), b = net("203.0.113.0/24");
	struct cl_err err;
	unsigned skipped = 0;

	static const char bad[] = "# comment\nclsmtpd-bans 1\n"
	                          "198.51.100.9/32\t1700000100\t2\tauth-failures\n"
	                          "not-an-address\t1700000100\t1\tmanual\n"
	                          "203.0.113.0/24\tsoon\t1\tmanual\n"
	                          "203.0.113.0/24\tforever\t1\tmanual\n"
	                          "short line\n";

	path(&p, "bans.bad");
	test_write_file(NULL, buf_cstr(&p), bad, sizeof(bad) - 1, 0644);
	CHECK_INT(banlist_load(d, buf_cstr(&p), 1000, &skipped, &err), 0);
	CHECK_INT(skipped, 3);
	CHECK(defence_banned(d, &a, 1000 + 99 * 1000));
	CHECK(!defence_banned(d, &a, 1000 + 101 * 1000));
	CHECK(defence_banned(d, &b, 1000));
	defence_free(d);
	buf_free(&p);
}

TEST(test_a_file_that_is_not_a_ban_list_is_refused_and_a_missing_one_is_empty)
{
	struct buf p = BUF_INIT(256);
	struct defence *d = mk(1000, WALL0);
	struct cl_err err;
	unsigned skipped;

	path(&p, "bans.other");
	test_write_file(NULL, buf_cstr(&p), "hostname x\n", strlen("hostname x\n"), 0644);
	CHECK_INT(banlist_load(d, buf_cstr(&p), 1000, &skipped, &err), -1);
	CHECK(strstr(err.msg, "not a clsmtpd ban list") != NULL);
	path(&p, "bans.missing");
	CHECK_INT(banlist_load(d, buf_cstr(&p), 1000, &skipped, &err), 0);
	defence_free(d);
	buf_free(&p);
}

TEST(test_expired_bans_are_kept_while_remembered_then_dropped)
{
	struct buf p = BUF_INIT(256);
	struct defence *d = mk(1000, WALL0);
	struct cl_err err;
	FILE *f;
	char all[1024];
	size_t n;

	path(&p, "bans.exp");
	ban5(d, "198.51.100.7", 1000);
	/* An hour later: expired, still remembered. */
	CHECK_INT(banlist_save(d, buf_cstr(&p), 1000 + 3600 * 1000, &err), 0);
	f = fopen(buf_cstr(&p), "r");
	n = fread(all, 1, sizeof(all) - 1, f);
	all[n] = '\0';
	fclose(f);
	CHECK(strstr(all, "198.51.100.7/32\t1700000600\t1\tauth-failures") != NULL);
	/* Two days later: forgotten. */
	CHECK_INT(banlist_save(d, buf_cstr(&p), 1000 + (int64_t)2 * 86400 * 1000, &err), 0);
	f = fopen(buf_cstr(&p), "r");
	n = fread(all, 1, sizeof(all) - 1, f);
	all[n] = '\0';
	fclose(f);
	CHECK(strstr(all, "198.51.100.7") == NULL);
	defence_free(d);
	buf_free(&p);
}

TEST(test_defence_directives_are_range_checked)
{
	struct defence_conf dc;
	const char *msg;
	char *w1[] = {"ban_auth_failures", "3"};
	char *w2[] = {"ban_ipv4_prefix", "33"};
	char *w3[] = {"auth_failure_delay", "1", "4"};
	char *w4[] = {"ban_exempt", "none"};
	char *w5[] = {"ban_exempt", "10.0.0.0/8", "::1"};
	char *w6[] = {"hostname", "x"};
	char *w7[] = {"auth_failure_delay", "5", "1"};
	char *w8[] = {"ban_exempt", "example.org"};
	struct net_prefix lo = net("127.0.0.1"), ten = net("10.1.2.3");

	defence_conf_default(&dc);
	CHECK(defence_conf_exempt(&dc, &lo));
	CHECK_INT(defence_conf_directive(&dc, w1, 2, &msg), 1);
	CHECK_INT(dc.ban_auth, 3);
	CHECK_INT(defence_conf_directive(&dc, w2, 2, &msg), -1);
	CHECK_STR(msg, "expects a prefix length from 8 to 32");
	CHECK_INT(defence_conf_directive(&dc, w3, 3, &msg), 1);
	CHECK_INT(dc.auth_delay, 1);
	CHECK_INT(dc.auth_delay_max, 4);
	CHECK_INT(defence_conf_directive(&dc, w7, 3, &msg), -1);
	CHECK_INT(defence_conf_directive(&dc, w4, 2, &msg), 1);
	CHECK(!defence_conf_exempt(&dc, &lo));
	CHECK_INT(defence_conf_directive(&dc, w5, 3, &msg), 1);
	CHECK(defence_conf_exempt(&dc, &ten));
	CHECK_INT(defence_conf_directive(&dc, w6, 2, &msg), 0);
	CHECK_INT(defence_conf_directive(&dc, w8, 2, &msg), -1);
}

int main(void)
{
	struct buf rm = BUF_INIT(256);

	memcpy(test_dir, "/tmp/test_banlist.XXXXXX", sizeof("/tmp/test_banlist.XXXXXX"));
	if (mkdtemp(test_dir) == NULL)
		return 1;
	RUN(test_bans_survive_a_restart_with_their_time_left);
	RUN(test_ban_list_format_is_one_line_per_ban);
	RUN(test_damaged_lines_are_skipped_and_counted);
	RUN(test_a_file_that_is_not_a_ban_list_is_refused_and_a_missing_one_is_empty);
	RUN(test_expired_bans_are_kept_while_remembered_then_dropped);
	RUN(test_defence_directives_are_range_checked);
	{
		const char *names[] = {"bans", "bans.fmt", "bans.bad", "bans.other", "bans.exp"};
		size_t i;
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			path(&rm, names[i]);
			unlink(buf_cstr(&rm));
		}
		rmdir(test_dir);
	}
	buf_free(&rm);
	CHECK_DONE();
}
