/*
 * doctor_probe.c - probe every port of the report at the same time, one
 * thread per port, all bounded by one deadline: a classified TCP connect
 * (tcp_probe.c) then the SMTP look (smtp_probe.c). A filtered port costs
 * the connect share of the budget once, not once per port.
 */
#include "doctor_probe.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net/tcp_probe.h"
#include "base/timeout.h"
#include "transcript.h"

struct doctor_probe_job {
	struct doctor_port *port;
	const struct doctor_probe_params *pp;
	int64_t start;
	pthread_t thread;
	int started;
	FILE *tr_file; /* -v: the dialogue goes here, printed after */
	size_t tr_len;
	struct transcript tr;
};

static void doctor_probe_tls_result(struct doctor_port *dp, const char *host)
{
	const struct tls_peer_info *pi = &dp->smtp.peer;

	if (!dp->smtp.tls_up || pi->verify == TLS_VERIFY_OK)
		return;
	dp->state = DOCTOR_TLS_FAILURE;
	dp->tls_failure = tls_verify_class_name(pi->verify);
	switch (pi->verify) {
	case TLS_VERIFY_EXPIRED:
		snprintf(dp->detail, sizeof(dp->detail), "the certificate expired on %s",
		         pi->not_after);
		break;
	case TLS_VERIFY_NOT_YET_VALID:
		snprintf(dp->detail, sizeof(dp->detail),
		         "the certificate is valid only from %s (is this machine's clock right?)",
		         pi->not_before);
		break;
	case TLS_VERIFY_WRONG_NAME:
		snprintf(dp->detail, sizeof(dp->detail),
		         "the certificate is made out for %s, not %s",
		         pi->names[0] ? pi->names : pi->subject, host);
		break;
	default:
		snprintf(dp->detail, sizeof(dp->detail), "the certificate is not trusted: %s",
		         pi->verify_msg);
		break;
	}
}

static void *doctor_probe_thread(void *arg)
{
	struct doctor_probe_job *j = arg;
	struct doctor_port *dp = j->port;
	const struct doctor_probe_params *pp = j->pp;
	struct tcp_probe_result tr;
	struct smtp_probe_params sp;
	struct cl_err err;
	struct conn *c;
	char port[8], peer[INET6_ADDRSTRLEN + 16];

	err_clear(&err);
	snprintf(port, sizeof(port), "%d", dp->port);
	if (tcp_probe_connect(pp->host, port, pp->family, pp->connect_deadline_ms, &tr, &err) < 0) {
		dp->state = DOCTOR_NOT_PROBED;
		snprintf(dp->detail, sizeof(dp->detail), "%s", err.msg);
		goto out;
	}
	snprintf(dp->addr, sizeof(dp->addr), "%s", tr.addr);
	dp->connect_ms = (long)tr.elapsed_ms;
	switch (tr.state) {
	case TCP_PROBE_OPEN:
		break;
	case TCP_PROBE_REFUSED:
		dp->state = DOCTOR_REFUSED;
		snprintf(dp->detail, sizeof(dp->detail), "connection refused: nothing listens");
		goto out;
	case TCP_PROBE_FILTERED:
		dp->state = DOCTOR_FILTERED;
		snprintf(dp->detail, sizeof(dp->detail), "no answer at all within %ld ms",
		         (long)tr.elapsed_ms);
		goto out;
	case TCP_PROBE_UNREACHABLE:
		dp->state = DOCTOR_UNREACHABLE;
		snprintf(dp->detail, sizeof(dp->detail), "unreachable: %s", strerror(tr.sys_errno));
		goto out;
	default:
		dp->state = DOCTOR_NOT_PROBED;
		snprintf(dp->detail, sizeof(dp->detail), "cannot connect: %s",
		         strerror(tr.sys_errno));
		goto out;
	}
	dp->connected = 1;
	c = conn_from_fd(tr.fd);
	if (c == NULL) {
		close(tr.fd);
		dp->state = DOCTOR_NO_SMTP;
		snprintf(dp->detail, sizeof(dp->detail), "out of memory");
		goto out;
	}
	memset(&sp, 0, sizeof(sp));
	sp.host = pp->host;
	snprintf(peer, sizeof(peer), "%s port %d", dp->addr, dp->port);
	sp.peer = peer;
	sp.ehlo_domain = pp->ehlo_domain;
	sp.implicit_tls = dp->implicit_tls;
	sp.tls_ctx = pp->tls_ctx;
	sp.deadline_ms = pp->deadline_ms;
	if (j->tr_file) {
		sp.transcript = transcript_line;
		sp.transcript_arg = &j->tr;
	}
	if (smtp_probe_run(c, &sp, &dp->smtp, &err) < 0) {
		snprintf(dp->detail, sizeof(dp->detail), "%s", err.msg);
		if (dp->smtp.tls_tried && !dp->smtp.tls_up) {
			dp->state = DOCTOR_TLS_FAILURE;
			dp->tls_failure = "protocol";
		} else {
			dp->state = DOCTOR_NO_SMTP;
		}
		/* A certificate problem is still worth naming. */
		if (dp->smtp.tls_up && dp->smtp.peer.verify != TLS_VERIFY_OK)
			doctor_probe_tls_result(dp, pp->host);
		goto out;
	}
	dp->state = DOCTOR_OPEN;
	doctor_probe_tls_result(dp, pp->host);
out:
	dp->elapsed_ms = (long)(timeout_now_ms() - j->start);
	return NULL;
}

int doctor_probe_all(struct doctor_report *r, const struct doctor_probe_params *pp,
                     struct cl_err *err)
{
	struct doctor_probe_job jobs[DOCTOR_PORTS_MAX];
	size_t i;
	int64_t start = timeout_now_ms();

	memset(jobs, 0, sizeof(jobs));
	for (i = 0; i < r->nports; i++) {
		struct doctor_probe_job *j = &jobs[i];

		j->port = &r->ports[i];
		j->pp = pp;
		j->start = start;
		j->port->state = DOCTOR_NOT_PROBED;
		if (pp->verbose) {
			j->tr_file = open_memstream(&j->port->transcript, &j->tr_len);
			j->tr.out = j->tr_file;
		}
		if (pthread_create(&j->thread, NULL, doctor_probe_thread, j) == 0) {
			j->started = 1;
		} else {
			/* No thread: probe in this one (slower, still bounded). */
			doctor_probe_thread(j);
		}
	}
	for (i = 0; i < r->nports; i++) {
		if (jobs[i].started)
			pthread_join(jobs[i].thread, NULL);
		if (jobs[i].tr_file)
			fclose(jobs[i].tr_file);
	}
	(void)err;
	return 0;
}
