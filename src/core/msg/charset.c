/*
 * charset.c - conversions between UTF-8 and the wire charset (see charset.h)
 * through glibc's iconv. Errors are found where iconv stops (EILSEQ) or where
 * it reports an irreversible conversion, and name the character; stateful
 * encodings are flushed back to their initial (ASCII) state at each end.
 */
#include "msg/charset.h"

#include <errno.h>
#include <langinfo.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/utf8.h"

/* Output is produced through a stack buffer of this size per iconv call. */
#define CHARSET_CHUNK 4096

static int charset_name_ok(const char *n)
{
	size_t i;

	if (n[0] == '\0' || strlen(n) >= CHARSET_NAME_MAX)
		return 0;
	/* RFC 2978 names: no '/', so no iconv "//TRANSLIT" or "//IGNORE". */
	for (i = 0; n[i]; i++)
		if (!((n[i] >= 'a' && n[i] <= 'z') || (n[i] >= 'A' && n[i] <= 'Z') ||
		      (n[i] >= '0' && n[i] <= '9') || strchr("-_.:+", n[i]) != NULL))
			return 0;
	return 1;
}

/* Convert in (whole characters) with cd from its initial state, appending
 * to out and flushing to the initial state. Returns 0, or -1 with *bad the
 * offset of a character that could not be converted exactly (or len when
 * out is full). */
static int charset_iconv(iconv_t cd, const char *in, size_t len, struct buf *out, size_t *bad)
{
	char tmp[CHARSET_CHUNK], *ip = (char *)in, *op;
	size_t il = len, ol, r, start = out->len;
	int done = 0;

	iconv(cd, NULL, NULL, NULL, NULL);
	while (!done) {
		op = tmp;
		ol = sizeof(tmp);
		if (il > 0)
			r = iconv(cd, &ip, &il, &op, &ol);
		else {
			r = iconv(cd, NULL, NULL, &op, &ol);
			done = r != (size_t)-1;
		}
		if (r == (size_t)-1 && errno != E2BIG) {
			*bad = (size_t)(ip - in);
			goto fail;
		}
		if (r != (size_t)-1 && r > 0) {
			/* Irreversible: some character was replaced. Which one is
			 * not said; the caller finds it character by character. */
			*bad = (size_t)-1;
			goto fail;
		}
		if (buf_add(out, tmp, (size_t)(op - tmp)) < 0) {
			*bad = len;
			goto fail;
		}
	}
	iconv(cd, NULL, NULL, NULL, NULL);
	return 0;
fail:
	iconv(cd, NULL, NULL, NULL, NULL);
	buf_truncate(out, start);
	return -1;
}

/* The first character of in that cd cannot convert alone, exactly. */
static size_t charset_find_bad(iconv_t cd, const char *in, size_t len)
{
	struct buf scratch = BUF_INIT(64);
	size_t i = 0, k, bad;

	while (i < len) {
		k = utf8_seq_len((const unsigned char *)in + i, len - i);
		if (k == 0)
			break;
		buf_reset(&scratch);
		if (charset_iconv(cd, in + i, k, &scratch, &bad) < 0)
			break;
		i += k;
	}
	buf_free(&scratch);
	return i;
}

static unsigned long charset_code_point(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t k = utf8_seq_len(u, n), i;
	unsigned long cp;

	if (k == 0)
		return 0xfffd;
	cp = k == 1 ? u[0] : k == 2 ? (u[0] & 0x1fu) : k == 3 ? (u[0] & 0x0fu) : (u[0] & 0x07u);
	for (i = 1; i < k; i++)
		cp = cp << 6 | (u[i] & 0x3fu);
	return cp;
}

static int charset_error(const struct charset *cs, const char *in, size_t len, size_t bad,
                         const char *what, struct cl_err *err)
{
	size_t i, chars = 1, line = 1, k;

	if (bad >= len)
		return err_set(err, CL_EDATA, "%s: too large once converted to %s", what, cs->name);
	for (i = 0; i < bad; i++) {
		chars += ((unsigned char)in[i] & 0xc0) != 0x80;
		line += in[i] == '\n';
	}
	k = utf8_seq_len((const unsigned char *)in + bad, len - bad);
	return err_set(err, CL_EDATA,
	               "%s: character U+%04lX '%.*s' (line %zu, character %zu) cannot be written "
	               "in %s; choose another charset with -c (utf-8 holds every character)",
	               what, charset_code_point(in + bad, len - bad), (int)(k ? k : 1), in + bad,
	               line, chars, cs->name);
}

int charset_from_utf8(struct charset *cs, const char *in, size_t len, struct buf *out,
                      const char *what, struct cl_err *err)
{
	size_t bad = 0;

	if (cs->is_utf8) {
		if (!utf8_valid(in, len, &bad))
			return err_set(err, CL_EDATA, "%s is not valid UTF-8 (at byte %zu)", what,
			               bad + 1);
		if (buf_add(out, in, len) < 0)
			return charset_error(cs, in, len, len, what, err);
		return 0;
	}
	if (charset_iconv(cs->cd, in, len, out, &bad) == 0)
		return 0;
	if (bad == (size_t)-1)
		bad = charset_find_bad(cs->cd, in, len);
	return charset_error(cs, in, len, bad, what, err);
}

