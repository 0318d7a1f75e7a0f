/* test_compose.c - the composed message: exact text of the seed article's
 * mail, Date and Message-ID, the transfer encoding chosen for each body,
 * folding, and refusal of line breaks and bad UTF-8. (test_compose_reader.c
 * has every kind of message read back by an independent parser.) */
#include <stdlib.h>

#include "base/b64.h"
#include "check.h"
#include "msg/compose.h"
#include "base/qp.h"

#define SEED_TIME ((time_t)1536577154) /* Mon, 10 Sep 2018 19:59:14 +0900 */

static const char *const seed_to[] = {"nobody@example.com"};

static struct compose_params seed_params(void)
{
	struct compose_params p = {0};

	p.from_addr = "64L114@mail.example.ac.jp";
	p.to = seed_to;
	p.nto = 1;
	p.subject = "clsmtpc test mail";
	p.body = "test test test";
	p.body_len = 14;
	p.mailer = "clsmtpc-test";
	p.date = SEED_TIME;
	return p;
}

static void set_tz(const char *tz)
{
	setenv("TZ", tz, 1);
	tzset();
}

/* CRLF only, no line over 998 octets. */
static int wire_ok(const struct buf *m)
{
	size_t i, bol = 0;

	for (i = 0; i < m->len; i++) {
		if (m->data[i] == '\r' && (i + 1 == m->len || m->data[i + 1] != '\n'))
			return 0;
		if (m->data[i] == '\n') {
			if (i == 0 || m->data[i - 1] != '\r' || i - 1 - bol > MSG_LINE_MAX)
				return 0;
			bol = i + 1;
		}
	}
	return m->len - bol <= MSG_LINE_MAX;
}

/* Compose p into m (reset first); checks the wire form. */
static int compose(const struct compose_params *p, struct buf *m, struct cl_err *err)
{
	struct compose_result res = {-1, -1};
	int r;

	buf_reset(m);
	err_clear(err);
	r = compose_message(p, m, &res, err);
	if (r == 0) {
		CHECK(wire_ok(m));
		CHECK_INT(res.is_8bit, 0);
		CHECK_INT(res.smtputf8, 0);
	}
	return r;
}

/* The value of header field name ("" if absent), unfolded. */
static const char *header(const struct buf *m, const char *name, struct buf *v)
{
	const char *p = buf_cstr(m), *end = strstr(p, "\r\n\r\n");
	size_t n = strlen(name);

	buf_reset(v);
	for (; p && p < end; p = strstr(p, "\r\n") + 2) {
		if (strncmp(p, name, n) == 0 && p[n] == ':') {
			p += n + 1 + (p[n + 1] == ' ');
			for (; p < end + 2; p++) {
				if (p[0] == '\r' && p[2] != ' ' && p[2] != '\t')
					break;
				if (*p != '\r' && *p != '\n')
					buf_addc(v, *p);
			}
			return buf_cstr(v);
		}
	}
	return buf_cstr(v);
}

/* The body decoded from its transfer encoding. */
static int decoded_body(const struct buf *m, struct buf *out)
{
	struct buf cte = BUF_INIT(100);
	const char *b = strstr(buf_cstr(m), "\r\n\r\n") + 4;
	size_t n = m->len - (size_t)(b - m->data);
	int r = -1;

	header(m, "Content-Transfer-Encoding", &cte);
	buf_reset(out);
	if (strcmp(buf_cstr(&cte), "7bit") == 0)
		r = buf_add(out, b, n);
	else if (strcmp(buf_cstr(&cte), "quoted-printable") == 0)
		r = qp_decode(b, n, out);
	else if (strcmp(buf_cstr(&cte), "base64") == 0)
		r = b64_decode(b, n, out);
	buf_free(&cte);
	return r;
}

