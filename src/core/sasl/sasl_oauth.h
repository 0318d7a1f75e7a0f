/*
 * sasl_oauth.h - the two OAuth 2.0 SASL mechanisms GNU SASL lacks, as pure
 * encoders of their one-shot initial responses: Google's XOAUTH2 and
 * OAUTHBEARER (RFC 7628). Used by sasl_client.c, which checks the strings
 * for CR, LF, NUL and ^A before calling these.
 */
#ifndef CLSMTP_SASL_OAUTH_H
#define CLSMTP_SASL_OAUTH_H

#include "base/buf.h"

/* Append base64("user=" user ^A "auth=Bearer " token ^A ^A) to out. */
int sasl_oauth_xoauth2(const char *user, const char *token, struct buf *out);
/* Append base64 of the RFC 7628 3.1 client response to out:
 * "n,a=" authzid "," ^A ["host=" host ^A] "auth=Bearer " token ^A ^A, where
 * authzid is a SASL name (',' as "=2C", '=' as "=3D", RFC 5801 4); no "a="
 * when authzid is NULL or empty; no host when host is NULL. */
int sasl_oauth_bearer(const char *authzid, const char *host, const char *token, struct buf *out);
/* The reply to a 334 carrying the server's JSON error (RFC 7628 3.2.3): the
 * client sends a dummy response, ^A for OAUTHBEARER, empty for XOAUTH2;
 * the server then answers 535. Appends it (base64) to out. */
int sasl_oauth_error_ack(int oauthbearer, struct buf *out);

#endif
