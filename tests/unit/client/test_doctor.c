/*
 * test_doctor.c - the doctor's verdict, report and JSON on made-up
 * findings: which port it recommends and why, OP25B in words, warnings,
 * the command line (quoting, no secret), 80 columns, colour, JSON escaping.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "doctor.h"
#include "doctor_conclude.h"
#include "doctor_json.h"
#include "base/json.h"
#include "doctor_report.h"

/* A fixed "now" for expiry warnings: 2030-01-01T00:00:00Z. */
#define NOW 1893456000LL

static struct doctor_report *report_new(const char *host)
{
	struct doctor_report *r = calloc(1, sizeof(*r));

	snprintf(r->disc.target, sizeof(r->disc.target), "%s", host);
	snprintf(r->disc.host, sizeof(r->disc.host), "%s", host);
	r->disc.method = "given";
	r->host = r->disc.host;
	r->timeout_s = 10;
	r->concl.rec = -1;
	doctor_ports_init(r, 0, 0);
	return r;
}

static struct doctor_port *port_of(struct doctor_report *r, int port)
{
	for (size_t i = 0; i < r->nports; i++)
		if (r->ports[i].port == port)
			return &r->ports[i];
	return NULL;
}

static void set_state(struct doctor_report *r, int port, enum doctor_state st)
{
	struct doctor_port *p = port_of(r, port);

	p->state = st;
	snprintf(p->detail, sizeof(p->detail), "%s", doctor_state_name(st));
}

/* An open port that speaks SMTP; auth_clear / auth_tls NULL: no AUTH.
 * tls: 0 none, 1 TLS up and verified. */
static void set_smtp(struct doctor_report *r, int port, const char *auth_clear, int starttls,
                     int tls, const char *auth_tls)
{
	struct doctor_port *p = port_of(r, port);
	struct smtp_probe_result *s = &p->smtp;

	p->state = DOCTOR_OPEN;
	p->connected = 1;
	p->detail[0] = '\0';
	snprintf(p->addr, sizeof(p->addr), "192.0.2.25");
	s->greeting_code = 220;
	snprintf(s->greeting, sizeof(s->greeting), "%s ESMTP", r->host);
	s->completed = 1;
	if (!p->implicit_tls) {
		s->clear.code = 250;
		s->clear.esmtp = 1;
		snprintf(s->clear.text, sizeof(s->clear.text), "%s\nPIPELINING", r->host);
		if (starttls)
			s->clear.caps.flags |= CAP_STARTTLS;
		if (auth_clear) {
			s->clear.caps.flags |= CAP_AUTH;
			snprintf(s->clear.caps.auth, sizeof(s->clear.caps.auth), "%s", auth_clear);
		}
	}
	if (tls) {
		s->tls_tried = s->tls_up = 1;
		snprintf(s->tls_version, sizeof(s->tls_version), "TLSv1.3");
		snprintf(s->tls_cipher, sizeof(s->tls_cipher), "TLS_AES_256_GCM_SHA384");
		snprintf(s->peer.subject, sizeof(s->peer.subject), "CN = %s", r->host);
		snprintf(s->peer.issuer, sizeof(s->peer.issuer), "CN = Test CA");
		snprintf(s->peer.not_after, sizeof(s->peer.not_after), "2031-01-01T00:00:00Z");
		snprintf(s->peer.sha256, sizeof(s->peer.sha256), "AB:CD:EF");
		s->peer.verify = TLS_VERIFY_OK;
		s->tls.code = 250;
		s->tls.esmtp = 1;
		snprintf(s->tls.text, sizeof(s->tls.text), "%s\nPIPELINING\nAUTH %s", r->host,
		         auth_tls ? auth_tls : "");
		s->tls.caps.flags |= CAP_PIPELINING;
		if (auth_tls) {
			s->tls.caps.flags |= CAP_AUTH;
			snprintf(s->tls.caps.auth, sizeof(s->tls.caps.auth), "%s", auth_tls);
		}
	}
}

static void opts_init(struct client_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->certcheck = 1;
}

