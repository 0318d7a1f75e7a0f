/*
 * conf.c - reading and checking clsmtpd.conf (conf.h). Every directive is
 * checked when read: numbers in range, paths absolute, addresses and
 * networks parseable, listeners needing TLS only with a certificate. The
 * first problem is reported as "FILE:LINE: what is wrong".
 */
#include "conf.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "base/xalloc.h"
#include "base/buf.h"

#define CONF_WORDS_MAX 64

static void conf_lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* Addresses in the config are compared lower-cased. */
static char *conf_addr(const char *s)
{
	char *d = xstrdup(s);
	conf_lower(d);
	return d;
}

static int conf_number(const char *s, long long min, long long max, long long *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || end == s || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int conf_trusted(const struct conf *c, const void *sav)
{
	struct net_prefix host;
	size_t i;

	if (net_prefix_from_sa(sav, &host) < 0)
		return 0;
	for (i = 0; i < c->ntrusted; i++)
		if (net_prefix_contains(&c->trusted[i], &host))
			return 1;
	return 0;
}

const struct conf_sender *conf_sender_for(const struct conf *c, const char *user)
{
	size_t i;

	for (i = 0; i < c->nsender; i++)
		if (strcasecmp(c->sender[i].user, user) == 0)
			return &c->sender[i];
	return NULL;
}

static int conf_binding(const char *s, enum conf_binding *b)
{
	if (strcmp(s, "free") == 0)
		*b = CONF_BIND_FREE;
	else if (strcmp(s, "own") == 0)
		*b = CONF_BIND_OWN;
	else if (strcmp(s, "rewrite") == 0)
		*b = CONF_BIND_REWRITE;
	else
		return -1;
	return 0;
}

/* "127.0.0.1:25", "[::1]:587", "*:25" (all IPv4 and IPv6). */
static int conf_listen_addr(const char *s, struct conf_listener *l)
{
	const char *colon;
	long long port;

	if (s[0] == '[') {
		const char *end = strchr(s, ']');
		if (end == NULL || end[1] != ':')
			return -1;
		l->host = strndup(s + 1, (size_t)(end - s - 1));
		colon = end + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL || memchr(s, ':', (size_t)(colon - s)) != NULL)
			return -1;
		l->host = strndup(s, (size_t)(colon - s));
	}
	if (l->host == NULL || conf_number(colon + 1, 1, 65535, &port) < 0)
		return -1;
	l->port = xstrdup(colon + 1);
	return 0;
}

static int conf_size(const char *s, long long max, long long *v)
{
	return conf_number(s, 0, max, v);
}

