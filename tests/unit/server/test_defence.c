/* test_defence.c - the anvil with an invented clock: windows, Dovecot's
 * delays, escalating and forgiven bans, /24 and /64, manual network bans,
 * connection limits, the bounded table, per-account protection, the pregreet
 * cache, key=value lines with untrusted words escaped; and the core's two
 * hooks (the 5xx error hook, a request under way). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>

#include "check.h"
#include "defence.h"
#include "server.h"
#include "serve/smtp_server.h"

#define T0 1000000 /* a monotonic "now" in ms, far from 0 */

static struct buf test_log = BUF_INIT(1 << 20);

static void test_log_line(void *arg, const char *line)
{
	(void)arg;
	buf_adds(&test_log, line);
	buf_addc(&test_log, '\n');
}

static struct defence *mk(struct defence_conf *dc)
{
	struct defence *d = defence_new(dc, 12345);

	buf_reset(&test_log);
	defence_set_log(d, test_log_line, NULL);
	defence_set_wall_offset(d, 1700000000000LL - T0);
	return d;
}

static struct net_prefix host(const char *s)
{
	struct net_prefix n;

	if (net_prefix_parse(s, &n) < 0)
		abort();
	return n;
}

TEST(test_net_parse_masks_and_formats)
{
	struct net_prefix n = host("192.0.2.77/24"), h = host("192.0.2.5"), o = host("192.0.3.5");
	char t[NET_PREFIX_TEXT_MAX];

	net_prefix_format(&n, 0, t, sizeof(t));
	CHECK_STR(t, "192.0.2.0/24");
	CHECK(net_prefix_contains(&n, &h));
	CHECK(!net_prefix_contains(&n, &o));
	CHECK(!net_prefix_contains(&h, &n));
	n = host("2001:db8:1:2:3:4:5:6/64");
	net_prefix_format(&n, 0, t, sizeof(t));
	CHECK_STR(t, "2001:db8:1:2::/64");
	net_prefix_format(&h, 1, t, sizeof(t));
	CHECK_STR(t, "192.0.2.5");
	CHECK(net_prefix_parse("192.0.2.1/33", &n) < 0);
	CHECK(net_prefix_parse("example.org", &n) < 0);
	CHECK(net_prefix_parse("", &n) < 0);
}

TEST(test_net_from_v4_mapped_socket_address_is_ipv4)
{
	struct sockaddr_in6 a;
	struct net_prefix n;
	char t[NET_PREFIX_TEXT_MAX];

	memset(&a, 0, sizeof(a));
	a.sin6_family = AF_INET6;
	inet_pton(AF_INET6, "::ffff:198.51.100.7", &a.sin6_addr);
	CHECK(net_prefix_from_sa((struct sockaddr *)&a, &n) == 0);
	net_prefix_format(&n, 1, t, sizeof(t));
	CHECK_STR(t, "198.51.100.7");
	CHECK_INT(n.family, AF_INET);
}

TEST(test_auth_failures_ban_at_the_threshold)
{
	struct defence_conf dc;
	struct defence *d;
	struct net_prefix a = host("198.51.100.7");
	int i;

	defence_conf_default(&dc);
	d = mk(&dc);
	CHECK_INT(defence_connect(d, &a, T0), DEFENCE_OK);
	for (i = 1; i < 5; i++)
		CHECK(defence_event(d, &a, DEFENCE_AUTH, T0 + i) > 0);
	CHECK(!defence_banned(d, &a, T0 + 5));
	CHECK_INT(defence_event(d, &a, DEFENCE_AUTH, T0 + 5), -1);
	CHECK(defence_banned(d, &a, T0 + 6));
	CHECK_INT(defence_connect(d, &a, T0 + 7), DEFENCE_BANNED);
	CHECK(strstr(buf_cstr(&test_log), "defence: action=ban client=198.51.100.7 "
	                                  "net=198.51.100.7/32 reason=auth-failures count=5/5 "
	                                  "window=600s duration=600s offence=1\n") != NULL);
	CHECK(strstr(buf_cstr(&test_log),
	             "defence: action=refuse client=198.51.100.7 net=198.51.100.7/32 "
	             "reason=banned refused=1\n") != NULL);
	CHECK(!defence_banned(d, &a, T0 + 5 + 600 * 1000));
	defence_free(d);
}

