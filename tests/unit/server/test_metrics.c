/* test_metrics.c - clsmtpd's Prometheus counters: what the agents count in
 * a child process reaches the parent (the shared page), the histogram is
 * cumulative with +Inf equal to the count, every sample follows its HELP
 * and TYPE, the queue part reads a real spool, and the textfile is
 * replaced whole (mode 0644, no temporary file left). promtool checks the
 * real scrape in tests/package/run.sh. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "metrics.h"
#include "metrics_queue.h"
#include "serve/spool.h"

static char test_dir[64];

/* The value of the sample named exactly name (with its labels), or -1. */
static long long sample(const char *text, const char *name)
{
	size_t n = strlen(name);
	const char *p = text;

	while ((p = strstr(p, name)) != NULL) {
		if ((p == text || p[-1] == '\n') && p[n] == ' ')
			return atoll(p + n + 1);
		p += n;
	}
	return -1;
}

TEST(test_metrics_counts_of_a_forked_agent_reach_the_daemon)
{
	struct cl_err err;
	struct metrics m;
	pid_t pid;

	err_clear(&err);
	CHECK_INT(metrics_init(&err), 0);
	metrics_accepted(100);
	pid = fork();
	if (pid == 0) {
		metrics_outcome(METRICS_LOCAL, METRICS_SENT);
		metrics_outcome(METRICS_RELAY, METRICS_DEFERRED);
		metrics_relay_delay(3);
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	metrics_snapshot(&m);
	CHECK_INT(m.accepted, 1);
	CHECK_INT(m.accepted_bytes, 100);
	CHECK_INT(m.outcome[METRICS_LOCAL][METRICS_SENT], 1);
	CHECK_INT(m.outcome[METRICS_RELAY][METRICS_DEFERRED], 1);
	CHECK_INT(m.delay_count, 1);
	CHECK(metrics_start_time() > 0);
}

TEST(test_metrics_histogram_is_cumulative)
{
	struct metrics m;
	struct buf out = BUF_INIT(1 << 20);

	memset(&m, 0, sizeof(m));
	/* 0 s and 1 s in le=1; 2 s in le=5; a week in +Inf only. */
	m.delay_bucket[0] = 2;
	m.delay_bucket[1] = 1;
	m.delay_count = 4;
	m.delay_sum = 3 + 7 * 86400;
	metrics_render(&m, NULL, 0, 0, 0, &out);
	CHECK_INT(sample(buf_cstr(&out), "clsmtpd_relay_delay_seconds_bucket{le=\"1\"}"), 2);
	CHECK_INT(sample(buf_cstr(&out), "clsmtpd_relay_delay_seconds_bucket{le=\"5\"}"), 3);
	CHECK_INT(sample(buf_cstr(&out), "clsmtpd_relay_delay_seconds_bucket{le=\"86400\"}"), 3);
	CHECK_INT(sample(buf_cstr(&out), "clsmtpd_relay_delay_seconds_bucket{le=\"+Inf\"}"), 4);
	CHECK_INT(sample(buf_cstr(&out), "clsmtpd_relay_delay_seconds_count"), 4);
	buf_free(&out);
}

TEST(test_metrics_relay_delay_picks_the_bucket)
{
	struct metrics before, after;

	metrics_snapshot(&before);
	metrics_relay_delay(1);     /* le=1 */
	metrics_relay_delay(-5);    /* a clock that went back: 0 */
	metrics_relay_delay(90000); /* beyond the last bucket */
	metrics_snapshot(&after);
	CHECK_INT(after.delay_bucket[0] - before.delay_bucket[0], 2);
	CHECK_INT(after.delay_bucket[METRICS_DELAY_BUCKETS - 1] -
	              before.delay_bucket[METRICS_DELAY_BUCKETS - 1],
	          0);
	CHECK_INT(after.delay_count - before.delay_count, 3);
	CHECK_INT(after.delay_sum - before.delay_sum, 90001);
}

/* Every sample line's family was announced by HELP and TYPE before it. */
TEST(test_metrics_every_sample_has_help_and_type)
{
	struct metrics m;
	struct defence_conf dc;
	struct defence *d;
	struct metrics_queue q = {3, {1, 2}, 1, 1000};
	struct buf out = BUF_INIT(1 << 20);
	char *text, *line, *save;
	char typed[64][80];
	size_t ntyped = 0, i, samples = 0;

	defence_conf_default(&dc);
	d = defence_new(&dc, 1);
	memset(&m, 0, sizeof(m));
	metrics_render(&m, d, 2, 0, 1700000000, &out);
	metrics_render_queue(&q, 1600, &out);
	text = strdup(buf_cstr(&out));
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[80];
		if (strncmp(line, "# TYPE ", 7) == 0) {
			sscanf(line + 7, "%79s", typed[ntyped < 63 ? ntyped++ : 63]);
			continue;
		}
		if (line[0] == '#')
			continue;
		samples++;
		sscanf(line, "%79[a-z_]", name);
		for (i = 0; i < ntyped; i++) {
			size_t n = strlen(typed[i]);
			if (strncmp(name, typed[i], n) == 0 &&
			    (name[n] == '\0' || strcmp(name + n, "_bucket") == 0 ||
			     strcmp(name + n, "_sum") == 0 || strcmp(name + n, "_count") == 0))
				break;
		}
		if (i == ntyped) {
			printf("# no TYPE before: %s\n", line);
			CHECK(0);
		}
	}
	CHECK(samples > 40);
	CHECK_INT(sample(buf_cstr(&out), "clsmtpd_sessions"), 2);
	CHECK_INT(sample(buf_cstr(&out), "clsmtpd_queue_oldest_message_age_seconds"), 600);
	CHECK_INT(sample(buf_cstr(&out), "clsmtpd_queue_recipients{class=\"relay\"}"), 2);
	free(text);
	buf_free(&out);
	defence_free(d);
}

