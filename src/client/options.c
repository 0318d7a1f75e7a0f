/*
 * options.c - parse clsmtpc's command line with getopt_long (see options.h).
 * Only syntax is checked here; what the values mean (addresses, secrets)
 * is checked by main.c with the core's validators.
 */
#include <stdio.h>

#include "options.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "config.h"
#include "smtp/addr.h"

enum {
	OPT_TRUST = 256,
	OPT_FPR,
	OPT_CERTCHECK,
	OPT_PWEVAL,
	OPT_TIMEOUT,
	OPT_DOMAIN,
	OPT_TLS,
	OPT_STARTTLS,
	OPT_HELP,
	OPT_VERSION,
	OPT_PASSWORD,
	OPT_DOCTOR,
	OPT_JSON,
	OPT_IMPORT_MSMTPRC,
	OPT_KEYRING,
	OPT_PASSWORD_ENV,
	OPT_QUEUE,
	OPT_FLUSH,
	OPT_LIST_QUEUE,
	OPT_DROP_QUEUED,
	OPT_QUEUE_DIR,
	OPT_CC,
	OPT_BCC,
	OPT_REPLY_TO,
	OPT_IN_REPLY_TO,
	OPT_REFERENCES,
	OPT_ATTACH,
	OPT_ATTACH_NAME,
	OPT_HTML,
	OPT_RAW,
	/* msmtp's options, one code: the long name says which. */
	OPT_MSMTP,
};

static const struct option options_long[] = {
    {"port", required_argument, NULL, 'P'},
    {"host", required_argument, NULL, 'M'},
    {"user", required_argument, NULL, 'U'},
    {"auth", optional_argument, NULL, 'A'},
    {"password", required_argument, NULL, 'r'},
    {"passfile", required_argument, NULL, 'p'},
    {"passwordeval", required_argument, NULL, OPT_PWEVAL},
    {"from", required_argument, NULL, 'F'},
    {"to", required_argument, NULL, 'T'},
    {"subject", required_argument, NULL, 's'},
    {"name", required_argument, NULL, 'N'},
    {"tls-mode", required_argument, NULL, 'Z'},
    {"tls", optional_argument, NULL, OPT_TLS},
    {"tls-starttls", optional_argument, NULL, OPT_STARTTLS},
    {"verbose", no_argument, NULL, 'v'},
    {"debug", no_argument, NULL, 'v'},
    {"tls-trust-file", required_argument, NULL, OPT_TRUST},
    {"tls-fingerprint", required_argument, NULL, OPT_FPR},
    {"tls-certcheck", optional_argument, NULL, OPT_CERTCHECK},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"domain", required_argument, NULL, OPT_DOMAIN},
    {"help", no_argument, NULL, OPT_HELP},
    {"version", no_argument, NULL, OPT_VERSION},
    {"doctor", optional_argument, NULL, OPT_DOCTOR},
    {"json", no_argument, NULL, OPT_JSON},
    {"account", required_argument, NULL, 'a'},
    {"config", required_argument, NULL, 'C'},
    {"import-msmtprc", optional_argument, NULL, OPT_IMPORT_MSMTPRC},
    {"keyring", no_argument, NULL, OPT_KEYRING},
    {"password-env", required_argument, NULL, OPT_PASSWORD_ENV},
    {"queue", no_argument, NULL, OPT_QUEUE},
    {"flush", optional_argument, NULL, OPT_FLUSH},
    {"list-queue", no_argument, NULL, OPT_LIST_QUEUE},
    {"drop-queued", required_argument, NULL, OPT_DROP_QUEUED},
    {"queue-dir", required_argument, NULL, OPT_QUEUE_DIR},
    {"charset", required_argument, NULL, 'c'},
    {"cc", required_argument, NULL, OPT_CC},
    {"bcc", required_argument, NULL, OPT_BCC},
    {"reply-to", required_argument, NULL, OPT_REPLY_TO},
    {"header", required_argument, NULL, 'H'},
    {"in-reply-to", required_argument, NULL, OPT_IN_REPLY_TO},
    {"references", required_argument, NULL, OPT_REFERENCES},
    {"attach", required_argument, NULL, OPT_ATTACH},
    {"attach-name", required_argument, NULL, OPT_ATTACH_NAME},
    {"html", required_argument, NULL, OPT_HTML},
    {"raw", no_argument, NULL, OPT_RAW},
    /* msmtp's names (docs/msmtp-compat.md); options_msmtp handles them. */
    {"logfile", required_argument, NULL, OPT_MSMTP},
    {"logfile-time-format", required_argument, NULL, OPT_MSMTP},
    {"syslog", optional_argument, NULL, OPT_MSMTP},
    {"dsn-notify", required_argument, NULL, OPT_MSMTP},
    {"dsn-return", required_argument, NULL, OPT_MSMTP},
    {"tls-cert-file", required_argument, NULL, OPT_MSMTP},
    {"tls-key-file", required_argument, NULL, OPT_MSMTP},
    {"tls-crl-file", required_argument, NULL, OPT_MSMTP},
    {"tls-min-version", required_argument, NULL, OPT_MSMTP},
    {"tls-host-override", required_argument, NULL, OPT_MSMTP},
    {"source-ip", required_argument, NULL, OPT_MSMTP},
    {"pretend", no_argument, NULL, OPT_MSMTP},
    {"dump-mail", no_argument, NULL, OPT_MSMTP},
    {"fallback", required_argument, NULL, OPT_MSMTP},
    {"proxy", required_argument, NULL, OPT_MSMTP},
    {"proxy-host", required_argument, NULL, OPT_MSMTP},
    {"proxy-port", required_argument, NULL, OPT_MSMTP},
    {"set-from-header", optional_argument, NULL, OPT_MSMTP},
    {"set-date-header", optional_argument, NULL, OPT_MSMTP},
    {"set-msgid-header", optional_argument, NULL, OPT_MSMTP},
    {"remove-bcc-headers", optional_argument, NULL, OPT_MSMTP},
    {"undisclosed-recipients", optional_argument, NULL, OPT_MSMTP},
    {NULL, 0, NULL, 0},
};

