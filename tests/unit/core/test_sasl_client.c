/*
 * test_sasl_client.c - SMTP AUTH client side against GNU SASL's own server
 * side as the real peer, in process: an SMTP-shaped loop (AUTH with initial
 * response, 334 challenges, 235/535) drives both. Also the mechanism choice
 * table, the OAuth encodings against independently computed base64, and the
 * refusal of CR/LF in secrets.
 */
#include <gsasl.h>
#include <stdlib.h>

#include "base/b64.h"
#include "check.h"
#include "sasl/sasl_client.h"

#define USER     "user@example.com"
#define PASSWORD "pencil"
#define HOST     "mx.example.com"

/* Two different 32-byte tls-exporter values, base64. */
static char cb_a[64], cb_b[64];

/* What the GNU SASL server side knows. */
struct server_cfg {
	const char *password;
	int stored_keys; /* SCRAM: give it StoredKey/ServerKey, not the password */
	Gsasl_hash hash;
	const char *cb; /* its tls-exporter binding */
};

static Gsasl *server_ctx;

static int server_callback(Gsasl *ctx, Gsasl_session *sess, Gsasl_property prop)
{
	struct server_cfg *cfg = gsasl_callback_hook_get(ctx);
	const char *authid = gsasl_property_fast(sess, GSASL_AUTHID);
	const char *pw;
	static const char salt[] = "c2FsdHNhbHRzYWx0"; /* "saltsaltsalt" */
	char salted[GSASL_HASH_MAX_SIZE], ck[GSASL_HASH_MAX_SIZE], sk[GSASL_HASH_MAX_SIZE],
	    stk[GSASL_HASH_MAX_SIZE];
	char *key64 = NULL;
	size_t keylen;
	int rc;

	switch (prop) {
	case GSASL_VALIDATE_SIMPLE:
		pw = gsasl_property_fast(sess, GSASL_PASSWORD);
		if (authid && pw && strcmp(authid, USER) == 0 && strcmp(pw, cfg->password) == 0)
			return GSASL_OK;
		return GSASL_AUTHENTICATION_ERROR;
	case GSASL_PASSWORD:
		if (cfg->stored_keys || authid == NULL || strcmp(authid, USER) != 0)
			return GSASL_NO_CALLBACK;
		return gsasl_property_set(sess, prop, cfg->password);
	case GSASL_SERVICE:
		return gsasl_property_set(sess, prop, "smtp");
	case GSASL_HOSTNAME:
		return gsasl_property_set(sess, prop, HOST);
	case GSASL_SCRAM_ITER:
		return cfg->stored_keys ? gsasl_property_set(sess, prop, "4096")
		                        : GSASL_NO_CALLBACK;
	case GSASL_SCRAM_SALT:
		return cfg->stored_keys ? gsasl_property_set(sess, prop, salt) : GSASL_NO_CALLBACK;
	case GSASL_SCRAM_SERVERKEY:
	case GSASL_SCRAM_STOREDKEY:
		if (!cfg->stored_keys)
			return GSASL_NO_CALLBACK;
		rc = gsasl_scram_secrets_from_password(cfg->hash, cfg->password, 4096,
		                                       "saltsaltsalt", 12, salted, ck, sk, stk);
		if (rc != GSASL_OK)
			return rc;
		/* gsasl wants these two in base64 (its docs say hex). */
		rc = gsasl_base64_to(prop == GSASL_SCRAM_SERVERKEY ? sk : stk,
		                     gsasl_hash_length(cfg->hash), &key64, &keylen);
		if (rc != GSASL_OK)
			return rc;
		rc = gsasl_property_set(sess, prop, key64);
		gsasl_free(key64);
		return rc;
	case GSASL_CB_TLS_EXPORTER:
		return cfg->cb ? gsasl_property_set(sess, prop, cfg->cb) : GSASL_NO_CALLBACK;
	default:
		return GSASL_NO_CALLBACK;
	}
}

enum outcome { OUT_235, OUT_535, OUT_CLIENT_ERR, OUT_FINISH_ERR, OUT_SETUP_ERR };

enum tamper {
	TAMPER_NONE,
	TAMPER_PROOF_CHAR, /* replace the first proof character by another valid one */
	TAMPER_XOR_BYTE,   /* xor the last byte of the decoded message with 0x01 */
};

struct run {
	const char *mech;
	const char *password; /* the client's */
	const char *client_cb;
	struct server_cfg srv;
	enum tamper tamper; /* applied to the server's proof (its last 334) */
	int early_235;      /* the server says 235 instead of sending its proof */
	/* results */
	struct cl_err err;
	int n334;            /* 334 challenges the client answered */
	int last_resp_empty; /* the client's last response was an empty line */
	int server_sent_proof;
	char initial[512];
};

static void tamper_b64(char **msg, enum tamper how)
{
	struct buf raw = BUF_INIT(4096), enc = BUF_INIT(8192);
	char *eq;

	CHECK(b64_decode(*msg, strlen(*msg), &raw) == 0 && raw.len > 2);
	if (how == TAMPER_PROOF_CHAR) {
		eq = strchr(raw.data, '=');
		CHECK(eq != NULL && eq[1] != '\0');
		if (eq != NULL && eq[1] != '\0')
			eq[1] = eq[1] == 'a' ? 'b' : 'a';
	} else {
		raw.data[raw.len - 1] ^= 0x01;
	}
	CHECK(b64_encode(raw.data, raw.len, &enc) == 0);
	gsasl_free(*msg);
	*msg = buf_release(&enc);
	buf_free(&raw);
}

