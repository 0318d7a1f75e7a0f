/* test_deliver.c - the local delivery agent on a real spool in /tmp: a
 * pass delivers its messages in batches (more than one batch's worth, a
 * message whose recipients span two batches), each recipient exactly once;
 * a Maildir that cannot be written defers only its own recipients, whether
 * it fails before the flush (no directory) or in it (no new/); an expired
 * recipient fails for good beside delivered ones; the batch bounds; and
 * maildir_deliver alone. */
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "conf.h"
#include "deliver.h"
#include "log.h"
#include "maildir.h"
#include "server.h"

/* main.c (not linked into server unit tests) defines it for peer.c. */
__attribute__((weak)) void srv_wake_agent(struct srv *s);
__attribute__((weak)) void srv_wake_agent(struct srv *s)
{
	(void)s;
}

static char test_dir[64];
static struct conf test_conf;

/* TEST_DIR/name into b. */
static const char *path(struct buf *b, const char *name)
{
	buf_reset(b);
	buf_printf(b, "%s/%s", test_dir, name);
	return buf_cstr(b);
}

/* Commit a message whose body says "X-Test: tag" to the given Maildirs
 * (names under TEST_DIR), from sender ("" for <>), arrived at arrival
 * (0: now). */
static int queue_msg(struct spool *sp, const char *tag, const char *const *box, size_t nbox,
                     const char *sender, time_t arrival)
{
	struct spool_envelope e;
	struct spool_writer *w;
	struct buf b = BUF_INIT(1024), t = BUF_INIT(1024);
	struct cl_err err;
	size_t i;
	int r = -1;

	spool_env_init(&e);
	e.arrival = arrival;
	e.from = strdup(sender);
	e.from_params = strdup("-");
	for (i = 0; i < nbox; i++) {
		buf_reset(&b);
		buf_printf(&b, "%s@example.test", box[i]);
		spool_env_add_rcpt(&e, buf_cstr(&b), SPOOL_LOCAL, path(&t, box[i]), "-", "-");
	}
	buf_reset(&b);
	buf_printf(&b, "From: <a@example.test>\r\nX-Test: %s\r\n\r\nbody of %s\r\n", tag, tag);
	err_clear(&err);
	if (spool_writer_begin(sp, &e, &w, &err) == 0) {
		if (spool_writer_write(w, b.data, b.len, &err) == 0)
			r = spool_writer_commit(w, &err);
		else
			spool_writer_abort(w);
	}
	if (r < 0)
		printf("# queue_msg: %s\n", err.msg);
	spool_env_free(&e);
	buf_free(&b);
	buf_free(&t);
	return r;
}

