/*
 * authres.h - Authentication-Results (RFC 8601) for mail from the internet:
 * compose our one header field from the checks' results, and strip, while
 * the message streams in, every Authentication-Results field that claims
 * our authserv-id (RFC 8601 5: a sender could otherwise forge our verdict).
 */
#ifndef CLSMTPD_AUTHRES_H
#define CLSMTPD_AUTHRES_H

#include <stddef.h>

#include "base/buf.h"

/* One result: method ("spf", "dkim", "dmarc"), result ("pass"...), an
 * optional comment (reason, policy), and up to four properties
 * ("smtp.mailfrom", value). */
struct authres_item {
	const char *method, *result, *comment;
	const char *prop[4][2];
};

/* Append "Authentication-Results: ID; m=r (c) p=v; ...\r\n" to out, folded
 * at 78 columns; "none" when there is no item. Values that are not tokens
 * are quoted, comments escaped, bytes outside printable ASCII replaced. */
int authres_compose(struct buf *out, const char *authserv_id, const struct authres_item *items,
                    size_t n);

/* The header-section filter. Bytes pass through unchanged, except the
 * header fields named Authentication-Results whose authserv-id is ours
 * (case-insensitive), which are dropped; the body passes untouched. */
struct authres_filter {
	char id[256];
	int in_body;
	struct buf cur;   /* the line being received */
	struct buf field; /* the current field's lines, until the next field starts */
	size_t dropped;   /* fields dropped */
};

void authres_filter_init(struct authres_filter *f, const char *authserv_id);
/* Feed message bytes (CRLF lines as received); what to keep is appended to
 * out. -1 if out is full. */
int authres_filter_feed(struct authres_filter *f, const char *p, size_t n, struct buf *out);
/* End of message: whatever is held is appended. */
int authres_filter_end(struct authres_filter *f, struct buf *out);
void authres_filter_free(struct authres_filter *f);

#endif
