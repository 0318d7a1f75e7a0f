/*
 * sendmail.c - sendmail mode (see sendmail.h). Options are parsed the way
 * sendmail's getopt does (clusters, arguments attached or separate); msmtp's
 * long options go through sendmail_long.c; those msmtp itself accepts and
 * ignores for sendmail compatibility (-oem, -odi, -m, -G...) are ignored
 * here too, every other one works or is refused. The message
 * is spooled by rawmsg.c (header section in memory, body in a temporary
 * file: memory does not grow with it) and streamed by send_run through the
 * account chosen by -a, -f or the From field.
 */
#include "sendmail.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "accounts.h"
#include "smtp/addr.h"
#include "msg/compose.h"
#include "config.h"
#include "base/hostname.h"
#include "options.h"
#include "msg/rawmsg.h"
#include "msg/rawmsg_addr.h"
#include "send.h"
#include "send_msg.h"
#include "sendmail_long.h"
#include "subst.h"
#include "base/version.h"

/* An aliases file longer than this is not an aliases file. */
#define SENDMAIL_ALIASES_MAX (256 * 1024)

/* The recipients, owned copies, without duplicates. */
struct sendmail_rcpts {
	char *v[OPT_RCPT_MAX];
	size_t n;
	const char *aliases; /* the account's aliases file, or NULL */
	struct cl_err *err;
	int depth;
};

int sendmail_wanted(int argc, char **argv)
{
	const char *base;

	if (argc > 1 && strcmp(argv[1], "--sendmail") == 0)
		return 1;
	if (argc < 1 || argv[0] == NULL)
		return 0;
	base = strrchr(argv[0], '/');
	base = base ? base + 1 : argv[0];
	return strcmp(base, "sendmail") == 0;
}

static int sendmail_add_rcpt(void *arg, const char *addr);

/* Unqualified names ("root", as cron writes) go through the aliases file. */
static int sendmail_add_unqualified(struct sendmail_rcpts *r, const char *name)
{
	int x;

	if (r->aliases && r->depth == 0) {
		r->depth++;
		x = sendmail_alias_expand(r->aliases, name, sendmail_add_rcpt, r, r->err);
		r->depth--;
		if (x <= 0)
			return x;
	}
	return err_set(r->err, CL_EDATA,
	               "recipient '%s' has no domain: give a full address, or map it in an "
	               "aliases file (\"aliases FILE\" in the account, clsmtpc.conf(5))",
	               name);
}

static int sendmail_add_rcpt(void *arg, const char *addr)
{
	struct sendmail_rcpts *r = arg;
	size_t i;

	if (strchr(addr, '@') == NULL)
		return sendmail_add_unqualified(r, addr);
	if (addr_check(addr, "recipient", 0, r->err) < 0)
		return -1;
	for (i = 0; i < r->n; i++)
		if (strcasecmp(r->v[i], addr) == 0)
			return 0;
	if (r->n == OPT_RCPT_MAX)
		return err_set(r->err, CL_EUSAGE, "too many recipients (at most %d)", OPT_RCPT_MAX);
	r->v[r->n] = strdup(addr);
	if (r->v[r->n] == NULL)
		return err_set(r->err, CL_ESOFTWARE, "out of memory");
	r->n++;
	return 0;
}

int sendmail_alias_expand(const char *path, const char *name,
                          int (*cb)(void *arg, const char *addr), void *arg, struct cl_err *err)
{
	struct buf text = BUF_INIT(SENDMAIL_ALIASES_MAX), dflt = BUF_INIT(4096);
	char tmp[4096], *line, *save = NULL, *colon;
	ssize_t n;
	int fd, r = 1;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(err, CL_ECONFIG, "aliases file %s: %s", path, strerror(errno));
	while ((n = read(fd, tmp, sizeof(tmp))) > 0)
		if (buf_add(&text, tmp, (size_t)n) < 0) {
			close(fd);
			buf_free(&text);
			return err_set(err, CL_ECONFIG, "aliases file %s is too large", path);
		}
	close(fd);
	for (line = strtok_r(text.data ? text.data : (char *)"", "\n", &save); line && r == 1;
	     line = strtok_r(NULL, "\n", &save)) {
		line += strspn(line, " \t");
		if (line[0] == '#' || (colon = strchr(line, ':')) == NULL)
			continue;
		*colon = '\0';
		while (colon > line && (colon[-1] == ' ' || colon[-1] == '\t'))
			*--colon = '\0';
		if (strcasecmp(line, name) == 0)
			r = rawmsg_addr_list(colon + 1 + strspn(colon + 1, " \t"), cb, arg, err) < 0
			        ? -1
			        : 0;
		else if (strcasecmp(line, "default") == 0 && dflt.len == 0)
			buf_adds(&dflt, colon + 1);
	}
	if (r == 1 && dflt.len)
		r = rawmsg_addr_list(buf_cstr(&dflt), cb, arg, err) < 0 ? -1 : 0;
	buf_free(&text);
	buf_free(&dflt);
	return r;
}

