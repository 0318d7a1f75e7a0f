/*
 * metrics.c - clsmtpd's counters (metrics.h) and their Prometheus text
 * exposition (format 0.0.4: HELP, TYPE, one sample a line). The counters
 * sit in an anonymous shared mapping made before the agents are forked,
 * each updated with a relaxed atomic add: no lock, no message to the
 * daemon, nothing lost when an agent is restarted.
 */
#include "metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/version.h"

const unsigned metrics_delay_le[METRICS_DELAY_BUCKETS] = {1,    5,     30,    60,   300,
                                                          1800, 3600, 14400, 86400};

static struct metrics metrics_local;
static struct metrics *metrics_m = &metrics_local;
static time_t metrics_started;

int metrics_init(struct cl_err *err)
{
	void *p;

	if (metrics_m != &metrics_local)
		return 0;
	p = mmap(NULL, sizeof(struct metrics), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
	         -1, 0);
	if (p == MAP_FAILED)
		return err_set(err, CL_EIO, "metrics: mmap: %s", strerror(errno));
	memcpy(p, &metrics_local, sizeof(metrics_local));
	metrics_m = p;
	metrics_started = time(NULL);
	return 0;
}

time_t metrics_start_time(void)
{
	return metrics_started;
}

static void metrics_add(uint64_t *c, uint64_t n)
{
	__atomic_add_fetch(c, n, __ATOMIC_RELAXED);
}

void metrics_refused(enum metrics_refusal why)
{
	if ((unsigned)why < METRICS_REFUSALS)
		metrics_add(&metrics_m->refused[why], 1);
}

void metrics_accepted(uint64_t bytes)
{
	metrics_add(&metrics_m->accepted, 1);
	metrics_add(&metrics_m->accepted_bytes, bytes);
}

void metrics_outcome(enum metrics_class cls, enum metrics_outcome o)
{
	if ((unsigned)cls < METRICS_CLASSES && (unsigned)o < METRICS_OUTCOMES)
		metrics_add(&metrics_m->outcome[cls][o], 1);
}

void metrics_relay_delay(long long seconds)
{
	size_t i;

	if (seconds < 0)
		seconds = 0; /* the clock went back */
	for (i = 0; i < METRICS_DELAY_BUCKETS && (unsigned long long)seconds > metrics_delay_le[i];
	     i++) {
	}
	if (i < METRICS_DELAY_BUCKETS)
		metrics_add(&metrics_m->delay_bucket[i], 1);
	metrics_add(&metrics_m->delay_count, 1);
	metrics_add(&metrics_m->delay_sum, (uint64_t)seconds);
}

