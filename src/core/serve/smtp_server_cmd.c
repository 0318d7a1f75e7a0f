/*
 * smtp_server_cmd.c - the server's command line parser (smtp_server_cmd.h).
 * Every path and parameter is checked before anything else sees it: what
 * leaves here contains no control character, space or '<>' outside quotes,
 * so it is safe in the spool envelope, in log lines and in file names.
 */
#include "serve/smtp_server_cmd.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/xtext.h"

static const struct {
	const char *name;
	enum smtp_verb v;
} smtp_cmd_verbs[] = {
    {"HELO", SMTP_V_HELO},         {"EHLO", SMTP_V_EHLO}, {"MAIL", SMTP_V_MAIL},
    {"RCPT", SMTP_V_RCPT},         {"DATA", SMTP_V_DATA}, {"BDAT", SMTP_V_BDAT},
    {"RSET", SMTP_V_RSET},         {"NOOP", SMTP_V_NOOP}, {"QUIT", SMTP_V_QUIT},
    {"VRFY", SMTP_V_VRFY},         {"EXPN", SMTP_V_EXPN}, {"HELP", SMTP_V_HELP},
    {"STARTTLS", SMTP_V_STARTTLS}, {"AUTH", SMTP_V_AUTH},
};

enum smtp_verb smtp_cmd_verb(const char *line, const char **args)
{
	size_t i, n = strcspn(line, " ");

	*args = line[n] == ' ' ? line + n + 1 : line + n;
	for (i = 0; i < sizeof(smtp_cmd_verbs) / sizeof(smtp_cmd_verbs[0]); i++)
		if (strlen(smtp_cmd_verbs[i].name) == n &&
		    strncasecmp(line, smtp_cmd_verbs[i].name, n) == 0)
			return smtp_cmd_verbs[i].v;
	return SMTP_V_UNKNOWN;
}

const char *smtp_cmd_verb_name(enum smtp_verb v)
{
	size_t i;

	for (i = 0; i < sizeof(smtp_cmd_verbs) / sizeof(smtp_cmd_verbs[0]); i++)
		if (smtp_cmd_verbs[i].v == v)
			return smtp_cmd_verbs[i].name;
	return "UNKNOWN";
}

static int smtp_cmd_fail(struct buf *reply, const char *text)
{
	buf_reset(reply);
	buf_adds(reply, text);
	return -1;
}

