/*
 * fuzz_addr.c - libFuzzer harness for the client's address checks (addr.c,
 * addr_idn.c): an accepted address, display name or list element holds no CR
 * or LF, and wrapped in <> it reads back from the server's parser as exactly
 * itself with no parameter (nothing breaks out of "<...>").
 */
#include "smtp/addr.h"
#include "smtp/addr_idn.h"
#include "fuzz.h"
#include "serve/smtp_server_cmd.h"

static void fuzz_addr_roundtrip(const char *a)
{
	struct buf cmd = BUF_INIT(4096), got = BUF_INIT(4096), reply = BUF_INIT(512);
	const char *params;

	FUZZ_ASSERT(strpbrk(a, "\r\n") == NULL, "no CR or LF in an accepted address");
	FUZZ_ASSERT(strlen(a) <= ADDR_MAX, "accepted address within ADDR_MAX");
	buf_printf(&cmd, "FROM:<%s>", a);
	if (smtp_cmd_path(buf_cstr(&cmd), "FROM:", 1, &got, &params, &reply) == 0) {
		FUZZ_ASSERT(strcmp(buf_cstr(&got), a) == 0,
		            "the server reads back the same address");
		FUZZ_ASSERT(*params == '\0', "no parameter smuggled after the address");
	}
	buf_free(&cmd);
	buf_free(&got);
	buf_free(&reply);
}

static int fuzz_addr_each(void *arg, const char *a)
{
	struct cl_err err;

	(void)arg;
	FUZZ_ASSERT(*a != '\0' && *a != ' ' && *a != ',', "list elements trimmed and non-empty");
	if (addr_check(a, "list element", 0, &err) == 0)
		fuzz_addr_roundtrip(a);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf name = BUF_INIT(4096), addr = BUF_INIT(4096), idn = BUF_INIT(4096);
	struct cl_err err;
	char *s;

	if (size > 4096)
		return 0;
	s = malloc(size + 1);
	if (s == NULL)
		return 0;
	/* Addresses come from argv or a file line: C strings, cut at a NUL. */
	memcpy(s, data, size);
	s[size] = '\0';
	if (addr_check(s, "address", size & 1, &err) == 0) {
		fuzz_addr_roundtrip(s);
		if (addr_idn_ascii(s, &idn, "address", "mx.fuzz.test", &err) == 0)
			FUZZ_ASSERT(!fuzz_has_ctl(idn.data, idn.len),
			            "IDN result has no control byte");
	} else {
		FUZZ_ASSERT(err.cls != CL_OK && strchr(err.msg, '\n') == NULL &&
		                strchr(err.msg, '\r') == NULL,
		            "a refusal is one line");
	}
	if (text_check_line(s, "field", &err) == 0)
		FUZZ_ASSERT(strpbrk(s, "\r\n") == NULL, "an accepted field has no CR or LF");
	if (addr_parse_display(s, &name, &addr, &err) == 0) {
		FUZZ_ASSERT(strpbrk(buf_cstr(&name), "\r\n") == NULL, "display name without CR/LF");
		if (addr.len > 0 && addr_check(buf_cstr(&addr), "-N address", 0, &err) == 0)
			fuzz_addr_roundtrip(buf_cstr(&addr));
	}
	addr_split_list(s, fuzz_addr_each, NULL);
	(void)addr_is_8bit(s);
	buf_free(&name);
	buf_free(&addr);
	buf_free(&idn);
	free(s);
	return 0;
}
