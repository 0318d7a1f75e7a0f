/*
 * smtp_client_int.h - the inside of an SMTP client session, shared by
 * smtp_client.c (connection, TLS, EHLO, AUTH) and smtp_tx.c (the
 * mail transaction). Not for use outside the engine.
 */
#ifndef CLSMTP_SMTP_SESSION_INT_H
#define CLSMTP_SMTP_SESSION_INT_H

#include "net/conn.h"
#include "engine/smtp_client.h"
#include "smtp/smtp_reply.h"

/* Longest command line we send: RFC 5321 4.5.3.1.4 says 512; AUTH lines may
 * reach 12288 (RFC 4954 4). */
#define SMTP_CMD_MAX 12288
/* A pipelined group plus the first chunk of the message. */
#define SMTP_OUT_MAX (SMTP_CMD_MAX * 8 + SMTP_BDAT_CHUNK + 64)
/* Message bytes per BDAT chunk, and per write in DATA. */
#define SMTP_BDAT_CHUNK (1024 * 1024)

enum smtp_state {
	SMTP_S_INIT,
	SMTP_S_CONNECTED,
	SMTP_S_GREETED,
	SMTP_S_EHLO,
	SMTP_S_TLS,
	SMTP_S_READY,
	SMTP_S_MAIL,
	SMTP_S_DATA,
	SMTP_S_QUIT,
	SMTP_S_CLOSED,
	SMTP_S_BROKEN,
};

struct smtp_client {
	const struct smtp_client_params *p;
	enum smtp_state state;
	struct conn *conn;
	struct tls_client_ctx *tls_ctx;
	const char *tag;           /* "", "tls", "smtps" for the transcript */
	struct smtp_caps caps;
	int esmtp;                 /* EHLO worked (else HELO) */
	struct smtp_reply reply;   /* the last reply read */
	struct buf line;           /* one line read */
	struct buf out;            /* the group being built */
	struct buf scratch;        /* for messages */
	struct sasl_client *auth_pending; /* one-shot AUTH to pipeline */
	struct buf auth_ir;        /* its initial response (secret; wiped) */
	char auth_mech[32];        /* mechanism used or pending */
	int authenticated;
	/* Inside a SASL exchange: the transcript hides the server's 334
	 * challenges too (a SCRAM server-first and v= allow offline guessing). */
	int in_sasl;
};

/* The only way to change state; logged in debug transcripts. */
void smtp_client_set_state(struct smtp_client *s, enum smtp_state st);
void smtp_client_note(struct smtp_client *s, const char *fmt, ...) BUF_PRINTF(2, 3);
/* Queue a command line (CRLF added). The transcript shows the first
 * shown_len bytes followed by " ********" when shown_len < strlen(cmd);
 * pass (size_t)-1 to show it all. */
int smtp_client_queue(struct smtp_client *s, const char *cmd, size_t shown_len,
		       struct cl_err *err);
/* Write the queued group in one write. */
int smtp_client_flush(struct smtp_client *s, int timeout_ms, struct cl_err *err);
/* Read one complete reply into s->reply; EOF is CL_ETEMP naming "what". */
int smtp_client_read_reply(struct smtp_client *s, int timeout_ms, const char *what,
			    struct cl_err *err);
/* Set err from s->reply: 4xx CL_ETEMP, 5xx CL_EUNAVAIL, else CL_EPROTO;
 * the message is "<stage>: <reply summary>". */
int smtp_client_reply_error(struct smtp_client *s, const char *stage, struct cl_err *err);

/* An AUTH refusal in s->reply as an error (class by reply code, the reply
 * kept as data); returns -1. One mapping for the engine, the pipelined
 * AUTH and the doctor's probe. */
int smtp_client_auth_refused(struct smtp_client *s, const char *mech, struct cl_err *err);

#endif
