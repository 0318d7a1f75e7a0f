/* test_attach.c - attachments before they are sent: Content-Type from the
 * media type table by extension (and a table of our own when the system's
 * lacks it), text found by content gets text/plain and its charset (also
 * when a character straddles a read), standard input needs a name, a
 * directory is refused, names are UTF-8 without controls. */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "msg/attach.h"
#include "check.h"
#include "msg/mimetype.h"

static char dir[] = "/tmp/test_attach.XXXXXX";

static const char *make(const char *name, const void *data, size_t n)
{
	static char path[4][512];
	static int k;
	char *p = path[k++ % 4];
	int fd;

	snprintf(p, sizeof(path[0]), "%s/%s", dir, name);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, data, n) != (ssize_t)n)
		printf("# cannot write %s\n", p);
	close(fd);
	return p;
}

TEST(test_attach_type_from_the_table_then_builtin_then_default)
{
	struct buf t = BUF_INIT(256);
	const char *table = make("mime.types",
	                         "# comment\napplication/x-test\ttst TSX\n"
	                         "bad-type-line pdf\n",
	                         55);

	CHECK_INT(mimetype_for_name(table, "a.tst", &t), 1);
	CHECK_STR(buf_cstr(&t), "application/x-test");
	buf_reset(&t);
	CHECK_INT(mimetype_for_name(table, "dir.x/A.TsX", &t), 1);
	CHECK_STR(buf_cstr(&t), "application/x-test");
	buf_reset(&t);
	/* Not in this table: our own short list. */
	CHECK_INT(mimetype_for_name(table, "report.PDF", &t), 1);
	CHECK_STR(buf_cstr(&t), "application/pdf");
	buf_reset(&t);
	CHECK_INT(mimetype_for_name(table, "noext", &t), 0);
	CHECK_STR(buf_cstr(&t), MIMETYPE_DEFAULT);
	buf_reset(&t);
	CHECK_INT(mimetype_for_name(table, ".hidden", &t), 0);
	buf_reset(&t);
	/* The system's table (Debian's media-types). */
	if (access(MIMETYPE_TABLE, R_OK) == 0) {
		CHECK_INT(mimetype_for_name(NULL, "sheet.xlsx", &t), 1);
		CHECK_STR(buf_cstr(&t),
		          "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
	}
	CHECK(mimetype_valid("text/plain") && !mimetype_valid("text") && !mimetype_valid("a/b c"));
	buf_free(&t);
}

TEST(test_attach_text_by_content_gets_text_plain_and_charset)
{
	static char big[70000];
	struct attach a;
	struct cl_err err;
	size_t i;

	CHECK(attach_open(&a, make("log", "plain ascii\n", 12), NULL, NULL, &err) == 0);
	CHECK_STR(buf_cstr(&a.type), "text/plain");
	CHECK_STR(a.charset, "US-ASCII");
	CHECK_STR(buf_cstr(&a.name), "log");
	CHECK_INT(a.size, 12);
	attach_close(&a);
	/* A three-octet character across the 64 KiB read boundary. */
	for (i = 0; i < sizeof(big); i++)
		big[i] = 'a';
	memcpy(big + 65535, "\xe6\x97\xa5", 3);
	CHECK(attach_open(&a, make("big.log", big, sizeof(big)), NULL, NULL, &err) == 0);
	CHECK_STR(buf_cstr(&a.type), "text/plain");
	CHECK_STR(a.charset, "UTF-8");
	attach_close(&a);
	/* Shift_JIS text: text, but no charset we can name. */
	CHECK(attach_open(&a, make("sjis.txt", "\x93\xfa\x96\x7b\n", 5), NULL, NULL, &err) == 0);
	CHECK_STR(buf_cstr(&a.type), "text/plain");
	CHECK(a.charset == NULL);
	attach_close(&a);
	/* Binary with an unknown extension stays application/octet-stream. */
	CHECK(attach_open(&a, make("x.unknownext", "\x00\x01\x02", 3), NULL, NULL, &err) == 0);
	CHECK_STR(buf_cstr(&a.type), MIMETYPE_DEFAULT);
	CHECK(a.charset == NULL);
	attach_close(&a);
	CHECK_INT(attach_classify("a\x1b$B", 4, 1), ATTACH_OTHER);
	CHECK_INT(attach_classify("\xe6\x97", 2, 0), ATTACH_UTF8); /* cut, not wrong */
	CHECK_INT(attach_classify("\xe6\x97", 2, 1), ATTACH_OTHER);
}

TEST(test_attach_standard_input_needs_a_name_and_is_read_ahead)
{
	struct attach a;
	struct cl_err err;
	int p[2], saved = dup(0);

	CHECK(attach_open(&a, "-", NULL, NULL, &err) == -1);
	CHECK_INT(err.cls, CL_EUSAGE);
	CHECK(strstr(err.msg, "--attach-name") != NULL);
	attach_close(&a);
	CHECK(pipe(p) == 0);
	CHECK(write(p[1], "col1,col2\n1,2\n", 14) == 14);
	close(p[1]);
	dup2(p[0], 0);
	close(p[0]);
	CHECK(attach_open(&a, "-", "  data.csv ", NULL, &err) == 0);
	CHECK_STR(buf_cstr(&a.name), "data.csv");
	CHECK_STR(buf_cstr(&a.type), "text/csv");
	CHECK_STR(a.charset, "US-ASCII");
	CHECK_INT(a.size, 14); /* the whole pipe fit in the read-ahead */
	CHECK_INT(a.peek.len, 14);
	attach_close(&a);
	dup2(saved, 0);
	close(saved);
}

TEST(test_attach_refuses_directories_missing_files_and_bad_names)
{
	struct attach a;
	struct cl_err err;

	CHECK(attach_open(&a, dir, NULL, NULL, &err) == -1);
	CHECK(strstr(err.msg, "is a directory") != NULL);
	attach_close(&a);
	CHECK(attach_open(&a, "/nonexistent/file", NULL, NULL, &err) == -1);
	CHECK_INT(err.cls, CL_EIO);
	CHECK(strstr(err.msg, "cannot open attachment /nonexistent/file") != NULL);
	attach_close(&a);
	CHECK(attach_open(&a, make("f", "x", 1), "bad\xff", NULL, &err) == -1);
	CHECK(strstr(err.msg, "not UTF-8") != NULL);
	attach_close(&a);
	CHECK(attach_open(&a, make("f", "x", 1), "a\r\nContent-Type: x", NULL, &err) == -1);
	CHECK(strstr(err.msg, "control character") != NULL);
	attach_close(&a);
	CHECK(attach_open(&a, make("f", "x", 1), "   ", NULL, &err) == -1);
	attach_close(&a);
}

int main(void)
{
	char cmd[100];
	int r;

	if (mkdtemp(dir) == NULL)
		return 1;
	RUN(test_attach_type_from_the_table_then_builtin_then_default);
	RUN(test_attach_text_by_content_gets_text_plain_and_charset);
	RUN(test_attach_standard_input_needs_a_name_and_is_read_ahead);
	RUN(test_attach_refuses_directories_missing_files_and_bad_names);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	r = system(cmd);
	(void)r;
	CHECK_DONE();
}
