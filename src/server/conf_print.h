/*
 * conf_print.h - the effective configuration of clsmtpd, as "clsmtpd -t"
 * shows it: every directive in clsmtpd.conf syntax, defaults included,
 * secrets (the smarthost password, a passwordeval command) never shown.
 */
#ifndef CLSMTPD_CONF_PRINT_H
#define CLSMTPD_CONF_PRINT_H

#include "base/buf.h"
#include "conf.h"

void conf_print(const struct conf *c, struct buf *out);

#endif
