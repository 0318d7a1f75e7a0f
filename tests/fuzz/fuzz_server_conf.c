/*
 * fuzz_server_conf.c - libFuzzer harness for clsmtpd.conf (src/server/conf.c):
 * the file is written to a private temporary file and loaded. Checks: a
 * loaded configuration has at least one listener and a hostname; an error
 * names the file and is one line.
 */
#include <unistd.h>

#include "conf.h"
#include "fuzz.h"

static char fuzz_path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int fd;

	(void)argc;
	(void)argv;
	memcpy(fuzz_path, "/tmp/fuzz-conf.XXXXXX", 22);
	fd = mkstemp(fuzz_path);
	if (fd < 0)
		abort();
	close(fd);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf *c = NULL;
	struct cl_err err;
	FILE *f;

	if (size > 65536)
		return 0;
	f = fopen(fuzz_path, "w");
	if (f == NULL)
		abort();
	if (size > 0 && fwrite(data, 1, size, f) != size)
		abort();
	fclose(f);
	if (conf_load(&c, fuzz_path, &err) == 0) {
		FUZZ_ASSERT(c->nlisten > 0 && c->hostname != NULL, "a usable configuration");
		(void)conf_sender_for(c, "nobody-at-all");
		conf_free(c);
	} else {
		FUZZ_ASSERT(strncmp(err.msg, fuzz_path, strlen(fuzz_path)) == 0,
		            "an error names the file");
		FUZZ_ASSERT(strchr(err.msg, '\n') == NULL, "an error is one line");
	}
	return 0;
}
