/* test_msgstream.c - the message as pieces read in order: attachments
 * base64-encoded as they are read, whatever the read size, in 76-column
 * CRLF lines, with the size known beforehand; a pipe read ahead; a file
 * that changes while it is sent is an error; rewinding for a second read. */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/b64.h"
#include "check.h"
#include "testutil.h"
#include "msg/msgstream.h"

TEST_RNG(rnd, 3030u)

/* A temporary file holding n random octets (also copied to data). */
static int temp_file(size_t n, unsigned char *data)
{
	char path[] = "/tmp/test_msgstream.XXXXXX";
	int fd = mkstemp(path);
	size_t i;

	unlink(path);
	for (i = 0; i < n; i++)
		data[i] = (unsigned char)rnd();
	if (fd < 0 || write(fd, data, n) != (ssize_t)n || lseek(fd, 0, SEEK_SET) != 0)
		return -1;
	return fd;
}

/* Read ms whole with reads of at most max octets. */
static int read_all(struct msgstream *ms, size_t max, struct buf *out, struct cl_err *err)
{
	struct buf chunk = BUF_INIT(max);
	int r;

	do {
		buf_reset(&chunk);
		r = msgstream_read(ms, &chunk, max, err);
		if (chunk.len > max || buf_add(out, chunk.data, chunk.len) < 0)
			r = -1;
	} while (r > 0);
	buf_free(&chunk);
	return r;
}

/* Every line of b is at most 76 characters and ends in CRLF. */
static int b64_lines_ok(const char *s, size_t n)
{
	size_t i, bol = 0;

	for (i = 0; i < n; i++)
		if (s[i] == '\n') {
			if (i == 0 || s[i - 1] != '\r' || i - 1 - bol > B64_LINE)
				return 0;
			bol = i + 1;
		}
	return bol == n;
}

TEST(test_msgstream_attachment_sizes_encode_exactly_whatever_the_read_size)
{
	static const size_t sizes[] = {0, 1, 2, 3, 56, 57, 58, 76, 1000, 65536 + 1, 200000};
	static const size_t reads[] = {78, 79, 155, 1000, 1 << 20};
	unsigned char *data = malloc(200000);
	struct buf out = BUF_INIT(1 << 22), dec = BUF_INIT(1 << 22);
	struct msgstream ms;
	struct smtp_body_source src;
	struct cl_err err;
	size_t i, j;
	int fd;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		for (j = 0; j < sizeof(reads) / sizeof(reads[0]); j++) {
			fd = temp_file(sizes[i], data);
			CHECK(fd >= 0);
			msgstream_init(&ms);
			CHECK(msgstream_adds(&ms, "head\r\n\r\n") == 0);
			CHECK(msgstream_add_b64(&ms, fd, NULL, 0, (long long)sizes[i], "f") == 0);
			CHECK(msgstream_adds(&ms, "--end\r\n") == 0);
			msgstream_source(&ms, &src);
			buf_reset(&out);
			CHECK(read_all(&ms, reads[j], &out, &err) == 0);
			CHECK_INT(src.size, (long long)out.len);
			CHECK(out.len >= 15 && memcmp(out.data, "head\r\n\r\n", 8) == 0);
			CHECK(memcmp(out.data + out.len - 7, "--end\r\n", 7) == 0);
			CHECK(b64_lines_ok(out.data + 8, out.len - 15));
			buf_reset(&dec);
			CHECK(b64_decode(out.data + 8, out.len - 15, &dec) == 0);
			CHECK(dec.len == sizes[i] &&
			      memcmp(dec.data ? dec.data : "", data, sizes[i]) == 0);
			msgstream_free(&ms);
			close(fd);
		}
	}
	CHECK_INT(msgstream_b64_size(0), 0);
	CHECK_INT(msgstream_b64_size(57), 78);
	CHECK_INT(msgstream_b64_size(58), 78 + 6);
	free(data);
	buf_free(&out);
	buf_free(&dec);
}

