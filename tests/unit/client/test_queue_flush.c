/* test_queue_flush.c - the offline queue on disk and its flush
 * (queue.c, queue_flush.c, docs/queue.md) with a recording transport in
 * place of the network: durable storing, one session per connection,
 * deferral with backoff, failed/, recovery after a killed flush (a child
 * process that dies mid-send), the lock, drop, expiry and cleaning. */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "queue.h"
#include "queue_flush.h"

/* ---- a scratch queue ------------------------------------------------------ */

static char qroot[256], qdir[300];

static void remove_root(void)
{
	char cmd[300];

	if (qroot[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", qroot);
		if (system(cmd) != 0)
			printf("# could not remove %s\n", qroot);
	}
}

/* A new queue in a new directory: qroot/q. */
static void fresh_queue(struct queue *q)
{
	remove_root();
	snprintf(qroot, sizeof(qroot), "/tmp/clsmtpc-test-queue.XXXXXX");
	if (mkdtemp(qroot) == NULL)
		abort();
	snprintf(qdir, sizeof(qdir), "%s/q", qroot);
	if (queue_open(q, qdir, 1, NULL) != 0)
		abort();
}

/* How many names in a subdirectory of the queue match a suffix ("" all). */
static int count(const char *sub, const char *contains)
{
	char path[400];
	DIR *d;
	struct dirent *de;
	int n = 0;

	snprintf(path, sizeof(path), "%s/%s", qdir, sub);
	d = opendir(path);
	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.' && strstr(de->d_name, contains))
			n++;
	closedir(d);
	return n;
}

/* The single name in msg/ containing id (and not .err), or "". */
static const char *name_of(const char *id)
{
	static char found[256];
	char path[400];
	DIR *d;
	struct dirent *de;

	found[0] = '\0';
	snprintf(path, sizeof(path), "%s/msg", qdir);
	d = opendir(path);
	while (d && (de = readdir(d)) != NULL)
		if (strncmp(de->d_name, id, QUEUE_ID_LEN) == 0 && !strstr(de->d_name, ".err"))
			snprintf(found, sizeof(found), "%s", de->d_name);
	if (d)
		closedir(d);
	return found;
}

static const char *const rcpt1[] = {"bob@example.net"};

/* Store a message for host:port whose body is "Message-ID: <mark>". */
static void store(struct queue *q, const char *port, const char *mark, char id[QUEUE_ID_LEN + 1])
{
	struct queue_header h;
	struct smtp_body_source body;
	struct smtp_mem_source mem;
	struct cl_err e;
	char msg[200];

	snprintf(msg, sizeof(msg), "Message-ID: <%s>\r\nSubject: t\r\n\r\nbody %s\r\n", mark, mark);
	queue_file_header_init(&h);
	h.host = "127.0.0.1";
	h.port = port;
	h.from = "alice@example.com";
	h.rcpts = (const char **)rcpt1;
	h.nrcpt = 1;
	smtp_body_from_memory(&body, &mem, msg, strlen(msg));
	if (queue_store(q, &h, &body, "connect: refused", &e) != 0) {
		printf("# store failed: %s\n", e.msg);
		abort();
	}
	memcpy(id, h.id, QUEUE_ID_LEN + 1);
}

/* ---- a recording transport --------------------------------------------------- */

struct rec {
	int opens, sends, lasts, closes;
	int fail_open;             /* class to fail open with, 0: succeed */
	const char *fail_mark;     /* a message containing this fails ... */
	enum cl_errclass fail_cls; /* ... with this class */
	const char *die_mark;      /* a message containing this kills the process */
	int log_fd;                /* every accepted body's mark appended here */
	struct buf seen;           /* marks sent, space separated */
};

static int rec_open(void *arg, const struct queue_header *h, struct cl_err *err)
{
	struct rec *r = arg;

	(void)h;
	r->opens++;
	if (r->fail_open)
		return err_set(err, (enum cl_errclass)r->fail_open,
		               "connect: Network is unreachable");
	return 0;
}

static int rec_send(void *arg, const struct queue_header *h, struct smtp_body_source *body,
                    int last, struct cl_err *err)
{
	struct rec *r = arg;
	struct buf b = BUF_INIT(1 << 20);
	const char *mark;
	int more;

	do
		more = body->read(body->arg, &b, 1 << 16, err);
	while (more > 0);
	if (more < 0 || (long long)b.len != h->size) {
		buf_free(&b);
		return err_set(err, CL_EIO, "short body");
	}
	mark = strstr(buf_cstr(&b), "body ");
	mark = mark ? mark + 5 : "?";
	if (r->die_mark && strstr(mark, r->die_mark)) {
		/* The server took it; we die before the 250 is acted on. */
		if (r->log_fd >= 0 && write(r->log_fd, mark, strcspn(mark, "\r")) < 0)
			_exit(3);
		_exit(9);
	}
	r->sends++;
	r->lasts += last;
	if (r->fail_mark && strstr(mark, r->fail_mark)) {
		buf_free(&b);
		return err_set(err, r->fail_cls, "RCPT TO:<bob@example.net>: %s",
		               r->fail_cls == CL_ETEMP ? "450 4.2.1 busy" : "550 5.1.1 unknown");
	}
	if (r->log_fd >= 0 &&
	    (write(r->log_fd, mark, strcspn(mark, "\r")) < 0 || write(r->log_fd, " ", 1) < 0))
		_exit(3);
	buf_add(&r->seen, mark, strcspn(mark, "\r"));
	buf_addc(&r->seen, ' ');
	buf_free(&b);
	return 0;
}

static void rec_close(void *arg)
{
	((struct rec *)arg)->closes++;
}

static int flush(struct queue *q, struct rec *r, time_t now, int due, struct queue_flush_stats *st,
                 struct cl_err *e)
{
	struct queue_transport t = {rec_open, rec_send, rec_close, r};
	struct queue_flush_opts fo;

	memset(&fo, 0, sizeof(fo));
	fo.transport = &t;
	fo.now = now;
	fo.due_only = due;
	return queue_flush_run(q, &fo, st, e);
}

static void rec_init(struct rec *r)
{
	buf_free(&r->seen);
	memset(r, 0, sizeof(*r));
	buf_init(&r->seen, 4096);
	r->log_fd = -1;
}

/* ---- the tests ---------------------------------------------------------------- */

TEST(test_queue_store_leaves_one_private_durable_file)
{
	struct queue q;
	char id[QUEUE_ID_LEN + 1], path[600], text[1000];
	struct stat st;
	struct queue_name n;
	int fd;
	ssize_t len;

	fresh_queue(&q);
	store(&q, "2525", "m1", id);
	CHECK_INT(count("tmp", ""), 0);
	CHECK_INT(count("msg", ".q0.1."), 1);
	CHECK_INT(count("msg", ".err"), 1);
	CHECK(queue_file_name_parse(name_of(id), &n) == 0);
	CHECK(n.next > 0 && n.attempts == 1 && !n.sending && !n.uncertain);
	snprintf(path, sizeof(path), "%s/msg/%s", qdir, name_of(id));
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
	CHECK(stat(qdir, &st) == 0 && (st.st_mode & 0777) == 0700);
	fd = open(path, O_RDONLY);
	len = read(fd, text, sizeof(text) - 1);
	close(fd);
	text[len > 0 ? len : 0] = '\0';
	CHECK(strncmp(text, "clsmtpc-queue: 1\nid: ", 21) == 0);
	CHECK(strstr(text, "\nmessage-id: <m1>\n") != NULL);
	CHECK(strstr(text, "\n\nMessage-ID: <m1>\r\n") != NULL);
	queue_close(&q);
}

TEST(test_queue_open_refuses_a_directory_others_can_write)
{
	struct queue q;
	struct cl_err e;

	fresh_queue(&q);
	queue_close(&q);
	chmod(qdir, 0777);
	CHECK(queue_open(&q, qdir, 0, &e) == -1);
	CHECK_INT(e.cls, CL_ECONFIG);
	CHECK(strstr(e.msg, "writable by group or others") != NULL);
	chmod(qdir, 0700);
	CHECK(queue_open(&q, qdir, 0, &e) == 0);
	queue_close(&q);
	CHECK(queue_open(&q, "/nonexistent/clsmtpc/queue", 0, &e) == 1);
}

TEST(test_queue_flush_sends_each_connection_over_one_session)
{
	struct queue q;
	struct rec r = {0};
	struct queue_flush_stats st;
	struct cl_err e;
	char id[QUEUE_ID_LEN + 1];

	fresh_queue(&q);
	store(&q, "2525", "a1", id);
	store(&q, "2526", "b1", id);
	store(&q, "2525", "a2", id);
	store(&q, "2525", "a3", id);
	store(&q, "2526", "b2", id);
	rec_init(&r);
	CHECK(flush(&q, &r, 0, 0, &st, &e) == 0);
	CHECK_INT(st.sent, 5);
	CHECK_INT(r.opens, 2);
	CHECK_INT(r.sends, 5);
	CHECK_INT(r.lasts, 2); /* QUIT travels with the last of each group */
	CHECK_INT(count("msg", ""), 0);
	CHECK_INT(count("failed", ""), 0);
	buf_free(&r.seen);
	queue_close(&q);
}

TEST(test_queue_flush_defers_a_4xx_with_backoff_and_goes_on)
{
	struct queue q;
	struct rec r = {0};
	struct queue_flush_stats st;
	struct cl_err e;
	struct queue_name n;
	char id[QUEUE_ID_LEN + 1], id2[QUEUE_ID_LEN + 1];

	fresh_queue(&q);
	store(&q, "2525", "ok1", id);
	store(&q, "2525", "busy", id2);
	store(&q, "2525", "ok2", id);
	rec_init(&r);
	r.fail_mark = "busy";
	r.fail_cls = CL_ETEMP;
	CHECK(flush(&q, &r, 1000000, 0, &st, &e) == -1);
	CHECK_INT(e.cls, CL_ETEMP);
	CHECK(strstr(e.msg, "2 sent, 1 deferred") != NULL);
	CHECK_INT(r.opens, 2); /* a new session after the failure */
	CHECK(queue_file_name_parse(name_of(id2), &n) == 0);
	CHECK_INT(n.attempts, 2);
	CHECK_INT(n.next, 1000000 + 120);
	CHECK(!n.sending && !n.uncertain);
	CHECK_INT(count("msg", ".err"), 1);
	/* --flush=due leaves it until its time; --flush sends it. */
	rec_init(&r);
	CHECK(flush(&q, &r, 1000000 + 60, 1, &st, &e) == 0);
	CHECK_INT(st.not_due, 1);
	CHECK_INT(r.sends, 0);
	CHECK(flush(&q, &r, 1000000 + 60, 0, &st, &e) == 0);
	CHECK_INT(r.sends, 1);
	CHECK_INT(count("msg", ""), 0);
	buf_free(&r.seen);
	queue_close(&q);
}

TEST(test_queue_flush_moves_a_5xx_to_failed_with_the_reason)
{
	struct queue q;
	struct rec r = {0};
	struct queue_flush_stats st;
	struct cl_err e;
	char id[QUEUE_ID_LEN + 1], path[600], reason[300] = "";
	FILE *f;

	fresh_queue(&q);
	store(&q, "2525", "nosuch", id);
	store(&q, "2525", "fine", id + 0);
	rec_init(&r);
	r.fail_mark = "nosuch";
	r.fail_cls = CL_EUNAVAIL;
	CHECK(flush(&q, &r, 0, 0, &st, &e) == -1);
	CHECK_INT(e.cls, CL_EUNAVAIL);
	CHECK_INT(st.sent, 1);
	CHECK_INT(st.failed, 1);
	CHECK_INT(count("msg", ""), 0);
	CHECK_INT(count("failed", ".err"), 1);
	CHECK_INT(count("failed", ""), 2);
	/* Not retried: a second flush has nothing to do. */
	rec_init(&r);
	CHECK(flush(&q, &r, 0, 0, &st, &e) == 0);
	CHECK_INT(r.sends, 0);
	snprintf(path, sizeof(path), "%s/failed", qdir);
	{
		DIR *d = opendir(path);
		struct dirent *de;
		while ((de = readdir(d)) != NULL)
			if (strstr(de->d_name, ".err"))
				snprintf(path + strlen(path), sizeof(path) - strlen(path), "/%s",
				         de->d_name);
		closedir(d);
	}
	f = fopen(path, "r");
	if (f) {
		if (fgets(reason, sizeof(reason), f) == NULL)
			reason[0] = '\0';
		fclose(f);
	}
	CHECK(strstr(reason, "550 5.1.1") != NULL);
	buf_free(&r.seen);
	queue_close(&q);
}

TEST(test_queue_flush_defers_a_whole_group_when_the_connection_fails)
{
	struct queue q;
	struct rec r = {0};
	struct queue_flush_stats st;
	struct cl_err e;
	char id[QUEUE_ID_LEN + 1];

	fresh_queue(&q);
	store(&q, "2525", "x1", id);
	store(&q, "2525", "x2", id);
	store(&q, "2525", "x3", id);
	rec_init(&r);
	r.fail_open = CL_ETEMP;
	CHECK(flush(&q, &r, 5000, 0, &st, &e) == -1);
	CHECK_INT(e.cls, CL_ETEMP);
	CHECK_INT(r.opens, 1); /* not once per message */
	CHECK_INT(r.sends, 0);
	CHECK_INT(st.deferred, 3);
	CHECK_INT(count("msg", ".q0.2.5120"), 3);
	/* An authentication failure is the connection's too. */
	rec_init(&r);
	r.fail_open = CL_EAUTH;
	CHECK(flush(&q, &r, 6000, 0, &st, &e) == -1);
	CHECK_INT(r.opens, 1);
	CHECK_INT(count("msg", ".q0.3.6240"), 3);
	buf_free(&r.seen);
	queue_close(&q);
}

TEST(test_queue_flush_stops_a_group_after_an_auth_failure_in_a_send)
{
	struct queue q;
	struct rec r = {0};
	struct queue_flush_stats st;
	struct cl_err e;
	char id[QUEUE_ID_LEN + 1];

	fresh_queue(&q);
	store(&q, "2525", "p1", id);
	store(&q, "2525", "p2", id);
	store(&q, "2525", "p3", id);
	rec_init(&r);
	r.fail_mark = "p"; /* AUTH PLAIN rides with the first MAIL: 535 */
	r.fail_cls = CL_EAUTH;
	CHECK(flush(&q, &r, 0, 0, &st, &e) == -1);
	CHECK_INT(r.sends, 1);
	CHECK_INT(st.deferred, 3);
	CHECK_INT(count("msg", ".q0.2."), 3);
	buf_free(&r.seen);
	queue_close(&q);
}

TEST(test_queue_interrupted_send_is_resent_once_then_held)
{
	struct queue q;
	struct rec r = {0};
	struct queue_flush_stats st;
	struct cl_err e;
	char id[QUEUE_ID_LEN + 1], idk[QUEUE_ID_LEN + 1], log[4096];
	char logpath[320];
	int status, fd, round;
	pid_t pid;
	ssize_t n;

	fresh_queue(&q);
	store(&q, "2525", "k1", id);
	store(&q, "2525", "k2", idk);
	store(&q, "2525", "k3", id);
	snprintf(logpath, sizeof(logpath), "%s.log", qdir);
	fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
	/* Twice: a flush dies while sending k2, after the server took it. */
	for (round = 0; round < 2; round++) {
		pid = fork();
		if (pid == 0) {
			struct queue q2;
			if (queue_open(&q2, qdir, 0, &e) != 0)
				_exit(4);
			rec_init(&r);
			r.die_mark = "k2";
			r.log_fd = fd;
			flush(&q2, &r, 0, 0, &st, &e);
			_exit(0);
		}
		waitpid(pid, &status, 0);
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 9);
		/* Left in "sending": s0 the first time, s1 the second. */
		CHECK(strstr(name_of(idk), round == 0 ? ".s0." : ".s1.") != NULL);
	}
	/* The third flush does not send it again: failed/, the reason given. */
	rec_init(&r);
	r.log_fd = fd;
	CHECK(flush(&q, &r, 0, 0, &st, &e) == -1);
	CHECK_INT(st.held, 1);
	CHECK_INT(st.resent, 0);
	CHECK_INT(count("failed", idk), 2);
	CHECK_INT(count("msg", ""), 0);
	close(fd);
	fd = open(logpath, O_RDONLY);
	n = read(fd, log, sizeof(log) - 1);
	close(fd);
	log[n > 0 ? n : 0] = '\0';
	/* k1 once, k2 twice (at most one duplicate), k3 once. */
	CHECK_STR(log, "k1 k2k2k3 ");
	unlink(logpath);
	buf_free(&r.seen);
	queue_close(&q);
}

