/*
 * test_socks5.c - the SOCKS5 handshake bytes and reply parser (socks5.c):
 * RFC 1928's encodings for names, IPv4 and IPv6 targets; replies cut at
 * every length; the proxy's refusals in words and classes.
 */
#include "check.h"
#include "net/socks5.h"

#include <string.h>

TEST(test_socks5_greeting_offers_no_auth_only)
{
	struct buf b = BUF_INIT(64);

	CHECK_INT(socks5_greeting(&b), 0);
	CHECK_INT(b.len, 3);
	CHECK(memcmp(b.data, "\x05\x01\x00", 3) == 0);
	buf_free(&b);
}

TEST(test_socks5_method_reply)
{
	struct cl_err err;

	err_clear(&err);
	CHECK_INT(socks5_parse_method((const unsigned char *)"\x05", 1, &err), 0);
	CHECK_INT(socks5_parse_method((const unsigned char *)"\x05\x00", 2, &err), 2);
	CHECK_INT(socks5_parse_method((const unsigned char *)"\x05\xff", 2, &err), -1);
	CHECK_INT(err.cls, CL_EUNAVAIL);
	CHECK(strstr(err.msg, "authentication") != NULL);
	CHECK_INT(socks5_parse_method((const unsigned char *)"\x04\x00", 2, &err), -1);
	CHECK_INT(err.cls, CL_EPROTO);
}

TEST(test_socks5_connect_request_encodings)
{
	struct buf b = BUF_INIT(512);
	struct cl_err err;
	char long_name[300];

	err_clear(&err);
	CHECK_INT(socks5_connect_request("smtp.example.org", 587, &b, &err), 0);
	CHECK_INT(b.len, 5 + 16 + 2);
	CHECK(memcmp(b.data, "\x05\x01\x00\x03\x10smtp.example.org\x02\x4b", b.len) == 0);
	buf_reset(&b);
	CHECK_INT(socks5_connect_request("192.0.2.7", 465, &b, &err), 0);
	CHECK(b.len == 10 && memcmp(b.data, "\x05\x01\x00\x01\xc0\x00\x02\x07\x01\xd1", 10) == 0);
	buf_reset(&b);
	CHECK_INT(socks5_connect_request("::1", 25, &b, &err), 0);
	CHECK(b.len == 22 && b.data[3] == 4 && b.data[19] == 1 && b.data[21] == 25);
	buf_reset(&b);
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	CHECK_INT(socks5_connect_request(long_name, 25, &b, &err), -1);
	CHECK_INT(err.cls, CL_EUSAGE);
	CHECK_INT(socks5_connect_request("x", 0, &b, &err), -1);
	buf_free(&b);
}

TEST(test_socks5_reply_complete_only_when_whole)
{
	static const unsigned char v4[] = {5, 0, 0, 1, 127, 0, 0, 1, 0x04, 0x38, 'E'};
	static const unsigned char nm[] = {5, 0, 0, 3, 3, 'a', 'b', 'c', 0, 25};
	struct cl_err err;
	size_t i;

	err_clear(&err);
	for (i = 0; i < 10; i++)
		CHECK_INT(socks5_parse_reply(v4, i, &err), 0);
	/* The SMTP greeting may follow in the same read: not consumed. */
	CHECK_INT(socks5_parse_reply(v4, sizeof(v4), &err), 10);
	for (i = 0; i < sizeof(nm); i++)
		CHECK_INT(socks5_parse_reply(nm, i, &err), 0);
	CHECK_INT(socks5_parse_reply(nm, sizeof(nm), &err), (int)sizeof(nm));
}

TEST(test_socks5_refusals_name_the_reason)
{
	struct cl_err err;

	err_clear(&err);
	CHECK_INT(socks5_parse_reply((const unsigned char *)"\x05\x05", 2, &err), -1);
	CHECK_INT(err.cls, CL_ETEMP);
	CHECK(strstr(err.msg, "connection refused") != NULL);
	CHECK_INT(socks5_parse_reply((const unsigned char *)"\x05\x02", 2, &err), -1);
	CHECK_INT(err.cls, CL_EUNAVAIL);
	CHECK(strstr(err.msg, "not allowed") != NULL);
	CHECK_INT(socks5_parse_reply((const unsigned char *)"\x05\x04", 2, &err), -1);
	CHECK_INT(err.cls, CL_ENOHOST);
	CHECK_INT(socks5_parse_reply((const unsigned char *)"\x05\x00\x00\x09\x00", 5, &err), -1);
	CHECK_INT(err.cls, CL_EPROTO);
	CHECK_INT(socks5_parse_reply((const unsigned char *)"\x05\x7f", 2, &err), -1);
	CHECK(strstr(err.msg, "unknown") != NULL);
}

int main(void)
{
	RUN(test_socks5_greeting_offers_no_auth_only);
	RUN(test_socks5_method_reply);
	RUN(test_socks5_connect_request_encodings);
	RUN(test_socks5_reply_complete_only_when_whole);
	RUN(test_socks5_refusals_name_the_reason);
	CHECK_DONE();
}
