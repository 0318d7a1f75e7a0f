/*
 * config.c - read clsmtpc's configuration file (msmtp's syntax) and the
 * provider presets. One table names every key, its type and its field, so
 * parsing, inheritance ("defaults", "account A : B") and presets ("provider
 * gmail") are the same loop. Every error names the file and the line.
 */
#include "homepath.h"
#include "config.h"
#include "subst.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

enum config_type {
	CT_STR,      /* any text on one line */
	CT_PATH,     /* text; a leading "~/" is the home directory */
	CT_PORT,     /* 1-65535 */
	CT_ONOFF,    /* on|off into an int */
	CT_TLSMODE,  /* smtps|tls|none|auto into tls_on/tls_starttls */
	CT_AUTH,     /* a mechanism name, on (auto) or off (none) */
	CT_TIMEOUT,  /* seconds or off */
	CT_QUEUE,    /* on-tempfail|off */
	CT_ENVNAME,  /* an environment variable's name */
	CT_POLICY,   /* any|account|registered */
	CT_PROVIDER, /* fill the account from a preset */
	CT_REFUSED,  /* a key we will not take (password) */
	CT_SUBST,    /* text with msmtp's %U %H %C %M expanded (subst.h) */
	CT_WORDS,    /* one of the words in the key's list */
	CT_DSN,      /* dsn_notify: off, never, or failure,delay,success */
};

/* Where a key may appear. */
#define IN_ACCOUNT 1
#define IN_PRESET  2
#define IN_BOTH    (IN_ACCOUNT | IN_PRESET)

struct config_key {
	const char *name;
	enum config_type type;
	size_t off;
	int where;
	const char *words; /* CT_WORDS: the values allowed, space separated */
};

#define F(field) offsetof(struct config_account, field)

static const struct config_key config_keys[] = {
    {"host", CT_STR, F(host), IN_BOTH, NULL},
    {"port", CT_PORT, F(port), IN_BOTH, NULL},
    {"tls", CT_ONOFF, F(tls_on), IN_BOTH, NULL},
    {"tls_starttls", CT_ONOFF, F(tls_starttls), IN_BOTH, NULL},
    {"tls_mode", CT_TLSMODE, 0, IN_BOTH, NULL},
    {"tls_trust_file", CT_PATH, F(trust_file), IN_ACCOUNT, NULL},
    {"tls_fingerprint", CT_STR, F(fingerprint), IN_ACCOUNT, NULL},
    {"tls_certcheck", CT_ONOFF, F(certcheck), IN_ACCOUNT, NULL},
    {"auth", CT_AUTH, F(auth), IN_BOTH, NULL},
    {"user", CT_STR, F(user), IN_ACCOUNT, NULL},
    {"password", CT_REFUSED, 0, IN_ACCOUNT, NULL},
    {"passwordeval", CT_STR, F(passwordeval), IN_ACCOUNT, NULL},
    {"passfile", CT_PATH, F(passfile), IN_ACCOUNT, NULL},
    {"keyring", CT_ONOFF, F(keyring), IN_ACCOUNT, NULL},
    {"password_env", CT_ENVNAME, F(password_env), IN_ACCOUNT, NULL},
    {"from", CT_SUBST, F(from), IN_ACCOUNT, NULL},
    {"domain", CT_SUBST, F(domain), IN_ACCOUNT, NULL},
    {"aliases", CT_PATH, F(aliases), IN_ACCOUNT, NULL},
    {"timeout", CT_TIMEOUT, F(timeout_s), IN_ACCOUNT, NULL},
    {"queue", CT_QUEUE, F(queue), IN_ACCOUNT, NULL},
    {"provider", CT_PROVIDER, F(provider), IN_ACCOUNT, NULL},
    {"sender_policy", CT_POLICY, F(sender_policy), IN_BOTH, NULL},
    {"title", CT_STR, F(title), IN_PRESET, NULL},
    {"domains", CT_STR, F(domains), IN_PRESET, NULL},
    {"source", CT_STR, F(source), IN_PRESET, NULL},
    {"source_note", CT_STR, F(source_note), IN_PRESET, NULL},
    /* msmtp's keys beyond the basics (docs/msmtp-compat.md). */
    {"logfile", CT_PATH, F(logfile), IN_ACCOUNT, NULL},
    {"logfile_time_format", CT_STR, F(logfile_time_format), IN_ACCOUNT, NULL},
    {"syslog", CT_WORDS, F(syslog), IN_ACCOUNT,
     "on off LOG_USER LOG_MAIL LOG_LOCAL0 LOG_LOCAL1 LOG_LOCAL2 LOG_LOCAL3 LOG_LOCAL4 "
     "LOG_LOCAL5 LOG_LOCAL6 LOG_LOCAL7"},
    {"dsn_notify", CT_DSN, F(dsn_notify), IN_ACCOUNT, NULL},
    {"dsn_return", CT_WORDS, F(dsn_return), IN_ACCOUNT, "off headers hdrs full"},
    {"tls_cert_file", CT_PATH, F(tls_cert_file), IN_ACCOUNT, NULL},
    {"tls_key_file", CT_PATH, F(tls_key_file), IN_ACCOUNT, NULL},
    {"tls_crl_file", CT_PATH, F(tls_crl_file), IN_ACCOUNT, NULL},
    {"tls_min_version", CT_WORDS, F(tls_min_version), IN_ACCOUNT, "1.0 1.1 1.2 1.3"},
    {"tls_host_override", CT_STR, F(tls_host_override), IN_ACCOUNT, NULL},
    {"source_ip", CT_STR, F(source_ip), IN_ACCOUNT, NULL},
    {"proxy_host", CT_STR, F(proxy_host), IN_ACCOUNT, NULL},
    {"proxy_port", CT_PORT, F(proxy_port), IN_ACCOUNT, NULL},
    {"set_from_header", CT_WORDS, F(set_from_header), IN_ACCOUNT, "auto on off"},
    {"set_date_header", CT_WORDS, F(set_date_header), IN_ACCOUNT, "auto off"},
    {"set_msgid_header", CT_WORDS, F(set_msgid_header), IN_ACCOUNT, "auto off"},
    {"maildomain", CT_SUBST, F(maildomain), IN_ACCOUNT, NULL},
    {"fallback", CT_STR, F(fallback), IN_ACCOUNT, NULL},
    {"allow_from_override", CT_ONOFF, F(allow_from_override), IN_ACCOUNT, NULL},
    {"remove_bcc_headers", CT_ONOFF, F(remove_bcc_headers), IN_ACCOUNT, NULL},
    {"undisclosed_recipients", CT_ONOFF, F(undisclosed_recipients), IN_ACCOUNT, NULL},
    {"auto_from", CT_ONOFF, F(auto_from), IN_ACCOUNT, NULL},
};

