/*
 * addr.c - check what goes on the wire: header text without line breaks,
 * envelope addresses close to RFC 5321 4.1.2 Mailbox (UTF-8 allowed, RFC
 * 6531; whether the server takes it is decided elsewhere), the -N display
 * argument and comma-separated address lists. Nothing here may let a value
 * break out of "<...>" or out of its header line.
 */
#include "smtp/addr.h"

#include <string.h>
#include <strings.h>

/* An address shown in an error message is cut after this many bytes. */
#define ADDR_SHOW_MAX 80
#define ADDR_STR2(x)  #x
#define ADDR_STR(x)   ADDR_STR2(x)

int text_check_line(const char *s, const char *what, struct cl_err *err)
{
	size_t i;

	if (s == NULL)
		return 0;
	for (i = 0; s[i]; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\r')
			return err_set(err, CL_EDATA, "%s: carriage return (CR) at byte %zu", what,
			               i + 1);
		if (c == '\n')
			return err_set(err, CL_EDATA, "%s: line feed (LF) at byte %zu", what,
			               i + 1);
		if (c < 0x20 && c != '\t')
			return err_set(err, CL_EDATA, "%s: control character 0x%02x at byte %zu",
			               what, c, i + 1);
	}
	return 0;
}

int addr_is_8bit(const char *addr)
{
	for (; addr && *addr; addr++)
		if ((unsigned char)*addr >= 0x80)
			return 1;
	return 0;
}

/* Length of a valid UTF-8 sequence at s (shortest form, no surrogates, at
 * most U+10FFFF), 0 if invalid. */
static size_t addr_utf8_len(const unsigned char *s)
{
	size_t n, i;
	unsigned long cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0; /* also stops at the NUL */
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* How many bytes of a to show: at most ADDR_SHOW_MAX, not cutting UTF-8. */
static int addr_show_len(const char *a)
{
	size_t n = strlen(a);

	if (n <= ADDR_SHOW_MAX)
		return (int)n;
	n = ADDR_SHOW_MAX;
	while (n > 0 && ((unsigned char)a[n] & 0xc0) == 0x80)
		n--;
	return (int)n;
}

static int addr_fail(struct cl_err *err, const char *what, const char *addr, const char *why)
{
	int n = addr_show_len(addr);

	return err_set(err, CL_EDATA, "%s '%.*s%s': %s", what, n, addr,
	               (size_t)n < strlen(addr) ? "..." : "", why);
}

/* RFC 5321 atext (and UTF-8, RFC 6531) plus '.': docomo and au handed out
 * addresses like "taro..yamada.@docomo.ne.jp" before 2009; they are still in
 * use and servers take them, so dots are not checked. */
static int addr_local_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c >= 0x80 || strchr("!#$%&'*+-/=?^_`{|}~.", c) != NULL;
}

static const char *addr_special_name(unsigned char c)
{
	switch (c) {
	case ' ':
		return "space outside quotes";
	case '<':
		return "'<' outside quotes";
	case '>':
		return "'>' outside quotes";
	case '"':
		return "misplaced '\"' (quotes must enclose the whole local part)";
	case '\\':
		return "backslash outside quotes";
	default:
		return NULL;
	}
}

