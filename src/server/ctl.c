/*
 * ctl.c - the control socket of clsmtpd and its command-line side (ctl.h).
 * Requests: "ban NET SECONDS" (0: permanent), "unban NET", "bans",
 * "stats", "metrics". The first answer line is "ok ..." or "error ..."; the daemon
 * then closes. The daemon side never blocks: sockets are non-blocking and
 * an administrator who does not finish a line in 5 s is dropped.
 */
#include "ctl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "banlist.h"
#include "conf.h"
#include "defence_srv.h"
#include "metrics.h"
#include "metrics_queue.h"
#include "base/timeout.h"

struct ctl_client {
	int used, fd;
	struct buf in, out;
	int answered;
	int64_t deadline;
};

static int ctl_lfd = -1;
static struct buf ctl_sock_path = BUF_INIT(sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
static struct ctl_client ctl_cl[CTL_CLIENTS_MAX];
/* What each pollfd of the last ctl_pollfds is: -1 the listener, else a client. */
static int ctl_order[CTL_POLLFDS];

/* ---- requests, shared by the daemon and the offline command ---------- */

static void ctl_when(long long wall, struct buf *out)
{
	char t[64];
	time_t tt = (time_t)wall;
	struct tm tm;

	localtime_r(&tt, &tm);
	strftime(t, sizeof(t), "%Y-%m-%d %H:%M:%S %z", &tm);
	buf_adds(out, t);
}

struct ctl_list {
	struct buf *out;
	long long wall;
	unsigned n;
};

static void ctl_list_one(void *arg, const struct defence_ban_info *b)
{
	struct ctl_list *l = arg;
	char net[NET_PREFIX_TEXT_MAX];

	net_prefix_format(&b->net, 0, net, sizeof(net));
	buf_printf(l->out, "%s\t", net);
	if (b->until_wall == 0) {
		buf_adds(l->out, "permanent");
	} else {
		buf_adds(l->out, "until ");
		ctl_when(b->until_wall, l->out);
		buf_printf(l->out, " (%lld s left)", b->until_wall - l->wall);
	}
	buf_printf(l->out, "\toffences=%u\treason=%s\n", b->offences, b->reason);
	l->n++;
}

/* Answer one request line against d (the daemon's, or one loaded from the
 * ban file). *changed is set when bans were added or lifted. */
static void ctl_request(struct defence *d, const struct conf *conf, const char *line,
                        unsigned sessions, int64_t now, long long wall, struct buf *out,
                        int *changed)
{
	char verb[16], arg[64], extra[2];
	long secs = 0;
	struct net_prefix net;
	/* NOLINTNEXTLINE(cert-err34-c): root's socket; the count and range are checked */
	int n = sscanf(line, "%15s %63s %ld %1s", verb, arg, &secs, extra);

	*changed = 0;
	if (n >= 1 && strcmp(verb, "stats") == 0 && n == 1) {
		buf_adds(out, "ok\n");
		defence_stats_text(d, sessions, now, out);
		buf_addc(out, '\n');
		return;
	}
	if (n >= 1 && strcmp(verb, "metrics") == 0 && n == 1) {
		struct metrics m;
		metrics_snapshot(&m);
		buf_adds(out, "ok\n");
		metrics_render(&m, d, sessions, now, metrics_start_time(), out);
		return;
	}
	if (n >= 1 && strcmp(verb, "bans") == 0 && n == 1) {
		struct buf list = BUF_INIT((size_t)64 << 20);
		struct ctl_list l = {&list, wall, 0};
		defence_bans_foreach(d, now, 0, ctl_list_one, &l);
		buf_printf(out, "ok %u active bans\n", l.n);
		buf_add(out, list.data ? list.data : "", list.len);
		buf_free(&list);
		return;
	}
	if (n >= 2 && (strcmp(verb, "ban") == 0 || strcmp(verb, "unban") == 0)) {
		char text[NET_PREFIX_TEXT_MAX];
		if (net_prefix_parse(arg, &net) < 0) {
			buf_printf(out, "error %s: not an address or ADDRESS/BITS\n", arg);
			return;
		}
		net_prefix_format(&net, 0, text, sizeof(text));
		if (verb[0] == 'u') {
			if (n != 2) {
				buf_adds(out, "error usage: unban NET\n");
				return;
			}
			buf_printf(out, "ok unbanned %s (%d active bans lifted)\n", text,
			           defence_unban(d, &net, now));
			*changed = 1;
			return;
		}
		if (n != 3 || secs < 0 || secs > 10L * 365 * 86400) {
			buf_adds(out, "error usage: ban NET SECONDS (0: permanent)\n");
			return;
		}
		/* Trusted networks are never banned, not even by hand. */
		if (defence_srv_protected(conf, &net)) {
			buf_printf(out, "error %s is a trusted or exempt network: never banned\n",
			           text);
			return;
		}
		if (defence_ban(d, &net, secs, now) < 0) {
			buf_adds(out, "error no room for another ban\n");
			return;
		}
		*changed = 1;
		if (secs == 0)
			buf_printf(out, "ok banned %s permanently\n", text);
		else
			buf_printf(out, "ok banned %s for %ld s\n", text, secs);
		return;
	}
	buf_adds(out, "error unknown request (ban NET SECONDS, unban NET, bans, stats, metrics)\n");
}

/* ---- the daemon side ------------------------------------------------- */

int ctl_listen(const char *path, struct cl_err *err)
{
	struct sockaddr_un sun;
	mode_t old;
	int fd;

	buf_reset(&ctl_sock_path);
	if (buf_adds(&ctl_sock_path, path) < 0)
		return err_set(err, CL_ECONFIG, "control_socket %s: path too long for a Unix socket",
		               path);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, ctl_sock_path.data, ctl_sock_path.len + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return err_set(err, CL_EIO, "control socket: %s", strerror(errno));
	unlink(sun.sun_path);
	old = umask(077);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || listen(fd, CTL_CLIENTS_MAX) < 0) {
		int e = errno;
		umask(old);
		err_set(err, e == ENOENT ? CL_ECONFIG : CL_EIO, "control socket %s: %s%s",
		        sun.sun_path, strerror(e),
		        e == ENOENT ? " (create its directory, or RuntimeDirectory= in the unit)" : "");
		close(fd);
		return -1;
	}
	umask(old);
	/* bind gave it 0777 & ~077; 0600 says what it is for: read and write. */
	if (chmod(sun.sun_path, 0600) < 0) {
		err_set(err, CL_EIO, "control socket %s: chmod: %s", sun.sun_path, strerror(errno));
		close(fd);
		unlink(sun.sun_path);
		return -1;
	}
	ctl_lfd = fd;
	return 0;
}

