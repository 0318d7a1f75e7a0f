/*
 * sasl_client.c - SMTP AUTH client side (see sasl_client.h): the mechanism choice, GNU SASL
 * for the password mechanisms, sasl_oauth.c for OAuth. One Gsasl context per session (gsasl_init
 * costs ~1 us): no global state, and the callback finds the session through the context hook,
 * which works even inside gsasl_client_start(). Messages are written to follow "AUTH <mech>: ".
 */
#include "sasl/sasl_client.h"

#include <ctype.h>
#include <gsasl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/b64.h"
#include "sasl/sasl_oauth.h"

/* Decoded server challenges: a DIGEST-MD5 challenge is a few hundred bytes
 * (RFC 2831 2.1.1 caps it at 2048); anything near this is hostile. */
#define SASL_CHALLENGE_MAX ((size_t)16 * 1024)
/* RFC 9266: the tls-exporter channel binding is 32 bytes. */
#define SASL_CB_EXPORTER_LEN 32
/* A hostile server can ask for 2^32 PBKDF2 iterations: hours of CPU before
 * the exchange even fails (found by tests/fuzz/fuzz_sasl_client). RFC 7677
 * asks for at least 4096; OWASP's 2023 advice for PBKDF2-HMAC-SHA256 is
 * 600,000. A million takes about a second here. */
#define SASL_SCRAM_ITER_MAX 1000000UL

enum {
	SASL_F_PLUS = 1 << 0,     /* needs the tls-exporter channel binding */
	SASL_F_EXPOSES = 1 << 1,  /* sends the secret itself: TLS only */
	SASL_F_OAUTH = 1 << 2,    /* written here; the credential is a bearer token */
	SASL_F_IR = 1 << 3,       /* client speaks first: has an initial response */
	SASL_F_ONE_SHOT = 1 << 4, /* complete after the initial response */
	SASL_F_PROVES = 1 << 5,   /* the server proves it knows the password */
	SASL_F_EXTERNAL = 1 << 6, /* no secret: the TLS client certificate (only when asked) */
};

struct sasl_mech {
	const char *name;
	unsigned flags;
	/* PROVES: non-empty responses we send before the server owes its proof
	 * (SCRAM: client-first and client-final; DIGEST-MD5: the response). */
	unsigned proof_after;
};

/* In the order auto prefers them (sasl_choose). */
static const struct sasl_mech sasl_mechs[] = {
    {"SCRAM-SHA-256-PLUS", SASL_F_PLUS | SASL_F_IR | SASL_F_PROVES, 2},
    {"SCRAM-SHA-1-PLUS", SASL_F_PLUS | SASL_F_IR | SASL_F_PROVES, 2},
    {"SCRAM-SHA-256", SASL_F_IR | SASL_F_PROVES, 2},
    {"SCRAM-SHA-1", SASL_F_IR | SASL_F_PROVES, 2},
    {"DIGEST-MD5", SASL_F_PROVES, 1},
    {"CRAM-MD5", 0, 0},
    {"PLAIN", SASL_F_EXPOSES | SASL_F_IR | SASL_F_ONE_SHOT, 0},
    {"LOGIN", SASL_F_EXPOSES, 0},
    {"OAUTHBEARER", SASL_F_OAUTH | SASL_F_EXPOSES | SASL_F_IR | SASL_F_ONE_SHOT, 0},
    {"XOAUTH2", SASL_F_OAUTH | SASL_F_EXPOSES | SASL_F_IR | SASL_F_ONE_SHOT, 0},
    /* RFC 4422 appendix A: the identity is the TLS client certificate's. */
    {"EXTERNAL", SASL_F_EXTERNAL | SASL_F_IR | SASL_F_ONE_SHOT, 0},
};
#define SASL_NMECHS (sizeof(sasl_mechs) / sizeof(sasl_mechs[0]))

struct sasl_client {
	const struct sasl_mech *mech;
	Gsasl *ctx;          /* this session's own context (see the file comment) */
	Gsasl_session *sess; /* NULL for the OAuth mechanisms */
	char *user, *password, *token, *authzid, *host, *cb;
	unsigned responses; /* non-empty responses produced so far */
	int started;        /* the first response has been produced */
	int complete;       /* the mechanism finished its side successfully */
	int oauth_error;    /* the server answered the OAuth response with an error */
	int failed;         /* a step failed: the exchange is dead */
};

