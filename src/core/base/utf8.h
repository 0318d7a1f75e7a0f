/*
 * utf8.h - well-formedness checks for UTF-8 text (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF). Used to refuse bad input and
 * to split encoded text only between whole characters.
 */
#ifndef CLSMTP_UTF8_H
#define CLSMTP_UTF8_H

#include <stddef.h>

/* Length (1-4) of the well-formed sequence starting at s (n bytes
 * available), or 0 if the bytes there are not one. */
size_t utf8_seq_len(const unsigned char *s, size_t n);
/* 1 if the n bytes are well-formed UTF-8; else 0 and, when bad is not NULL,
 * *bad is the offset of the first byte that is not. */
int utf8_valid(const char *s, size_t n, size_t *bad);
/* 1 if every byte is below 0x80. */
int utf8_is_ascii(const char *s, size_t n);
/* The largest k <= max such that the first k of the n bytes end on a
 * character boundary (s is assumed well-formed). */
size_t utf8_prefix_len(const char *s, size_t n, size_t max);

#endif
