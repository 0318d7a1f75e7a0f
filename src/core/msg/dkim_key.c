/*
 * dkim_key.c - DKIM keys: load, generate, public record (dkim_key.h).
 */
#include "msg/dkim_key.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "base/b64.h"

/* Key files are small; a bigger one is not a key. */
#define DKIM_KEY_FILE_MAX 65536

static int key_ssl_err(struct cl_err *err, const char *what, const char *path)
{
	char e[256];
	unsigned long code = ERR_get_error();

	ERR_error_string_n(code, e, sizeof(e));
	ERR_clear_error();
	return err_set(err, CL_ECONFIG, "%s %s: %s", what, path ? path : "", code ? e : "failed");
}

static int key_set(struct dkim_key *k, EVP_PKEY *pkey, const char *path, struct cl_err *err)
{
	if (EVP_PKEY_is_a(pkey, "ED25519")) {
		k->alg = DKIM_ED25519_SHA256;
		k->bits = 256;
	} else if (EVP_PKEY_is_a(pkey, "RSA")) {
		k->alg = DKIM_RSA_SHA256;
		k->bits = EVP_PKEY_get_bits(pkey);
		if (k->bits < 1024) {
			EVP_PKEY_free(pkey);
			return err_set(err, CL_ECONFIG,
			               "DKIM key %s: RSA of %d bits is too short (RFC 8301: at "
			               "least 1024; 2048 is usual)",
			               path, k->bits);
		}
	} else {
		EVP_PKEY_free(pkey);
		return err_set(err, CL_ECONFIG, "DKIM key %s: neither RSA nor Ed25519", path);
	}
	k->pkey = pkey;
	return 0;
}

int dkim_key_load(struct dkim_key *k, const char *path, struct cl_err *err)
{
	char data[DKIM_KEY_FILE_MAX];
	struct stat st;
	ssize_t got;
	size_t len = 0;
	BIO *bio;
	EVP_PKEY *pkey;
	int fd;

	memset(k, 0, sizeof(*k));
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return err_set(err, CL_ECONFIG, "DKIM key %s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return err_set(err, CL_ECONFIG, "DKIM key %s: not a regular file", path);
	}
	if (st.st_mode & S_IROTH) {
		close(fd);
		return err_set(err, CL_ECONFIG,
		               "DKIM key %s: others may read it (chmod o-rwx %s: only its owner "
		               "and the group clsmtpd runs as)",
		               path, path);
	}
	while ((got = read(fd, data + len, sizeof(data) - len)) > 0)
		len += (size_t)got;
	close(fd);
	if (got < 0 || len == sizeof(data)) {
		OPENSSL_cleanse(data, sizeof(data));
		return err_set(err, CL_ECONFIG, "DKIM key %s: %s", path,
		               got < 0 ? strerror(errno) : "too big for a key");
	}
	bio = BIO_new_mem_buf(data, (int)len);
	pkey = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
	BIO_free(bio);
	OPENSSL_cleanse(data, sizeof(data));
	if (pkey == NULL)
		return key_ssl_err(err, "DKIM key: no PEM private key in", path);
	return key_set(k, pkey, path, err);
}

void dkim_key_free(struct dkim_key *k)
{
	EVP_PKEY_free(k->pkey);
	k->pkey = NULL;
}

const char *dkim_key_sig_name(const struct dkim_key *k)
{
	return k->alg == DKIM_ED25519_SHA256 ? "ed25519-sha256" : "rsa-sha256";
}

const char *dkim_key_type_name(const struct dkim_key *k)
{
	return k->alg == DKIM_ED25519_SHA256 ? "ed25519" : "rsa";
}

int dkim_key_generate(struct dkim_key *k, enum dkim_alg alg, int bits, struct cl_err *err)
{
	EVP_PKEY *pkey;

	memset(k, 0, sizeof(*k));
	if (alg == DKIM_RSA_SHA256 && (bits < 1024 || bits > 8192))
		return err_set(err, CL_EUSAGE,
		               "RSA key size %d: choose 1024 to 8192 (2048 is usual)", bits);
	pkey = alg == DKIM_ED25519_SHA256 ? EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")
	                                  : EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
	if (pkey == NULL)
		return key_ssl_err(err, "DKIM key generation", NULL);
	return key_set(k, pkey, "(new)", err);
}

int dkim_key_pem(const struct dkim_key *k, struct buf *out, struct cl_err *err)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *p;
	long n;
	int r;

	if (bio == NULL ||
	    !PEM_write_bio_PKCS8PrivateKey(bio, k->pkey, NULL, NULL, 0, NULL, NULL)) {
		BIO_free(bio);
		return key_ssl_err(err, "DKIM key: PEM", NULL);
	}
	n = BIO_get_mem_data(bio, &p);
	r = n > 0 ? buf_add(out, p, (size_t)n) : -1;
	if (n > 0)
		OPENSSL_cleanse(p, (size_t)n);
	BIO_free(bio);
	return r < 0 ? err_set(err, CL_EIO, "DKIM key: PEM too big") : 0;
}

int dkim_key_record(const struct dkim_key *k, struct buf *out, struct cl_err *err)
{
	unsigned char raw[32], *der = NULL;
	size_t rlen = sizeof(raw);
	int n, r;

	buf_printf(out, "v=DKIM1; k=%s; p=", dkim_key_type_name(k));
	if (k->alg == DKIM_ED25519_SHA256) {
		if (!EVP_PKEY_get_raw_public_key(k->pkey, raw, &rlen))
			return key_ssl_err(err, "DKIM key: public key", NULL);
		r = b64_encode(raw, rlen, out);
	} else {
		n = i2d_PUBKEY(k->pkey, &der);
		if (n <= 0)
			return key_ssl_err(err, "DKIM key: public key", NULL);
		r = b64_encode(der, (size_t)n, out);
		OPENSSL_free(der);
	}
	return r < 0 ? err_set(err, CL_EIO, "DKIM key: record too long") : 0;
}

int dkim_zone_line(const char *selector, const char *domain, const char *record, struct buf *out)
{
	size_t len = strlen(record), off = 0;

	buf_printf(out, "%s._domainkey.%s. IN TXT (", selector, domain);
	/* Quoted strings of at most 255 bytes (the record has no '"' nor '\'). */
	while (off < len) {
		size_t k = len - off > 255 ? 255 : len - off;
		buf_printf(out, " \"%.*s\"", (int)k, record + off);
		off += k;
	}
	return buf_adds(out, " )\n");
}