/* One AUTH exchange shaped like SMTP: "AUTH mech [ir]", then 334/response
 * pairs, then 235 (finish) or 535. */
static enum outcome run_exchange(struct run *r)
{
	struct sasl_creds creds = {USER, r->password, NULL, NULL};
	struct sasl_client *c = NULL;
	Gsasl_session *ss = NULL;
	struct buf resp = BUF_INIT(8192);
	char *sout = NULL;
	const char *sin;
	enum outcome out = OUT_SETUP_ERR;
	int ir, rc, i;

	err_clear(&r->err);
	r->n334 = 0;
	r->last_resp_empty = 0;
	r->server_sent_proof = 0;
	r->initial[0] = '\0';
	if (sasl_client_start(&c, r->mech, &creds, HOST, r->client_cb, &r->err) < 0)
		return OUT_CLIENT_ERR;
	gsasl_callback_hook_set(server_ctx, &r->srv);
	if (gsasl_server_start(server_ctx, r->mech, &ss) != GSASL_OK)
		goto done;
	ir = sasl_client_initial(c, &resp, &r->err);
	if (ir < 0) {
		out = OUT_CLIENT_ERR;
		goto done;
	}
	snprintf(r->initial, sizeof(r->initial), "%s", buf_cstr(&resp));
	/* No initial response: the server starts with empty input. */
	sin = ir == 0 ? NULL : strcmp(buf_cstr(&resp), "=") == 0 ? "" : buf_cstr(&resp);
	for (i = 0; i < 10; i++) {
		rc = gsasl_step64(ss, sin, &sout);
		if (rc != GSASL_OK && rc != GSASL_NEEDS_MORE) {
			out = OUT_535;
			goto done;
		}
		if (rc == GSASL_OK && (sout == NULL || *sout == '\0'))
			break; /* 235 */
		if (rc == GSASL_OK) {
			/* Success with data (RFC 4954 4): 334 with the server's
			 * proof, an empty response, then 235. */
			if (r->early_235)
				break;
			r->server_sent_proof = 1;
			if (r->tamper != TAMPER_NONE)
				tamper_b64(&sout, r->tamper);
		}
		buf_reset(&resp);
		r->n334++;
		if (sasl_client_step(c, sout, &resp, &r->err) < 0) {
			out = OUT_CLIENT_ERR;
			goto done;
		}
		r->last_resp_empty = resp.len == 0;
		gsasl_free(sout);
		sout = NULL;
		if (rc == GSASL_OK)
			break; /* the server then says 235 */
		sin = buf_cstr(&resp);
	}
	out = sasl_client_finish(c, &r->err) == 0 ? OUT_235 : OUT_FINISH_ERR;
done:
	gsasl_free(sout);
	gsasl_finish(ss);
	sasl_client_free(c);
	buf_wipe(&resp);
	return out;
}

static void run_init(struct run *r, const char *mech, const char *client_pw, const char *server_pw)
{
	memset(r, 0, sizeof(*r));
	r->mech = mech;
	r->password = client_pw;
	r->srv.password = server_pw;
	r->srv.hash = strstr(mech, "SHA-256") ? GSASL_HASH_SHA256 : GSASL_HASH_SHA1;
}

static const char *const gsasl_mechs[] = {"PLAIN",      "LOGIN",       "CRAM-MD5",
                                          "DIGEST-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256"};
#define N_GSASL_MECHS (sizeof(gsasl_mechs) / sizeof(gsasl_mechs[0]))

TEST(test_every_mechanism_succeeds_with_the_right_password)
{
	struct run r;
	size_t i;

	for (i = 0; i < N_GSASL_MECHS; i++) {
		enum outcome o;

		run_init(&r, gsasl_mechs[i], PASSWORD, PASSWORD);
		o = run_exchange(&r);
		if (o != OUT_235)
			printf("# %s: %s\n", gsasl_mechs[i], r.err.msg);
		CHECK_INT(o, OUT_235);
	}
}

TEST(test_every_mechanism_fails_with_the_wrong_password)
{
	struct run r;
	size_t i;

	for (i = 0; i < N_GSASL_MECHS; i++) {
		run_init(&r, gsasl_mechs[i], "pencil2", PASSWORD);
		CHECK_INT(run_exchange(&r), OUT_535);
	}
}

TEST(test_scram_works_against_a_server_holding_only_stored_keys)
{
	struct run r;

	run_init(&r, "SCRAM-SHA-256", PASSWORD, PASSWORD);
	r.srv.stored_keys = 1;
	CHECK_INT(run_exchange(&r), OUT_235);
	run_init(&r, "SCRAM-SHA-1", PASSWORD, PASSWORD);
	r.srv.stored_keys = 1;
	CHECK_INT(run_exchange(&r), OUT_235);
	run_init(&r, "SCRAM-SHA-256", "wrong", PASSWORD);
	r.srv.stored_keys = 1;
	CHECK_INT(run_exchange(&r), OUT_535);
}

/* The sequence the SMTP engine must drive: the server's proof comes in a
 * 334 after the client's last real response; the client answers it with an
 * empty line; only then 235. */
