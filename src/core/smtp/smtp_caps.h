/*
 * smtp_caps.h - what a server's EHLO reply says it can do (RFC 5321 4.1.1.1
 * and the extension RFCs), including the non-standard "AUTH=" line kept for
 * old Outlook (goo, docomo: see docs/servers.md).
 */
#ifndef CLSMTP_SMTP_CAPS_H
#define CLSMTP_SMTP_CAPS_H

#include "smtp/smtp_reply.h"

enum smtp_cap_flag {
	CAP_PIPELINING = 1u << 0,    /* RFC 2920 */
	CAP_STARTTLS = 1u << 1,      /* RFC 3207 */
	CAP_8BITMIME = 1u << 2,      /* RFC 6152 */
	CAP_SMTPUTF8 = 1u << 3,      /* RFC 6531 */
	CAP_CHUNKING = 1u << 4,      /* RFC 3030 */
	CAP_SIZE = 1u << 5,          /* RFC 1870 */
	CAP_ENHANCEDSTATUSCODES = 1u << 6, /* RFC 2034 */
	CAP_DSN = 1u << 7,           /* RFC 3461 */
	CAP_AUTH = 1u << 8,          /* RFC 4954, or the "AUTH=" form */
	CAP_BINARYMIME = 1u << 9,    /* RFC 3030 */
	CAP_REQUIRETLS = 1u << 10,   /* RFC 8689 */
};

#define SMTP_CAPS_AUTH_MAX 256

struct smtp_caps {
	unsigned flags;
	unsigned long long size_max; /* SIZE argument; 0 when absent or "SIZE 0" */
	/* Mechanism names offered, upper case, separated by single spaces, no
	 * duplicates: the union of every "AUTH" and "AUTH=" line. */
	char auth[SMTP_CAPS_AUTH_MAX];
	char server_name[256]; /* first word of the first line */
};

/* Fill caps from a complete 250 EHLO reply; unknown keywords are ignored,
 * malformed arguments (a SIZE that is not a number) ignored too. */
void smtp_caps_parse(struct smtp_caps *caps, const struct smtp_reply *ehlo);
/* Case-insensitive test for one mechanism name. */
int smtp_caps_has_auth(const struct smtp_caps *caps, const char *mech);

#endif
