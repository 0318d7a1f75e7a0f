/*
 * sasl_server.h - the server side of SMTP AUTH over GNU SASL: PLAIN, LOGIN,
 * CRAM-MD5, DIGEST-MD5, SCRAM-SHA-1/256 and their -PLUS forms (RFC 9266
 * tls-exporter). Credentials come from a lookup callback: SCRAM salted keys
 * (which also check PLAIN/LOGIN passwords) and, only where the operator
 * chose it, the plaintext that CRAM-MD5 and DIGEST-MD5 need.
 */
#ifndef CLSMTP_SASL_SERVER_H
#define CLSMTP_SASL_SERVER_H

#include <stddef.h>
#include "base/buf.h"
#include "base/err.h"
#include "sasl/auth_result.h"

/* RFC 7677 recommends at least 4096 iterations. */
#define SASL_SCRAM_ITER_DEFAULT 4096
#define SASL_SCRAM_SALT_LEN     16

/* One user's stored credentials; strings are base64 (as gsasl wants them:
 * its header says hex for the keys, but only base64 works). */
struct sasl_server_cred {
	unsigned iter;                     /* SCRAM iterations, 0 if no SCRAM keys */
	char salt[64];                     /* base64 salt shared by both hashes */
	char stored1[64], server1[64];     /* SCRAM-SHA-1 StoredKey, ServerKey */
	char stored256[64], server256[64]; /* SCRAM-SHA-256 */
	char *plain;                       /* malloc'ed plaintext, or NULL */
};

/* 0 and cred filled (plain malloc'ed), or -1 if there is no such user. */
typedef int (*sasl_server_lookup_fn)(void *arg, const char *user, struct sasl_server_cred *cred);

struct sasl_server;
struct sasl_server_exch;

int sasl_server_new(struct sasl_server **out, const char *hostname, sasl_server_lookup_fn lookup,
                    void *arg, struct cl_err *err);
void sasl_server_free(struct sasl_server *s);
/* The mechanisms to offer: PLAIN and LOGIN only with tls; -PLUS only when
 * have_cb; restricted to the space-separated allow list (NULL: all). */
int sasl_server_mechs(struct sasl_server *s, int tls, int have_cb, const char *allow,
                      struct buf *out);
/* One AUTH step for smtp_server's auth hook. *ex is NULL before the first
 * step; cb_b64 is the tls-exporter binding or NULL. On SMTP_AUTH_OK
 * authid holds the authenticated user. */
enum smtp_auth_result sasl_server_step(struct sasl_server *s, struct sasl_server_exch **ex,
                                       const char *mech, const char *in, const char *cb_b64,
                                       struct buf *out, struct buf *authid);
void sasl_server_exch_free(struct sasl_server_exch *ex);

/* SCRAM keys of password for hash "SHA-1" or "SHA-256": base64 StoredKey
 * and ServerKey (RFC 5802 3). */
int sasl_server_scram_keys(const char *hash, const char *password, const char *salt_b64,
                           unsigned iter, struct buf *stored, struct buf *server);
/* 1 if password matches cred (plaintext, or SCRAM-SHA-256/1 keys). */
int sasl_server_check_password(const struct sasl_server_cred *cred, const char *password);
void sasl_server_cred_wipe(struct sasl_server_cred *cred);

#endif