void options_usage(FILE *f)
{
	fputs("Usage: clsmtpc [options] [body]\n"
	      "Send one mail through a submission server (587 STARTTLS, 465 TLS) with AUTH.\n"
	      "The body is the last argument, or standard input when absent or '-'.\n"
	      "\n"
	      "  -M, --host HOST          submission server\n"
	      "  -P, --port PORT          port (default 587; 465 with -Z smtps)\n"
	      "  -Z, --tls-mode MODE      smtps (implicit TLS), tls (STARTTLS required),\n"
	      "                           none (no TLS; allows PLAIN/LOGIN in clear).\n"
	      "                           Default: STARTTLS when offered.\n"
	      "  -U, --user USER          user name for SMTP AUTH\n"
	      "  -A, --auth MECH          auto, scram-sha-256, scram-sha-1, digest-md5,\n"
	      "                           cram-md5, plain, login, xoauth2, oauthbearer,\n"
	      "                           external (TLS client certificate), none\n"
	      "  -p, --passfile FILE      password file: lines user:server:password (mode 600)\n"
	      "      --passwordeval CMD   run CMD; its first output line is the password\n"
	      "  -r, --password PASS      password on the command line (visible in ps!)\n"
	      "  -F, --from ADDR          sender address\n"
	      "  -N, --name 'Name <addr>' display name for From:; an <addr> replaces -F\n"
	      "  -T, --to ADDR[,ADDR]     recipient (repeatable)\n"
	      "  -s, --subject TEXT       subject (UTF-8 allowed)\n"
	      "      --cc ADDR[,ADDR]     copy to (repeatable); --bcc ADDR: blind copy\n"
	      "                           (envelope only, never in the header)\n"
	      "      --reply-to ADDR      Reply-To: ('Name <addr>', comma-separated)\n"
	      "  -H, --header 'N: V'      add a header field (repeatable)\n"
	      "      --in-reply-to ID     In-Reply-To:; --references 'ID ID...'\n"
	      "  -c, --charset CS         charset on the wire: utf-8 (default),\n"
	      "                           iso-2022-jp (7bit, B-encoded headers), or any\n"
	      "                           charset iconv knows; input is UTF-8 (or the locale's)\n"
	      "      --attach FILE        attach a file (repeatable; - is standard input)\n"
	      "      --attach-name NAME   file name of the --attach just before (needed for -)\n"
	      "      --html FILE          HTML version of the body (multipart/alternative)\n"
	      "      --raw                standard input is a whole RFC 5322 message: sent\n"
	      "                           as it is (Date and Message-ID added if missing)\n"
	      "  -v, --verbose            print the session on stderr (secrets hidden);\n"
	      "                           with no -T: show greeting and capabilities only\n"
	      "      --tls-trust-file F   CA certificates to trust instead of the system's\n"
	      "      --tls-fingerprint H  accept only the certificate with this SHA-256\n"
	      "      --tls-certcheck=off  do not verify the certificate (dangerous)\n"
	      "      --timeout SECONDS    for connect and every reply (default: RFC 5321's)\n"
	      "      --domain NAME        name to send in EHLO (default: this host's FQDN)\n"
	      "  -4, -6                   use IPv4 / IPv6 only\n"
	      "  -a, --account NAME       use this account of the configuration file\n"
	      "                           (default: the one whose from is -F, else default)\n"
	      "  -C, --config FILE        configuration file (default ~/.config/clsmtpc/config,\n"
	      "                           then /etc/clsmtpc.conf); see clsmtpc.conf(5)\n"
	      "      --keyring            password from the system keyring (secret-tool)\n"
	      "      --password-env NAME  password from environment variable NAME (CI)\n"
	      "      --import-msmtprc [F] print ~/.msmtprc (or F) as a clsmtpc configuration\n"
	      "      --sendmail           sendmail mode (also when run as 'sendmail'); must\n"
	      "                           be the first argument; see clsmtpc(1)\n"
	      "      --doctor [TARGET]    diagnose: probe ports 25 587 465 2525 of HOST (or\n"
	      "                           find the server of user@domain) and say what works\n"
	      "      --json               with --doctor: the findings as JSON\n"
	      "      --queue              if the server cannot be reached or answers 4xx,\n"
	      "                           keep the mail in the queue and exit 0\n"
	      "      --flush[=due]        send the queued mail (=due: only what is due)\n"
	      "      --list-queue         show the queue; --drop-queued ID removes one\n"
	      "      --queue-dir DIR      the queue (default ~/.local/state/clsmtpc/queue)\n"
	      "      --logfile FILE       append one line per mail (msmtp's fields; - is\n"
	      "                           standard output); --logfile-time-format FMT\n"
	      "      --syslog[=FACILITY]  one line per mail to syslog (LOG_USER default)\n"
	      "      --dsn-notify COND    DSN: never, or failure,delay,success (or off)\n"
	      "      --dsn-return RET     DSN: headers or full (or off)\n"
	      "      --tls-cert-file F    client certificate (PEM); --tls-key-file F its key\n"
	      "                           (-A external: log in with the certificate)\n"
	      "      --tls-crl-file F     certificate revocation list (PEM)\n"
	      "      --tls-min-version V  lowest TLS version: 1.2 (default), 1.3, or 1.1 /\n"
	      "                           1.0 for old servers only (insecure, warns)\n"
	      "      --tls-host-override H  name checked in the certificate and sent in SNI\n"
	      "      --source-ip IP       connect from this local address\n"
	      "      --proxy socks5h://HOST:PORT  through a SOCKS5 proxy (ssh -D, Tor,\n"
	      "                           dante), which resolves the server's name;\n"
	      "                           also --proxy-host HOST --proxy-port PORT\n"
	      "      --pretend            print the configuration that would be used\n"
	      "                           (secrets masked) and send nothing\n"
	      "      --dump-mail          print the message that would be sent; no connection\n"
	      "      --fallback H[:P],... servers tried in turn when one cannot be reached or\n"
	      "                           answers 4xx before taking the message\n"
	      "      --set-from-header=auto|on|off, --set-date-header=auto|off,\n"
	      "      --set-msgid-header=auto|off, --remove-bcc-headers=on|off,\n"
	      "      --undisclosed-recipients=on|off   whole messages (--raw, sendmail mode)\n"
	      "                           as msmtp treats them\n"
	      "      --help, --version\n"
	      "\n"
	      "Exit status (sysexits): 0 sent, 64 usage, 65 bad data, 68 unknown host,\n"
	      "69 refused (5xx, TLS or AUTH unavailable), 74 I/O, 75 temporary (4xx,\n"
	      "timeout: retry later), 76 protocol, 77 authentication, 78 configuration.\n",
	      f);
}