TEST(test_digest_md5_and_scram_end_with_proof_334_and_empty_response)
{
	struct run r;

	run_init(&r, "DIGEST-MD5", PASSWORD, PASSWORD);
	CHECK_INT(run_exchange(&r), OUT_235);
	CHECK_STR(r.initial, ""); /* no initial response */
	CHECK_INT(r.n334, 2);     /* challenge, rspauth */
	CHECK(r.server_sent_proof);
	CHECK(r.last_resp_empty);

	run_init(&r, "SCRAM-SHA-256", PASSWORD, PASSWORD);
	CHECK_INT(run_exchange(&r), OUT_235);
	CHECK(r.initial[0] != '\0'); /* client-first rides on AUTH */
	CHECK_INT(r.n334, 2);        /* server-first, server-final */
	CHECK(r.server_sent_proof);
	CHECK(r.last_resp_empty);

	run_init(&r, "CRAM-MD5", PASSWORD, PASSWORD);
	CHECK_INT(run_exchange(&r), OUT_235);
	CHECK_INT(r.n334, 1);
	CHECK(!r.server_sent_proof);

	run_init(&r, "LOGIN", PASSWORD, PASSWORD);
	CHECK_INT(run_exchange(&r), OUT_235);
	CHECK_INT(r.n334, 2);

	run_init(&r, "PLAIN", PASSWORD, PASSWORD);
	CHECK_INT(run_exchange(&r), OUT_235);
	CHECK_INT(r.n334, 0);
}

TEST(test_digest_md5_with_tampered_rspauth_is_eauth)
{
	struct run r;
	const enum tamper how[] = {TAMPER_PROOF_CHAR, TAMPER_XOR_BYTE};
	size_t i;

	for (i = 0; i < 2; i++) {
		run_init(&r, "DIGEST-MD5", PASSWORD, PASSWORD);
		r.tamper = how[i];
		CHECK_INT(run_exchange(&r), OUT_CLIENT_ERR);
		CHECK_INT(r.err.cls, CL_EAUTH);
		CHECK(strstr(r.err.msg, "server failed to prove it knows the password") != NULL);
	}
}

TEST(test_scram_with_tampered_server_signature_is_eauth)
{
	const char *mechs[] = {"SCRAM-SHA-1", "SCRAM-SHA-256", "SCRAM-SHA-256-PLUS"};
	const enum tamper how[] = {TAMPER_PROOF_CHAR, TAMPER_XOR_BYTE};
	struct run r;
	size_t i, j;

	for (i = 0; i < 3; i++)
		for (j = 0; j < 2; j++) {
			run_init(&r, mechs[i], PASSWORD, PASSWORD);
			r.client_cb = r.srv.cb = cb_a;
			r.tamper = how[j];
			CHECK_INT(run_exchange(&r), OUT_CLIENT_ERR);
			CHECK_INT(r.err.cls, CL_EAUTH);
			CHECK(strstr(r.err.msg, "server failed to prove it knows the password") !=
			      NULL);
		}
}

TEST(test_235_before_the_server_proof_fails_finish)
{
	const char *mechs[] = {"DIGEST-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256"};
	struct run r;
	size_t i;

	for (i = 0; i < 3; i++) {
		run_init(&r, mechs[i], PASSWORD, PASSWORD);
		r.early_235 = 1;
		CHECK_INT(run_exchange(&r), OUT_FINISH_ERR);
		CHECK_INT(r.err.cls, CL_EAUTH);
		CHECK(strstr(r.err.msg, "server failed to prove") != NULL);
	}
}

TEST(test_scram_server_error_instead_of_proof_is_eauth)
{
	struct sasl_creds creds = {USER, PASSWORD, NULL, NULL};
	struct sasl_client *c;
	Gsasl_session *ss;
	struct buf resp = BUF_INIT(4096), e = BUF_INIT(64);
	struct run r;
	struct cl_err err;
	char *sout = NULL;

	run_init(&r, "SCRAM-SHA-256", PASSWORD, PASSWORD);
	gsasl_callback_hook_set(server_ctx, &r.srv);
	CHECK(sasl_client_start(&c, "SCRAM-SHA-256", &creds, HOST, NULL, &err) == 0);
	CHECK(gsasl_server_start(server_ctx, "SCRAM-SHA-256", &ss) == GSASL_OK);
	CHECK_INT(sasl_client_initial(c, &resp, &err), 1);
	CHECK_INT(gsasl_step64(ss, buf_cstr(&resp), &sout), GSASL_NEEDS_MORE);
	buf_reset(&resp);
	CHECK(sasl_client_step(c, sout, &resp, &err) == 0); /* client-final */
	CHECK(b64_encode("e=invalid-proof", 15, &e) == 0);
	CHECK(sasl_client_step(c, buf_cstr(&e), &resp, &err) == -1);
	CHECK_INT(err.cls, CL_EAUTH);
	CHECK(strstr(err.msg, "e=invalid-proof") != NULL);
	CHECK(sasl_client_finish(c, &err) == -1);
	gsasl_free(sout);
	gsasl_finish(ss);
	sasl_client_free(c);
	buf_free(&resp);
	buf_free(&e);
}

TEST(test_scram_plus_with_matching_exporter_binding_succeeds)
{
	struct run r;
	struct buf raw = BUF_INIT(512);

	run_init(&r, "SCRAM-SHA-256-PLUS", PASSWORD, PASSWORD);
	r.client_cb = r.srv.cb = cb_a;
	CHECK_INT(run_exchange(&r), OUT_235);
	/* gs2 header: channel binding required, type tls-exporter. */
	CHECK(b64_decode(r.initial, strlen(r.initial), &raw) == 0);
	CHECK(strncmp(buf_cstr(&raw), "p=tls-exporter,,n=" USER ",r=",
	              strlen("p=tls-exporter,,n=" USER ",r=")) == 0);
	buf_free(&raw);

	run_init(&r, "SCRAM-SHA-1-PLUS", PASSWORD, PASSWORD);
	r.client_cb = r.srv.cb = cb_b;
	CHECK_INT(run_exchange(&r), OUT_235);
}