TEST(test_msgstream_pipe_with_peek_has_unknown_size_and_arrives_whole)
{
	unsigned char data[5000];
	struct buf out = BUF_INIT(1 << 20), dec = BUF_INIT(1 << 20);
	struct msgstream ms;
	struct smtp_body_source src;
	struct cl_err err;
	int p[2];
	size_t i;

	for (i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)rnd();
	CHECK(pipe(p) == 0);
	/* 1000 octets already read ahead (the peek); the rest in the pipe. */
	CHECK(write(p[1], data + 1000, 4000) == 4000);
	close(p[1]);
	msgstream_init(&ms);
	CHECK(msgstream_add_b64(&ms, p[0], (const char *)data, 1000, -1, "stdin") == 0);
	msgstream_source(&ms, &src);
	CHECK_INT(src.size, -1);
	CHECK(read_all(&ms, 4096, &out, &err) == 0);
	CHECK(b64_decode(out.data, out.len, &dec) == 0);
	CHECK(dec.len == 5000 && memcmp(dec.data, data, 5000) == 0);
	/* A pipe read past its peek cannot be read again. */
	CHECK(msgstream_rewind(&ms, &err) == -1);
	CHECK_INT(err.cls, CL_EIO);
	msgstream_free(&ms);
	close(p[0]);
	buf_free(&out);
	buf_free(&dec);
}

TEST(test_msgstream_file_that_changes_size_is_an_error_not_a_short_attachment)
{
	unsigned char data[3000];
	struct buf out = BUF_INIT(1 << 20);
	struct msgstream ms;
	struct cl_err err;
	int fd = temp_file(sizeof(data), data);

	msgstream_init(&ms);
	/* Declared 4000 octets, the file holds 3000: it shrank. */
	CHECK(msgstream_add_b64(&ms, fd, NULL, 0, 4000, "attachment a.bin") == 0);
	CHECK(read_all(&ms, 1 << 20, &out, &err) == -1);
	CHECK_INT(err.cls, CL_EIO);
	CHECK(strstr(err.msg, "attachment a.bin changed size") != NULL);
	msgstream_free(&ms);
	/* Declared 2000: it grew. */
	lseek(fd, 0, SEEK_SET);
	msgstream_init(&ms);
	CHECK(msgstream_add_b64(&ms, fd, NULL, 0, 2000, "attachment a.bin") == 0);
	buf_reset(&out);
	CHECK(read_all(&ms, 1 << 20, &out, &err) == -1);
	CHECK(strstr(err.msg, "grew") != NULL);
	msgstream_free(&ms);
	close(fd);
	buf_free(&out);
}

TEST(test_msgstream_rewind_reads_the_same_bytes_again)
{
	unsigned char data[10000];
	struct buf one = BUF_INIT(1 << 20), two = BUF_INIT(1 << 20);
	struct msgstream ms;
	struct cl_err err;
	int fd = temp_file(sizeof(data), data);

	msgstream_init(&ms);
	msgstream_adds(&ms, "A\r\n");
	msgstream_add_b64(&ms, fd, NULL, 0, sizeof(data), "f");
	msgstream_add_fd(&ms, fd, -1, "g"); /* nothing left: the b64 piece read it all */
	msgstream_adds(&ms, "Z\r\n");
	CHECK(read_all(&ms, 500, &one, &err) == 0);
	CHECK(msgstream_rewind(&ms, &err) == 0);
	CHECK(read_all(&ms, 700, &two, &err) == 0);
	CHECK(one.len == two.len && memcmp(one.data, two.data, one.len) == 0);
	CHECK(msgstream_read(&ms, &two, 10, &err) == -1); /* reads under a line are refused */
	msgstream_free(&ms);
	close(fd);
	buf_free(&one);
	buf_free(&two);
}

int main(void)
{
	RUN(test_msgstream_attachment_sizes_encode_exactly_whatever_the_read_size);
	RUN(test_msgstream_pipe_with_peek_has_unknown_size_and_arrives_whole);
	RUN(test_msgstream_file_that_changes_size_is_an_error_not_a_short_attachment);
	RUN(test_msgstream_rewind_reads_the_same_bytes_again);
	CHECK_DONE();
}