/* The usual OP25B picture: 25 filtered, 465 and 587 fine, 2525 refused. */
static struct doctor_report *op25b_report(void)
{
	struct doctor_report *r = report_new("mail.example.net");

	set_state(r, 25, DOCTOR_FILTERED);
	set_smtp(r, 465, NULL, 0, 1, "PLAIN LOGIN");
	set_smtp(r, 587, NULL, 1, 1, "PLAIN LOGIN");
	set_state(r, 2525, DOCTOR_REFUSED);
	return r;
}

static void report_free(struct doctor_report *r)
{
	doctor_report_free(r);
	free(r);
}

static int has_warning(const struct doctor_report *r, const char *part)
{
	for (size_t i = 0; i < r->concl.nwarnings; i++)
		if (strstr(r->concl.warnings[i], part))
			return 1;
	return 0;
}

TEST(test_conclude_prefers_implicit_tls_over_starttls)
{
	struct doctor_report *r = op25b_report();
	struct client_opts o;

	opts_init(&o);
	CHECK_INT(doctor_conclude(r, &o, NOW), 0);
	CHECK(r->concl.rec >= 0);
	CHECK_INT(r->ports[r->concl.rec].port, 465);
	CHECK_STR(r->concl.rec_auth, "plain");
	CHECK(r->concl.argc > 8);
	CHECK_STR(r->concl.argv[0], "clsmtpc");
	CHECK_STR(r->concl.argv[1], "-Z");
	CHECK_STR(r->concl.argv[2], "smtps");
	CHECK(strstr(r->concl.summary, "587 works too, with STARTTLS") != NULL);
	CHECK(strstr(r->concl.summary, "RFC 8314") != NULL);
	CHECK_INT(r->concl.cls, CL_OK);
	report_free(r);
}

TEST(test_conclude_names_op25b_when_only_25_is_silent)
{
	struct doctor_report *r = op25b_report();
	struct client_opts o;

	opts_init(&o);
	doctor_conclude(r, &o, NOW);
	CHECK(strncmp(r->concl.summary, "Port 25 is filtered from this network", 37) == 0);
	CHECK(strstr(r->concl.summary, "OP25B") != NULL);
	CHECK(strstr(r->concl.summary, "465 works with implicit TLS") != NULL);
	CHECK(strstr(r->concl.summary, "offers PLAIN and LOGIN") != NULL);
	report_free(r);
}

TEST(test_conclude_all_silent_is_a_dead_host_not_op25b)
{
	struct doctor_report *r = report_new("down.example.net");
	struct client_opts o;

	opts_init(&o);
	for (size_t i = 0; i < r->nports; i++)
		set_state(r, r->ports[i].port, DOCTOR_FILTERED);
	doctor_conclude(r, &o, NOW);
	CHECK(strstr(r->concl.summary, "OP25B") == NULL);
	CHECK(strncmp(r->concl.summary, "No port of down.example.net answers", 35) == 0);
	CHECK_INT(r->concl.rec, -1);
	CHECK_INT(r->concl.cls, CL_ETEMP);
	CHECK(r->concl.argv == NULL);
	report_free(r);
}

TEST(test_conclude_skips_a_port_whose_certificate_fails)
{
	struct doctor_report *r = op25b_report();
	struct doctor_port *p = port_of(r, 465);
	struct client_opts o;

	p->smtp.peer.verify = TLS_VERIFY_EXPIRED;
	p->state = DOCTOR_TLS_FAILURE;
	p->tls_failure = "expired";
	snprintf(p->detail, sizeof(p->detail), "the certificate expired on 2020-02-01");
	opts_init(&o);
	doctor_conclude(r, &o, NOW);
	CHECK_INT(r->ports[r->concl.rec].port, 587);
	CHECK_STR(r->concl.argv[2], "tls");
	CHECK(has_warning(r, "465: TLS fails: the certificate expired"));
	report_free(r);
}