TEST(test_scram_plus_with_a_different_server_binding_fails)
{
	struct run r;

	run_init(&r, "SCRAM-SHA-256-PLUS", PASSWORD, PASSWORD);
	r.client_cb = cb_a;
	r.srv.cb = cb_b;
	CHECK_INT(run_exchange(&r), OUT_535);
}

TEST(test_scram_plus_needs_a_32_byte_binding)
{
	struct sasl_creds creds = {USER, PASSWORD, NULL, NULL};
	struct sasl_client *c = (struct sasl_client *)&creds;
	struct cl_err err;

	CHECK(sasl_client_start(&c, "SCRAM-SHA-256-PLUS", &creds, HOST, NULL, &err) == -1);
	CHECK(c == NULL);
	CHECK_INT(err.cls, CL_EUNAVAIL);
	CHECK(sasl_client_start(&c, "SCRAM-SHA-256-PLUS", &creds, HOST, "AAAA", &err) == -1);
	CHECK(sasl_client_start(&c, "SCRAM-SHA-256-PLUS", &creds, HOST, "not base64!", &err) == -1);
}

TEST(test_non_plus_scram_ignores_the_binding)
{
	struct run r;

	/* gsasl 2.2 fails a non-PLUS SCRAM client given a binding; ours must
	 * not pass it on. */
	run_init(&r, "SCRAM-SHA-256", PASSWORD, PASSWORD);
	r.client_cb = cb_a;
	CHECK_INT(run_exchange(&r), OUT_235);
}

TEST(test_initial_response_and_one_shot_per_mechanism)
{
	static const struct {
		const char *mech;
		int initial, one_shot;
	} t[] = {
	    {"PLAIN", 1, 1},      {"LOGIN", 0, 0},       {"CRAM-MD5", 0, 0},
	    {"DIGEST-MD5", 0, 0}, {"SCRAM-SHA-1", 1, 0}, {"SCRAM-SHA-256", 1, 0},
	    {"XOAUTH2", 1, 1},    {"OAUTHBEARER", 1, 1},
	};
	struct sasl_creds creds = {USER, PASSWORD, NULL, NULL};
	struct sasl_client *c;
	struct buf out = BUF_INIT(4096);
	struct cl_err err;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		buf_reset(&out);
		CHECK(sasl_client_start(&c, t[i].mech, &creds, HOST, NULL, &err) == 0);
		CHECK_STR(sasl_client_mech(c), t[i].mech);
		CHECK_INT(sasl_client_one_shot(c), t[i].one_shot);
		CHECK_INT(sasl_client_initial(c, &out, &err), t[i].initial);
		CHECK_INT(out.len > 0, t[i].initial);
		sasl_client_free(c);
	}
	/* Case does not matter; the canonical name comes back. */
	CHECK(sasl_client_start(&c, "scram-sha-256", &creds, HOST, NULL, &err) == 0);
	CHECK_STR(sasl_client_mech(c), "SCRAM-SHA-256");
	sasl_client_free(c);
	buf_wipe(&out);
}

TEST(test_plain_initial_response_is_nul_separated)
{
	struct sasl_creds creds = {USER, PASSWORD, NULL, NULL};
	struct sasl_client *c;
	struct buf out = BUF_INIT(4096);
	struct cl_err err;

	CHECK(sasl_client_start(&c, "PLAIN", &creds, HOST, NULL, &err) == 0);
	CHECK_INT(sasl_client_initial(c, &out, &err), 1);
	/* base64("\0user@example.com\0pencil"), computed with Python. */
	CHECK_STR(buf_cstr(&out), "AHVzZXJAZXhhbXBsZS5jb20AcGVuY2ls");
	CHECK(sasl_client_finish(c, &err) == 0);
	sasl_client_free(c);
	buf_wipe(&out);
}

TEST(test_plain_without_initial_response_answers_the_empty_challenge)
{
	struct sasl_creds creds = {USER, PASSWORD, NULL, NULL};
	struct sasl_client *c;
	struct buf out = BUF_INIT(4096);
	struct cl_err err;

	CHECK(sasl_client_start(&c, "PLAIN", &creds, HOST, NULL, &err) == 0);
	CHECK(sasl_client_finish(c, &err) == -1); /* nothing sent yet */
	CHECK(sasl_client_step(c, "", &out, &err) == 0);
	CHECK_STR(buf_cstr(&out), "AHVzZXJAZXhhbXBsZS5jb20AcGVuY2ls");
	CHECK(sasl_client_finish(c, &err) == 0);
	sasl_client_free(c);
	buf_wipe(&out);
}

TEST(test_challenge_after_completion_is_a_protocol_error)
{
	struct sasl_creds creds = {USER, PASSWORD, NULL, NULL};
	struct sasl_client *c;
	struct buf out = BUF_INIT(4096);
	struct cl_err err;

	CHECK(sasl_client_start(&c, "PLAIN", &creds, HOST, NULL, &err) == 0);
	CHECK_INT(sasl_client_initial(c, &out, &err), 1);
	CHECK(sasl_client_step(c, "", &out, &err) == -1);
	CHECK_INT(err.cls, CL_EPROTO);
	sasl_client_free(c);
	buf_wipe(&out);
}