/* One directive; w[0] is its name. Returns NULL or the error text. */
static const char *conf_directive(struct conf *c, char **w, size_t n, int line)
{
	long long v;
	size_t i;
	const char *rmsg;

#define ONE_ARG()                                                                                  \
	do {                                                                                       \
		if (n != 2)                                                                        \
			return "expects exactly one value";                                        \
	} while (0)
	if (strcmp(w[0], "hostname") == 0) {
		ONE_ARG();
		free(c->hostname);
		c->hostname = xstrdup(w[1]);
	} else if (strcmp(w[0], "user") == 0) {
		ONE_ARG();
		free(c->user);
		c->user = xstrdup(w[1]);
	} else if (strcmp(w[0], "spool") == 0 || strcmp(w[0], "users") == 0 ||
	           strcmp(w[0], "tls_cert") == 0 || strcmp(w[0], "tls_key") == 0 ||
	           strcmp(w[0], "control_socket") == 0) {
		char **dst = w[0][0] == 's'   ? &c->spool
		             : w[0][0] == 'u' ? &c->users
		             : w[0][0] == 'c' ? &c->ctl_socket
		             : w[0][4] == 'c' ? &c->cert
		                              : &c->key;
		ONE_ARG();
		if (w[1][0] != '/')
			return "needs an absolute path";
		free(*dst);
		*dst = xstrdup(w[1]);
	} else if (strcmp(w[0], "listen") == 0) {
		struct conf_listener l;
		if (n < 3 || n > 4)
			return "usage: listen ADDRESS:PORT plain|starttls|tls [auth|noauth]";
		memset(&l, 0, sizeof(l));
		l.line = line;
		if (conf_listen_addr(w[1], &l) < 0) {
			free(l.host);
			return "bad address: use 127.0.0.1:25, [::1]:587 or *:465";
		}
		if (strcmp(w[2], "plain") == 0)
			l.mode = CONF_PLAIN;
		else if (strcmp(w[2], "starttls") == 0)
			l.mode = CONF_STARTTLS;
		else if (strcmp(w[2], "tls") == 0)
			l.mode = CONF_TLS;
		else
			l.mode = (enum conf_listen_mode) - 1;
		l.auth = l.mode != CONF_PLAIN;
		if (n == 4 && strcmp(w[3], "auth") == 0)
			l.auth = 1;
		else if (n == 4 && strcmp(w[3], "noauth") == 0)
			l.auth = 0;
		else if (n == 4)
			l.mode = (enum conf_listen_mode) - 1;
		if ((int)l.mode < 0) {
			free(l.host);
			free(l.port);
			return "mode must be plain, starttls or tls, optionally followed by auth "
			       "or noauth";
		}
		c->listen = xreallocarray(c->listen, c->nlisten + 1, sizeof(l));
		c->listen[c->nlisten++] = l;
	} else if (strcmp(w[0], "domain") == 0) {
		if (n < 2)
			return "expects one or more domain names";
		for (i = 1; i < n; i++) {
			if (strchr(w[i], '@') || w[i][strlen(w[i]) - 1] == '.')
				return "expects a domain name, not an address";
			c->domain = xreallocarray(c->domain, c->ndomain + 1, sizeof(char *));
			c->domain[c->ndomain++] = conf_addr(w[i]);
		}
	} else if (strcmp(w[0], "mailbox") == 0 || strcmp(w[0], "alias") == 0 ||
	           strcmp(w[0], "catchall") == 0) {
		struct conf_pair **arr = w[0][0] == 'm'   ? &c->mailbox
		                         : w[0][0] == 'a' ? &c->alias
		                                          : &c->catchall;
		size_t *cnt = w[0][0] == 'm'   ? &c->nmailbox
		              : w[0][0] == 'a' ? &c->nalias
		                               : &c->ncatchall;
		if (n != 3)
			return w[0][0] == 'm'   ? "usage: mailbox ADDRESS /path/to/Maildir"
			       : w[0][0] == 'a' ? "usage: alias ADDRESS TARGET-ADDRESS"
			                        : "usage: catchall DOMAIN TARGET-ADDRESS";
		if (w[0][0] == 'm' && w[2][0] != '/')
			return "the Maildir needs an absolute path";
		if (w[0][0] != 'c' && strchr(w[1], '@') == NULL)
			return "expects an address (local@domain)";
		if (w[0][0] != 'm' && strchr(w[2], '@') == NULL)
			return "the target must be an address (local@domain)";
		*arr = xreallocarray(*arr, *cnt + 1, sizeof(struct conf_pair));
		(*arr)[*cnt].key = conf_addr(w[1]);
		(*arr)[*cnt].value = w[0][0] == 'm' ? xstrdup(w[2]) : conf_addr(w[2]);
		(*cnt)++;
	} else if (strcmp(w[0], "trusted") == 0) {
		if (n < 2)
			return "expects one or more networks (192.168.1.0/24, ::1)";
		for (i = 1; i < n; i++) {
			c->trusted = xreallocarray(c->trusted, c->ntrusted + 1, sizeof(struct net_prefix));
			if (net_prefix_parse(w[i], &c->trusted[c->ntrusted]) < 0)
				return "bad network: use ADDRESS or ADDRESS/BITS";
			c->ntrusted++;
		}
	} else if (strcmp(w[0], "sender") == 0) {
		struct conf_sender s;
		if (n < 3)
			return "usage: sender USER free|own|rewrite [ADDRESS...]";
		memset(&s, 0, sizeof(s));
		if (conf_binding(w[2], &s.mode) < 0)
			return "binding must be free, own or rewrite";
		s.user = xstrdup(w[1]);
		for (i = 3; i < n; i++) {
			if (strchr(w[i], '@') == NULL) {
				free(s.user);
				for (size_t k = 0; k < s.naddr; k++)
					free(s.addr[k]);
				free(s.addr);
				return "expects addresses (local@domain) after the binding";
			}
			s.addr = xreallocarray(s.addr, s.naddr + 1, sizeof(char *));
			s.addr[s.naddr++] = conf_addr(w[i]);
		}
		c->sender = xreallocarray(c->sender, c->nsender + 1, sizeof(s));
		c->sender[c->nsender++] = s;
	} else if (strcmp(w[0], "sender_default") == 0) {
		ONE_ARG();
		if (conf_binding(w[1], &c->sender_default) < 0)
			return "binding must be free, own or rewrite";
	} else if (strcmp(w[0], "auth_mechanisms") == 0) {
		struct buf b = BUF_INIT(1024);
		if (n < 2)
			return "expects one or more mechanism names";
		for (i = 1; i < n; i++)
			buf_printf(&b, "%s%s", i > 1 ? " " : "", w[i]);
		free(c->auth_mechs);
		c->auth_mechs = xstrdup(buf_cstr(&b));
		buf_free(&b);
	} else if (strcmp(w[0], "bare_lf") == 0) {
		ONE_ARG();
		if (strcmp(w[1], "reject") == 0)
			c->lim.bare_lf_normalize = 0;
		else if (strcmp(w[1], "normalize") == 0)
			c->lim.bare_lf_normalize = 1;
		else
			return "must be reject or normalize";
	} else if (strcmp(w[0], "auth_before_tls") == 0) {
		ONE_ARG();
		if (strcmp(w[1], "yes") == 0)
			c->auth_before_tls = 1;
		else if (strcmp(w[1], "no") == 0)
			c->auth_before_tls = 0;
		else
			return "must be yes or no";
	} else if (strcmp(w[0], "log") == 0) {
		ONE_ARG();
		if (strcmp(w[1], "stderr") == 0)
			c->log_stderr = 1;
		else if (strcmp(w[1], "syslog") == 0)
			c->log_stderr = 0;
		else
			return "must be syslog or stderr";
	} else if (strcmp(w[0], "max_message_size") == 0) {
		ONE_ARG();
		if (conf_size(w[1], 1LL << 40, &v) < 0)
			return "expects a size in bytes (0: no limit)";
		c->lim.size_max = v;
	} else if (strcmp(w[0], "max_line_length") == 0) {
		ONE_ARG();
		if (conf_number(w[1], 0, 1 << 20, &v) < 0)
			return "expects a number of characters (0: no limit)";
		c->lim.data_line_max = (size_t)v;
	} else if (strcmp(w[0], "max_recipients") == 0) {
		ONE_ARG();
		/* RFC 5321 4.5.3.1.8: at least 100 must be accepted. */
		if (conf_number(w[1], 1, 10000, &v) < 0)
			return "expects a number from 1 to 10000";
		c->lim.rcpt_max = (size_t)v;
	} else if (strcmp(w[0], "max_errors") == 0 || strcmp(w[0], "max_commands") == 0 ||
	           strcmp(w[0], "max_sessions") == 0) {
		ONE_ARG();
		if (conf_number(w[1], 1, 1000000, &v) < 0)
			return "expects a number from 1 to 1000000";
		if (w[0][4] == 'e')
			c->lim.errors_max = (unsigned)v;
		else if (w[0][4] == 'c')
			c->lim.commands_max = (unsigned)v;
		else
			c->max_sessions = (unsigned)v;
	} else if (strcmp(w[0], "greeting_delay") == 0) {
		ONE_ARG();
		/* postscreen's greet_wait is 6 s; RFC 5321 4.5.3.2.1 lets the
		 * client wait 5 minutes for the greeting. */
		if (conf_number(w[1], 0, 60, &v) < 0)
			return "expects seconds, from 0 to 60";
		c->greeting_delay = (int)v;
	} else if (strcmp(w[0], "idle_timeout") == 0 || strcmp(w[0], "session_timeout") == 0) {
		ONE_ARG();
		if (conf_number(w[1], 1, 86400, &v) < 0)
			return "expects seconds, from 1 to 86400";
		if (w[0][0] == 'i')
			c->idle_timeout = (int)v;
		else
			c->session_timeout = (int)v;
	} else if (defence_conf_directive(&c->defence, w, n, &rmsg) != 0) {
		return rmsg;
	} else if (relay_conf_directive(&c->relay, w, n, line, &rmsg)) {
		return rmsg;
	} else if (dkim_conf_directive(&c->dkim, w, n, &rmsg)) {
		return rmsg;
	} else {
		return "unknown directive";
	}
	return NULL;
#undef ONE_ARG
}