static const struct sasl_mech *sasl_mech_find(const char *name)
{
	size_t i;

	if (name == NULL)
		return NULL;
	for (i = 0; i < SASL_NMECHS; i++)
		if (strcasecmp(sasl_mechs[i].name, name) == 0)
			return &sasl_mechs[i];
	return NULL;
}

/* The -PLUS variant of a SCRAM mechanism, or NULL. */
static const struct sasl_mech *sasl_mech_plus_of(const struct sasl_mech *m)
{
	size_t i, n = strlen(m->name);

	for (i = 0; i < SASL_NMECHS; i++)
		if ((sasl_mechs[i].flags & SASL_F_PLUS) &&
		    strncmp(sasl_mechs[i].name, m->name, n) == 0 &&
		    strcmp(sasl_mechs[i].name + n, "-PLUS") == 0)
			return &sasl_mechs[i];
	return NULL;
}

/* Is name among the server's space-separated mechanisms (any case)? */
static int sasl_offered(const char *offered, const char *name)
{
	size_t n = strlen(name);
	const char *p = offered ? offered : "";

	while (*p) {
		size_t len;

		while (*p == ' ' || *p == '\t')
			p++;
		len = strcspn(p, " \t");
		if (len == n && strncasecmp(p, name, n) == 0)
			return 1;
		p += len;
	}
	return 0;
}

/* The server's list for messages: upper case, single spaces, bounded. */
static const char *sasl_offered_text(const char *offered, char *dst, size_t size)
{
	size_t o = 0;
	const char *p = offered ? offered : "";

	while (*p && o + 2 < size) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		if (o > 0)
			dst[o++] = ' ';
		while (*p && *p != ' ' && *p != '\t' && o + 1 < size) {
			dst[o++] = (char)toupper((unsigned char)*p++);
		}
	}
	dst[o] = '\0';
	return dst;
}

static const char *sasl_secret_word(const struct sasl_mech *m)
{
	return (m->flags & SASL_F_OAUTH) ? "token" : "password";
}

static const char *sasl_choose_auto(const struct sasl_choice_ctx *c, struct cl_err *err)
{
	char list[512];
	int oauth_only = c->have_token && !c->have_password;
	int blocked_clear = 0;
	size_t i;

	for (i = 0; i < SASL_NMECHS; i++) {
		const struct sasl_mech *m = &sasl_mechs[i];

		/* OAuth only when a token is the one credential we hold. */
		if ((m->flags & SASL_F_EXTERNAL) || oauth_only != ((m->flags & SASL_F_OAUTH) != 0))
			continue;
		if (!sasl_offered(c->offered, m->name))
			continue;
		if ((m->flags & SASL_F_PLUS) && !c->have_cb)
			continue;
		if ((m->flags & SASL_F_EXPOSES) && !c->tls_active && !c->allow_plaintext) {
			blocked_clear = 1;
			continue;
		}
		return m->name;
	}
	sasl_offered_text(c->offered, list, sizeof(list));
	if (list[0] == '\0')
		err_set(err, CL_EUNAVAIL, "server offers no AUTH mechanism");
	else if (blocked_clear)
		err_set(err, CL_EUNAVAIL,
		        "server offers AUTH %s; none usable without TLS: the %s would travel in "
		        "clear (use -Z tls or -Z smtps, or -Z none to allow it)",
		        list, oauth_only ? "token" : "password");
	else if (oauth_only)
		err_set(err, CL_EUNAVAIL,
		        "server offers AUTH %s; none takes an OAuth2 token (OAUTHBEARER, XOAUTH2)",
		        list);
	else
		err_set(err, CL_EUNAVAIL, "server offers AUTH %s; none that clsmtpc supports",
		        list);
	return NULL;
}

