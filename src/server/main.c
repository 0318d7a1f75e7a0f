/*
 * main.c - clsmtpd: read and check the configuration, open the spool, bind
 * the listeners, drop privileges, start the local delivery agent and the
 * relay agent, and run the event loop; SIGHUP reloads the certificate and
 * the users file. Also "clsmtpd passwd ..." (or the clsmtpd-passwd link):
 * passwd.c; "clsmtpd -q" and "clsmtpd -flush": queuectl.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "checkdns.h"
#include "ctl.h"
#include "dkim_cli.h"
#include "defence_srv.h"
#include "deliver.h"
#include "evloop.h"
#include "conf_print.h"
#include "log.h"
#include "metrics.h"
#include "passwd.h"
#include "queuectl.h"
#include "relay.h"
#include "server.h"
#include "peer.h"
#include "base/nocore.h"
#include "base/timeout.h"
#include "base/version.h"

static pid_t main_agent_pid = -1;
static pid_t main_relay_pid = -1;
static int main_terminating;

/* In an agent just forked: die with clsmtpd (a SIGKILLed clsmtpd leaves
 * no agent behind to race the next one's), and forget the listeners. */
static void main_agent_child(pid_t parent)
{
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_IGN);
	signal(SIGCHLD, SIG_DFL);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(0);
	evloop_close_listeners();
}

static void main_usage(void)
{
	fprintf(stderr,
	        "usage: clsmtpd [-F] [-e] [-t] [-f config] [-P pidfile]\n"
	        "       clsmtpd -q|-flush [-f config]\n"
	        "       clsmtpd [-f config] -ban ADDR[/BITS] [SECONDS] | -unban ADDR | -bans | "
	        "-stats\n"
	        "       clsmtpd [-f config] -dkim-keygen DOMAIN SELECTOR [-a rsa|ed25519] [-b BITS] "
	        "[-d DIR]\n"
	        "       clsmtpd [-f config] -dkim-records | -dkim-sign < message\n"
	        "       clsmtpd [-f config] -check-dns [DOMAIN] [--json]\n"
	        "       clsmtpd passwd [-u usersfile] add|change|remove|list [user]\n");
}

typedef void (*main_agent_fn)(const struct conf *c, struct spool *sp, int wakefd);

/* Fork an agent (local delivery or relay) that works from the spool and is
 * woken through a pipe; *wake gets the pipe's write end, *pidp the child. */
static int main_fork_agent(struct srv *srv, main_agent_fn run, int *wake, pid_t *pidp,
                           const char *what)
{
	int p[2];
	pid_t pid, parent = getpid();

	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		main_agent_child(parent);
		close(p[1]);
		if (srv->wake_fd >= 0)
			close(srv->wake_fd);
		if (srv->relay_wake_fd >= 0)
			close(srv->relay_wake_fd);
		run(srv->conf, srv->spool, p[0]);
		_exit(0);
	}
	close(p[0]);
	if (*wake >= 0)
		close(*wake);
	*wake = p[1];
	fcntl(p[1], F_SETFL, O_NONBLOCK);
	*pidp = pid;
	log_msg(LOG_INFO, "%s agent started (pid %ld)", what, (long)pid);
	return 0;
}

static int main_start_agent(struct srv *srv)
{
	return main_fork_agent(srv, deliver_run, &srv->wake_fd, &main_agent_pid, "delivery");
}

static int main_start_relay(struct srv *srv)
{
	return main_fork_agent(srv, relay_run, &srv->relay_wake_fd, &main_relay_pid, "relay");
}

