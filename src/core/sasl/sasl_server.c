/*
 * sasl_server.c - GNU SASL's server side for clsmtpd (sasl_server.h). The
 * gsasl callback answers property requests from the user's stored
 * credentials; PLAIN and LOGIN are validated here against the SCRAM keys
 * (constant-time compare), so a SCRAM-only account still works over TLS.
 */
#include "sasl/sasl_server.h"

#include <ctype.h>
#include <gsasl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/b64.h"

struct sasl_server {
	Gsasl *g;
	char *hostname;
	sasl_server_lookup_fn lookup;
	void *arg;
};

struct sasl_server_exch {
	struct sasl_server *srv;
	Gsasl_session *gs;
	struct sasl_server_cred cred;
	int have_cred, looked_up;
	char user[256];
	char *cb;
};

static const char *const sasl_server_all[] = {
    "SCRAM-SHA-256-PLUS", "SCRAM-SHA-1-PLUS", "SCRAM-SHA-256", "SCRAM-SHA-1",
    "DIGEST-MD5",         "CRAM-MD5",         "PLAIN",         "LOGIN",
};

void sasl_server_cred_wipe(struct sasl_server_cred *cred)
{
	if (cred->plain != NULL) {
		explicit_bzero(cred->plain, strlen(cred->plain));
		free(cred->plain);
	}
	explicit_bzero(cred, sizeof(*cred));
}

int sasl_server_scram_keys(const char *hash, const char *password, const char *salt_b64,
                           unsigned iter, struct buf *stored, struct buf *server)
{
	const EVP_MD *md = strcmp(hash, "SHA-1") == 0 ? EVP_sha1() : EVP_sha256();
	struct buf salt = BUF_INIT(256);
	unsigned char salted[EVP_MAX_MD_SIZE], ck[EVP_MAX_MD_SIZE], sk[EVP_MAX_MD_SIZE];
	unsigned char st[EVP_MAX_MD_SIZE];
	unsigned int len = (unsigned)EVP_MD_get_size(md), l2;
	int r = -1;

	if (b64_decode(salt_b64, strlen(salt_b64), &salt) < 0 || salt.len == 0)
		goto out;
	if (PKCS5_PBKDF2_HMAC(password, (int)strlen(password), (unsigned char *)salt.data,
	                      (int)salt.len, (int)iter, md, (int)len, salted) != 1)
		goto out;
	if (HMAC(md, salted, (int)len, (const unsigned char *)"Client Key", 10, ck, &l2) == NULL ||
	    HMAC(md, salted, (int)len, (const unsigned char *)"Server Key", 10, sk, &l2) == NULL ||
	    EVP_Digest(ck, len, st, &l2, md, NULL) != 1)
		goto out;
	r = b64_encode(st, len, stored) | b64_encode(sk, len, server);
out:
	explicit_bzero(salted, sizeof(salted));
	explicit_bzero(ck, sizeof(ck));
	buf_free(&salt);
	return r;
}

int sasl_server_check_password(const struct sasl_server_cred *cred, const char *password)
{
	struct buf st = BUF_INIT(128), sk = BUF_INIT(128);
	const char *want;
	int ok = 0;

	if (cred->plain != NULL) {
		size_t a = strlen(cred->plain), b = strlen(password);
		return a == b && CRYPTO_memcmp(cred->plain, password, a) == 0;
	}
	if (cred->iter == 0)
		return 0;
	want = cred->stored256[0] ? cred->stored256 : cred->stored1;
	if (sasl_server_scram_keys(cred->stored256[0] ? "SHA-256" : "SHA-1", password, cred->salt,
	                           cred->iter, &st, &sk) == 0)
		ok = st.len == strlen(want) && CRYPTO_memcmp(st.data, want, st.len) == 0;
	buf_wipe(&st);
	buf_wipe(&sk);
	return ok;
}

