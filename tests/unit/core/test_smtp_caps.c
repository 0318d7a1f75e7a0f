/*
 * test_smtp_caps.c - the EHLO capability parser on the real replies of the
 * seed article's servers (Postfix, qmail at Yahoo! BB, goo, docomo) and a
 * Gmail-like one, the AUTH/AUTH= union, SIZE forms, bounds, and a fixed-seed
 * random property test.
 */
#include "check.h"
#include "testutil.h"
#include "smtp/smtp_caps.h"

#include <stdint.h>

static int feed_all(struct smtp_reply *r, const char *const *lines, size_t n)
{
	struct cl_err err;
	size_t i;
	int rc = 0;

	smtp_reply_reset(r);
	for (i = 0; i < n; i++) {
		rc = smtp_reply_feed(r, lines[i], strlen(lines[i]), &err);
		if (rc != 0)
			break;
	}
	return rc;
}

/* Parse an EHLO reply given as its lines into caps; 1 if the reply was
 * complete. */
#define EHLO(caps, ...)                                                                            \
	ehlo_parse((caps), (const char *const[]){__VA_ARGS__},                                     \
	           sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *))

static int ehlo_parse(struct smtp_caps *caps, const char *const *lines, size_t n)
{
	struct smtp_reply r;
	int rc;

	smtp_reply_init(&r);
	rc = feed_all(&r, lines, n);
	smtp_caps_parse(caps, &r);
	smtp_reply_free(&r);
	return rc;
}

TEST(test_caps_postfix_rita_karing)
{
	struct smtp_caps c;

	CHECK_INT(EHLO(&c, "250-rita.karing.jp", "250-PIPELINING", "250-SIZE 10240000", "250-VRFY",
	               "250-ETRN", "250-STARTTLS", "250-AUTH LOGIN PLAIN DIGEST-MD5 CRAM-MD5",
	               "250-ENHANCEDSTATUSCODES", "250-8BITMIME", "250 DSN"),
	          1);
	CHECK_STR(c.server_name, "rita.karing.jp");
	CHECK_INT(c.flags, CAP_PIPELINING | CAP_SIZE | CAP_STARTTLS | CAP_AUTH |
	                       CAP_ENHANCEDSTATUSCODES | CAP_8BITMIME | CAP_DSN);
	CHECK_INT(c.size_max, 10240000);
	CHECK_STR(c.auth, "LOGIN PLAIN DIGEST-MD5 CRAM-MD5");
	CHECK(smtp_caps_has_auth(&c, "DIGEST-MD5"));
	CHECK(smtp_caps_has_auth(&c, "cram-md5"));
	CHECK(!smtp_caps_has_auth(&c, "SCRAM-SHA-256"));
}

TEST(test_caps_qmail_yahoo_without_starttls)
{
	struct smtp_caps c;

	CHECK_INT(EHLO(&c, "250-ybbsmtp6001.mail.ssk.ynwp.yahoo.co.jp",
	               "250-AUTH LOGIN PLAIN XYMCOOKIE", "250-PIPELINING", "250 8BITMIME"),
	          1);
	CHECK_STR(c.server_name, "ybbsmtp6001.mail.ssk.ynwp.yahoo.co.jp");
	CHECK_INT(c.flags, CAP_AUTH | CAP_PIPELINING | CAP_8BITMIME);
	CHECK_STR(c.auth, "LOGIN PLAIN XYMCOOKIE");
	CHECK_INT(c.size_max, 0);
}

TEST(test_caps_goo_auth_and_auth_equals_are_one_list)
{
	struct smtp_caps c;

	CHECK_INT(EHLO(&c, "250-smtp.mail.goo.jp", "250-SIZE 104857600", "250-STARTTLS",
	               "250-AUTH LOGIN PLAIN", "250-AUTH=LOGIN PLAIN", "250 ENHANCEDSTATUSCODES"),
	          1);
	CHECK_STR(c.server_name, "smtp.mail.goo.jp");
	CHECK_INT(c.flags, CAP_SIZE | CAP_STARTTLS | CAP_AUTH | CAP_ENHANCEDSTATUSCODES);
	CHECK_INT(c.size_max, 104857600);
	CHECK_STR(c.auth, "LOGIN PLAIN");
}

