/*
 * fuzz_server_data.c - libFuzzer harness for the server's DATA/BDAT reader
 * (smtp_server_data.c) against a plain reference model: DATA ends at the
 * first <CRLF>.<CRLF> only (SMTP smuggling), bare CR/LF and NUL are found,
 * unstuffing is exact, and the cut into reads never matters. See security.md.
 */
#include "fuzz.h"
#include "serve/smtp_server_data.h"

struct fuzz_run {
	struct smtp_dreader r;
	struct buf msg; /* every byte the reader produced */
	size_t used;    /* input bytes consumed */
};

/* Feed in[0..n) in pieces of at most step bytes (0: all at once) through an
 * output buffer of outmax bytes, flushed whenever the reader stops short. */
static void fuzz_data_run(struct fuzz_run *run, const char *in, size_t n, int dots, int norm,
                          size_t line_max, long long size_max, size_t step, size_t outmax)
{
	struct buf out = BUF_INIT(outmax);

	smtp_dreader_init(&run->r, dots, norm, line_max, size_max);
	buf_init(&run->msg, 1 << 22);
	run->used = 0;
	while (run->used < n && !run->r.done) {
		size_t want = n - run->used, k;

		if (step > 0 && want > step)
			want = step;
		k = smtp_dreader_feed(&run->r, in + run->used, want, &out);
		FUZZ_ASSERT(k <= want, "consumes at most what it was given");
		run->used += k;
		FUZZ_ASSERT(buf_add(&run->msg, out.data, out.len) == 0, "harness buffer");
		FUZZ_ASSERT(k > 0 || out.len > 0 || run->r.done, "the reader makes progress");
		buf_reset(&out);
	}
	if (!dots)
		smtp_dreader_finish(&run->r, &out);
	FUZZ_ASSERT(buf_add(&run->msg, out.data, out.len) == 0, "harness buffer");
	buf_free(&out);
}

/* The reference: end of data and the unstuffed message. Returns the offset
 * of the end (bytes of input up to and including ".\r\n"), or 0 if none;
 * *content is the length of the message bytes before it. */
static size_t fuzz_data_ref_end(const char *in, size_t n, size_t *content)
{
	size_t j;

	/* The message starts after the DATA command's CRLF. */
	if (n >= 3 && memcmp(in, ".\r\n", 3) == 0) {
		*content = 0;
		return 3;
	}
	for (j = 0; j + 5 <= n; j++) {
		if (memcmp(in + j, "\r\n.\r\n", 5) == 0) {
			*content = j + 2;
			return j + 5;
		}
	}
	*content = n;
	return 0;
}

static void fuzz_data_ref_unstuff(const char *c, size_t n, int dots, struct buf *out)
{
	size_t i = 0;

	while (i < n) {
		const char *e = memchr(c + i, '\n', n - i);
		size_t len = e ? (size_t)(e - (c + i)) + 1 : n - i;

		if (dots && c[i] == '.')
			buf_add(out, c + i + 1, len - 1);
		else
			buf_add(out, c + i, len);
		i += len;
	}
}

/* The longest line of c (CRLF-separated, stuffing dots not counted). */
static size_t fuzz_data_ref_longest(const char *c, size_t n, int dots)
{
	size_t i = 0, max = 0;

	while (i < n) {
		const char *e = memchr(c + i, '\n', n - i);
		size_t len = e ? (size_t)(e - (c + i)) - 1 : n - i;

		if (dots && len > 0 && c[i] == '.')
			len--;
		if (len > max)
			max = len;
		i = e ? (size_t)(e - c) + 1 : n;
	}
	return max;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t outmaxes[] = {16, 64, 4096, 65536 + 16};
	struct fuzz_run whole, cut;
	struct buf ref = BUF_INIT(1 << 22);
	const char *in;
	size_t n, end, content, line_max, step;
	long long size_max;
	unsigned f;
	int dots, norm, partial = 0;

	if (size < 1 || size > (1 << 20))
		return 0;
	f = data[0];
	in = (const char *)data + 1;
	n = size - 1;
	dots = !(f & 1);
	norm = (f >> 1) & 1;
	line_max = (f & 4) ? 8 : 998;
	size_max = (f & 8) ? 64 : 0;
	step = (f >> 4) & 7;

	fuzz_data_run(&whole, in, n, dots, norm, line_max, size_max, 0, 65536 + 16);
	fuzz_data_run(&cut, in, n, dots, norm, line_max, size_max, step ? step : 1,
	              outmaxes[(f >> 6) & 3]);

	/* Chunking never matters. */
	FUZZ_ASSERT(whole.r.done == cut.r.done, "end of data independent of chunking");
	FUZZ_ASSERT(whole.used == cut.used, "bytes consumed independent of chunking");
	FUZZ_ASSERT(whole.r.flags == cut.r.flags, "findings independent of chunking");
	FUZZ_ASSERT(
	    whole.msg.len == cut.msg.len &&
	        (whole.msg.len == 0 || memcmp(whole.msg.data, cut.msg.data, whole.msg.len) == 0),
	    "message independent of chunking");

	if (dots) {
		end = fuzz_data_ref_end(in, n, &content);
		FUZZ_ASSERT(whole.r.done == (end > 0), "DATA ends exactly at <CRLF>.<CRLF>");
		FUZZ_ASSERT(whole.used == (end > 0 ? end : n),
		            "DATA ends right after <CRLF>.<CRLF>");
	} else {
		FUZZ_ASSERT(!whole.r.done && whole.used == n, "BDAT never ends on content");
		content = n;
	}
	if (dots && !whole.r.done) {
		/* The last line is still open: judge the complete lines only. */
		while (content > 0 &&
		       !(content >= 2 && in[content - 2] == '\r' && in[content - 1] == '\n'))
			content--;
		partial = 1;
	}
	if (norm) {
		FUZZ_ASSERT(!(whole.r.flags & SMTP_DR_BARE_EOL), "normalising never refuses");
		if (!partial)
			FUZZ_ASSERT(!fuzz_has_bare_eol(whole.msg.data, whole.msg.len),
			            "a normalised message has CRLF line ends only");
	} else if (fuzz_has_bare_eol(in, content)) {
		FUZZ_ASSERT(whole.r.flags & SMTP_DR_BARE_EOL, "a bare CR or LF is always found");
	} else if (!partial) {
		FUZZ_ASSERT(!(whole.r.flags & SMTP_DR_BARE_EOL), "no bare CR or LF, no refusal");
		fuzz_data_ref_unstuff(in, content, dots, &ref);
		FUZZ_ASSERT(whole.r.size == (long long)ref.len, "size is the unstuffed size");
		FUZZ_ASSERT(((whole.r.flags & SMTP_DR_NUL) != 0) ==
		                (memchr(in, '\0', content) != NULL),
		            "a NUL byte is always found (RFC 2045 2.8)");
		FUZZ_ASSERT(((whole.r.flags & SMTP_DR_LONG_LINE) != 0) ==
		                (fuzz_data_ref_longest(in, content, dots) > line_max),
		            "a long line is found exactly");
		FUZZ_ASSERT(((whole.r.flags & SMTP_DR_TOO_BIG) != 0) ==
		                (size_max > 0 && (long long)ref.len > size_max),
		            "a big message is found exactly");
		if (whole.r.flags == 0)
			FUZZ_ASSERT(
			    ref.len == whole.msg.len &&
			        (ref.len == 0 || memcmp(ref.data, whole.msg.data, ref.len) == 0),
			    "the message is the unstuffed content");
	}
	buf_free(&ref);
	buf_free(&whole.msg);
	buf_free(&cut.msg);
	return 0;
}
