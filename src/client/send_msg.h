/*
 * send_msg.h - the message of one clsmtpc run, from the command line: body
 * and HTML read and converted from the locale's charset, attachments opened,
 * every field checked by a first composition before anything is sent; then,
 * once the server's capabilities are known, the message composed for it
 * (8bit only with 8BITMIME; A-labels without SMTPUTF8) as a stream.
 */
#ifndef CLSMTPC_SEND_MSG_H
#define CLSMTPC_SEND_MSG_H

#include "msg/attach.h"
#include "msg/compose.h"
#include "msg/msgstream.h"
#include "options.h"
#include "msg/rawmsg.h"
#include "smtp/smtp_caps.h"
#include "engine/smtp_client.h"

struct send_msg {
	int inited; /* send_msg_free does nothing to a zeroed one */
	struct compose_params cp;
	struct attach att[OPT_ATTACH_MAX];
	size_t natt;
	struct buf body, html, subject, name, reply_to, hstore; /* UTF-8 */
	const char *headers[OPT_HDR_MAX];
	const char **rcpts; /* the envelope: To, Cc and Bcc */
	size_t nrcpt;
	struct msgstream ms;
	int built;
	int raw;             /* --raw or sendmail mode: *rawp is the message */
	struct rawmsg rawm;  /* --raw: the message read from standard input */
	struct rawmsg *rawp; /* &rawm, or the caller's (client_opts.raw_msg) */
	char locale[64];     /* the locale's charset: input text is in it */
};

/* Read, convert, open and check everything (o: the options; from, name:
 * the sender and display name as send.c found them; domain: for the
 * Message-ID). Nothing is sent. */
int send_msg_prepare(struct send_msg *sm, const struct client_opts *o, const char *from,
                     const char *name, const char *domain, struct cl_err *err);
/* msmtp's header keys for a whole message (--raw, sendmail mode): adjust
 * the fields rawmsg_complete adds or drops (set_from_header,
 * set_date_header, set_msgid_header, remove_bcc_headers,
 * undisclosed_recipients). a->from_addr is the From to add when missing. */
void send_msg_raw_policy(const struct client_opts *o, struct rawmsg_add *a);
/* Compose for a server with these capabilities (NULL: unknown; then no
 * 8bit and addresses as they are) and point m's body, body_8bit and
 * smtputf8 at the result; m's from and recipients are the caller's. */
int send_msg_build(struct send_msg *sm, const struct smtp_caps *caps, const char *server,
                   struct smtp_message *m, struct cl_err *err);
/* The body source again from the start (built if it was not). */
int send_msg_rewind(struct send_msg *sm, struct smtp_message *m, struct cl_err *err);
/* Close and free; harmless on a zeroed struct or after an earlier free. */
void send_msg_free(struct send_msg *sm);

#endif
