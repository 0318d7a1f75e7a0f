/*
 * hostname.h - this machine's name for EHLO and Message-ID: the fully
 * qualified name when one is known, never "localhost" when a better one is.
 */
#ifndef CLSMTP_HOSTNAME_H
#define CLSMTP_HOSTNAME_H

#include "base/buf.h"

/* Fill out with the best name for this host (at most 255 bytes). */
void hostname_fqdn(struct buf *out);

#endif