static void ctl_drop(struct ctl_client *c)
{
	close(c->fd);
	c->used = 0;
	c->fd = -1;
	buf_free(&c->in);
	buf_free(&c->out);
}

void ctl_close(int unlink_socket)
{
	size_t i;

	for (i = 0; i < CTL_CLIENTS_MAX; i++)
		if (ctl_cl[i].used)
			ctl_drop(&ctl_cl[i]);
	if (ctl_lfd >= 0) {
		close(ctl_lfd);
		ctl_lfd = -1;
		if (unlink_socket && ctl_sock_path.len > 0)
			unlink(ctl_sock_path.data);
	}
}

size_t ctl_pollfds(struct pollfd *pfd)
{
	size_t n = 0, i;

	if (ctl_lfd >= 0) {
		ctl_order[n] = -1;
		pfd[n++] = (struct pollfd){ctl_lfd, POLLIN, 0};
	}
	for (i = 0; i < CTL_CLIENTS_MAX; i++) {
		if (!ctl_cl[i].used)
			continue;
		ctl_order[n] = (int)i;
		pfd[n++] = (struct pollfd){ctl_cl[i].fd, ctl_cl[i].answered ? POLLOUT : POLLIN, 0};
	}
	return n;
}

static void ctl_accept(int64_t now)
{
	int fd;
	size_t i;

	while ((fd = accept4(ctl_lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		for (i = 0; i < CTL_CLIENTS_MAX && ctl_cl[i].used; i++) {
		}
		if (i == CTL_CLIENTS_MAX) {
			close(fd);
			continue;
		}
		ctl_cl[i].used = 1;
		ctl_cl[i].fd = fd;
		ctl_cl[i].answered = 0;
		ctl_cl[i].deadline = now + CTL_TIMEOUT_MS;
		buf_init(&ctl_cl[i].in, CTL_LINE_MAX);
		buf_init(&ctl_cl[i].out, (size_t)64 << 20);
	}
}

/* Read the request; answer it once the line is complete. */
static void ctl_read(struct ctl_client *c, unsigned sessions, int64_t now)
{
	char tmp[CTL_LINE_MAX];
	ssize_t r = read(c->fd, tmp, sizeof(tmp));
	char *nl;
	struct defence *d = defence_srv();
	struct timespec ts;
	int changed;

	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r <= 0 || buf_add(&c->in, tmp, (size_t)r) < 0) {
		ctl_drop(c);
		return;
	}
	nl = memchr(c->in.data, '\n', c->in.len);
	if (nl == NULL)
		return;
	*nl = '\0';
	clock_gettime(CLOCK_REALTIME, &ts);
	if (d == NULL)
		buf_adds(&c->out, "error the defence is not running\n");
	else
		ctl_request(d, defence_srv_config(), c->in.data, sessions, now,
		            (long long)ts.tv_sec, &c->out, &changed);
	c->answered = 1;
}

static void ctl_write(struct ctl_client *c)
{
	while (c->out.len > 0) {
		ssize_t w = write(c->fd, c->out.data, c->out.len);
		if (w < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (w <= 0)
			break;
		buf_consume(&c->out, (size_t)w);
	}
	ctl_drop(c);
}

int64_t ctl_serve(const struct pollfd *pfd, size_t n, unsigned sessions, int64_t now)
{
	int64_t next = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (pfd[i].revents == 0)
			continue;
		if (ctl_order[i] < 0) {
			ctl_accept(now);
			continue;
		}
		if (!ctl_cl[ctl_order[i]].used || ctl_cl[ctl_order[i]].fd != pfd[i].fd)
			continue;
		if (!ctl_cl[ctl_order[i]].answered)
			ctl_read(&ctl_cl[ctl_order[i]], sessions, now);
		if (ctl_cl[ctl_order[i]].used && ctl_cl[ctl_order[i]].answered)
			ctl_write(&ctl_cl[ctl_order[i]]);
	}
	for (i = 0; i < CTL_CLIENTS_MAX; i++) {
		if (!ctl_cl[i].used)
			continue;
		if (now >= ctl_cl[i].deadline) {
			ctl_drop(&ctl_cl[i]);
			continue;
		}
		if (next == 0 || ctl_cl[i].deadline < next)
			next = ctl_cl[i].deadline;
	}
	return next;
}

/* ---- the command line ------------------------------------------------ */

static int ctl_usage(void)
{
	fprintf(stderr, "usage: clsmtpd [-f config] -ban ADDRESS[/BITS] [SECONDS]\n"
	                "       clsmtpd [-f config] -unban ADDRESS[/BITS]\n"
	                "       clsmtpd [-f config] -bans\n"
	                "       clsmtpd [-f config] -stats [--format=text|prometheus] "
	                "[--output=FILE]\n");
	return 64;
}

/* Ask the daemon; its answer in *in. 1 answered, 0 nobody listens, -1 error. */
static int ctl_ask(const char *path, const char *req, struct buf *in)
{
	struct sockaddr_un sun;
	char tmp[4096];
	int fd;
	ssize_t r;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "clsmtpd: %s: path too long for a Unix socket\n", path);
		return -1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		int e = errno;
		close(fd);
		if (e == ENOENT || e == ECONNREFUSED)
			return 0;
		fprintf(stderr, "clsmtpd: %s: %s\n", path, strerror(e));
		return -1;
	}
	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
		close(fd);
		return -1;
	}
	while ((r = read(fd, tmp, sizeof(tmp))) > 0)
		if (buf_add(in, tmp, (size_t)r) < 0)
			break;
	close(fd);
	return 1;
}