/* Number of files in TEST_DIR/sub. */
static int count_files(const char *sub)
{
	struct buf b = BUF_INIT(512);
	DIR *d = opendir(path(&b, sub));
	struct dirent *de;
	int n = 0;

	buf_free(&b);
	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* How many files of the Maildir TEST_DIR/box/new hold "X-Test: tag\n"
 * (and nothing in LF-only form is left with a CR). */
static int count_tag(const char *box, const char *tag)
{
	struct buf b = BUF_INIT(512), want = BUF_INIT(128), f = BUF_INIT(1024);
	DIR *d;
	struct dirent *de;
	int n = 0;

	buf_printf(&want, "X-Test: %s\n", tag);
	buf_printf(&f, "%s/new", box);
	d = opendir(path(&b, buf_cstr(&f)));
	while (d != NULL && (de = readdir(d)) != NULL) {
		char data[512];
		ssize_t got;
		int fd;
		if (de->d_name[0] == '.')
			continue;
		buf_reset(&f);
		buf_printf(&f, "%s/new/%s", box, de->d_name);
		fd = open(path(&b, buf_cstr(&f)), O_RDONLY);
		got = fd >= 0 ? read(fd, data, sizeof(data) - 1) : -1;
		if (fd >= 0)
			close(fd);
		if (got <= 0)
			continue;
		data[got] = '\0';
		if (strstr(data, buf_cstr(&want)) != NULL && strchr(data, '\r') == NULL)
			n++;
	}
	if (d != NULL)
		closedir(d);
	buf_free(&b);
	buf_free(&want);
	buf_free(&f);
	return n;
}

/* The spool is empty: every message removed with its journal. */
static int spool_empty(void)
{
	return count_files("spool/msg") == 0 && count_files("spool/state") == 0;
}

static void rm_rf(const char *p)
{
	struct buf cmd = BUF_INIT(512);

	buf_printf(&cmd, "rm -rf '%s'", p);
	if (system(buf_cstr(&cmd)) != 0)
		printf("# could not remove %s\n", p);
	buf_free(&cmd);
}

static struct spool *fresh_spool(void)
{
	struct buf b = BUF_INIT(512);
	struct spool *sp = NULL;
	struct cl_err err;

	rm_rf(path(&b, "spool"));
	err_clear(&err);
	if (spool_open(&sp, path(&b, "spool"), &err) < 0)
		printf("# spool_open: %s\n", err.msg);
	buf_free(&b);
	return sp;
}

TEST(test_a_pass_delivers_every_message_once_into_two_maildirs)
{
	static const char *const a[] = {"A"}, *const b[] = {"B"}, *const ab[] = {"A", "B"};
	const char *wide[70];
	struct spool *sp = fresh_spool();
	char tag[32];
	int i, ok = 1;

	CHECK(sp != NULL);
	if (sp == NULL)
		return;
	/* More messages than one batch holds, alternating between the two. */
	for (i = 0; i < 150; i++) {
		snprintf(tag, sizeof(tag), "m%d", i);
		CHECK_INT(queue_msg(sp, tag, i % 2 ? b : a, 1, "a@example.test", 0), 0);
	}
	CHECK_INT(queue_msg(sp, "both", ab, 2, "a@example.test", 0), 0);
	/* More recipients than a batch has files: it spans two batches. */
	for (i = 0; i < 70; i++)
		wide[i] = i % 2 ? "B" : "A";
	CHECK_INT(queue_msg(sp, "wide", wide, 70, "a@example.test", 0), 0);

	CHECK_INT(deliver_pass(&test_conf, sp, 0), DELIVER_RESCAN_S);
	for (i = 0; i < 150; i++) {
		snprintf(tag, sizeof(tag), "m%d", i);
		if (count_tag(i % 2 ? "B" : "A", tag) != 1 ||
		    count_tag(i % 2 ? "A" : "B", tag) != 0)
			ok = 0;
	}
	CHECK(ok);
	CHECK_INT(count_tag("A", "both"), 1);
	CHECK_INT(count_tag("B", "both"), 1);
	CHECK_INT(count_tag("A", "wide"), 35);
	CHECK_INT(count_tag("B", "wide"), 35);
	CHECK_INT(count_files("A/new"), 75 + 1 + 35);
	CHECK_INT(count_files("B/new"), 75 + 1 + 35);
	CHECK_INT(count_files("A/tmp"), 0);
	CHECK_INT(count_files("B/tmp"), 0);
	CHECK(spool_empty());

	/* A second pass finds nothing and delivers nothing again. */
	CHECK_INT(deliver_pass(&test_conf, sp, 1), DELIVER_RESCAN_S);
	CHECK_INT(count_files("A/new"), 111);
	CHECK_INT(count_files("B/new"), 111);
	spool_close(sp);
}

/* The state of recipient n of the only message in the spool whose body
 * holds tag, or -1. */
static int rcpt_state(struct spool *sp, const char *tag, size_t n, int *attempts)
{
	struct spool_envelope e;
	struct cl_err err;
	char qid[SPOOL_QID_LEN + 1], data[512];
	struct buf b = BUF_INIT(512);
	DIR *d = opendir(path(&b, "spool/msg"));
	struct dirent *de;
	int st = -1;

	buf_free(&b);
	while (d != NULL && (de = readdir(d)) != NULL) {
		ssize_t got;
		int fd;
		if (!spool_qid_valid(de->d_name))
			continue;
		memcpy(qid, de->d_name, sizeof(qid));
		err_clear(&err);
		if (spool_load(sp, qid, &e, &err) < 0)
			continue;
		fd = spool_data_fd(sp, &e, &err);
		got = fd >= 0 ? read(fd, data, sizeof(data) - 1) : -1;
		if (fd >= 0)
			close(fd);
		data[got > 0 ? got : 0] = '\0';
		if (strstr(data, tag) != NULL && n < e.nrcpt) {
			st = (int)e.rcpt[n].state;
			*attempts = e.rcpt[n].attempts;
		}
		spool_env_free(&e);
	}
	if (d != NULL)
		closedir(d);
	return st;
}

TEST(test_an_unwritable_maildir_defers_only_its_own_recipients)
{
	static const char *const a[] = {"A"}, *const b[] = {"B"}, *const nodir[] = {"NODIR"},
	                         *const nonew[] = {"NONEW"}, *const anodir[] = {"A", "NODIR"};
	struct buf p = BUF_INIT(512);
	struct spool *sp;
	char tag[32];
	int i, ok = 1, attempts = 0, next, fd;

	rm_rf(path(&p, "A"));
	rm_rf(path(&p, "B"));
	/* NODIR: a file where the Maildir should be (refused even to root,
	 * unlike chmod 000): it fails while the batch is being written.
	 * NONEW: a Maildir whose new/ is a file: it fails in the flush, at
	 * the rename, after the other files of the batch are written. */
	fd = open(path(&p, "NODIR"), O_CREAT | O_WRONLY | O_TRUNC, 0600);
	CHECK(fd >= 0);
	if (fd >= 0)
		close(fd);
	CHECK_INT(mkdir(path(&p, "NONEW"), 0700), 0);
	CHECK_INT(mkdir(path(&p, "NONEW/tmp"), 0700), 0);
	fd = open(path(&p, "NONEW/new"), O_CREAT | O_WRONLY | O_TRUNC, 0600);
	CHECK(fd >= 0);
	if (fd >= 0)
		close(fd);
	sp = fresh_spool();
	CHECK(sp != NULL);
	if (sp == NULL)
		return;
	for (i = 0; i < 10; i++) {
		snprintf(tag, sizeof(tag), "ok%d", i);
		CHECK_INT(queue_msg(sp, tag, i % 2 ? b : a, 1, "a@example.test", 0), 0);
		if (i == 3)
			CHECK_INT(queue_msg(sp, "to-nodir", nodir, 1, "a@example.test", 0), 0);
		if (i == 5)
			CHECK_INT(queue_msg(sp, "to-nonew", nonew, 1, "a@example.test", 0), 0);
		if (i == 7)
			CHECK_INT(queue_msg(sp, "half", anodir, 2, "a@example.test", 0), 0);
	}
	/* Its queue lifetime is over: its failure is final, the others' are not. */
	CHECK_INT(queue_msg(sp, "expired", nodir, 1, "", time(NULL) - 6 * 86400), 0);

	next = deliver_pass(&test_conf, sp, 0);
	CHECK(next <= DELIVER_RETRY_S);
	for (i = 0; i < 10; i++) {
		snprintf(tag, sizeof(tag), "ok%d", i);
		if (count_tag(i % 2 ? "B" : "A", tag) != 1)
			ok = 0;
	}
	CHECK(ok);
	CHECK_INT(count_tag("A", "half"), 1);
	CHECK_INT(count_files("spool/msg"), 3);
	CHECK_INT(rcpt_state(sp, "to-nodir", 0, &attempts), SPOOL_DEFERRED);
	CHECK_INT(attempts, 1);
	CHECK_INT(rcpt_state(sp, "to-nonew", 0, &attempts), SPOOL_DEFERRED);
	CHECK_INT(attempts, 1);
	CHECK_INT(rcpt_state(sp, "half", 0, &attempts), SPOOL_DELIVERED);
	CHECK_INT(rcpt_state(sp, "half", 1, &attempts), SPOOL_DEFERRED);
	/* The expired one was journalled F, then B (no notice to <>), removed. */
	CHECK_INT(rcpt_state(sp, "expired", 0, &attempts), -1);
	CHECK_INT(count_files("NONEW/tmp"), 0);

	/* Repaired, the deferred recipients arrive at the next try, once; the
	 * delivered half of "half" is not delivered again. */
	CHECK_INT(unlink(path(&p, "NODIR")), 0);
	CHECK_INT(unlink(path(&p, "NONEW/new")), 0);
	CHECK_INT(deliver_pass(&test_conf, sp, 1), DELIVER_RESCAN_S);
	CHECK_INT(count_tag("NODIR", "to-nodir"), 1);
	CHECK_INT(count_tag("NONEW", "to-nonew"), 1);
	CHECK_INT(count_tag("NODIR", "half"), 1);
	CHECK_INT(count_tag("A", "half"), 1);
	CHECK_INT(count_tag("NODIR", "expired"), 0);
	CHECK(spool_empty());
	spool_close(sp);
	buf_free(&p);
}

TEST(test_maildir_batch_is_full_at_its_file_bound)
{
	struct maildir_batch *mb;
	struct buf p = BUF_INIT(512);
	struct cl_err err;
	int i, fd, last = -1;

	err_clear(&err);
	CHECK_INT(maildir_batch_new(&mb, &err), 0);
	fd = open(path(&p, "one.eml"), O_CREAT | O_RDWR | O_TRUNC, 0600);
	CHECK(fd >= 0 && write(fd, "Subject: x\r\n\r\nx\r\n", 17) == 17);
	for (i = 0; i < MAILDIR_BATCH_FILES; i++) {
		CHECK(!maildir_batch_full(mb));
		lseek(fd, 0, SEEK_SET);
		last =
		    maildir_batch_add(mb, path(&p, "FULL"), fd, "00000000000000000000", NULL, &err);
		if (last != i)
			break;
	}
	CHECK_INT(last, MAILDIR_BATCH_FILES - 1);
	CHECK(maildir_batch_full(mb));
	CHECK_INT(maildir_batch_add(mb, path(&p, "FULL"), fd, "00000000000000000000", NULL, &err),
	          -1);
	/* Nothing in new/ before the commit; everything after it. */
	CHECK_INT(count_files("FULL/new"), 0);
	maildir_batch_commit(mb);
	CHECK_INT(maildir_batch_result(mb, 0, &err), 0);
	CHECK_INT(maildir_batch_result(mb, MAILDIR_BATCH_FILES - 1, &err), 0);
	CHECK_INT(count_files("FULL/new"), MAILDIR_BATCH_FILES);
	CHECK_INT(count_files("FULL/tmp"), 0);
	maildir_batch_reset(mb);
	CHECK(!maildir_batch_full(mb));

	/* A batch reset before its commit leaves nothing behind in tmp/. */
	lseek(fd, 0, SEEK_SET);
	CHECK_INT(maildir_batch_add(mb, path(&p, "FULL"), fd, "00000000000000000000", NULL, &err),
	          0);
	CHECK_INT(count_files("FULL/tmp"), 1);
	maildir_batch_reset(mb);
	CHECK_INT(count_files("FULL/tmp"), 0);
	CHECK_INT(count_files("FULL/new"), MAILDIR_BATCH_FILES);
	if (fd >= 0)
		close(fd);

	/* One large message fills it too: the bound on bytes. */
	fd = open(path(&p, "big.eml"), O_CREAT | O_RDWR | O_TRUNC, 0600);
	CHECK(fd >= 0 && ftruncate(fd, MAILDIR_BATCH_BYTES) == 0);
	CHECK_INT(maildir_batch_add(mb, path(&p, "FULL"), fd, "00000000000000000000", NULL, &err),
	          0);
	CHECK(maildir_batch_full(mb));
	maildir_batch_free(mb); /* not committed: removed from tmp/ */
	CHECK_INT(count_files("FULL/tmp"), 0);
	CHECK_INT(count_files("FULL/new"), MAILDIR_BATCH_FILES);
	if (fd >= 0)
		close(fd);
	buf_free(&p);
}

TEST(test_maildir_deliver_alone_stores_lf_lines)
{
	struct buf p = BUF_INIT(512);
	struct cl_err err;
	int fd;

	fd = open(path(&p, "two.eml"), O_CREAT | O_RDWR | O_TRUNC, 0600);
	CHECK(fd >= 0 && write(fd, "X-Test: alone\r\n\r\nbare\rCR\r\n", 26) == 26);
	lseek(fd, 0, SEEK_SET);
	err_clear(&err);
	CHECK_INT(maildir_deliver(path(&p, "ALONE"), fd, "00000000000000000001", &err), 0);
	CHECK_INT(count_files("ALONE/new"), 1);
	CHECK_INT(count_files("ALONE/tmp"), 0);
	CHECK_INT(count_files("ALONE/cur"), 0);
	lseek(fd, 0, SEEK_SET);
	CHECK_INT(maildir_deliver(path(&p, "two.eml"), fd, "00000000000000000001", &err), -1);
	CHECK_INT(err.cls, CL_ETEMP);
	if (fd >= 0)
		close(fd);
	buf_free(&p);
}

/* Local retries: a minute, doubling, capped by retry_max (and by a
 * retry_max below a minute). */
TEST(test_deliver_backoff_doubles_up_to_retry_max)
{
	struct conf c;

	memset(&c, 0, sizeof(c));
	c.relay.retry_max = 4 * 3600;
	CHECK_INT(deliver_backoff(&c, 1), 60);
	CHECK_INT(deliver_backoff(&c, 2), 120);
	CHECK_INT(deliver_backoff(&c, 5), 960);
	CHECK_INT(deliver_backoff(&c, 8), 7680);
	CHECK_INT(deliver_backoff(&c, 9), 4 * 3600);
	CHECK_INT(deliver_backoff(&c, 1000), 4 * 3600);
	c.relay.retry_max = 30;
	CHECK_INT(deliver_backoff(&c, 1), 30);
}

int main(void)
{
	memcpy(test_dir, "/tmp/test_deliver.XXXXXX", sizeof("/tmp/test_deliver.XXXXXX"));
	if (mkdtemp(test_dir) == NULL)
		return 1;
	/* The log goes to stderr (not counted by the TAP reader). */
	log_init("test_deliver", 1);
	memset(&test_conf, 0, sizeof(test_conf));
	relay_conf_init(&test_conf.relay);
	test_conf.hostname = "mx.example.test";
	RUN(test_a_pass_delivers_every_message_once_into_two_maildirs);
	RUN(test_an_unwritable_maildir_defers_only_its_own_recipients);
	RUN(test_maildir_batch_is_full_at_its_file_bound);
	RUN(test_maildir_deliver_alone_stores_lf_lines);
	RUN(test_deliver_backoff_doubles_up_to_retry_max);
	relay_conf_free(&test_conf.relay);
	rm_rf(test_dir);
	CHECK_DONE();
}
