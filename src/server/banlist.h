/*
 * banlist.h - the ban list on disk, SPOOL/bans, so that bans survive a
 * restart. Text, one ban per line ("NET UNTIL OFFENCES REASON", UNTIL in
 * seconds since the epoch or "forever"); expired bans stay while they are
 * remembered for escalation. Written atomically: temporary file, fsync,
 * rename, fsync of the directory. Format in docs/defence.md.
 */
#ifndef CLSMTPD_BANLIST_H
#define CLSMTPD_BANLIST_H

#include <stdint.h>

#include "base/buf.h"
#include "defence.h"
#include "base/err.h"

#define BANLIST_NAME  "bans"
#define BANLIST_MAGIC "clsmtpd-bans 1"

/* SPOOL/bans into path. */
void banlist_path(const char *spool, struct buf *path);
/* Restore the bans of file into d. A missing file is an empty list; a line
 * that cannot be read is skipped and counted in *skipped. -1 (err) only
 * when the file cannot be read or is not a ban list. */
int banlist_load(struct defence *d, const char *file, int64_t now, unsigned *skipped,
                 struct cl_err *err);
/* Write d's bans to file atomically (owned like its directory when we
 * are root, so that the daemon can replace it after dropping privileges). */
int banlist_save(struct defence *d, const char *file, int64_t now, struct cl_err *err);
/* One line of the list, as written and as "clsmtpd -bans" shows it. */
void banlist_format(const struct defence_ban_info *b, struct buf *out);
/* Parse one such line. 0 or -1. */
int banlist_parse(const char *line, struct defence_ban_info *b);

#endif
