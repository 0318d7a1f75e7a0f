/*
 * test_addr.c - checks on what goes on the wire: header text lines, envelope
 * addresses (normal, quoted, UTF-8, postmaster, and every way to break out of
 * "<...>"), the -N display argument, address lists, and fixed-seed random
 * property tests.
 */
#include "smtp/addr.h"
#include "check.h"
#include "testutil.h"

#include <stdint.h>
#include <strings.h>

static int accepts(const char *a)
{
	struct cl_err err;

	err_clear(&err);
	if (addr_check(a, "recipient", 0, &err) == 0)
		return 1;
	printf("# refused '%s': %s\n", a, err.msg);
	return 0;
}

/* Refused, with a CL_EDATA message containing why. */
static int refuses(const char *a, const char *why)
{
	struct cl_err err;

	err_clear(&err);
	if (addr_check(a, "recipient", 0, &err) == 0) {
		printf("# accepted '%s'\n", a);
		return 0;
	}
	if (err.cls != CL_EDATA || strstr(err.msg, why) == NULL) {
		printf("# '%s': class %d, message '%s', wanted '%s'\n", a, err.cls, err.msg, why);
		return 0;
	}
	return 1;
}

TEST(test_text_line_accepts_tabs_and_utf8)
{
	struct cl_err err;

	CHECK_INT(text_check_line("clsmtpc test mail", "subject", &err), 0);
	CHECK_INT(text_check_line("a\tb", "subject", &err), 0);
	CHECK_INT(text_check_line("テスト \xf0\x9f\x93\xa7", "subject", &err), 0);
	CHECK_INT(text_check_line("", "subject", &err), 0);
	CHECK_INT(text_check_line(NULL, "subject", &err), 0);
}

TEST(test_text_line_refuses_cr_lf_and_controls)
{
	struct cl_err err;

	err_clear(&err);
	CHECK_INT(text_check_line("hi\r\nBcc: victim@example.com", "subject", &err), -1);
	CHECK_INT(err.cls, CL_EDATA);
	CHECK_STR(err.msg, "subject: carriage return (CR) at byte 3");
	CHECK_INT(text_check_line("a\nb", "-H header", &err), -1);
	CHECK_STR(err.msg, "-H header: line feed (LF) at byte 2");
	CHECK_INT(text_check_line("\x1b[2J", "subject", &err), -1);
	CHECK_STR(err.msg, "subject: control character 0x1b at byte 1");
	CHECK_INT(text_check_line("x\x7f", "subject", &err), 0); /* DEL is not C0 */
}

TEST(test_addr_accepts_normal_addresses)
{
	CHECK(accepts("64L114@mail.example.ac.jp"));
	CHECK(accepts("nobody@example.com"));
	CHECK(accepts("user+tag@example.com"));
	CHECK(accepts("first.last@sub.example.co.jp"));
	CHECK(accepts("a!#$%&'*/=?^_`{|}~-@example.com"));
	CHECK(accepts("x@localhost"));
	CHECK(accepts("user%other@example.com")); /* relay policy is the server's */
}

TEST(test_addr_accepts_quoted_local_parts)
{
	CHECK(accepts("\"john doe\"@example.com"));
	CHECK(accepts("\"a<b>c\"@example.com"));
	CHECK(accepts("\"a\\\"b\"@example.com"));
	CHECK(accepts("\"a\\\\\"@example.com"));
	CHECK(accepts("\"user@other\"@example.com"));
	CHECK(accepts("\"a,b:c\"@example.com"));
}

TEST(test_addr_accepts_old_docomo_dots)
{
	CHECK(accepts("taro..yamada.@docomo.ne.jp"));
	CHECK(accepts("taro.@ezweb.ne.jp"));
}

TEST(test_addr_accepts_utf8_local_parts_and_domains)
{
	CHECK(accepts("user@bücher.example"));
	CHECK(accepts("ユーザー@例え.jp"));
	CHECK(accepts("用户@例子.广告"));
	CHECK(accepts("\xf0\x9f\x93\xa7@example.com"));
	CHECK(!addr_is_8bit("user@example.com"));
	CHECK(addr_is_8bit("user@bücher.example"));
	CHECK(addr_is_8bit("ユーザー@example.jp"));
	CHECK(!addr_is_8bit(""));
}

TEST(test_addr_accepts_address_literals)
{
	CHECK(accepts("user@[192.0.2.1]"));
	CHECK(accepts("user@[IPv6:2001:db8::1]"));
	CHECK(refuses("user@[192.0.2.1", "address literal"));
	CHECK(refuses("user@[]", "address literal"));
	CHECK(refuses("user@[1.2.3.4]x", "address literal"));
	CHECK(refuses("user@[1.2.3.4 ]", "address literal"));
}