static void main_on_chld(struct srv *srv)
{
	int st;
	pid_t pid;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		if (pid == main_relay_pid) {
			log_msg(LOG_WARNING, "relay agent exited (status %d)%s", st,
			        main_terminating ? "" : ": restarting it");
			main_relay_pid = -1;
			if (!main_terminating && main_start_relay(srv) < 0)
				log_msg(LOG_ERR, "cannot restart the relay agent: %s",
				        strerror(errno));
			continue;
		}
		if (pid != main_agent_pid)
			continue;
		log_msg(LOG_WARNING, "delivery agent exited (status %d)%s", st,
		        main_terminating ? "" : ": restarting it");
		main_agent_pid = -1;
		if (!main_terminating && main_start_agent(srv) < 0)
			log_msg(LOG_ERR, "cannot restart the delivery agent: %s", strerror(errno));
	}
}

static void main_on_hup(struct srv *srv)
{
	struct cl_err err;
	struct tls_server_ctx *t;
	struct users u;

	err_clear(&err);
	if (srv->conf->cert != NULL) {
		if (tls_server_ctx_new(&t, srv->conf->cert, srv->conf->key, &err) < 0) {
			log_msg(LOG_ERR, "reload: keeping the old certificate: %s", err.msg);
		} else {
			tls_server_ctx_free(srv->tls);
			srv->tls = t;
			log_msg(LOG_INFO, "reload: certificate %s loaded", srv->conf->cert);
		}
	}
	if (users_load(&u, srv->conf->users, 1, &err) < 0) {
		log_msg(LOG_ERR, "reload: keeping the old users: %s", err.msg);
	} else {
		users_free(&srv->users);
		srv->users = u;
		log_msg(LOG_INFO, "reload: %zu users", u.n);
	}
}

static int main_drop(struct srv *srv, struct cl_err *err)
{
	struct passwd *pw;
	const char *dirs[] = {"", "/tmp", "/msg", "/state"};
	size_t i;

	if (srv->conf->user == NULL)
		return 0;
	pw = getpwnam(srv->conf->user);
	if (pw == NULL)
		return err_set(err, CL_ECONFIG, "user %s does not exist", srv->conf->user);
	/* Started as that user already (the systemd unit's User=): nothing
	 * to drop, and no right to change groups. */
	if (getuid() == pw->pw_uid && geteuid() == pw->pw_uid && getgid() == pw->pw_gid &&
	    getegid() == pw->pw_gid)
		return 0;
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		struct buf p = BUF_INIT(4096);
		buf_printf(&p, "%s%s", srv->conf->spool, dirs[i]);
		if (chown(p.data, pw->pw_uid, pw->pw_gid) < 0) {
			err_set(err, CL_EIO, "chown %s: %s", p.data, strerror(errno));
			buf_free(&p);
			return -1;
		}
		buf_free(&p);
	}
	if (setgroups(0, NULL) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0)
		return err_set(err, CL_EIO, "dropping privileges to %s: %s", srv->conf->user,
		               strerror(errno));
	if (setuid(0) == 0)
		return err_set(err, CL_ESOFTWARE, "could regain root after dropping privileges");
	/* The change of user made the process dumpable again. */
	no_core_dumps();
	return 0;
}