TEST(test_caps_docomo_with_auth_equals)
{
	struct smtp_caps c;

	CHECK_INT(EHLO(&c, "250-docomo.ne.jp", "250-AUTH LOGIN PLAIN", "250-AUTH=LOGIN PLAIN",
	               "250-SIZE 15727616", "250 8BITMIME"),
	          1);
	CHECK_STR(c.server_name, "docomo.ne.jp");
	CHECK_INT(c.flags, CAP_AUTH | CAP_SIZE | CAP_8BITMIME);
	CHECK_INT(c.size_max, 15727616);
	CHECK_STR(c.auth, "LOGIN PLAIN");
}

TEST(test_caps_auth_equals_alone_offers_mechanisms)
{
	struct smtp_caps c;

	CHECK_INT(EHLO(&c, "250-old.example.com", "250 AUTH=LOGIN PLAIN"), 1);
	CHECK(c.flags & CAP_AUTH);
	CHECK_STR(c.auth, "LOGIN PLAIN");
	CHECK(smtp_caps_has_auth(&c, "plain"));
}

TEST(test_caps_gmail_like_reply)
{
	struct smtp_caps c;

	CHECK_INT(EHLO(&c, "250-smtp.gmail.com at your service, [203.0.113.5]", "250-SIZE 35882577",
	               "250-8BITMIME",
	               "250-AUTH LOGIN PLAIN XOAUTH2 PLAIN-CLIENTTOKEN OAUTHBEARER XOAUTH",
	               "250-ENHANCEDSTATUSCODES", "250-PIPELINING", "250-CHUNKING", "250 SMTPUTF8"),
	          1);
	CHECK_STR(c.server_name, "smtp.gmail.com");
	CHECK_INT(c.flags, CAP_SIZE | CAP_8BITMIME | CAP_AUTH | CAP_ENHANCEDSTATUSCODES |
	                       CAP_PIPELINING | CAP_CHUNKING | CAP_SMTPUTF8);
	CHECK_INT(c.size_max, 35882577);
	CHECK_STR(c.auth, "LOGIN PLAIN XOAUTH2 PLAIN-CLIENTTOKEN OAUTHBEARER XOAUTH");
	CHECK(smtp_caps_has_auth(&c, "XOAUTH2"));
	CHECK(smtp_caps_has_auth(&c, "oauthbearer"));
	CHECK(!smtp_caps_has_auth(&c, "CRAM-MD5"));
}

TEST(test_caps_keywords_are_case_insensitive)
{
	struct smtp_caps c;

	CHECK_INT(EHLO(&c, "250-Mail.Example.COM", "250-pipelining", "250-StartTLS",
	               "250-auth login Plain", "250-size 1000", "250-chunking",
	               "250 EnhancedStatusCodes"),
	          1);
	CHECK_STR(c.server_name, "Mail.Example.COM");
	CHECK_INT(c.flags, CAP_PIPELINING | CAP_STARTTLS | CAP_AUTH | CAP_SIZE | CAP_CHUNKING |
	                       CAP_ENHANCEDSTATUSCODES);
	CHECK_INT(c.size_max, 1000);
	CHECK_STR(c.auth, "LOGIN PLAIN");
}

TEST(test_caps_every_known_extension_sets_its_flag)
{
	struct smtp_caps c;

	CHECK_INT(EHLO(&c, "250-x", "250-PIPELINING", "250-STARTTLS", "250-8BITMIME",
	               "250-SMTPUTF8", "250-CHUNKING", "250-SIZE", "250-ENHANCEDSTATUSCODES",
	               "250-DSN", "250-AUTH PLAIN", "250-BINARYMIME", "250 REQUIRETLS"),
	          1);
	CHECK_INT(c.flags, CAP_PIPELINING | CAP_STARTTLS | CAP_8BITMIME | CAP_SMTPUTF8 |
	                       CAP_CHUNKING | CAP_SIZE | CAP_ENHANCEDSTATUSCODES | CAP_DSN |
	                       CAP_AUTH | CAP_BINARYMIME | CAP_REQUIRETLS);
}