/* Look the user up once per exchange. */
static struct sasl_server_exch *sasl_server_user(Gsasl_session *gs)
{
	struct sasl_server_exch *ex = gsasl_session_hook_get(gs);
	const char *u = gsasl_property_fast(gs, GSASL_AUTHID);

	if (ex == NULL || u == NULL || strlen(u) >= sizeof(ex->user))
		return NULL;
	if (!ex->looked_up || strcmp(ex->user, u) != 0) {
		if (ex->have_cred)
			sasl_server_cred_wipe(&ex->cred);
		memcpy(ex->user, u, strlen(u) + 1);
		ex->looked_up = 1;
		ex->have_cred = ex->srv->lookup(ex->srv->arg, u, &ex->cred) == 0;
	}
	return ex->have_cred ? ex : NULL;
}

static int sasl_server_is(Gsasl_session *gs, const char *prefix)
{
	const char *m = gsasl_mechanism_name(gs);
	return m != NULL && strncmp(m, prefix, strlen(prefix)) == 0;
}

static int sasl_server_callback(Gsasl *ctx, Gsasl_session *gs, Gsasl_property prop)
{
	struct sasl_server_exch *ex = gsasl_session_hook_get(gs), *u;
	const char *p;
	char iter[16];

	(void)ctx;
	if (ex == NULL)
		return GSASL_NO_CALLBACK;
	switch (prop) {
	case GSASL_VALIDATE_SIMPLE:
		p = gsasl_property_fast(gs, GSASL_AUTHZID);
		/* No proxy authorization: authzid empty or equal to authid. */
		if (p != NULL && *p != '\0' &&
		    (gsasl_property_fast(gs, GSASL_AUTHID) == NULL ||
		     strcmp(p, gsasl_property_fast(gs, GSASL_AUTHID)) != 0))
			return GSASL_AUTHENTICATION_ERROR;
		u = sasl_server_user(gs);
		p = gsasl_property_fast(gs, GSASL_PASSWORD);
		if (u == NULL || p == NULL || !sasl_server_check_password(&u->cred, p))
			return GSASL_AUTHENTICATION_ERROR;
		return GSASL_OK;
	case GSASL_PASSWORD:
		u = sasl_server_user(gs);
		if (u == NULL || u->cred.plain == NULL)
			return GSASL_NO_CALLBACK;
		return gsasl_property_set(gs, GSASL_PASSWORD, u->cred.plain);
	case GSASL_SCRAM_ITER:
	case GSASL_SCRAM_SALT:
	case GSASL_SCRAM_STOREDKEY:
	case GSASL_SCRAM_SERVERKEY: {
		int sha256 = sasl_server_is(gs, "SCRAM-SHA-256");
		u = sasl_server_user(gs);
		if (u == NULL || u->cred.iter == 0 ||
		    (sha256 ? u->cred.stored256[0] : u->cred.stored1[0]) == '\0') {
			/* Unknown user or no keys: gsasl falls back to
			 * GSASL_PASSWORD, which fails without plaintext. */
			return GSASL_NO_CALLBACK;
		}
		if (prop == GSASL_SCRAM_ITER) {
			struct buf b = BUF_INIT(16);
			buf_printf(&b, "%u", u->cred.iter);
			memcpy(iter, buf_cstr(&b), b.len + 1);
			buf_free(&b);
			return gsasl_property_set(gs, prop, iter);
		}
		if (prop == GSASL_SCRAM_SALT)
			return gsasl_property_set(gs, prop, u->cred.salt);
		if (prop == GSASL_SCRAM_STOREDKEY)
			return gsasl_property_set(gs, prop,
			                          sha256 ? u->cred.stored256 : u->cred.stored1);
		return gsasl_property_set(gs, prop, sha256 ? u->cred.server256 : u->cred.server1);
	}
	case GSASL_CB_TLS_EXPORTER:
		return ex->cb ? gsasl_property_set(gs, prop, ex->cb) : GSASL_NO_CALLBACK;
	case GSASL_QOPS:
		return gsasl_property_set(gs, prop, "qop-auth");
	case GSASL_REALM:
		return gsasl_property_set(gs, prop, ex->srv->hostname);
	default:
		return GSASL_NO_CALLBACK;
	}
}

