/*
 * queue_file.c - the queue's names ("ID.q0.A.T") and the header of a queue
 * file ("key: value" lines, an empty line, then the message), as
 * docs/queue.md defines them. Pure functions over bytes: no file is touched
 * here, so unit tests (and fuzzers) drive them directly.
 */
#include "queue.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

/* ---- names ------------------------------------------------------------ */

int queue_file_id_valid(const char *s)
{
	size_t i;

	for (i = 0; i < QUEUE_ID_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[QUEUE_ID_LEN] == '\0' || s[QUEUE_ID_LEN] == '.';
}

/* A decimal number of at most 19 digits, no sign, no leading junk. */
static int queue_file_number(const char *s, const char **end, long long *out)
{
	long long v = 0;
	size_t n = 0;

	while (s[n] >= '0' && s[n] <= '9') {
		if (n == 18)
			return -1;
		v = v * 10 + (s[n] - '0');
		n++;
	}
	if (n == 0)
		return -1;
	*out = v;
	*end = s + n;
	return 0;
}

int queue_file_name_parse(const char *s, struct queue_name *n)
{
	const char *p;
	long long a, t;

	if (strlen(s) >= QUEUE_NAME_MAX || !queue_file_id_valid(s) || s[QUEUE_ID_LEN] != '.')
		return -1;
	p = s + QUEUE_ID_LEN + 1;
	if ((p[0] != 'q' && p[0] != 's') || (p[1] != '0' && p[1] != '1') || p[2] != '.')
		return -1;
	if (queue_file_number(p + 3, &p, &a) < 0 || a > 1000000 || *p != '.' ||
	    queue_file_number(p + 1, &p, &t) < 0 || *p != '\0')
		return -1;
	memcpy(n->id, s, QUEUE_ID_LEN);
	n->id[QUEUE_ID_LEN] = '\0';
	n->sending = s[QUEUE_ID_LEN + 1] == 's';
	n->uncertain = s[QUEUE_ID_LEN + 2] == '1';
	n->attempts = (unsigned)a;
	n->next = t;
	return 0;
}

int queue_file_name_format(const struct queue_name *n, struct buf *out)
{
	buf_reset(out);
	return buf_printf(out, "%s.%c%c.%u.%lld", n->id, n->sending ? 's' : 'q',
	                  n->uncertain ? '1' : '0', n->attempts, n->next < 0 ? 0 : n->next);
}

long long queue_file_backoff(unsigned attempts)
{
	long long d = QUEUE_BACKOFF_BASE_S;
	unsigned i;

	for (i = 1; i < attempts && d < QUEUE_BACKOFF_MAX_S; i++)
		d *= 2;
	return d < QUEUE_BACKOFF_MAX_S ? d : QUEUE_BACKOFF_MAX_S;
}

/* ---- the header --------------------------------------------------------- */

void queue_file_header_init(struct queue_header *h)
{
	memset(h, 0, sizeof(*h));
	h->tls_mode = SMTP_TLS_AUTO;
	h->certcheck = 1;
	h->family = AF_UNSPEC;
	h->size = -1;
}

void queue_file_header_free(struct queue_header *h)
{
	free(h->store_);
	free(h->rcpts_store_);
	queue_file_header_init(h);
}

static const char *const queue_file_tls_names[] = {
    [SMTP_TLS_AUTO] = "auto",
    [SMTP_TLS_STARTTLS] = "starttls",
    [SMTP_TLS_SMTPS] = "smtps",
    [SMTP_TLS_NONE] = "none",
};

static int queue_file_put(struct buf *out, const char *key, const char *v, struct cl_err *err)
{
	if (v == NULL)
		return 0;
	if (strpbrk(v, "\r\n"))
		return err_set(err, CL_EDATA, "cannot queue: the %s holds a line break", key);
	if (buf_printf(out, v[0] ? "%s: %s\n" : "%s:%s\n", key, v) < 0)
		return err_set(err, CL_EDATA, "cannot queue: the header is larger than %d bytes",
		               QUEUE_HEADER_MAX);
	return 0;
}

static int queue_file_put_num(struct buf *out, const char *key, long long v, struct cl_err *err)
{
	char s[32];

	snprintf(s, sizeof(s), "%lld", v);
	return queue_file_put(out, key, s, err);
}

int queue_file_header_format(const struct queue_header *h, struct buf *out, size_t *size_at,
                             struct cl_err *err)
{
	const char *fam = h->family == AF_INET ? "4" : h->family == AF_INET6 ? "6" : "any";
	size_t i;

	if (h->host == NULL || h->port == NULL || h->from == NULL || h->nrcpt == 0)
		return err_set(err, CL_ESOFTWARE, "queue: header without host, port or envelope");
	if (queue_file_put_num(out, "clsmtpc-queue", QUEUE_FORMAT_VERSION, err) < 0 ||
	    queue_file_put(out, "id", h->id, err) < 0 ||
	    queue_file_put_num(out, "created", h->created, err) < 0 ||
	    queue_file_put(out, "account", h->account, err) < 0 ||
	    queue_file_put(out, "config", h->config, err) < 0 ||
	    queue_file_put(out, "host", h->host, err) < 0 ||
	    queue_file_put(out, "port", h->port, err) < 0 ||
	    queue_file_put(out, "tls", queue_file_tls_names[h->tls_mode], err) < 0 ||
	    queue_file_put(out, "auth", h->auth, err) < 0 ||
	    queue_file_put(out, "user", h->user, err) < 0 ||
	    queue_file_put(out, "passfile", h->passfile, err) < 0 ||
	    queue_file_put(out, "passwordeval", h->passwordeval, err) < 0 ||
	    queue_file_put(out, "password-env", h->password_env, err) < 0 ||
	    queue_file_put(out, "keyring", h->keyring ? "on" : NULL, err) < 0 ||
	    queue_file_put(out, "tls-trust-file", h->trust_file, err) < 0 ||
	    queue_file_put(out, "tls-fingerprint", h->fingerprint, err) < 0 ||
	    queue_file_put(out, "tls-certcheck", h->certcheck ? "on" : "off", err) < 0 ||
	    queue_file_put(out, "family", fam, err) < 0 ||
	    queue_file_put(out, "domain", h->domain, err) < 0 ||
	    (h->timeout_s && queue_file_put_num(out, "timeout", h->timeout_s, err) < 0) ||
	    queue_file_put(out, "from", h->from, err) < 0)
		return -1;
	for (i = 0; i < h->nrcpt; i++)
		if (queue_file_put(out, "to", h->rcpts[i], err) < 0)
			return -1;
	if (queue_file_put_num(out, "body-8bit", h->body_8bit != 0, err) < 0 ||
	    queue_file_put_num(out, "smtputf8", h->smtputf8 != 0, err) < 0 ||
	    queue_file_put(out, "message-id", h->message_id, err) < 0)
		return -1;
	if (h->size >= 0) {
		if (queue_file_put_num(out, "size", h->size, err) < 0)
			return -1;
	} else {
		if (buf_adds(out, "size: ") < 0)
			return err_set(err, CL_EDATA, "cannot queue: header too large");
		if (size_at)
			*size_at = out->len;
		if (buf_adds(out, "                    \n") < 0)
			return err_set(err, CL_EDATA, "cannot queue: header too large");
	}
	if (buf_addc(out, '\n') < 0)
		return err_set(err, CL_EDATA, "cannot queue: header too large");
	return 0;
}

void queue_file_size_field(long long size, char out[21])
{
	snprintf(out, 21, "%20lld", size);
}

/* Where a parsed key's value goes. */
enum queue_file_key {
	K_VERSION,
	K_ID,
	K_CREATED,
	K_ACCOUNT,
	K_CONFIG,
	K_HOST,
	K_PORT,
	K_TLS,
	K_AUTH,
	K_USER,
	K_PASSFILE,
	K_PWEVAL,
	K_PWENV,
	K_KEYRING,
	K_TRUST,
	K_FPR,
	K_CERTCHECK,
	K_FAMILY,
	K_DOMAIN,
	K_TIMEOUT,
	K_FROM,
	K_TO,
	K_8BIT,
	K_UTF8,
	K_MSGID,
	K_SIZE,
	K_COUNT,
};

static const char *const queue_file_keys[K_COUNT] = {
    "clsmtpc-queue", "id",      "created",        "account",
    "config",        "host",    "port",           "tls",
    "auth",          "user",    "passfile",       "passwordeval",
    "password-env",  "keyring", "tls-trust-file", "tls-fingerprint",
    "tls-certcheck", "family",  "domain",         "timeout",
    "from",          "to",      "body-8bit",      "smtputf8",
    "message-id",    "size",
};

static int queue_file_bad(struct cl_err *err, unsigned line, const char *what)
{
	return err_set(err, CL_EDATA, "queue file header, line %u: %s", line, what);
}

static int queue_file_value_num(const char *v, long long max, long long *out)
{
	const char *end;

	while (*v == ' ')
		v++;
	if (queue_file_number(v, &end, out) < 0 || *end != '\0' || *out > max)
		return -1;
	return 0;
}

static int queue_file_assign(struct queue_header *h, enum queue_file_key k, char *v, size_t *nto,
                             unsigned line, struct cl_err *err)
{
	long long n;
	size_t i;

	switch (k) {
	case K_VERSION:
		if (queue_file_value_num(v, 1000, &n) < 0 || n != QUEUE_FORMAT_VERSION)
			return queue_file_bad(err, line,
			                      "a queue format this clsmtpc does not know");
		break;
	case K_ID:
		if (!queue_file_id_valid(v) || v[QUEUE_ID_LEN] != '\0')
			return queue_file_bad(err, line, "bad id");
		memcpy(h->id, v, QUEUE_ID_LEN + 1);
		break;
	case K_CREATED:
		if (queue_file_value_num(v, INT64_MAX, &h->created) < 0)
			return queue_file_bad(err, line, "bad created time");
		break;
	case K_ACCOUNT:
		h->account = v;
		break;
	case K_CONFIG:
		h->config = v;
		break;
	case K_HOST:
		h->host = v;
		break;
	case K_PORT:
		h->port = v;
		break;
	case K_TLS:
		for (i = 0; i < sizeof(queue_file_tls_names) / sizeof(queue_file_tls_names[0]); i++)
			if (strcmp(v, queue_file_tls_names[i]) == 0)
				break;
		if (i == sizeof(queue_file_tls_names) / sizeof(queue_file_tls_names[0]))
			return queue_file_bad(err, line, "bad tls mode");
		h->tls_mode = (enum smtp_tls_mode)i;
		break;
	case K_AUTH:
		h->auth = v;
		break;
	case K_USER:
		h->user = v;
		break;
	case K_PASSFILE:
		h->passfile = v;
		break;
	case K_PWEVAL:
		h->passwordeval = v;
		break;
	case K_PWENV:
		h->password_env = v;
		break;
	case K_KEYRING:
		if (strcmp(v, "on") != 0)
			return queue_file_bad(err, line, "keyring wants on");
		h->keyring = 1;
		break;
	case K_TRUST:
		h->trust_file = v;
		break;
	case K_FPR:
		h->fingerprint = v;
		break;
	case K_CERTCHECK:
		if (strcmp(v, "on") != 0 && strcmp(v, "off") != 0)
			return queue_file_bad(err, line, "tls-certcheck wants on or off");
		h->certcheck = strcmp(v, "on") == 0;
		break;
	case K_FAMILY:
		if (strcmp(v, "any") == 0)
			h->family = AF_UNSPEC;
		else if (strcmp(v, "4") == 0)
			h->family = AF_INET;
		else if (strcmp(v, "6") == 0)
			h->family = AF_INET6;
		else
			return queue_file_bad(err, line, "family wants any, 4 or 6");
		break;
	case K_DOMAIN:
		h->domain = v;
		break;
	case K_TIMEOUT:
		if (queue_file_value_num(v, 86400, &n) < 0 || n == 0)
			return queue_file_bad(err, line, "bad timeout");
		h->timeout_s = (int)n;
		break;
	case K_FROM:
		h->from = v;
		break;
	case K_TO:
		h->rcpts_store_[(*nto)++] = v;
		break;
	case K_8BIT:
	case K_UTF8:
		if (strcmp(v, "0") != 0 && strcmp(v, "1") != 0)
			return queue_file_bad(err, line, "a flag wants 0 or 1");
		*(k == K_8BIT ? &h->body_8bit : &h->smtputf8) = v[0] == '1';
		break;
	case K_MSGID:
		h->message_id = v;
		break;
	case K_SIZE:
		if (queue_file_value_num(v, INT64_MAX, &h->size) < 0)
			return queue_file_bad(err, line, "bad size");
		break;
	case K_COUNT:
		break;
	}
	return 0;
}

int queue_file_header_parse(const char *text, size_t len, struct queue_header *h, size_t *used,
                            struct cl_err *err)
{
	const char *end = NULL;
	char *p, *nl, *colon, *v;
	size_t hlen, nlines = 0, nto = 0, i;
	unsigned line = 0;
	int seen[K_COUNT] = {0};
	enum queue_file_key k;

	queue_file_header_init(h);
	for (i = 0; i + 1 < len; i++)
		if (text[i] == '\n' && text[i + 1] == '\n') {
			end = text + i + 2;
			break;
		}
	if (end == NULL) {
		if (len >= QUEUE_HEADER_MAX)
			return err_set(err, CL_EDATA, "queue file header longer than %d bytes",
			               QUEUE_HEADER_MAX);
		return 1;
	}
	hlen = (size_t)(end - text);
	if (memchr(text, '\0', hlen) || memchr(text, '\r', hlen))
		return err_set(err, CL_EDATA, "queue file header holds a NUL or CR");
	for (i = 0; i < hlen; i++)
		nlines += text[i] == '\n';
	/* Never 0: hlen >= 2 and nlines >= 1 (the header ends with "\n\n"). */
	/* NOLINTNEXTLINE(clang-analyzer-optin.portability.UnixAPI) */
	h->store_ = malloc(hlen);
	/* NOLINTNEXTLINE(clang-analyzer-optin.portability.UnixAPI) */
	h->rcpts_store_ = calloc(nlines, sizeof(*h->rcpts_store_));
	if (h->store_ == NULL || h->rcpts_store_ == NULL) {
		queue_file_header_free(h);
		return err_set(err, CL_ESOFTWARE, "out of memory");
	}
	memcpy(h->store_, text, hlen - 1);
	h->store_[hlen - 1] = '\0';
	for (p = h->store_; *p; p = nl + 1) {
		line++;
		nl = strchr(p, '\n');
		*nl = '\0';
		colon = strchr(p, ':');
		if (colon == NULL) {
			queue_file_bad(err, line, "no ':'");
			goto bad;
		}
		*colon = '\0';
		v = colon + 1;
		if (*v == ' ')
			v++;
		for (k = 0; k < K_COUNT; k++)
			if (strcmp(p, queue_file_keys[k]) == 0)
				break;
		if (k == K_COUNT) {
			err_set(err, CL_EDATA,
			        "queue file header, line %u: unknown field '%.64s' (written by "
			        "a newer clsmtpc?)",
			        line, p);
			goto bad;
		}
		if (line == 1 && k != K_VERSION) {
			queue_file_bad(err, line, "not a clsmtpc queue file");
			goto bad;
		}
		if (seen[k] && k != K_TO) {
			queue_file_bad(err, line, "a field given twice");
			goto bad;
		}
		seen[k] = 1;
		if (queue_file_assign(h, k, v, &nto, line, err) < 0)
			goto bad;
	}
	if (!seen[K_VERSION] || !seen[K_ID] || !seen[K_HOST] || !seen[K_PORT] || !seen[K_FROM] ||
	    nto == 0 || !seen[K_SIZE] || !seen[K_CREATED]) {
		err_set(err, CL_EDATA,
		        "queue file header lacks id, created, host, port, from, to "
		        "or size");
		goto bad;
	}
	h->rcpts = h->rcpts_store_;
	h->nrcpt = nto;
	*used = hlen;
	return 0;
bad:
	queue_file_header_free(h);
	return -1;
}

int queue_file_conn_key(const struct queue_header *h, struct buf *out)
{
	struct queue_header c;
	struct cl_err e;
	static const char *const dummy[1] = {"x"};

	/* The connection's fields, formatted as in the file: everything but
	 * the id, time and envelope. */
	queue_file_header_init(&c);
	c.account = h->account;
	c.config = h->config;
	c.host = h->host;
	c.port = h->port;
	c.tls_mode = h->tls_mode;
	c.auth = h->auth;
	c.user = h->user;
	c.trust_file = h->trust_file;
	c.fingerprint = h->fingerprint;
	c.certcheck = h->certcheck;
	c.family = h->family;
	c.domain = h->domain;
	c.timeout_s = h->timeout_s;
	c.passfile = h->passfile;
	c.passwordeval = h->passwordeval;
	c.password_env = h->password_env;
	c.keyring = h->keyring;
	c.from = "";
	c.rcpts = (const char **)dummy;
	c.nrcpt = 1;
	c.size = 0;
	buf_reset(out);
	return queue_file_header_format(&c, out, NULL, &e);
}

int queue_file_find_message_id(const char *msg, size_t len, struct buf *out)
{
	size_t i = 0, eol, j;
	static const char name[] = "message-id:";

	buf_reset(out);
	while (i < len) {
		for (eol = i; eol < len && msg[eol] != '\n'; eol++)
			;
		/* The header section ends at the first empty line. */
		if (eol == i || (eol == i + 1 && msg[i] == '\r'))
			return -1;
		if (eol - i > sizeof(name) - 1 &&
		    strncasecmp(msg + i, name, sizeof(name) - 1) == 0) {
			j = i + sizeof(name) - 1;
			while (j < eol && (msg[j] == ' ' || msg[j] == '\t'))
				j++;
			while (eol > j && (msg[eol - 1] == '\r' || msg[eol - 1] == ' '))
				eol--;
			if (eol == j || eol - j > 998)
				return -1;
			return buf_add(out, msg + j, eol - j);
		}
		i = eol + 1;
	}
	return -1;
}