/*
 * getopt_long binds an optional argument only as "--opt=value". Users write
 * "--tls-certcheck off" and "--auth plain" as msmtp's documentation spells
 * them with '=', and the lone word would become the body: take the next
 * word when it is one of the values the option knows.
 */
static const char *options_optional_value(int argc, char **argv, const char *const *known)
{
	size_t i;

	if (optind >= argc)
		return NULL;
	for (i = 0; known[i]; i++) {
		if (strcasecmp(argv[optind], known[i]) == 0)
			return argv[optind++];
	}
	return NULL;
}

static const char *const options_on_off_words[] = {"on", "off", NULL};
static const char *const options_flush_words[] = {"due", "all", NULL};
static const char *const options_auth_words[] = {
    "on",          "off",         "auto",       "none",       "plain",
    "login",       "cram-md5",    "digest-md5", "scram-sha-1", "scram-sha-256",
    "scram-sha-1-plus", "scram-sha-256-plus", "xoauth2", "oauthbearer", "external", NULL};

int options_tls_version_ok(const char *v)
{
	return v && (strcmp(v, "1.0") == 0 || strcmp(v, "1.1") == 0 || strcmp(v, "1.2") == 0 ||
	             strcmp(v, "1.3") == 0);
}

static int options_on_off(const char *v, int dflt, int *out);