TEST(test_failures_outside_the_window_do_not_add_up)
{
	struct defence_conf dc;
	struct defence *d;
	struct net_prefix a = host("198.51.100.7");
	int i;

	defence_conf_default(&dc);
	d = mk(&dc);
	for (i = 0; i < 4; i++)
		defence_event(d, &a, DEFENCE_AUTH, T0 + i * 1000);
	/* The first failure leaves the 600 s window before the fifth. */
	CHECK(defence_event(d, &a, DEFENCE_AUTH, T0 + 600 * 1000 + 1) > 0);
	CHECK(!defence_banned(d, &a, T0 + 600 * 1000 + 2));
	CHECK_INT(defence_event(d, &a, DEFENCE_AUTH, T0 + 600 * 1000 + 3), -1);
	defence_free(d);
}

TEST(test_auth_delay_doubles_up_to_the_dovecot_maximum)
{
	struct defence_conf dc;
	struct defence *d;
	struct net_prefix a = host("198.51.100.7");

	defence_conf_default(&dc);
	dc.ban_auth = 0; /* never ban: see the whole schedule */
	d = mk(&dc);
	CHECK_INT(defence_event(d, &a, DEFENCE_AUTH, T0), 2000);
	CHECK_INT(defence_event(d, &a, DEFENCE_AUTH, T0 + 1), 4000);
	CHECK_INT(defence_event(d, &a, DEFENCE_AUTH, T0 + 2), 8000);
	CHECK_INT(defence_event(d, &a, DEFENCE_AUTH, T0 + 3), 15000);
	CHECK_INT(defence_event(d, &a, DEFENCE_AUTH, T0 + 4), 15000);
	CHECK(!defence_banned(d, &a, T0 + 5));
	CHECK(strstr(buf_cstr(&test_log), "defence: action=delay client=198.51.100.7 "
	                                  "reason=auth-failure count=2/0 delay_ms=4000\n") != NULL);
	/* Relay attempts and protocol errors are counted, not delayed here. */
	CHECK_INT(defence_event(d, &a, DEFENCE_RELAY, T0 + 6), 0);
	defence_free(d);
}

static void ban_now(struct defence *d, const struct net_prefix *a, int64_t t)
{
	int i;

	for (i = 0; i < 5; i++)
		defence_event(d, a, DEFENCE_AUTH, t + i);
}

TEST(test_repeat_offenders_are_banned_twice_as_long_up_to_the_maximum)
{
	struct defence_conf dc;
	struct defence *d;
	struct net_prefix a = host("198.51.100.7");
	int64_t t = T0;
	long want[] = {600, 1200, 2400, 3000, 3000};
	size_t k;

	defence_conf_default(&dc);
	dc.ban_time_max = 3000;
	d = mk(&dc);
	for (k = 0; k < sizeof(want) / sizeof(want[0]); k++) {
		ban_now(d, &a, t);
		CHECK(defence_banned(d, &a, t + want[k] * 1000 - 1));
		CHECK(!defence_banned(d, &a, t + want[k] * 1000 + 5));
		t += want[k] * 1000 + 10;
	}
	CHECK(strstr(buf_cstr(&test_log), "duration=2400s offence=3") != NULL);
	defence_free(d);
}

TEST(test_offences_are_forgiven_after_ban_memory)
{
	struct defence_conf dc;
	struct defence *d;
	struct net_prefix a = host("198.51.100.7");
	int64_t t = T0;

	defence_conf_default(&dc);
	d = mk(&dc);
	ban_now(d, &a, t);
	t += 600 * 1000 + (int64_t)86400 * 1000 + 2000; /* the ban ended over a day ago */
	ban_now(d, &a, t);
	CHECK(strstr(buf_cstr(&test_log), "duration=600s offence=1\n") != NULL);
	CHECK(strstr(buf_cstr(&test_log), "offence=2") == NULL);
	defence_free(d);
}

TEST(test_ipv4_slash24_aggregation_bans_the_neighbours)
{
	struct defence_conf dc;
	struct defence *d;
	struct net_prefix a = host("203.0.113.5"), b = host("203.0.113.200"),
	                   c = host("203.0.114.1");
	int i;

	defence_conf_default(&dc);
	dc.ipv4_prefix = 24;
	d = mk(&dc);
	/* Five failures spread over the /24 are one client's. */
	for (i = 0; i < 4; i++)
		defence_event(d, i % 2 ? &a : &b, DEFENCE_AUTH, T0 + i);
	CHECK_INT(defence_event(d, &a, DEFENCE_AUTH, T0 + 10), -1);
	CHECK(defence_banned(d, &b, T0 + 11));
	CHECK(!defence_banned(d, &c, T0 + 11));
	CHECK(strstr(buf_cstr(&test_log), "net=203.0.113.0/24") != NULL);
	defence_free(d);
}