/* Print the daemon's answer; its exit status. */
static int ctl_print(const struct buf *in)
{
	const char *body = buf_cstr(in), *nl = strchr(body, '\n');

	if (strncmp(body, "ok", 2) != 0) {
		fprintf(stderr, "clsmtpd: %s", strncmp(body, "error ", 6) == 0 ? body + 6 : body);
		if (in->len == 0 || body[in->len - 1] != '\n')
			fputc('\n', stderr);
		return 65;
	}
	/* "ok" alone introduces data; "ok text" is the message. */
	if (body[2] == ' ')
		fwrite(body + 3, 1, nl ? (size_t)(nl - body - 2) : strlen(body + 3), stdout);
	if (nl != NULL)
		fputs(nl + 1, stdout);
	return 0;
}

/* "-stats --format=prometheus": the daemon's counters, then the queue's
 * (read here, from the spool), to stdout or atomically into output. */
static int ctl_metrics(const struct conf *conf, const struct buf *in, const char *output)
{
	const char *body = buf_cstr(in), *nl = strchr(body, '\n');
	struct buf text = BUF_INIT((size_t)64 << 20);
	struct metrics_queue q;
	struct cl_err err;
	int rc = 0;

	if (strncmp(body, "ok\n", 3) != 0 || nl == NULL)
		return ctl_print(in);
	err_clear(&err);
	if (metrics_queue_read(conf->spool, &q, &err) < 0) {
		fprintf(stderr, "clsmtpd: %s\n", err.msg);
		return 74;
	}
	buf_adds(&text, nl + 1);
	metrics_render_queue(&q, time(NULL), &text);
	if (output == NULL) {
		fputs(buf_cstr(&text), stdout);
	} else if (metrics_write_file(output, &text, &err) < 0) {
		fprintf(stderr, "clsmtpd: %s\n", err.msg);
		rc = 73;
	}
	buf_free(&text);
	return rc;
}