/* One of the words in list (space separated), or NULL. */
static const char *options_word(const char *v, const char *list)
{
	size_t n;

	while (*list) {
		n = strcspn(list, " ");
		if (strlen(v) == n && strncasecmp(v, list, n) == 0)
			return v;
		list += n + (list[n] == ' ');
	}
	return NULL;
}

static const char *options_syslog_words =
    "on off LOG_USER LOG_MAIL LOG_LOCAL0 LOG_LOCAL1 LOG_LOCAL2 LOG_LOCAL3 LOG_LOCAL4 LOG_LOCAL5 "
    "LOG_LOCAL6 LOG_LOCAL7";

/* --proxy socks5h://HOST:PORT (or HOST:PORT, [V6]:PORT): the proxy resolves
 * the server's name, as msmtp's proxy_host does. */
static int options_proxy_url(struct client_opts *o, const char *v, struct cl_err *err)
{
	const char *h = v, *colon, *end;
	size_t n;

	if (strncasecmp(v, "socks5h://", 10) == 0)
		h = v + 10;
	else if (strstr(v, "://"))
		return err_set(err, CL_EUSAGE,
		               "--proxy '%s': only socks5h://HOST:PORT is supported (the proxy "
		               "resolves the server's name, so no DNS query leaves this machine)",
		               v);
	end = h + strcspn(h, "/");
	if (h[0] == '[') {
		colon = memchr(h, ']', (size_t)(end - h));
		if (colon == NULL)
			return err_set(err, CL_EUSAGE, "--proxy '%s': missing ']'", v);
		n = (size_t)(colon - h - 1);
		h++;
		colon = colon[1] == ':' ? colon + 1 : NULL;
	} else {
		colon = memchr(h, ':', (size_t)(end - h));
		n = colon ? (size_t)(colon - h) : (size_t)(end - h);
	}
	if (n == 0 || n + 8 > sizeof(o->proxy_buf))
		return err_set(err, CL_EUSAGE, "--proxy '%s': no host", v);
	memcpy(o->proxy_buf, h, n);
	o->proxy_buf[n] = '\0';
	o->proxy_host = o->proxy_buf;
	o->proxy_port = "1080";
	if (colon) {
		size_t pl = (size_t)(end - colon - 1);
		if (pl == 0 || pl > 5 || strspn(colon + 1, "0123456789") < pl)
			return err_set(err, CL_EUSAGE, "--proxy '%s': bad port", v);
		memcpy(o->proxy_buf + n + 1, colon + 1, pl);
		o->proxy_buf[n + 1 + pl] = '\0';
		o->proxy_port = o->proxy_buf + n + 1;
	}
	return 0;
}

