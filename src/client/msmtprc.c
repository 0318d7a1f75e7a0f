/*
 * msmtprc.c - translate an msmtp configuration into ours (see msmtprc.h).
 * clsmtpc's syntax is msmtp's, so most lines pass through; what differs is
 * "password" (refused here: moved to the keyring), "auth on|off", msmtp's
 * older add_missing_*_header names, and the keys of features we do not have
 * (eval, socket, LMTP, GnuTLS priorities...), which become comments saying
 * why, so nothing is lost silently.
 */
#include "msmtprc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "config.h"

/* Keys whose line passes through unchanged (same name, same meaning;
 * %U %H %C %M in from, domain and maildomain included). */
static const char *const msmtprc_same[] = {
    "host",          "port", "tls",          "tls_starttls", "tls_trust_file", "tls_fingerprint",
    "tls_certcheck", "user", "passwordeval", "from",         "domain",         "timeout",
    "aliases",       "logfile", "logfile_time_format", "syslog", "dsn_notify", "dsn_return",
    "tls_cert_file", "tls_key_file", "tls_crl_file", "tls_host_override", "source_ip",
    "allow_from_override", "proxy_host", "proxy_port", "set_from_header", "set_date_header", "set_msgid_header",
    "remove_bcc_headers", "undisclosed_recipients", "auto_from", "maildomain",
};

/* Keys clsmtpc does not take, and why (the line becomes a comment). */
static const struct {
	const char *key, *why;
} msmtprc_not[] = {
    {"eval", "clsmtpc runs no command while reading its configuration, only passwordeval "
             "when a password is needed: write the value itself"},
    {"protocol", "LMTP is not supported: clsmtpc submits over SMTP only"},
    {"socket", "Unix-domain sockets are not supported: give host and port"},
    {"tls_priorities", "GnuTLS priority strings do not apply to OpenSSL: use tls_min_version"},
    {"tls_min_dh_prime_bits", "deprecated in msmtp; OpenSSL's security level decides"},
    {"ntlmdomain", "NTLM is not supported (broken and obsolete)"},
};

struct msmtprc_acct {
	char name[128];
	char host[256], user[256];
	int has_secret; /* password, passwordeval */
	int auth_on;    /* auth given and not off */
	int had_password;
};

static int msmtprc_is(const char *key, const char *const *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(key, list[i]) == 0)
			return 1;
	return 0;
}

static const char *msmtprc_why(const char *key)
{
	size_t i;

	for (i = 0; i < sizeof(msmtprc_not) / sizeof(msmtprc_not[0]); i++)
		if (strcmp(key, msmtprc_not[i].key) == 0)
			return msmtprc_not[i].why;
	return NULL;
}

/* The argument as msmtp reads it: the rest of the line, quotes removed. */
static void msmtprc_unquote(const char *s, char *out, size_t max)
{
	size_t n = 0, l;

	if (*s != '"') {
		l = strlen(s);
		while (l && (s[l - 1] == ' ' || s[l - 1] == '\t'))
			l--;
		if (l >= max)
			l = max - 1;
		memcpy(out, s, l);
		out[l] = '\0';
		return;
	}
	for (s++; *s && *s != '"' && n + 1 < max; s++) {
		if (*s == '\\' && s[1])
			s++;
		out[n++] = *s;
	}
	out[n] = '\0';
}

/* End of an account block: what the password became. */
static void msmtprc_close(struct msmtprc_acct *a, struct buf *out, struct buf *notes)
{
	if (a->name[0] == '\0')
		return;
	if (a->auth_on && !a->has_secret) {
		/* msmtp looks in the keyring by itself when no password is given;
		 * we do it when asked, with the same attributes. */
		buf_adds(out, "keyring on\n");
		if (a->had_password)
			buf_printf(notes,
			           "account %s: its password was in the file and is not copied; "
			           "store it with: secret-tool store --label=clsmtpc host %s "
			           "service smtp user %s\n",
			           a->name, a->host[0] ? a->host : "HOST",
			           a->user[0] ? a->user : "USER");
	}
	memset(a, 0, sizeof(*a));
}

