/*
 * fuzz_server_cmd.c - libFuzzer harness for the server's command parser
 * (smtp_server_cmd.c) on one hostile command line: an accepted address or
 * parameter reaches the spool, logs and Received:, so it must hold no control
 * byte, unquoted space or bracket; a refusal is one "NNN text" line.
 */
#include "fuzz.h"
#include "serve/smtp_server_cmd.h"

static void fuzz_cmd_reply_ok(const struct buf *reply)
{
	const char *r = buf_cstr(reply);

	FUZZ_ASSERT(reply->len >= 4 && r[0] >= '4' && r[0] <= '5' && r[3] == ' ',
	            "a refusal is a 4xx/5xx reply line");
	FUZZ_ASSERT(!fuzz_has_ctl(r, reply->len), "reply is one line");
}

static void fuzz_cmd_addr_ok(const char *a, size_t n)
{
	size_t i;
	int inq = 0;

	FUZZ_ASSERT(n <= 254, "address length bounded (RFC 5321 4.5.3.1.3)");
	FUZZ_ASSERT(!fuzz_has_ctl(a, n), "no control byte in an accepted address");
	for (i = 0; i < n; i++) {
		if (a[i] == '\\' && inq) {
			i++;
			continue;
		}
		if (a[i] == '"')
			inq = !inq;
		else if (!inq)
			FUZZ_ASSERT(a[i] != ' ' && a[i] != '<' && a[i] != '>',
			            "no unquoted space or bracket in an accepted address");
	}
}

static void fuzz_cmd_param_ok(const char *v)
{
	size_t n = strlen(v);

	FUZZ_ASSERT(!fuzz_has_ctl(v, n), "no control byte in an accepted parameter");
	FUZZ_ASSERT(strchr(v, ' ') == NULL, "no space in an accepted parameter");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf addr = BUF_INIT(12288), reply = BUF_INIT(1024);
	struct smtp_mail_params mp;
	struct smtp_rcpt_params rp;
	unsigned long long bsize;
	const char *args, *params;
	enum smtp_verb v;
	char *line;
	int last, utf8;

	/* The server hands the parser a NUL-free line without its CRLF. */
	if (size > 12288 || memchr(data, '\0', size) != NULL)
		return 0;
	line = malloc(size + 1);
	if (line == NULL)
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';
	v = smtp_cmd_verb(line, &args);
	FUZZ_ASSERT(args >= line && args <= line + size, "arguments inside the line");
	FUZZ_ASSERT(smtp_cmd_verb_name(v) != NULL, "every verb has a name");
	/* Whatever the verb, run every parser on the arguments. */
	/* As the server does: the path, then its parameters, then the address. */
	if (smtp_cmd_path(args, "FROM:", 1, &addr, &params, &reply) == 0) {
		if (smtp_cmd_mail_params(params, &mp, &reply) == 0) {
			fuzz_cmd_param_ok(mp.envid);
			fuzz_cmd_param_ok(mp.ret);
			FUZZ_ASSERT(mp.size >= -1, "SIZE is -1 or a size");
			utf8 = mp.smtputf8;
			buf_reset(&reply);
			if (addr.len > 0 && smtp_cmd_addr_check(buf_cstr(&addr), utf8, &reply) < 0)
				fuzz_cmd_reply_ok(&reply);
			else
				fuzz_cmd_addr_ok(buf_cstr(&addr), addr.len);
		} else {
			fuzz_cmd_reply_ok(&reply);
		}
	} else {
		fuzz_cmd_reply_ok(&reply);
	}
	if (smtp_cmd_path(args, "TO:", 0, &addr, &params, &reply) == 0) {
		FUZZ_ASSERT(addr.len > 0, "no empty recipient");
		if (smtp_cmd_rcpt_params(params, &rp, &reply) == 0) {
			fuzz_cmd_param_ok(rp.notify);
			fuzz_cmd_param_ok(rp.orcpt);
		} else {
			fuzz_cmd_reply_ok(&reply);
		}
		buf_reset(&reply);
		if (smtp_cmd_addr_check(buf_cstr(&addr), 1, &reply) == 0)
			fuzz_cmd_addr_ok(addr.data, addr.len);
		else
			fuzz_cmd_reply_ok(&reply);
	}
	/* The address checker alone, on the whole line. */
	buf_reset(&reply);
	if (smtp_cmd_addr_check(line, size & 1, &reply) == 0)
		fuzz_cmd_addr_ok(line, size);
	else
		fuzz_cmd_reply_ok(&reply);
	if (smtp_cmd_bdat(args, &bsize, &last, &reply) == 0)
		FUZZ_ASSERT(bsize < 1000000000000000ULL && (last == 0 || last == 1),
		            "BDAT size at most 15 digits");
	else
		fuzz_cmd_reply_ok(&reply);
	buf_free(&addr);
	buf_free(&reply);
	free(line);
	return 0;
}