TEST(test_conclude_accepts_a_bad_certificate_only_when_checking_is_off)
{
	struct doctor_report *r = report_new("self.example.net");
	struct doctor_port *p;
	struct client_opts o;

	set_state(r, 25, DOCTOR_REFUSED);
	set_smtp(r, 465, NULL, 0, 1, "PLAIN");
	set_state(r, 587, DOCTOR_REFUSED);
	set_state(r, 2525, DOCTOR_REFUSED);
	p = port_of(r, 465);
	p->smtp.peer.verify = TLS_VERIFY_UNTRUSTED;
	snprintf(p->smtp.peer.verify_msg, sizeof(p->smtp.peer.verify_msg),
	         "self-signed certificate");
	p->state = DOCTOR_TLS_FAILURE;
	opts_init(&o);
	doctor_conclude(r, &o, NOW);
	CHECK_INT(r->concl.rec, -1);
	CHECK_INT(r->concl.cls, CL_ETLS);

	o.certcheck = 0;
	doctor_conclude(r, &o, NOW);
	CHECK(r->concl.rec >= 0);
	CHECK(strstr(r->concl.command, "--tls-certcheck=off") != NULL);
	CHECK(has_warning(r, "accepted only because of --tls-certcheck=off"));

	/* A pinned fingerprint must match what the server showed. */
	o.certcheck = 1;
	o.fingerprint = "ab:cd:ef";
	doctor_conclude(r, &o, NOW);
	CHECK(r->concl.rec >= 0);
	o.fingerprint = "00:11:22";
	doctor_conclude(r, &o, NOW);
	CHECK_INT(r->concl.rec, -1);
	report_free(r);
}

TEST(test_conclude_warns_auth_before_starttls)
{
	struct doctor_report *r = op25b_report();
	struct client_opts o;

	set_smtp(r, 587, "PLAIN LOGIN", 1, 1, "PLAIN LOGIN");
	opts_init(&o);
	doctor_conclude(r, &o, NOW);
	CHECK(has_warning(r, "587 offers AUTH PLAIN LOGIN before STARTTLS"));
	report_free(r);
}

TEST(test_conclude_warns_auth_without_any_tls)
{
	struct doctor_report *r = op25b_report();
	struct client_opts o;

	set_smtp(r, 2525, "CRAM-MD5 LOGIN", 0, 0, NULL);
	opts_init(&o);
	doctor_conclude(r, &o, NOW);
	CHECK(has_warning(r, "2525 offers AUTH CRAM-MD5 LOGIN without any TLS"));
	/* A port without TLS is never the recommendation. */
	CHECK_INT(r->ports[r->concl.rec].port, 465);
	report_free(r);
}

TEST(test_conclude_warns_only_weak_mechanisms)
{
	struct doctor_report *r = op25b_report();
	struct client_opts o;

	set_smtp(r, 465, NULL, 0, 1, "CRAM-MD5 DIGEST-MD5");
	opts_init(&o);
	doctor_conclude(r, &o, NOW);
	CHECK(has_warning(r, "465 offers only CRAM-MD5 DIGEST-MD5"));
	CHECK(!has_warning(r, "587 offers only"));
	report_free(r);
}

TEST(test_conclude_picks_the_strongest_offered_mechanism)
{
	struct doctor_report *r = op25b_report();
	struct client_opts o;

	set_smtp(r, 465, NULL, 0, 1, "PLAIN LOGIN SCRAM-SHA-256-PLUS SCRAM-SHA-256");
	opts_init(&o);
	doctor_conclude(r, &o, NOW);
	/* -PLUS is the client's own upgrade when it has a channel binding. */
	CHECK_STR(r->concl.rec_auth, "scram-sha-256");
	report_free(r);
}

TEST(test_conclude_uses_what_the_auth_test_proved)
{
	struct doctor_report *r = op25b_report();
	struct client_opts o;

	set_smtp(r, 465, NULL, 0, 1, "PLAIN LOGIN CRAM-MD5");
	r->auth.tried = 1;
	r->auth.ok = 1;
	r->auth.port = 465;
	snprintf(r->auth.mech, sizeof(r->auth.mech), "LOGIN");
	opts_init(&o);
	o.user = "alice";
	doctor_conclude(r, &o, NOW);
	CHECK_STR(r->concl.rec_auth, "login");
	CHECK(strstr(r->concl.summary, "Your credentials work: AUTH LOGIN on 465") != NULL);
	CHECK_INT(r->concl.cls, CL_OK);
	report_free(r);
}

