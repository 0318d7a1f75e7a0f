/*
 * relay_sender.c - sender_relay: a smarthost account chosen by the envelope
 * sender, with its own TLS, AUTH and address rewrite (relay_conf.h).
 *   sender_relay PATTERN HOST[:PORT] [tls=smtps|starttls|none]
 *                [user=USER password_file=FILE] [auth=MECH] [ca=FILE]
 *                [rewrite=ADDRESS] [rewrite_from=yes]
 * PATTERN is an address or "@domain"; an address wins over its domain.
 */
#include "relay_conf.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/xalloc.h"

static char *sender_lower(const char *s)
{
	char *d = xstrdup(s);
	for (char *p = d; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return d;
}

static void account_free(struct relay_account *ac)
{
	free(ac->pattern);
	free(ac->host);
	free(ac->port);
	free(ac->user);
	free(ac->password_file);
	free(ac->auth);
	free(ac->ca_file);
	free(ac->rewrite);
	buf_wipe(&ac->password);
}

/* One key=value word; NULL or the problem. */
static const char *account_option(struct relay_account *ac, const char *word)
{
	const char *eq = strchr(word, '=');
	size_t klen = eq ? (size_t)(eq - word) : 0;
	const char *v = eq ? eq + 1 : NULL;
	char **dst = NULL;

	if (eq == NULL || *v == '\0')
		return "sender_relay: options are KEY=VALUE (tls=, user=, password_file=, auth=, "
		       "ca=, "
		       "rewrite=, rewrite_from=)";
	if (klen == 3 && strncmp(word, "tls", 3) == 0) {
		if (strcmp(v, "smtps") == 0)
			ac->tls = RELAY_TLS_SMTPS;
		else if (strcmp(v, "starttls") == 0)
			ac->tls = RELAY_TLS_STARTTLS;
		else if (strcmp(v, "none") == 0)
			ac->tls = RELAY_TLS_NONE;
		else
			return "sender_relay: tls= is smtps, starttls or none";
		return NULL;
	}
	if (klen == 12 && strncmp(word, "rewrite_from", 12) == 0) {
		if (strcmp(v, "yes") != 0 && strcmp(v, "no") != 0)
			return "sender_relay: rewrite_from= is yes or no";
		ac->rewrite_from = strcmp(v, "yes") == 0;
		return NULL;
	}
	if (klen == 4 && strncmp(word, "user", 4) == 0)
		dst = &ac->user;
	else if (klen == 13 && strncmp(word, "password_file", 13) == 0)
		dst = &ac->password_file;
	else if (klen == 4 && strncmp(word, "auth", 4) == 0)
		dst = &ac->auth;
	else if (klen == 2 && strncmp(word, "ca", 2) == 0)
		dst = &ac->ca_file;
	else if (klen == 7 && strncmp(word, "rewrite", 7) == 0)
		dst = &ac->rewrite;
	else
		return "sender_relay: unknown option (tls=, user=, password_file=, auth=, ca=, "
		       "rewrite=, rewrite_from=)";
	if (*dst != NULL)
		return "sender_relay: an option is given twice";
	*dst = xstrdup(v);
	return NULL;
}

static const char *account_check(const struct relay_account *ac)
{
	if ((ac->user == NULL) != (ac->password_file == NULL))
		return "sender_relay: user= and password_file= go together";
	if (ac->rewrite && (strchr(ac->rewrite, '@') == NULL || ac->rewrite[0] == '@'))
		return "sender_relay: rewrite= is an address (the account's own)";
	if (ac->rewrite_from && ac->rewrite == NULL)
		return "sender_relay: rewrite_from=yes needs rewrite=ADDRESS";
	if ((ac->password_file && ac->password_file[0] != '/') ||
	    (ac->ca_file && ac->ca_file[0] != '/'))
		return "sender_relay: password_file= and ca= are absolute paths";
	return NULL;
}

int relay_sender_directive(struct relay_conf *rc, char **w, size_t n, int line, const char **msg)
{
	struct relay_account ac;
	const char *at;

	if (strcmp(w[0], "sender_relay") != 0)
		return 0;
	*msg = NULL;
	if (n < 3) {
		*msg = "usage: sender_relay ADDRESS|@DOMAIN HOST[:PORT] [tls=...] [user=... "
		       "password_file=...] [rewrite=ADDRESS [rewrite_from=yes]]";
		return 1;
	}
	at = strchr(w[1], '@');
	if (at == NULL || at[1] == '\0' || strchr(at + 1, '@') != NULL) {
		*msg = "sender_relay: the pattern is an address or @domain";
		return 1;
	}
	for (size_t i = 0; i < rc->nacct; i++)
		if (strcasecmp(rc->acct[i].pattern, w[1]) == 0) {
			*msg = "sender_relay: this sender already has a route";
			return 1;
		}
	memset(&ac, 0, sizeof(ac));
	buf_init(&ac.password, RELAY_SECRET_MAX);
	ac.tls = RELAY_TLS_BY_PORT;
	ac.line = line;
	ac.pattern = sender_lower(w[1]);
	if (relay_conf_hostport(w[2], RELAY_DEFAULT_SMARTHOST_PORT, &ac.host, &ac.port) < 0)
		*msg = "sender_relay: HOST[:PORT] (smtp.isp.example:465, [::1]:587)";
	for (size_t i = 3; i < n && *msg == NULL; i++)
		*msg = account_option(&ac, w[i]);
	if (*msg == NULL)
		*msg = account_check(&ac);
	if (*msg != NULL) {
		account_free(&ac);
		return 1;
	}
	rc->acct = xreallocarray(rc->acct, rc->nacct + 1, sizeof(*rc->acct));
	rc->acct[rc->nacct++] = ac;
	return 1;
}

int relay_sender_load_secrets(struct relay_conf *rc, struct cl_err *err)
{
	for (size_t i = 0; i < rc->nacct; i++) {
		struct relay_account *ac = &rc->acct[i];
		if (ac->password_file &&
		    relay_conf_read_secret(ac->password_file, "sender_relay password_file",
		                           rc->secret_uid, &ac->password, err) < 0)
			return -1;
	}
	return 0;
}

const struct relay_account *relay_sender_route(const struct relay_conf *rc, const char *sender)
{
	const char *at = sender ? strrchr(sender, '@') : NULL;
	size_t i;

	if (at == NULL)
		return NULL; /* <> and addresses without a domain: the default */
	for (i = 0; i < rc->nacct; i++)
		if (strcasecmp(rc->acct[i].pattern, sender) == 0)
			return &rc->acct[i];
	for (i = 0; i < rc->nacct; i++)
		if (rc->acct[i].pattern[0] == '@' &&
		    strcasecmp(rc->acct[i].pattern + 1, at + 1) == 0)
			return &rc->acct[i];
	return NULL;
}

void relay_sender_free(struct relay_conf *rc)
{
	for (size_t i = 0; i < rc->nacct; i++)
		account_free(&rc->acct[i]);
	free(rc->acct);
	rc->acct = NULL;
	rc->nacct = 0;
}