const char *sasl_choose(const char *wanted, const struct sasl_choice_ctx *c, struct cl_err *err)
{
	const struct sasl_mech *m, *plus;

	if (wanted == NULL || strcasecmp(wanted, "auto") == 0)
		return sasl_choose_auto(c, err);
	m = sasl_mech_find(wanted);
	if (m == NULL) {
		err_set(err, CL_EUSAGE,
		        "unknown AUTH mechanism '%s' (known: auto scram-sha-256 scram-sha-1 "
		        "digest-md5 cram-md5 plain login xoauth2 oauthbearer external)",
		        wanted);
		return NULL;
	}
	/* Asking for SCRAM gets the channel-bound form when both sides can. */
	plus = sasl_mech_plus_of(m);
	if (plus != NULL && c->have_cb && sasl_offered(c->offered, plus->name))
		return plus->name;
	if (!sasl_offered(c->offered, m->name)) {
		char list[512];

		sasl_offered_text(c->offered, list, sizeof(list));
		err_set(err, CL_EUNAVAIL, "server does not offer AUTH %s (it offers: %s)", m->name,
		        list[0] ? list : "no AUTH mechanism");
		return NULL;
	}
	if ((m->flags & SASL_F_PLUS) && !c->have_cb) {
		err_set(err, CL_EUNAVAIL,
		        "AUTH %s needs the TLS channel binding (tls-exporter, TLS 1.3), which this "
		        "connection does not have",
		        m->name);
		return NULL;
	}
	if ((m->flags & SASL_F_EXPOSES) && !c->tls_active && !c->allow_plaintext) {
		err_set(err, CL_EUNAVAIL,
		        "AUTH %s would send the %s in clear over an unencrypted connection; "
		        "use -Z tls or -Z smtps (or -Z none to allow it)",
		        m->name, sasl_secret_word(m));
		return NULL;
	}
	return m->name;
}

int sasl_mech_exposes_secret(const char *mech)
{
	const struct sasl_mech *m = sasl_mech_find(mech);

	/* An unknown mechanism is assumed to expose the secret. */
	return m == NULL || (m->flags & SASL_F_EXPOSES) != 0;
}

/* ---- the session ---- */

static int sasl_gsasl_callback(Gsasl *ctx, Gsasl_session *sess, Gsasl_property prop)
{
	struct sasl_client *s = ctx ? gsasl_callback_hook_get(ctx) : NULL;
	const char *v = NULL;

	if (s == NULL)
		return GSASL_NO_CALLBACK;
	switch (prop) {
	case GSASL_AUTHID:
		v = s->user;
		break;
	case GSASL_AUTHZID:
		v = s->authzid;
		break;
	case GSASL_PASSWORD:
		v = s->password;
		break;
	case GSASL_SERVICE:
		v = "smtp"; /* RFC 4954 4: the GSSAPI/DIGEST-MD5 service name */
		break;
	case GSASL_HOSTNAME:
		v = s->host;
		break;
	case GSASL_CB_TLS_EXPORTER:
		v = s->cb; /* set only for -PLUS: see sasl_client_start */
		break;
	default:
		break;
	}
	if (v == NULL)
		return GSASL_NO_CALLBACK;
	return gsasl_property_set(sess, prop, v);
}

static int sasl_has_any(const char *s, const char *bad)
{
	return s != NULL && strpbrk(s, bad) != NULL;
}

static void sasl_free_secret(char **p)
{
	if (*p != NULL) {
		explicit_bzero(*p, strlen(*p));
		free(*p);
		*p = NULL;
	}
}

static int sasl_dup(char **dst, const char *src)
{
	*dst = NULL;
	if (src == NULL)
		return 0;
	*dst = strdup(src);
	return *dst ? 0 : -1;
}

/* The strings must not be able to break the mechanisms' framing: CR and LF
 * end the SMTP line, NUL separates PLAIN's fields (a C string cannot hold
 * one, so a truncated secret is the caller's to catch), ^A separates the
 * OAuth key/value pairs. Nothing is encoded before this check passes. */
