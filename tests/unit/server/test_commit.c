/* test_commit.c - the group commit (commit.c) on a real spool in a
 * temporary directory: many messages handed over in one turn are all
 * durable in msg/ when their jobs say so; one whose file vanished fails
 * alone; a job whose owner left (commit_job_forget) is still committed and
 * reported, before or after the run; freeing commits what is queued. */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "commit.h"

#define NMSG 300 /* more than COMMIT_BATCH_MAX: two batches */

static char test_dir[64];

static struct spool *open_spool(void)
{
	struct spool *sp = NULL;
	struct cl_err err;

	memcpy(test_dir, "/tmp/clsmtpd-commit-XXXXXX", sizeof("/tmp/clsmtpd-commit-XXXXXX"));
	CHECK(mkdtemp(test_dir) != NULL);
	CHECK_INT(spool_open(&sp, test_dir, &err), 0);
	return sp;
}

static struct spool_writer *new_message(struct spool *sp, int i, char *qid)
{
	struct spool_envelope env;
	struct spool_writer *w = NULL;
	struct cl_err err;
	struct buf b = BUF_INIT(256);

	spool_env_init(&env);
	env.from = strdup("a@example.test");
	env.from_params = strdup("-");
	env.helo = strdup("client.example.test");
	env.client = strdup("127.0.0.1");
	env.auth = strdup("-");
	CHECK_INT(spool_env_add_rcpt(&env, "b@example.test", SPOOL_LOCAL, "/nonexistent", "-", "-"),
	          0);
	CHECK_INT(spool_writer_begin(sp, &env, &w, &err), 0);
	buf_printf(&b, "Subject: %d\r\n\r\nbody %d\r\n", i, i);
	CHECK_INT(spool_writer_write(w, b.data, b.len, &err), 0);
	memcpy(qid, env.qid, SPOOL_QID_LEN + 1);
	buf_free(&b);
	spool_env_free(&env);
	return w;
}

static int in_msg(const char *qid)
{
	struct buf p = BUF_INIT(256);
	struct stat st;
	int r;

	buf_printf(&p, "%s/msg/%s", test_dir, qid);
	r = stat(buf_cstr(&p), &st) == 0;
	buf_free(&p);
	return r;
}

static int count_cb(void *arg, const char *qid)
{
	(void)qid;
	(*(int *)arg)++;
	return 0;
}

struct orphans {
	int n, ok;
	char qid[SPOOL_QID_LEN + 1];
};

static void orphan_cb(void *arg, const char *qid, int ok)
{
	struct orphans *o = arg;

	o->n++;
	o->ok += ok;
	memcpy(o->qid, qid, SPOOL_QID_LEN + 1);
}

static void cleanup(void)
{
	struct buf cmd = BUF_INIT(256);

	buf_printf(&cmd, "rm -rf %s", test_dir);
	if (system(buf_cstr(&cmd)) != 0)
		fprintf(stderr, "# could not remove %s\n", test_dir);
	buf_free(&cmd);
}

TEST(test_commit_many_messages_each_durable_and_one_failure_alone)
{
	struct spool *sp = open_spool();
	struct committer *c = NULL;
	struct commit_job *job[NMSG];
	char qid[NMSG][SPOOL_QID_LEN + 1];
	struct orphans o;
	struct cl_err err;
	struct buf p = BUF_INIT(256);
	int i, failed = -1, n = 0, ok = 0;

	memset(&o, 0, sizeof(o));
	CHECK_INT(committer_new(&c, orphan_cb, &o, &err), 0);
	CHECK_INT(committer_pending(c), 0);
	for (i = 0; i < NMSG; i++) {
		struct spool_writer *w = new_message(sp, i, qid[i]);
		if (i == 17) {
			/* Its temporary file disappears: the rename must fail. */
			buf_reset(&p);
			buf_printf(&p, "%s/tmp/%s", test_dir, qid[i]);
			CHECK_INT(unlink(buf_cstr(&p)), 0);
		}
		job[i] = committer_submit(c, w);
		CHECK(job[i] != NULL);
		CHECK_INT(commit_job_done(job[i]), 0);
	}
	/* Nothing is in msg/ before the run: no 250 could have been sent. */
	CHECK_INT(spool_scan(sp, count_cb, &n, &err), 0);
	CHECK_INT(n, 0);
	CHECK_INT(committer_pending(c), 1);
	committer_run(c);
	CHECK_INT(committer_pending(c), 0);
	for (i = 0; i < NMSG; i++) {
		CHECK_INT(commit_job_done(job[i]), 1);
		err_clear(&err);
		if (commit_job_finish(job[i], &err) == 0) {
			CHECK(in_msg(qid[i]));
			ok++;
		} else {
			failed = i;
			CHECK(strstr(err.msg, "rename") != NULL);
		}
	}
	CHECK_INT(ok, NMSG - 1);
	CHECK_INT(failed, 17);
	CHECK_INT(o.n, 0);
	n = 0;
	CHECK_INT(spool_scan(sp, count_cb, &n, &err), 0);
	CHECK_INT(n, NMSG - 1);
	committer_free(c);
	spool_close(sp);
	buf_free(&p);
	cleanup();
}

TEST(test_commit_forgotten_job_is_still_committed_and_reported)
{
	struct spool *sp = open_spool();
	struct committer *c = NULL;
	struct commit_job *j;
	struct orphans o;
	char qid[SPOOL_QID_LEN + 1], qid2[SPOOL_QID_LEN + 1];
	struct cl_err err;

	memset(&o, 0, sizeof(o));
	CHECK_INT(committer_new(&c, orphan_cb, &o, &err), 0);
	/* Forgotten while queued: committed at the run, then reported. */
	commit_job_forget(committer_submit(c, new_message(sp, 1, qid)));
	CHECK_INT(o.n, 0);
	committer_run(c);
	CHECK_INT(o.n, 1);
	CHECK_INT(o.ok, 1);
	CHECK_STR(o.qid, qid);
	CHECK(in_msg(qid));
	/* Forgotten once done (its session dropped before taking the
	 * result): reported at once, so the message is not left unannounced. */
	j = committer_submit(c, new_message(sp, 2, qid2));
	committer_run(c);
	CHECK_INT(o.n, 1);
	commit_job_forget(j);
	CHECK_INT(o.n, 2);
	CHECK_STR(o.qid, qid2);
	committer_free(c);
	CHECK_INT(o.n, 2);
	spool_close(sp);
	cleanup();
}

TEST(test_commit_free_commits_everything_still_queued)
{
	struct spool *sp = open_spool();
	struct committer *c = NULL;
	struct orphans o;
	char qid[NMSG][SPOOL_QID_LEN + 1];
	struct cl_err err;
	int i, n = 0;

	memset(&o, 0, sizeof(o));
	CHECK_INT(committer_new(&c, orphan_cb, &o, &err), 0);
	for (i = 0; i < NMSG; i++)
		commit_job_forget(committer_submit(c, new_message(sp, i, qid[i])));
	committer_free(c);
	CHECK_INT(o.n, NMSG);
	CHECK_INT(o.ok, NMSG);
	for (i = 0; i < NMSG; i++)
		CHECK(in_msg(qid[i]));
	CHECK_INT(spool_scan(sp, count_cb, &n, &err), 0);
	CHECK_INT(n, NMSG);
	spool_close(sp);
	cleanup();
}

int main(void)
{
	RUN(test_commit_many_messages_each_durable_and_one_failure_alone);
	RUN(test_commit_forgotten_job_is_still_committed_and_reported);
	RUN(test_commit_free_commits_everything_still_queued);
	CHECK_DONE();
}