TEST(test_ipv6_clients_share_their_slash64)
{
	struct defence_conf dc;
	struct defence *d;
	struct net_prefix a = host("2001:db8:aa:bb::1"), b = host("2001:db8:aa:bb:ffff::9"),
	                   c = host("2001:db8:aa:bc::1");

	defence_conf_default(&dc);
	d = mk(&dc);
	ban_now(d, &a, T0);
	CHECK(defence_banned(d, &b, T0 + 10));
	CHECK(!defence_banned(d, &c, T0 + 10));
	defence_free(d);
}

TEST(test_manual_network_ban_refuses_its_hosts_until_unbanned)
{
	struct defence_conf dc;
	struct defence *d;
	struct net_prefix net = host("192.0.2.0/24"), in = host("192.0.2.99"),
	                   out = host("192.0.3.1");

	defence_conf_default(&dc);
	d = mk(&dc);
	CHECK_INT(defence_ban(d, &net, 0, T0), 0);
	CHECK_INT(defence_connect(d, &in, T0 + 1), DEFENCE_BANNED);
	CHECK_INT(defence_connect(d, &out, T0 + 1), DEFENCE_OK);
	/* Permanent: still there a year later. */
	CHECK(defence_banned(d, &in, T0 + (int64_t)365 * 86400 * 1000));
	CHECK(strstr(buf_cstr(&test_log), "action=ban net=192.0.2.0/24 reason=manual "
	                                  "duration=permanent offence=1") != NULL);
	/* Unbanning one of its hosts lifts the network that covers it. */
	CHECK_INT(defence_unban(d, &in, T0 + 2), 1);
	CHECK_INT(defence_connect(d, &in, T0 + 3), DEFENCE_OK);
	CHECK_INT(defence_unban(d, &in, T0 + 4), 0);
	defence_free(d);
}

TEST(test_ban_generation_changes_with_each_ban)
{
	struct defence_conf dc;
	struct defence *d;
	struct net_prefix a = host("198.51.100.7");
	unsigned g;

	defence_conf_default(&dc);
	d = mk(&dc);
	g = defence_generation(d);
	CHECK(!defence_dirty(d));
	ban_now(d, &a, T0);
	CHECK(defence_generation(d) != g);
	CHECK(defence_dirty(d));
	defence_mark_saved(d);
	CHECK(!defence_dirty(d));
	defence_free(d);
}

TEST(test_connection_limit_per_client)
{
	struct defence_conf dc;
	struct defence *d;
	struct net_prefix a = host("198.51.100.7"), b = host("198.51.100.8");
	int i;

	defence_conf_default(&dc);
	dc.per_client = 3;
	d = mk(&dc);
	for (i = 0; i < 3; i++)
		CHECK_INT(defence_connect(d, &a, T0), DEFENCE_OK);
	CHECK_INT(defence_connect(d, &a, T0), DEFENCE_CLIENT_LIMIT);
	CHECK_INT(defence_connect(d, &b, T0), DEFENCE_OK);
	defence_disconnect(d, &a);
	CHECK_INT(defence_connect(d, &a, T0), DEFENCE_OK);
	CHECK(strstr(buf_cstr(&test_log), "reason=client-limit") != NULL);
	defence_free(d);
}

TEST(test_client_table_stays_bounded_and_keeps_bans_and_connections)
{
	struct defence_conf dc;
	struct defence *d;
	struct net_prefix banned = host("198.51.100.7"), busy = host("198.51.100.8"), a;
	int i;

	defence_conf_default(&dc);
	dc.max_clients = 64;
	d = mk(&dc);
	ban_now(d, &banned, T0);
	CHECK_INT(defence_connect(d, &busy, T0), DEFENCE_OK);
	for (i = 0; i < 20000; i++) {
		memset(&a, 0, sizeof(a));
		a.family = AF_INET;
		a.bits = 32;
		a.addr[0] = 10;
		a.addr[1] = (uint8_t)(i >> 16);
		a.addr[2] = (uint8_t)(i >> 8);
		a.addr[3] = (uint8_t)i;
		defence_connect(d, &a, T0 + i);
		defence_disconnect(d, &a);
		defence_event(d, &a, DEFENCE_ERROR, T0 + i);
	}
	CHECK(defence_clients(d) <= 64);
	CHECK(defence_banned(d, &banned, T0 + 30000));
	/* The busy client's connection is still counted: it can close it. */
	dc.per_client = 1;
	defence_disconnect(d, &busy);
	defence_free(d);
}

