/*
 * fuzz_passwords.c - libFuzzer harness for the client's -p password file
 * (passfile.c) and clsmtpd's users file (users.c), written to private 0600
 * files: a password is one line, an error never quotes one, and a loaded
 * users file saves and loads back with the same accounts.
 */
#include <unistd.h>

#include "fuzz.h"
#include "passfile.h"
#include "users.h"

static char fuzz_path[64], fuzz_path2[64];

static void fuzz_tmp(char *path)
{
	int fd;

	memcpy(path, "/tmp/fuzz-pw.XXXXXX", 20);
	fd = mkstemp(path);
	if (fd < 0)
		abort();
	close(fd);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_tmp(fuzz_path);
	fuzz_tmp(fuzz_path2);
	return 0;
}

/* No password of a "u:s:password" line (8 bytes or more) in msg. */
static void fuzz_no_password_in(const char *msg, const uint8_t *d, size_t n)
{
	size_t i = 0;

	while (i < n) {
		const uint8_t *e = memchr(d + i, '\n', n - i);
		size_t len = e ? (size_t)(e - (d + i)) : n - i;
		const uint8_t *c1 = memchr(d + i, ':', len), *c2 = NULL;

		/* Comments are skipped; the usage text names "user:server:password". */
		if (c1 != NULL && d[i] != '#')
			c2 = memchr(c1 + 1, ':', (size_t)(d + i + len - c1 - 1));
		if (c2 != NULL) {
			size_t pl = (size_t)(d + i + len - c2 - 1);
			/* An error may name what was looked up and where: a
			 * "password" that is part of those is no leak. */
			if (pl >= 8 && memchr(c2 + 1, '\0', pl) == NULL &&
			    memchr(c2 + 1, '\'', pl) == NULL &&
			    memmem("user:server:password", 20, c2 + 1, pl) == NULL &&
			    memmem("alice mx.example.test", 21, c2 + 1, pl) == NULL &&
			    memmem(fuzz_path, strlen(fuzz_path), c2 + 1, pl) == NULL)
				FUZZ_ASSERT(memmem(msg, strlen(msg), c2 + 1, pl) == NULL,
				            "an error never quotes a password");
		}
		i += len + 1;
	}
}

static void fuzz_write(const char *path, const uint8_t *d, size_t n)
{
	FILE *f = fopen(path, "w");

	if (f == NULL || (n > 0 && fwrite(d, 1, n, f) != n))
		abort();
	fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cl_err err;

	if (size < 1 || size > 65536)
		return 0;
	fuzz_write(fuzz_path, data + 1, size - 1);
	if (data[0] & 1) {
		struct buf pw = BUF_INIT(4096);

		buf_set_secret(&pw);
		if (passfile_lookup(fuzz_path, "alice", "mx.example.test", &pw, &err) == 0)
			/* A CR inside stays: sasl_client.c refuses CR and LF in secrets. */
			FUZZ_ASSERT(strchr(buf_cstr(&pw), '\n') == NULL, "a password is one line");
		else
			fuzz_no_password_in(err.msg, data + 1, size - 1);
		buf_wipe(&pw);
	} else {
		struct users u, v;
		size_t i;

		if (users_load(&u, fuzz_path, 0, &err) == 0) {
			for (i = 0; i < u.n; i++)
				FUZZ_ASSERT(users_name_ok(u.e[i].name), "account names are valid");
			if (users_save(&u, fuzz_path2, &err) == 0) {
				FUZZ_ASSERT(users_load(&v, fuzz_path2, 0, &err) == 0,
				            "a saved users file loads again");
				FUZZ_ASSERT(v.n == u.n, "with the same accounts");
				users_free(&v);
			}
			users_free(&u);
		} else {
			fuzz_no_password_in(err.msg, data + 1, size - 1);
		}
	}
	return 0;
}