TEST(test_challenge_that_is_not_base64_is_a_protocol_error)
{
	struct sasl_creds creds = {USER, PASSWORD, NULL, NULL};
	struct sasl_client *c;
	struct buf out = BUF_INIT(4096);
	struct cl_err err;
	const char *bad[] = {"abc", "a*cd", "ab=c", "Zm9v Zm9v"};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(sasl_client_start(&c, "CRAM-MD5", &creds, HOST, NULL, &err) == 0);
		CHECK(sasl_client_step(c, bad[i], &out, &err) == -1);
		CHECK_INT(err.cls, CL_EPROTO);
		CHECK_INT(out.len, 0);
		sasl_client_free(c);
	}
	buf_free(&out);
}

TEST(test_malformed_scram_server_first_is_a_protocol_error)
{
	struct sasl_creds creds = {USER, PASSWORD, NULL, NULL};
	struct sasl_client *c;
	struct buf out = BUF_INIT(4096), ch = BUF_INIT(256);
	struct cl_err err;

	CHECK(sasl_client_start(&c, "SCRAM-SHA-256", &creds, HOST, NULL, &err) == 0);
	CHECK_INT(sasl_client_initial(c, &out, &err), 1);
	/* A nonce that does not extend ours. */
	CHECK(b64_encode("r=xyz,s=c2FsdA==,i=4096", 23, &ch) == 0);
	CHECK(sasl_client_step(c, buf_cstr(&ch), &out, &err) == -1);
	CHECK_INT(err.cls, CL_EPROTO);
	sasl_client_free(c);
	buf_free(&out);
	buf_free(&ch);
}

/* An independent check on GNU SASL: RFC 2195's own example exchange. */
TEST(test_cram_md5_matches_rfc2195_example)
{
	struct sasl_creds creds = {"tim", "tanstaaftanstaaf", NULL, NULL};
	struct sasl_client *c;
	struct buf out = BUF_INIT(4096);
	struct cl_err err;

	CHECK(sasl_client_start(&c, "CRAM-MD5", &creds, HOST, NULL, &err) == 0);
	CHECK_INT(sasl_client_initial(c, &out, &err), 0);
	CHECK(sasl_client_finish(c, &err) == -1);
	CHECK(sasl_client_step(c, "PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+", &out,
	                       &err) == 0);
	CHECK_STR(buf_cstr(&out), "dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw");
	CHECK(sasl_client_finish(c, &err) == 0);
	sasl_client_free(c);
	buf_wipe(&out);
}

/* ---- XOAUTH2 and OAUTHBEARER ---- */

TEST(test_xoauth2_matches_googles_example)
{
	struct sasl_creds creds = {"someuser@example.com", NULL,
	                           "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg", NULL};
	struct sasl_client *c;
	struct buf out = BUF_INIT(4096);
	struct cl_err err;

	CHECK(sasl_client_start(&c, "xoauth2", &creds, HOST, NULL, &err) == 0);
	CHECK_INT(sasl_client_initial(c, &out, &err), 1);
	/* developers.google.com/gmail/imap/xoauth2-protocol */
	CHECK_STR(buf_cstr(&out), "dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnZGOWRm"
	                          "dDRxbVRjMk52YjNSbGNrQmhkSFJoZG1semRHRXVZMjl0Q2cBAQ==");
	CHECK(sasl_client_finish(c, &err) == 0);
	sasl_client_free(c);
	buf_wipe(&out);
}

TEST(test_oauthbearer_is_rfc7628_without_port)
{
	struct sasl_creds creds = {"user@example.com", NULL,
	                           "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==", NULL};
	struct sasl_client *c;
	struct buf out = BUF_INIT(4096);
	struct cl_err err;

	CHECK(sasl_client_start(&c, "OAUTHBEARER", &creds, "server.example.com", NULL, &err) == 0);
	CHECK_INT(sasl_client_initial(c, &out, &err), 1);
	/* RFC 7628 3.1's example without "port=143^A", encoded with Python. */
	CHECK_STR(buf_cstr(&out), "bixhPXVzZXJAZXhhbXBsZS5jb20sAWhvc3Q9c2VydmVyLmV4YW1wbGUuY29tAWF1"
	                          "dGg9QmVhcmVyIHZGOWRmdDRxbVRjMk52YjNSbGNrQmhiSFJoZG1semRHRXVZMjl0"
	                          "Q2c9PQEB");
	sasl_client_free(c);
	buf_wipe(&out);
}

TEST(test_oauthbearer_escapes_comma_and_equals_in_the_name)
{
	struct sasl_creds creds = {"a=b,c", NULL, "T", NULL};
	struct sasl_client *c;
	struct buf out = BUF_INIT(4096);
	struct cl_err err;

	CHECK(sasl_client_start(&c, "OAUTHBEARER", &creds, NULL, NULL, &err) == 0);
	CHECK_INT(sasl_client_initial(c, &out, &err), 1);
	/* base64("n,a=a=3Db=2Cc,^Aauth=Bearer T^A^A") */
	CHECK_STR(buf_cstr(&out), "bixhPWE9M0RiPTJDYywBYXV0aD1CZWFyZXIgVAEB");
	sasl_client_free(c);
	buf_wipe(&out);
}

TEST(test_oauth_uses_the_password_as_token_when_no_token)
{
	struct sasl_creds creds = {"someuser@example.com",
	                           "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg", NULL, NULL};
	struct sasl_client *c;
	struct buf out = BUF_INIT(4096);
	struct cl_err err;

	CHECK(sasl_client_start(&c, "XOAUTH2", &creds, HOST, NULL, &err) == 0);
	CHECK_INT(sasl_client_initial(c, &out, &err), 1);
	CHECK(strncmp(buf_cstr(&out), "dXNlcj1zb21ldXNlckBleGFtcGxl", 28) == 0);
	sasl_client_free(c);
	buf_wipe(&out);
}