/* msmtp's options, by long name (the table above gives them one code). */
static int options_msmtp(struct client_opts *o, const char *name, const char *v,
                         struct cl_err *err)
{
	int on;

	if (strcmp(name, "logfile") == 0)
		o->logfile = v;
	else if (strcmp(name, "logfile-time-format") == 0)
		o->logfile_time_format = v;
	else if (strcmp(name, "syslog") == 0) {
		if (v == NULL || v[0] == '\0')
			v = "on";
		if (options_word(v, options_syslog_words) == NULL)
			return err_set(err, CL_EUSAGE,
			               "--syslog wants on, off or a facility (LOG_USER, LOG_MAIL, "
			               "LOG_LOCAL0 ... LOG_LOCAL7), not '%s'",
			               v);
		o->syslog = v;
	} else if (strcmp(name, "dsn-notify") == 0) {
		if (config_dsn_notify_ok(v) < 0)
			return err_set(err, CL_EUSAGE,
			               "--dsn-notify wants off, never, or failure,delay,success "
			               "(any of them, comma separated), not '%s'",
			               v);
		o->dsn_notify = v;
	} else if (strcmp(name, "dsn-return") == 0) {
		if (options_word(v, "off headers hdrs full") == NULL)
			return err_set(err, CL_EUSAGE,
			               "--dsn-return wants off, headers or full, not '%s'", v);
		o->dsn_return = v;
	} else if (strcmp(name, "tls-cert-file") == 0)
		o->tls_cert_file = v;
	else if (strcmp(name, "tls-key-file") == 0)
		o->tls_key_file = v;
	else if (strcmp(name, "tls-crl-file") == 0)
		o->tls_crl_file = v;
	else if (strcmp(name, "tls-min-version") == 0) {
		if (!options_tls_version_ok(v))
			return err_set(err, CL_EUSAGE,
			               "--tls-min-version wants 1.0, 1.1, 1.2 or 1.3, not '%s'", v);
		o->tls_min_version = v;
	} else if (strcmp(name, "tls-host-override") == 0)
		o->tls_host_override = v;
	else if (strcmp(name, "source-ip") == 0)
		o->source_ip = v;
	else if (strcmp(name, "pretend") == 0)
		o->pretend = 1;
	else if (strcmp(name, "dump-mail") == 0)
		o->dump_mail = 1;
	else if (strcmp(name, "fallback") == 0)
		o->fallback = v;
	else if (strcmp(name, "proxy") == 0)
		return options_proxy_url(o, v, err);
	else if (strcmp(name, "proxy-host") == 0)
		o->proxy_host = v;
	else if (strcmp(name, "proxy-port") == 0) {
		char *end;
		long pn = strtol(v, &end, 10);

		if (v[0] && (strspn(v, "0123456789") != strlen(v) || *end || pn < 1 || pn > 65535))
			return err_set(err, CL_EUSAGE, "--proxy-port wants a port number, not '%s'", v);
		o->proxy_port = v;
	}
	else if (strcmp(name, "set-from-header") == 0) {
		if ((v = options_word(v ? v : "on", "auto on off")) == NULL)
			return err_set(err, CL_EUSAGE, "--set-from-header wants auto, on or off");
		o->set_from_header = v;
	} else if (strcmp(name, "set-date-header") == 0 || strcmp(name, "set-msgid-header") == 0) {
		if ((v = options_word(v ? v : "auto", "auto off")) == NULL)
			return err_set(err, CL_EUSAGE, "--%s wants auto or off", name);
		if (name[4] == 'd')
			o->set_date_header = v;
		else
			o->set_msgid_header = v;
	} else if (strcmp(name, "remove-bcc-headers") == 0 ||
	           strcmp(name, "undisclosed-recipients") == 0) {
		if (options_on_off(v, 1, &on) < 0)
			return err_set(err, CL_EUSAGE, "--%s wants on or off", name);
		if (name[0] == 'r')
			o->remove_bcc_headers = on;
		else
			o->undisclosed_recipients = on;
	} else {
		return err_set(err, CL_ESOFTWARE, "option --%s has no handler", name);
	}
	return 0;
}