#define CONFIG_NKEYS (sizeof(config_keys) / sizeof(config_keys[0]))

/* The string fields, for copying and freeing. */
static const size_t config_str_fields[] = {
    F(name),  F(host),    F(port),         F(trust_file),  F(fingerprint),
    F(auth),  F(user),    F(passwordeval), F(passfile),    F(password_env),
    F(from),  F(domain),  F(aliases),      F(provider),    F(sender_policy),
    F(title), F(domains), F(source),       F(source_note), F(file),
    F(logfile), F(logfile_time_format), F(syslog), F(dsn_notify), F(dsn_return),
    F(tls_cert_file), F(tls_key_file), F(tls_crl_file), F(tls_min_version),
    F(tls_host_override), F(source_ip), F(proxy_host), F(proxy_port), F(set_from_header),
    F(set_date_header), F(set_msgid_header), F(maildomain), F(fallback),
};

/* The on/off fields of msmtp's keys, -1 when unset: initialised and
 * inherited together. */
static const size_t config_onoff_fields[] = {
    F(allow_from_override), F(remove_bcc_headers), F(undisclosed_recipients), F(auto_from),
};

#define CONFIG_NSTR (sizeof(config_str_fields) / sizeof(config_str_fields[0]))

/* The mechanisms -A knows; "auto" and "none" included. */
static const char *const config_auth_names[] = {
    "auto",  "none",  "scram-sha-256", "scram-sha-1", "digest-md5",         "cram-md5",
    "plain", "login", "xoauth2",       "oauthbearer", "scram-sha-256-plus", "scram-sha-1-plus",
    "external",
};

/* A key's index in config_keys (the table is small; called rarely). */
static size_t config_key_index(const char *name)
{
	size_t k;

	for (k = 0; k < CONFIG_NKEYS; k++)
		if (strcmp(config_keys[k].name, name) == 0)
			break;
	return k;
}

struct config_parser {
	struct config *c;
	const char *file;
	int lineno;
	int preset_mode; /* parsing data/providers.conf */
	struct config_account defaults;
	struct config_account *cur; /* the block being read, NULL before any */
	int in_defaults;
	unsigned char set_here[CONFIG_NKEYS]; /* keys given in this block */
	struct config *presets;               /* loaded on the first "provider" */
	struct cl_err *err;
};

static char **config_strp(struct config_account *a, size_t off)
{
	return (char **)(void *)((char *)a + off);
}

static int *config_intp(struct config_account *a, size_t off)
{
	return (int *)(void *)((char *)a + off);
}

static void config_account_init(struct config_account *a)
{
	memset(a, 0, sizeof(*a));
	a->certcheck = -1;
	a->keyring = -1;
	a->queue = CONFIG_QUEUE_UNSET;
	a->tls_on = -1;
	a->tls_starttls = -1;
	for (size_t i = 0; i < sizeof(config_onoff_fields) / sizeof(config_onoff_fields[0]); i++)
		*config_intp(a, config_onoff_fields[i]) = -1;
}

static void config_account_clear(struct config_account *a)
{
	size_t i;

	for (i = 0; i < CONFIG_NSTR; i++) {
		free(*config_strp(a, config_str_fields[i]));
		*config_strp(a, config_str_fields[i]) = NULL;
	}
}