TEST(test_addr_accepts_postmaster_without_domain)
{
	CHECK(accepts("postmaster"));
	CHECK(accepts("Postmaster"));
	CHECK(accepts("POSTMASTER"));
	CHECK(refuses("postmasters", "no '@'"));
	CHECK(refuses("nobody", "no '@'"));
}

TEST(test_addr_null_sender_only_when_allowed)
{
	struct cl_err err;

	CHECK_INT(addr_check("", "sender", 1, &err), 0);
	CHECK_INT(addr_check(NULL, "sender", 1, &err), 0);
	err_clear(&err);
	CHECK_INT(addr_check("", "recipient", 0, &err), -1);
	CHECK_INT(err.cls, CL_EDATA);
	CHECK_STR(err.msg, "recipient: empty address");
}

TEST(test_addr_refuses_cr_lf_command_injection)
{
	CHECK(refuses("a@b.example\r\nRCPT TO:<victim@example.com>", "carriage return"));
	CHECK(refuses("a@b.example\nDATA", "line feed"));
	CHECK(refuses("\"a\r\nb\"@example.com", "carriage return"));
	CHECK(refuses("a@example.com\r", "carriage return"));
}

TEST(test_addr_refuses_other_controls)
{
	CHECK(refuses("a\x01@example.com", "control character"));
	CHECK(refuses("a\t@example.com", "control character"));
	CHECK(refuses("a@example.com\x7f", "control character"));
	CHECK(refuses("\"a\x1b\"@example.com", "control character"));
}

TEST(test_addr_refuses_space_outside_quotes_naming_the_field)
{
	struct cl_err err;

	err_clear(&err);
	CHECK_INT(addr_check("a b@c", "recipient", 0, &err), -1);
	CHECK_INT(err.cls, CL_EDATA);
	CHECK_STR(err.msg, "recipient 'a b@c': space outside quotes");
	CHECK_INT(addr_check("a@b c", "sender", 0, &err), -1);
	CHECK_STR(err.msg, "sender 'a@b c': space outside quotes");
	CHECK(refuses(" a@b", "space outside quotes"));
	CHECK(refuses("a@b ", "space outside quotes"));
}

TEST(test_addr_refuses_angle_brackets_outside_quotes)
{
	CHECK(refuses("<a@example.com>", "'<' outside quotes"));
	CHECK(refuses("a>@example.com", "'>' outside quotes"));
	CHECK(refuses("a@example.com>", "'>' outside quotes"));
	CHECK(refuses("a@example.com> SIZE=1", "outside quotes"));
	CHECK(refuses("Name <a@example.com>", "outside quotes"));
}

TEST(test_addr_refuses_empty_local_part_or_domain)
{
	CHECK(refuses("@example.com", "leading '@'"));
	CHECK(refuses("a@", "empty domain"));
	CHECK(refuses("\"\"@example.com", "empty local part"));
	CHECK(refuses("@", "leading '@'"));
}

TEST(test_addr_refuses_more_than_one_unquoted_at)
{
	CHECK(refuses("a@b@c", "more than one '@'"));
	CHECK(refuses("user@other@example.com", "more than one '@'"));
	CHECK(refuses("a@@example.com", "more than one '@'"));
}

TEST(test_addr_refuses_source_routes)
{
	CHECK(refuses("@a:b@c", "source route"));
	CHECK(refuses("@relay.example,@other.example:user@example.com", "source route"));
}

TEST(test_addr_refuses_bad_domains)
{
	CHECK(refuses("a@.example.com", "empty label"));
	CHECK(refuses("a@example..com", "empty label"));
	CHECK(refuses("a@example.com.", "empty label"));
	CHECK(refuses("a@exa_mple.com", "not allowed in a domain"));
	CHECK(refuses("a@exa:mple.com", "not allowed in a domain"));
	CHECK(refuses("a@example.com,b@example.com", "not allowed in a domain"));
	CHECK(refuses("a@\"example\".com", "'\"'"));
}

TEST(test_addr_refuses_bad_quoting)
{
	CHECK(refuses("\"abc@example.com", "unterminated quoted string"));
	CHECK(refuses("\"abc\\\"@example.com", "unterminated quoted string"));
	CHECK(refuses("\"a\"b@example.com", "text after the quoted local part"));
	CHECK(refuses("\"a\"", "no '@'"));
	CHECK(refuses("a\"b\"@example.com", "'\"'"));
	CHECK(refuses("a\\b@example.com", "backslash"));
	CHECK(refuses("a,b@example.com", "not allowed outside quotes"));
	CHECK(refuses("a:b@example.com", "not allowed outside quotes"));
}