TEST(test_account_under_attack_is_throttled_from_unknown_addresses)
{
	struct defence_conf dc;
	struct defence *d;
	struct net_prefix owner = host("192.0.2.10"), bot;
	int i, throttled = 0, checked = 0;

	defence_conf_default(&dc);
	d = mk(&dc);
	/* The owner logged in once from home. */
	defence_user_result(d, "alice", &owner, 1, T0);
	/* A botnet: one failure each from 30 addresses. */
	for (i = 0; i < 30; i++) {
		bot = host("203.0.113.1");
		bot.addr[3] = (uint8_t)(i + 1);
		if (defence_user_check(d, "alice", &bot, T0 + 100 + i) == DEFENCE_USER_THROTTLE) {
			throttled++;
			continue;
		}
		checked++;
		defence_user_result(d, "alice", &bot, 0, T0 + 100 + i);
	}
	/* Ten checked to reach the threshold, then one per 15 s. */
	CHECK_INT(checked, 11);
	CHECK_INT(throttled, 19);
	CHECK(strstr(buf_cstr(&test_log),
	             "action=protect reason=account-under-attack "
	             "failures=10/10 window=600s interval=15s user=alice") != NULL);
	/* The owner's known address is never throttled. */
	CHECK_INT(defence_user_check(d, "alice", &owner, T0 + 200), DEFENCE_USER_OK);
	/* An unknown address gets its turn after the interval. */
	CHECK_INT(defence_user_check(d, "alice", &bot, T0 + 200), DEFENCE_USER_THROTTLE);
	CHECK_INT(defence_user_check(d, "alice", &bot, T0 + 100 + 15000 + 20), DEFENCE_USER_OK);
	/* Another account is not affected. */
	CHECK_INT(defence_user_check(d, "bob", &bot, T0 + 200), DEFENCE_USER_OK);
	/* The attack fades out of the window. */
	CHECK_INT(defence_user_check(d, "alice", &bot, T0 + 700 * 1000), DEFENCE_USER_OK);
	defence_free(d);
}

TEST(test_pregreet_pass_is_remembered_for_a_day)
{
	struct defence_conf dc;
	struct defence *d;
	struct net_prefix a = host("198.51.100.7");

	defence_conf_default(&dc);
	d = mk(&dc);
	CHECK(defence_greet_wanted(d, &a, T0));
	defence_greet_passed(d, &a, T0);
	CHECK(!defence_greet_wanted(d, &a, T0 + 1000));
	CHECK(defence_greet_wanted(d, &a, T0 + (int64_t)86400 * 1000 + 1));
	defence_free(d);
}

TEST(test_user_names_cannot_forge_log_fields)
{
	struct defence_conf dc;
	struct defence *d;
	struct net_prefix a = host("198.51.100.7");
	struct buf w = BUF_INIT(512);
	int i;

	defence_log_word("x client=10.0.0.1 \xff", &w);
	CHECK_STR(buf_cstr(&w), "x%20client%3D10.0.0.1%20%FF");
	buf_reset(&w);
	defence_log_word("", &w);
	CHECK_STR(buf_cstr(&w), "-");
	defence_conf_default(&dc);
	d = mk(&dc);
	for (i = 0; i < 10; i++)
		defence_user_result(d, "evil client=10.0.0.1", &a, 0, T0 + i);
	CHECK(strstr(buf_cstr(&test_log), "user=evil%20client%3D10.0.0.1\n") != NULL);
	CHECK(strstr(buf_cstr(&test_log), " client=10.0.0.1") == NULL);
	defence_free(d);
	buf_free(&w);
}

TEST(test_relay_attempts_and_protocol_errors_have_their_thresholds)
{
	struct defence_conf dc;
	struct defence *d;
	struct net_prefix a = host("198.51.100.7"), b = host("198.51.100.8");
	int i;

	defence_conf_default(&dc);
	d = mk(&dc);
	for (i = 0; i < 4; i++)
		CHECK_INT(defence_event(d, &a, DEFENCE_RELAY, T0 + i), 0);
	CHECK_INT(defence_event(d, &a, DEFENCE_RELAY, T0 + 9), -1);
	for (i = 0; i < 19; i++)
		CHECK_INT(defence_event(d, &b, DEFENCE_ERROR, T0 + i), 0);
	CHECK_INT(defence_event(d, &b, DEFENCE_ERROR, T0 + 99), -1);
	CHECK(strstr(buf_cstr(&test_log), "reason=relay-attempts count=5/5") != NULL);
	CHECK(strstr(buf_cstr(&test_log), "reason=protocol-errors count=20/20") != NULL);
	defence_free(d);
}

