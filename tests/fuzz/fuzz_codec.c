/*
 * fuzz_codec.c - libFuzzer harness for the codecs under everything else:
 * base64 (one-shot and streamed), quoted-printable, UTF-8 checks and the
 * client's DATA encoder: round trips, line lengths, CRLF only, and exactly
 * one end of data, at the end.
 */
#include "base/b64.h"
#include "fuzz.h"
#include "base/qp.h"
#include "smtp/smtp_data.h"
#include "base/utf8.h"

static void fuzz_lines_max(const struct buf *b, size_t max)
{
	size_t i = 0;

	while (i < b->len) {
		const char *e = memmem(b->data + i, b->len - i, "\r\n", 2);
		size_t n = e ? (size_t)(e - (b->data + i)) : b->len - i;
		FUZZ_ASSERT(n <= max, "encoded lines within their limit");
		i += n + 2;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf a = BUF_INIT(1 << 22), b = BUF_INIT(1 << 22), c = BUF_INIT(1 << 22);
	const char *in = (const char *)data;
	struct b64_enc e;
	struct smtp_data_enc de;
	size_t i, bad, step;
	const char *hit;

	if (size > 65536)
		return 0;
	/* base64 one-shot round trip, and the decoder on raw input. */
	FUZZ_ASSERT(b64_encode(in, size, &a) == 0 && a.len == B64_LEN(size), "b64 length");
	FUZZ_ASSERT(b64_decode(a.data ? a.data : "", a.len, &b) == 0 && b.len == size &&
	                (size == 0 || memcmp(b.data, in, size) == 0),
	            "b64 round trip");
	buf_reset(&b);
	(void)b64_decode(in, size, &b);
	/* Streaming MIME base64, cut at a size from the first byte. */
	step = size ? (size_t)data[0] % 61 + 1 : 1;
	b64_enc_init(&e);
	buf_reset(&b);
	for (i = 0; i < size; i += step)
		FUZZ_ASSERT(b64_enc_chunk(&e, in + i, size - i < step ? size - i : step, &b) == 0,
		            "b64 stream");
	FUZZ_ASSERT(b64_enc_end(&e, &b) == 0, "b64 stream end");
	fuzz_lines_max(&b, B64_LINE);
	buf_reset(&c);
	FUZZ_ASSERT(b64_decode(b.data ? b.data : "", b.len, &c) == 0 && c.len == size &&
	                (size == 0 || memcmp(c.data, in, size) == 0),
	            "streamed b64 round trip");
	/* Quoted-printable round trip and line length; the decoder on raw input. */
	buf_reset(&a);
	buf_reset(&b);
	FUZZ_ASSERT(qp_encode(in, size, &a) == 0, "qp encodes");
	fuzz_lines_max(&a, QP_LINE_MAX);
	FUZZ_ASSERT(qp_decode(a.data ? a.data : "", a.len, &b) == 0 && b.len == size &&
	                (size == 0 || memcmp(b.data, in, size) == 0),
	            "qp round trip");
	buf_reset(&b);
	(void)qp_decode(in, size, &b);
	/* UTF-8. */
	if (utf8_valid(in, size, &bad)) {
		size_t k = utf8_prefix_len(in, size, size / 2);
		FUZZ_ASSERT(
		    k <= size / 2 &&
		        (k == size || utf8_seq_len((const unsigned char *)in + k, size - k) > 0),
		    "prefix ends on a character boundary");
	} else {
		FUZZ_ASSERT(bad < size, "the first bad byte is inside the input");
	}
	/* The client's DATA encoder: what any message becomes on the wire. */
	buf_reset(&a);
	buf_adds(&a, "\r\n");
	smtp_data_enc_init(&de, 1);
	for (i = 0; i < size; i += step)
		FUZZ_ASSERT(
		    smtp_data_enc_chunk(&de, in + i, size - i < step ? size - i : step, &a) == 0,
		    "DATA encoder");
	FUZZ_ASSERT(smtp_data_enc_end(&de, &a) == 0, "DATA encoder end");
	FUZZ_ASSERT(!fuzz_has_bare_eol(a.data, a.len), "CRLF only on the wire");
	hit = memmem(a.data, a.len, "\r\n.\r\n", 5);
	FUZZ_ASSERT(hit == a.data + a.len - 5, "one end of data, at the end");
	buf_free(&a);
	buf_free(&b);
	buf_free(&c);
	return 0;
}
