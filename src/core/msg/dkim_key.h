/*
 * dkim_key.h - DKIM signing keys (RFC 6376, RFC 8463): read a private key
 * file (RSA of 1024 bits or more, or Ed25519), make a new one, and write
 * the public key as the selector's DNS TXT record. OpenSSL 3's EVP keys.
 */
#ifndef CLSMTP_DKIM_KEY_H
#define CLSMTP_DKIM_KEY_H

#include <openssl/evp.h>

#include "base/buf.h"
#include "base/err.h"

enum dkim_alg { DKIM_RSA_SHA256, DKIM_ED25519_SHA256 };

struct dkim_key {
	EVP_PKEY *pkey;
	enum dkim_alg alg;
	int bits; /* RSA modulus size; 256 for Ed25519 */
};

/* Read a PEM private key (PKCS#8 or the traditional RSA form). Refused when
 * the file can be read by others than its owner and group, when the key
 * is RSA below 1024 bits (RFC 8301) or of another kind. */
int dkim_key_load(struct dkim_key *k, const char *path, struct cl_err *err);
void dkim_key_free(struct dkim_key *k);
/* "rsa-sha256" or "ed25519-sha256" (the a= tag), "rsa" or "ed25519" (k=). */
const char *dkim_key_sig_name(const struct dkim_key *k);
const char *dkim_key_type_name(const struct dkim_key *k);

/* A new key: RSA of bits bits, or Ed25519 (bits ignored). */
int dkim_key_generate(struct dkim_key *k, enum dkim_alg alg, int bits, struct cl_err *err);
/* The private key as PKCS#8 PEM. out should be a secret buffer. */
int dkim_key_pem(const struct dkim_key *k, struct buf *out, struct cl_err *err);
/* The TXT record's text, "v=DKIM1; k=rsa; p=BASE64" (p= the
 * SubjectPublicKeyInfo for RSA, the 32 raw bytes for Ed25519). */
int dkim_key_record(const struct dkim_key *k, struct buf *out, struct cl_err *err);
/* A zone-file line for SELECTOR._domainkey.DOMAIN holding record, split
 * into quoted strings of at most 255 bytes (RFC 1035 character-strings). */
int dkim_zone_line(const char *selector, const char *domain, const char *record, struct buf *out);

#endif