int msmtprc_translate(const char *name, const char *text, size_t len, struct buf *out,
                      struct buf *notes, struct cl_err *err)
{
	struct msmtprc_acct a;
	struct buf line = BUF_INIT(CONFIG_LINE_MAX + 1);
	char key[64], arg[CONFIG_LINE_MAX + 1];
	size_t i = 0, e, klen;
	int lineno = 0, in_defaults = 0, dflt_auth = 0;

	memset(&a, 0, sizeof(a));
	buf_set_secret(&line);
	while (i < len) {
		const char *s;

		lineno++;
		for (e = i; e < len && text[e] != '\n'; e++)
			;
		buf_reset(&line);
		if (buf_add(&line, text + i, e - i) < 0) {
			buf_wipe(&line);
			return err_set(err, CL_ECONFIG, "%s, line %d: line too long", name, lineno);
		}
		i = e + 1;
		if (line.len && line.data[line.len - 1] == '\r')
			buf_truncate(&line, line.len - 1);
		s = buf_cstr(&line);
		s += strspn(s, " \t");
		if (*s == '\0' || *s == '#') {
			buf_printf(out, "%s\n", s);
			continue;
		}
		klen = strspn(s, "abcdefghijklmnopqrstuvwxyz_0123456789");
		if (klen == 0 || klen >= sizeof(key)) {
			buf_printf(notes, "%s, line %d: not understood, left as a comment\n", name,
			           lineno);
			buf_printf(out, "# (not understood) %s\n", s);
			continue;
		}
		memcpy(key, s, klen);
		key[klen] = '\0';
		s += klen;
		s += strspn(s, " \t");
		msmtprc_unquote(s, arg, sizeof(arg));
		if (strcmp(key, "account") == 0 || strcmp(key, "defaults") == 0) {
			msmtprc_close(&a, out, notes);
			in_defaults = strcmp(key, "defaults") == 0;
			if (!in_defaults) {
				size_t n = strcspn(arg, " \t:");
				snprintf(a.name, sizeof(a.name), "%.*s", (int)n, arg);
				a.auth_on = dflt_auth; /* inherited, as msmtp does */
			}
			buf_printf(out, "\n%s%s%s\n", key, s[0] ? " " : "", s);
		} else if (strcmp(key, "password") == 0) {
			a.had_password = 1;
			buf_adds(out, "# password: not copied (see keyring below)\n");
		} else if (strcmp(key, "auth") == 0) {
			/* external: the client certificate is the credential. */
			a.auth_on = strcasecmp(arg, "off") != 0 && strcasecmp(arg, "external") != 0;
			if (in_defaults)
				dflt_auth = a.auth_on;
			if (strcasecmp(arg, "on") == 0)
				buf_adds(out, "auth auto\n");
			else if (strcasecmp(arg, "off") == 0)
				buf_adds(out, "auth none\n");
			else if (strcasecmp(arg, "gssapi") == 0 || strcasecmp(arg, "ntlm") == 0) {
				buf_printf(out,
				           "# not supported by clsmtpc (%s): auth %s\nauth auto\n",
				           strcasecmp(arg, "ntlm") == 0
				               ? "NTLM is broken and obsolete"
				               : "no Kerberos: use a password mechanism or external",
				           arg);
				buf_printf(notes,
				           "%s, line %d: auth %s is not supported; using auto\n",
				           name, lineno, arg);
			} else {
				buf_printf(out, "auth %s\n", arg);
			}
		} else if (msmtprc_is(key, msmtprc_same, sizeof(msmtprc_same) / sizeof(char *))) {
			if (strcmp(key, "host") == 0)
				snprintf(a.host, sizeof(a.host), "%.255s", arg);
			else if (strcmp(key, "user") == 0)
				snprintf(a.user, sizeof(a.user), "%.255s", arg);
			else if (strcmp(key, "passwordeval") == 0)
				a.has_secret = 1;
			buf_printf(out, "%s %s\n", key, s);
		} else if (strcmp(key, "protocol") == 0 && strcasecmp(arg, "smtp") == 0) {
			continue;
		} else if (strcmp(key, "add_missing_from_header") == 0 ||
		           strcmp(key, "add_missing_date_header") == 0) {
			/* msmtp's older names: on is auto, off is off. */
			buf_printf(out, "set_%s_header %s\n", key[12] == 'f' ? "from" : "date",
			           arg[0] == '\0' || strcasecmp(arg, "on") == 0 ? "auto" : "off");
		} else if (msmtprc_why(key)) {
			buf_printf(out, "# not supported by clsmtpc (%s): %s %s\n", msmtprc_why(key), key,
			           s);
			buf_printf(notes, "%s, line %d: '%s' is not supported (%s); left as a comment\n",
			           name, lineno, key, msmtprc_why(key));
		} else {
			buf_printf(out, "# not supported by clsmtpc: %s %s\n", key, s);
			buf_printf(notes, "%s, line %d: '%s' is not supported; left as a comment\n",
			           name, lineno, key);
		}
	}
	msmtprc_close(&a, out, notes);
	buf_wipe(&line);
	explicit_bzero(arg, sizeof(arg));
	return 0;
}

