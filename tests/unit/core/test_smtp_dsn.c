/*
 * test_smtp_dsn.c - the client engine's RFC 3461 parameters: RET/ENVID on
 * MAIL and NOTIFY/ORCPT on RCPT when the server offers DSN, none when it
 * does not (4.1), and bad values refused before a byte is written. The
 * server is a canned one in a child process on loopback that records the
 * command lines it received.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "testutil.h"
#include "engine/smtp_client.h"

/* The canned server's side of one connection. */
struct fake {
	int fd;
	char in[65536];
	size_t len;
	char held[4096]; /* replies kept back until DATA (pipelining) */
	size_t nheld;
};

/* One line without its CRLF into line; 0 at EOF. */
static int fake_line(struct fake *f, char *line, size_t max)
{
	char *nl;
	ssize_t n;

	while ((nl = memchr(f->in, '\n', f->len)) == NULL) {
		if (f->len == sizeof(f->in))
			return 0;
		n = read(f->fd, f->in + f->len, sizeof(f->in) - f->len);
		if (n <= 0)
			return 0;
		f->len += (size_t)n;
	}
	{
		size_t l = (size_t)(nl - f->in), k = l;
		if (k && f->in[k - 1] == '\r')
			k--;
		if (k >= max)
			k = max - 1;
		memcpy(line, f->in, k);
		line[k] = '\0';
		memmove(f->in, nl + 1, f->len - l - 1);
		f->len -= l + 1;
	}
	return 1;
}

static void fake_send(struct fake *f, const char *s)
{
	size_t n = strlen(s), off = 0;

	while (off < n) {
		ssize_t w = write(f->fd, s + off, n - off);
		if (w <= 0)
			_exit(3);
		off += (size_t)w;
	}
}

/* With PIPELINING offered, replies to MAIL and RCPT are held until DATA
 * (RFC 2920 lets a server do so): a client that waits for them before
 * sending the rest never gets them, and its command timeout fails the test. */
static void fake_reply(struct fake *f, int hold, const char *s)
{
	size_t n = strlen(s);

	if (!hold) {
		fake_send(f, s);
		return;
	}
	if (f->nheld + n >= sizeof(f->held))
		_exit(4);
	memcpy(f->held + f->nheld, s, n + 1);
	f->nheld += n;
}

static void fake_release(struct fake *f)
{
	if (f->nheld)
		fake_send(f, f->held);
	f->nheld = 0;
}

/* Serve one connection on lfd; every command line (not the message) goes
 * to rec, one per line. */
static void fake_serve(int lfd, const char *caps, int rec)
{
	struct fake f;
	char line[4096];
	int hold = strstr(caps, "PIPELINING") != NULL;

	memset(&f, 0, sizeof(f));
	f.fd = accept(lfd, NULL, NULL);
	if (f.fd < 0)
		_exit(2);
	fake_send(&f, "220 fake.example ESMTP\r\n");
	while (fake_line(&f, line, sizeof(line))) {
		if (write(rec, line, strlen(line)) < 0 || write(rec, "\n", 1) < 0)
			_exit(5);
		if (strncmp(line, "EHLO ", 5) == 0) {
			fake_send(&f, "250-fake.example\r\n");
			fake_send(&f, caps);
			fake_send(&f, "250 HELP\r\n");
		} else if (strncmp(line, "MAIL ", 5) == 0 || strncmp(line, "RCPT ", 5) == 0) {
			fake_reply(&f, hold, "250 2.0.0 Ok\r\n");
		} else if (strcmp(line, "DATA") == 0) {
			fake_release(&f);
			fake_send(&f, "354 go on\r\n");
			while (fake_line(&f, line, sizeof(line)) && strcmp(line, ".") != 0) {
			}
			fake_send(&f, "250 2.0.0 queued\r\n");
		} else if (strcmp(line, "RSET") == 0) {
			fake_send(&f, "250 2.0.0 Ok\r\n");
		} else if (strcmp(line, "QUIT") == 0) {
			fake_release(&f);
			fake_send(&f, "221 2.0.0 Bye\r\n");
			break;
		} else {
			fake_send(&f, "502 5.5.2 unknown\r\n");
		}
	}
	close(f.fd);
	_exit(0);
}

/* A session with a fake server offering caps ("250-X\r\n" lines). */
struct run {
	pid_t pid;
	int rec;
	struct smtp_client_params p;
	char port[16];
	struct smtp_client *s;
	struct buf notes; /* the engine's '-' transcript lines */
};

