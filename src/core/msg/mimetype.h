/*
 * mimetype.h - the Content-Type of an attachment from its file name: the
 * system's table of media types by extension (/etc/mime.types, Debian's
 * media-types package, kept from IANA's registry), then a few common types
 * built in (so that a machine without the table still labels .txt, .log,
 * .pdf, .csv right); "application/octet-stream" when nothing matches.
 */
#ifndef CLSMTP_MIMETYPE_H
#define CLSMTP_MIMETYPE_H

#include "base/buf.h"

#define MIMETYPE_TABLE   "/etc/mime.types"
#define MIMETYPE_DEFAULT "application/octet-stream"

/* Append the type of name ("report.PDF" -> "application/pdf") to out,
 * looked up in table (NULL: MIMETYPE_TABLE). Returns 1 if a table knew the
 * extension, 0 if the default was written, -1 if out is full. */
int mimetype_for_name(const char *table, const char *name, struct buf *out);

/* 1 if t is a well-formed "type/subtype" (RFC 2045 5.1 tokens). */
int mimetype_valid(const char *t);

#endif