int charset_text_from_utf8(struct charset *cs, const char *in, size_t len, struct buf *out,
                           const char *what, struct cl_err *err)
{
	size_t i = 0, j, eol, next, start = out->len;
	const char *nl;

	if (!cs->stateful)
		return charset_from_utf8(cs, in, len, out, what, err);
	while (i < len) {
		nl = memchr(in + i, '\n', len - i);
		j = nl ? (size_t)(nl - in) : len;
		next = nl ? j + 1 : len;
		/* The line's text without its CRLF (the input is canonical). */
		eol = nl && j > i && in[j - 1] == '\r' ? j - 1 : j;
		if (charset_from_utf8(cs, in + i, eol - i, out, what, err) < 0) {
			buf_truncate(out, start);
			/* Report the position in the whole text, not in the line. */
			return charset_error(
			    cs, in, len, i + charset_find_bad(cs->cd, in + i, eol - i), what, err);
		}
		if (buf_add(out, in + eol, next - eol) < 0) {
			buf_truncate(out, start);
			return charset_error(cs, in, len, len, what, err);
		}
		i = next;
	}
	return 0;
}

int charset_open(struct charset *cs, const char *name, struct cl_err *err)
{
	static const char probe[] = "Az09 .=-?_\t\r\n";
	struct buf b = BUF_INIT(256);
	size_t i, bad;
	int ok;

	memset(cs, 0, sizeof(*cs));
	cs->cd = (iconv_t)-1;
	if (name == NULL || *name == '\0' || strcasecmp(name, "utf-8") == 0 ||
	    strcasecmp(name, "utf8") == 0) {
		snprintf(cs->name, sizeof(cs->name), "UTF-8");
		cs->is_utf8 = 1;
		return 0;
	}
	if (!charset_name_ok(name))
		return err_set(err, CL_EUSAGE, "-c '%s' is not a charset name", name);
	for (i = 0; name[i]; i++)
		cs->name[i] = (name[i] >= 'a' && name[i] <= 'z') ? (char)(name[i] - 32) : name[i];
	cs->stateful = strncmp(cs->name, "ISO-2022-", 9) == 0;
	cs->cd = iconv_open(cs->name, "UTF-8");
	if (cs->cd == (iconv_t)-1)
		return err_set(err, CL_EUSAGE,
		               "-c %s: this system's iconv does not know that charset", name);
	ok = charset_iconv(cs->cd, probe, sizeof(probe) - 1, &b, &bad) == 0 &&
	     b.len == sizeof(probe) - 1 && memcmp(b.data, probe, b.len) == 0;
	buf_free(&b);
	if (!ok) {
		charset_close(cs);
		return err_set(err, CL_EUSAGE,
		               "-c %s: not usable for mail text (ASCII and line ends must stay "
		               "themselves, RFC 2046 4.1.2)",
		               name);
	}
	return 0;
}

void charset_close(struct charset *cs)
{
	if (cs->cd != (iconv_t)-1)
		iconv_close(cs->cd);
	cs->cd = (iconv_t)-1;
}

void charset_locale(char *out, size_t n)
{
	char saved[256];
	const char *cur = setlocale(LC_CTYPE, NULL), *cs = "UTF-8";

	snprintf(saved, sizeof(saved), "%s", cur ? cur : "C");
	if (setlocale(LC_CTYPE, "") != NULL) {
		cs = nl_langinfo(CODESET);
		if (cs == NULL || strcmp(cs, "ANSI_X3.4-1968") == 0 || strcasecmp(cs, "utf8") == 0)
			cs = "UTF-8";
	}
	snprintf(out, n, "%s", cs);
	setlocale(LC_CTYPE, saved);
}

int charset_to_utf8(const char *from, const char *in, size_t len, struct buf *out, const char *what,
                    struct cl_err *err)
{
	iconv_t cd;
	size_t bad = 0;
	int r;

	if (strcasecmp(from, "UTF-8") == 0) {
		if (!utf8_valid(in, len, &bad))
			return err_set(err, CL_EDATA, "%s is not valid UTF-8 (at byte %zu)", what,
			               bad + 1);
		return buf_add(out, in, len) < 0 ? err_set(err, CL_EDATA, "%s is too large", what)
		                                 : 0;
	}
	cd = iconv_open("UTF-8", from);
	if (cd == (iconv_t)-1)
		return err_set(err, CL_EDATA, "%s: cannot convert from the locale's charset %s",
		               what, from);
	r = charset_iconv(cd, in, len, out, &bad);
	iconv_close(cd);
	if (r < 0)
		return err_set(err, CL_EDATA,
		               "%s is not valid %s text (the locale's charset) at byte %zu", what,
		               from, bad == (size_t)-1 ? (size_t)1 : bad + 1);
	return 0;
}
