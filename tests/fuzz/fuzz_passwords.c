/*
 * fuzz_passwords.c - libFuzzer harness for the client's -p password file
 * (passfile.c) and clsmtpd's users file (users.c), written to private 0600
 * files: a password is one line, an error never quotes one (checked against
 * the same file with the passwords changed, so the error's own words are no
 * finding), and a loaded users file saves and loads back with the same
 * accounts.
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

/* The bytes after the second ':' of each line (not a comment): where a
 * "u:s:password" line keeps its password. f(d, at, len) for each. */
static void fuzz_each_password(const uint8_t *d, size_t n,
                               void (*f)(const uint8_t *, size_t, size_t, void *), void *arg)
{
	size_t i = 0;

	while (i < n) {
		const uint8_t *e = memchr(d + i, '\n', n - i);
		size_t len = e ? (size_t)(e - (d + i)) : n - i;
		const uint8_t *c1 = memchr(d + i, ':', len), *c2 = NULL;

		if (c1 != NULL && d[i] != '#')
			c2 = memchr(c1 + 1, ':', (size_t)(d + i + len - c1 - 1));
		if (c2 != NULL)
			f(d, (size_t)(c2 + 1 - d), (size_t)(d + i + len - c2 - 1), arg);
		i += len + 1;
	}
}

/* A letter moved to another letter of the same kind (hex digit or not, same
 * case), so a password keeps the shape the parsers look at. */
static uint8_t fuzz_rot(uint8_t c)
{
	if (c >= 'a' && c <= 'f')
		return c == 'f' ? 'a' : c + 1;
	if (c >= 'A' && c <= 'F')
		return c == 'F' ? 'A' : c + 1;
	if (c >= 'g' && c <= 'z')
		return c == 'z' ? 'g' : c + 1;
	if (c >= 'G' && c <= 'Z')
		return c == 'Z' ? 'G' : c + 1;
	return c;
}

static void fuzz_rot_password(const uint8_t *d, size_t at, size_t len, void *arg)
{
	uint8_t *copy = arg;
	size_t k;

	(void)d;
	for (k = at; k < at + len; k++)
		copy[k] = fuzz_rot(copy[k]);
}

/* The two runs' messages and the rotated input, for the leak check. */
struct fuzz_leak {
	const char *msg, *msg_rot;
	const uint8_t *rot;
};

/* A password (8 bytes or more) quoted by the error is a leak when the error
 * for the same file with that password's letters changed quotes the changed
 * password too: text the message holds anyway ("malformed entry", the
 * path, the names looked up) is not quoted from the file. */
static void fuzz_check_password(const uint8_t *d, size_t at, size_t len, void *arg)
{
	const struct fuzz_leak *l = arg;

	if (len < 8 || memchr(d + at, '\0', len) != NULL)
		return;
	if (memmem(l->msg, strlen(l->msg), d + at, len) != NULL)
		FUZZ_ASSERT(memmem(l->msg_rot, strlen(l->msg_rot), l->rot + at, len) == NULL,
		            "an error never quotes a password");
}

static void fuzz_write(const char *path, const uint8_t *d, size_t n)
{
	FILE *f = fopen(path, "w");

	if (f == NULL || (n > 0 && fwrite(d, 1, n, f) != n))
		abort();
	fclose(f);
}

/* Parse the file as data[0] says; 0, or -1 with the error in msg. */
static int fuzz_parse(unsigned mode, const uint8_t *d, size_t n, char *msg, size_t cap)
{
	struct cl_err err;
	int r;

	fuzz_write(fuzz_path, d, n);
	if (mode & 1) {
		struct buf pw = BUF_INIT(4096);

		buf_set_secret(&pw);
		r = passfile_lookup(fuzz_path, "alice", "mx.example.test", &pw, &err);
		if (r == 0)
			/* A CR inside stays: sasl_client.c refuses CR and LF in secrets. */
			FUZZ_ASSERT(strchr(buf_cstr(&pw), '\n') == NULL, "a password is one line");
		buf_wipe(&pw);
	} else {
		struct users u, v;
		size_t i;

		r = users_load(&u, fuzz_path, 0, &err);
		if (r == 0) {
			for (i = 0; i < u.n; i++)
				FUZZ_ASSERT(users_name_ok(u.e[i].name), "account names are valid");
			if (users_save(&u, fuzz_path2, &err) == 0) {
				FUZZ_ASSERT(users_load(&v, fuzz_path2, 0, &err) == 0,
				            "a saved users file loads again");
				FUZZ_ASSERT(v.n == u.n, "with the same accounts");
				users_free(&v);
			}
			users_free(&u);
		}
	}
	snprintf(msg, cap, "%s", r == 0 ? "" : err.msg);
	return r == 0 ? 0 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char msg[1024], msg_rot[1024];
	uint8_t *rot;
	struct fuzz_leak l;

	if (size < 1 || size > 65536)
		return 0;
	if (fuzz_parse(data[0], data + 1, size - 1, msg, sizeof(msg)) == 0)
		return 0;
	/* An error: the same file with every password's letters changed. */
	if ((rot = malloc(size)) == NULL)
		abort();
	memcpy(rot, data + 1, size - 1);
	fuzz_each_password(data + 1, size - 1, fuzz_rot_password, rot);
	fuzz_parse(data[0], rot, size - 1, msg_rot, sizeof(msg_rot));
	l.msg = msg;
	l.msg_rot = msg_rot;
	l.rot = rot;
	fuzz_each_password(data + 1, size - 1, fuzz_check_password, &l);
	free(rot);
	return 0;
}
