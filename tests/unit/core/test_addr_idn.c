/* test_addr_idn.c - internationalised addresses: non-ASCII domains as
 * A-labels for a server without SMTPUTF8, left as they are (with SMTPUTF8
 * asked for) when it has it, and a non-ASCII local part refused without
 * it, before anything is sent. */
#include "smtp/addr_idn.h"
#include "engine/smtp_envelope.h"
#include "check.h"

TEST(test_addr_idn_domain_becomes_a_labels)
{
	struct buf b = BUF_INIT(1024);
	struct cl_err err;

	CHECK(addr_idn_ascii("info@例え.jp", &b, "recipient", "mx", &err) == 0);
	CHECK_STR(buf_cstr(&b), "info@xn--r8jz45g.jp");
	buf_reset(&b);
	CHECK(addr_idn_ascii("a@Bücher.example", &b, "recipient", "mx", &err) == 0);
	CHECK_STR(buf_cstr(&b), "a@xn--bcher-kva.example");
	buf_reset(&b);
	CHECK(addr_idn_ascii("plain@example.com", &b, "recipient", "mx", &err) == 0);
	CHECK_STR(buf_cstr(&b), "plain@example.com");
	buf_reset(&b);
	CHECK(addr_idn_ascii("\"a@b\"@[192.0.2.1]", &b, "recipient", "mx", &err) == 0);
	CHECK_STR(buf_cstr(&b), "\"a@b\"@[192.0.2.1]");
	buf_reset(&b);
	CHECK(addr_idn_ascii("x@\xcc\x81"
	                     "a.example",
	                     &b, "recipient", "mx", &err) == -1);
	CHECK_INT(err.cls, CL_EDATA);
	buf_free(&b);
}

TEST(test_addr_idn_non_ascii_local_part_refused_without_smtputf8)
{
	struct buf b = BUF_INIT(1024);
	struct cl_err err;

	CHECK(addr_idn_ascii("ユーザー@例え.jp", &b, "recipient", "smtp.example.com", &err) == -1);
	CHECK_INT(err.cls, CL_EUNAVAIL);
	CHECK_STR(err.msg, "recipient <ユーザー@例え.jp>: the local part is not ASCII and "
	                   "smtp.example.com does not offer SMTPUTF8 (RFC 6531); nothing was sent");
	buf_free(&b);
}

TEST(test_addr_idn_envelope_for_servers_with_and_without_smtputf8)
{
	static const char *const rcpts[] = {"a@例え.jp", "b@example.com"};
	static const char *const bad[] = {"ok@example.com", "ユーザー@example.com"};
	struct smtp_message m;
	struct addr_idn_env env;
	struct cl_err err;

	memset(&m, 0, sizeof(m));
	m.from = "sender@送信.example";
	m.rcpts = rcpts;
	m.nrcpt = 2;
	CHECK(addr_idn_envelope(&m, 0, "mx", &env, &err) == 0);
	CHECK_STR(env.m.from, "sender@xn--vuq367m.example");
	CHECK_STR(env.m.rcpts[0], "a@xn--r8jz45g.jp");
	CHECK_STR(env.m.rcpts[1], "b@example.com");
	CHECK_INT(env.m.smtputf8, 0);
	addr_idn_env_free(&env);
	CHECK(addr_idn_envelope(&m, 1, "mx", &env, &err) == 0);
	CHECK_STR(env.m.rcpts[0], "a@例え.jp");
	CHECK_INT(env.m.smtputf8, 1);
	addr_idn_env_free(&env);
	m.rcpts = bad;
	CHECK(addr_idn_envelope(&m, 0, "mx", &env, &err) == -1);
	CHECK(strstr(err.msg, "recipient <ユーザー@example.com>: the local part is not ASCII") !=
	      NULL);
	addr_idn_env_free(&env);
	m.from = "";
	m.rcpts = rcpts;
	CHECK(addr_idn_envelope(&m, 0, "mx", &env, &err) == 0);
	CHECK_STR(env.m.from, "");
	addr_idn_env_free(&env);
}

int main(void)
{
	RUN(test_addr_idn_domain_becomes_a_labels);
	RUN(test_addr_idn_non_ascii_local_part_refused_without_smtputf8);
	RUN(test_addr_idn_envelope_for_servers_with_and_without_smtputf8);
	CHECK_DONE();
}