TEST(test_addr_refuses_invalid_utf8)
{
	CHECK(refuses("\xff@example.com", "UTF-8"));
	CHECK(refuses("a@example.\xc3", "UTF-8"));
	CHECK(refuses("\xc0\xaf@example.com", "UTF-8"));     /* overlong "/" */
	CHECK(refuses("\xed\xa0\x80@example.com", "UTF-8")); /* surrogate */
	CHECK(refuses("\xf4\x90\x80\x80@example.com", "UTF-8"));
	CHECK(refuses("\xe3\x81@example.com", "UTF-8"));
}

TEST(test_addr_length_limit)
{
	char a[ADDR_MAX + 2];
	struct cl_err err;

	memset(a, 'a', sizeof(a));
	memcpy(a + ADDR_MAX - 12, "@example.com", 12);
	a[ADDR_MAX] = '\0';
	CHECK(accepts(a));
	memset(a, 'a', sizeof(a));
	memcpy(a + ADDR_MAX + 1 - 12, "@example.com", 12);
	a[ADDR_MAX + 1] = '\0';
	CHECK(refuses(a, "too long"));
	/* The message shows a cut address, not all of it. */
	err_clear(&err);
	CHECK_INT(addr_check(a, "recipient", 0, &err), -1);
	CHECK(strlen(err.msg) < 150);
	CHECK(strstr(err.msg, "...") != NULL);
}

static int parse(const char *in, const char *want_name, const char *want_addr)
{
	struct buf name = BUF_INIT(1024), addr = BUF_INIT(1024);
	struct cl_err err;
	int ok;

	err_clear(&err);
	ok = addr_parse_display(in, &name, &addr, &err) == 0 &&
	     strcmp(buf_cstr(&name), want_name) == 0 && strcmp(buf_cstr(&addr), want_addr) == 0;
	if (!ok)
		printf("# '%s' -> name '%s' addr '%s' (%s)\n", in, buf_cstr(&name), buf_cstr(&addr),
		       err.msg);
	buf_free(&name);
	buf_free(&addr);
	return ok;
}

static int parse_fails(const char *in, const char *why)
{
	struct buf name = BUF_INIT(1024), addr = BUF_INIT(1024);
	struct cl_err err;
	int ok;

	err_clear(&err);
	ok = addr_parse_display(in, &name, &addr, &err) == -1 && err.cls == CL_EDATA &&
	     strstr(err.msg, why) != NULL;
	if (!ok)
		printf("# '%s': class %d '%s', wanted '%s'\n", in, err.cls, err.msg, why);
	buf_free(&name);
	buf_free(&addr);
	return ok;
}

TEST(test_display_name_and_address)
{
	CHECK(parse("Taro Yamada <taro@example.com>", "Taro Yamada", "taro@example.com"));
	CHECK(parse("Taro Yamada<taro@example.com>", "Taro Yamada", "taro@example.com"));
	CHECK(parse("  Taro   <  taro@example.com  >  ", "Taro", "taro@example.com"));
	CHECK(parse("\"Yamada, Taro\" <taro@example.com>", "Yamada, Taro", "taro@example.com"));
	CHECK(parse("\"A <b@c>\" <c@d.example>", "A <b@c>", "c@d.example"));
	CHECK(parse("\"a \\\"b\\\" c\" <x@example.com>", "a \"b\" c", "x@example.com"));
	CHECK(parse("\"Yamada\" Taro <x@example.com>", "Yamada Taro", "x@example.com"));
	CHECK(parse("Name <\"john doe\"@example.com>", "Name", "\"john doe\"@example.com"));
}

TEST(test_display_address_only)
{
	CHECK(parse("<taro@example.com>", "", "taro@example.com"));
	CHECK(parse("taro@example.com", "", "taro@example.com"));
	CHECK(parse("  taro@example.com ", "", "taro@example.com"));
}

TEST(test_display_name_only)
{
	CHECK(parse("Taro Yamada", "Taro Yamada", ""));
	CHECK(parse("\"Taro @ home\"", "Taro @ home", ""));
	CHECK(parse("", "", ""));
	CHECK(parse("   ", "", ""));
}

TEST(test_display_utf8_names)
{
	CHECK(parse("山田 太郎 <taro@example.jp>", "山田 太郎", "taro@example.jp"));
	CHECK(parse("監視サーバ", "監視サーバ", ""));
	CHECK(parse("\"Ünïcödé, Ñame\" <u@bücher.example>", "Ünïcödé, Ñame", "u@bücher.example"));
}