int sasl_server_new(struct sasl_server **out, const char *hostname, sasl_server_lookup_fn lookup,
                    void *arg, struct cl_err *err)
{
	struct sasl_server *s = calloc(1, sizeof(*s));
	int r;

	if (s == NULL || (s->hostname = strdup(hostname)) == NULL) {
		free(s);
		return err_set(err, CL_ESOFTWARE, "out of memory");
	}
	if ((r = gsasl_init(&s->g)) != GSASL_OK) {
		free(s->hostname);
		free(s);
		return err_set(err, CL_ESOFTWARE, "GNU SASL: %s", gsasl_strerror(r));
	}
	gsasl_callback_set(s->g, sasl_server_callback);
	s->lookup = lookup;
	s->arg = arg;
	*out = s;
	return 0;
}

void sasl_server_free(struct sasl_server *s)
{
	if (s == NULL)
		return;
	gsasl_done(s->g);
	free(s->hostname);
	free(s);
}

static int sasl_server_listed(const char *list, const char *mech)
{
	size_t n = strlen(mech);
	const char *p = list;

	while (*p != '\0') {
		size_t l = strcspn(p, " ,");
		if (l == n && strncasecmp(p, mech, n) == 0)
			return 1;
		p += l;
		p += strspn(p, " ,");
	}
	return 0;
}

int sasl_server_mechs(struct sasl_server *s, int tls, int have_cb, const char *allow,
                      struct buf *out)
{
	size_t i;

	buf_reset(out);
	for (i = 0; i < sizeof(sasl_server_all) / sizeof(sasl_server_all[0]); i++) {
		const char *m = sasl_server_all[i];
		if (!tls && (strcmp(m, "PLAIN") == 0 || strcmp(m, "LOGIN") == 0))
			continue;
		if (!have_cb && strstr(m, "-PLUS") != NULL)
			continue;
		if (allow != NULL && !sasl_server_listed(allow, m))
			continue;
		if (!gsasl_server_support_p(s->g, m))
			continue;
		if (out->len > 0 && buf_addc(out, ' ') < 0)
			return -1;
		if (buf_adds(out, m) < 0)
			return -1;
	}
	return 0;
}

/* 1 if the DIGEST-MD5 response (RFC 2831 2.1.2, base64 in b64) is a strict
 * list of directives (name "=" token or quoted-string, commas, blanks) with
 * exactly one "realm". RFC 2831 requires it when the server names a realm, as
 * we do; GNU SASL 2.2 dereferences NULL when realm and charset are both
 * missing, so anything its parser might read otherwise is refused too (found
 * by tests/fuzz/fuzz_sasl_server). */
static int sasl_server_digest_ok(const char *b64)
{
	struct buf raw = BUF_INIT(8192);
	const char *s;
	size_t i = 0, n, k;
	int realms = 0, ok = 0;

	if (b64_decode(b64, strlen(b64), &raw) < 0)
		goto out;
	s = buf_cstr(&raw);
	n = raw.len;
	for (;;) {
		while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == ','))
			i++;
		if (i == n)
			break;
		for (k = i; k < n && (isalnum((unsigned char)s[k]) || s[k] == '-');)
			k++;
		if (k == i || k == n || s[k] != '=')
			goto out;
		realms += k - i == 5 && strncmp(s + i, "realm", 5) == 0;
		i = k + 1;
		if (i < n && s[i] == '"') {
			for (i++; i < n && s[i] != '"'; i++)
				if (s[i] == '\\')
					i++;
			if (i >= n)
				goto out;
			i++;
		} else {
			for (k = i;
			     k < n && s[k] > ' ' && s[k] != ',' && s[k] != '"' && s[k] != 0x7f;)
				k++;
			if (k == i)
				goto out;
			i = k;
		}
		while (i < n && (s[i] == ' ' || s[i] == '\t'))
			i++;
		if (i < n && s[i] != ',')
			goto out;
	}
	ok = realms == 1;
