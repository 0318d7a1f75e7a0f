/*
 * dkim_conf.c - the DKIM directives of clsmtpd.conf and the keys they name
 * (dkim_conf.h).
 */
#include "dkim_conf.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/xalloc.h"
#include "msg/dkim_sign.h"

/* A domain or a selector: labels of letters, digits, '-' and '_' joined
 * by dots (what fits in a DNS name without quoting). */
static int dkim_name_ok(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > 253 || s[0] == '.' || s[len - 1] == '.' || strstr(s, ".."))
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_' && *s != '.')
			return 0;
	return 1;
}

static char *dkim_lower(const char *s)
{
	char *d = xstrdup(s);
	for (char *p = d; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return d;
}

int dkim_conf_directive(struct dkim_conf *d, char **w, size_t n, const char **msg)
{
	*msg = NULL;
	if (strcmp(w[0], "dkim_sign") == 0) {
		struct dkim_signer *s;
		if (n != 4) {
			*msg = "dkim_sign DOMAIN SELECTOR KEYFILE";
			return 1;
		}
		if (!dkim_name_ok(w[1]) || !dkim_name_ok(w[2])) {
			*msg = "dkim_sign: the domain and the selector are DNS names (letters, "
			       "digits, '-', '_', dots)";
			return 1;
		}
		if (w[3][0] != '/') {
			*msg = "dkim_sign: the key file is an absolute path";
			return 1;
		}
		for (size_t i = 0; i < d->n; i++)
			if (strcasecmp(d->s[i].domain, w[1]) == 0 &&
			    strcasecmp(d->s[i].selector, w[2]) == 0) {
				*msg = "dkim_sign: this domain and selector are already configured";
				return 1;
			}
		d->s = xreallocarray(d->s, d->n + 1, sizeof(*d->s));
		s = &d->s[d->n++];
		memset(s, 0, sizeof(*s));
		s->domain = dkim_lower(w[1]);
		s->selector = dkim_lower(w[2]);
		s->path = xstrdup(w[3]);
		return 1;
	}
	if (strcmp(w[0], "dkim_headers") == 0) {
		struct buf list = BUF_INIT(4096);
		if (n < 2) {
			*msg = "dkim_headers NAME[:NAME...] (From is always signed)";
			return 1;
		}
		/* Names as words or colon-separated (From is signed anyway). */
		for (size_t i = 1; i < n; i++) {
			for (const char *p = w[i]; *p; p++)
				if (*p != ':' && (*p <= ' ' || *p > '~')) {
					*msg = "dkim_headers: a field name is printable ASCII";
					buf_free(&list);
					return 1;
				}
			buf_printf(&list, "%s%s", i > 1 ? ":" : "", w[i]);
		}
		free(d->headers);
		d->headers = dkim_lower(buf_cstr(&list));
		buf_free(&list);
		return 1;
	}
	return 0;
}

int dkim_conf_load_keys(struct dkim_conf *d, struct cl_err *err)
{
	for (size_t i = 0; i < d->n; i++) {
		dkim_key_free(&d->s[i].key);
		if (dkim_key_load(&d->s[i].key, d->s[i].path, err) < 0)
			return -1;
	}
	return 0;
}

void dkim_conf_free(struct dkim_conf *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->s[i].domain);
		free(d->s[i].selector);
		free(d->s[i].path);
		dkim_key_free(&d->s[i].key);
	}
	free(d->s);
	free(d->headers);
	memset(d, 0, sizeof(*d));
}

void dkim_conf_print(const struct dkim_conf *d, struct buf *out)
{
	for (size_t i = 0; i < d->n; i++)
		buf_printf(out, "dkim_sign %s %s %s\n", d->s[i].domain, d->s[i].selector,
		           d->s[i].path);
	if (d->n == 0)
		buf_adds(out, "# dkim_sign: no domain is signed\n");
	buf_printf(out, "dkim_headers %s\n", d->headers ? d->headers : DKIM_DEFAULT_HEADERS);
}

int dkim_conf_signs(const struct dkim_conf *d, const char *domain)
{
	for (size_t i = 0; i < d->n; i++)
		if (strcmp(d->s[i].domain, domain) == 0)
			return 1;
	return 0;
}
