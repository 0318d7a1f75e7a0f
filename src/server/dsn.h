/*
 * dsn.h - delivery status notifications (RFC 3464 reports in an RFC 6522
 * multipart/report): failure notices for recipients that failed for good,
 * and success notices ("delivered", "relayed") for recipients that asked
 * for them (RFC 3461 NOTIFY=SUCCESS). One notice per message, agent and
 * kind, to the envelope sender, from the null sender <>, queued in the
 * spool like any message. Never a notice about a message that was itself
 * sent with <> (RFC 5321 6.1), nor when the recipient asked for none.
 */
#ifndef CLSMTPD_DSN_H
#define CLSMTPD_DSN_H

#include <time.h>

#include "base/buf.h"
#include "conf.h"
#include "dsn_compose.h"
#include "serve/spool.h"

/* 1 if a recipient with this NOTIFY parameter ("-" when none) wants a
 * failure notice: none given, or a list holding FAILURE. */
int dsn_wants_failure(const char *notify);
/* 1 if a recipient with this NOTIFY parameter ("-" when none) wants a
 * success notice: a list holding SUCCESS (RFC 3461 4.1: none given means
 * failures and delays only). */
int dsn_wants_success(const char *notify);
/* 1 if env may be removed: every recipient final, and no failure still
 * waiting for its notice (spool_all_final counts those as final; removing
 * the message then would lose the notice another agent is writing). */
int dsn_settled(const struct spool_envelope *env);
/* 1 if recipient i is the last one not final and nothing awaits a notice:
 * its outcome can be recorded by removing the message instead of a
 * journal line (one fsync less per message; docs/spool.md). */
int dsn_last_open(const struct spool_envelope *env, size_t i);
/* Queue one notice for the recipients of class cls that are SPOOL_FAILED
 * (journalled 'F'), then journal 'B' for each. Recipients for whom no notice
 * is due get 'B' with the reason. Returns 1 if a notice was queued (with
 * *notice_cls the class of its recipient, so the caller can wake that
 * agent), 0 if none, -1 on error (the recipients stay 'F': tried again). */
int dsn_bounce(const struct conf *c, struct spool *sp, struct spool_envelope *env,
               enum spool_class cls, enum spool_class *notice_cls, struct cl_err *err);
/* Queue one success notice (action DSN_DELIVERED or DSN_RELAYED, Status
 * 2.0.0, o the outcome shared by all of them, e.g. the next hop's
 * reply) for those of the recipients idx[0..n) of env that asked for one;
 * none when the sender is <>. Call it once the deliveries are durable and
 * before their outcomes are journalled: a crash in between delivers them
 * again and queues the notice again (docs/spool.md). Returns 1 if a notice
 * was queued (*notice_cls as for dsn_bounce), 0 if none was due or the
 * sender cannot take one (logged), -1 on error (logged by the caller; the
 * notice is advisory, the outcomes are journalled all the same). */
int dsn_success(const struct conf *c, struct spool *sp, const struct spool_envelope *env,
                const size_t *idx, size_t n, enum dsn_action action, const struct outcome *o,
                enum spool_class *notice_cls, struct cl_err *err);

#endif