static int sasl_check_creds(const struct sasl_mech *m, const struct sasl_creds *c,
                            const char *secret, const char *host, struct cl_err *err)
{
	const char *bad = (m->flags & SASL_F_OAUTH) ? "\r\n\001" : "\r\n";
	const char *what = (m->flags & SASL_F_OAUTH) ? "CR, LF or ^A" : "CR or LF";

	if (c->user == NULL || c->user[0] == '\0')
		return err_set(err, CL_ECONFIG, "a user name is needed");
	if (secret == NULL)
		return err_set(err, CL_ECONFIG, "a %s is needed",
		               (m->flags & SASL_F_OAUTH) ? "token (or password)" : "password");
	if (sasl_has_any(c->user, bad))
		return err_set(err, CL_EDATA, "the user name contains %s; refused", what);
	if (sasl_has_any(secret, bad))
		return err_set(err, CL_EDATA, "the %s contains %s; refused", sasl_secret_word(m),
		               what);
	if (sasl_has_any(c->authzid, bad))
		return err_set(err, CL_EDATA, "the authorization identity contains %s; refused",
		               what);
	if (sasl_has_any(host, bad))
		return err_set(err, CL_EDATA, "the server name contains %s; refused", what);
	return 0;
}

static int sasl_check_cb(const char *cb_b64, struct cl_err *err)
{
	struct buf raw = BUF_INIT(64);
	int ok;

	ok = cb_b64 != NULL && b64_decode(cb_b64, strlen(cb_b64), &raw) == 0 &&
	     raw.len == SASL_CB_EXPORTER_LEN;
	buf_free(&raw);
	if (cb_b64 == NULL)
		return err_set(err, CL_EUNAVAIL,
		               "the TLS channel binding (tls-exporter) is needed");
	if (!ok)
		return err_set(err, CL_ESOFTWARE,
		               "the tls-exporter channel binding is not base64 of 32 bytes");
	return 0;
}

/* The session's own copies of everything the mechanism will need. GNU SASL
 * 2.2's non-PLUS SCRAM client fails outright when it is given a tls-exporter
 * binding (instead of sending the "y" flag), so only -PLUS gets it. */
static int sasl_client_copy(struct sasl_client *s, const struct sasl_creds *creds,
                            const char *secret, const char *host, const char *cb)
{
	const char *authzid = creds->authzid && creds->authzid[0] ? creds->authzid : NULL;
	int oauth = (s->mech->flags & SASL_F_OAUTH) != 0;

	if (sasl_dup(&s->user, creds->user) < 0 || sasl_dup(&s->authzid, authzid) < 0 ||
	    sasl_dup(oauth ? &s->token : &s->password, secret) < 0 ||
	    sasl_dup(&s->host, host) < 0 ||
	    sasl_dup(&s->cb, (s->mech->flags & SASL_F_PLUS) ? cb : NULL) < 0)
		return -1;
	return 0;
}

static int sasl_client_gsasl_open(struct sasl_client *s, struct cl_err *err)
{
	int rc = gsasl_init(&s->ctx);

	if (rc != GSASL_OK)
		return err_set(err, CL_ESOFTWARE, "GNU SASL: %s", gsasl_strerror(rc));
	gsasl_callback_set(s->ctx, sasl_gsasl_callback);
	gsasl_callback_hook_set(s->ctx, s);
	rc = gsasl_client_start(s->ctx, s->mech->name, &s->sess);
	if (rc != GSASL_OK)
		return err_set(err, CL_ESOFTWARE, "GNU SASL cannot start it: %s",
		               gsasl_strerror(rc));
	return 0;
}