TEST(test_queue_interrupted_send_is_delivered_by_the_next_flush)
{
	struct queue q;
	struct rec r = {0};
	struct queue_flush_stats st;
	struct cl_err e;
	char id[QUEUE_ID_LEN + 1];
	struct queue_name n, s;

	fresh_queue(&q);
	store(&q, "2525", "only", id);
	/* What a flush killed before the server answered leaves. */
	CHECK(queue_file_name_parse(name_of(id), &n) == 0);
	s = n;
	s.sending = 1;
	CHECK(queue_rename(&q, &n, &s, 1, &e) == 0);
	rec_init(&r);
	CHECK(flush(&q, &r, 0, 0, &st, &e) == 0);
	CHECK_INT(st.resent, 1);
	CHECK_INT(st.sent, 1);
	CHECK_STR(buf_cstr(&r.seen), "only ");
	CHECK_INT(count("msg", ""), 0);
	buf_free(&r.seen);
	queue_close(&q);
}

TEST(test_queue_second_flush_finds_the_lock_taken)
{
	struct queue q, q2;
	struct rec r = {0};
	struct queue_flush_stats st;
	struct cl_err e;
	char id[QUEUE_ID_LEN + 1];

	fresh_queue(&q);
	store(&q, "2525", "l1", id);
	CHECK(queue_lock(&q, &e) == 0);
	CHECK(queue_open(&q2, qdir, 0, &e) == 0);
	rec_init(&r);
	CHECK(flush(&q2, &r, 0, 0, &st, &e) == -1);
	CHECK_INT(e.cls, CL_ETEMP);
	CHECK(strstr(e.msg, "another clsmtpc is flushing") != NULL);
	CHECK_INT(r.sends, 0);
	CHECK_INT(count("msg", ".q0."), 1);
	queue_close(&q); /* releases the lock */
	CHECK(flush(&q2, &r, 0, 0, &st, &e) == 0);
	CHECK_INT(r.sends, 1);
	buf_free(&r.seen);
	queue_close(&q2);
}

