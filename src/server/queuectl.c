/*
 * queuectl.c - "clsmtpd -q", "clsmtpd -flush" and the agents' end of the
 * control channel (queuectl.h). A FIFO was chosen over a signal to the
 * daemon's pid file: no pid file is needed, a stale pid can never make us
 * signal a stranger, only who may write into the spool can ask, and a
 * flush with no agent running is detected (ENXIO) rather than lost.
 */
#include "queuectl.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "serve/spool.h"

static void queue_cli_path(struct buf *p, const char *dir, const char *name, const char *ext)
{
	buf_reset(p);
	buf_printf(p, "%s/%s.%s", dir, name, ext);
}

int queue_cli_agent_lock(const char *spooldir, const char *name, int wakefd)
{
	struct buf p = BUF_INIT(4096);
	int fd, said = 0;

	queue_cli_path(&p, spooldir, name, "lock");
	fd = open(buf_cstr(&p), O_CREAT | O_RDWR | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		log_msg(LOG_ERR, "%s agent: %s: %s", name, buf_cstr(&p), strerror(errno));
		buf_free(&p);
		return -1;
	}
	buf_free(&p);
	/* The agent of a killed clsmtpd may still be finishing a delivery. */
	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		struct pollfd pfd = {wakefd, POLLIN, 0};
		char c[64];
		if (errno != EWOULDBLOCK && errno != EINTR) {
			log_msg(LOG_ERR, "%s agent: lock: %s", name, strerror(errno));
			close(fd);
			return -1;
		}
		if (!said++)
			log_msg(LOG_INFO, "%s agent: waiting for the previous one to exit", name);
		if (poll(&pfd, 1, 100) > 0 && read(wakefd, c, sizeof(c)) == 0) {
			close(fd);
			return -1;
		}
	}
	return fd;
}