TEST(test_compose_seed_message_exact_text)
{
	struct compose_params p = seed_params();
	struct buf m = BUF_INIT(1 << 20), id = BUF_INIT(200), want = BUF_INIT(4096);
	struct cl_err err;
	const char *mid;
	size_t i;

	set_tz("Asia/Tokyo");
	CHECK(compose(&p, &m, &err) == 0);
	mid = header(&m, "Message-ID", &id);
	CHECK_INT(strlen(mid), 1 + 14 + 1 + 16 + 1 + 18 + 1);
	for (i = 1; i < 15 && mid[0]; i++)
		CHECK(mid[i] >= '0' && mid[i] <= '9');
	CHECK(strstr(mid, "@mail.example.ac.jp>") != NULL);
	buf_printf(&want,
	           "From: <64L114@mail.example.ac.jp>\r\n"
	           "To: <nobody@example.com>\r\n"
	           "Subject: clsmtpc test mail\r\n"
	           "Date: Mon, 10 Sep 2018 19:59:14 +0900\r\n"
	           "Message-ID: %s\r\n"
	           "X-Mailer: clsmtpc-test\r\n"
	           "MIME-Version: 1.0\r\n"
	           "Content-Type: text/plain; charset=US-ASCII\r\n"
	           "Content-Transfer-Encoding: 7bit\r\n"
	           "\r\n"
	           "test test test\r\n",
	           mid);
	CHECK_STR(buf_cstr(&m), buf_cstr(&want));
	buf_free(&m);
	buf_free(&id);
	buf_free(&want);
}

