/* test_queue_file.c - the offline queue's names and file header
 * (queue_file.c, docs/queue.md): round trips, refusals, the backoff, the
 * connection key that groups messages, and the Message-ID lookup. */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "check.h"
#include "queue.h"

static const char *const two_rcpts[] = {"bob@example.net", "carol@example.org"};

static void full_header(struct queue_header *h)
{
	queue_file_header_init(h);
	memcpy(h->id, "6741b2c0a1b2c3d4", QUEUE_ID_LEN + 1);
	h->created = 1732424384;
	h->account = "work";
	h->config = "/home/a/.config/clsmtpc/config";
	h->host = "smtp.example.com";
	h->port = "465";
	h->tls_mode = SMTP_TLS_SMTPS;
	h->auth = "plain";
	h->user = "alice@example.com";
	h->passwordeval = "pass show mail/work | head -1";
	h->trust_file = "/etc/ssl/ca.pem";
	h->fingerprint = "ab:cd";
	h->certcheck = 0;
	h->family = AF_INET6;
	h->domain = "laptop.example.com";
	h->timeout_s = 30;
	h->from = "alice@example.com";
	h->rcpts = (const char **)two_rcpts;
	h->nrcpt = 2;
	h->body_8bit = 1;
	h->smtputf8 = 0;
	h->message_id = "<1.2@laptop.example.com>";
	h->size = 5;
}

TEST(test_queue_name_round_trips_every_state)
{
	struct queue_name n = {"0123456789abcdef", 1, 1, 7, 1732424444}, m;
	struct buf b = BUF_INIT(QUEUE_NAME_MAX);
	int s, u;

	for (s = 0; s < 2; s++)
		for (u = 0; u < 2; u++) {
			n.sending = s;
			n.uncertain = u;
			CHECK(queue_file_name_format(&n, &b) == 0);
			CHECK(queue_file_name_parse(buf_cstr(&b), &m) == 0);
			CHECK_STR(m.id, n.id);
			CHECK_INT(m.sending, s);
			CHECK_INT(m.uncertain, u);
			CHECK_INT(m.attempts, 7);
			CHECK_INT(m.next, 1732424444);
		}
	n.sending = 0;
	n.uncertain = 1;
	queue_file_name_format(&n, &b);
	CHECK_STR(buf_cstr(&b), "0123456789abcdef.q1.7.1732424444");
	buf_free(&b);
}

TEST(test_queue_name_rejects_other_names)
{
	struct queue_name n;
	const char *bad[] = {
	    "0123456789abcdef.err",
	    "0123456789abcdef",
	    "0123456789ABCDEF.q0.1.5",
	    "0123456789abcde.q0.1.5",
	    "0123456789abcdef.x0.1.5",
	    "0123456789abcdef.q2.1.5",
	    "0123456789abcdef.q0..5",
	    "0123456789abcdef.q0.1.",
	    "0123456789abcdef.q0.1.5.",
	    "0123456789abcdef.q0.-1.5",
	    "0123456789abcdef.q0.1.5x",
	    ".q0.1.5",
	    "0123456789abcdef.q0.1.99999999999999999999",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (queue_file_name_parse(bad[i], &n) == 0) {
			printf("# accepted: %s\n", bad[i]);
			CHECK(0);
		}
	}
}

TEST(test_queue_backoff_doubles_from_a_minute_up_to_four_hours)
{
	CHECK_INT(queue_file_backoff(0), 60);
	CHECK_INT(queue_file_backoff(1), 60);
	CHECK_INT(queue_file_backoff(2), 120);
	CHECK_INT(queue_file_backoff(3), 240);
	CHECK_INT(queue_file_backoff(8), 60 * 128);
	CHECK_INT(queue_file_backoff(9), 4 * 3600);
	CHECK_INT(queue_file_backoff(1000000), 4 * 3600);
}