static int options_on_off(const char *v, int dflt, int *out)
{
	if (v == NULL) {
		*out = dflt;
		return 0;
	}
	if (strcasecmp(v, "on") == 0) {
		*out = 1;
		return 0;
	}
	if (strcasecmp(v, "off") == 0) {
		*out = 0;
		return 0;
	}
	return -1;
}

struct options_split_ctx {
	const char **list; /* o->rcpts, o->cc or o->bcc */
	size_t *n;
	char *p; /* next free byte of the list's storage */
	struct cl_err *err;
};

/* addr_split_list's pieces are temporary: keep our own copy of each. */
static int options_add_rcpt(void *arg, const char *addr)
{
	struct options_split_ctx *c = arg;
	struct buf name = BUF_INIT(1024), inner = BUF_INIT(1024);
	size_t l;

	if (*c->n == OPT_RCPT_MAX)
		return err_set(c->err, CL_EUSAGE, "too many recipients (at most %d)", OPT_RCPT_MAX);
	/* "Name <addr>" as mail readers write it: the address is inside. */
	if (strchr(addr, '<') && addr_parse_display(addr, &name, &inner, c->err) == 0 &&
	    inner.len)
		addr = buf_cstr(&inner);
	l = strlen(addr);
	memcpy(c->p, addr, l + 1);
	buf_free(&name);
	buf_free(&inner);
	c->list[(*c->n)++] = c->p;
	c->p += l + 1;
	return 0;
}

/* Split every -T (--cc, --bcc) list into list. Each piece is shorter than
 * its list, and a comma becomes a NUL, so the lists' total size bounds the
 * storage. */
static int options_split_rcpts(char **lists, size_t n, const char **list, size_t *nlist,
			       char **storage, struct cl_err *err)
{
	struct options_split_ctx c;
	size_t total = 0, i;

	for (i = 0; i < n; i++)
		total += strlen(lists[i]) + 1;
	*storage = malloc(total);
	if (*storage == NULL)
		return err_set(err, CL_ESOFTWARE, "out of memory");
	c.list = list;
	c.n = nlist;
	c.p = *storage;
	c.err = err;
	err->cls = CL_OK;
	for (i = 0; i < n; i++)
		if (addr_split_list(lists[i], options_add_rcpt, &c) < 0)
			return err->cls != CL_OK ? -1
						 : err_set(err, CL_EDATA, "bad recipient list '%s'",
							   lists[i]);
	return 0;
}