/* "-f <a@b>", "-f a@b", "-f <>", "-f ''" -> "a@b" or "". */
static const char *sendmail_strip_angle(char *s)
{
	size_t l;

	while (*s == ' ')
		s++;
	l = strlen(s);
	while (l && s[l - 1] == ' ')
		s[--l] = '\0';
	if (l >= 2 && s[0] == '<' && s[l - 1] == '>') {
		s[l - 1] = '\0';
		s++;
	}
	return s;
}

/* sendmail's options. Letters taking an argument, attached or next. */
static int sendmail_parse(int argc, char **argv, struct sendmail_opts *so, int *first_rcpt,
                          struct cl_err *err)
{
	int i = 1;

	memset(so, 0, sizeof(*so));
	so->auto_from = -1;
	if (argc > 1 && strcmp(argv[1], "--sendmail") == 0)
		i = 2;
	for (; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
		char *a = argv[i], *val;
		size_t k;

		if (strcmp(a, "--") == 0) {
			i++;
			break;
		}
		if (a[1] == '-') { /* msmtp's long options: sendmail_long.c */
			if (sendmail_long_option(argc, argv, &i, so, err) < 0)
				return -1;
			continue;
		}
		for (k = 1; a[k]; k++) {
			char c = a[k];

			if (strchr("tivdmnUGP", c)) {
				if (c == 't')
					so->extract = 1;
				else if (c == 'i')
					so->dot_ignore = 1;
				else if (c == 'v' || c == 'd')
					so->verbose++;
				else if (c == 'P' && sendmail_forward(so, "pretend", NULL, err) < 0)
					return -1;
				continue; /* -m, -n, -U, -G: ignored, as msmtp does */
			}
			if (c == 'S')
				return err_set(err, CL_EUSAGE,
				               "-S (--serverinfo) is not supported: clsmtpc -v -M HOST "
				               "shows the greeting and capabilities; clsmtpc --doctor "
				               "HOST checks the certificate and ports");
			if (!strchr("frFoOBNRVXhLCabq", c))
				return err_set(
				    err, CL_EUSAGE,
				    "unknown sendmail option -%c (clsmtpc sendmail mode: "
				    "-t -i -f -r -F -v -N -R -V -X -P -bm -o* -C -a and msmtp's long "
				    "options; see clsmtpc(1))",
				    c);
			/* The argument: the rest of this word, or the next word. */
			if (a[k + 1])
				val = a + k + 1;
			else if (c == 'q') /* -q alone */
				val = (char *)"";
			else if (i + 1 < argc)
				val = argv[++i];
			else
				return err_set(err, CL_EUSAGE, "option -%c needs an argument", c);
			switch (c) {
			case 'f':
			case 'r':
				so->sender = sendmail_strip_angle(val);
				so->sender_set = 1;
				break;
			case 'F':
				so->fullname = val;
				break;
			case 'o':
				/* -oi: like -i. -oem, -odi, -oQ...: queueing and error
				 * modes of a local MTA, meaningless for us. */
				if (strcmp(val, "i") == 0)
					so->dot_ignore = 1;
				break;
			case 'b':
				if (strcmp(val, "m") != 0)
					return err_set(
					    err, CL_EUSAGE,
					    "-b%s is not supported: clsmtpc only sends "
					    "(-bm); for the queue see clsmtpc --list-queue",
					    val);
				break;
			case 'q':
				return err_set(err, CL_EUSAGE,
				               "-q: use clsmtpc --flush to send queued mail");
			case 'C':
				so->config = val;
				break;
			case 'a':
				so->account = val;
				break;
			case 'N': /* sendmail's and msmtp's DSN options */
				if (sendmail_forward(so, "dsn-notify", val, err) < 0)
					return -1;
				break;
			case 'R':
				if (sendmail_forward(so, "dsn-return", val, err) < 0)
					return -1;
				break;
			case 'V': /* sendmail -V envid: the DSN envelope id */
				so->envid = val;
				break;
			case 'X': /* msmtp -X: the log file */
				if (sendmail_forward(so, "logfile", val, err) < 0)
					return -1;
				break;
			default: /* -O -B -h -L: ignored with their argument, as msmtp does */
				break;
			}
			break; /* the argument used the rest of this word */
		}
	}
	*first_rcpt = i;
	return 0;
}

