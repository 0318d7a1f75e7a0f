/*
 * queue_cli.c - the offline queue on the command line (docs/queue.md):
 * storing a message after a temporary failure with --queue, and the
 * commands --flush[=due], --list-queue and --drop-queued ID, in the queue
 * of --queue-dir or the default one. The work is done by queue.c and
 * queue_flush.c; this file turns options into calls and results into text.
 */
#include "queue_cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "queue.h"
#include "queue_flush.h"

int queue_cli_wanted(const struct client_opts *o)
{
	return o->flush || o->list_queue || o->drop_queued;
}

static int queue_cli_dir(const struct client_opts *o, struct buf *dir, struct cl_err *err)
{
	if (o->queue_dir) {
		buf_reset(dir);
		if (buf_set(dir, o->queue_dir) < 0)
			return err_set(err, CL_EUSAGE, "--queue-dir: name too long");
		return 0;
	}
	return queue_default_dir(dir, err);
}

static int queue_cli_uses_auth(const struct client_opts *o)
{
	return o->user && !(o->auth && strcasecmp(o->auth, "none") == 0);
}

int queue_cli_check(const struct client_opts *o, struct cl_err *err)
{
	if (o->password && queue_cli_uses_auth(o))
		return err_set(err, CL_EUSAGE,
		               "--queue cannot keep a password given with -r (a queue file never "
		               "holds a secret): give -p FILE, --passwordeval CMD, --keyring or "
		               "--password-env NAME");
	return 0;
}

/* A path as the flush (in any directory) will find it. */
static const char *queue_cli_abs(const char *path, struct buf *out)
{
	char cwd[4096];

	if (path == NULL || path[0] == '/')
		return path;
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		return path;
	buf_reset(out);
	if (buf_printf(out, "%s/%s", cwd, path) < 0)
		return path;
	return buf_cstr(out);
}

int queue_cli_store(const struct client_opts *o, const struct smtp_message *m,
                    const struct cl_err *why, struct cl_err *err)
{
	struct queue q;
	struct queue_header h;
	struct smtp_body_source body = m->body;
	struct buf dir = BUF_INIT(4096), pf = BUF_INIT(4200), tf = BUF_INIT(4200),
	           cf = BUF_INIT(4200);
	int r = -1;

	queue_file_header_init(&h);
	h.account = o->account;
	h.config = queue_cli_abs(o->config_file, &cf);
	h.host = o->host;
	h.port = o->port ? o->port : o->tls_mode == SMTP_TLS_SMTPS ? "465" : "587";
	h.tls_mode = o->tls_mode;
	if (queue_cli_uses_auth(o)) {
		h.auth = o->auth ? o->auth : "auto";
		h.user = o->user;
		/* The order in which send.c looks for the password. */
		if (o->passfile)
			h.passfile = queue_cli_abs(o->passfile, &pf);
		else if (o->passwordeval)
			h.passwordeval = o->passwordeval;
		else if (o->keyring)
			h.keyring = 1;
		else if (o->password_env)
			h.password_env = o->password_env;
	}
	h.trust_file = queue_cli_abs(o->trust_file, &tf);
	h.fingerprint = o->fingerprint;
	h.certcheck = o->certcheck;
	h.family = o->family;
	h.domain = o->domain;
	h.timeout_s = o->timeout_s;
	h.from = m->from;
	h.rcpts = (const char **)m->rcpts;
	h.nrcpt = m->nrcpt;
	h.body_8bit = m->body_8bit;
	h.smtputf8 = m->smtputf8;

	if (queue_cli_dir(o, &dir, err) < 0 || queue_open(&q, buf_cstr(&dir), 1, err) < 0)
		goto out;
	r = queue_store(&q, &h, &body, why->msg, err);
	if (r == 0)
		fprintf(stderr,
		        "clsmtpc: not sent now (%s); queued as %s in %s: clsmtpc --flush sends "
		        "it\n",
		        why->msg, h.id, q.path);
	queue_close(&q);
out:
	if (r < 0) {
		/* Neither sent nor kept: the caller must retry (exit 75). */
		struct cl_err e = *err;
		err_set(err, why->cls, "%s; and it could not be queued: %s", why->msg, e.msg);
	}
	buf_free(&dir);
	buf_free(&pf);
	buf_free(&tf);
	buf_free(&cf);
	return r;
}

/* ---- --list-queue ------------------------------------------------------------ */