TEST(test_compose_date_is_rfc5322_in_local_zone)
{
	struct buf d = BUF_INIT(100);
	static const struct {
		const char *tz;
		time_t t;
		const char *want;
	} cases[] = {
	    {"Asia/Tokyo", SEED_TIME, "Mon, 10 Sep 2018 19:59:14 +0900"},
	    {"JST-9", SEED_TIME, "Mon, 10 Sep 2018 19:59:14 +0900"},
	    {"UTC0", SEED_TIME, "Mon, 10 Sep 2018 10:59:14 +0000"},
	    {"America/St_Johns", SEED_TIME, "Mon, 10 Sep 2018 08:29:14 -0230"},
	    {"Asia/Tokyo", 1536500481, "Sun, 9 Sep 2018 22:41:21 +0900"},
	    {"Europe/Berlin", 1704067199, "Mon, 1 Jan 2024 00:59:59 +0100"},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		set_tz(cases[i].tz);
		buf_reset(&d);
		CHECK(compose_date(cases[i].t, &d) == 0);
		CHECK_STR(buf_cstr(&d), cases[i].want);
	}
	set_tz("Asia/Tokyo");
	buf_free(&d);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

TEST(test_compose_message_id_unique_and_well_formed)
{
	enum { N = 2000 };
	static char *ids[N];
	struct buf b = BUF_INIT(300);
	size_t i, dups = 0, n;

	for (i = 0; i < N; i++) {
		buf_reset(&b);
		CHECK(compose_message_id("example.jp", &b) == 0);
		n = b.len;
		CHECK(n == 1 + 14 + 1 + 16 + 12 && b.data[0] == '<' && b.data[15] == '.');
		CHECK(strspn(b.data + 16, "0123456789abcdef") == 16);
		CHECK(strcmp(b.data + 32, "@example.jp>") == 0);
		ids[i] = buf_release(&b);
		b.max = 300;
	}
	qsort(ids, N, sizeof(ids[0]), cmp_str);
	for (i = 1; i < N; i++)
		dups += strcmp(ids[i - 1], ids[i]) == 0;
	CHECK_INT(dups, 0);
	for (i = 0; i < N; i++)
		free(ids[i]);
	CHECK(compose_message_id(NULL, &b) == -1);
	CHECK(compose_message_id("", &b) == -1);
	CHECK(compose_message_id("a b", &b) == -1);
	CHECK(compose_message_id("x>\r\nBcc: y", &b) == -1);
	CHECK(compose_message_id("a..b", &b) == -1);
	CHECK_INT(b.len, 0);
	buf_free(&b);
}

TEST(test_compose_encode_words_exported_form)
{
	struct buf b = BUF_INIT(4096);
	const char *p;
	int i;

	CHECK(compose_encode_words("plain ascii", &b) == 0);
	CHECK_STR(buf_cstr(&b), "plain ascii");
	buf_reset(&b);
	CHECK(compose_encode_words("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", &b) == 0);
	CHECK_STR(buf_cstr(&b), "=?UTF-8?B?5pel5pys6Kqe?=");
	buf_reset(&b);
	for (i = 0; i < 40; i++)
		buf_adds(&b, "\xe6\x97\xa5");
	p = buf_release(&b);
	b.max = 4096;
	CHECK(compose_encode_words(p, &b) == 0);
	/* 120 octets: three words, each on its own line. */
	CHECK(strncmp(buf_cstr(&b), "=?UTF-8?B?", 10) == 0);
	CHECK(strstr(buf_cstr(&b), "?=\r\n =?UTF-8?B?") != NULL);
	CHECK(strlen(buf_cstr(&b)) <= 3 * 75 + 2 * 3);
	free((void *)p);
	buf_reset(&b);
	CHECK(compose_encode_words("bad \xe3\x81", &b) == -1);
	buf_free(&b);
}

TEST(test_compose_non_ascii_text_is_base64_utf8_on_7bit_wire)
{
	struct compose_params p = seed_params();
	struct buf m = BUF_INIT(1 << 20), v = BUF_INIT(4096), d = BUF_INIT(1 << 20);
	struct cl_err err;
	const char *body = "\xe3\x81\x93\xe3\x82\x93\xe3\x81\xab\xe3\x81\xa1\xe3\x81\xaf\n"
	                   "\xe4\xb8\x96\xe7\x95\x8c\n"; /* こんにちは / 世界 */
	size_t i;

	p.from_name = "\xe5\xb1\xb1\xe7\x94\xb0 \xe5\xa4\xaa\xe9\x83\x8e";
	p.subject = "\xe3\x83\x86\xe3\x82\xb9\xe3\x83\x88"; /* テスト */
	p.body = body;
	p.body_len = strlen(body);
	CHECK(compose(&p, &m, &err) == 0);
	CHECK_STR(header(&m, "From", &v),
	          "=?UTF-8?B?5bGx55SwIOWkqumDjg==?= <64L114@mail.example.ac.jp>");
	CHECK_STR(header(&m, "Subject", &v), "=?UTF-8?B?44OG44K544OI?=");
	CHECK_STR(header(&m, "Content-Type", &v), "text/plain; charset=UTF-8");
	CHECK_STR(header(&m, "Content-Transfer-Encoding", &v), "base64");
	for (i = 0; i < m.len; i++)
		CHECK((unsigned char)m.data[i] < 0x80);
	CHECK(decoded_body(&m, &d) == 0);
	CHECK_STR(buf_cstr(&d), "\xe3\x81\x93\xe3\x82\x93\xe3\x81\xab\xe3\x81\xa1\xe3\x81\xaf\r\n"
	                        "\xe4\xb8\x96\xe7\x95\x8c\r\n");
	buf_free(&m);
	buf_free(&v);
	buf_free(&d);
}

TEST(test_compose_mostly_ascii_body_is_quoted_printable)
{
	struct compose_params p = seed_params();
	struct buf m = BUF_INIT(1 << 20), v = BUF_INIT(4096), d = BUF_INIT(1 << 20);
	struct cl_err err;
	const char *body = "Caf\xc3\xa9 ouvert = oui\nFrom the owner.\n.\n";

	p.body = body;
	p.body_len = strlen(body);
	CHECK(compose(&p, &m, &err) == 0);
	CHECK_STR(header(&m, "Content-Type", &v), "text/plain; charset=UTF-8");
	CHECK_STR(header(&m, "Content-Transfer-Encoding", &v), "quoted-printable");
	CHECK(strstr(buf_cstr(&m),
	             "\r\n\r\nCaf=C3=A9 ouvert =3D oui\r\n=46rom the owner.\r\n.\r\n") != NULL);
	CHECK(decoded_body(&m, &d) == 0);
	CHECK_STR(buf_cstr(&d), "Caf\xc3\xa9 ouvert = oui\r\nFrom the owner.\r\n.\r\n");
	buf_free(&m);
	buf_free(&v);
	buf_free(&d);
}

TEST(test_compose_long_line_is_encoded_not_cut)
{
	struct compose_params p = seed_params();
	struct buf m = BUF_INIT(1 << 20), v = BUF_INIT(4096), d = BUF_INIT(1 << 20),
	           in = BUF_INIT(1 << 20);
	struct cl_err err;
	int i;

	for (i = 0; i < 2500; i++)
		buf_addc(&in, (char)('a' + i % 26));
	buf_adds(&in, "\nshort\n");
	p.body = in.data;
	p.body_len = in.len;
	CHECK(compose(&p, &m, &err) == 0);
	CHECK_STR(header(&m, "Content-Type", &v), "text/plain; charset=US-ASCII");
	CHECK_STR(header(&m, "Content-Transfer-Encoding", &v), "quoted-printable");
	CHECK(decoded_body(&m, &d) == 0);
	CHECK(d.len == in.len + 2 && memcmp(d.data, in.data, 2500) == 0);
	/* 998 octets is still 7bit; 999 is not. */
	buf_truncate(&in, 998);
	p.body = in.data;
	p.body_len = in.len;
	CHECK(compose(&p, &m, &err) == 0);
	CHECK_STR(header(&m, "Content-Transfer-Encoding", &v), "7bit");
	buf_addc(&in, 'x');
	p.body = in.data;
	p.body_len = in.len;
	CHECK(compose(&p, &m, &err) == 0);
	CHECK_STR(header(&m, "Content-Transfer-Encoding", &v), "quoted-printable");
	buf_free(&m);
	buf_free(&v);
	buf_free(&d);
	buf_free(&in);
}

TEST(test_compose_body_line_endings_become_crlf)
{
	struct compose_params p = seed_params();
	struct buf m = BUF_INIT(1 << 20);
	struct cl_err err;
	const char *b;

	p.body = "a\nb\rc\r\nd";
	p.body_len = 8;
	CHECK(compose(&p, &m, &err) == 0);
	b = strstr(buf_cstr(&m), "\r\n\r\n");
	CHECK_STR(b, "\r\n\r\na\r\nb\r\nc\r\nd\r\n");
	/* An empty body: the header and its empty line, nothing more. */
	p.body = NULL;
	p.body_len = 0;
	CHECK(compose(&p, &m, &err) == 0);
	b = strstr(buf_cstr(&m), "\r\n\r\n");
	CHECK_STR(b, "\r\n\r\n");
	/* A NUL in the body is not 7bit: it is encoded, not dropped. */
	p.body = "a\0b";
	p.body_len = 3;
	CHECK(compose(&p, &m, &err) == 0);
	b = strstr(buf_cstr(&m), "\r\n\r\n");
	CHECK_STR(b, "\r\n\r\na=00b\r\n");
	buf_free(&m);
}

TEST(test_compose_refuses_line_breaks_in_fields)
{
	static const char *const bad_to[] = {"ok@example.com", "x@example.com\r\nBcc: y@z"};
	static const char *const gt_to[] = {"a@b>, <c@d"};
	struct compose_params p;
	struct buf m = BUF_INIT(1 << 20);
	struct cl_err err;

	buf_adds(&m, "kept");
	p = seed_params();
	p.subject = "hello\r\nBcc: victim@example.com";
	CHECK(compose_message(&p, &m, NULL, &err) == -1);
	CHECK_INT(err.cls, CL_EDATA);
	CHECK(strstr(err.msg, "subject") && strstr(err.msg, "carriage return"));
	CHECK_STR(buf_cstr(&m), "kept");
	p = seed_params();
	p.from_name = "Name\nX-Evil: 1";
	CHECK(compose_message(&p, &m, NULL, &err) == -1);
	CHECK(strstr(err.msg, "display name") && strstr(err.msg, "line feed"));
	p = seed_params();
	p.to = bad_to;
	p.nto = 2;
	CHECK(compose_message(&p, &m, NULL, &err) == -1);
	CHECK(strstr(err.msg, "To address") != NULL);
	p = seed_params();
	p.to = gt_to;
	CHECK(compose_message(&p, &m, NULL, &err) == -1);
	CHECK(strstr(err.msg, "To address") != NULL);
	p = seed_params();
	p.from_addr = "a\x01@b";
	CHECK(compose_message(&p, &m, NULL, &err) == -1);
	CHECK(strstr(err.msg, "From address") && strstr(err.msg, "control"));
	p = seed_params();
	p.from_addr = "";
	CHECK(compose_message(&p, &m, NULL, &err) == -1);
	p = seed_params();
	p.mailer = "x\r";
	CHECK(compose_message(&p, &m, NULL, &err) == -1);
	CHECK(strstr(err.msg, "X-Mailer") != NULL);
	p = seed_params();
	p.msgid_domain = "bad domain";
	CHECK(compose_message(&p, &m, NULL, &err) == -1);
	CHECK(strstr(err.msg, "Message-ID") != NULL);
	CHECK_STR(buf_cstr(&m), "kept");
	buf_free(&m);
}

TEST(test_compose_refuses_invalid_utf8)
{
	struct compose_params p;
	struct buf m = BUF_INIT(1 << 20);
	struct cl_err err;

	p = seed_params();
	p.subject = "caf\xe9";
	CHECK(compose_message(&p, &m, NULL, &err) == -1);
	CHECK(strstr(err.msg, "subject is not valid UTF-8") != NULL);
	p = seed_params();
	p.from_name = "\xc3";
	CHECK(compose_message(&p, &m, NULL, &err) == -1);
	CHECK(strstr(err.msg, "display name is not valid UTF-8") != NULL);
	p = seed_params();
	p.body = "line one\nline \xed\xa0\x80 two\n";
	p.body_len = strlen(p.body);
	CHECK(compose_message(&p, &m, NULL, &err) == -1);
	CHECK_INT(err.cls, CL_EDATA);
	CHECK(strstr(err.msg, "body is not valid UTF-8 (line 2") != NULL);
	CHECK_INT(m.len, 0);
	buf_free(&m);
}

TEST(test_compose_many_recipients_and_long_subject_fold)
{
	static char addrs[30][40];
	const char *to[30];
	struct compose_params p = seed_params();
	struct buf m = BUF_INIT(1 << 20), v = BUF_INIT(4096), subj = BUF_INIT(4096);
	struct cl_err err;
	const char *h, *eoh;
	size_t i;

	for (i = 0; i < 30; i++) {
		snprintf(addrs[i], sizeof(addrs[i]), "recipient%zu@example.com", i);
		to[i] = addrs[i];
	}
	for (i = 0; i < 30; i++)
		buf_printf(&subj, "%sdisk %zu full", i ? ", " : "", i);
	p.to = to;
	p.nto = 30;
	p.subject = subj.data;
	CHECK(compose(&p, &m, &err) == 0);
	eoh = strstr(buf_cstr(&m), "\r\n\r\n");
	for (h = buf_cstr(&m); h < eoh; h = strstr(h, "\r\n") + 2)
		CHECK(strstr(h, "\r\n") - h <= 78);
	CHECK_STR(header(&m, "Subject", &v), subj.data);
	header(&m, "To", &v);
	CHECK(strncmp(v.data, "<recipient0@example.com>, <recipient1@example.com>,", 51) == 0);
	CHECK(strstr(v.data, ", <recipient29@example.com>") != NULL);
	buf_free(&m);
	buf_free(&v);
	buf_free(&subj);
}

TEST(test_compose_too_small_output_leaves_it_unchanged)
{
	struct compose_params p = seed_params();
	struct buf m = BUF_INIT(100);
	struct cl_err err;

	buf_adds(&m, "prefix");
	CHECK(compose_message(&p, &m, NULL, &err) == -1);
	CHECK_INT(err.cls, CL_EDATA);
	CHECK_STR(buf_cstr(&m), "prefix");
	buf_free(&m);
}

TEST(test_compose_cc_reply_to_references_and_extra_fields)
{
	static const char *const cc[] = {"carol@example.com"};
	static const char *const hs[] = {"X-Priority: 1", "Date: Tue, 1 Jan 2030 00:00:00 +0000",
	                                 "Message-ID: <fixed@example.com>", "X-Note:   日本語"};
	struct compose_params p = seed_params();
	struct buf m = BUF_INIT(1 << 20), v = BUF_INIT(4096);
	struct cl_err err;

	p.cc = cc;
	p.ncc = 1;
	p.reply_to = "Ops Team <ops@example.com>, \"Doe, J\" <jd@example.com>";
	p.in_reply_to = "orig@example.com";
	p.references = "<a@example.com> <b@example.com>,orig@example.com";
	p.headers = hs;
	p.nheaders = 4;
	CHECK(compose(&p, &m, &err) == 0);
	CHECK_STR(header(&m, "Cc", &v), "<carol@example.com>");
	CHECK_STR(header(&m, "Reply-To", &v),
	          "Ops Team <ops@example.com>, \"Doe, J\" <jd@example.com>");
	CHECK_STR(header(&m, "In-Reply-To", &v), "<orig@example.com>");
	CHECK_STR(header(&m, "References", &v),
	          "<a@example.com> <b@example.com> <orig@example.com>");
	CHECK_STR(header(&m, "X-Priority", &v), "1");
	CHECK_STR(header(&m, "X-Note", &v), "=?UTF-8?B?5pel5pys6Kqe?=");
	/* -H Date and Message-ID replace ours: one of each. */
	CHECK_STR(header(&m, "Date", &v), "Tue, 1 Jan 2030 00:00:00 +0000");
	CHECK_STR(header(&m, "Message-ID", &v), "<fixed@example.com>");
	CHECK(strstr(strstr(buf_cstr(&m), "Message-ID:") + 1, "Message-ID:") == NULL);
	CHECK(strstr(buf_cstr(&m), "\r\nDate: Mon") == NULL);
	CHECK(strstr(buf_cstr(&m), "Bcc") == NULL);
	buf_free(&m);
	buf_free(&v);
}

TEST(test_compose_refuses_bad_or_reserved_extra_fields)
{
	static const char *bad[][2] = {
	    {"NoColon", "is not"},
	    {": empty name", "is not"},
	    {"Bad Name: x", "printable ASCII"},
	    {"Subject: x", "-s"},
	    {"bcc: x@example.com", "blind copies"},
	    {"Content-Type: text/html", "MIME structure"},
	    {"MIME-Version: 2.0", "written by clsmtpc"},
	    {"X-Ok: a\r\nX-Evil: 1", "carriage return"},
	};
	const char *hs[1];
	struct compose_params p = seed_params();
	struct buf m = BUF_INIT(1 << 20);
	struct cl_err err;
	size_t i;

	p.headers = hs;
	p.nheaders = 1;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		hs[0] = bad[i][0];
		CHECK(compose_message(&p, &m, NULL, &err) == -1);
		CHECK_INT(err.cls, CL_EDATA);
		if (strstr(err.msg, bad[i][1]) == NULL)
			printf("# %s: %s\n", bad[i][0], err.msg);
		CHECK(strstr(err.msg, bad[i][1]) != NULL);
	}
	p = seed_params();
	p.in_reply_to = "<a b@c>";
	CHECK(compose_message(&p, &m, NULL, &err) == -1);
	CHECK(strstr(err.msg, "--in-reply-to") != NULL);
	p = seed_params();
	p.reply_to = "x@example.com\r\nBcc: y@z";
	CHECK(compose_message(&p, &m, NULL, &err) == -1);
	CHECK_INT(m.len, 0);
	buf_free(&m);
}

