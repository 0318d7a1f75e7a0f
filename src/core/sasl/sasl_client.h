/*
 * sasl_client.h - the client side of SMTP AUTH (RFC 4954): choose a mechanism
 * from what the server offers and run the exchange. GNU SASL does PLAIN,
 * LOGIN, CRAM-MD5, DIGEST-MD5, SCRAM-SHA-1/256 and their -PLUS forms (with
 * the TLS exporter channel binding, RFC 9266); XOAUTH2 and OAUTHBEARER
 * (RFC 7628) are written here. Challenges and responses are base64 text as
 * they appear on the wire. Secrets are wiped when the session is freed.
 */
#ifndef CLSMTP_SASL_CLIENT_H
#define CLSMTP_SASL_CLIENT_H

#include "base/buf.h"
#include "base/err.h"

struct sasl_creds {
	const char *user;     /* authentication identity */
	const char *password; /* or NULL */
	const char *token;    /* OAuth2 bearer token, or NULL */
	const char *authzid;  /* authorization identity, usually NULL */
};

struct sasl_choice_ctx {
	const char *offered;  /* server's mechanisms, space separated, upper case */
	int tls_active;       /* the connection is encrypted now */
	int allow_plaintext;  /* -Z none: the user allowed clear-text secrets */
	int have_cb;          /* a TLS exporter channel binding is available */
	int have_token;       /* an OAuth2 token is available */
	int have_password;    /* a password is available (auto: OAuth only without one) */
};

/*
 * Choose the mechanism. wanted: "auto" or a mechanism name (case-insensitive:
 * "plain", "scram-sha-256", "xoauth2"...). auto prefers, among those offered
 * and usable: SCRAM-SHA-256-PLUS > SCRAM-SHA-1-PLUS (only with a channel
 * binding) > SCRAM-SHA-256 > SCRAM-SHA-1 > DIGEST-MD5 > CRAM-MD5 > PLAIN >
 * LOGIN; OAuth mechanisms only when explicitly wanted or a token is given and
 * no password. PLAIN, LOGIN, XOAUTH2 and OAUTHBEARER send the secret itself:
 * never chosen without TLS unless allow_plaintext. A wanted SCRAM-SHA-x is
 * upgraded to SCRAM-SHA-x-PLUS when that is offered and have_cb. On success
 * returns the canonical upper-case name (static storage); on failure NULL and err
 * (CL_EUNAVAIL: "server offers AUTH X Y; none usable without TLS" etc.).
 */
const char *sasl_choose(const char *wanted, const struct sasl_choice_ctx *ctx,
			struct cl_err *err);

/* 1 if mech sends the secret in a form an eavesdropper can use. */
int sasl_mech_exposes_secret(const char *mech);

struct sasl_client;

/* Start mech for creds. host is the server name (DIGEST-MD5 digest-uri
 * "smtp/host", SNI name); cb_exporter_b64 the base64 tls-exporter binding or
 * NULL. The creds strings are copied. */
int sasl_client_start(struct sasl_client **out, const char *mech, const struct sasl_creds *creds,
		      const char *host, const char *cb_exporter_b64, struct cl_err *err);
/* The initial response (RFC 4954 4) if the mechanism has one: returns 1 and
 * appends it base64-encoded ("=" for an empty one) to out; returns 0 if the
 * mechanism starts with a server challenge (LOGIN, CRAM-MD5, DIGEST-MD5);
 * -1 on error. */
int sasl_client_initial(struct sasl_client *s, struct buf *out, struct cl_err *err);
/* Answer a 334 challenge (its base64 text, possibly empty): appends the
 * base64 response to out. -1 with err (CL_EAUTH for a bad server proof,
 * CL_EPROTO for undecodable base64). */
int sasl_client_step(struct sasl_client *s, const char *challenge_b64, struct buf *out,
		     struct cl_err *err);
/* Called on 235: 0 if the mechanism is complete and, where it has one, the
 * server's proof was verified (DIGEST-MD5 rspauth, SCRAM server signature);
 * -1 (CL_EAUTH) if the server claimed success without proving itself. */
int sasl_client_finish(struct sasl_client *s, struct cl_err *err);
/* 1 if the exchange is complete after the initial response alone, so AUTH
 * may be pipelined with MAIL FROM (RFC 4954 4: PLAIN, XOAUTH2, OAUTHBEARER). */
int sasl_client_one_shot(const struct sasl_client *s);
const char *sasl_client_mech(const struct sasl_client *s);
void sasl_client_free(struct sasl_client *s);

#endif
