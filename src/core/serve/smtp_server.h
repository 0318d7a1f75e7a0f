/*
 * smtp_server.h - the sans-I/O SMTP server session (RFC 5321, with
 * PIPELINING, SIZE, 8BITMIME, ENHANCEDSTATUSCODES, SMTPUTF8, CHUNKING, DSN,
 * STARTTLS and AUTH). It takes the bytes the client sent and queues the
 * replies; decisions (policy, spool, SASL) are asked of the hooks; it never
 * touches a socket or the clock, so tests and fuzzers drive it directly.
 */
#ifndef CLSMTP_SMTP_SERVER_H
#define CLSMTP_SMTP_SERVER_H

#include <stddef.h>
#include "base/buf.h"
#include "serve/smtp_server_cmd.h"
#include "sasl/auth_result.h"

/* RFC 5321 4.5.3.1.4 says 512 for a command line; AUTH initial responses
 * need more (RFC 4954 4: 12288). Postfix's line_length_limit is 2048. */
#define SMTP_SERVER_LINE_MAX 12288
/* Replies waiting for a client that does not read are capped here. */
#define SMTP_SERVER_OUT_MAX (256 * 1024)
/* Message bytes handed to data_write at a time. */
#define SMTP_SERVER_CHUNK 65536

enum smtp_srv_state {
	SMTP_SRV_GREET,      /* before our greeting */
	SMTP_SRV_INIT,       /* greeted, waiting for EHLO/HELO */
	SMTP_SRV_READY,      /* no transaction */
	SMTP_SRV_MAIL,       /* MAIL accepted */
	SMTP_SRV_RCPT,       /* at least one RCPT accepted */
	SMTP_SRV_DATA,       /* reading DATA */
	SMTP_SRV_BDAT,       /* reading a BDAT chunk */
	SMTP_SRV_AUTH,       /* in a SASL exchange */
	SMTP_SRV_AUTH_FINAL, /* sent the server's last SASL data, want the empty line */
	SMTP_SRV_TLS,        /* STARTTLS answered; waiting for the handshake */
	SMTP_SRV_COMMIT,     /* data_end said "later": the message is being committed */
	SMTP_SRV_CLOSING,    /* final reply queued; input ignored */
};

struct smtp_server_limits {
	size_t line_max;       /* command lines (<= SMTP_SERVER_LINE_MAX) */
	long long size_max;    /* message size (SIZE); 0 no limit */
	size_t data_line_max;  /* message lines without CRLF (RFC 5322: 998); 0 none */
	size_t rcpt_max;       /* recipients per message (RFC 5321: at least 100) */
	unsigned errors_max;   /* error replies before we hang up */
	unsigned commands_max; /* commands per session */
	int bare_lf_normalize; /* 1: bare CR/LF in data become CRLF; 0: refuse */
};

/* What the data ended with, for data_end. */
enum smtp_data_end { SMTP_DATA_OK, SMTP_DATA_REFUSED, SMTP_DATA_ABORTED };

/* Outcomes of an AUTH step. */

/* Hooks: each returns 0 to accept (reply may be left empty for the default
 * 2xx) or -1 to refuse with reply holding the whole reply line. data_end
 * may also return SMTP_HOOK_LATER: the verdict comes with
 * smtp_server_commit_done, and until then the session reads nothing. */
#define SMTP_HOOK_LATER 1
struct smtp_server_hooks {
	void *arg;
	int (*helo)(void *arg, const char *name, int ehlo, struct buf *reply);
	int (*mail)(void *arg, const char *from, const struct smtp_mail_params *mp,
	            struct buf *reply);
	int (*rcpt)(void *arg, const char *to, const struct smtp_rcpt_params *rp,
	            struct buf *reply);
	int (*data_begin)(void *arg, struct buf *reply);
	int (*data_write)(void *arg, const char *p, size_t n);
	/* SMTP_DATA_OK: commit (reply "250 ... queued as ..." or a refusal);
	 * otherwise discard. */
	int (*data_end)(void *arg, enum smtp_data_end how, struct buf *reply);
	/* The transaction is gone (RSET, EHLO, STARTTLS, QUIT, close). */
	void (*reset)(void *arg);
	/* One AUTH step: mech on the first call (in is the initial response,
	 * NULL if none), then each client line. out gets the base64 data to
	 * send (challenge, or the server's final data with SMTP_AUTH_OK). */
	enum smtp_auth_result (*auth)(void *arg, const char *mech, const char *in, struct buf *out);
	void (*auth_abort)(void *arg);
	/* Trace: state changes and protocol notes (may be NULL). */
	void (*note)(void *arg, const char *msg);
	/* Every 5xx reply as it is queued, for the defence's counters (may
	 * be NULL). */
	void (*error)(void *arg, const char *reply);
};