int options_parse(int argc, char **argv, struct client_opts *o, struct cl_err *err)
{
	char *to_lists[OPT_RCPT_MAX], *cc_lists[OPT_RCPT_MAX], *bcc_lists[OPT_RCPT_MAX];
	size_t nto = 0, ncc = 0, nbcc = 0;
	int tls = -1, starttls = -1, c, v, li = 0;
	char *end;

	memset(o, 0, sizeof(*o));
	o->certcheck = 1;
	o->family = AF_UNSPEC;
	o->tls_mode = SMTP_TLS_AUTO;
	o->remove_bcc_headers = o->undisclosed_recipients = -1;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":P:M:U:A:r:p:F:T:s:N:Z:v46ha:C:c:H:", options_long, &li)) !=
	       -1) {
		switch (c) {
		case 'P':
			o->port = optarg;
			break;
		case 'M':
			o->host = optarg;
			break;
		case 'U':
			o->user = optarg;
			break;
		case 'A':
			if (optarg == NULL)
				optarg = (char *)options_optional_value(argc, argv, options_auth_words);
			if (optarg == NULL || strcasecmp(optarg, "on") == 0)
				o->auth = "auto";
			else if (strcasecmp(optarg, "off") == 0)
				o->auth = "none";
			else
				o->auth = optarg;
			break;
		case 'r':
			o->password = optarg;
			break;
		case 'p':
			o->passfile = optarg;
			break;
		case OPT_PWEVAL:
			o->passwordeval = optarg;
			break;
		case 'F':
			o->from = optarg;
			break;
		case 'T':
			if (nto == OPT_RCPT_MAX)
				return err_set(err, CL_EUSAGE, "too many -T options");
			to_lists[nto++] = optarg;
			break;
		case 's':
			o->subject = optarg;
			break;
		case 'N':
			o->name = optarg;
			break;
		case 'Z':
			o->tls_mode_set = 1;
			if (strcasecmp(optarg, "smtps") == 0 || strcasecmp(optarg, "ssl") == 0)
				o->tls_mode = SMTP_TLS_SMTPS;
			else if (strcasecmp(optarg, "tls") == 0 ||
				 strcasecmp(optarg, "starttls") == 0)
				o->tls_mode = SMTP_TLS_STARTTLS;
			else if (strcasecmp(optarg, "none") == 0)
				o->tls_mode = SMTP_TLS_NONE;
			else
				return err_set(err, CL_EUSAGE,
					       "-Z wants smtps, tls or none, not '%s'", optarg);
			break;
		case OPT_TLS:
			if (optarg == NULL)
				optarg = (char *)options_optional_value(argc, argv, options_on_off_words);
			if (options_on_off(optarg, 1, &tls) < 0)
				return err_set(err, CL_EUSAGE, "--tls wants on or off");
			break;
		case OPT_STARTTLS:
			if (optarg == NULL)
				optarg = (char *)options_optional_value(argc, argv, options_on_off_words);
			if (options_on_off(optarg, 1, &starttls) < 0)
				return err_set(err, CL_EUSAGE, "--tls-starttls wants on or off");
			break;
		case 'v':
			o->verbose++;
			break;
		case OPT_TRUST:
			o->trust_file = optarg;
			break;
		case OPT_FPR:
			o->fingerprint = optarg;
			break;
		case OPT_CERTCHECK:
			if (optarg == NULL)
				optarg = (char *)options_optional_value(argc, argv, options_on_off_words);
			if (options_on_off(optarg, 1, &v) < 0)
				return err_set(err, CL_EUSAGE, "--tls-certcheck wants on or off");
			o->certcheck = v;
			o->certcheck_set = 1;
			break;
		case OPT_TIMEOUT:
			if (strcasecmp(optarg, "off") == 0) {
				o->timeout_s = 0;
				break;
			}
			o->timeout_s = (int)strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || o->timeout_s <= 0 ||
			    o->timeout_s > 86400)
				return err_set(err, CL_EUSAGE,
					       "--timeout wants a number of seconds (1-86400)");
			break;
		case OPT_DOMAIN:
			o->domain = optarg;
			break;
		case '4':
			o->family = AF_INET;
			break;
		case '6':
			o->family = AF_INET6;
			break;
		case 'h':
		case OPT_HELP:
			o->show_help = 1;
			break;
		case OPT_VERSION:
			o->show_version = 1;
			break;
		case OPT_DOCTOR:
			o->doctor = 1;
			o->doctor_target = optarg;
			break;
		case OPT_JSON:
			o->json = 1;
			break;
		case 'a':
			o->account = optarg;
			break;
		case 'C':
			o->config_file = optarg;
			break;
		case OPT_IMPORT_MSMTPRC:
			o->import_msmtprc = 1;
			o->import_file = optarg;
			break;
		case OPT_KEYRING:
			o->keyring = 1;
			break;
		case OPT_PASSWORD_ENV:
			o->password_env = optarg;
			break;
		case OPT_QUEUE:
			o->queue = 1;
			break;
		case OPT_FLUSH:
			if (optarg == NULL)
				optarg = (char *)options_optional_value(argc, argv,
									options_flush_words);
			if (optarg && strcmp(optarg, "due") != 0 && strcmp(optarg, "all") != 0)
				return err_set(err, CL_EUSAGE, "--flush wants =due or nothing");
			o->flush = optarg && strcmp(optarg, "due") == 0 ? 2 : 1;
			break;
		case OPT_LIST_QUEUE:
			o->list_queue = 1;
			break;
		case OPT_DROP_QUEUED:
			o->drop_queued = optarg;
			break;
		case OPT_QUEUE_DIR:
			o->queue_dir = optarg;
			break;
		case 'c':
			o->charset = optarg;
			break;
		case OPT_CC:
		case OPT_BCC:
			if ((c == OPT_CC ? ncc : nbcc) == OPT_RCPT_MAX)
				return err_set(err, CL_EUSAGE, "too many --cc or --bcc options");
			if (c == OPT_CC)
				cc_lists[ncc++] = optarg;
			else
				bcc_lists[nbcc++] = optarg;
			break;
		case OPT_REPLY_TO:
			o->reply_to = optarg;
			break;
		case 'H':
			if (o->nheaders == OPT_HDR_MAX)
				return err_set(err, CL_EUSAGE, "too many -H options (at most %d)",
					       OPT_HDR_MAX);
			o->headers[o->nheaders++] = optarg;
			break;
		case OPT_IN_REPLY_TO:
			o->in_reply_to = optarg;
			break;
		case OPT_REFERENCES:
			o->references = optarg;
			break;
		case OPT_ATTACH:
			if (o->nattach == OPT_ATTACH_MAX)
				return err_set(err, CL_EUSAGE, "too many attachments (at most %d)",
					       OPT_ATTACH_MAX);
			o->attach[o->nattach].path = optarg;
			o->attach[o->nattach++].name = NULL;
			break;
		case OPT_ATTACH_NAME:
			if (o->nattach == 0 || o->attach[o->nattach - 1].name != NULL)
				return err_set(err, CL_EUSAGE,
					       "--attach-name names the --attach given just before it");
			o->attach[o->nattach - 1].name = optarg;
			break;
		case OPT_HTML:
			o->html = optarg;
			break;
		case OPT_RAW:
			o->raw = 1;
			break;
		case OPT_MSMTP:
			if (options_msmtp(o, options_long[li].name, optarg, err) < 0)
				return -1;
			break;
		case ':':
			return err_set(err, CL_EUSAGE, "option %s needs an argument",
				       argv[optind - 1]);
		default:
			return err_set(err, CL_EUSAGE, "unknown option %s (see --help)",
				       argv[optind - 1]);
		}
	}
	if (optind < argc)
		o->body_arg = argv[optind++];
	if (optind < argc)
		return err_set(err, CL_EUSAGE,
			       "unexpected argument '%s': the body must be the last and only "
			       "argument (quote it)",
			       argv[optind]);
	/* msmtp's pair of switches maps onto -Z. */
	if (tls == 0) {
		o->tls_mode = SMTP_TLS_NONE;
		o->tls_mode_set = 1;
	} else if (tls == 1) {
		o->tls_mode = starttls == 0 ? SMTP_TLS_SMTPS : SMTP_TLS_STARTTLS;
		o->tls_mode_set = 1;
	}
	if (nto && options_split_rcpts(to_lists, nto, o->rcpts, &o->nrcpt, &o->rcpt_storage, err) < 0)
		return -1;
	if (ncc || nbcc) {
		o->cc = calloc(OPT_RCPT_MAX, sizeof(*o->cc));
		o->bcc = calloc(OPT_RCPT_MAX, sizeof(*o->bcc));
		if (o->cc == NULL || o->bcc == NULL)
			return err_set(err, CL_ESOFTWARE, "out of memory");
	}
	if (ncc && options_split_rcpts(cc_lists, ncc, o->cc, &o->ncc, &o->cc_storage, err) < 0)
		return -1;
	if (nbcc && options_split_rcpts(bcc_lists, nbcc, o->bcc, &o->nbcc, &o->bcc_storage, err) < 0)
		return -1;
	return 0;
}

void options_free(struct client_opts *o)
{
	free(o->rcpt_storage);
	o->rcpt_storage = NULL;
	free(o->cc_storage);
	free(o->bcc_storage);
	free(o->cc);
	free(o->bcc);
	o->cc_storage = o->bcc_storage = NULL;
	o->cc = o->bcc = NULL;
}