TEST(test_conclude_refused_credentials_mean_exit_auth)
{
	struct doctor_report *r = op25b_report();
	struct client_opts o;

	r->auth.tried = 1;
	r->auth.port = 465;
	r->auth.cls = CL_EAUTH;
	snprintf(r->auth.detail, sizeof(r->auth.detail), "AUTH PLAIN as alice rejected: 535 5.7.8");
	opts_init(&o);
	o.user = "alice";
	doctor_conclude(r, &o, NOW);
	CHECK_INT(r->concl.cls, CL_EAUTH);
	CHECK(strstr(r->concl.summary, "refused your credentials") != NULL);
	CHECK(r->concl.rec >= 0); /* the port is right; the password is not */
	report_free(r);
}

TEST(test_conclude_command_uses_the_address_or_placeholders)
{
	struct doctor_report *r = op25b_report();
	struct client_opts o;

	opts_init(&o);
	doctor_conclude(r, &o, NOW);
	CHECK(strstr(r->concl.command, " -U USER ") != NULL);
	CHECK(strstr(r->concl.command, " -F ADDRESS -T ADDRESS ") != NULL);
	CHECK(strstr(r->concl.summary, "replace USER and ADDRESS") != NULL);

	snprintf(r->disc.address, sizeof(r->disc.address), "bob@example.net");
	doctor_conclude(r, &o, NOW);
	CHECK(strstr(r->concl.command, " -U bob@example.net ") != NULL);
	CHECK(strstr(r->concl.command, " -F bob@example.net -T bob@example.net ") != NULL);
	CHECK(strstr(r->concl.summary, "replace") == NULL);
	report_free(r);
}

TEST(test_conclude_never_prints_the_password)
{
	struct doctor_report *r = op25b_report();
	struct client_opts o;
	char pw[] = "s3cret-Pass";

	opts_init(&o);
	o.user = "alice";
	o.password = pw;
	o.trust_file = "/etc/ssl/my ca.pem";
	doctor_conclude(r, &o, NOW);
	CHECK(strstr(r->concl.command, "s3cret") == NULL);
	CHECK(strstr(r->concl.account, "s3cret") == NULL);
	CHECK(strstr(r->concl.command, "--tls-trust-file '/etc/ssl/my ca.pem'") != NULL);
	CHECK(strstr(r->concl.account, "tls_starttls off\n") != NULL);

	o.password = NULL;
	o.passwordeval = "pass show mail";
	doctor_conclude(r, &o, NOW);
	CHECK(strstr(r->concl.command, "--passwordeval 'pass show mail'") != NULL);
	CHECK(strstr(r->concl.account, "passwordeval 'pass show mail'\n") != NULL);
	report_free(r);
}

TEST(test_conclude_warns_of_a_certificate_expiring_soon)
{
	struct doctor_report *r = op25b_report();
	struct client_opts o;

	snprintf(port_of(r, 465)->smtp.peer.not_after, sizeof(port_of(r, 465)->smtp.peer.not_after),
	         "2030-01-04T00:00:00Z");
	opts_init(&o);
	doctor_conclude(r, &o, NOW);
	CHECK(has_warning(r, "465: the certificate expires soon, on 2030-01-04"));
	CHECK(!has_warning(r, "587: the certificate expires soon"));
	report_free(r);
}