/* RFC 7628 3.2.3: 334 with a JSON error, a dummy response, then 535. */
TEST(test_oauth_error_challenge_gets_a_dummy_response)
{
	static const char *json = "eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiYmVhcmVyIn0=";
	struct sasl_creds creds = {USER, NULL, "tok", NULL};
	struct sasl_client *c;
	struct buf out = BUF_INIT(4096);
	struct cl_err err;

	CHECK(sasl_client_start(&c, "OAUTHBEARER", &creds, HOST, NULL, &err) == 0);
	CHECK_INT(sasl_client_initial(c, &out, &err), 1);
	buf_reset(&out);
	CHECK(sasl_client_step(c, json, &out, &err) == 0);
	CHECK_STR(buf_cstr(&out), "AQ=="); /* ^A */
	CHECK(sasl_client_step(c, json, &out, &err) == -1);
	CHECK_INT(err.cls, CL_EPROTO);
	CHECK(sasl_client_finish(c, &err) == -1);
	sasl_client_free(c);

	buf_reset(&out);
	CHECK(sasl_client_start(&c, "XOAUTH2", &creds, HOST, NULL, &err) == 0);
	CHECK_INT(sasl_client_initial(c, &out, &err), 1);
	buf_reset(&out);
	CHECK(sasl_client_step(c, json, &out, &err) == 0);
	CHECK_INT(out.len, 0); /* an empty line */
	CHECK(sasl_client_finish(c, &err) == -1);
	sasl_client_free(c);

	/* The error must itself be base64. */
	CHECK(sasl_client_start(&c, "XOAUTH2", &creds, HOST, NULL, &err) == 0);
	CHECK_INT(sasl_client_initial(c, &out, &err), 1);
	CHECK(sasl_client_step(c, "{\"status\":\"401\"}", &out, &err) == -1);
	CHECK_INT(err.cls, CL_EPROTO);
	sasl_client_free(c);
	buf_wipe(&out);
}

/* ---- credentials ---- */

TEST(test_cr_lf_in_credentials_are_refused_before_encoding)
{
	const char *mechs[] = {"PLAIN", "LOGIN", "SCRAM-SHA-256", "CRAM-MD5", "XOAUTH2"};
	const char *bad[] = {"pen\rcil", "pen\ncil", "pencil\r\n"};
	struct sasl_client *c;
	struct cl_err err;
	size_t i, j;

	for (i = 0; i < sizeof(mechs) / sizeof(mechs[0]); i++)
		for (j = 0; j < sizeof(bad) / sizeof(bad[0]); j++) {
			struct sasl_creds pw = {USER, bad[j], bad[j], NULL};
			struct sasl_creds user = {bad[j], PASSWORD, PASSWORD, NULL};
			struct sasl_creds authz = {USER, PASSWORD, PASSWORD, bad[j]};

			c = (struct sasl_client *)&pw;
			CHECK(sasl_client_start(&c, mechs[i], &pw, HOST, NULL, &err) == -1);
			CHECK(c == NULL);
			CHECK_INT(err.cls, CL_EDATA);
			CHECK(strstr(err.msg, "pen") == NULL); /* the secret is not echoed */
			CHECK(sasl_client_start(&c, mechs[i], &user, HOST, NULL, &err) == -1);
			CHECK_INT(err.cls, CL_EDATA);
			CHECK(sasl_client_start(&c, mechs[i], &authz, HOST, NULL, &err) == -1);
			CHECK_INT(err.cls, CL_EDATA);
		}
	/* ^A separates the OAuth fields. */
	{
		struct sasl_creds t = {USER, NULL, "to\001ken", NULL};
		CHECK(sasl_client_start(&c, "OAUTHBEARER", &t, HOST, NULL, &err) == -1);
		CHECK_INT(err.cls, CL_EDATA);
	}
}

TEST(test_missing_credentials_are_configuration_errors)
{
	struct sasl_creds nopw = {USER, NULL, NULL, NULL};
	struct sasl_creds nouser = {NULL, PASSWORD, NULL, NULL};
	struct sasl_client *c;
	struct cl_err err;

	CHECK(sasl_client_start(&c, "PLAIN", &nopw, HOST, NULL, &err) == -1);
	CHECK_INT(err.cls, CL_ECONFIG);
	CHECK(sasl_client_start(&c, "XOAUTH2", &nopw, HOST, NULL, &err) == -1);
	CHECK_INT(err.cls, CL_ECONFIG);
	CHECK(sasl_client_start(&c, "SCRAM-SHA-1", &nouser, HOST, NULL, &err) == -1);
	CHECK_INT(err.cls, CL_ECONFIG);
	CHECK(sasl_client_start(&c, "DIGEST-MD5", &nopw, NULL, NULL, &err) == -1);
	CHECK(sasl_client_start(&c, "GSSAPI", &nopw, HOST, NULL, &err) == -1);
	CHECK_INT(err.cls, CL_EUSAGE);
	sasl_client_free(NULL);
}

/* ---- the choice ---- */

enum { E_OK = 0, E_UNAVAIL = CL_EUNAVAIL, E_USAGE = CL_EUSAGE };