static void run_transcript(void *arg, const char *tag, char dir, const char *line)
{
	struct run *r = arg;

	(void)tag;
	if (dir == '-') {
		buf_adds(&r->notes, line);
		buf_addc(&r->notes, '\n');
	}
}

static int run_open(struct run *r, const char *caps)
{
	struct cl_err err;
	int port = 0, lfd = test_listener(&port), pfd[2];

	memset(r, 0, sizeof(*r));
	buf_init(&r->notes, 4096);
	if (lfd < 0 || pipe(pfd) < 0)
		return -1;
	fflush(stdout);
	r->pid = fork();
	if (r->pid < 0)
		return -1;
	if (r->pid == 0) {
		close(pfd[0]);
		fake_serve(lfd, caps, pfd[1]);
	}
	close(pfd[1]);
	close(lfd);
	r->rec = pfd[0];
	snprintf(r->port, sizeof(r->port), "%d", port);
	r->p.host = "127.0.0.1";
	r->p.port = r->port;
	r->p.family = AF_INET;
	r->p.tls_mode = SMTP_TLS_NONE;
	r->p.ehlo_domain = "client.example";
	r->p.transcript = run_transcript;
	r->p.transcript_arg = r;
	/* Only a bound on a broken test: nothing waits for it to pass. */
	smtp_timeouts_all(&r->p.timeouts, 5000);
	err_clear(&err);
	if (smtp_client_open(&r->s, &r->p, &err) < 0) {
		printf("# open: %s\n", err.msg);
		return -1;
	}
	return 0;
}