out:
	buf_wipe(&raw);
	return ok;
}

void sasl_server_exch_free(struct sasl_server_exch *ex)
{
	if (ex == NULL)
		return;
	if (ex->gs != NULL)
		gsasl_finish(ex->gs);
	if (ex->have_cred)
		sasl_server_cred_wipe(&ex->cred);
	free(ex->cb);
	explicit_bzero(ex, sizeof(*ex));
	free(ex);
}

enum smtp_auth_result sasl_server_step(struct sasl_server *s, struct sasl_server_exch **exp,
                                       const char *mech, const char *in, const char *cb_b64,
                                       struct buf *out, struct buf *authid)
{
	struct sasl_server_exch *ex = *exp;
	char *o = NULL;
	int r;

	if (mech != NULL) {
		sasl_server_exch_free(ex);
		*exp = ex = calloc(1, sizeof(*ex));
		if (ex == NULL)
			return SMTP_AUTH_TEMPFAIL;
		ex->srv = s;
		if (cb_b64 != NULL && (ex->cb = strdup(cb_b64)) == NULL)
			goto temp;
		if (gsasl_server_start(s->g, mech, &ex->gs) != GSASL_OK)
			goto temp;
		gsasl_session_hook_set(ex->gs, ex);
		gsasl_property_set(ex->gs, GSASL_SERVICE, "smtp");
		gsasl_property_set(ex->gs, GSASL_HOSTNAME, s->hostname);
		/* No initial response: step with nothing to get the first
		 * challenge (an empty 334 for PLAIN). */
		if (in == NULL) {
			in = "";
		} else if (strcasecmp(mech, "LOGIN") == 0) {
			/* Clients (Python's smtplib) send the user name as an
			 * initial response; gsasl's LOGIN ignores its first
			 * input, so skip its "User Name" prompt first. */
			r = gsasl_step64(ex->gs, "", &o);
			gsasl_free(o);
			o = NULL;
			if (r != GSASL_NEEDS_MORE)
				goto fail;
		}
	}
	if (ex == NULL || ex->gs == NULL)
		return SMTP_AUTH_FAIL;
	/* No mechanism we offer takes an empty answer to a challenge; GNU SASL
	 * 2.2's DIGEST-MD5 server reads past a heap buffer on one (found by
	 * tests/fuzz/fuzz_sasl_server). */
	if (mech == NULL && in[0] == '\0')
		goto fail;
	if (mech == NULL && strcmp(gsasl_mechanism_name(ex->gs), "DIGEST-MD5") == 0 &&
	    !sasl_server_digest_ok(in))
		goto fail;
	r = gsasl_step64(ex->gs, in, &o);
	if (r == GSASL_NEEDS_MORE || r == GSASL_OK) {
		buf_reset(out);
		if (o != NULL && buf_adds(out, o) < 0) {
			gsasl_free(o);
			goto temp;
		}
		gsasl_free(o);
		if (r == GSASL_NEEDS_MORE)
			return SMTP_AUTH_CONTINUE;
		buf_reset(authid);
		if (gsasl_property_fast(ex->gs, GSASL_AUTHID) != NULL)
			buf_adds(authid, gsasl_property_fast(ex->gs, GSASL_AUTHID));
		/* Only an identity we looked up and found may log in. */
		if (!ex->have_cred || strcmp(ex->user, buf_cstr(authid)) != 0)
			goto fail;
		gsasl_finish(ex->gs);
		ex->gs = NULL;
		return SMTP_AUTH_OK;
	}
	gsasl_free(o);
fail:
	sasl_server_exch_free(ex);
	*exp = NULL;
	return SMTP_AUTH_FAIL;
temp:
	sasl_server_exch_free(ex);
	*exp = NULL;
	return SMTP_AUTH_TEMPFAIL;
}