int sasl_client_start(struct sasl_client **out, const char *mech, const struct sasl_creds *creds,
                      const char *host, const char *cb_exporter_b64, struct cl_err *err)
{
	const struct sasl_mech *m = sasl_mech_find(mech);
	struct sasl_client *s;
	const char *secret;

	*out = NULL;
	if (m == NULL)
		return err_set(err, CL_EUSAGE, "unknown AUTH mechanism '%s'", mech ? mech : "");
	if (creds == NULL)
		return err_set(err, CL_ECONFIG, "a user name is needed");
	/* OAuth: the token, or the password standing for it (as msmtp does). */
	secret = (m->flags & SASL_F_OAUTH) && creds->token ? creds->token : creds->password;
	if (m->flags & SASL_F_EXTERNAL) {
		if (sasl_has_any(creds->authzid, "\r\n"))
			return err_set(err, CL_EDATA,
			               "the authorization identity contains CR or LF; refused");
	} else if (sasl_check_creds(m, creds, secret, host, err) < 0) {
		return -1;
	}
	if ((m->flags & SASL_F_PLUS) && sasl_check_cb(cb_exporter_b64, err) < 0)
		return -1;
	if (strcmp(m->name, "DIGEST-MD5") == 0 && (host == NULL || host[0] == '\0'))
		return err_set(err, CL_ECONFIG, "the server's host name is needed");

	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return err_set(err, CL_ESOFTWARE, "out of memory");
	s->mech = m;
	if (sasl_client_copy(s, creds, secret, host, cb_exporter_b64) < 0) {
		sasl_client_free(s);
		return err_set(err, CL_ESOFTWARE, "out of memory");
	}
	if (!(m->flags & SASL_F_OAUTH) && sasl_client_gsasl_open(s, err) < 0) {
		sasl_client_free(s);
		return -1;
	}
	*out = s;
	return 0;
}

/* Did we send everything after which the server owes us its proof? */
static int sasl_proof_due(const struct sasl_client *s)
{
	return (s->mech->flags & SASL_F_PROVES) && s->responses >= s->mech->proof_after;
}

static int sasl_gsasl_error(struct sasl_client *s, int rc, const char *in, size_t inlen,
                            struct cl_err *err)
{
	const char *name = s->mech->name;

	s->failed = 1;
	if (sasl_proof_due(s) &&
	    (rc == GSASL_AUTHENTICATION_ERROR || rc == GSASL_MECHANISM_PARSE_ERROR)) {
		/* RFC 5802 7: server-error = "e=" value, instead of the proof. */
		if (inlen > 2 && in[0] == 'e' && in[1] == '=')
			return err_set(err, CL_EAUTH, "rejected by the server: %.*s",
			               (int)(inlen > 64 ? 64 : inlen), in);
		return err_set(err, CL_EAUTH, "server failed to prove it knows the password (%s)",
		               strcmp(name, "DIGEST-MD5") == 0 ? "wrong rspauth"
		                                               : "wrong server signature");
	}
	switch (rc) {
	case GSASL_MECHANISM_PARSE_ERROR:
		return err_set(err, CL_EPROTO, "malformed server challenge");
	case GSASL_AUTHENTICATION_ERROR:
		/* SCRAM: the server's nonce does not extend ours; DIGEST-MD5:
		 * it asks for a protection layer we do not do. */
		return err_set(err, CL_EPROTO, "unacceptable server challenge");
	case GSASL_MECHANISM_CALLED_TOO_MANY_TIMES:
		return err_set(err, CL_EPROTO, "server sent more challenges than it has");
	case GSASL_NO_AUTHID:
		return err_set(err, CL_ECONFIG, "a user name is needed");
	case GSASL_NO_PASSWORD:
		return err_set(err, CL_ECONFIG, "a password is needed");
	case GSASL_NO_HOSTNAME:
		return err_set(err, CL_ECONFIG, "the server's host name is needed");
	case GSASL_NO_CB_TLS_EXPORTER:
	case GSASL_NO_CB_TLS_UNIQUE:
		return err_set(err, CL_EUNAVAIL, "the TLS channel binding is needed");
	case GSASL_SASLPREP_ERROR:
		return err_set(err, CL_EDATA, "the user name is not valid (SASLprep)");
	default:
		return err_set(err, CL_ESOFTWARE, "GNU SASL: %s", gsasl_strerror(rc));
	}
}