/* dst = a deep copy of src (dst's old strings are freed). */
static int config_account_copy(struct config_account *dst, const struct config_account *src)
{
	struct config_account tmp = *src;
	size_t i;

	for (i = 0; i < CONFIG_NSTR; i++) {
		char **p = config_strp(&tmp, config_str_fields[i]);
		if (*p && (*p = strdup(*p)) == NULL) {
			while (i-- > 0)
				free(*config_strp(&tmp, config_str_fields[i]));
			return -1;
		}
	}
	config_account_clear(dst);
	*dst = tmp;
	return 0;
}

static int config_err(struct config_parser *p, const char *fmt, ...) BUF_PRINTF(2, 3);

static int config_err(struct config_parser *p, const char *fmt, ...)
{
	struct buf m = BUF_INIT(CL_ERR_MSG_MAX);
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&m, fmt, ap);
	va_end(ap);
	err_set(p->err, CL_ECONFIG, "%s, line %d: %s", p->file, p->lineno, buf_cstr(&m));
	buf_free(&m);
	return -1;
}

static int config_set_str(struct config_parser *p, char **dst, const char *v)
{
	char *s = strdup(v);

	if (s == NULL)
		return err_set(p->err, CL_ESOFTWARE, "out of memory");
	free(*dst);
	*dst = s;
	return 0;
}

/* "~/x" -> "$HOME/x", as msmtp does for file names. */
static int config_set_path(struct config_parser *p, char **dst, const char *v)
{
	struct buf b = BUF_INIT(PATH_MAX);
	const char *home = getenv("HOME");
	int r;

	if (v[0] == '~' && (v[1] == '/' || v[1] == '\0') && home && home[0]) {
		if (buf_printf(&b, "%s%s", home, v + 1) < 0) {
			buf_free(&b);
			return config_err(p, "file name too long: %s", v);
		}
		r = config_set_str(p, dst, buf_cstr(&b));
		buf_free(&b);
		return r;
	}
	return config_set_str(p, dst, v);
}

/* from, domain, maildomain: msmtp's %U %H %C %M, expanded once here. */
static int config_set_subst(struct config_parser *p, const char *key, char **dst, const char *v)
{
	struct buf b = BUF_INIT(CONFIG_LINE_MAX);
	int r;

	if (subst_expand_here(v, key, &b, p->err) < 0) {
		buf_free(&b);
		return err_prefix(p->err, "%s, line %d", p->file, p->lineno);
	}
	r = config_set_str(p, dst, buf_cstr(&b));
	buf_free(&b);
	return r;
}

/* One of key->words (case-insensitive); stored as the list spells it. */
static int config_set_word(struct config_parser *p, const struct config_key *key, char **dst,
                           const char *v)
{
	const char *w = key->words;
	size_t n;

	while (*w) {
		n = strcspn(w, " ");
		if (strlen(v) == n && strncasecmp(v, w, n) == 0) {
			char word[32];
			snprintf(word, sizeof(word), "%.*s", (int)n, w);
			return config_set_str(p, dst, word);
		}
		w += n + (w[n] == ' ');
	}
	return config_err(p, "'%s' wants one of: %s; not '%s'", key->name, key->words, v);
}