struct smtp_server_cfg {
	const char *hostname;
	struct smtp_server_limits lim;
	int starttls;           /* STARTTLS may be offered (a certificate is configured) */
	int tls_active;         /* implicit TLS: the session starts encrypted */
	const char *auth_mechs; /* space-separated mechanisms offered now, "" none */
};

/* Actions for the I/O layer, returned by feed and greet. */
#define SMTP_SRV_ACT_CLOSE    1 /* write out the output, then close */
#define SMTP_SRV_ACT_STARTTLS 2 /* write out the output, then TLS handshake */

struct smtp_server;

void smtp_server_limits_default(struct smtp_server_limits *l);
struct smtp_server *smtp_server_new(const struct smtp_server_cfg *cfg,
                                    const struct smtp_server_hooks *hooks);
void smtp_server_free(struct smtp_server *s);

/* Queue the greeting (or, if the client spoke first, a 554 and close). */
unsigned smtp_server_greet(struct smtp_server *s);
/* Refuse the session at once with reply (e.g. "421 4.3.2 shutting down"). */
unsigned smtp_server_refuse(struct smtp_server *s, const char *reply);
/* Process bytes from the client; returns SMTP_SRV_ACT_* flags. Bytes that
 * arrive while a commit is under way (SMTP_SRV_COMMIT: commands pipelined
 * behind the end of data) are kept, at most SMTP_SERVER_HELD_MAX, and
 * processed by smtp_server_commit_done; the I/O layer should not read
 * meanwhile (more is refused with 421). */
unsigned smtp_server_feed(struct smtp_server *s, const char *p, size_t n);
#define SMTP_SERVER_HELD_MAX (64 * 1024)
/* The verdict of a data_end that returned SMTP_HOOK_LATER: r 0 (reply, or
 * "250 2.0.0 Ok" if reply is NULL or empty) or -1 (reply, or a 451). The
 * transaction ends and the kept input is processed; returns SMTP_SRV_ACT_*. */
unsigned smtp_server_commit_done(struct smtp_server *s, int r, const char *reply);
/* The TLS handshake after STARTTLS succeeded: forget everything (RFC 3207
 * 4.2) and offer these mechanisms from now on. */
void smtp_server_tls_started(struct smtp_server *s, const char *auth_mechs);
/* Change the mechanisms offered (implicit TLS: known after the handshake). */
void smtp_server_set_mechs(struct smtp_server *s, const char *auth_mechs);
/* Idle or session time exceeded: queue 421 and close. */
unsigned smtp_server_timeout(struct smtp_server *s);
/* Replies waiting to be written; the I/O layer consumes them with buf_consume. */
struct buf *smtp_server_output(struct smtp_server *s);

enum smtp_srv_state smtp_server_state(const struct smtp_server *s);
const char *smtp_server_state_name(enum smtp_srv_state st);
/* The authenticated identity's mechanism ("" before AUTH succeeded). */
int smtp_server_authenticated(const struct smtp_server *s);
int smtp_server_tls_active(const struct smtp_server *s);
const char *smtp_server_helo(const struct smtp_server *s);
/* 1 while the client owes us the rest of something: a command line begun,
 * message data (DATA, BDAT) or the TLS handshake after STARTTLS. The I/O
 * layer gives such a request a deadline (slowloris). */
int smtp_server_input_pending(const struct smtp_server *s);

#endif