static int main_pidfile(const char *file)
{
	struct buf b = BUF_INIT(64), tmp = BUF_INIT(4096);
	int fd, r = -1;

	buf_printf(&b, "%ld\n", (long)getpid());
	buf_printf(&tmp, "%s.tmp", file);
	fd = open(tmp.data, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
	if (fd >= 0 && write(fd, b.data, b.len) == (ssize_t)b.len && close(fd) == 0 &&
	    rename(tmp.data, file) == 0)
		r = 0;
	buf_free(&b);
	buf_free(&tmp);
	return r;
}

/* What main() loaded before it knew it would stop (config check, errors). */
static void main_free_config(struct srv *s)
{
	users_free(&s->users);
	tls_server_ctx_free(s->tls);
	s->tls = NULL;
	conf_free(s->conf);
	s->conf = NULL;
}

/* A start that cannot go on: the error, what was made so far freed (so
 * that a sanitizer build sees no leak), the exit status. */
static int main_start_failed(struct srv *s, const struct cl_err *err, int status)
{
	fprintf(stderr, "clsmtpd: %s\n", err->msg);
	evloop_close_listeners();
	sasl_server_free(s->sasl);
	s->sasl = NULL;
	spool_close(s->spool);
	s->spool = NULL;
	main_free_config(s);
	return status;
}

int main(int argc, char **argv)
{
	const char *cfile = CONF_DEFAULT_FILE, *pidfile = NULL, *base;
	int foreground = 0, to_stderr = 0, check_only = 0, queue_list = 0, flush = 0, opt, i, k;
	struct srv srv;
	struct cl_err err;

	/* Passwords, SASL keys, DKIM keys: never in a core file. */
	no_core_dumps();
	base = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	if (strcmp(base, "clsmtpd-passwd") == 0)
		return passwd_main(argc, argv);
	if (argc > 1 && strcmp(argv[1], "passwd") == 0)
		return passwd_main(argc - 1, argv + 1);
	/* -check-dns: checkdns.c. */
	if ((i = checkdns_main(argc, argv)) >= 0)
		return i;
	/* -dkim-keygen, -dkim-records, -dkim-sign: dkim_cli.c. */
	if ((i = dkim_cli_main(argc, argv)) >= 0)
		return i;
	/* -ban, -unban, -bans, -stats: ctl.c. */
	if ((i = ctl_main(argc, argv)) >= 0)
		return i;
	/* "-flush" is one word (getopt would read -f lush). */
	for (i = k = 1; i < argc; i++) {
		if (strcmp(argv[i], "-flush") == 0)
			flush = 1;
		else
			argv[k++] = argv[i];
	}
	argc = k;
	argv[argc] = NULL;
	while ((opt = getopt(argc, argv, "FetVqf:P:")) != -1) {
		switch (opt) {
		case 'q':
			queue_list = 1;
			break;
		case 'F':
			foreground = 1;
			break;
		case 'e':
			to_stderr = 1;
			break;
		case 't':
			check_only = 1;
			break;
		case 'f':
			cfile = optarg;
			break;
		case 'P':
			pidfile = optarg;
			break;
		case 'V':
			printf("clsmtpd %s\n", CLSMTP_VERSION);
			return 0;
		default:
			main_usage();
			return 64;
		}
	}
	if (optind != argc || (queue_list && flush)) {
		main_usage();
		return 64;
	}
	if (queue_list || flush)
		return queue_cli_main(cfile, flush);
	memset(&srv, 0, sizeof(srv));
	srv.wake_fd = -1;
	srv.relay_wake_fd = -1;
	err_clear(&err);
	if (conf_load(&srv.conf, cfile, &err) < 0) {
		fprintf(stderr, "clsmtpd: %s\n", err.msg);
		return 78;
	}
	if (srv.conf->user != NULL) {
		const struct passwd *pw = getpwnam(srv.conf->user);
		if (pw != NULL)
			srv.conf->relay.secret_uid = (long)pw->pw_uid;
	}
	if (users_load(&srv.users, srv.conf->users, 1, &err) < 0 ||
	    (srv.conf->cert &&
	     tls_server_ctx_new(&srv.tls, srv.conf->cert, srv.conf->key, &err) < 0) ||
	    /* The smarthost password: read now, as root (its file is root's). */
	    relay_conf_load_secret(&srv.conf->relay, &err) < 0 ||
	    /* The DKIM keys too. */
	    dkim_conf_load_keys(&srv.conf->dkim, &err) < 0) {
		fprintf(stderr, "clsmtpd: %s\n", err.msg);
		main_free_config(&srv);
		return 78;
	}
	if (check_only) {
		/* The effective configuration, defaults included, secrets hidden. */
		struct buf eff = BUF_INIT((size_t)16 << 20);
		conf_print(srv.conf, &eff);
		fputs(buf_cstr(&eff), stdout);
		buf_free(&eff);
		printf("clsmtpd: %s: configuration OK (%zu listeners, %zu users)\n", cfile,
		       srv.conf->nlisten, srv.users.n);
		main_free_config(&srv);
		return 0;
	}
	log_init("clsmtpd", to_stderr || srv.conf->log_stderr);
	/* Lookups go through the defence's per-account limit (peer.c). */
	if (sasl_server_new(&srv.sasl, srv.conf->hostname, peer_sasl_lookup, &srv, &err) < 0 ||
	    spool_open(&srv.spool, srv.conf->spool, &err) < 0 || evloop_listen(&srv, &err) < 0)
		return main_start_failed(&srv, &err, err.cls == CL_ECONFIG ? 78 : 71);
	/* The ban list and the control socket, as root (docs/defence.md). */
	if (defence_srv_init(srv.conf, &err) < 0)
		return main_start_failed(&srv, &err, 71);
	/* Without it -ban and -stats would fail later, silently: refuse to start. */
	if (ctl_listen(srv.conf->ctl_socket, &err) < 0) {
		defence_srv_shutdown(timeout_now_ms());
		return main_start_failed(&srv, &err, err.cls == CL_ECONFIG ? 78 : 73);
	}
	if (metrics_init(&err) < 0) {
		defence_srv_shutdown(timeout_now_ms());
		return main_start_failed(&srv, &err, 71);
	}
	if (!foreground) {
		pid_t pid = fork();
		if (pid < 0) {
			perror("clsmtpd: fork");
			return 71;
		}
		if (pid > 0)
			return 0;
		setsid();
		if (chdir("/") < 0) {
			/* stay where we are */
		}
		{
			int fd = open("/dev/null", O_RDWR);
			if (fd >= 0) {
				dup2(fd, 0);
				dup2(fd, 1);
				if (!to_stderr && !srv.conf->log_stderr)
					dup2(fd, 2);
				if (fd > 2)
					close(fd);
			}
		}
	}
	/* Written as root (the listeners are bound, the loop is next); the
	 * readiness signal of the tests and of init scripts. */
	if (pidfile != NULL && main_pidfile(pidfile) < 0)
		log_msg(LOG_ERR, "cannot write %s: %s", pidfile, strerror(errno));
	if (main_drop(&srv, &err) < 0) {
		log_msg(LOG_ERR, "%s", err.msg);
		if (pidfile != NULL)
			unlink(pidfile);
		return 71;
	}
	/* The user lookups go through srv.users, which SIGHUP replaces in
	 * place: the pointer given to sasl_server_new stays valid. */
	if (main_start_agent(&srv) < 0 || main_start_relay(&srv) < 0) {
		log_msg(LOG_ERR, "cannot start the delivery agents: %s", strerror(errno));
		return 71;
	}
	log_msg(LOG_INFO, "clsmtpd %s ready: %zu listeners, %zu users, spool %s", CLSMTP_VERSION,
	        srv.conf->nlisten, srv.users.n, srv.conf->spool);
	evloop_run(&srv, main_on_hup, main_on_chld);
	main_terminating = 1;
	log_msg(LOG_INFO, "shutting down");
	if (srv.wake_fd >= 0)
		close(srv.wake_fd); /* the agent sees EOF and exits */
	if (srv.relay_wake_fd >= 0)
		close(srv.relay_wake_fd);
	/* The relay agent may be inside a long SMTP session: stop it now;
	 * whatever it had not journalled is sent again later. */
	if (main_relay_pid > 0) {
		kill(main_relay_pid, SIGTERM);
		waitpid(main_relay_pid, NULL, 0);
	}
	if (main_agent_pid > 0)
		waitpid(main_agent_pid, NULL, 0);
	if (pidfile != NULL)
		unlink(pidfile);
	defence_srv_shutdown(timeout_now_ms());
	sasl_server_free(srv.sasl);
	tls_server_ctx_free(srv.tls);
	users_free(&srv.users);
	spool_close(srv.spool);
	conf_free(srv.conf);
	return 0;
}
