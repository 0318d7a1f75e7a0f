/* test_buf.c - the bounded buffer: growth, the hard maximum, NUL termination. */
#include "base/buf.h"
#include "check.h"

TEST(test_buf_appends_and_terminates)
{
	struct buf b = BUF_INIT(100);
	CHECK_STR(buf_cstr(&b), "");
	CHECK(buf_adds(&b, "hello") == 0);
	CHECK(buf_addc(&b, ' ') == 0);
	CHECK(buf_printf(&b, "%d-%s", 42, "x") == 0);
	CHECK_STR(buf_cstr(&b), "hello 42-x");
	CHECK_INT(b.len, 10);
	buf_free(&b);
}

TEST(test_buf_refuses_growth_past_max)
{
	struct buf b = BUF_INIT(8);
	CHECK(buf_adds(&b, "12345678") == 0);
	CHECK(buf_addc(&b, '9') == -1);
	CHECK(buf_printf(&b, "%s", "x") == -1);
	CHECK_STR(buf_cstr(&b), "12345678");
	buf_free(&b);
}

TEST(test_buf_consume_and_truncate)
{
	struct buf b = BUF_INIT(1000);
	char big[600];
	memset(big, 'a', sizeof(big));
	CHECK(buf_add(&b, big, sizeof(big)) == 0);
	CHECK(buf_adds(&b, "tail") == 0);
	buf_consume(&b, 600);
	CHECK_STR(buf_cstr(&b), "tail");
	buf_truncate(&b, 2);
	CHECK_STR(buf_cstr(&b), "ta");
	buf_consume(&b, 10);
	CHECK_INT(b.len, 0);
	buf_wipe(&b);
	CHECK(b.data == NULL);
}

TEST(test_buf_secret_growth_keeps_contents)
{
	struct buf b = BUF_INIT(1 << 20);
	char chunk[100];
	int i;

	buf_set_secret(&b);
	memset(chunk, 's', sizeof(chunk));
	for (i = 0; i < 200; i++)
		CHECK(buf_add(&b, chunk, sizeof(chunk)) == 0);
	CHECK_INT(b.len, 20000);
	CHECK(b.data[0] == 's' && b.data[19999] == 's' && b.data[20000] == '\0');
	buf_wipe(&b);
}

int main(void)
{
	RUN(test_buf_appends_and_terminates);
	RUN(test_buf_refuses_growth_past_max);
	RUN(test_buf_consume_and_truncate);
	RUN(test_buf_secret_growth_keeps_contents);
	CHECK_DONE();
}