/* One gsasl step: the raw response is base64-encoded onto out and wiped. */
static int sasl_gsasl_step(struct sasl_client *s, const char *in, size_t inlen, struct buf *out,
                           size_t *outlen, struct cl_err *err)
{
	char *o = NULL;
	size_t olen = 0;
	int rc, r = 0;

	rc = gsasl_step(s->sess, in, inlen, &o, &olen);
	if (rc == GSASL_OK || rc == GSASL_NEEDS_MORE)
		r = b64_encode(o, olen, out);
	if (o != NULL) {
		explicit_bzero(o, olen);
		gsasl_free(o);
	}
	if (rc != GSASL_OK && rc != GSASL_NEEDS_MORE)
		return sasl_gsasl_error(s, rc, in, inlen, err);
	if (r < 0) {
		s->failed = 1;
		return err_set(err, CL_ESOFTWARE, "response too long");
	}
	if (olen > 0)
		s->responses++;
	if (rc == GSASL_OK)
		s->complete = 1;
	*outlen = olen;
	return 0;
}

static int sasl_oauth_initial(struct sasl_client *s, struct buf *out, struct cl_err *err)
{
	int r;

	if (strcmp(s->mech->name, "XOAUTH2") == 0)
		r = sasl_oauth_xoauth2(s->user, s->token, out);
	else
		r = sasl_oauth_bearer(s->authzid ? s->authzid : s->user, s->host, s->token, out);
	if (r < 0) {
		s->failed = 1;
		return err_set(err, CL_ESOFTWARE, "response too long");
	}
	s->responses++;
	s->complete = 1;
	return 0;
}

int sasl_client_initial(struct sasl_client *s, struct buf *out, struct cl_err *err)
{
	size_t olen = 0;

	if (!(s->mech->flags & SASL_F_IR))
		return 0;
	if (s->started || s->failed)
		return err_set(err, CL_ESOFTWARE, "initial response out of order");
	s->started = 1;
	if (s->mech->flags & SASL_F_OAUTH)
		return sasl_oauth_initial(s, out, err) < 0 ? -1 : 1;
	if (sasl_gsasl_step(s, NULL, 0, out, &olen, err) < 0)
		return -1;
	/* RFC 4954 4: an empty initial response is sent as "=". */
	if (olen == 0 && buf_addc(out, '=') < 0)
		return err_set(err, CL_ESOFTWARE, "response too long");
	return 1;
}

static int sasl_oauth_step(struct sasl_client *s, struct buf *out, struct cl_err *err)
{
	/* The server did not take an initial response: it asks for it now. */
	if (!s->started) {
		s->started = 1;
		return sasl_oauth_initial(s, out, err);
	}
	if (s->oauth_error) {
		s->failed = 1;
		return err_set(err, CL_EPROTO, "another challenge after the OAuth error");
	}
	/* RFC 7628 3.2.3: the challenge is the JSON error; acknowledge it so
	 * the server can send its 535. */
	s->oauth_error = 1;
	s->complete = 0;
	if (sasl_oauth_error_ack(strcmp(s->mech->name, "OAUTHBEARER") == 0, out) < 0)
		return err_set(err, CL_ESOFTWARE, "response too long");
	return 0;
}

/* The SCRAM server-first message's "i=" attribute (RFC 5802 5.1), if any,
 * is at most SASL_SCRAM_ITER_MAX. Anything else is left to GNU SASL. */
static int sasl_scram_iter_ok(const char *in, size_t n)
{
	size_t i = 0, e, k;
	unsigned long v = 0;

	for (; i < n; i = e + 1) {
		for (e = i; e < n && in[e] != ',';)
			e++;
		if (e - i < 3 || in[i] != 'i' || in[i + 1] != '=')
			continue;
		for (k = i + 2; k < e && v <= SASL_SCRAM_ITER_MAX; k++) {
			if (in[k] < '0' || in[k] > '9')
				return 1;
			v = v * 10 + (unsigned long)(in[k] - '0');
		}
		return v <= SASL_SCRAM_ITER_MAX;
	}
	return 1;
}

int sasl_client_step(struct sasl_client *s, const char *challenge_b64, struct buf *out,
                     struct cl_err *err)
{
	struct buf in = BUF_INIT(SASL_CHALLENGE_MAX);
	size_t n = challenge_b64 ? strlen(challenge_b64) : 0, olen = 0;
	int r;