TEST(test_caps_union_is_uppercase_and_deduplicated)
{
	struct smtp_caps c;

	CHECK_INT(EHLO(&c, "250-x", "250-AUTH plain LOGIN  PLAIN", "250-AUTH=login cram-md5",
	               "250 AUTH SCRAM-SHA-256 PLAIN"),
	          1);
	CHECK_STR(c.auth, "PLAIN LOGIN CRAM-MD5 SCRAM-SHA-256");
}

TEST(test_caps_size_without_argument_or_malformed_means_no_limit)
{
	struct smtp_caps c;

	CHECK_INT(EHLO(&c, "250-x", "250 SIZE"), 1);
	CHECK(c.flags & CAP_SIZE);
	CHECK_INT(c.size_max, 0);
	CHECK_INT(EHLO(&c, "250-x", "250 SIZE 0"), 1);
	CHECK(c.flags & CAP_SIZE);
	CHECK_INT(c.size_max, 0);
	CHECK_INT(EHLO(&c, "250-x", "250 SIZE lots"), 1);
	CHECK(c.flags & CAP_SIZE);
	CHECK_INT(c.size_max, 0);
	CHECK_INT(EHLO(&c, "250-x", "250 SIZE 12ab"), 1);
	CHECK_INT(c.size_max, 0);
	CHECK_INT(EHLO(&c, "250-x", "250 SIZE 99999999999999999999999999"), 1);
	CHECK_INT(c.size_max, 0);
	CHECK_INT(EHLO(&c, "250-x", "250 SIZE 18446744073709551615"), 1);
	CHECK(c.size_max == 18446744073709551615ull);
	CHECK_INT(EHLO(&c, "250-x", "250 SIZE -5"), 1);
	CHECK_INT(c.size_max, 0);
}

TEST(test_caps_first_line_is_the_name_not_a_keyword)
{
	struct smtp_caps c;

	CHECK_INT(EHLO(&c, "250-STARTTLS", "250 8BITMIME"), 1);
	CHECK_STR(c.server_name, "STARTTLS");
	CHECK_INT(c.flags, CAP_8BITMIME);
	CHECK_INT(EHLO(&c, "250 mail.example.com Hello [127.0.0.1]"), 1);
	CHECK_STR(c.server_name, "mail.example.com");
	CHECK_INT(c.flags, 0);
	CHECK_STR(c.auth, "");
}

TEST(test_caps_look_alike_keywords_are_ignored)
{
	struct smtp_caps c;

	CHECK_INT(EHLO(&c, "250-x", "250-STARTTLSX", "250-XPIPELINING", "250-AUTHX PLAIN",
	               "250-SIZE=100", "250-X-SIZE 5", "250-8BITMIME=yes", "250- STARTTLS",
	               "250 XAUTH LOGIN"),
	          1);
	CHECK_INT(c.flags, 0);
	CHECK_STR(c.auth, "");
}

TEST(test_caps_strange_mechanism_names_are_dropped)
{
	struct smtp_caps c;

	CHECK_INT(EHLO(&c, "250-x",
	               "250 AUTH PLAIN LO\x01GIN A-NAME-LONGER-THAN-TWENTY CRAM-MD5 \rQUIT "
	               "B\xc3\xa4"
	               "D LOGIN_2 SCRAM-SHA-1"),
	          1);
	CHECK_STR(c.auth, "PLAIN CRAM-MD5 LOGIN_2 SCRAM-SHA-1");
}

TEST(test_caps_auth_without_mechanisms_offers_none)
{
	struct smtp_caps c;

	CHECK_INT(EHLO(&c, "250-x", "250 AUTH"), 1);
	CHECK(c.flags & CAP_AUTH);
	CHECK_STR(c.auth, "");
	CHECK(!smtp_caps_has_auth(&c, "PLAIN"));
	CHECK(!smtp_caps_has_auth(&c, ""));
	CHECK(!smtp_caps_has_auth(&c, NULL));
}