TEST(test_conclude_quote_for_the_shell)
{
	struct buf b = BUF_INIT(256);

	doctor_conclude_quote(&b, "alice@example.net");
	CHECK_STR(buf_cstr(&b), "alice@example.net");
	buf_reset(&b);
	doctor_conclude_quote(&b, "clsmtpc test");
	CHECK_STR(buf_cstr(&b), "'clsmtpc test'");
	buf_reset(&b);
	doctor_conclude_quote(&b, "it's $HOME");
	CHECK_STR(buf_cstr(&b), "'it'\\''s $HOME'");
	buf_reset(&b);
	doctor_conclude_quote(&b, "");
	CHECK_STR(buf_cstr(&b), "''");
	buf_free(&b);
}

TEST(test_ports_init_adds_an_extra_port_once)
{
	struct doctor_report *r = report_new("h");

	CHECK_INT(r->nports, 4);
	CHECK_INT(r->ports[0].port, 25);
	CHECK_INT(r->ports[1].port, 465);
	CHECK_INT(r->ports[1].implicit_tls, 1);
	doctor_ports_init(r, 465, 1);
	CHECK_INT(r->nports, 4);
	doctor_ports_init(r, 10465, 1);
	CHECK_INT(r->nports, 5);
	CHECK_INT(r->ports[4].implicit_tls, 1);
	report_free(r);
}

/* Every line of s at most max columns (UTF-8 aware, escapes excluded). */
static size_t widest_line(const char *s)
{
	size_t w = 0, col = 0;

	for (; *s; s++) {
		if (*s == '\n') {
			col = 0;
			continue;
		}
		if (((unsigned char)*s & 0xC0) != 0x80)
			col++;
		if (col > w)
			w = col;
	}
	return w;
}

TEST(test_report_fits_80_columns)
{
	struct doctor_report *r = op25b_report();
	struct buf out = BUF_INIT(1 << 20);
	struct client_opts o;

	set_smtp(r, 465, NULL, 0, 1,
	         "PLAIN LOGIN CRAM-MD5 DIGEST-MD5 SCRAM-SHA-1 SCRAM-SHA-256 SCRAM-SHA-1-PLUS "
	         "SCRAM-SHA-256-PLUS XOAUTH2 OAUTHBEARER");
	snprintf(port_of(r, 465)->smtp.greeting, sizeof(port_of(r, 465)->smtp.greeting),
	         "mail.example.net ESMTP a very long greeting that goes on and on and on past "
	         "the end of any reasonable terminal line, as some servers do");
	opts_init(&o);
	o.trust_file = "/a/long/path/to/a/trust/file/that/makes/the/command/wrap.pem";
	doctor_conclude(r, &o, NOW);
	CHECK_INT(doctor_report_format(&out, r, 0), 0);
	CHECK(widest_line(buf_cstr(&out)) <= 80);
	CHECK(strstr(buf_cstr(&out), "\nUse:\n  clsmtpc -Z smtps") != NULL);
	CHECK(strstr(buf_cstr(&out), "\n25    filtered") != NULL);
	buf_free(&out);
	report_free(r);
}

TEST(test_report_colour_only_when_asked)
{
	struct doctor_report *r = op25b_report();
	struct buf plain = BUF_INIT(1 << 20), col = BUF_INIT(1 << 20);
	struct client_opts o;

	opts_init(&o);
	doctor_conclude(r, &o, NOW);
	doctor_report_format(&plain, r, 0);
	doctor_report_format(&col, r, 1);
	CHECK(strchr(buf_cstr(&plain), '\033') == NULL);
	CHECK(strstr(buf_cstr(&col), "\033[32mopen\033[0m") != NULL);
	buf_free(&plain);
	buf_free(&col);
	report_free(r);
}

TEST(test_report_cleans_control_characters_from_the_server)
{
	struct doctor_report *r = op25b_report();
	struct buf out = BUF_INIT(1 << 20);
	struct client_opts o;

	snprintf(port_of(r, 465)->smtp.greeting, sizeof(port_of(r, 465)->smtp.greeting),
	         "evil \033[2J\033]0;owned\007 server");
	opts_init(&o);
	doctor_conclude(r, &o, NOW);
	doctor_report_format(&out, r, 0);
	CHECK(strchr(buf_cstr(&out), '\033') == NULL);
	CHECK(strchr(buf_cstr(&out), '\007') == NULL);
	buf_free(&out);
	report_free(r);
}