static int sendmail_first_addr(void *arg, const char *addr)
{
	struct buf *b = arg;

	if (b->len == 0)
		buf_set(b, addr);
	return 0;
}

/* msmtp's auto_from (obsolete there, kept for its users): the sender is
 * $USER@maildomain, or $USER alone when maildomain is empty. */
static int sendmail_auto_from(const char *maildomain, struct buf *out, struct cl_err *err)
{
	if (subst_expand_here("%U", "auto_from", out, err) < 0)
		return -1;
	if (maildomain && maildomain[0] &&
	    (buf_adds(out, "@") < 0 || buf_adds(out, maildomain) < 0))
		return err_set(err, CL_EUSAGE, "auto_from: address too long");
	return 0;
}

/* The envelope sender: -f (unless the account forbids overriding its own:
 * allow_from_override off), auto_from, --read-envelope-from, the account's,
 * the From field's. */
static int sendmail_sender(struct sendmail_opts *so, struct client_opts *o,
                           const struct config_account *acct, const struct buf *hfrom,
                           struct buf *autofrom, struct cl_err *err)
{
	int auto_from = so->auto_from >= 0 ? so->auto_from : acct && acct->auto_from == 1;
	const char *md = so->maildomain ? so->maildomain : acct ? acct->maildomain : NULL;

	if (acct && acct->allow_from_override == 0 && acct->from && !strpbrk(acct->from, "*?["))
		o->from = acct->from;
	else if (auto_from) {
		if (sendmail_auto_from(md, autofrom, err) < 0)
			return -1;
		o->from = buf_cstr(autofrom);
	}
	if (o->from == NULL && hfrom->len)
		o->from = buf_cstr(hfrom);
	if (o->from == NULL)
		return err_set(err, CL_EUSAGE,
		               "no sender: give -f ADDRESS, a From: field, or 'from' in the account");
	return 0;
}

