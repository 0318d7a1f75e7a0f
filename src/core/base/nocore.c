/*
 * nocore.c - no core dumps of a process that holds secrets (nocore.h).
 */
#include "base/nocore.h"

#include <sys/prctl.h>
#include <sys/resource.h>

int no_core_dumps(void)
{
	const struct rlimit zero = {0, 0};
	int r = setrlimit(RLIMIT_CORE, &zero);

	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		r = -1;
	return r;
}