int msmtprc_import(const char *path, FILE *out, struct cl_err *err)
{
	struct buf found = BUF_INIT(PATH_MAX), text = BUF_INIT(CONFIG_FILE_MAX),
	           res = BUF_INIT(CONFIG_FILE_MAX * 2), notes = BUF_INIT(65536);
	struct config check;
	const char *home = getenv("HOME"), *xdg = getenv("XDG_CONFIG_HOME");
	char tmp[8192];
	ssize_t n;
	int fd = -1, r = -1;

	buf_set_secret(&text);
	if (path == NULL) {
		if (home)
			buf_printf(&found, "%s/.msmtprc", home);
		if (found.len == 0 || access(buf_cstr(&found), R_OK) != 0) {
			buf_reset(&found);
			if (xdg && xdg[0])
				buf_printf(&found, "%s/msmtp/config", xdg);
			else if (home)
				buf_printf(&found, "%s/.config/msmtp/config", home);
		}
		path = buf_cstr(&found);
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err_set(err, CL_ECONFIG, "cannot read msmtp configuration %s: %s", path,
		        strerror(errno));
		goto out;
	}
	while ((n = read(fd, tmp, sizeof(tmp))) > 0)
		if (buf_add(&text, tmp, (size_t)n) < 0) {
			err_set(err, CL_ECONFIG, "%s is too large", path);
			goto out;
		}
	explicit_bzero(tmp, sizeof(tmp));
	buf_printf(&res,
	           "# clsmtpc configuration imported from %s by clsmtpc --import-msmtprc.\n"
	           "# Save it as ~/.config/clsmtpc/config and run: chmod 600 on it.\n"
	           "# See clsmtpc.conf(5).\n",
	           path);
	if (msmtprc_translate(path, text.data ? text.data : "", text.len, &res, &notes, err) < 0)
		goto out;
	/* What we print must be something we can read. */
	memset(&check, 0, sizeof(check));
	if (config_parse(&check, "(imported configuration)", buf_cstr(&res), res.len, err) < 0) {
		config_free(&check);
		err_prefix(err, "the translation of %s does not parse", path);
		goto out;
	}
	config_free(&check);
	fputs(buf_cstr(&res), out);
	if (notes.len)
		fprintf(stderr, "clsmtpc: notes on the import:\n%s", buf_cstr(&notes));
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	buf_wipe(&text);
	buf_free(&found);
	buf_free(&res);
	buf_free(&notes);
	return r;
}