/* RFC 5322 atext, plus any 8-bit byte when utf8 (RFC 6531 3.3). */
static int smtp_cmd_atext(unsigned char c, int utf8)
{
	if (c >= 0x80)
		return utf8;
	return isalnum(c) || strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

static int smtp_cmd_domain_ok(const char *d, int utf8)
{
	size_t label = 0;
	const unsigned char *p;

	if (*d == '\0' || strlen(d) > 253)
		return 0;
	for (p = (const unsigned char *)d; *p != '\0'; p++) {
		if (*p == '.') {
			/* Empty labels, including a trailing dot. */
			if (label == 0 || p[-1] == '-')
				return 0;
			label = 0;
			continue;
		}
		if (!(isalnum(*p) || *p == '-' || (utf8 && *p >= 0x80)))
			return 0;
		if (label == 0 && *p == '-')
			return 0;
		if (++label > 63)
			return 0;
	}
	return label > 0 && p[-1] != '-';
}

int smtp_cmd_addr_check(const char *addr, int utf8, struct buf *reply)
{
	const unsigned char *p = (const unsigned char *)addr;
	const char *at;
	size_t n = 0;

	if (strlen(addr) > 254)
		return smtp_cmd_fail(reply, "501 5.1.3 Address too long");
	if (*p == '"') {
		for (p++; *p != '"'; p++) {
			if (*p < 0x20 || *p == 0x7f) /* NUL (the end) included */
				return smtp_cmd_fail(reply, "501 5.1.3 Bad quoted local part");
			if (*p >= 0x80 && !utf8)
				return smtp_cmd_fail(
				    reply, "553 5.6.7 Non-ASCII address without SMTPUTF8");
			if (*p == '\\' && (p[1] < 0x20 || p[1] == 0x7f))
				return smtp_cmd_fail(reply, "501 5.1.3 Bad quoted local part");
			if (*p == '\\')
				p++;
		}
		p++;
		n = 1;
	} else {
		for (; *p != '\0' && *p != '@'; p++, n++) {
			if (*p >= 0x80 && !utf8)
				return smtp_cmd_fail(
				    reply, "553 5.6.7 Non-ASCII address without SMTPUTF8");
			if (*p == '.' && (n == 0 || p[-1] == '.' || p[1] == '@'))
				return smtp_cmd_fail(reply, "501 5.1.3 Bad dots in local part");
			if (*p != '.' && !smtp_cmd_atext(*p, utf8))
				return smtp_cmd_fail(reply, "501 5.1.3 Bad character in address");
		}
	}
	if (*p != '@' || n == 0 || n > 64 + 2)
		return smtp_cmd_fail(reply, "501 5.1.3 Address must be local-part@domain");
	at = (const char *)p;
	if (at[1] == '[')
		return smtp_cmd_fail(reply, "553 5.1.3 Address literals are not accepted");
	if (!smtp_cmd_domain_ok(at + 1, utf8)) {
		const unsigned char *q;
		for (q = (const unsigned char *)at + 1; *q != '\0'; q++)
			if (*q >= 0x80 && !utf8)
				return smtp_cmd_fail(
				    reply, "553 5.6.7 Non-ASCII address without SMTPUTF8");
		return smtp_cmd_fail(reply, "501 5.1.3 Bad domain in address");
	}
	return 0;
}

int smtp_cmd_path(const char *args, const char *kw, int allow_empty, struct buf *addr,
                  const char **params, struct buf *reply)
{
	size_t kl = strlen(kw);
	const char *p, *end;
	int inq = 0;

	if (strncasecmp(args, kw, kl) != 0)
		return smtp_cmd_fail(reply, allow_empty ? "501 5.5.4 Syntax: MAIL FROM:<address>"
		                                        : "501 5.5.4 Syntax: RCPT TO:<address>");
	p = args + kl;
	/* RFC 5321 has no space here; many clients send one (Postfix allows it). */
	if (*p == ' ')
		p++;
	if (*p != '<')
		return smtp_cmd_fail(reply, "501 5.1.7 Address must be in <angle brackets>");
	p++;
	if (*p == '@')
		return smtp_cmd_fail(reply, "553 5.1.3 Source routes are not accepted");
	for (end = p; *end != '\0'; end++) {
		if (*end == '\\' && inq && end[1] != '\0') {
			end++;
			continue;
		}
		if (*end == '"')
			inq = !inq;
		else if (*end == '>' && !inq)
			break;
		else if (!inq && (*end == '<' || *end == ' '))
			return smtp_cmd_fail(reply, "501 5.1.3 Bad character in address");
	}
	if (*end != '>')
		return smtp_cmd_fail(reply, "501 5.1.7 Missing '>' after the address");
	buf_reset(addr);
	if (buf_add(addr, p, (size_t)(end - p)) < 0)
		return smtp_cmd_fail(reply, "501 5.1.3 Address too long");
	end++;
	if (*end != '\0' && *end != ' ')
		return smtp_cmd_fail(reply, "501 5.5.4 Garbage after the address");
	while (*end == ' ')
		end++;
	*params = end;
	if (addr->len == 0 && !allow_empty)
		return smtp_cmd_fail(reply, "501 5.1.3 Empty recipient address");
	return 0;
}

/* The next "KEY[=VALUE]" of *p (space-separated) into key and val. */
static int smtp_cmd_next_param(const char **p, char *key, size_t kmax, const char **val,
                               size_t *vlen)
{
	const char *s = *p, *e, *eq;
	size_t kl;

	while (*s == ' ')
		s++;
	if (*s == '\0')
		return 0;
	e = s + strcspn(s, " ");
	eq = memchr(s, '=', (size_t)(e - s));
	kl = (size_t)((eq ? eq : e) - s);
	if (kl == 0 || kl >= kmax)
		return -1;
	memcpy(key, s, kl);
	key[kl] = '\0';
	*val = eq ? eq + 1 : NULL;
	*vlen = eq ? (size_t)(e - eq - 1) : 0;
	*p = e;
	return 1;
}

int smtp_cmd_mail_params(const char *params, struct smtp_mail_params *mp, struct buf *reply)
{
	char key[32];
	const char *v;
	size_t vl;
	int r;

	memset(mp, 0, sizeof(*mp));
	mp->size = -1;
	while ((r = smtp_cmd_next_param(&params, key, sizeof(key), &v, &vl)) > 0) {
		if (strcasecmp(key, "SIZE") == 0 && v != NULL && vl > 0 && vl <= 18 &&
		    strspn(v, "0123456789") >= vl) {
			mp->size = strtoll(v, NULL, 10);
		} else if (strcasecmp(key, "BODY") == 0 && v != NULL &&
		           ((vl == 4 && strncasecmp(v, "7BIT", 4) == 0) ||
		            (vl == 8 && strncasecmp(v, "8BITMIME", 8) == 0))) {
			mp->body_8bit = vl == 8;
		} else if (strcasecmp(key, "SMTPUTF8") == 0 && v == NULL) {
			mp->smtputf8 = 1;
		} else if (strcasecmp(key, "RET") == 0 && v != NULL && vl == 4 &&
		           (strncasecmp(v, "FULL", 4) == 0 || strncasecmp(v, "HDRS", 4) == 0)) {
			memcpy(mp->ret, v, 4);
			mp->ret[4] = '\0';
		} else if (strcasecmp(key, "ENVID") == 0 && v != NULL && vl > 0 &&
		           vl <= SMTP_ENVID_MAX && xtext_valid(v, vl)) {
			memcpy(mp->envid, v, vl);
			mp->envid[vl] = '\0';
		} else if (strcasecmp(key, "AUTH") == 0 && v != NULL && vl > 0 &&
		           xtext_valid(v, vl)) {
			/* RFC 4954 5: accepted and ignored (we are not trusted to
			 * vouch for another server's identity). */
		} else {
			return smtp_cmd_fail(reply,
			                     "555 5.5.4 Unsupported or malformed MAIL parameter");
		}
	}
	if (r < 0)
		return smtp_cmd_fail(reply, "555 5.5.4 Malformed MAIL parameter");
	return 0;
}

static int smtp_cmd_notify_ok(const char *v, size_t n)
{
	char tmp[64], *tok, *save = NULL;
	int never = 0, other = 0;

	if (n == 0 || n >= sizeof(tmp))
		return 0;
	memcpy(tmp, v, n);
	tmp[n] = '\0';
	for (tok = strtok_r(tmp, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (strcasecmp(tok, "NEVER") == 0)
			never = 1;
		else if (strcasecmp(tok, "SUCCESS") == 0 || strcasecmp(tok, "FAILURE") == 0 ||
		         strcasecmp(tok, "DELAY") == 0)
			other = 1;
		else
			return 0;
	}
	return never != other;
}

int smtp_cmd_rcpt_params(const char *params, struct smtp_rcpt_params *rp, struct buf *reply)
{
	char key[32];
	const char *v;
	size_t vl;
	int r;

	memset(rp, 0, sizeof(*rp));
	while ((r = smtp_cmd_next_param(&params, key, sizeof(key), &v, &vl)) > 0) {
		if (strcasecmp(key, "NOTIFY") == 0 && v != NULL && smtp_cmd_notify_ok(v, vl)) {
			memcpy(rp->notify, v, vl);
			rp->notify[vl] = '\0';
		} else if (strcasecmp(key, "ORCPT") == 0 && v != NULL && vl > 0 &&
		           vl <= SMTP_ORCPT_MAX && memchr(v, ';', vl) != NULL &&
		           xtext_valid(v, vl)) {
			memcpy(rp->orcpt, v, vl);
			rp->orcpt[vl] = '\0';
		} else {
			return smtp_cmd_fail(reply,
			                     "555 5.5.4 Unsupported or malformed RCPT parameter");
		}
	}
	if (r < 0)
		return smtp_cmd_fail(reply, "555 5.5.4 Malformed RCPT parameter");
	return 0;
}

int smtp_cmd_bdat(const char *args, unsigned long long *size, int *last, struct buf *reply)
{
	size_t n = strspn(args, "0123456789");

	if (n == 0 || n > 15)
		return smtp_cmd_fail(reply, "501 5.5.4 Syntax: BDAT size [LAST]");
	*size = strtoull(args, NULL, 10);
	*last = 0;
	args += n;
	if (*args == '\0')
		return 0;
	if (strcasecmp(args, " LAST") == 0) {
		*last = 1;
		return 0;
	}
	return smtp_cmd_fail(reply, "501 5.5.4 Syntax: BDAT size [LAST]");
}