/* Quit, and the command lines the server received, into got. */
static void run_close(struct run *r, struct buf *got)
{
	char tmp[4096];
	ssize_t n;
	int st;

	if (r->s != NULL) {
		smtp_client_quit(r->s);
		smtp_client_free(r->s);
	}
	while ((n = read(r->rec, tmp, sizeof(tmp))) > 0)
		buf_add(got, tmp, (size_t)n);
	close(r->rec);
	waitpid(r->pid, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	buf_free(&r->notes);
}

static const char body[] = "Subject: dsn\r\n\r\nhello\r\n";

/* Send m (its body set here); returns what smtp_client_send returned. */
static int run_send(struct run *r, struct smtp_message *m, struct cl_err *err)
{
	struct smtp_mem_source mem;
	struct smtp_result res;
	int rc;

	smtp_body_from_memory(&m->body, &mem, body, sizeof(body) - 1);
	smtp_result_init(&res);
	err_clear(err);
	rc = smtp_client_send(r->s, m, 0, &res, err);
	if (rc < 0 && err->cls != CL_EDATA)
		printf("# send: %s\n", err->msg);
	smtp_result_free(&res);
	return rc;
}

static const char *const two_rcpts[] = {"a@example.org", "b@example.org"};
static const char *const two_notify[] = {"SUCCESS,DELAY", NULL};
static const char *const two_orcpt[] = {"rfc822;a@example.org", NULL};

static void dsn_message(struct smtp_message *m)
{
	memset(m, 0, sizeof(*m));
	m->from = "s@example.org";
	m->rcpts = two_rcpts;
	m->nrcpt = 2;
	m->ret = "hdrs";
	m->envid = "QID+2B42.x";
	m->notify = two_notify;
	m->orcpt = two_orcpt;
}

TEST(test_dsn_params_on_mail_and_rcpt_when_server_offers_dsn)
{
	struct run r;
	struct smtp_message m;
	struct cl_err err;
	struct buf got = BUF_INIT(65536);

	CHECK(run_open(&r, "250-DSN\r\n") == 0);
	dsn_message(&m);
	CHECK_INT(run_send(&r, &m, &err), 0);
	run_close(&r, &got);
	CHECK_STR(buf_cstr(&got), "EHLO client.example\n"
	                          "MAIL FROM:<s@example.org> RET=HDRS ENVID=QID+2B42.x\n"
	                          "RCPT TO:<a@example.org> NOTIFY=SUCCESS,DELAY "
	                          "ORCPT=rfc822;a@example.org\n"
	                          "RCPT TO:<b@example.org>\n"
	                          "DATA\n"
	                          "QUIT\n");
	buf_free(&got);
}

TEST(test_dsn_params_ride_in_the_pipelined_group)
{
	struct run r;
	struct smtp_message m;
	struct cl_err err;
	struct buf got = BUF_INIT(65536);

	/* The server answers MAIL and RCPT only once DATA has arrived. */
	CHECK(run_open(&r, "250-PIPELINING\r\n250-DSN\r\n") == 0);
	dsn_message(&m);
	CHECK_INT(run_send(&r, &m, &err), 0);
	m.ret = "FULL";
	m.envid = NULL;
	m.orcpt = NULL;
	CHECK_INT(run_send(&r, &m, &err), 0); /* a second message on the session */
	run_close(&r, &got);
	CHECK_STR(buf_cstr(&got), "EHLO client.example\n"
	                          "MAIL FROM:<s@example.org> RET=HDRS ENVID=QID+2B42.x\n"
	                          "RCPT TO:<a@example.org> NOTIFY=SUCCESS,DELAY "
	                          "ORCPT=rfc822;a@example.org\n"
	                          "RCPT TO:<b@example.org>\n"
	                          "DATA\n"
	                          "MAIL FROM:<s@example.org> RET=FULL\n"
	                          "RCPT TO:<a@example.org> NOTIFY=SUCCESS,DELAY\n"
	                          "RCPT TO:<b@example.org>\n"
	                          "DATA\n"
	                          "QUIT\n");
	buf_free(&got);
}

TEST(test_dsn_params_dropped_when_server_lacks_dsn)
{
	struct run r;
	struct smtp_message m;
	struct cl_err err;
	struct buf got = BUF_INIT(65536);

	CHECK(run_open(&r, "250-PIPELINING\r\n250-8BITMIME\r\n") == 0);
	dsn_message(&m);
	CHECK_INT(run_send(&r, &m, &err), 0);
	CHECK(strstr(buf_cstr(&r.notes), "does not offer DSN") != NULL);
	run_close(&r, &got);
	CHECK_STR(buf_cstr(&got), "EHLO client.example\n"
	                          "MAIL FROM:<s@example.org>\n"
	                          "RCPT TO:<a@example.org>\n"
	                          "RCPT TO:<b@example.org>\n"
	                          "DATA\n"
	                          "QUIT\n");
	buf_free(&got);
}

TEST(test_message_without_dsn_fields_sends_no_dsn_params)
{
	struct run r;
	struct smtp_message m;
	struct cl_err err;
	struct buf got = BUF_INIT(65536);

	CHECK(run_open(&r, "250-PIPELINING\r\n250-DSN\r\n") == 0);
	memset(&m, 0, sizeof(m)); /* as every existing caller builds it */
	m.from = "";
	m.rcpts = two_rcpts;
	m.nrcpt = 1;
	CHECK_INT(run_send(&r, &m, &err), 0);
	CHECK(strstr(buf_cstr(&r.notes), "DSN") == NULL);
	run_close(&r, &got);
	CHECK_STR(buf_cstr(&got), "EHLO client.example\n"
	                          "MAIL FROM:<>\n"
	                          "RCPT TO:<a@example.org>\n"
	                          "DATA\n"
	                          "QUIT\n");
	buf_free(&got);
}

/* Bad DSN values: each one refused with CL_EDATA and nothing written;
 * with and without DSN offered (the outcome does not depend on it). */
static const char *const bad_ret[] = {"NONE", "FULL\r\nRSET", "HDRS ", ""};
static const char *const bad_envid[] = {
    "a b",
    "a\r\nRCPT TO:<x@example.org>",
    "",
    "a=b",
    "+4",
    "+4G",
    "x\n",
    "\x7f",
    "\xc3\xa9",
    "0123456789012345678901234567890123456789012345678901234567890123456789"
    "0123456789012345678901234567890"}; /* 101 characters */
static const char *const bad_notify[] = {"NEVER,SUCCESS",  "SUCCESS\r\n", "",
                                         "SUCCESS,,DELAY", "SUCCESS,",    "SUCCESS DELAY",
                                         "ALWAYS",         "NEVER\rNEVER"};
static const char *const bad_orcpt[] = {
    "a@example.org", ";a@example.org", "rfc822;a b",
    "rfc822;a\nb",   "rfc822;a\rb",    "rfc822;a=b",
    "rfc822;a\x01",  "rfc822;\ta",     "rfc822;\xc3\xa9@example.org"};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Try m on r: refused as bad data, naming what. */
static void bad_one(struct run *r, struct smtp_message *m, const char *what)
{
	struct cl_err err;

	CHECK_INT(run_send(r, m, &err), -1);
	CHECK_INT(err.cls, CL_EDATA);
	if (strstr(err.msg, what) == NULL)
		printf("# error \"%s\" does not name %s\n", err.msg, what);
	CHECK(strstr(err.msg, what) != NULL);
}

static void bad_values_against(const char *caps)
{
	struct smtp_message m;
	struct run r;
	struct cl_err err;
	struct buf got = BUF_INIT(65536);
	char longorcpt[502];
	const char *notify[2] = {"SUCCESS", NULL}, *orcpt[2] = {"rfc822;a@example.org", NULL};
	const char *g;
	size_t i, nmail = 0;

	memset(longorcpt, 'a', sizeof(longorcpt) - 1);
	memcpy(longorcpt, "rfc822;", 7);
	longorcpt[sizeof(longorcpt) - 1] = '\0'; /* 501 characters */
	CHECK_INT(strlen(bad_envid[NELEM(bad_envid) - 1]), 101);
	CHECK(run_open(&r, caps) == 0);
	for (i = 0; i < NELEM(bad_ret); i++) {
		dsn_message(&m);
		m.ret = bad_ret[i];
		bad_one(&r, &m, "RET=");
	}
	for (i = 0; i < NELEM(bad_envid); i++) {
		dsn_message(&m);
		m.envid = bad_envid[i];
		bad_one(&r, &m, "ENVID=");
	}
	/* Per recipient: the first one good, the bad value on the second. */
	for (i = 0; i < NELEM(bad_notify); i++) {
		dsn_message(&m);
		notify[1] = bad_notify[i];
		m.notify = notify;
		bad_one(&r, &m, "NOTIFY= of recipient 2");
	}
	for (i = 0; i <= NELEM(bad_orcpt); i++) {
		dsn_message(&m);
		orcpt[1] = i < NELEM(bad_orcpt) ? bad_orcpt[i] : longorcpt;
		m.orcpt = orcpt;
		bad_one(&r, &m, "ORCPT= of recipient 2");
	}
	/* The session is still usable afterwards. */
	dsn_message(&m);
	CHECK_INT(run_send(&r, &m, &err), 0);
	run_close(&r, &got);
	/* The server saw the good message only, and no reset of a half-sent one. */
	for (g = buf_cstr(&got); (g = strstr(g, "MAIL FROM")) != NULL; g++)
		nmail++;
	CHECK_INT(nmail, 1);
	CHECK(strstr(buf_cstr(&got), "RSET") == NULL);
	CHECK(strstr(buf_cstr(&got), "x@example.org") == NULL);
	buf_free(&got);
}

TEST(test_dsn_bad_values_are_refused_before_anything_is_sent)
{
	bad_values_against("250-PIPELINING\r\n250-DSN\r\n");
	bad_values_against("250-PIPELINING\r\n");
}

TEST(test_dsn_ret_and_notify_are_case_insensitive)
{
	struct run r;
	struct smtp_message m;
	struct cl_err err;
	struct buf got = BUF_INIT(65536);
	const char *const notify[] = {"never", "failure,Delay"};

	CHECK(run_open(&r, "250-DSN\r\n") == 0);
	dsn_message(&m);
	m.ret = "Full";
	m.envid = NULL;
	m.orcpt = NULL;
	m.notify = notify;
	CHECK_INT(run_send(&r, &m, &err), 0);
	run_close(&r, &got);
	CHECK_STR(buf_cstr(&got), "EHLO client.example\n"
	                          "MAIL FROM:<s@example.org> RET=FULL\n"
	                          "RCPT TO:<a@example.org> NOTIFY=never\n"
	                          "RCPT TO:<b@example.org> NOTIFY=failure,Delay\n"
	                          "DATA\n"
	                          "QUIT\n");
	buf_free(&got);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	RUN(test_dsn_params_on_mail_and_rcpt_when_server_offers_dsn);
	RUN(test_dsn_params_ride_in_the_pipelined_group);
	RUN(test_dsn_params_dropped_when_server_lacks_dsn);
	RUN(test_message_without_dsn_fields_sends_no_dsn_params);
	RUN(test_dsn_bad_values_are_refused_before_anything_is_sent);
	RUN(test_dsn_ret_and_notify_are_case_insensitive);
	CHECK_DONE();
}