static int addr_check_domain(const char *d, const char *addr, const char *what, struct cl_err *err)
{
	size_t i, label = 0;

	if (*d == '\0')
		return addr_fail(err, what, addr, "empty domain");
	/* RFC 5321 4.1.3 address literal: "[192.0.2.1]", "[IPv6:2001:db8::1]". */
	if (*d == '[') {
		for (i = 1; d[i] && d[i] != ']'; i++) {
			unsigned char c = (unsigned char)d[i];
			if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			      (c >= '0' && c <= '9') || c == '.' || c == ':'))
				return addr_fail(err, what, addr, "bad address literal");
		}
		if (d[i] != ']' || d[i + 1] != '\0' || i == 1)
			return addr_fail(err, what, addr, "bad address literal");
		return 0;
	}
	for (i = 0; d[i]; i++) {
		unsigned char c = (unsigned char)d[i];
		if (c == '.') {
			if (label == 0)
				return addr_fail(err, what, addr, "empty label in the domain");
			label = 0;
		} else if (c == '@') {
			return addr_fail(err, what, addr, "more than one '@' outside quotes");
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		           (c >= '0' && c <= '9') || c == '-' || c >= 0x80) {
			label++; /* UTF-8 was validated by the caller: IDN U-labels */
		} else {
			const char *why = addr_special_name(c);
			return addr_fail(err, what, addr,
			                 why ? why : "character not allowed in a domain");
		}
	}
	if (label == 0)
		return addr_fail(err, what, addr, "empty label in the domain");
	return 0;
}

int addr_check(const char *addr, const char *what, int allow_empty, struct cl_err *err)
{
	size_t i, len, n;

	if (addr == NULL)
		addr = "";
	len = strlen(addr);
	if (len == 0) {
		if (allow_empty)
			return 0;
		return err_set(err, CL_EDATA, "%s: empty address", what);
	}
	if (len > ADDR_MAX)
		return addr_fail(err, what, addr,
		                 "too long (more than " ADDR_STR(ADDR_MAX) " bytes)");
	for (i = 0; i < len; i += n) {
		unsigned char c = (unsigned char)addr[i];
		if (c == '\r')
			return addr_fail(err, what, addr, "carriage return (CR) in the address");
		if (c == '\n')
			return addr_fail(err, what, addr, "line feed (LF) in the address");
		if (c < 0x20 || c == 0x7f)
			return addr_fail(err, what, addr, "control character in the address");
		n = addr_utf8_len((const unsigned char *)addr + i);
		if (n == 0)
			return addr_fail(err, what, addr, "not valid UTF-8");
	}
	if (addr[0] == '@')
		return addr_fail(err, what, addr,
		                 strchr(addr, ':') ? "source route not allowed"
		                                   : "leading '@' (empty local part)");
	/* Local part: a quoted string as a whole, or a dot-string. */
	if (addr[0] == '"') {
		for (i = 1; addr[i] && addr[i] != '"'; i++)
			if (addr[i] == '\\' && addr[++i] == '\0')
				break;
		if (addr[i] != '"')
			return addr_fail(err, what, addr, "unterminated quoted string");
		if (i == 1)
			return addr_fail(err, what, addr, "empty local part");
		i++;
		if (addr[i] != '@')
			return addr_fail(err, what, addr,
			                 addr[i] ? "text after the quoted local part"
			                         : "no '@' and domain");
	} else {
		for (i = 0; addr[i] && addr[i] != '@'; i++) {
			unsigned char c = (unsigned char)addr[i];
			if (!addr_local_char(c)) {
				const char *why = addr_special_name(c);
				return addr_fail(err, what, addr,
				                 why ? why
				                     : "character not allowed outside quotes");
			}
		}
		if (addr[i] == '\0') {
			/* RFC 5321 4.1.1.3: "<Postmaster>" without a domain. */
			if (strcasecmp(addr, "postmaster") == 0)
				return 0;
			return addr_fail(err, what, addr, "no '@' and domain");
		}
	}
	return addr_check_domain(addr + i + 1, addr, what, err);
}

static int addr_is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Append s[0..n) trimmed of blanks to b. */
static int addr_add_trimmed(struct buf *b, const char *s, size_t n)
{
	while (n > 0 && addr_is_blank(*s))
		s++, n--;
	while (n > 0 && addr_is_blank(s[n - 1]))
		n--;
	return buf_add(b, s, n);
}

/* Append a display name (an RFC 5322 phrase), trimmed, with the quotes of
 * its quoted strings and the backslashes of quoted pairs removed. The caller
 * has checked that every quote is closed. */
