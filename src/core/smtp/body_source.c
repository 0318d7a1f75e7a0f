/*
 * body_source.c - a body source over bytes in memory (body_source.h).
 */
#include "smtp/body_source.h"

static int smtp_mem_read(void *arg, struct buf *out, size_t max, struct cl_err *err)
{
	struct smtp_mem_source *mem = arg;
	size_t n = mem->len - mem->off;

	if (n > max)
		n = max;
	if (buf_add(out, mem->data + mem->off, n) < 0)
		return err_set(err, CL_ESOFTWARE, "out of memory");
	mem->off += n;
	return mem->off < mem->len;
}

void smtp_body_from_memory(struct smtp_body_source *src, struct smtp_mem_source *mem,
                           const char *data, size_t len)
{
	mem->data = data;
	mem->len = len;
	mem->off = 0;
	src->read = smtp_mem_read;
	src->arg = mem;
	src->size = (long long)len;
}
