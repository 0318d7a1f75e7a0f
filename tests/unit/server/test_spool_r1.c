/* test_spool_r1.c - a spool written by release 1 (one TEXT field per
 * journal record, the sentences relay.c and deliver.c wrote at 3b224ef)
 * still reads: each recipient's state, attempts and sentence, and the
 * failure notices composed from it are byte for byte those release 1
 * composed (tests/unit/server/data/spool_r1_notices.txt, written by this
 * same file built against 3b224ef with --write). */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "dsn.h"

#define R1_EXPECTED "tests/unit/server/data/spool_r1_notices.txt"
#define QID         "692F6E8000001004D201"

static const char r1_msg[] =
    "clsmtpd-spool 1\nid\t" QID "\ntime\t1764716160\nclient\t192.0.2.7\n"
    "helo\tlaptop.example\nauth\talice\n"
    "from\talice@example.org\tBODY=8BITMIME ENVID=Q+2B1\n"
    "rcpt\t0\trelay\tgone@remote.test\t-\t-\trfc822;gone+2Bx@remote.test\n"
    "rcpt\t1\trelay\tslow@remote.test\t-\tFAILURE\t-\n"
    "rcpt\t2\trelay\tbig@remote.test\t-\t-\t-\n"
    "rcpt\t3\trelay\tnobody@nxdomain.test\t-\t-\t-\n"
    "rcpt\t4\tlocal\tbob@example.org\t/srv/mail/bob/Maildir\t-\t-\n"
    "rcpt\t5\trelay\tauth@remote.test\t-\t-\t-\n"
    "rcpt\t6\trelay\tok@remote.test\t-\tSUCCESS\t-\n"
    "rcpt\t7\tlocal\tbroken@example.org\t/srv/mail/broken/Maildir\t-\t-\n"
    "rcpt\t8\trelay\tcut@remote.test\t-\t-\t-\n"
    "data\n"
    "Received: from laptop.example ([192.0.2.7])\r\n\tby mx.home.example (clsmtpd) id " QID
    "\r\nFrom: <alice@example.org>\r\nSubject: r1\r\n\r\nthe body\r\n";

/* What relay.c, deliver.c and dsn.c of release 1 journalled. */
static const char r1_state[] =
    "F\t0\t1764716170\t0\thost smarthost.isp.example said: 550 5.1.1 <gone@remote.test>: "
    "Recipient address rejected: User unknown (in reply to RCPT TO)\n"
    "T\t1\t1764716170\t1764716470\thost smarthost.isp.example said: 451 4.3.0 try later "
    "(in reply to RCPT TO)\n"
    "T\t1\t1764716470\t1764717070\thost smarthost.isp.example: RCPT TO: connection closed by "
    "smarthost.isp.example\n"
    "F\t1\t1765148170\t0\tdelivery time expired after 5d (3 attempts); last error: host "
    "smarthost.isp.example said: 451 4.3.0 try later (in reply to RCPT TO)\n"
    "F\t2\t1764716170\t0\thost smarthost.isp.example said: 552 5.3.4 Message size exceeds "
    "fixed limit (in reply to end of DATA)\n"
    "F\t3\t1764716170\t0\t5.1.2 DNS: the domain nxdomain.test does not exist\n"
    "D\t4\t1764716171\t0\tdelivered to maildir\n"
    "F\t5\t1764716170\t0\thost smarthost.isp.example said: 554 5.7.1 <alice@example.org>: "
    "Sender address rejected: not owned by user (in reply to MAIL FROM)\n"
    "D\t6\t1764716170\t0\thost smarthost.isp.example said: 250 2.0.0 Ok: queued as 4Xy "
    "(in reply to end of DATA)\n"
    "T\t7\t1764716171\t1764716231\tmaildir /srv/mail/broken/Maildir: open tmp/: Permission "
    "denied\n"
    "F\t7\t1765148171\t0\tdelivery time expired after 5d (9 attempts); last error: maildir "
    "/srv/mail/broken/Maildir: open tmp/: Permission denied\n"
    "F\t8\t1765148172\t0\tdelivery time expired after 5d (0 attempts); last error: none\n"
    "T\t8\t1765148173\t1765148999\tcut short by a cra";