TEST(test_caps_has_auth_matches_whole_names_only)
{
	struct smtp_caps c;

	CHECK_INT(EHLO(&c, "250-x", "250 AUTH PLAIN-CLIENTTOKEN SCRAM-SHA-1-PLUS"), 1);
	CHECK(!smtp_caps_has_auth(&c, "PLAIN"));
	CHECK(!smtp_caps_has_auth(&c, "SCRAM-SHA-1"));
	CHECK(smtp_caps_has_auth(&c, "scram-sha-1-plus"));
	CHECK(!smtp_caps_has_auth(&c, "CLIENTTOKEN"));
	CHECK(!smtp_caps_has_auth(&c, "PLAIN-CLIENTTOKEN SCRAM-SHA-1-PLUS"));
}

TEST(test_caps_auth_list_is_bounded)
{
	struct smtp_caps c;
	struct smtp_reply r;
	struct cl_err err;
	struct buf line = BUF_INIT(SMTP_REPLY_LINE_MAX);
	int i;

	buf_adds(&line, "250 AUTH");
	for (i = 0; i < 150; i++)
		buf_printf(&line, " MECH-%03d", i);
	smtp_reply_init(&r);
	CHECK_INT(smtp_reply_feed(&r, "250-x", 5, &err), 0);
	CHECK_INT(smtp_reply_feed(&r, "250-AUTH PLAIN", 14, &err), 0);
	CHECK_INT(smtp_reply_feed(&r, line.data, line.len, &err), 1);
	smtp_caps_parse(&c, &r);
	CHECK(strlen(c.auth) < SMTP_CAPS_AUTH_MAX);
	CHECK(strncmp(c.auth, "PLAIN MECH-000 MECH-001 ", 24) == 0);
	CHECK(smtp_caps_has_auth(&c, "PLAIN"));
	CHECK(!smtp_caps_has_auth(&c, "MECH-149"));
	CHECK(c.auth[strlen(c.auth) - 1] != ' ');
	smtp_reply_free(&r);
	buf_free(&line);
}

TEST(test_caps_long_server_name_is_cut)
{
	struct smtp_caps c;
	struct smtp_reply r;
	struct cl_err err;
	char line[600];

	memset(line, 'n', sizeof(line));
	memcpy(line, "250 ", 4);
	smtp_reply_init(&r);
	CHECK_INT(smtp_reply_feed(&r, line, sizeof(line), &err), 1);
	smtp_caps_parse(&c, &r);
	CHECK_INT(strlen(c.server_name), sizeof(c.server_name) - 1);
	smtp_reply_free(&r);
}

TEST(test_caps_not_a_250_reply_offers_nothing)
{
	struct smtp_caps c;

	CHECK_INT(EHLO(&c, "550-x", "550 AUTH PLAIN"), 1);
	CHECK_INT(c.flags, 0);
	CHECK_STR(c.auth, "");
	CHECK_STR(c.server_name, "");
	/* An incomplete reply is not an EHLO reply either. */
	CHECK_INT(EHLO(&c, "250-x", "250-STARTTLS"), 0);
	CHECK_INT(c.flags, 0);
}

TEST_RNG(rng, 0x2545f4914f6cdd1dull)

static const char *const words[] = {"AUTH",
                                    "AUTH=",
                                    "auth",
                                    "SIZE",
                                    "size",
                                    "PLAIN",
                                    "LOGIN",
                                    "CRAM-MD5",
                                    "STARTTLS",
                                    "PIPELINING",
                                    "8BITMIME",
                                    "SMTPUTF8",
                                    "CHUNKING",
                                    "DSN",
                                    "REQUIRETLS",
                                    "BINARYMIME",
                                    "ENHANCEDSTATUSCODES",
                                    "12345",
                                    "99999999999999999999999",
                                    "=",
                                    " ",
                                    "  ",
                                    "\t",
                                    "-",
                                    "\xff",
                                    "\xe3\x81\x82",
                                    "\r",
                                    "SCRAM-SHA-256",
                                    "XOAUTH2",
                                    "A",
                                    "_"};