TEST(test_compose_addresses_for_servers_with_and_without_smtputf8)
{
	static const char *const to[] = {"info@例え.jp"};
	static const char *const to_local[] = {"ユーザー@例え.jp"};
	struct compose_params p = seed_params();
	struct compose_result r;
	struct buf m = BUF_INIT(1 << 20), v = BUF_INIT(4096);
	struct cl_err err;

	p.to = to;
	p.ascii_addrs = 1;
	p.server = "smtp.example.com";
	CHECK(compose_message(&p, &m, &r, &err) == 0);
	CHECK_STR(header(&m, "To", &v), "<info@xn--r8jz45g.jp>");
	CHECK_INT(r.smtputf8, 0);
	buf_reset(&m);
	p.ascii_addrs = 0;
	CHECK(compose_message(&p, &m, &r, &err) == 0);
	CHECK_STR(header(&m, "To", &v), "<info@例え.jp>");
	CHECK_INT(r.smtputf8, 1);
	CHECK_INT(r.is_8bit, 1);
	buf_reset(&m);
	p.to = to_local;
	p.ascii_addrs = 1;
	CHECK(compose_message(&p, &m, &r, &err) == -1);
	CHECK_INT(err.cls, CL_EUNAVAIL);
	CHECK(strstr(err.msg, "local part is not ASCII and smtp.example.com does not offer "
	                      "SMTPUTF8") != NULL);
	buf_free(&m);
	buf_free(&v);
}