TEST(test_display_refuses_injection_and_bad_brackets)
{
	CHECK(parse_fails("Name\r\nBcc: victim@example.com <a@example.com>", "carriage return"));
	CHECK(parse_fails("Name <a@example.com>\n", "line feed"));
	CHECK(parse_fails("Name <a@example.com", "'<' without '>'"));
	CHECK(parse_fails("Name a@example.com>", "'>' without '<'"));
	CHECK(parse_fails("Name <a@example.com> trailing", "text after '>'"));
	CHECK(parse_fails("A <b@example.com> <c@example.com>", "text after '>'"));
	CHECK(parse_fails("A <b@<c@example.com>>", "more than one '<'"));
	CHECK(parse_fails("\"unterminated <a@example.com>", "unterminated"));
	CHECK(parse_fails("Name <>", "empty address"));
	CHECK(parse_fails("Name < >", "empty address"));
}

struct collected {
	char items[8][64];
	int n;
	int stop_after;
};

static int collect(void *arg, const char *a)
{
	struct collected *c = arg;

	if (c->n < 8) {
		size_t len = strlen(a);
		if (len > 63)
			len = 63;
		memcpy(c->items[c->n], a, len);
		c->items[c->n][len] = '\0';
	}
	c->n++;
	return c->stop_after && c->n >= c->stop_after ? -1 : 0;
}

TEST(test_split_list_on_commas_outside_quotes_and_brackets)
{
	struct collected c;

	memset(&c, 0, sizeof(c));
	CHECK_INT(addr_split_list("a@x.example, b@y.example", collect, &c), 0);
	CHECK_INT(c.n, 2);
	CHECK_STR(c.items[0], "a@x.example");
	CHECK_STR(c.items[1], "b@y.example");

	memset(&c, 0, sizeof(c));
	CHECK_INT(addr_split_list("\"Doe, John\" <j@x.example>,k@y.example", collect, &c), 0);
	CHECK_INT(c.n, 2);
	CHECK_STR(c.items[0], "\"Doe, John\" <j@x.example>");
	CHECK_STR(c.items[1], "k@y.example");

	memset(&c, 0, sizeof(c));
	CHECK_INT(addr_split_list("<\"a,b\"@x.example>, \"x\\\",y\"@z.example", collect, &c), 0);
	CHECK_INT(c.n, 2);
	CHECK_STR(c.items[0], "<\"a,b\"@x.example>");
	CHECK_STR(c.items[1], "\"x\\\",y\"@z.example");
}

TEST(test_split_list_skips_empty_elements)
{
	struct collected c;

	memset(&c, 0, sizeof(c));
	CHECK_INT(addr_split_list(" , a@x.example,,\t, ", collect, &c), 0);
	CHECK_INT(c.n, 1);
	CHECK_STR(c.items[0], "a@x.example");
	memset(&c, 0, sizeof(c));
	CHECK_INT(addr_split_list("", collect, &c), 0);
	CHECK_INT(addr_split_list(NULL, collect, &c), 0);
	CHECK_INT(c.n, 0);
}

TEST(test_split_list_stops_when_the_callback_fails)
{
	struct collected c;

	memset(&c, 0, sizeof(c));
	c.stop_after = 2;
	CHECK_INT(addr_split_list("a@x, b@y, c@z", collect, &c), -1);
	CHECK_INT(c.n, 2);
}

TEST_RNG(rng, 0x0123456789abcdefull)

static void random_text(char *out, size_t max)
{
	static const char alpha[] = "ab@@..\"\\<> ,:[]\r\n\t\x01\x7f\xc3\xa4\xe3\x81\x82\xff-+_";
	size_t n = rng() % (rng() % 8 == 0 ? max : 24), i;

	for (i = 0; i < n; i++)
		out[i] = rng() % 5 ? alpha[rng() % (sizeof(alpha) - 1)] : (char)(1 + rng() % 255);
	out[n] = '\0';
	/* Often start from something valid and damage it a little. */
	if (rng() % 4 == 0 && n < max - 20) {
		memmove(out + 8, out, n + 1);
		memcpy(out, "a@b.exam", 8);
	}
}

/* What addr_check promises for an accepted address, checked independently:
 * nothing that could end "<...>" or the command line outside the quotes. */
static int accepted_is_safe(const char *a)
{
	size_t i, n = strlen(a), qend = 0;

	if (n == 0 || n > ADDR_MAX || a[0] == '@')
		return 0;
	if (a[0] == '"') {
		for (qend = 1; qend < n && a[qend] != '"'; qend++)
			if (a[qend] == '\\' && qend + 1 < n)
				qend++;
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)a[i];
		if (c < 0x20 || c == 0x7f)
			return 0;
		if ((c == ' ' || c == '<' || c == '>' || c == ',') && i > qend)
			return 0;
	}
	return strchr(a + (qend ? qend : 0), '@') != NULL || strcasecmp(a, "postmaster") == 0;
}

