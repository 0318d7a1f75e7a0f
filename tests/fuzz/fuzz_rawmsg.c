/*
 * fuzz_rawmsg.c - libFuzzer harness for whole messages given as they are
 * (rawmsg.c, rawmsg_addr.c: sendmail mode and --raw) read from a file: what
 * is sent has CRLF line ends only, no Bcc field, the size announced, and
 * BODY=8BITMIME exactly when an octet is above 127; sendmail mode takes any
 * input; -t's addresses are non-empty and bounded.
 */
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"
#include "msg/rawmsg.h"
#include "msg/rawmsg_addr.h"

static int fuzz_rawmsg_addr(void *arg, const char *a)
{
	(void)arg;
	FUZZ_ASSERT(*a != '\0' && strlen(a) <= RAWMSG_ADDR_MAX, "an address is non-empty, bounded");
	return 0;
}

/* The header section sent (up to the empty line, or all of it). */
static void fuzz_rawmsg_check_header(const struct rawmsg *m, const char *s, size_t n)
{
	size_t i = 0, e;

	while (i < n) {
		const char *nl = memchr(s + i, '\n', n - i);
		e = nl ? (size_t)(nl - s) + 1 : n;
		if (e - i == 2)
			break;
		FUZZ_ASSERT(strncasecmp(s + i, "Bcc:", 4) != 0, "no Bcc field is sent");
		if (m->mode == RAWMSG_SENDMAIL)
			FUZZ_ASSERT(strncasecmp(s + i, "Resent-Bcc:", 11) != 0,
			            "no Resent-Bcc field is sent");
		i = e;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rawmsg_add add = {1, 1536500481, "fuzz.test", "me@fuzz.test", "Fuzz Name", 0, 0, 0};
	struct buf out = BUF_INIT(1 << 20), v = BUF_INIT(65536);
	struct fuzz_in in = {data, size};
	unsigned flags = fuzz_byte(&in);
	enum rawmsg_mode mode = flags & 1 ? RAWMSG_RAW : RAWMSG_SENDMAIL;
	struct msgstream ms;
	struct rawmsg m;
	struct cl_err err;
	int fd, rc, eight = 0;
	size_t i;

	fd = memfd_create("fuzz_rawmsg", MFD_CLOEXEC);
	if (fd < 0)
		return 0;
	if (write(fd, in.p, in.n) != (ssize_t)in.n || lseek(fd, 0, SEEK_SET) != 0) {
		close(fd);
		return 0;
	}
	if (mode == RAWMSG_RAW)
		add.from_addr = NULL;
	rawmsg_init(&m, mode);
	rc = rawmsg_spool(&m, fd, flags & 2, &err);
	close(fd);
	if (mode == RAWMSG_SENDMAIL)
		FUZZ_ASSERT(rc == 0, "sendmail mode takes any input under the header limit");
	if (rc == 0) {
		if (rawmsg_header_get(&m, flags & 4 ? "From" : "to", &v) == 1)
			FUZZ_ASSERT(strpbrk(buf_cstr(&v), "\r\n") == NULL, "a value is unfolded");
		(void)rawmsg_recipients(&m, fuzz_rawmsg_addr, NULL, &err);
		FUZZ_ASSERT(rawmsg_complete(&m, &add, &err) == 0, "the fields are added");
		msgstream_init(&ms);
		FUZZ_ASSERT(rawmsg_stream(&m, &ms, &err) == 0, "the message streams");
		FUZZ_ASSERT(msgstream_drain(&ms, &out, &err) == 0, "the message reads");
		FUZZ_ASSERT(msgstream_size(&ms) == (long long)out.len,
		            "the size announced is sent");
		msgstream_free(&ms);
		for (i = 0; i < out.len; i++) {
			unsigned char c = (unsigned char)out.data[i];
			eight |= c > 127;
			if (c == '\n')
				FUZZ_ASSERT(i > 0 && out.data[i - 1] == '\r', "LF only after CR");
			if (c == '\r')
				FUZZ_ASSERT(i + 1 < out.len && out.data[i + 1] == '\n',
				            "CR only before LF");
		}
		FUZZ_ASSERT(eight == m.is_8bit, "8BITMIME exactly when an octet is above 127");
		fuzz_rawmsg_check_header(&m, buf_cstr(&out), out.len);
	} else {
		FUZZ_ASSERT(err.cls == CL_EDATA || err.cls == CL_EIO, "a refusal has a class");
	}
	rawmsg_free(&m);
	buf_free(&out);
	buf_free(&v);
	return 0;
}