TEST(test_stats_summary_counts_decisions)
{
	struct defence_conf dc;
	struct defence *d;
	struct net_prefix a = host("198.51.100.7");
	struct buf b = BUF_INIT(4096);

	defence_conf_default(&dc);
	d = mk(&dc);
	ban_now(d, &a, T0);
	defence_connect(d, &a, T0 + 10);
	defence_stats_text(d, 3, T0 + 20, &b);
	CHECK(strncmp(buf_cstr(&b), "defence: stats sessions=3 ", 26) == 0);
	CHECK(strstr(buf_cstr(&b), " refused_banned=1 ") != NULL);
	CHECK(strstr(buf_cstr(&b), " auth_failures=5 ") != NULL);
	CHECK(strstr(buf_cstr(&b), " delays=4 delay_ms=29000 bans=1 ") != NULL);
	CHECK(strstr(buf_cstr(&b), " bans_active=1 ") != NULL);
	buf_free(&b);
	defence_free(d);
}

static void count_error(void *arg, const char *reply)
{
	buf_adds(arg, reply);
	buf_addc(arg, '\n');
}

static void feed(struct smtp_server *s, const char *text)
{
	smtp_server_feed(s, text, strlen(text));
}

static struct smtp_server *core(struct buf *errors)
{
	struct smtp_server_cfg cfg;
	struct smtp_server_hooks h;

	memset(&cfg, 0, sizeof(cfg));
	memset(&h, 0, sizeof(h));
	cfg.hostname = "mx.example.test";
	smtp_server_limits_default(&cfg.lim);
	cfg.auth_mechs = "";
	h.arg = errors;
	h.error = count_error;
	return smtp_server_new(&cfg, &h);
}

TEST(test_core_says_when_a_request_is_under_way)
{
	struct buf e = BUF_INIT(4096);
	struct smtp_server *s = core(&e);

	smtp_server_greet(s);
	CHECK(!smtp_server_input_pending(s));
	feed(s, "EHLO cl");
	CHECK(smtp_server_input_pending(s)); /* a line begun: slowloris clock runs */
	feed(s, "ient\r\n");
	CHECK(!smtp_server_input_pending(s));
	feed(s, "MAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\nDATA\r\n");
	CHECK(smtp_server_input_pending(s)); /* message data is owed */
	feed(s, "x\r\n.\r\n");
	CHECK(!smtp_server_input_pending(s));
	smtp_server_free(s);
	buf_free(&e);
}

TEST(test_core_reports_each_5xx_to_the_error_hook)
{
	struct buf e = BUF_INIT(4096);
	struct smtp_server *s = core(&e);

	smtp_server_greet(s);
	feed(s, "BOGUS\r\nEHLO x\r\nNOOP\r\nRCPT TO:<a@b.example>\r\n");
	CHECK_STR(buf_cstr(&e), "500 5.5.2 Error: command not recognized\n"
	                        "503 5.5.1 Error: need MAIL command\n");
	smtp_server_free(s);
	buf_free(&e);
}

int main(void)
{
	RUN(test_net_parse_masks_and_formats);
	RUN(test_net_from_v4_mapped_socket_address_is_ipv4);
	RUN(test_auth_failures_ban_at_the_threshold);
	RUN(test_failures_outside_the_window_do_not_add_up);
	RUN(test_auth_delay_doubles_up_to_the_dovecot_maximum);
	RUN(test_repeat_offenders_are_banned_twice_as_long_up_to_the_maximum);
	RUN(test_offences_are_forgiven_after_ban_memory);
	RUN(test_ipv4_slash24_aggregation_bans_the_neighbours);
	RUN(test_ipv6_clients_share_their_slash64);
	RUN(test_manual_network_ban_refuses_its_hosts_until_unbanned);
	RUN(test_ban_generation_changes_with_each_ban);
	RUN(test_connection_limit_per_client);
	RUN(test_client_table_stays_bounded_and_keeps_bans_and_connections);
	RUN(test_account_under_attack_is_throttled_from_unknown_addresses);
	RUN(test_pregreet_pass_is_remembered_for_a_day);
	RUN(test_user_names_cannot_forge_log_fields);
	RUN(test_relay_attempts_and_protocol_errors_have_their_thresholds);
	RUN(test_stats_summary_counts_decisions);
	RUN(test_core_says_when_a_request_is_under_way);
	RUN(test_core_reports_each_5xx_to_the_error_hook);
	buf_free(&test_log);
	CHECK_DONE();
}
