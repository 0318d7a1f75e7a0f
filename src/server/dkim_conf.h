/*
 * dkim_conf.h - clsmtpd.conf's DKIM signing: "dkim_sign DOMAIN SELECTOR
 * KEYFILE" (several per domain: an RSA and an Ed25519 key, or two
 * selectors while a key is rotated; every one signs) and "dkim_headers"
 * (the fields to sign). Keys are read at start, before privileges are
 * dropped, and never printed nor logged.
 */
#ifndef CLSMTPD_DKIM_CONF_H
#define CLSMTPD_DKIM_CONF_H

#include <stddef.h>

#include "base/buf.h"
#include "base/err.h"
#include "msg/dkim_key.h"

struct dkim_signer {
	char *domain, *selector, *path;
	struct dkim_key key; /* loaded by dkim_conf_load_keys */
};

struct dkim_conf {
	struct dkim_signer *s;
	size_t n;
	char *headers; /* colon-separated; NULL: DKIM_DEFAULT_HEADERS */
};

/* 1 if w[0] is a DKIM directive (*msg NULL, or the error), 0 if not. */
int dkim_conf_directive(struct dkim_conf *d, char **w, size_t n, const char **msg);
/* Read every key file (as root, at start). */
int dkim_conf_load_keys(struct dkim_conf *d, struct cl_err *err);
void dkim_conf_free(struct dkim_conf *d);
/* The directives as clsmtpd.conf lines (paths, never keys). */
void dkim_conf_print(const struct dkim_conf *d, struct buf *out);
/* 1 if domain (lower case) has at least one signer. */
int dkim_conf_signs(const struct dkim_conf *d, const char *domain);

#endif
