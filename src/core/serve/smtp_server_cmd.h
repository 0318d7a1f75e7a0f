/*
 * smtp_server_cmd.h - parsing what an SMTP client sends the server: the
 * verb, the reverse- or forward-path of MAIL/RCPT (RFC 5321 4.1.2) and their
 * ESMTP parameters (SIZE, BODY, SMTPUTF8, RET, ENVID, NOTIFY, ORCPT, AUTH).
 * Strict: source routes, address literals, trailing dots, controls and
 * unknown parameters are refused, each with the reply to give.
 */
#ifndef CLSMTP_SMTP_SERVER_CMD_H
#define CLSMTP_SMTP_SERVER_CMD_H

#include <stddef.h>
#include "base/buf.h"

enum smtp_verb {
	SMTP_V_UNKNOWN,
	SMTP_V_HELO,
	SMTP_V_EHLO,
	SMTP_V_MAIL,
	SMTP_V_RCPT,
	SMTP_V_DATA,
	SMTP_V_BDAT,
	SMTP_V_RSET,
	SMTP_V_NOOP,
	SMTP_V_QUIT,
	SMTP_V_VRFY,
	SMTP_V_EXPN,
	SMTP_V_HELP,
	SMTP_V_STARTTLS,
	SMTP_V_AUTH,
};

/* RFC 3461: ENVID and ORCPT are at most 100 and 500 characters. */
#define SMTP_ENVID_MAX 100
#define SMTP_ORCPT_MAX 500

struct smtp_mail_params {
	long long size; /* SIZE=, -1 if absent */
	int body_8bit;  /* BODY=8BITMIME */
	int smtputf8;   /* SMTPUTF8 */
	char ret[8];    /* "FULL", "HDRS" or "" */
	char envid[SMTP_ENVID_MAX + 1];
};

struct smtp_rcpt_params {
	char notify[64];                /* e.g. "SUCCESS,FAILURE" or "" */
	char orcpt[SMTP_ORCPT_MAX + 1]; /* "rfc822;user@example" or "" */
};

/* The verb of line (case-insensitive) and, in *args, the rest after one
 * space ("" if none). */
enum smtp_verb smtp_cmd_verb(const char *line, const char **args);
const char *smtp_cmd_verb_name(enum smtp_verb v);

/* Parse "FROM:<path> params" (kw "FROM:") or "TO:<path> params" into addr
 * (without <>) and *params. Returns 0, or -1 with reply set to the full
 * reply line to send. allow_empty: <> is allowed (MAIL). */
int smtp_cmd_path(const char *args, const char *kw, int allow_empty, struct buf *addr,
                  const char **params, struct buf *reply);
/* Check an address's syntax (local@domain, dot-atom or quoted local part,
 * a domain of LDH labels, or UTF-8 when utf8 is set). -1 with reply. */
int smtp_cmd_addr_check(const char *addr, int utf8, struct buf *reply);
int smtp_cmd_mail_params(const char *params, struct smtp_mail_params *mp, struct buf *reply);
int smtp_cmd_rcpt_params(const char *params, struct smtp_rcpt_params *rp, struct buf *reply);
/* Parse "BDAT size [LAST]". -1 with reply if malformed. */
int smtp_cmd_bdat(const char *args, unsigned long long *size, int *last, struct buf *reply);

#endif