TEST(test_report_wrap_keeps_long_words_whole)
{
	struct buf b = BUF_INIT(1024);

	doctor_report_wrap(&b, "aa bb cc dd", 2, 7);
	CHECK_STR(buf_cstr(&b), "  aa bb\n  cc dd\n");
	buf_reset(&b);
	doctor_report_wrap(&b, "x averyveryverylongword y", 0, 6);
	CHECK_STR(buf_cstr(&b), "x\naveryveryverylongword\ny\n");
	buf_free(&b);
}

TEST(test_json_string_escapes_and_replaces_invalid_utf8)
{
	struct buf b = BUF_INIT(256);

	json_string(&b, "a\"b\\c\n\001\xff\xe6\x97\xa5");
	CHECK_STR(buf_cstr(&b), "\"a\\\"b\\\\c\\n\\u0001\\ufffd\xe6\x97\xa5\"");
	buf_free(&b);
}

TEST(test_json_report_has_the_documented_fields)
{
	struct doctor_report *r = op25b_report();
	struct buf out = BUF_INIT(1 << 20);
	struct client_opts o;
	const char *s;
	int depth = 0, in_str = 0;

	opts_init(&o);
	doctor_conclude(r, &o, NOW);
	doctor_json_format(&out, r);
	s = buf_cstr(&out);
	CHECK(strstr(s, "\"schema\": \"clsmtpc-doctor/1\"") != NULL);
	CHECK(strstr(s, "\"state\": \"filtered\"") != NULL);
	CHECK(strstr(s, "\"port25\": \"filtered\"") != NULL);
	CHECK(strstr(s, "\"tls_mode\": \"smtps\"") != NULL);
	CHECK(strstr(s, "\"command\": [") != NULL);
	CHECK(strstr(s, "\"exit_status\": 0") != NULL);
	CHECK(strstr(s, "\"auth_test\": null") != NULL);
	/* Balanced outside strings, and one object. */
	for (const char *p = s; *p; p++) {
		if (in_str) {
			if (*p == '\\')
				p++;
			else if (*p == '"')
				in_str = 0;
			continue;
		}
		if (*p == '"')
			in_str = 1;
		else if (*p == '{' || *p == '[')
			depth++;
		else if (*p == '}' || *p == ']')
			depth--;
		CHECK(depth >= 0);
	}
	CHECK_INT(depth, 0);
	CHECK(s[0] == '{');
	buf_free(&out);
	report_free(r);
}

int main(void)
{
	RUN(test_conclude_prefers_implicit_tls_over_starttls);
	RUN(test_conclude_names_op25b_when_only_25_is_silent);
	RUN(test_conclude_all_silent_is_a_dead_host_not_op25b);
	RUN(test_conclude_skips_a_port_whose_certificate_fails);
	RUN(test_conclude_accepts_a_bad_certificate_only_when_checking_is_off);
	RUN(test_conclude_warns_auth_before_starttls);
	RUN(test_conclude_warns_auth_without_any_tls);
	RUN(test_conclude_warns_only_weak_mechanisms);
	RUN(test_conclude_picks_the_strongest_offered_mechanism);
	RUN(test_conclude_uses_what_the_auth_test_proved);
	RUN(test_conclude_refused_credentials_mean_exit_auth);
	RUN(test_conclude_command_uses_the_address_or_placeholders);
	RUN(test_conclude_never_prints_the_password);
	RUN(test_conclude_warns_of_a_certificate_expiring_soon);
	RUN(test_conclude_quote_for_the_shell);
	RUN(test_ports_init_adds_an_extra_port_once);
	RUN(test_report_fits_80_columns);
	RUN(test_report_colour_only_when_asked);
	RUN(test_report_cleans_control_characters_from_the_server);
	RUN(test_report_wrap_keeps_long_words_whole);
	RUN(test_json_string_escapes_and_replaces_invalid_utf8);
	RUN(test_json_report_has_the_documented_fields);
	CHECK_DONE();
}