TEST(test_choose_follows_the_preference_and_tls_rules)
{
	static const char all[] = "PLAIN LOGIN CRAM-MD5 DIGEST-MD5 SCRAM-SHA-1 SCRAM-SHA-256 "
	                          "SCRAM-SHA-1-PLUS SCRAM-SHA-256-PLUS XOAUTH2 OAUTHBEARER";
	static const struct {
		const char *wanted, *offered;
		int tls, plain_ok, cb, token, password;
		const char *want; /* or NULL */
		int cls;
	} t[] = {
	    /* auto: strongest first */
	    {"auto", all, 1, 0, 1, 0, 1, "SCRAM-SHA-256-PLUS", 0},
	    {"auto", all, 1, 0, 0, 0, 1, "SCRAM-SHA-256", 0},
	    {"auto", "SCRAM-SHA-1-PLUS SCRAM-SHA-256", 1, 0, 1, 0, 1, "SCRAM-SHA-1-PLUS", 0},
	    {"auto", "SCRAM-SHA-1 DIGEST-MD5", 1, 0, 0, 0, 1, "SCRAM-SHA-1", 0},
	    {"auto", "PLAIN LOGIN CRAM-MD5 DIGEST-MD5", 1, 0, 0, 0, 1, "DIGEST-MD5", 0},
	    {"auto", "PLAIN LOGIN CRAM-MD5", 1, 0, 0, 0, 1, "CRAM-MD5", 0},
	    {"auto", "LOGIN PLAIN", 1, 0, 0, 0, 1, "PLAIN", 0},
	    {"auto", "LOGIN XYMCOOKIE", 1, 0, 0, 0, 1, "LOGIN", 0},
	    {NULL, "LOGIN PLAIN", 1, 0, 0, 0, 1, "PLAIN", 0},
	    /* mixed case and extra blanks from the server */
	    {"auto", "  login\tPlain  cram-md5 ", 1, 0, 0, 0, 1, "CRAM-MD5", 0},
	    /* -PLUS only with a binding */
	    {"auto", "SCRAM-SHA-256-PLUS PLAIN", 1, 0, 0, 0, 1, "PLAIN", 0},
	    /* no TLS: the secret-exposing ones are skipped or refused */
	    {"auto", "PLAIN LOGIN CRAM-MD5", 0, 0, 0, 0, 1, "CRAM-MD5", 0},
	    {"auto", "PLAIN LOGIN", 0, 0, 0, 0, 1, NULL, E_UNAVAIL},
	    {"auto", "PLAIN LOGIN", 0, 1, 0, 0, 1, "PLAIN", 0},
	    {"plain", "PLAIN LOGIN", 0, 0, 0, 0, 1, NULL, E_UNAVAIL},
	    {"login", "PLAIN LOGIN", 0, 1, 0, 0, 1, "LOGIN", 0},
	    {"xoauth2", "XOAUTH2", 0, 0, 0, 1, 0, NULL, E_UNAVAIL},
	    {"oauthbearer", "OAUTHBEARER", 0, 1, 0, 1, 0, "OAUTHBEARER", 0},
	    {"scram-sha-1", "SCRAM-SHA-1", 0, 0, 0, 0, 1, "SCRAM-SHA-1", 0},
	    /* OAuth in auto only with a token and no password */
	    {"auto", "PLAIN XOAUTH2", 1, 0, 0, 1, 1, "PLAIN", 0},
	    {"auto", "PLAIN XOAUTH2", 1, 0, 0, 1, 0, "XOAUTH2", 0},
	    {"auto", "XOAUTH2 OAUTHBEARER", 1, 0, 0, 1, 0, "OAUTHBEARER", 0},
	    {"auto", "PLAIN XOAUTH2", 1, 0, 0, 0, 1, "PLAIN", 0},
	    {"auto", "XOAUTH2 OAUTHBEARER", 1, 0, 0, 0, 1, NULL, E_UNAVAIL},
	    {"auto", "PLAIN LOGIN", 1, 0, 0, 1, 0, NULL, E_UNAVAIL},
	    {"auto", "XOAUTH2", 0, 0, 0, 1, 0, NULL, E_UNAVAIL},
	    /* explicit: must be offered */
	    {"cram-md5", "PLAIN LOGIN", 1, 0, 0, 0, 1, NULL, E_UNAVAIL},
	    {"Digest-MD5", "digest-md5", 1, 0, 0, 0, 1, "DIGEST-MD5", 0},
	    {"xoauth2", "PLAIN XOAUTH2", 1, 0, 0, 0, 1, "XOAUTH2", 0},
	    {"plain", "", 1, 0, 0, 0, 1, NULL, E_UNAVAIL},
	    /* explicit SCRAM takes -PLUS when it can */
	    {"scram-sha-256", all, 1, 0, 1, 0, 1, "SCRAM-SHA-256-PLUS", 0},
	    {"scram-sha-256", all, 1, 0, 0, 0, 1, "SCRAM-SHA-256", 0},
	    {"scram-sha-1", "SCRAM-SHA-1-PLUS", 1, 0, 0, 0, 1, NULL, E_UNAVAIL},
	    {"scram-sha-256-plus", "SCRAM-SHA-256-PLUS", 1, 0, 0, 0, 1, NULL, E_UNAVAIL},
	    {"scram-sha-256-plus", "SCRAM-SHA-256-PLUS", 1, 0, 1, 0, 1, "SCRAM-SHA-256-PLUS", 0},
	    /* nothing at all, unknown names */
	    {"auto", "", 1, 0, 0, 0, 1, NULL, E_UNAVAIL},
	    {"auto", NULL, 1, 0, 0, 0, 1, NULL, E_UNAVAIL},
	    {"auto", "GSSAPI NTLM", 1, 0, 0, 0, 1, NULL, E_UNAVAIL},
	    {"gssapi", "GSSAPI", 1, 0, 0, 0, 1, NULL, E_USAGE},
	    {"none", "PLAIN", 1, 0, 0, 0, 1, NULL, E_USAGE},
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct sasl_choice_ctx ctx = {t[i].offered, t[i].tls,   t[i].plain_ok,
		                              t[i].cb,      t[i].token, t[i].password};
		struct cl_err err;
		const char *got;

		err_clear(&err);
		got = sasl_choose(t[i].wanted, &ctx, &err);
		if (t[i].want != NULL) {
			if (got == NULL || strcmp(got, t[i].want) != 0)
				printf("# row %zu: got %s (%s)\n", i, got ? got : "NULL", err.msg);
			CHECK_STR(got, t[i].want);
		} else {
			if (got != NULL || (int)err.cls != t[i].cls)
				printf("# row %zu: got %s, class %d\n", i, got ? got : "NULL",
				       (int)err.cls);
			CHECK(got == NULL);
			CHECK_INT(err.cls, t[i].cls);
		}
	}
}

