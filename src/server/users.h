/*
 * users.h - the users file of clsmtpd (managed by clsmtpd-passwd): one
 * account per line, "NAME scram=ITER,SALT,SHA1-STORED,SHA1-SERVER,
 * SHA256-STORED,SHA256-SERVER [plain=BASE64]". The plain field is there only
 * for accounts whose owner chose CRAM-MD5/DIGEST-MD5 (they need it).
 */
#ifndef CLSMTPD_USERS_H
#define CLSMTPD_USERS_H

#include <stddef.h>
#include "base/err.h"
#include "sasl/sasl_server.h"

#define USERS_NAME_MAX 255

struct users_entry {
	char *name;
	struct sasl_server_cred cred;
};

struct users {
	struct users_entry *e;
	size_t n;
};

/* Load file; a missing file is an empty list only when missing_ok. */
int users_load(struct users *u, const char *file, int missing_ok, struct cl_err *err);
void users_free(struct users *u);
/* sasl_server_lookup_fn over a struct users. */
int users_lookup(void *arg, const char *name, struct sasl_server_cred *cred);
struct users_entry *users_find(struct users *u, const char *name);
/* Set (add or replace) name's credentials from password; keep_plain stores
 * the plaintext too (CRAM-MD5, DIGEST-MD5). */
int users_set(struct users *u, const char *name, const char *password, int keep_plain,
              struct cl_err *err);
int users_remove(struct users *u, const char *name);
/* Write atomically: temp file, fsync, rename, fsync of the directory. */
int users_save(const struct users *u, const char *file, struct cl_err *err);
/* 1 if name is usable as an account name (no blanks, controls, ':'). */
int users_name_ok(const char *name);

#endif