int sendmail_run(int argc, char **argv, struct cl_err *err)
{
	struct sendmail_opts so;
	struct sendmail_rcpts rc;
	struct client_opts o;
	struct config cfg;
	const struct config_account *acct = NULL;
	struct rawmsg msg;
	struct rawmsg_add add;
	struct buf hfrom = BUF_INIT(1024), value = BUF_INIT(65536), msgid_dom = BUF_INIT(256),
	           autofrom = BUF_INIT(1024), xfrom = BUF_INIT(1024), xdomain = BUF_INIT(256);
	char *none[] = {(char *)"clsmtpc", NULL};
	const char *at;
	int first = 0, i, r = -1;
	size_t k;

	memset(&rc, 0, sizeof(rc));
	memset(&cfg, 0, sizeof(cfg));
	memset(&o, 0, sizeof(o));
	rawmsg_init(&msg, RAWMSG_SENDMAIL);
	rc.err = err;
	if (sendmail_parse(argc, argv, &so, &first, err) < 0)
		goto out;
	if (so.show_version || so.show_help) {
		if (so.show_version)
			printf("clsmtpc %s (sendmail mode)\n", CLSMTP_VERSION);
		else
			options_usage(stdout);
		r = 0;
		goto out;
	}
	/* msmtp's options that clsmtpc shares: its own parser checks them. */
	if (options_parse(so.nfwd ? so.nfwd : 1, so.nfwd ? so.fwd : none, &o, err) < 0)
		goto out;
	/* Without -i, a line holding only "." ends the message, as sendmail
	 * does. --pretend reads nothing, as msmtp. */
	if (!o.pretend && rawmsg_spool(&msg, STDIN_FILENO, !so.dot_ignore, err) < 0)
		goto out;
	/* The From field's address: to choose the account when there is no -f. */
	if (rawmsg_header_get(&msg, "From", &value) == 1)
		rawmsg_addr_list(buf_cstr(&value), sendmail_first_addr, &hfrom, err);

	o.verbose = so.verbose;
	o.account = so.account;
	o.config_file = so.config;
	o.dsn_envid = so.envid;
	if (so.sender_set)
		o.from = so.sender;
	else if (so.read_env_from && hfrom.len)
		o.from = buf_cstr(&hfrom);
	if (accounts_resolve(&o,
	                     o.from      ? o.from
	                     : hfrom.len ? buf_cstr(&hfrom)
	                                 : NULL,
	                     &cfg, &acct, err) < 0)
		goto out;
	/* msmtp: with no account at all, SMTPSERVER names the server and EMAIL
	 * the sender. */
	const char *env_server = getenv("SMTPSERVER");
	const char *env_email = getenv("EMAIL");
	if (acct == NULL && o.host == NULL && env_server && env_server[0]) {
		o.host = env_server;
		if (o.from == NULL && env_email && env_email[0])
			o.from = env_email;
	}
	if (acct == NULL && o.host == NULL) {
		err_set(err, CL_ECONFIG,
		        "sendmail mode needs an account: write %s with an account and "
		        "\"account default : NAME\" (see clsmtpc.conf(5)), or give --host (or "
		        "SMTPSERVER)",
		        cfg.path ? cfg.path : "~/.config/clsmtpc/config");
		goto out;
	}
	if (sendmail_sender(&so, &o, acct, &hfrom, &autofrom, err) < 0)
		goto out;
	/* msmtp expands %U %H %C %M in -f/--from and --domain too. */
	if (subst_has_pattern(o.from)) {
		if (subst_expand_here(o.from, "--from", &xfrom, err) < 0)
			goto out;
		o.from = buf_cstr(&xfrom);
	}
	if (o.domain && subst_has_pattern(o.domain)) {
		if (subst_expand_here(o.domain, "--domain", &xdomain, err) < 0)
			goto out;
		o.domain = buf_cstr(&xdomain);
	}
	if (o.pretend) {
		r = send_run(&o, err);
		goto out;
	}

	rc.aliases = so.aliases_set ? (so.aliases[0] ? so.aliases : NULL)
	             : acct         ? acct->aliases
	                            : NULL;
	for (i = first; i < argc; i++)
		if (rawmsg_addr_list(argv[i], sendmail_add_rcpt, &rc, err) < 0)
			goto out;
	if (so.extract && rawmsg_recipients(&msg, sendmail_add_rcpt, &rc, err) < 0)
		goto out;
	if (rc.n == 0) {
		err_set(err, CL_EUSAGE,
		        so.extract ? "no recipients: the message has no To, Cc or Bcc field"
		                   : "no recipients: give addresses, or -t to read them from the "
		                     "message");
		goto out;
	}

	at = strrchr(o.from, '@');
	if (at && at[1])
		buf_set(&msgid_dom, at + 1);
	else if (o.domain)
		buf_set(&msgid_dom, o.domain);
	else
		hostname_fqdn(&msgid_dom);
	memset(&add, 0, sizeof(add));
	add.add_date = 1;
	add.msgid_domain = buf_cstr(&msgid_dom);
	add.from_addr = o.from[0] ? o.from : NULL;
	add.from_name = so.fullname;
	send_msg_raw_policy(&o, &add);
	if (rawmsg_complete(&msg, &add, err) < 0)
		goto out;

	for (k = 0; k < rc.n; k++)
		o.rcpts[k] = rc.v[k];
	o.nrcpt = rc.n;
	o.raw_msg = &msg;
	r = send_run(&o, err);
out:
	for (k = 0; k < rc.n; k++)
		free(rc.v[k]);
	options_free(&o);
	sendmail_opts_free(&so);
	config_free(&cfg);
	rawmsg_free(&msg);
	buf_free(&hfrom);
	buf_free(&value);
	buf_free(&msgid_dom);
	buf_free(&autofrom);
	buf_free(&xfrom);
	buf_free(&xdomain);
	return r;
}