static int has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

TEST(test_addr_random_input_keeps_the_invariants)
{
	char in[400] = "";
	struct cl_err err;
	int i, rc, accepted = 0;

	for (i = 0; i < 50000; i++) {
		random_text(in, sizeof(in) - 10);
		err_clear(&err);
		rc = addr_check(in, "recipient", rng() % 2, &err);
		CHECK(rc == 0 || rc == -1);
		if (rc == 0) {
			accepted++;
			CHECK(in[0] == '\0' || accepted_is_safe(in));
			CHECK_INT(err.cls, CL_OK);
		} else {
			CHECK_INT(err.cls, CL_EDATA);
			CHECK(strncmp(err.msg, "recipient", 9) == 0);
			CHECK(!has_control(err.msg));
		}
		if (check_failed_now) {
			printf("# failed at iteration %d on '%s'\n", i, in);
			break;
		}
	}
	printf("# %d of 50000 random addresses accepted\n", accepted);
	/* The generator must reach both sides for the test to mean anything. */
	CHECK(accepted > 100);
	CHECK(accepted < 45000);
}

static int collect_check(void *arg, const char *a)
{
	size_t *total = arg, n = strlen(a);

	*total += n;
	if (n == 0 || a[0] == ' ' || a[0] == '\t' || a[n - 1] == ' ' || a[n - 1] == '\t')
		return -1;
	return 0;
}

TEST(test_display_and_list_random_input_keep_the_invariants)
{
	char in[400] = "";
	struct buf name = BUF_INIT(512), addr = BUF_INIT(512);
	struct cl_err err;
	int i, rc;
	size_t total;

	for (i = 0; i < 30000; i++) {
		random_text(in, sizeof(in) - 10);
		err_clear(&err);
		rc = addr_parse_display(in, &name, &addr, &err);
		CHECK(rc == 0 || rc == -1);
		if (rc == 0) {
			CHECK(strpbrk(buf_cstr(&name), "\r\n") == NULL);
			CHECK(strpbrk(buf_cstr(&addr), "\r\n") == NULL);
			CHECK(name.len + addr.len <= strlen(in));
		} else {
			CHECK_INT(err.cls, CL_EDATA);
			CHECK(!has_control(err.msg));
		}
		total = 0;
		CHECK_INT(addr_split_list(in, collect_check, &total), 0);
		CHECK(total <= strlen(in));
		if (check_failed_now) {
			printf("# failed at iteration %d on '%s'\n", i, in);
			break;
		}
	}
	buf_free(&name);
	buf_free(&addr);
}

int main(void)
{
	RUN(test_text_line_accepts_tabs_and_utf8);
	RUN(test_text_line_refuses_cr_lf_and_controls);
	RUN(test_addr_accepts_normal_addresses);
	RUN(test_addr_accepts_quoted_local_parts);
	RUN(test_addr_accepts_old_docomo_dots);
	RUN(test_addr_accepts_utf8_local_parts_and_domains);
	RUN(test_addr_accepts_address_literals);
	RUN(test_addr_accepts_postmaster_without_domain);
	RUN(test_addr_null_sender_only_when_allowed);
	RUN(test_addr_refuses_cr_lf_command_injection);
	RUN(test_addr_refuses_other_controls);
	RUN(test_addr_refuses_space_outside_quotes_naming_the_field);
	RUN(test_addr_refuses_angle_brackets_outside_quotes);
	RUN(test_addr_refuses_empty_local_part_or_domain);
	RUN(test_addr_refuses_more_than_one_unquoted_at);
	RUN(test_addr_refuses_source_routes);
	RUN(test_addr_refuses_bad_domains);
	RUN(test_addr_refuses_bad_quoting);
	RUN(test_addr_refuses_invalid_utf8);
	RUN(test_addr_length_limit);
	RUN(test_display_name_and_address);
	RUN(test_display_address_only);
	RUN(test_display_name_only);
	RUN(test_display_utf8_names);
	RUN(test_display_refuses_injection_and_bad_brackets);
	RUN(test_split_list_on_commas_outside_quotes_and_brackets);
	RUN(test_split_list_skips_empty_elements);
	RUN(test_split_list_stops_when_the_callback_fails);
	RUN(test_addr_random_input_keeps_the_invariants);
	RUN(test_display_and_list_random_input_keep_the_invariants);
	CHECK_DONE();
}
