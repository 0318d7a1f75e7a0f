/*
 * homepath.c - show a path relative to $HOME as "~/..." (see homepath.h).
 */
#include "homepath.h"

#include <stdlib.h>
#include <string.h>

void homepath_show(const char *path, struct buf *out)
{
	const char *home = getenv("HOME");
	size_t n = home ? strlen(home) : 0;

	buf_reset(out);
	if (n > 1 && strncmp(path, home, n) == 0 && path[n] == '/' &&
	    buf_printf(out, "~%s", path + n) == 0)
		return;
	buf_reset(out);
	if (buf_adds(out, path) < 0)
		buf_adds(out, "(file name too long)");
}