int queue_cli_agent_fifo(const char *spooldir, const char *name)
{
	struct buf p = BUF_INIT(4096);
	struct stat st;
	int fd;

	queue_cli_path(&p, spooldir, name, "flush");
	if (lstat(buf_cstr(&p), &st) == 0 && !S_ISFIFO(st.st_mode))
		unlink(buf_cstr(&p));
	if (mkfifo(buf_cstr(&p), 0600) < 0 && errno != EEXIST) {
		log_msg(LOG_ERR, "%s agent: mkfifo %s: %s", name, buf_cstr(&p), strerror(errno));
		buf_free(&p);
		return -1;
	}
	/* Read and write: the FIFO never reports EOF to us, and a writer
	 * finds a reader as long as we run. */
	fd = open(buf_cstr(&p), O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		log_msg(LOG_ERR, "%s agent: open %s: %s", name, buf_cstr(&p), strerror(errno));
	buf_free(&p);
	return fd;
}

int queue_cli_agent_read(int fifofd)
{
	char c[256];
	ssize_t n, i;
	int flush = 0;

	while ((n = read(fifofd, c, sizeof(c))) > 0)
		for (i = 0; i < n; i++)
			if (c[i] == QUEUE_CLI_FLUSH)
				flush = 1;
	return flush;
}

int queue_cli_poke(const char *spooldir, const char *name, char what)
{
	struct buf p = BUF_INIT(4096);
	int fd;

	queue_cli_path(&p, spooldir, name, "flush");
	fd = open(buf_cstr(&p), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	buf_free(&p);
	if (fd < 0)
		return -1; /* ENXIO: nobody reads it; ENOENT: never ran */
	if (write(fd, &what, 1) < 0 && errno != EAGAIN) {
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

struct queue_cli_list {
	char (*qid)[SPOOL_QID_LEN + 1];
	size_t n, cap;
};

static int queue_cli_collect(void *arg, const char *qid)
{
	struct queue_cli_list *l = arg;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		void *p = realloc(l->qid, cap * sizeof(*l->qid));
		if (p == NULL)
			return -1;
		l->qid = p;
		l->cap = cap;
	}
	memcpy(l->qid[l->n++], qid, SPOOL_QID_LEN + 1);
	return 0;
}

static int queue_cli_cmp(const void *a, const void *b)
{
	return memcmp(a, b, SPOOL_QID_LEN);
}

static void queue_cli_time(time_t t, char *out, size_t n)
{
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(out, n, "%Y-%m-%d %H:%M:%S", &tm);
}

static long long queue_cli_size(struct spool *sp, const struct spool_envelope *env)
{
	struct cl_err err;
	struct stat st;
	int fd = spool_data_fd(sp, env, &err);
	long long sz = -1;

	if (fd >= 0 && fstat(fd, &st) == 0)
		sz = (long long)st.st_size - (long long)env->data_offset;
	if (fd >= 0)
		close(fd);
	return sz;
}

int queue_cli_list(const char *spooldir, FILE *out)
{
	struct spool *sp;
	struct cl_err err;
	struct queue_cli_list l = {NULL, 0, 0};
	size_t i, k, pending = 0, shown = 0;

	err_clear(&err);
	if (spool_attach(&sp, spooldir, &err) < 0) {
		fprintf(stderr, "clsmtpd: %s\n", err.msg);
		return -1;
	}
	if (spool_scan(sp, queue_cli_collect, &l, &err) != 0) {
		fprintf(stderr, "clsmtpd: %s\n", err.cls ? err.msg : "out of memory");
		spool_close(sp);
		free(l.qid);
		return -1;
	}
	qsort(l.qid, l.n, sizeof(*l.qid), queue_cli_cmp);
	for (i = 0; i < l.n; i++) {
		struct spool_envelope env;
		char when[32];
		if (spool_load(sp, l.qid[i], &env, &err) < 0)
			continue; /* delivered since the scan */
		queue_cli_time(env.arrival, when, sizeof(when));
		fprintf(out, "%s  %lld bytes  %s  from <%s>%s%s\n", env.qid,
		        queue_cli_size(sp, &env), when, env.from,
		        strcmp(env.auth, "-") ? "  auth " : "",
		        strcmp(env.auth, "-") ? env.auth : "");
		for (k = 0; k < env.nrcpt; k++) {
			const struct spool_rcpt *r = &env.rcpt[k];
			fprintf(out, "    <%s>  %s  %s", r->addr,
			        r->cls == SPOOL_LOCAL ? "local" : "relay",
			        spool_rstate_name(r->state));
			if (r->attempts)
				fprintf(out, ", %d attempt%s", r->attempts,
				        r->attempts > 1 ? "s" : "");
			if (r->state == SPOOL_DEFERRED) {
				queue_cli_time(r->next_try, when, sizeof(when));
				fprintf(out, ", next %s", when);
			}
			if (r->last_text)
				fprintf(out, ": %s", r->last_text);
			fputc('\n', out);
			if (r->state == SPOOL_PENDING || r->state == SPOOL_DEFERRED)
				pending++;
		}
		shown++;
		spool_env_free(&env);
	}
	fprintf(out, "-- %zu message%s, %zu recipient%s not yet delivered\n", shown,
	        shown == 1 ? "" : "s", pending, pending == 1 ? "" : "s");
	free(l.qid);
	spool_close(sp);
	return 0;
}

int queue_cli_main(const char *cfile, int flush)
{
	struct conf *c;
	struct cl_err err;
	int r;

	err_clear(&err);
	if (conf_load(&c, cfile, &err) < 0) {
		fprintf(stderr, "clsmtpd: %s\n", err.msg);
		return 78;
	}
	if (!flush) {
		r = queue_cli_list(c->spool, stdout) < 0 ? 74 : 0;
	} else {
		int relay = queue_cli_poke(c->spool, QUEUE_CLI_AGENT_RELAY, QUEUE_CLI_FLUSH) == 0;
		int local = queue_cli_poke(c->spool, QUEUE_CLI_AGENT_LOCAL, QUEUE_CLI_FLUSH) == 0;
		if (relay || local) {
			printf("clsmtpd: flush: the %s%s%s agent%s will retry every deferred "
			       "recipient "
			       "now\n",
			       relay ? "relay" : "", relay && local ? " and the " : "",
			       local ? "local delivery" : "", relay && local ? "s" : "");
			r = 0;
		} else {
			fprintf(stderr,
			        "clsmtpd: flush: no delivery agent is running on %s (is clsmtpd "
			        "started? are you root or its user?)\n",
			        c->spool);
			r = 75;
		}
	}
	conf_free(c);
	return r;
}