void metrics_snapshot(struct metrics *out)
{
	const uint64_t *src = (const uint64_t *)(const void *)metrics_m;
	uint64_t *dst = (uint64_t *)(void *)out;
	size_t i;

	for (i = 0; i < sizeof(*out) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}

/* ---- the exposition ---------------------------------------------------- */

static void metrics_head(struct buf *out, const char *name, const char *type, const char *help)
{
	buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void metrics_one(struct buf *out, const char *name, const char *type, const char *help,
                        unsigned long long v)
{
	metrics_head(out, name, type, help);
	buf_printf(out, "%s %llu\n", name, v);
}

static void metrics_count_ban(void *arg, const struct defence_ban_info *b)
{
	(void)b;
	(*(unsigned long long *)arg)++;
}

static void metrics_render_defence(struct defence *d, int64_t now, struct buf *out)
{
	const struct defence_stats *s = defence_stats(d);
	unsigned long long active = 0;

	defence_bans_foreach(d, now, 0, metrics_count_ban, &active);
	metrics_head(out, "clsmtpd_connections_total", "counter",
	             "Connections taken by the listeners (refused ones included).");
	buf_printf(out, "clsmtpd_connections_total %llu\n",
	           s->accepted + s->refused_banned + s->refused_client);
	metrics_head(out, "clsmtpd_connections_refused_total", "counter",
	             "Connections closed at accept, by reason.");
	buf_printf(out,
	           "clsmtpd_connections_refused_total{reason=\"banned\"} %llu\n"
	           "clsmtpd_connections_refused_total{reason=\"client_limit\"} %llu\n"
	           "clsmtpd_connections_refused_total{reason=\"server_full\"} %llu\n",
	           s->refused_banned, s->refused_client, s->refused_full);
	metrics_head(out, "clsmtpd_sessions_dropped_total", "counter",
	             "Sessions closed by the defence, by reason.");
	buf_printf(out,
	           "clsmtpd_sessions_dropped_total{reason=\"evicted\"} %llu\n"
	           "clsmtpd_sessions_dropped_total{reason=\"pregreet\"} %llu\n"
	           "clsmtpd_sessions_dropped_total{reason=\"slow_request\"} %llu\n"
	           "clsmtpd_sessions_dropped_total{reason=\"timeout\"} %llu\n",
	           s->evicted, s->pregreet, s->slow, s->timeouts);
	metrics_one(out, "clsmtpd_sessions_peak", "gauge", "Most sessions open at once since start.",
	            s->peak_sessions);
	metrics_one(out, "clsmtpd_auth_failures_total", "counter", "Failed SMTP AUTH attempts.",
	            s->auth_failures);
	metrics_one(out, "clsmtpd_auth_throttled_total", "counter",
	            "AUTH attempts answered 454 unchecked: their account was under attack.",
	            s->user_throttled);
	metrics_one(out, "clsmtpd_accounts_attacked_total", "counter",
	            "Times an account came under attack from many addresses.", s->user_attacks);
	metrics_one(out, "clsmtpd_protocol_errors_total", "counter",
	            "Error replies counted against clients.", s->errors);
	metrics_one(out, "clsmtpd_reply_delays_total", "counter",
	            "Replies held back to slow a client down.", s->delays);
	metrics_head(out, "clsmtpd_reply_delay_seconds_total", "counter",
	             "Time replies were held back, in all.");
	buf_printf(out, "clsmtpd_reply_delay_seconds_total %llu.%03llu\n", s->delay_ms / 1000,
	           s->delay_ms % 1000);
	metrics_head(out, "clsmtpd_bans_total", "counter", "Bans given, by origin.");
	buf_printf(out,
	           "clsmtpd_bans_total{origin=\"automatic\"} %llu\n"
	           "clsmtpd_bans_total{origin=\"manual\"} %llu\n",
	           s->bans >= s->bans_manual ? s->bans - s->bans_manual : 0, s->bans_manual);
	metrics_one(out, "clsmtpd_unbans_total", "counter", "Bans lifted by hand.", s->unbans);
	metrics_one(out, "clsmtpd_bans_active", "gauge", "Bans in force now.", active);
	metrics_one(out, "clsmtpd_defence_clients", "gauge",
	            "Client networks the defence tracks now.", defence_clients(d));
}

void metrics_render(const struct metrics *m, struct defence *d, unsigned sessions, int64_t now,
                    time_t started, struct buf *out)
{
	static const char *const why[METRICS_REFUSALS] = {"sender", "relay_denied", "recipient",
	                                                  "content", "queue_error"};
	static const char *const cls[METRICS_CLASSES] = {"local", "relay"};
	static const char *const st[METRICS_OUTCOMES] = {"sent", "deferred", "bounced"};
	unsigned long long cum = 0;
	size_t i, k;

	metrics_head(out, "clsmtpd_build_info", "gauge", "The running version (always 1).");
	buf_printf(out, "clsmtpd_build_info{version=\"%s\"} 1\n", CLSMTP_VERSION);
	metrics_one(out, "clsmtpd_start_time_seconds", "gauge",
	            "When clsmtpd started, in seconds since the epoch.",
	            (unsigned long long)started);
	metrics_one(out, "clsmtpd_sessions", "gauge", "SMTP sessions open now.", sessions);
	if (d != NULL)
		metrics_render_defence(d, now, out);
	metrics_one(out, "clsmtpd_messages_accepted_total", "counter",
	            "Messages committed to the spool and answered 250.", m->accepted);
	metrics_one(out, "clsmtpd_messages_accepted_bytes_total", "counter",
	            "Size of the accepted messages, in all.", m->accepted_bytes);
	metrics_head(out, "clsmtpd_messages_refused_total", "counter",
	             "Refusals at reception, by reason (MAIL and DATA per message, RCPT per "
	             "recipient).");
	for (i = 0; i < METRICS_REFUSALS; i++)
		buf_printf(out, "clsmtpd_messages_refused_total{reason=\"%s\"} %llu\n", why[i],
		           (unsigned long long)m->refused[i]);
	metrics_head(out, "clsmtpd_deliveries_total", "counter",
	             "Delivery attempts per recipient, by class and outcome (deferred: will be "
	             "retried; bounced: failed, the sender is told).");
	for (i = 0; i < METRICS_CLASSES; i++)
		for (k = 0; k < METRICS_OUTCOMES; k++)
			buf_printf(out, "clsmtpd_deliveries_total{class=\"%s\",status=\"%s\"} %llu\n",
			           cls[i], st[k], (unsigned long long)m->outcome[i][k]);
	metrics_head(out, "clsmtpd_relay_delay_seconds", "histogram",
	             "Time from acceptance to the next hop's acceptance, per relayed recipient.");
	for (i = 0; i < METRICS_DELAY_BUCKETS; i++) {
		cum += m->delay_bucket[i];
		buf_printf(out, "clsmtpd_relay_delay_seconds_bucket{le=\"%u\"} %llu\n",
		           metrics_delay_le[i], cum);
	}
	buf_printf(out,
	           "clsmtpd_relay_delay_seconds_bucket{le=\"+Inf\"} %llu\n"
	           "clsmtpd_relay_delay_seconds_sum %llu\n"
	           "clsmtpd_relay_delay_seconds_count %llu\n",
	           (unsigned long long)m->delay_count, (unsigned long long)m->delay_sum,
	           (unsigned long long)m->delay_count);
}

void metrics_render_queue(const struct metrics_queue *q, time_t now, struct buf *out)
{
	metrics_one(out, "clsmtpd_queue_messages", "gauge",
	            "Messages in the spool with a recipient still open.", q->messages);
	metrics_head(out, "clsmtpd_queue_recipients", "gauge",
	             "Recipients waiting for delivery, by class (deferred ones included).");
	buf_printf(out,
	           "clsmtpd_queue_recipients{class=\"local\"} %llu\n"
	           "clsmtpd_queue_recipients{class=\"relay\"} %llu\n",
	           (unsigned long long)q->recipients[METRICS_LOCAL],
	           (unsigned long long)q->recipients[METRICS_RELAY]);
	metrics_one(out, "clsmtpd_queue_deferred_recipients", "gauge",
	            "Recipients waiting for a retry after a temporary failure.", q->deferred);
	metrics_one(out, "clsmtpd_queue_oldest_message_age_seconds", "gauge",
	            "Age of the oldest message in the queue (0: empty).",
	            q->oldest > 0 && now > q->oldest ? (unsigned long long)(now - q->oldest) : 0);
}

int metrics_write_file(const char *file, const struct buf *text, struct cl_err *err)
{
	struct buf tmp = BUF_INIT(4096);
	int fd, r = -1;

	if (buf_printf(&tmp, "%s.tmp%ld", file, (long)getpid()) < 0) {
		buf_free(&tmp);
		return err_set(err, CL_ECONFIG, "%s: path too long", file);
	}
	fd = open(buf_cstr(&tmp), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		err_set(err, CL_EIO, "%s: %s", buf_cstr(&tmp), strerror(errno));
		buf_free(&tmp);
		return -1;
	}
	/* Readable by node_exporter whatever our umask. */
	if (fchmod(fd, 0644) < 0 || write(fd, text->data, text->len) != (ssize_t)text->len) {
		err_set(err, CL_EIO, "%s: %s", buf_cstr(&tmp), strerror(errno));
		close(fd);
	} else if (close(fd) < 0 || rename(buf_cstr(&tmp), file) < 0) {
		err_set(err, CL_EIO, "%s: %s", file, strerror(errno));
	} else {
		r = 0;
	}
	if (r < 0)
		unlink(buf_cstr(&tmp));
	buf_free(&tmp);
	return r;
}
