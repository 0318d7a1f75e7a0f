/*
 * xalloc.h - allocation for the places where running out of memory leaves
 * nothing sensible to do (reading the configuration at start, growing the
 * listener and poll tables): the process says so on stderr and aborts. The
 * one copy; everything that can report an error returns it instead.
 */
#ifndef CLSMTP_XALLOC_H
#define CLSMTP_XALLOC_H

#include <stddef.h>

char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
void *xcalloc(size_t n, size_t size);
/* realloc of n elements of size bytes, n * size checked for overflow. */
void *xreallocarray(void *p, size_t n, size_t size);

#endif