int config_dsn_notify_ok(const char *v)
{
	char tmp[64], *tok, *save = NULL;

	if (strcasecmp(v, "off") == 0 || strcasecmp(v, "never") == 0)
		return 0;
	if (strlen(v) >= sizeof(tmp) || v[0] == '\0')
		return -1;
	memcpy(tmp, v, strlen(v) + 1);
	for (tok = strtok_r(tmp, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		if (strcasecmp(tok, "failure") != 0 && strcasecmp(tok, "delay") != 0 &&
		    strcasecmp(tok, "success") != 0)
			return -1;
	return v[strlen(v) - 1] == ',' || strstr(v, ",,") ? -1 : 0;
}

static int config_onoff(const char *v, int *out)
{
	if (strcasecmp(v, "on") == 0 || strcasecmp(v, "yes") == 0) {
		*out = 1;
		return 0;
	}
	if (strcasecmp(v, "off") == 0 || strcasecmp(v, "no") == 0) {
		*out = 0;
		return 0;
	}
	return -1;
}

/* Fold msmtp's two switches into our mode (msmtp: "tls on" alone is STARTTLS,
 * "tls_starttls off" makes it implicit TLS). */
static void config_account_finish(struct config_account *a)
{
	a->tls_mode_set = a->tls_on >= 0;
	if (a->tls_on == 0)
		a->tls_mode = SMTP_TLS_NONE;
	else if (a->tls_on == 1)
		a->tls_mode = a->tls_starttls == 0 ? SMTP_TLS_SMTPS : SMTP_TLS_STARTTLS;
	else
		a->tls_mode = SMTP_TLS_AUTO;
}

static struct config_account *config_account_get(struct config *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->naccounts; i++)
		if (c->accounts[i].name && strcmp(c->accounts[i].name, name) == 0)
			return &c->accounts[i];
	return NULL;
}

const struct config_account *config_find(const struct config *c, const char *name)
{
	return config_account_get((struct config *)c, name);
}

/* The presets file, read once per configuration file. */
static int config_presets(struct config_parser *p)
{
	if (p->presets)
		return 0;
	p->presets = calloc(1, sizeof(*p->presets));
	if (p->presets == NULL)
		return err_set(p->err, CL_ESOFTWARE, "out of memory");
	if (config_load_presets(p->presets, NULL, p->err) < 0)
		return err_prefix(p->err, "%s, line %d: provider", p->file, p->lineno);
	return 0;
}

/* "provider NAME": every field the preset has and this block has not set
 * yet. Lines after it still override it. */
static int config_apply_provider(struct config_parser *p, const char *name)
{
	const struct config_account *pre;
	struct buf known = BUF_INIT(1024);
	size_t i, k;

	if (config_presets(p) < 0)
		return -1;
	for (i = 0; i < p->presets->naccounts; i++)
		if (strcasecmp(p->presets->accounts[i].name, name) == 0)
			break;
	if (i == p->presets->naccounts) {
		for (i = 0; i < p->presets->naccounts; i++)
			buf_printf(&known, "%s%s", i ? ", " : "", p->presets->accounts[i].name);
		config_err(p, "unknown provider '%s' (known: %s)", name, buf_cstr(&known));
		buf_free(&known);
		return -1;
	}
	pre = &p->presets->accounts[i];
	/* The TLS switches go together: any of them given here keeps all. */
	if (!p->set_here[config_key_index("tls")] &&
	    !p->set_here[config_key_index("tls_starttls")] &&
	    !p->set_here[config_key_index("tls_mode")] && pre->tls_on >= 0) {
		p->cur->tls_on = pre->tls_on;
		p->cur->tls_starttls = pre->tls_starttls;
	}
	for (k = 0; k < CONFIG_NKEYS; k++) {
		const struct config_key *key = &config_keys[k];
		char *v;

		if (p->set_here[k] || !(key->where & IN_PRESET) ||
		    (key->type != CT_STR && key->type != CT_PORT && key->type != CT_AUTH &&
		     key->type != CT_POLICY))
			continue;
		v = *config_strp((struct config_account *)pre, key->off);
		if (v && config_set_str(p, config_strp(p->cur, key->off), v) < 0)
			return -1;
	}
	return 0;
}

static int config_value(struct config_parser *p, size_t k, const char *v)
{
	const struct config_key *key = &config_keys[k];
	struct config_account *a = p->cur;
	char *end;
	long n;
	size_t i;

	if (!(key->where & (p->preset_mode ? IN_PRESET : IN_ACCOUNT)))
		return config_err(p, "'%s' is not allowed in %s", key->name,
		                  p->preset_mode ? "a preset" : "an account");
	if (key->type == CT_REFUSED)
		return config_err(p,
		                  "'%s' is refused: a password does not belong in a "
		                  "configuration file; use passwordeval, passfile, keyring or "
		                  "password_env",
		                  key->name);
	if (v[0] == '\0') {
		/* msmtp: an empty argument unsets (e.g. a parent's password source). */
		switch (key->type) {
		case CT_ONOFF: /* msmtp: an empty argument means on */
			*config_intp(a, key->off) = 1;
			return 0;
		case CT_STR:
		case CT_SUBST:
		case CT_WORDS:
		case CT_DSN:
		case CT_PATH:
		case CT_PORT:
		case CT_AUTH:
		case CT_ENVNAME:
		case CT_POLICY:
			free(*config_strp(a, key->off));
			*config_strp(a, key->off) = NULL;
			return 0;
		default:
			return config_err(p, "'%s' needs a value", key->name);
		}
	}
	switch (key->type) {
	case CT_STR:
		return config_set_str(p, config_strp(a, key->off), v);
	case CT_SUBST:
		return config_set_subst(p, key->name, config_strp(a, key->off), v);
	case CT_WORDS:
		return config_set_word(p, key, config_strp(a, key->off), v);
	case CT_DSN:
		if (config_dsn_notify_ok(v) < 0)
			return config_err(p,
			                  "dsn_notify wants off, never, or a list of failure, delay "
			                  "and success separated by commas, not '%s'",
			                  v);
		return config_set_str(p, config_strp(a, key->off), v);
	case CT_PATH:
		if (key->off == F(trust_file) && strcmp(v, "system") == 0) {
			free(*config_strp(a, key->off));
			*config_strp(a, key->off) = NULL;
			return 0;
		}
		return config_set_path(p, config_strp(a, key->off), v);
	case CT_PORT:
		n = strtol(v, &end, 10);
		if (*end != '\0' || n < 1 || n > 65535 || v[0] == '+' || v[0] == '-')
			return config_err(p, "port '%s' is not a number from 1 to 65535", v);
		return config_set_str(p, config_strp(a, key->off), v);
	case CT_ONOFF:
		if (config_onoff(v, config_intp(a, key->off)) < 0)
			return config_err(p, "'%s' wants on or off, not '%s'", key->name, v);
		return 0;
	case CT_TLSMODE:
		if (strcasecmp(v, "smtps") == 0 || strcasecmp(v, "ssl") == 0) {
			a->tls_on = 1;
			a->tls_starttls = 0;
		} else if (strcasecmp(v, "tls") == 0 || strcasecmp(v, "starttls") == 0) {
			a->tls_on = 1;
			a->tls_starttls = 1;
		} else if (strcasecmp(v, "none") == 0) {
			a->tls_on = 0;
			a->tls_starttls = -1;
		} else if (strcasecmp(v, "auto") == 0) {
			a->tls_on = -1;
			a->tls_starttls = -1;
		} else {
			return config_err(p, "tls_mode wants smtps, tls, none or auto, not '%s'",
			                  v);
		}
		return 0;
	case CT_AUTH:
		if (strcasecmp(v, "on") == 0)
			v = "auto";
		else if (strcasecmp(v, "off") == 0)
			v = "none";
		for (i = 0; i < sizeof(config_auth_names) / sizeof(config_auth_names[0]); i++)
			if (strcasecmp(v, config_auth_names[i]) == 0)
				return config_set_str(p, config_strp(a, key->off),
				                      config_auth_names[i]);
		return config_err(p,
		                  "unknown auth '%s' (auto, scram-sha-256, scram-sha-1, "
		                  "digest-md5, cram-md5, plain, login, xoauth2, oauthbearer, external, none)",
		                  v);
	case CT_TIMEOUT:
		if (strcasecmp(v, "off") == 0) {
			*config_intp(a, key->off) = 0;
			return 0;
		}
		n = strtol(v, &end, 10);
		if (*end != '\0' || n < 1 || n > 86400 || v[0] == '+')
			return config_err(p, "timeout '%s' is not a number of seconds (1-86400)",
			                  v);
		*config_intp(a, key->off) = (int)n;
		return 0;
	case CT_QUEUE:
		if (strcasecmp(v, "on-tempfail") == 0 || strcasecmp(v, "on") == 0)
			a->queue = CONFIG_QUEUE_ON_TEMPFAIL;
		else if (strcasecmp(v, "off") == 0)
			a->queue = CONFIG_QUEUE_OFF;
		else
			return config_err(p, "queue wants on-tempfail or off, not '%s'", v);
		return 0;
	case CT_ENVNAME:
		if (strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") !=
		        strlen(v) ||
		    (v[0] >= '0' && v[0] <= '9'))
			return config_err(p, "'%s' is not an environment variable name", v);
		return config_set_str(p, config_strp(a, key->off), v);
	case CT_POLICY:
		if (strcmp(v, "any") != 0 && strcmp(v, "account") != 0 &&
		    strcmp(v, "registered") != 0)
			return config_err(
			    p, "sender_policy wants any, account or registered, not '%s'", v);
		return config_set_str(p, config_strp(a, key->off), v);
	case CT_PROVIDER:
		if (p->in_defaults)
			return config_err(p, "'provider' belongs in an account, not in defaults");
		if (config_apply_provider(p, v) < 0)
			return -1;
		return config_set_str(p, config_strp(a, key->off), v);
	case CT_REFUSED:
		break;
	}
	return 0;
}

/* Close the block being read: fold the TLS switches. */
static void config_block_end(struct config_parser *p)
{
	if (p->cur && !p->in_defaults)
		config_account_finish(p->cur);
	p->cur = NULL;
	p->in_defaults = 0;
	memset(p->set_here, 0, sizeof(p->set_here));
}

static int config_name_ok(const char *s)
{
	size_t i;

	if (s[0] == '\0')
		return 0;
	for (i = 0; s[i]; i++)
		if (s[i] == ' ' || s[i] == '\t' || s[i] == ':' || s[i] == ',' ||
		    (unsigned char)s[i] < 0x20)
			return 0;
	return 1;
}

/* "account NAME", "account NAME : P1, P2", "preset NAME". */
static int config_block_begin(struct config_parser *p, const char *v)
{
	struct config *c = p->c;
	struct config_account *a;
	char namebuf[256], *colon, *parents = NULL, *q, *tok, *save = NULL;
	size_t n;

	colon = strchr(v, ':');
	n = colon ? (size_t)(colon - v) : strlen(v);
	while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	if (n == 0 || n >= sizeof(namebuf))
		return config_err(p, "%s needs a name", p->preset_mode ? "preset" : "account");
	memcpy(namebuf, v, n);
	namebuf[n] = '\0';
	if (!config_name_ok(namebuf))
		return config_err(p, "bad name '%s' (no spaces, ':' or ',')", namebuf);
	if (config_account_get(c, namebuf))
		return config_err(p, "'%s' is defined twice", namebuf);
	if (c->naccounts == CONFIG_ACCOUNTS_MAX)
		return config_err(p, "too many accounts (at most 256)");
	if (c->naccounts % 16 == 0) {
		a = realloc(c->accounts, (c->naccounts + 16) * sizeof(*a));
		if (a == NULL)
			return err_set(p->err, CL_ESOFTWARE, "out of memory");
		c->accounts = a;
	}
	a = &c->accounts[c->naccounts];
	config_account_init(a);
	if (config_account_copy(a, &p->defaults) < 0)
		return err_set(p->err, CL_ESOFTWARE, "out of memory");
	c->naccounts++;
	if (colon) {
		parents = strdup(colon + 1);
		if (parents == NULL)
			return err_set(p->err, CL_ESOFTWARE, "out of memory");
		for (tok = strtok_r(parents, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			const struct config_account *par;
			struct config_account tmp;
			size_t i;

			tok += strspn(tok, " \t");
			q = tok + strlen(tok);
			while (q > tok && (q[-1] == ' ' || q[-1] == '\t'))
				*--q = '\0';
			par = config_account_get(c, tok);
			if (par == NULL || par == a) {
				config_err(p,
				           "account '%s' inherits from '%s', which is not defined "
				           "before it",
				           namebuf, tok);
				free(parents);
				return -1;
			}
			/* Each parent's settings over what came before. */
			config_account_init(&tmp);
			if (config_account_copy(&tmp, par) < 0) {
				free(parents);
				return err_set(p->err, CL_ESOFTWARE, "out of memory");
			}
			for (i = 0; i < CONFIG_NSTR; i++) {
				char **src = config_strp(&tmp, config_str_fields[i]);
				if (*src) {
					free(*config_strp(a, config_str_fields[i]));
					*config_strp(a, config_str_fields[i]) = *src;
					*src = NULL;
				}
			}
			if (tmp.tls_on >= 0) {
				a->tls_on = tmp.tls_on;
				a->tls_starttls = tmp.tls_starttls;
			}
			if (tmp.certcheck >= 0)
				a->certcheck = tmp.certcheck;
			if (tmp.keyring >= 0)
				a->keyring = tmp.keyring;
			if (tmp.queue != CONFIG_QUEUE_UNSET)
				a->queue = tmp.queue;
			if (tmp.timeout_s)
				a->timeout_s = tmp.timeout_s;
			for (i = 0; i < sizeof(config_onoff_fields) / sizeof(config_onoff_fields[0]);
			     i++)
				if (*config_intp(&tmp, config_onoff_fields[i]) >= 0)
					*config_intp(a, config_onoff_fields[i]) =
					    *config_intp(&tmp, config_onoff_fields[i]);
			config_account_clear(&tmp);
		}
		free(parents);
	}
	free(a->name);
	free(a->file);
	a->name = strdup(namebuf);
	a->file = strdup(p->file);
	a->line = p->lineno;
	if (a->name == NULL || a->file == NULL)
		return err_set(p->err, CL_ESOFTWARE, "out of memory");
	p->cur = a;
	return 0;
}

/* The argument: the rest of the line, or a "quoted string" with \" and \\
 * escapes (msmtp's rule). Written into out (at most CONFIG_LINE_MAX). */
static int config_arg(struct config_parser *p, const char *s, char *out)
{
	size_t n = 0;

	if (*s == '=') /* "key = value" is accepted too */
		s += 1 + strspn(s + 1, " \t");
	if (*s != '"') {
		size_t l = strlen(s);
		while (l && (s[l - 1] == ' ' || s[l - 1] == '\t'))
			l--;
		memcpy(out, s, l);
		out[l] = '\0';
		return 0;
	}
	for (s++; *s && *s != '"'; s++) {
		if (*s == '\\' && (s[1] == '"' || s[1] == '\\'))
			s++;
		out[n++] = *s;
	}
	out[n] = '\0';
	if (*s != '"')
		return config_err(p, "missing closing '\"'");
	s++;
	if (s[strspn(s, " \t")] != '\0')
		return config_err(p, "text after the closing '\"'");
	return 0;
}

static int config_line(struct config_parser *p, char *line)
{
	char key[64], *arg;
	char *val;
	size_t klen, k;
	int r;

	line += strspn(line, " \t");
	if (line[0] == '\0' || line[0] == '#')
		return 0;
	klen = strspn(line, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
	if (klen == 0 || klen >= sizeof(key) ||
	    (line[klen] != '\0' && line[klen] != ' ' && line[klen] != '\t' && line[klen] != '='))
		return config_err(p, "expected 'key value', not '%.60s'", line);
	memcpy(key, line, klen);
	key[klen] = '\0';
	arg = line + klen;
	arg += strspn(arg, " \t");
	val = malloc(CONFIG_LINE_MAX + 1);
	if (val == NULL)
		return err_set(p->err, CL_ESOFTWARE, "out of memory");
	if (config_arg(p, arg, val) < 0) {
		free(val);
		return -1;
	}
	r = 0;
	if (strcmp(key, "defaults") == 0 && !p->preset_mode) {
		config_block_end(p);
		p->cur = &p->defaults;
		p->in_defaults = 1;
		if (val[0])
			r = config_err(p, "'defaults' takes no argument");
	} else if (strcmp(key, p->preset_mode ? "preset" : "account") == 0) {
		config_block_end(p);
		r = config_block_begin(p, val);
	} else {
		k = config_key_index(key);
		if (k == CONFIG_NKEYS)
			r = config_err(p, "unknown key '%s'", key);
		else if (p->cur == NULL)
			r = config_err(p, "'%s' before any %s", key,
			               p->preset_mode ? "preset" : "'account' or 'defaults' line");
		else if ((r = config_value(p, k, val)) == 0)
			p->set_here[k] = 1;
	}
	free(val);
	return r;
}

static int config_parse_mode(struct config *c, const char *name, const char *text, size_t len,
                             int preset_mode, struct cl_err *err)
{
	struct config_parser p;
	char *line;
	size_t i = 0, e, l;
	int r = 0;

	memset(&p, 0, sizeof(p));
	p.c = c;
	p.file = name;
	p.preset_mode = preset_mode;
	p.err = err;
	config_account_init(&p.defaults);
	line = malloc(CONFIG_LINE_MAX + 1);
	if (line == NULL)
		return err_set(err, CL_ESOFTWARE, "out of memory");
	while (i < len && r == 0) {
		p.lineno++;
		for (e = i; e < len && text[e] != '\n'; e++)
			;
		l = e - i;
		if (l && text[i + l - 1] == '\r')
			l--;
		if (l > CONFIG_LINE_MAX) {
			r = config_err(&p, "line longer than %d bytes", CONFIG_LINE_MAX);
			break;
		}
		if (memchr(text + i, '\0', l)) {
			r = config_err(&p, "NUL byte");
			break;
		}
		memcpy(line, text + i, l);
		line[l] = '\0';
		r = config_line(&p, line);
		i = e + 1;
	}
	if (r == 0)
		config_block_end(&p);
	free(line);
	config_account_clear(&p.defaults);
	if (p.presets) {
		config_free(p.presets);
		free(p.presets);
	}
	if (r == 0 && !preset_mode && config_account_get(c, "default")) {
		free(c->default_name);
		c->default_name = strdup("default");
	}
	return r;
}

int config_parse(struct config *c, const char *name, const char *text, size_t len,
                 struct cl_err *err)
{
	return config_parse_mode(c, name, text, len, 0, err);
}

void config_free(struct config *c)
{
	size_t i;

	for (i = 0; i < c->naccounts; i++)
		config_account_clear(&c->accounts[i]);
	free(c->accounts);
	free(c->path);
	free(c->default_name);
	memset(c, 0, sizeof(*c));
}

/* Read path whole. check_perm: refuse group/other access and another owner
 * (checked on the descriptor we read). 1 read, 0 does not exist (and
 * missing_ok), -1 error. */
static int config_read_file(const char *path, int check_perm, int missing_ok, struct buf *out,
                            struct cl_err *err)
{
	struct buf shown = BUF_INIT(PATH_MAX + 2);
	struct stat st;
	char tmp[8192];
	ssize_t n;
	int fd, r = -1;

	homepath_show(path, &shown);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		if (errno == ENOENT && missing_ok)
			r = 0;
		else
			err_set(err, CL_ECONFIG, "cannot open configuration file %s: %s",
			        buf_cstr(&shown), strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		err_set(err, CL_ECONFIG, "configuration file %s is not a regular file",
		        buf_cstr(&shown));
		goto out;
	}
	if (check_perm && (st.st_mode & 077)) {
		err_set(err, CL_ECONFIG,
		        "configuration file %s is accessible by group or others (mode %03o); "
		        "it names your password sources: run chmod 600 %s",
		        buf_cstr(&shown), (unsigned)(st.st_mode & 0777), buf_cstr(&shown));
		goto out;
	}
	if (check_perm && st.st_uid != geteuid()) {
		err_set(err, CL_ECONFIG,
		        "configuration file %s belongs to another user (uid %u); it must be yours",
		        buf_cstr(&shown), (unsigned)st.st_uid);
		goto out;
	}
	for (;;) {
		n = read(fd, tmp, sizeof(tmp));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err_set(err, CL_ECONFIG, "reading %s: %s", buf_cstr(&shown),
			        strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		if (buf_add(out, tmp, (size_t)n) < 0) {
			err_set(err, CL_ECONFIG, "configuration file %s is larger than %d bytes",
			        buf_cstr(&shown), CONFIG_FILE_MAX);
			goto out;
		}
	}
	r = 1;
out:
	if (fd >= 0)
		close(fd);
	buf_free(&shown);
	return r;
}

static int config_load_path(struct config *c, const char *path, int check_perm, int missing_ok,
                            struct cl_err *err)
{
	struct buf text = BUF_INIT(CONFIG_FILE_MAX), shown = BUF_INIT(PATH_MAX + 2);
	int r;

	r = config_read_file(path, check_perm, missing_ok, &text, err);
	if (r == 1) {
		homepath_show(path, &shown);
		c->path = strdup(path);
		if (c->path == NULL)
			r = err_set(err, CL_ESOFTWARE, "out of memory");
		else
			r = config_parse(c, buf_cstr(&shown), text.data ? text.data : "", text.len,
			                 err) < 0
			        ? -1
			        : 1;
	}
	buf_free(&text);
	buf_free(&shown);
	return r;
}

int config_load(struct config *c, const char *path, struct cl_err *err)
{
	struct buf user = BUF_INIT(PATH_MAX);
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	int r;

	memset(c, 0, sizeof(*c));
	if (path)
		return config_load_path(c, path, 1, 0, err) < 0 ? -1 : 0;
	if (xdg && xdg[0] == '/')
		buf_printf(&user, "%s/clsmtpc/config", xdg);
	else if (home && home[0])
		buf_printf(&user, "%s/.config/clsmtpc/config", home);
	r = 0;
	if (user.len)
		r = config_load_path(c, buf_cstr(&user), 1, 1, err);
	buf_free(&user);
	if (r != 0)
		return r < 0 ? -1 : 0;
	/* The system's file holds no secrets (passwords are refused), so it may
	 * be readable by all, as /etc/msmtprc is. */
	return config_load_path(c, "/etc/clsmtpc.conf", 0, 1, err) < 0 ? -1 : 0;
}

int config_load_presets(struct config *c, const char *path, struct cl_err *err)
{
	struct buf found = BUF_INIT(PATH_MAX), text = BUF_INIT(CONFIG_FILE_MAX);
	int r = -1;

	memset(c, 0, sizeof(*c));
	if (path == NULL) {
		if (config_providers_path(&found) < 0) {
			buf_free(&found); /* the paths tried (found by tests/fuzz/fuzz_config) */
			return err_set(err, CL_ECONFIG,
			               "the provider presets file (providers.conf) was not found; "
			               "set CLSMTPC_PROVIDERS to its path");
		}
		path = buf_cstr(&found);
	}
	if (config_read_file(path, 0, 0, &text, err) == 1) {
		c->path = strdup(path);
		r = config_parse_mode(c, path, text.data ? text.data : "", text.len, 1, err);
	}
	buf_free(&found);
	buf_free(&text);
	return r;
}

int config_providers_path(struct buf *path)
{
	static const char *const rel[] = {"../data/providers.conf",
	                                  "../share/clsmtpc/providers.conf"};
	static const char *const abs[] = {"/usr/local/share/clsmtpc/providers.conf",
	                                  "/usr/share/clsmtpc/providers.conf"};
	const char *env = getenv("CLSMTPC_PROVIDERS");
	char exe[PATH_MAX];
	ssize_t n;
	size_t i;
	char *slash;

	buf_reset(path);
	if (env && env[0])
		return buf_set(path, env);
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			for (i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
				buf_reset(path);
				if (buf_printf(path, "%s/%s", exe, rel[i]) == 0 &&
				    access(buf_cstr(path), R_OK) == 0)
					return 0;
			}
		}
	}
	for (i = 0; i < sizeof(abs) / sizeof(abs[0]); i++)
		if (access(abs[i], R_OK) == 0)
			return buf_set(path, abs[i]);
	buf_reset(path);
	return -1;
}

static int config_from_matches(const char *pattern, const char *from)
{
	if (strpbrk(pattern, "*?["))
		return fnmatch(pattern, from, FNM_CASEFOLD) == 0;
	return strcasecmp(pattern, from) == 0;
}

static const struct config_account *config_select_from(const struct config *c, const char *from)
{
	size_t i;

	for (i = 0; i < c->naccounts; i++)
		if (c->accounts[i].from && !strpbrk(c->accounts[i].from, "*?[") &&
		    config_from_matches(c->accounts[i].from, from))
			return &c->accounts[i];
	for (i = 0; i < c->naccounts; i++)
		if (c->accounts[i].from && strpbrk(c->accounts[i].from, "*?[") &&
		    config_from_matches(c->accounts[i].from, from))
			return &c->accounts[i];
	return NULL;
}

int config_select(const struct config *c, const char *name, const char *from,
                  const struct config_account **out, struct cl_err *err)
{
	*out = NULL;
	if (name) {
		*out = config_find(c, name);
		if (*out == NULL)
			return err_set(err, CL_ECONFIG, "account '%s' is not defined in %s", name,
			               c->path ? c->path : "any configuration file");
		return 0;
	}
	/* Exact addresses first, then patterns, each in file order; then, as
	 * msmtp, the address without its "+detail" (user+list@ is user@). */
	if (from && from[0] && (*out = config_select_from(c, from)) != NULL)
		return 0;
	if (from && strchr(from, '+') && strchr(from, '@') && strchr(from, '+') < strchr(from, '@')) {
		char base[512];
		const char *plus = strchr(from, '+'), *at = strchr(from, '@');

		if (strlen(from) < sizeof(base)) {
			snprintf(base, sizeof(base), "%.*s%s", (int)(plus - from), from, at);
			if ((*out = config_select_from(c, base)) != NULL)
				return 0;
		}
	}
	if (c->default_name)
		*out = config_find(c, c->default_name);
	return 0;
}