static int addr_add_name(struct buf *b, const char *s, size_t n, struct cl_err *err)
{
	size_t i;
	int quoted = 0;

	while (n > 0 && addr_is_blank(*s))
		s++, n--;
	while (n > 0 && addr_is_blank(s[n - 1]))
		n--;
	for (i = 0; i < n; i++) {
		if (s[i] == '"') {
			quoted = !quoted;
			continue;
		}
		if (quoted && s[i] == '\\' && i + 1 < n)
			i++;
		if (buf_addc(b, s[i]) < 0)
			return err_set(err, CL_EDATA, "display name too long");
	}
	return 0;
}

int addr_parse_display(const char *in, struct buf *name, struct buf *addr, struct cl_err *err)
{
	size_t i, n, lt = 0, gt = 0;
	int quoted = 0, have_lt = 0, have_gt = 0;

	buf_reset(name);
	buf_reset(addr);
	if (in == NULL)
		return 0;
	if (text_check_line(in, "display name", err) < 0)
		return -1;
	n = strlen(in);
	for (i = 0; i < n; i++) {
		if (quoted) {
			if (in[i] == '\\' && i + 1 < n)
				i++;
			else if (in[i] == '"')
				quoted = 0;
		} else if (have_gt) {
			if (!addr_is_blank(in[i]))
				return err_set(err, CL_EDATA, "display name: text after '>'");
		} else if (in[i] == '"') {
			quoted = 1;
		} else if (in[i] == '<') {
			if (have_lt)
				return err_set(err, CL_EDATA, "display name: more than one '<'");
			have_lt = 1;
			lt = i;
		} else if (in[i] == '>') {
			if (!have_lt)
				return err_set(err, CL_EDATA, "display name: '>' without '<'");
			have_gt = 1;
			gt = i;
		}
	}
	if (quoted)
		return err_set(err, CL_EDATA, "display name: unterminated quoted string");
	if (have_lt && !have_gt)
		return err_set(err, CL_EDATA, "display name: '<' without '>'");
	if (have_lt) {
		if (addr_add_trimmed(addr, in + lt + 1, gt - lt - 1) < 0)
			return err_set(err, CL_EDATA, "display name: address too long");
		if (addr->len == 0)
			return err_set(err, CL_EDATA, "display name: empty address in '<>'");
		return addr_add_name(name, in, lt, err);
	}
	/* No <>: one quoted string or a word without '@' is a name, anything
	 * else an address (checked by the caller with addr_check). */
	while (n > 0 && addr_is_blank(*in))
		in++, n--;
	while (n > 0 && addr_is_blank(in[n - 1]))
		n--;
	if ((n > 1 && in[0] == '"' && in[n - 1] == '"') || memchr(in, '@', n) == NULL)
		return addr_add_name(name, in, n, err);
	if (buf_add(addr, in, n) < 0)
		return err_set(err, CL_EDATA, "display name: address too long");
	return 0;
}

int addr_split_list(const char *in, int (*cb)(void *arg, const char *addr), void *arg)
{
	struct buf one = BUF_INIT(0);
	size_t i, start = 0, n;
	int quoted = 0, angle = 0, r = 0;

	if (in == NULL)
		return 0;
	n = strlen(in);
	one.max = n;
	for (i = 0; i <= n && r == 0; i++) {
		if (i < n) {
			if (quoted) {
				if (in[i] == '\\' && i + 1 < n)
					i++;
				else if (in[i] == '"')
					quoted = 0;
				continue;
			}
			if (in[i] == '"')
				quoted = 1;
			else if (in[i] == '<')
				angle = 1;
			else if (in[i] == '>')
				angle = 0;
			if (in[i] != ',' || angle)
				continue;
		}
		buf_reset(&one);
		if (addr_add_trimmed(&one, in + start, i - start) < 0 ||
		    (one.len > 0 && cb(arg, buf_cstr(&one)) != 0))
			r = -1;
		start = i + 1;
	}
	buf_free(&one);
	return r;
}
