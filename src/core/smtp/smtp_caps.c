/*
 * smtp_caps.c - read the capabilities out of an EHLO reply (RFC 5321
 * 4.1.1.1): keywords are case-insensitive, the first line is the server's
 * name. AUTH mechanisms are the union of the "AUTH" and non-standard "AUTH="
 * lines (goo and docomo send both), checked against RFC 4422's name syntax.
 */
#include "smtp/smtp_caps.h"

#include <limits.h>
#include <string.h>
#include <strings.h>

/* RFC 4422 3.1: a mechanism name is 1-20 of [A-Z0-9-_]. */
#define SMTP_CAPS_MECH_MAX 20

static const struct {
	const char *name;
	unsigned flag;
} smtp_caps_keywords[] = {
    {"PIPELINING", CAP_PIPELINING},
    {"STARTTLS", CAP_STARTTLS},
    {"8BITMIME", CAP_8BITMIME},
    {"SMTPUTF8", CAP_SMTPUTF8},
    {"CHUNKING", CAP_CHUNKING},
    {"ENHANCEDSTATUSCODES", CAP_ENHANCEDSTATUSCODES},
    {"DSN", CAP_DSN},
    {"BINARYMIME", CAP_BINARYMIME},
    {"REQUIRETLS", CAP_REQUIRETLS},
};

static int smtp_caps_is_space(char c)
{
	return c == ' ' || c == '\t';
}

static int smtp_caps_kw_is(const char *kw, size_t n, const char *name)
{
	return strlen(name) == n && strncasecmp(kw, name, n) == 0;
}

static int smtp_caps_mech_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

/* Is the upper-case mechanism m (n bytes) already in the list? */
static int smtp_caps_auth_listed(const struct smtp_caps *caps, const char *m, size_t n)
{
	const char *p = caps->auth;

	while (*p) {
		size_t len = strcspn(p, " ");
		if (len == n && memcmp(p, m, n) == 0)
			return 1;
		p += len;
		if (*p == ' ')
			p++;
	}
	return 0;
}

static void smtp_caps_add_mech(struct smtp_caps *caps, const char *m, size_t n)
{
	char up[SMTP_CAPS_MECH_MAX];
	size_t i, used = strlen(caps->auth), sep = used > 0;

	if (n == 0 || n > SMTP_CAPS_MECH_MAX)
		return;
	for (i = 0; i < n; i++) {
		if (!smtp_caps_mech_char(m[i]))
			return; /* never pass a strange name on to an AUTH command */
		up[i] = (m[i] >= 'a' && m[i] <= 'z') ? (char)(m[i] - 'a' + 'A') : m[i];
	}
	if (smtp_caps_auth_listed(caps, up, n))
		return;
	/* A server offering more than fits is ignored beyond what fits. */
	if (used + sep + n + 1 > sizeof(caps->auth))
		return;
	if (sep)
		caps->auth[used++] = ' ';
	memcpy(caps->auth + used, up, n);
	caps->auth[used + n] = '\0';
}

static void smtp_caps_parse_auth(struct smtp_caps *caps, const char *p, size_t n)
{
	size_t i = 0;

	caps->flags |= CAP_AUTH;
	while (i < n) {
		size_t start;

		while (i < n && smtp_caps_is_space(p[i]))
			i++;
		start = i;
		while (i < n && !smtp_caps_is_space(p[i]))
			i++;
		smtp_caps_add_mech(caps, p + start, i - start);
	}
}

/* RFC 1870: "SIZE" [SP number]; a malformed number counts as no limit. */
static void smtp_caps_parse_size(struct smtp_caps *caps, const char *p, size_t n)
{
	unsigned long long v = 0;
	size_t i = 0;

	caps->flags |= CAP_SIZE;
	caps->size_max = 0;
	while (i < n && smtp_caps_is_space(p[i]))
		i++;
	if (i == n || p[i] < '0' || p[i] > '9')
		return;
	for (; i < n && p[i] >= '0' && p[i] <= '9'; i++) {
		unsigned d = (unsigned)(p[i] - '0');
		if (v > (ULLONG_MAX - d) / 10)
			return;
		v = v * 10 + d;
	}
	if (i < n && !smtp_caps_is_space(p[i]))
		return;
	caps->size_max = v;
}

static void smtp_caps_parse_line(struct smtp_caps *caps, const char *line, size_t n)
{
	size_t k = 0, i;

	while (k < n && !smtp_caps_is_space(line[k]) && line[k] != '=')
		k++;
	if (k == 0)
		return;
	/* "AUTH=LOGIN PLAIN": the pre-RFC 2554 form old Outlook wanted. */
	if (smtp_caps_kw_is(line, k, "AUTH")) {
		smtp_caps_parse_auth(caps, line + k + (k < n), n - k - (k < n));
		return;
	}
	if (k < n && line[k] == '=')
		return;
	if (smtp_caps_kw_is(line, k, "SIZE")) {
		smtp_caps_parse_size(caps, line + k, n - k);
		return;
	}
	for (i = 0; i < sizeof(smtp_caps_keywords) / sizeof(smtp_caps_keywords[0]); i++)
		if (smtp_caps_kw_is(line, k, smtp_caps_keywords[i].name))
			caps->flags |= smtp_caps_keywords[i].flag;
}

static void smtp_caps_set_name(struct smtp_caps *caps, const char *line, size_t n)
{
	size_t i;

	for (i = 0; i < n && i + 1 < sizeof(caps->server_name); i++) {
		unsigned char c = (unsigned char)line[i];
		if (c == ' ' || c == '\t')
			break;
		caps->server_name[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	caps->server_name[i] = '\0';
}

void smtp_caps_parse(struct smtp_caps *caps, const struct smtp_reply *ehlo)
{
	const char *t, *end;
	int first = 1;

	memset(caps, 0, sizeof(*caps));
	if (!ehlo->complete || ehlo->code != 250)
		return;
	t = buf_cstr(&ehlo->text);
	end = t + ehlo->text.len;
	for (;;) {
		const char *nl = memchr(t, '\n', (size_t)(end - t));
		size_t n = nl ? (size_t)(nl - t) : (size_t)(end - t);

		if (first)
			smtp_caps_set_name(caps, t, n);
		else
			smtp_caps_parse_line(caps, t, n);
		first = 0;
		if (nl == NULL)
			break;
		t = nl + 1;
	}
}

int smtp_caps_has_auth(const struct smtp_caps *caps, const char *mech)
{
	const char *p = caps->auth;
	size_t n;

	if (mech == NULL || *mech == '\0')
		return 0;
	n = strlen(mech);
	while (*p) {
		size_t len = strcspn(p, " ");
		if (len == n && strncasecmp(p, mech, n) == 0)
			return 1;
		p += len;
		if (*p == ' ')
			p++;
	}
	return 0;
}