static int write_file(const char *dir, const char *sub, const char *text)
{
	char path[512];
	FILE *f;
	size_t n = strlen(text);

	snprintf(path, sizeof(path), "%s/%s/" QID, dir, sub);
	if ((f = fopen(path, "w")) == NULL)
		return -1;
	if (fwrite(text, 1, n, f) != n) {
		fclose(f);
		return -1;
	}
	return fclose(f);
}

/* Load the r1 spool in a fresh directory and compose what release 1 would:
 * each recipient's state and sentence, then the failure notices. */
static int r1_render(struct buf *out)
{
	char dir[] = "/tmp/clsmtp-r1-XXXXXX", path[600];
	struct spool *sp = NULL;
	struct spool_envelope env;
	struct cl_err err;
	size_t i, failed[16], nf = 0;
	const char *sub[] = {"tmp", "msg", "state"};
	int r = -1;

	if (mkdtemp(dir) == NULL || spool_open(&sp, dir, &err) < 0)
		return -1;
	if (write_file(dir, "msg", r1_msg) < 0 || write_file(dir, "state", r1_state) < 0 ||
	    spool_load(sp, QID, &env, &err) < 0)
		goto out;
	for (i = 0; i < env.nrcpt; i++) {
		buf_printf(out, "%zu %s %s attempts=%d next=%lld: %s\n", i, env.rcpt[i].addr,
		           spool_rstate_name(env.rcpt[i].state), env.rcpt[i].attempts,
		           (long long)env.rcpt[i].next_try,
		           env.rcpt[i].last_text ? env.rcpt[i].last_text : "(none)");
		if (env.rcpt[i].state == SPOOL_FAILED)
			failed[nf++] = i;
	}
	for (i = 0; i < nf; i++) {
		struct dsn_report rep;
		const char *orig = strstr(r1_msg, "\ndata\n") + 6;
		memset(&rep, 0, sizeof(rep));
		rep.hostname = "mx.home.example";
		rep.notice_qid = "692F6E8000002004D201";
		rep.now = 1765148200;
		rep.env = &env;
		rep.rcpt = &failed[i];
		rep.nrcpt = 1;
		rep.orig = orig;
		rep.orig_len = strlen(orig);
		rep.orig_complete = 1;
		rep.action = DSN_FAILED;
		buf_printf(out, "==== notice for %s\n", env.rcpt[failed[i]].addr);
		if (dsn_compose(&rep, out) < 0)
			goto out_env;
	}
	r = 0;
out_env:
	spool_env_free(&env);
out:
	spool_close(sp);
	for (i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s/" QID, dir, sub[i]);
		unlink(path);
		snprintf(path, sizeof(path), "%s/%s", dir, sub[i]);
		rmdir(path);
	}
	rmdir(dir);
	return r;
}

static char *read_all(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	char *p;
	long len;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	p = malloc((size_t)len + 1);
	if (p != NULL && fread(p, 1, (size_t)len, f) != (size_t)len) {
		free(p);
		p = NULL;
	}
	fclose(f);
	if (p != NULL)
		p[len] = '\0';
	*n = (size_t)len;
	return p;
}

TEST(test_release1_spool_reads_and_gives_the_same_notices)
{
	struct buf got = BUF_INIT(1 << 22);
	size_t n = 0, i;
	char *want = read_all(R1_EXPECTED, &n);

	CHECK(want != NULL);
	CHECK_INT(r1_render(&got), 0);
	CHECK_INT((long)got.len, (long)n);
	if (want != NULL && got.data != NULL) {
		for (i = 0; i < n && i < got.len && want[i] == got.data[i]; i++) {
		}
		if (i < n)
			fprintf(stderr, "# first difference at byte %zu: ...%.60s\n", i,
			        got.data + (i > 20 ? i - 20 : 0));
		CHECK(i == n && i == got.len);
	}
	free(want);
	buf_free(&got);
}

int main(int argc, char **argv)
{
	setenv("TZ", "UTC", 1);
	if (argc > 1 && strcmp(argv[1], "--write") == 0) {
		struct buf b = BUF_INIT(1 << 22);
		if (r1_render(&b) < 0)
			return 1;
		fwrite(b.data, 1, b.len, stdout);
		buf_free(&b);
		return 0;
	}
	RUN(test_release1_spool_reads_and_gives_the_same_notices);
	CHECK_DONE();
}