TEST(test_queue_header_round_trips_every_field)
{
	struct queue_header h, p;
	struct buf b = BUF_INIT(QUEUE_HEADER_MAX);
	struct cl_err e;
	size_t used = 0;

	full_header(&h);
	CHECK(queue_file_header_format(&h, &b, NULL, &e) == 0);
	CHECK(buf_add(&b, "hello", 5) == 0);
	queue_file_header_init(&p);
	CHECK(queue_file_header_parse(b.data, b.len, &p, &used, &e) == 0);
	CHECK_INT(used, b.len - 5);
	CHECK_STR(p.id, "6741b2c0a1b2c3d4");
	CHECK_INT(p.created, 1732424384);
	CHECK_STR(p.account, "work");
	CHECK_STR(p.config, "/home/a/.config/clsmtpc/config");
	CHECK_STR(p.host, "smtp.example.com");
	CHECK_STR(p.port, "465");
	CHECK_INT(p.tls_mode, SMTP_TLS_SMTPS);
	CHECK_STR(p.auth, "plain");
	CHECK_STR(p.user, "alice@example.com");
	CHECK_STR(p.passwordeval, "pass show mail/work | head -1");
	CHECK(p.passfile == NULL && p.password_env == NULL && p.keyring == 0);
	CHECK_STR(p.trust_file, "/etc/ssl/ca.pem");
	CHECK_STR(p.fingerprint, "ab:cd");
	CHECK_INT(p.certcheck, 0);
	CHECK_INT(p.family, AF_INET6);
	CHECK_STR(p.domain, "laptop.example.com");
	CHECK_INT(p.timeout_s, 30);
	CHECK_STR(p.from, "alice@example.com");
	CHECK_INT(p.nrcpt, 2);
	CHECK_STR(p.rcpts[0], "bob@example.net");
	CHECK_STR(p.rcpts[1], "carol@example.org");
	CHECK_INT(p.body_8bit, 1);
	CHECK_INT(p.smtputf8, 0);
	CHECK_STR(p.message_id, "<1.2@laptop.example.com>");
	CHECK_INT(p.size, 5);
	queue_file_header_free(&p);
	buf_free(&b);
}

TEST(test_queue_header_keeps_the_null_sender_and_defaults)
{
	struct queue_header h, p;
	struct buf b = BUF_INIT(QUEUE_HEADER_MAX);
	struct cl_err e;
	size_t used;

	queue_file_header_init(&h);
	memcpy(h.id, "0000000000000001", QUEUE_ID_LEN + 1);
	h.host = "127.0.0.1";
	h.port = "25";
	h.from = "";
	h.rcpts = (const char **)two_rcpts;
	h.nrcpt = 1;
	h.size = 0;
	CHECK(queue_file_header_format(&h, &b, NULL, &e) == 0);
	CHECK(strstr(buf_cstr(&b), "\nfrom:\n") != NULL);
	CHECK(queue_file_header_parse(b.data, b.len, &p, &used, &e) == 0);
	CHECK_STR(p.from, "");
	CHECK(p.auth == NULL && p.user == NULL && p.domain == NULL);
	CHECK_INT(p.tls_mode, SMTP_TLS_AUTO);
	CHECK_INT(p.certcheck, 1);
	CHECK_INT(p.family, AF_UNSPEC);
	CHECK_INT(p.timeout_s, 0);
	queue_file_header_free(&p);
	buf_free(&b);
}

TEST(test_queue_header_refuses_a_line_break_in_a_value)
{
	struct queue_header h;
	struct buf b = BUF_INIT(QUEUE_HEADER_MAX);
	struct cl_err e;

	full_header(&h);
	h.passwordeval = "pass show x\nrm -rf ~";
	CHECK(queue_file_header_format(&h, &b, NULL, &e) == -1);
	CHECK_INT(e.cls, CL_EDATA);
	CHECK(strstr(e.msg, "passwordeval") != NULL);
	full_header(&h);
	h.domain = "a\rb";
	buf_reset(&b);
	CHECK(queue_file_header_format(&h, &b, NULL, &e) == -1);
	buf_free(&b);
}

/* Parse text; return the result and leave the error in e. */
static int parse(const char *text, struct cl_err *e)
{
	struct queue_header p;
	size_t used;
	int r;

	queue_file_header_init(&p);
	r = queue_file_header_parse(text, strlen(text), &p, &used, e);
	queue_file_header_free(&p);
	return r;
}

#define GOOD_TOP  "clsmtpc-queue: 1\nid: 0000000000000001\ncreated: 5\n"
#define GOOD_REST "host: h\nport: 25\nfrom: a@b\nto: c@d\nsize: 0\n"