TEST(test_metrics_queue_reads_the_spool)
{
	char dir[128];
	struct spool *sp;
	struct spool_envelope env;
	struct spool_writer *w;
	struct metrics_queue q;
	struct cl_err err;

	snprintf(dir, sizeof(dir), "%s/spool", test_dir);
	err_clear(&err);
	CHECK_INT(spool_open(&sp, dir, &err), 0);
	spool_env_init(&env);
	env.from = strdup("a@example.org");
	env.from_params = strdup("-");
	env.client = strdup("127.0.0.1");
	env.helo = strdup("h");
	env.auth = strdup("-");
	env.arrival = 1000;
	spool_env_add_rcpt(&env, "b@example.org", SPOOL_LOCAL, "/tmp/x", "-", "-");
	spool_env_add_rcpt(&env, "c@example.net", SPOOL_RELAY, "-", "-", "-");
	CHECK_INT(spool_writer_begin(sp, &env, &w, &err), 0);
	CHECK_INT(spool_writer_write(w, "Subject: x\r\n\r\nx\r\n", 17, &err), 0);
	CHECK_INT(spool_writer_commit(w, &err), 0);
	struct outcome later;
	outcome_init(&later);
	CHECK_INT(outcome_note(&later, "4.0.0", "try later"), 0);
	CHECK_INT(spool_record(sp, &env, 1, 'T', 2000, &later, &err), 0);
	outcome_free(&later);
	CHECK_INT(metrics_queue_read(dir, &q, &err), 0);
	CHECK_INT(q.messages, 1);
	CHECK_INT(q.recipients[METRICS_LOCAL], 1);
	CHECK_INT(q.recipients[METRICS_RELAY], 1);
	CHECK_INT(q.deferred, 1);
	CHECK(q.oldest > 0);
	spool_env_free(&env);
	spool_close(sp);
}

TEST(test_metrics_textfile_is_replaced_whole)
{
	char file[128];
	struct buf t = BUF_INIT(1024);
	struct cl_err err;
	struct stat st;
	char got[64] = "";
	FILE *f;

	snprintf(file, sizeof(file), "%s/clsmtpd.prom", test_dir);
	buf_adds(&t, "clsmtpd_sessions 1\n");
	umask(077);
	err_clear(&err);
	CHECK_INT(metrics_write_file(file, &t, &err), 0);
	buf_set(&t, "clsmtpd_sessions 2\n");
	CHECK_INT(metrics_write_file(file, &t, &err), 0);
	CHECK(stat(file, &st) == 0 && (st.st_mode & 0777) == 0644);
	f = fopen(file, "r");
	if (f != NULL) {
		if (fgets(got, sizeof(got), f) == NULL)
			got[0] = '\0';
		fclose(f);
	}
	CHECK_STR(got, "clsmtpd_sessions 2\n");
	snprintf(file, sizeof(file), "%s/no-such-dir/clsmtpd.prom", test_dir);
	CHECK_INT(metrics_write_file(file, &t, &err), -1);
	CHECK(strstr(err.msg, "no-such-dir") != NULL);
	buf_free(&t);
}

int main(void)
{
	char cmd[160];
	int r;

	snprintf(test_dir, sizeof(test_dir), "/tmp/test_metrics.XXXXXX");
	if (mkdtemp(test_dir) == NULL)
		return 1;
	RUN(test_metrics_counts_of_a_forked_agent_reach_the_daemon);
	RUN(test_metrics_histogram_is_cumulative);
	RUN(test_metrics_relay_delay_picks_the_bucket);
	RUN(test_metrics_every_sample_has_help_and_type);
	RUN(test_metrics_queue_reads_the_spool);
	RUN(test_metrics_textfile_is_replaced_whole);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", test_dir);
	r = system(cmd);
	(void)r;
	CHECK_DONE();
}