TEST(test_queue_drop_removes_a_message_and_refuses_unknown_ids)
{
	struct queue q;
	struct cl_err e;
	char id[QUEUE_ID_LEN + 1], id2[QUEUE_ID_LEN + 1];

	fresh_queue(&q);
	store(&q, "2525", "d1", id);
	store(&q, "2525", "d2", id2);
	CHECK(queue_lock(&q, &e) == 0);
	CHECK(queue_drop(&q, id, &e) == 0);
	CHECK_INT(count("msg", id), 0);
	CHECK_INT(count("msg", id2), 2); /* the message and its .err */
	CHECK(queue_drop(&q, id, &e) == -1);
	CHECK_INT(e.cls, CL_EUSAGE);
	CHECK(queue_drop(&q, "../../etc/passwd", &e) == -1);
	CHECK_INT(e.cls, CL_EUSAGE);
	queue_close(&q);
}

TEST(test_queue_message_failing_after_five_days_expires)
{
	struct queue q;
	struct rec r = {0};
	struct queue_flush_stats st;
	struct cl_err e;
	char id[QUEUE_ID_LEN + 1];

	fresh_queue(&q);
	store(&q, "2525", "old", id);
	rec_init(&r);
	r.fail_open = CL_ETEMP;
	CHECK(flush(&q, &r, time(NULL) + 4 * 86400, 0, &st, &e) == -1);
	CHECK_INT(count("msg", ".q0.2."), 1);
	CHECK(flush(&q, &r, time(NULL) + 6 * 86400, 0, &st, &e) == -1);
	CHECK_INT(e.cls, CL_EUNAVAIL);
	CHECK_INT(count("msg", ""), 0);
	CHECK_INT(count("failed", id), 2);
	buf_free(&r.seen);
	queue_close(&q);
}

