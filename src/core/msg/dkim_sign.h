/*
 * dkim_sign.h - DKIM signatures (RFC 6376 with relaxed/relaxed, RFC 8463
 * for Ed25519) over a message read as a stream: the header section is
 * kept (bounded), the body is hashed as it passes, then any number of
 * DKIM-Signature fields are made from the one body hash. Never l=.
 * Sans-I/O: bytes in, header fields out.
 */
#ifndef CLSMTP_DKIM_SIGN_H
#define CLSMTP_DKIM_SIGN_H

#include <stddef.h>

#include <openssl/evp.h>

#include "base/buf.h"
#include "base/err.h"
#include "msg/dkim_canon.h"
#include "msg/dkim_key.h"

/* A header section bigger than this is not signed (Postfix's
 * header_size_limit is 100 KB; this is ten times that). */
#define DKIM_HEADER_MAX (1024 * 1024)

/* The header fields signed when the configuration names none: those a
 * reader sees and those that say how to read the body (RFC 6376 5.4.1).
 * From is always signed once more than it appears ("oversigned"), so
 * that a second From added on the way breaks the signature. */
#define DKIM_DEFAULT_HEADERS                                                                       \
	"from:reply-to:subject:date:to:cc:message-id:in-reply-to:references:mime-version:"         \
	"content-type:content-transfer-encoding:content-disposition:content-language:"             \
	"list-id:list-unsubscribe:list-unsubscribe-post:sender"

struct dkim_msg {
	struct buf head; /* the header section, CRLF lines, without the empty line */
	int state;       /* where in the header section's end we are */
	int in_body;     /* the empty line has passed */
	int too_big;     /* the header section overflowed: nothing to sign */
	EVP_MD_CTX *bh;  /* SHA-256 of the canonical body */
	unsigned char body_hash[32];
	int ended;
	struct dkim_body_canon canon;
};

int dkim_msg_init(struct dkim_msg *m, struct cl_err *err);
/* The message's bytes (CRLF lines, not dot-stuffed), in any pieces. */
int dkim_msg_feed(struct dkim_msg *m, const char *p, size_t n, struct cl_err *err);
int dkim_msg_end(struct dkim_msg *m, struct cl_err *err);
void dkim_msg_free(struct dkim_msg *m);

/* The message's From address into addr and its domain, lower case, into
 * domain: 0, or -1 with err when there is not exactly one From field with
 * exactly one address (DKIM and DMARC speak for one author). */
int dkim_msg_from(const struct dkim_msg *m, struct buf *addr, struct buf *domain,
                  struct cl_err *err);

struct dkim_sig_params {
	const char *domain;   /* d= */
	const char *selector; /* s= */
	const char *headers;  /* colon-separated names to sign; NULL: the default */
	long long now;        /* t= */
};
/* Append "DKIM-Signature: ...\r\n" (folded lines of at most 78 bytes) for
 * the ended message m signed with key k. */
int dkim_sign(const struct dkim_msg *m, const struct dkim_key *k, const struct dkim_sig_params *p,
              struct buf *out, struct cl_err *err);

#endif
