/* test_authres.c - our Authentication-Results field (RFC 8601): the
 * examples' shape, quoting, comments, folding, "none"; and the filter that
 * drops forged fields claiming our authserv-id, fed in every split. */
#include <stdlib.h>

#include "authres.h"
#include "check.h"

TEST(test_authres_compose_spf_dkim_dmarc)
{
	struct buf b = BUF_INIT(4096);
	struct authres_item it[3] = {
	    {"spf", "pass", NULL, {{"smtp.mailfrom", "example.com"}}},
	    {"dkim", "pass", "rsa-sha256", {{"header.d", "example.com"}, {"header.s", "sel1"}}},
	    {"dmarc", "fail", "p=reject dis=reject", {{"header.from", "example.com"}}},
	};

	CHECK_INT(authres_compose(&b, "mx.home.example", it, 3), 0);
	/* folded before a piece that would pass column 78 (a tab counts 8) */
	CHECK_STR(buf_cstr(&b), "Authentication-Results: mx.home.example; spf=pass smtp.mailfrom=example.com;\r\n"
	                        "\tdkim=pass (rsa-sha256) header.d=example.com header.s=sel1;\r\n"
	                        "\tdmarc=fail (p=reject dis=reject) header.from=example.com\r\n");
	buf_reset(&b);
	CHECK_INT(authres_compose(&b, "mx.home.example", NULL, 0), 0);
	CHECK_STR(buf_cstr(&b), "Authentication-Results: mx.home.example; none\r\n");
	buf_free(&b);
}

TEST(test_authres_quotes_values_and_escapes_comments)
{
	struct buf b = BUF_INIT(4096);
	struct authres_item it[1] = {
	    {"spf", "fail", "a (nested) \\ comment\r\n", {{"smtp.mailfrom", "a b\"c@x\x01.example"}}},
	};

	CHECK_INT(authres_compose(&b, "mx", it, 1), 0);
	CHECK_STR(buf_cstr(&b), "Authentication-Results: mx; spf=fail (a \\(nested\\) \\\\ comment?" "?)\r\n"
	                        "\tsmtp.mailfrom=\"a b\\\"c@x?.example\"\r\n");
	buf_free(&b);
}

static const char msg[] =
    "Received: from x by y; Thu, 1 Jan 2026 00:00:00 +0000\r\n"
    "Authentication-Results: MX.HOME.EXAMPLE; spf=pass smtp.mailfrom=forged.example\r\n"
    "Authentication-Results: (a comment)\r\n"
    " mx.home.example; dkim=pass\r\n"
    "Authentication-Results: \"mx.home.example\"; dmarc=pass\r\n"
    "Authentication-Results: mx.other.example; spf=fail\r\n"
    "Authentication-Results: mx.home.example.evil; spf=pass\r\n"
    "X-Authentication-Results: mx.home.example; kept\r\n"
    "Subject: hi\r\n"
    "\r\n"
    "Authentication-Results: mx.home.example; in the body, kept\r\n";

static const char want[] =
    "Received: from x by y; Thu, 1 Jan 2026 00:00:00 +0000\r\n"
    "Authentication-Results: mx.other.example; spf=fail\r\n"
    "Authentication-Results: mx.home.example.evil; spf=pass\r\n"
    "X-Authentication-Results: mx.home.example; kept\r\n"
    "Subject: hi\r\n"
    "\r\n"
    "Authentication-Results: mx.home.example; in the body, kept\r\n";

TEST(test_authres_filter_drops_fields_claiming_our_id_in_any_split)
{
	size_t cut, n = sizeof(msg) - 1;

	for (cut = 0; cut <= n; cut++) {
		struct authres_filter f;
		struct buf out = BUF_INIT(1 << 20);
		authres_filter_init(&f, "mx.home.example");
		CHECK_INT(authres_filter_feed(&f, msg, cut, &out), 0);
		CHECK_INT(authres_filter_feed(&f, msg + cut, n - cut, &out), 0);
		CHECK_INT(authres_filter_end(&f, &out), 0);
		if (strcmp(buf_cstr(&out), want) != 0) {
			CHECK_STR(buf_cstr(&out), want);
			printf("# at cut %zu\n", cut);
			cut = n; /* one report is enough */
		}
		CHECK_INT(f.dropped, 3);
		authres_filter_free(&f);
		buf_free(&out);
	}
}

TEST(test_authres_filter_byte_by_byte_and_without_a_body)
{
	static const char hdr[] = "Authentication-Results: mx; x=y\r\nSubject: s\r\n";
	struct authres_filter f;
	struct buf out = BUF_INIT(4096);
	size_t i;

	authres_filter_init(&f, "mx");
	for (i = 0; i + 1 < sizeof(hdr); i++)
		authres_filter_feed(&f, hdr + i, 1, &out);
	authres_filter_end(&f, &out);
	CHECK_STR(buf_cstr(&out), "Subject: s\r\n");
	authres_filter_free(&f);
	buf_reset(&out);
	/* the last line without its line end is judged too */
	authres_filter_init(&f, "mx");
	authres_filter_feed(&f, "Subject: s\r\nAuthentication-Results: mx; a=b", 42, &out);
	authres_filter_end(&f, &out);
	CHECK_STR(buf_cstr(&out), "Subject: s\r\n");
	authres_filter_free(&f);
	buf_free(&out);
}

int main(void)
{
	RUN(test_authres_compose_spf_dkim_dmarc);
	RUN(test_authres_quotes_values_and_escapes_comments);
	RUN(test_authres_filter_drops_fields_claiming_our_id_in_any_split);
	RUN(test_authres_filter_byte_by_byte_and_without_a_body);
	CHECK_DONE();
}
