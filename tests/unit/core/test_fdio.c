/* test_fdio.c - whole writes to a file descriptor (base/fdio.c) and the
 * body source over a file descriptor (smtp/body_source.c): everything
 * written and read back, a full disk is an error, a file shorter than its
 * recorded size is CL_EIO naming the file. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/fdio.h"
#include "check.h"
#include "smtp/body_source.h"

static int tmpfile_fd(void)
{
	char path[] = "/tmp/test_fdio.XXXXXX";
	int fd = mkstemp(path);

	if (fd >= 0)
		unlink(path);
	return fd;
}

TEST(test_fd_write_all_writes_everything_and_reports_a_full_disk)
{
	size_t n = 3 * 1024 * 1024 + 17, i;
	char *p = malloc(n), *q = malloc(n);
	int fd = tmpfile_fd(), full = open("/dev/full", O_WRONLY);

	for (i = 0; i < n; i++)
		p[i] = (char)(i * 31 + 7);
	CHECK_INT(fd_write_all(fd, p, n), 0);
	CHECK_INT(lseek(fd, 0, SEEK_SET), 0);
	CHECK_INT(read(fd, q, n), (long long)n);
	CHECK(memcmp(p, q, n) == 0);
	CHECK_INT(fd_write_all(fd, p, 0), 0);
	if (full >= 0) {
		errno = 0;
		CHECK_INT(fd_write_all(full, p, 10), -1);
		CHECK_INT(errno, ENOSPC);
		close(full);
	}
	close(fd);
	free(p);
	free(q);
}

TEST(test_fd_body_source_reads_its_size_in_pieces)
{
	struct smtp_body_source src;
	struct smtp_fd_source fs;
	struct buf out = BUF_INIT(1 << 20);
	struct cl_err err;
	int fd = tmpfile_fd(), r, calls = 0;

	CHECK_INT(fd_write_all(fd, "HEADERbody of the message\r\n", 27), 0);
	lseek(fd, 6, SEEK_SET); /* the caller has read the header */
	smtp_body_from_fd(&src, &fs, fd, 21, "spool");
	CHECK_INT(src.size, 21);
	err_clear(&err);
	while ((r = src.read(src.arg, &out, 8, &err)) == 1)
		calls++;
	CHECK_INT(r, 0);
	CHECK_INT(calls, 2);
	CHECK_STR(buf_cstr(&out), "body of the message\r\n");
	/* the file is shorter than its recorded size */
	lseek(fd, 6, SEEK_SET);
	buf_reset(&out);
	smtp_body_from_fd(&src, &fs, fd, 100, "queue");
	while ((r = src.read(src.arg, &out, 64, &err)) == 1)
		;
	CHECK_INT(r, -1);
	CHECK_INT(err.cls, CL_EIO);
	CHECK_STR(err.msg, "queue: the message file is shorter than its recorded size");
	close(fd);
	buf_free(&out);
}

int main(void)
{
	RUN(test_fd_write_all_writes_everything_and_reports_a_full_disk);
	RUN(test_fd_body_source_reads_its_size_in_pieces);
	CHECK_DONE();
}
