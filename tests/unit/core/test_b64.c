/* test_b64.c - base64: the RFC 4648 vectors, strict decoding, and the MIME
 * line encoder's 76-column CRLF lines whatever the input chunking. */
#include <stdint.h>
#include <stdlib.h>

#include "base/b64.h"
#include "check.h"
#include "testutil.h"

TEST_RNG(rnd, 4648u)

TEST(test_b64_rfc4648_vectors)
{
	static const char *const in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
	static const char *const want[] = {"",         "Zg==",     "Zm8=",    "Zm9v",
	                                   "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
	struct buf b = BUF_INIT(64), d = BUF_INIT(64);
	size_t i;

	for (i = 0; i < 7; i++) {
		buf_reset(&b);
		buf_reset(&d);
		CHECK(b64_encode(in[i], strlen(in[i]), &b) == 0);
		CHECK_STR(buf_cstr(&b), want[i]);
		CHECK(b64_decode(want[i], strlen(want[i]), &d) == 0);
		CHECK_STR(buf_cstr(&d), in[i]);
	}
	buf_free(&b);
	buf_free(&d);
}

TEST(test_b64_decode_refuses_malformed_input)
{
	static const char *const bad[] = {
	    "Zg=", "Z===", "Zm9v!", "Zg==Zg==", "Zm9", "Z", "Zg=a", "=Zg="};
	struct buf d = BUF_INIT(64);
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(b64_decode(bad[i], strlen(bad[i]), &d) == -1);
		CHECK_INT(d.len, 0);
	}
	CHECK(b64_decode("Zm9v\r\nYmFy\r\n", 12, &d) == 0);
	CHECK_STR(buf_cstr(&d), "foobar");
	buf_free(&d);
}

TEST(test_b64_lines_are_76_columns_for_any_chunking)
{
	unsigned char in[700];
	struct buf out = BUF_INIT(4096), dec = BUF_INIT(4096), line = BUF_INIT(4096);
	struct b64_enc e;
	size_t len, off, n, i, p;
	int round;

	for (round = 0; round < 400; round++) {
		len = rnd() % sizeof(in);
		for (i = 0; i < len; i++)
			in[i] = (unsigned char)rnd();
		buf_reset(&out);
		b64_enc_init(&e);
		for (off = 0; off < len; off += n) {
			n = 1 + rnd() % 130;
			if (n > len - off)
				n = len - off;
			CHECK(b64_enc_chunk(&e, in + off, n, &out) == 0);
		}
		CHECK(b64_enc_end(&e, &out) == 0);
		/* Every line but the last is exactly 76; all end in CRLF. */
		for (p = 0; p < out.len; p += n + 2) {
			n = (size_t)((char *)memchr(out.data + p, '\r', out.len - p) -
			             (out.data + p));
			CHECK(out.data[p + n + 1] == '\n');
			CHECK(n == B64_LINE || (p + n + 2 == out.len && n > 0 && n <= B64_LINE));
		}
		CHECK_INT(out.len, B64_LEN(len) + 2 * ((len + B64_LINE_RAW - 1) / B64_LINE_RAW));
		buf_reset(&dec);
		CHECK(b64_decode(buf_cstr(&out), out.len, &dec) == 0);
		CHECK(dec.len == len && (len == 0 || memcmp(dec.data, in, len) == 0));
		/* One line and many lines carry the same text. */
		buf_reset(&line);
		CHECK(b64_encode(in, len, &line) == 0);
		buf_reset(&dec);
		CHECK(b64_decode(buf_cstr(&line), line.len, &dec) == 0);
		CHECK(dec.len == len && (len == 0 || memcmp(dec.data, in, len) == 0));
	}
	buf_free(&out);
	buf_free(&dec);
	buf_free(&line);
}

TEST(test_b64_full_output_leaves_encoder_unchanged)
{
	unsigned char in[200];
	struct buf small = BUF_INIT(100), all = BUF_INIT(1000), one = BUF_INIT(1000);
	struct b64_enc e;

	memset(in, 0xa5, sizeof(in));
	b64_enc_init(&e);
	CHECK(b64_enc_chunk(&e, in, 150, &small) == -1); /* two lines: 156 */
	CHECK_INT(small.len, 0);
	CHECK(b64_enc_chunk(&e, in, 100, &small) == 0);
	buf_add(&all, small.data, small.len);
	buf_reset(&small);
	CHECK(b64_enc_chunk(&e, in + 100, 50, &small) == 0);
	buf_add(&all, small.data, small.len);
	buf_reset(&small);
	CHECK(b64_enc_chunk(&e, in + 150, 50, &small) == 0);
	buf_add(&all, small.data, small.len);
	buf_reset(&small);
	CHECK(b64_enc_end(&e, &small) == 0);
	buf_add(&all, small.data, small.len);
	b64_enc_init(&e);
	CHECK(b64_enc_chunk(&e, in, sizeof(in), &one) == 0 && b64_enc_end(&e, &one) == 0);
	CHECK_STR(buf_cstr(&all), buf_cstr(&one));
	buf_free(&small);
	buf_free(&all);
	buf_free(&one);
}

TEST(test_b64_one_line_of_a_large_input)
{
	size_t len = 5000, i;
	unsigned char *in = malloc(len);
	struct buf out = BUF_INIT(10000), dec = BUF_INIT(10000);

	for (i = 0; i < len; i++)
		in[i] = (unsigned char)(i * 7);
	CHECK(b64_encode(in, len, &out) == 0);
	CHECK_INT(out.len, B64_LEN(len));
	CHECK(memchr(out.data, '\n', out.len) == NULL);
	CHECK(b64_decode(out.data, out.len, &dec) == 0);
	CHECK(dec.len == len && memcmp(dec.data, in, len) == 0);
	free(in);
	buf_free(&out);
	buf_free(&dec);
}

int main(void)
{
	RUN(test_b64_rfc4648_vectors);
	RUN(test_b64_decode_refuses_malformed_input);
	RUN(test_b64_lines_are_76_columns_for_any_chunking);
	RUN(test_b64_full_output_leaves_encoder_unchanged);
	RUN(test_b64_one_line_of_a_large_input);
	CHECK_DONE();
}