/* The auth list: upper-case RFC 4422 names, single spaces, no duplicates. */
static int auth_list_ok(const char *a)
{
	const char *tok[SMTP_CAPS_AUTH_MAX];
	size_t len[SMTP_CAPS_AUTH_MAX], nt = 0, i, j, n = strlen(a);

	if (n >= SMTP_CAPS_AUTH_MAX || (n > 0 && (a[0] == ' ' || a[n - 1] == ' ')))
		return 0;
	for (i = 0; i < n; i++) {
		char ch = a[i];
		if (!((ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' ||
		      ch == '_' || ch == ' '))
			return 0;
		if (ch == ' ' && a[i + 1] == ' ')
			return 0;
	}
	for (i = 0; i < n; i += len[nt++] + 1) {
		tok[nt] = a + i;
		len[nt] = strcspn(a + i, " ");
		if (len[nt] == 0 || len[nt] > 20)
			return 0;
	}
	for (i = 0; i < nt; i++)
		for (j = i + 1; j < nt; j++)
			if (len[i] == len[j] && memcmp(tok[i], tok[j], len[i]) == 0)
				return 0;
	return 1;
}

TEST(test_caps_random_ehlo_replies_keep_the_invariants)
{
	struct smtp_caps c;
	struct smtp_reply r;
	struct cl_err err;
	struct buf line = BUF_INIT(SMTP_REPLY_LINE_MAX);
	int i, rc, with_auth = 0, with_size = 0;
	size_t k, nl, w, nw;

	smtp_reply_init(&r);
	for (i = 0; i < 5000; i++) {
		smtp_reply_reset(&r);
		nl = 1 + rng() % 20;
		rc = 0;
		for (k = 0; k < nl && rc == 0; k++) {
			buf_reset(&line);
			buf_adds(&line, k + 1 == nl ? "250 " : "250-");
			nw = rng() % 8;
			for (w = 0; w < nw; w++) {
				if (rng() % 10 == 0)
					buf_addc(&line, (char)(1 + rng() % 255));
				else
					buf_adds(&line,
					         words[rng() % (sizeof(words) / sizeof(words[0]))]);
				if (rng() % 2)
					buf_addc(&line, ' ');
			}
			rc = smtp_reply_feed(&r, line.data, line.len, &err);
		}
		smtp_caps_parse(&c, &r);
		CHECK((c.flags & ~((CAP_REQUIRETLS << 1) - 1)) == 0);
		CHECK(auth_list_ok(c.auth));
		CHECK(strlen(c.server_name) < sizeof(c.server_name));
		CHECK(strchr(c.server_name, ' ') == NULL);
		CHECK(c.size_max == 0 || (c.flags & CAP_SIZE));
		CHECK(c.auth[0] == '\0' || (c.flags & CAP_AUTH));
		if (rc != 1)
			CHECK_INT(c.flags, 0);
		with_auth += c.auth[0] != '\0';
		with_size += c.size_max != 0;
		if (check_failed_now) {
			printf("# failed at iteration %d: auth '%s'\n", i, c.auth);
			break;
		}
	}
	printf("# %d of 5000 random replies offered AUTH mechanisms, %d a SIZE\n", with_auth,
	       with_size);
	/* The generator must reach the interesting paths for the test to mean
	 * anything. */
	CHECK(with_auth > 100);
	CHECK(with_size > 10);
	buf_free(&line);
	smtp_reply_free(&r);
}

int main(void)
{
	RUN(test_caps_postfix_rita_karing);
	RUN(test_caps_qmail_yahoo_without_starttls);
	RUN(test_caps_goo_auth_and_auth_equals_are_one_list);
	RUN(test_caps_docomo_with_auth_equals);
	RUN(test_caps_auth_equals_alone_offers_mechanisms);
	RUN(test_caps_gmail_like_reply);
	RUN(test_caps_keywords_are_case_insensitive);
	RUN(test_caps_every_known_extension_sets_its_flag);
	RUN(test_caps_union_is_uppercase_and_deduplicated);
	RUN(test_caps_size_without_argument_or_malformed_means_no_limit);
	RUN(test_caps_first_line_is_the_name_not_a_keyword);
	RUN(test_caps_look_alike_keywords_are_ignored);
	RUN(test_caps_strange_mechanism_names_are_dropped);
	RUN(test_caps_auth_without_mechanisms_offers_none);
	RUN(test_caps_has_auth_matches_whole_names_only);
	RUN(test_caps_auth_list_is_bounded);
	RUN(test_caps_long_server_name_is_cut);
	RUN(test_caps_not_a_250_reply_offers_nothing);
	RUN(test_caps_random_ehlo_replies_keep_the_invariants);
	CHECK_DONE();
}