TEST(test_queue_recovery_cleans_leftovers)
{
	struct queue q;
	struct rec r = {0};
	struct queue_flush_stats st;
	struct cl_err e;
	char id[QUEUE_ID_LEN + 1], path[600], target[600];
	struct timespec old[2] = {{1000, 0}, {1000, 0}};
	int fd;

	fresh_queue(&q);
	store(&q, "2525", "cut", id);
	/* A move to failed/ cut off between its link and its unlink. */
	snprintf(path, sizeof(path), "%s/msg/%s", qdir, name_of(id));
	snprintf(target, sizeof(target), "%s/failed/%s", qdir, id);
	CHECK(link(path, target) == 0);
	/* A stale and a fresh tmp file. */
	snprintf(path, sizeof(path), "%s/tmp/stale", qdir);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	close(fd);
	utimensat(AT_FDCWD, path, old, 0);
	snprintf(path, sizeof(path), "%s/tmp/fresh", qdir);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	close(fd);
	rec_init(&r);
	flush(&q, &r, 0, 0, &st, &e);
	CHECK_INT(r.sends, 0);
	CHECK_INT(count("msg", ""), 0); /* message and its .err */
	CHECK_INT(count("failed", id), 1);
	CHECK_INT(count("tmp", "stale"), 0);
	CHECK_INT(count("tmp", "fresh"), 1);
	buf_free(&r.seen);
	queue_close(&q);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	RUN(test_queue_store_leaves_one_private_durable_file);
	RUN(test_queue_open_refuses_a_directory_others_can_write);
	RUN(test_queue_flush_sends_each_connection_over_one_session);
	RUN(test_queue_flush_defers_a_4xx_with_backoff_and_goes_on);
	RUN(test_queue_flush_moves_a_5xx_to_failed_with_the_reason);
	RUN(test_queue_flush_defers_a_whole_group_when_the_connection_fails);
	RUN(test_queue_flush_stops_a_group_after_an_auth_failure_in_a_send);
	RUN(test_queue_interrupted_send_is_resent_once_then_held);
	RUN(test_queue_interrupted_send_is_delivered_by_the_next_flush);
	RUN(test_queue_second_flush_finds_the_lock_taken);
	RUN(test_queue_drop_removes_a_message_and_refuses_unknown_ids);
	RUN(test_queue_message_failing_after_five_days_expires);
	RUN(test_queue_recovery_cleans_leftovers);
	remove_root();
	CHECK_DONE();
}