TEST(test_compose_iso2022jp_message_is_7bit_with_b_words)
{
	struct compose_params p = seed_params();
	struct buf m = BUF_INIT(1 << 20), v = BUF_INIT(4096);
	struct cl_err err;
	size_t i;

	p.charset = "iso-2022-jp";
	p.from_name = "山田 太郎";
	p.subject = "テスト";
	p.body = "日本語の本文\n";
	p.body_len = strlen(p.body);
	p.allow_8bit = 1; /* offered, but ISO-2022-JP is 7bit anyway */
	CHECK(compose(&p, &m, &err) == 0);
	CHECK_STR(header(&m, "Subject", &v), "=?ISO-2022-JP?B?GyRCJUYlOSVIGyhC?=");
	CHECK_STR(header(&m, "From", &v),
	          "=?ISO-2022-JP?B?GyRCOzNFRBsoQiAbJEJCQE86GyhC?= <64L114@mail.example.ac.jp>");
	CHECK_STR(header(&m, "Content-Type", &v), "text/plain; charset=ISO-2022-JP");
	CHECK_STR(header(&m, "Content-Transfer-Encoding", &v), "7bit");
	for (i = 0; i < m.len; i++)
		CHECK((unsigned char)m.data[i] < 0x80);
	CHECK(strstr(buf_cstr(&m), "\r\n\r\n\x1b$BF|K\\8l$NK\\J8\x1b(B\r\n") != NULL);
	/* A character ISO-2022-JP lacks: the error names it and the field. */
	p.subject = "①番";
	CHECK(compose_message(&p, &m, NULL, &err) == -1);
	CHECK(strstr(err.msg, "subject: character U+2460") != NULL);
	p = seed_params();
	p.charset = "no-such";
	CHECK(compose_message(&p, &m, NULL, &err) == -1);
	CHECK_INT(err.cls, CL_EUSAGE);
	buf_free(&m);
	buf_free(&v);
}

int main(void)
{
	set_tz("Asia/Tokyo");
	RUN(test_compose_seed_message_exact_text);
	RUN(test_compose_date_is_rfc5322_in_local_zone);
	RUN(test_compose_message_id_unique_and_well_formed);
	RUN(test_compose_encode_words_exported_form);
	RUN(test_compose_non_ascii_text_is_base64_utf8_on_7bit_wire);
	RUN(test_compose_mostly_ascii_body_is_quoted_printable);
	RUN(test_compose_long_line_is_encoded_not_cut);
	RUN(test_compose_body_line_endings_become_crlf);
	RUN(test_compose_refuses_line_breaks_in_fields);
	RUN(test_compose_refuses_invalid_utf8);
	RUN(test_compose_many_recipients_and_long_subject_fold);
	RUN(test_compose_too_small_output_leaves_it_unchanged);
	RUN(test_compose_cc_reply_to_references_and_extra_fields);
	RUN(test_compose_refuses_bad_or_reserved_extra_fields);
	RUN(test_compose_addresses_for_servers_with_and_without_smtputf8);
	RUN(test_compose_iso2022jp_message_is_7bit_with_b_words);
	CHECK_DONE();
}