TEST(test_queue_header_refuses_what_it_does_not_understand)
{
	struct cl_err e;

	CHECK(parse(GOOD_TOP GOOD_REST "\n", &e) == 0);
	CHECK(parse("clsmtpc-queue: 2\nid: 0000000000000001\ncreated: 5\n" GOOD_REST "\n", &e) ==
	      -1);
	CHECK(strstr(e.msg, "format") != NULL);
	CHECK(parse(GOOD_TOP GOOD_REST "client-cert: /x\n\n", &e) == -1);
	CHECK(strstr(e.msg, "client-cert") != NULL);
	CHECK(parse("id: 0000000000000001\nclsmtpc-queue: 1\ncreated: 5\n" GOOD_REST "\n", &e) ==
	      -1);
	CHECK(parse(GOOD_TOP "host: h\nport: 25\nfrom: a@b\nsize: 0\n\n", &e) == -1); /* no to */
	CHECK(parse(GOOD_TOP GOOD_REST "host: other\n\n", &e) == -1);                 /* twice */
	CHECK(parse(GOOD_TOP GOOD_REST "tls: maybe\n\n", &e) == -1);
	CHECK(parse(GOOD_TOP GOOD_REST "family: 5\n\n", &e) == -1);
	CHECK(parse(GOOD_TOP GOOD_REST "timeout: 0\n\n", &e) == -1);
	CHECK(parse(GOOD_TOP GOOD_REST "body-8bit: yes\n\n", &e) == -1);
	CHECK(parse(GOOD_TOP GOOD_REST "no colon here\n\n", &e) == -1);
	CHECK(parse("clsmtpc-queue: 1\nid: 000000000000000G\ncreated: 5\n" GOOD_REST "\n", &e) ==
	      -1);
	CHECK(parse("clsmtpc-queue: 1\r\nid: 0000000000000001\ncreated: 5\n" GOOD_REST "\n", &e) ==
	      -1);
}

TEST(test_queue_header_without_its_end_asks_for_more)
{
	struct cl_err e;

	CHECK(parse(GOOD_TOP GOOD_REST, &e) == 1);
	CHECK(parse("", &e) == 1);
}

TEST(test_queue_header_size_placeholder_is_filled_later)
{
	struct queue_header h, p;
	struct buf b = BUF_INIT(QUEUE_HEADER_MAX);
	struct cl_err e;
	size_t at = 0, used;
	char field[21];

	full_header(&h);
	h.size = -1;
	CHECK(queue_file_header_format(&h, &b, &at, &e) == 0);
	CHECK(at > 0 && at + 20 < b.len);
	queue_file_size_field(123456, field);
	memcpy(b.data + at, field, 20);
	CHECK(queue_file_header_parse(b.data, b.len, &p, &used, &e) == 0);
	CHECK_INT(p.size, 123456);
	CHECK_INT(used, b.len);
	queue_file_header_free(&p);
	buf_free(&b);
}

TEST(test_queue_conn_key_groups_by_connection_not_envelope)
{
	struct queue_header a, b;
	struct buf ka = BUF_INIT(QUEUE_HEADER_MAX), kb = BUF_INIT(QUEUE_HEADER_MAX);

	full_header(&a);
	full_header(&b);
	memcpy(b.id, "0000000000000002", QUEUE_ID_LEN + 1);
	b.created = 99;
	b.from = "other@example.com";
	b.nrcpt = 1;
	b.message_id = NULL;
	b.size = 1000;
	CHECK(queue_file_conn_key(&a, &ka) == 0);
	CHECK(queue_file_conn_key(&b, &kb) == 0);
	CHECK_STR(buf_cstr(&ka), buf_cstr(&kb));
	b.port = "587";
	queue_file_conn_key(&b, &kb);
	CHECK(strcmp(buf_cstr(&ka), buf_cstr(&kb)) != 0);
	b.port = a.port;
	b.passwordeval = "another command";
	queue_file_conn_key(&b, &kb);
	CHECK(strcmp(buf_cstr(&ka), buf_cstr(&kb)) != 0);
	buf_free(&ka);
	buf_free(&kb);
}

TEST(test_queue_finds_the_message_id_in_the_header_only)
{
	struct buf b = BUF_INIT(1000);
	const char *m1 = "From: a@b\r\nmessage-ID:  <x.y@z> \r\nSubject: s\r\n\r\nbody\r\n";
	const char *m2 = "From: a@b\r\nSubject: s\r\n\r\nMessage-ID: <in@body>\r\n";

	CHECK(queue_file_find_message_id(m1, strlen(m1), &b) == 0);
	CHECK_STR(buf_cstr(&b), "<x.y@z>");
	CHECK(queue_file_find_message_id(m2, strlen(m2), &b) == -1);
	CHECK(queue_file_find_message_id("", 0, &b) == -1);
	buf_free(&b);
}

int main(void)
{
	RUN(test_queue_name_round_trips_every_state);
	RUN(test_queue_name_rejects_other_names);
	RUN(test_queue_backoff_doubles_from_a_minute_up_to_four_hours);
	RUN(test_queue_header_round_trips_every_field);
	RUN(test_queue_header_keeps_the_null_sender_and_defaults);
	RUN(test_queue_header_refuses_a_line_break_in_a_value);
	RUN(test_queue_header_refuses_what_it_does_not_understand);
	RUN(test_queue_header_without_its_end_asks_for_more);
	RUN(test_queue_header_size_placeholder_is_filled_later);
	RUN(test_queue_conn_key_groups_by_connection_not_envelope);
	RUN(test_queue_finds_the_message_id_in_the_header_only);
	CHECK_DONE();
}