static const char *conf_check(struct conf *c, int *line)
{
	size_t i;

	*line = 0;
	for (i = 0; i < c->nlisten; i++) {
		if (c->listen[i].mode != CONF_PLAIN && (c->cert == NULL || c->key == NULL)) {
			*line = c->listen[i].line;
			return "a starttls or tls listener needs tls_cert and tls_key";
		}
	}
	if (c->nlisten == 0)
		return "no listen directive";
	if (c->ndomain == 0 && c->nmailbox > 0)
		return "mailbox given but no domain directive";
	return relay_conf_check(&c->relay, line);
}

int conf_load(struct conf **out, const char *file, struct cl_err *err)
{
	struct conf *c = calloc(1, sizeof(*c));
	FILE *f;
	char linebuf[4096], *w[CONF_WORDS_MAX], *save, *tok;
	const char *msg;
	int line = 0;
	size_t n;

	if (c == NULL)
		return err_set(err, CL_ESOFTWARE, "out of memory");
	c->file = xstrdup(file);
	smtp_server_limits_default(&c->lim);
	c->idle_timeout = CONF_DEFAULT_IDLE_TIMEOUT;
	c->session_timeout = CONF_DEFAULT_SESSION_TIMEOUT;
	c->max_sessions = CONF_DEFAULT_MAX_SESSIONS;
	c->sender_default = CONF_BIND_OWN;
	relay_conf_init(&c->relay);
	defence_conf_default(&c->defence);
	c->greeting_delay = -1;
	f = fopen(file, "r");
	if (f == NULL) {
		err_set(err, CL_ECONFIG, "%s: %s", file, strerror(errno));
		conf_free(c);
		return -1;
	}
	while (fgets(linebuf, sizeof(linebuf), f) != NULL) {
		line++;
		if (strchr(linebuf, '\n') == NULL && !feof(f)) {
			err_set(err, CL_ECONFIG, "%s:%d: line too long", file, line);
			goto bad;
		}
		linebuf[strcspn(linebuf, "#\r\n")] = '\0';
		n = 0;
		for (tok = strtok_r(linebuf, " \t", &save); tok && n < CONF_WORDS_MAX;
		     tok = strtok_r(NULL, " \t", &save))
			w[n++] = tok;
		if (n == 0)
			continue;
		if (tok != NULL) {
			err_set(err, CL_ECONFIG, "%s:%d: too many words", file, line);
			goto bad;
		}
		if ((msg = conf_directive(c, w, n, line)) != NULL) {
			err_set(err, CL_ECONFIG, "%s:%d: %s: %s", file, line, w[0], msg);
			goto bad;
		}
	}
	fclose(f);
	f = NULL;
	if ((msg = conf_check(c, &line)) != NULL) {
		if (line > 0)
			err_set(err, CL_ECONFIG, "%s:%d: %s", file, line, msg);
		else
			err_set(err, CL_ECONFIG, "%s: %s", file, msg);
		goto bad;
	}
	if (c->hostname == NULL) {
		char h[256];
		if (gethostname(h, sizeof(h) - 1) < 0)
			memcpy(h, "localhost", sizeof("localhost"));
		h[sizeof(h) - 1] = '\0';
		c->hostname = xstrdup(h);
	}
	if (c->spool == NULL)
		c->spool = xstrdup(CONF_DEFAULT_SPOOL);
	if (c->users == NULL)
		c->users = xstrdup(CONF_DEFAULT_USERS);
	if (c->ctl_socket == NULL) {
		struct buf p = BUF_INIT(4096);
		buf_printf(&p, "%s/ctl", c->spool);
		c->ctl_socket = xstrdup(buf_cstr(&p));
		buf_free(&p);
	}
	*out = c;
	return 0;
bad:
	if (f != NULL)
		fclose(f);
	conf_free(c);
	return -1;
}

static void conf_free_pairs(struct conf_pair *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(p[i].key);
		free(p[i].value);
	}
	free(p);
}

void conf_free(struct conf *c)
{
	size_t i, k;

	if (c == NULL)
		return;
	for (i = 0; i < c->nlisten; i++) {
		free(c->listen[i].host);
		free(c->listen[i].port);
	}
	free(c->listen);
	for (i = 0; i < c->ndomain; i++)
		free(c->domain[i]);
	free(c->domain);
	conf_free_pairs(c->mailbox, c->nmailbox);
	conf_free_pairs(c->alias, c->nalias);
	conf_free_pairs(c->catchall, c->ncatchall);
	free(c->trusted);
	for (i = 0; i < c->nsender; i++) {
		for (k = 0; k < c->sender[i].naddr; k++)
			free(c->sender[i].addr[k]);
		free(c->sender[i].addr);
		free(c->sender[i].user);
	}
	free(c->sender);
	free(c->file);
	free(c->hostname);
	free(c->user);
	free(c->spool);
	free(c->users);
	free(c->ctl_socket);
	free(c->cert);
	free(c->key);
	free(c->auth_mechs);
	relay_conf_free(&c->relay);
	dkim_conf_free(&c->dkim);
	free(c);
}