static void queue_cli_time(long long t, char *out, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (localtime_r(&tt, &tm) == NULL || strftime(out, n, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(out, n, "%lld", t);
}

static void queue_cli_list_one(struct queue *q, const struct queue_item *it, long long now)
{
	struct queue_header h;
	struct buf e = BUF_INIT(CL_ERR_MSG_MAX + 256);
	struct cl_err err;
	const char *state;
	char when[64];
	int fd;

	queue_file_header_init(&h);
	state = it->failed         ? "failed"
	        : it->qn.sending   ? "sending"
	        : it->qn.uncertain ? "queued?"
	                           : "queued";
	if (queue_read(q, it->failed ? q->failedfd : q->msgfd, it->name, &h, &fd, &err) < 0) {
		printf("%s  %-8s (unreadable: %s)\n", it->qn.id, state, err.msg);
		return;
	}
	close(fd);
	printf("%s  %-8s %lld bytes", it->qn.id, state, h.size);
	if (!it->failed) {
		printf("  attempts %u", it->qn.attempts);
		if (!it->qn.sending) {
			queue_cli_time(it->qn.next, when, sizeof(when));
			printf("  next %s%s", when, it->qn.next <= now ? " (due)" : "");
		}
	}
	printf("\n  <%s> -> <%s>", h.from, h.rcpts[0]);
	if (h.nrcpt > 1)
		printf(" and %zu more", h.nrcpt - 1);
	printf(" via %s:%s%s%s\n", h.host, h.port, h.account ? " account " : "",
	       h.account ? h.account : "");
	if (h.message_id)
		printf("  Message-ID: %s\n", h.message_id);
	if (it->qn.uncertain && !it->failed)
		printf("  an earlier attempt was interrupted: it may arrive twice\n");
	queue_read_error(q, it->failed ? q->failedfd : q->msgfd, it->qn.id, &e);
	if (e.len)
		printf("  %s: %s\n", it->failed ? "reason" : "last error", buf_cstr(&e));
	queue_file_header_free(&h);
	buf_free(&e);
}

static int queue_cli_list(struct queue *q, struct cl_err *err)
{
	struct queue_item *items;
	size_t n, i, nq = 0, nf = 0;
	int pass;
	long long now = (long long)time(NULL);

	if (queue_scan(q, 1, &items, &n, err) < 0)
		return -1;
	/* Queued first, then failed. */
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < n; i++)
			if (items[i].failed == pass) {
				queue_cli_list_one(q, &items[i], now);
				if (pass)
					nf++;
				else
					nq++;
			}
	if (n == 0)
		printf("The queue %s is empty.\n", q->path);
	else
		printf("-- %zu queued, %zu failed, in %s\n", nq, nf, q->path);
	free(items);
	return 0;
}

/* ---- the commands ----------------------------------------------------------------- */

int queue_cli_run(struct client_opts *o, struct cl_err *err)
{
	struct queue q;
	struct queue_flush_opts fo;
	struct queue_flush_stats st;
	struct buf dir = BUF_INIT(4096);
	int r;

	if (o->body_arg) {
		buf_free(&dir);
		return err_set(err, CL_EUSAGE, "unexpected argument '%s' for a queue command",
		               o->body_arg);
	}
	if (!!o->flush + !!o->list_queue + !!o->drop_queued > 1) {
		buf_free(&dir);
		return err_set(err, CL_EUSAGE,
		               "give one of --flush, --list-queue and --drop-queued at a time");
	}
	if (queue_cli_dir(o, &dir, err) < 0) {
		buf_free(&dir);
		return -1;
	}
	r = queue_open(&q, buf_cstr(&dir), 0, err);
	if (r != 0) {
		if (r > 0 && o->drop_queued)
			r = err_set(err, CL_EUSAGE, "no message %s: the queue %s does not exist",
			            o->drop_queued, buf_cstr(&dir));
		else if (r > 0 && o->list_queue)
			r = printf("The queue %s is empty.\n", buf_cstr(&dir)) < 0 ? -1 : 0;
		else if (r > 0)
			r = 0; /* nothing to flush */
		buf_free(&dir);
		return r;
	}
	buf_free(&dir);
	if (o->list_queue) {
		r = queue_cli_list(&q, err);
	} else if (o->drop_queued) {
		r = queue_lock(&q, err);
		if (r == 0)
			r = queue_drop(&q, o->drop_queued, err);
		if (r == 0)
			printf("dropped %s\n", o->drop_queued);
	} else {
		memset(&fo, 0, sizeof(fo));
		fo.due_only = o->flush == 2;
		fo.verbose = o->verbose;
		fo.progress = isatty(STDERR_FILENO);
		fo.report = stderr;
		r = queue_flush_run(&q, &fo, &st, err);
	}
	queue_close(&q);
	return r;
}