	if (s->failed)
		return err_set(err, CL_ESOFTWARE, "exchange already failed");
	/* "=" is how RFC 4954 writes an empty initial response; tolerate it
	 * from a server too. */
	if (n == 1 && challenge_b64[0] == '=')
		n = 0;
	if (n / 4 * 3 > SASL_CHALLENGE_MAX) {
		s->failed = 1;
		return err_set(err, CL_EPROTO, "server challenge too long (%zu bytes)", n);
	}
	if (b64_decode(challenge_b64 ? challenge_b64 : "", n, &in) < 0) {
		s->failed = 1;
		buf_free(&in);
		return err_set(err, CL_EPROTO, "server challenge is not valid base64");
	}
	if (s->mech->flags & SASL_F_OAUTH) {
		buf_wipe(&in);
		return sasl_oauth_step(s, out, err);
	}
	if (s->complete) {
		s->failed = 1;
		buf_wipe(&in);
		return err_set(err, CL_EPROTO, "server sent a challenge after the end");
	}
	/* Only LOGIN's prompts, and the prompt for an initial response, may be
	 * empty; GNU SASL 2.2's DIGEST-MD5 client dereferences NULL on an empty
	 * second challenge (found by tests/fuzz/fuzz_sasl_client). */
	if (in.len == 0 && strcmp(s->mech->name, "LOGIN") != 0 &&
	    (s->started || !(s->mech->flags & SASL_F_IR))) {
		s->failed = 1;
		buf_wipe(&in);
		return err_set(err, CL_EPROTO, "empty server challenge");
	}
	if (strncmp(s->mech->name, "SCRAM-", 6) == 0 && !sasl_scram_iter_ok(in.data, in.len)) {
		s->failed = 1;
		buf_wipe(&in);
		return err_set(err, CL_EPROTO,
		               "server asks for more than %lu SCRAM iterations; refused",
		               SASL_SCRAM_ITER_MAX);
	}
	/* Without an initial response, a client-first mechanism is asked for
	 * it by an empty challenge (RFC 4954 4). */
	if (!s->started && (s->mech->flags & SASL_F_IR))
		r = sasl_gsasl_step(s, NULL, 0, out, &olen, err);
	else
		r = sasl_gsasl_step(s, in.len ? buf_cstr(&in) : NULL, in.len, out, &olen, err);
	s->started = 1;
	buf_wipe(&in);
	return r;
}

int sasl_client_finish(struct sasl_client *s, struct cl_err *err)
{
	if (s->complete && !s->failed)
		return 0;
	if (s->mech->flags & SASL_F_PROVES)
		return err_set(err, CL_EAUTH,
		               "server failed to prove it knows the password (it "
		               "said 235 before sending its proof)");
	if (s->oauth_error)
		return err_set(err, CL_EPROTO, "server said 235 after an OAuth error");
	return err_set(err, CL_EPROTO, "server said 235 before the exchange was complete");
}

int sasl_client_one_shot(const struct sasl_client *s)
{
	return (s->mech->flags & SASL_F_ONE_SHOT) != 0;
}

const char *sasl_client_mech(const struct sasl_client *s)
{
	return s->mech->name;
}

/* gsasl_finish() frees its copies of the properties without clearing them;
 * they are gsasl's own malloc'ed strings, so overwriting them in place first
 * is safe. The salted password is as good as the password for SCRAM. */
static void sasl_wipe_property(Gsasl_session *sess, Gsasl_property prop)
{
	char *v = (char *)gsasl_property_fast(sess, prop);

	if (v != NULL)
		explicit_bzero(v, strlen(v));
}

void sasl_client_free(struct sasl_client *s)
{
	if (s == NULL)
		return;
	if (s->sess != NULL) {
		sasl_wipe_property(s->sess, GSASL_PASSWORD);
		sasl_wipe_property(s->sess, GSASL_SCRAM_SALTED_PASSWORD);
		gsasl_finish(s->sess);
	}
	if (s->ctx != NULL)
		gsasl_done(s->ctx);
	sasl_free_secret(&s->user);
	sasl_free_secret(&s->password);
	sasl_free_secret(&s->token);
	sasl_free_secret(&s->authzid);
	sasl_free_secret(&s->host);
	sasl_free_secret(&s->cb);
	explicit_bzero(s, sizeof(*s));
	free(s);
}
