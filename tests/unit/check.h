/*
 * check.h - the unit-test harness: a header-only TAP writer. A test file
 * defines TEST functions and lists them in main() with RUN(); each prints one
 * "ok N - name" or "not ok N - name" line, which tests/run-tests.sh counts.
 */
#ifndef CLSMTP_CHECK_H
#define CLSMTP_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_failed_now;
static int check_number;
static int check_failures;

#define TEST(name) static void name(void)

#define CHECK(cond)                                                                               \
	do {                                                                                      \
		if (!(cond)) {                                                                    \
			printf("# %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);         \
			check_failed_now = 1;                                                     \
		}                                                                                 \
	} while (0)

#define CHECK_STR(got, want)                                                                      \
	do {                                                                                      \
		const char *check_g_ = (got), *check_w_ = (want);                                 \
		if (check_g_ == NULL || strcmp(check_g_, check_w_) != 0) {                        \
			printf("# %s:%d: %s\n#   got:  \"%s\"\n#   want: \"%s\"\n", __FILE__,        \
			       __LINE__, #got, check_g_ ? check_g_ : "(null)", check_w_);         \
			check_failed_now = 1;                                                     \
		}                                                                                 \
	} while (0)

#define CHECK_INT(got, want)                                                                      \
	do {                                                                                      \
		long long check_g_ = (long long)(got), check_w_ = (long long)(want);              \
		if (check_g_ != check_w_) {                                                       \
			printf("# %s:%d: %s: got %lld, want %lld\n", __FILE__, __LINE__, #got,    \
			       check_g_, check_w_);                                               \
			check_failed_now = 1;                                                     \
		}                                                                                 \
	} while (0)

#define RUN(name)                                                                                 \
	do {                                                                                      \
		check_failed_now = 0;                                                             \
		name();                                                                           \
		check_number++;                                                                   \
		if (check_failed_now)                                                             \
			check_failures++;                                                         \
		printf("%sok %d - %s\n", check_failed_now ? "not " : "", check_number, #name);    \
		fflush(stdout);                                                                   \
	} while (0)

#define CHECK_DONE()                                                                              \
	do {                                                                                      \
		printf("1..%d\n", check_number);                                                  \
		return check_failures ? 1 : 0;                                                    \
	} while (0)

#endif