TEST(test_choose_messages_say_why_and_what_to_do)
{
	struct sasl_choice_ctx ctx = {"plain Login", 0, 0, 0, 0, 1};
	struct cl_err err;

	CHECK(sasl_choose("plain", &ctx, &err) == NULL);
	CHECK(strstr(err.msg, "in clear") != NULL);
	CHECK(strstr(err.msg, "-Z tls") != NULL && strstr(err.msg, "-Z smtps") != NULL);
	CHECK(strstr(err.msg, "-Z none") != NULL);

	CHECK(sasl_choose("auto", &ctx, &err) == NULL);
	CHECK_STR(err.msg, "server offers AUTH PLAIN LOGIN; none usable without TLS: the "
	                   "password would travel in clear (use -Z tls or -Z smtps, or -Z "
	                   "none to allow it)");

	ctx.tls_active = 1;
	CHECK(sasl_choose("cram-md5", &ctx, &err) == NULL);
	CHECK_STR(err.msg, "server does not offer AUTH CRAM-MD5 (it offers: PLAIN LOGIN)");
}

TEST(test_exposes_secret)
{
	CHECK_INT(sasl_mech_exposes_secret("PLAIN"), 1);
	CHECK_INT(sasl_mech_exposes_secret("login"), 1);
	CHECK_INT(sasl_mech_exposes_secret("XOAUTH2"), 1);
	CHECK_INT(sasl_mech_exposes_secret("OAUTHBEARER"), 1);
	CHECK_INT(sasl_mech_exposes_secret("CRAM-MD5"), 0);
	CHECK_INT(sasl_mech_exposes_secret("DIGEST-MD5"), 0);
	CHECK_INT(sasl_mech_exposes_secret("SCRAM-SHA-256"), 0);
	CHECK_INT(sasl_mech_exposes_secret("SCRAM-SHA-1-PLUS"), 0);
	CHECK_INT(sasl_mech_exposes_secret("X-UNKNOWN"), 1);
}

static void make_binding(char *dst, size_t size, unsigned char fill)
{
	unsigned char raw[32];
	struct buf b = BUF_INIT(64);

	memset(raw, fill, sizeof(raw));
	raw[0] = 0x42;
	b64_encode(raw, sizeof(raw), &b);
	snprintf(dst, size, "%s", buf_cstr(&b));
	buf_free(&b);
}

int main(void)
{
	if (gsasl_init(&server_ctx) != GSASL_OK) {
		printf("Bail out! gsasl_init\n");
		return 1;
	}
	gsasl_callback_set(server_ctx, server_callback);
	make_binding(cb_a, sizeof(cb_a), 0xa5);
	make_binding(cb_b, sizeof(cb_b), 0x5a);

	RUN(test_every_mechanism_succeeds_with_the_right_password);
	RUN(test_every_mechanism_fails_with_the_wrong_password);
	RUN(test_scram_works_against_a_server_holding_only_stored_keys);
	RUN(test_digest_md5_and_scram_end_with_proof_334_and_empty_response);
	RUN(test_digest_md5_with_tampered_rspauth_is_eauth);
	RUN(test_scram_with_tampered_server_signature_is_eauth);
	RUN(test_235_before_the_server_proof_fails_finish);
	RUN(test_scram_server_error_instead_of_proof_is_eauth);
	RUN(test_scram_plus_with_matching_exporter_binding_succeeds);
	RUN(test_scram_plus_with_a_different_server_binding_fails);
	RUN(test_scram_plus_needs_a_32_byte_binding);
	RUN(test_non_plus_scram_ignores_the_binding);
	RUN(test_initial_response_and_one_shot_per_mechanism);
	RUN(test_plain_initial_response_is_nul_separated);
	RUN(test_plain_without_initial_response_answers_the_empty_challenge);
	RUN(test_challenge_after_completion_is_a_protocol_error);
	RUN(test_challenge_that_is_not_base64_is_a_protocol_error);
	RUN(test_malformed_scram_server_first_is_a_protocol_error);
	RUN(test_cram_md5_matches_rfc2195_example);
	RUN(test_xoauth2_matches_googles_example);
	RUN(test_oauthbearer_is_rfc7628_without_port);
	RUN(test_oauthbearer_escapes_comma_and_equals_in_the_name);
	RUN(test_oauth_uses_the_password_as_token_when_no_token);
	RUN(test_oauth_error_challenge_gets_a_dummy_response);
	RUN(test_cr_lf_in_credentials_are_refused_before_encoding);
	RUN(test_missing_credentials_are_configuration_errors);
	RUN(test_choose_follows_the_preference_and_tls_rules);
	RUN(test_choose_messages_say_why_and_what_to_do);
	RUN(test_exposes_secret);
	gsasl_done(server_ctx);
	CHECK_DONE();
}
