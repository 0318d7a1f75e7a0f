/*
 * sasl_oauth.c - XOAUTH2 and OAUTHBEARER initial responses (see
 * sasl_oauth.h). The clear form holds the bearer token, so it is built in
 * one exact-size allocation (no realloc leaving copies behind), encoded, and
 * wiped.
 */
#include "sasl/sasl_oauth.h"

#include <stdlib.h>
#include <string.h>

#include "base/b64.h"

/* A growing clear-text message of known final size. */
struct sasl_oauth_msg {
	char *p;
	size_t len, cap;
};

static void sasl_oauth_put(struct sasl_oauth_msg *m, const char *s, size_t n)
{
	if (m->p != NULL && n <= m->cap - m->len) {
		memcpy(m->p + m->len, s, n);
		m->len += n;
	}
}

static void sasl_oauth_puts(struct sasl_oauth_msg *m, const char *s)
{
	sasl_oauth_put(m, s, strlen(s));
}

/* RFC 5801 4 saslname: ',' and '=' are escaped as "=2C" and "=3D". */
static size_t sasl_oauth_saslname_len(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += (*s == ',' || *s == '=') ? 3 : 1;
	return n;
}

static void sasl_oauth_put_saslname(struct sasl_oauth_msg *m, const char *s)
{
	for (; *s; s++) {
		if (*s == ',')
			sasl_oauth_puts(m, "=2C");
		else if (*s == '=')
			sasl_oauth_puts(m, "=3D");
		else
			sasl_oauth_put(m, s, 1);
	}
}

static int sasl_oauth_alloc(struct sasl_oauth_msg *m, size_t cap)
{
	m->len = 0;
	m->cap = cap;
	m->p = malloc(cap ? cap : 1);
	return m->p ? 0 : -1;
}

static int sasl_oauth_emit(struct sasl_oauth_msg *m, struct buf *out)
{
	int r = -1;

	if (m->len == m->cap)
		r = b64_encode(m->p, m->len, out);
	explicit_bzero(m->p, m->cap);
	free(m->p);
	m->p = NULL;
	return r;
}

int sasl_oauth_xoauth2(const char *user, const char *token, struct buf *out)
{
	static const char u[] = "user=", a[] = "\001auth=Bearer ", end[] = "\001\001";
	struct sasl_oauth_msg m;

	if (sasl_oauth_alloc(&m, strlen(u) + strlen(user) + strlen(a) + strlen(token) +
	                             strlen(end)) < 0)
		return -1;
	sasl_oauth_puts(&m, u);
	sasl_oauth_puts(&m, user);
	sasl_oauth_puts(&m, a);
	sasl_oauth_puts(&m, token);
	sasl_oauth_puts(&m, end);
	return sasl_oauth_emit(&m, out);
}

int sasl_oauth_bearer(const char *authzid, const char *host, const char *token, struct buf *out)
{
	static const char gs2[] = "n,", a[] = "a=", h[] = "host=", auth[] = "auth=Bearer ";
	struct sasl_oauth_msg m;
	size_t need;
	int has_a = authzid != NULL && *authzid != '\0';

	need = strlen(gs2) + 1 /* "," */ + 1 /* ^A */ + strlen(auth) + strlen(token) + 2;
	if (has_a)
		need += strlen(a) + sasl_oauth_saslname_len(authzid);
	if (host != NULL)
		need += strlen(h) + strlen(host) + 1;
	if (sasl_oauth_alloc(&m, need) < 0)
		return -1;
	sasl_oauth_puts(&m, gs2);
	if (has_a) {
		sasl_oauth_puts(&m, a);
		sasl_oauth_put_saslname(&m, authzid);
	}
	sasl_oauth_puts(&m, ",\001");
	if (host != NULL) {
		sasl_oauth_puts(&m, h);
		sasl_oauth_puts(&m, host);
		sasl_oauth_puts(&m, "\001");
	}
	sasl_oauth_puts(&m, auth);
	sasl_oauth_puts(&m, token);
	sasl_oauth_puts(&m, "\001\001");
	return sasl_oauth_emit(&m, out);
}

int sasl_oauth_error_ack(int oauthbearer, struct buf *out)
{
	return oauthbearer ? b64_encode("\001", 1, out) : 0;
}