/* Nobody listens: work on the ban file itself. */
static int ctl_offline(const struct conf *conf, const char *req, int is_stats)
{
	struct buf file = BUF_INIT(4096), out = BUF_INIT((size_t)64 << 20);
	struct defence *d;
	struct cl_err err;
	struct timespec ts;
	int64_t now = timeout_now_ms();
	unsigned skipped;
	uint32_t seed = 0;
	int changed, rc = 0;

	if (is_stats) {
		fprintf(stderr, "clsmtpd: not running (no answer on %s)\n", conf->ctl_socket);
		return 69;
	}
	if (getrandom(&seed, sizeof(seed), 0) < 0)
		seed = 1;
	d = defence_new(&conf->defence, seed);
	if (d == NULL)
		return 71;
	clock_gettime(CLOCK_REALTIME, &ts);
	defence_set_wall_offset(d, (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 - now);
	banlist_path(conf->spool, &file);
	err_clear(&err);
	if (banlist_load(d, buf_cstr(&file), now, &skipped, &err) < 0) {
		fprintf(stderr, "clsmtpd: %s\n", err.msg);
		rc = 74;
		goto out;
	}
	ctl_request(d, conf, req, 0, now, (long long)ts.tv_sec, &out, &changed);
	if (strncmp(buf_cstr(&out), "ok", 2) != 0) {
		fprintf(stderr, "clsmtpd: %s", out.data + 6);
		rc = 65;
		goto out;
	}
	if (changed && banlist_save(d, buf_cstr(&file), now, &err) < 0) {
		fprintf(stderr, "clsmtpd: %s\n", err.msg);
		rc = 74;
		goto out;
	}
	{
		const char *nl = strchr(out.data, '\n');
		fwrite(out.data + 3, 1, (size_t)(nl - out.data - 2), stdout);
		fputs(nl + 1, stdout);
	}
	if (changed)
		printf("(clsmtpd is not running: %s updated; it applies at the next start)\n",
		       buf_cstr(&file));
out:
	defence_free(d);
	buf_free(&file);
	buf_free(&out);
	return rc;
}

/* "--name=value" or "--name value" at argv[*i]: 1 with *value set, else 0. */
static int ctl_long_opt(int argc, char **argv, int *i, const char *name, const char **value)
{
	size_t n = strlen(name);

	if (strncmp(argv[*i], name, n) != 0)
		return 0;
	if (argv[*i][n] == '=') {
		*value = argv[*i] + n + 1;
		return 1;
	}
	if (argv[*i][n] == '\0' && *i + 1 < argc) {
		*value = argv[++*i];
		return 1;
	}
	return 0;
}

int ctl_main(int argc, char **argv)
{
	const char *cfile = CONF_DEFAULT_FILE, *verb = NULL, *addr = NULL, *secs = "0";
	const char *format = NULL, *output = NULL, *v = NULL;
	struct buf req = BUF_INIT(CTL_LINE_MAX), in = BUF_INIT((size_t)64 << 20);
	struct conf *conf;
	struct cl_err err;
	int i, rc = 0, r, prom;

	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "-ban") == 0 || strcmp(argv[i], "-unban") == 0 ||
		    strcmp(argv[i], "-bans") == 0 || strcmp(argv[i], "-stats") == 0)
			break;
	if (i == argc)
		return -1;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-f") == 0 && i + 1 < argc) {
			cfile = argv[++i];
		} else if (ctl_long_opt(argc, argv, &i, "--format", &v)) {
			format = v;
		} else if (ctl_long_opt(argc, argv, &i, "--output", &v)) {
			output = v;
		} else if (verb == NULL && argv[i][0] == '-' && argv[i][1] != 'f' &&
		           argv[i][1] != '-') {
			verb = argv[i] + 1;
			if (strcmp(verb, "ban") == 0 || strcmp(verb, "unban") == 0) {
				if (i + 1 >= argc)
					return ctl_usage();
				addr = argv[++i];
				if (verb[0] == 'b' && i + 1 < argc && argv[i + 1][0] != '-')
					secs = argv[++i];
			}
		} else {
			return ctl_usage();
		}
	}
	if (verb == NULL)
		return ctl_usage();
	/* --format and --output belong to -stats; never accepted and ignored. */
	if ((format != NULL || output != NULL) && strcmp(verb, "stats") != 0)
		return ctl_usage();
	if (format != NULL && strcmp(format, "text") != 0 && strcmp(format, "prometheus") != 0)
		return ctl_usage();
	prom = format != NULL && strcmp(format, "prometheus") == 0;
	if (output != NULL && !prom) {
		fprintf(stderr, "clsmtpd: --output needs --format=prometheus\n");
		return 64;
	}
	if (strcmp(verb, "ban") == 0) {
		char *end;
		long val = strtol(secs, &end, 10);
		if (*end != '\0' || end == secs || val < 0)
			return ctl_usage();
		buf_printf(&req, "ban %s %ld\n", addr, val);
	} else if (strcmp(verb, "unban") == 0) {
		buf_printf(&req, "unban %s\n", addr);
	} else if (strcmp(verb, "bans") == 0 || strcmp(verb, "stats") == 0) {
		buf_printf(&req, "%s\n", prom ? "metrics" : verb);
	} else {
		return ctl_usage();
	}
	if (addr != NULL && strpbrk(addr, " \t\r\n") != NULL)
		return ctl_usage();
	err_clear(&err);
	if (conf_load(&conf, cfile, &err) < 0) {
		fprintf(stderr, "clsmtpd: %s\n", err.msg);
		buf_free(&req);
		return 78;
	}
	r = ctl_ask(conf->ctl_socket, buf_cstr(&req), &in);
	if (r == 0)
		rc = ctl_offline(conf, buf_cstr(&req), verb[0] == 's');
	else if (r < 0)
		rc = 74;
	else if (prom)
		rc = ctl_metrics(conf, &in, output);
	else
		rc = ctl_print(&in);
	conf_free(conf);
	buf_free(&req);
	buf_free(&in);
	return rc;
}
