/*
 * smtp_client.h - the SMTP submission engine shared by clsmtpc and, later,
 * clsmtpd's relay: open a session (connect, greeting, EHLO, STARTTLS or
 * implicit TLS, EHLO again, AUTH), send one or more messages on it, quit.
 * It keeps round trips at the protocol floor: AUTH with an initial response
 * is pipelined with the first transaction (RFC 4954 4, RFC 2920), BDAT is
 * used when CHUNKING is offered (RFC 3030) and QUIT follows the end of the
 * last message in the same flight. It never writes a bare CR or LF.
 */
#ifndef CLSMTP_SMTP_CLIENT_H
#define CLSMTP_SMTP_CLIENT_H

#include <stddef.h>

#include "base/buf.h"
#include "base/err.h"
#include "sasl/sasl_client.h"
#include "smtp/body_source.h"
#include "smtp/smtp_caps.h"
#include "net/tls.h"

enum smtp_tls_mode {
	SMTP_TLS_AUTO,     /* STARTTLS when offered; secrets only if it worked */
	SMTP_TLS_STARTTLS, /* STARTTLS required: never continue in clear */
	SMTP_TLS_SMTPS,    /* implicit TLS from the first byte (RFC 8314) */
	SMTP_TLS_NONE,     /* no TLS; PLAIN/LOGIN allowed in clear (asked for) */
};

/* RFC 5321 4.5.3.2 timeouts, the defaults; --timeout sets them all. */
#define SMTP_TIMEOUT_CONNECT_MS (60 * 1000)
#define SMTP_TIMEOUT_GREETING_MS (5 * 60 * 1000)
#define SMTP_TIMEOUT_COMMAND_MS (5 * 60 * 1000)
#define SMTP_TIMEOUT_DATA_INIT_MS (2 * 60 * 1000)
#define SMTP_TIMEOUT_DATA_BLOCK_MS (3 * 60 * 1000)
#define SMTP_TIMEOUT_DATA_END_MS (10 * 60 * 1000)

struct smtp_timeouts {
	int connect_ms, greeting_ms, command_ms, data_init_ms, data_block_ms, data_end_ms;
};

/* Transcript hook: dir is '<' (server line), '>' (client line, secrets
 * already replaced by "********") or '-' (a note of ours); tag is "" in
 * clear, "tls" after STARTTLS, "smtps" with implicit TLS. */
typedef void (*smtp_transcript_fn)(void *arg, const char *tag, char dir, const char *line);

struct smtp_client_params {
	const char *host;        /* server name or address */
	const char *port;        /* "587" */
	int family;              /* AF_UNSPEC, AF_INET, AF_INET6 */
	const char *source_ip;   /* local address to connect from, or NULL */
	const char *proxy_host;  /* SOCKS5 proxy (the proxy resolves host), or NULL */
	const char *proxy_port;  /* its port, NULL: 1080 */
	enum smtp_tls_mode tls_mode;
	struct tls_client_opts tls;
	const char *ehlo_domain; /* our name in EHLO */
	struct smtp_timeouts timeouts;
	const char *auth;        /* NULL or "none": no AUTH; "auto"; a mechanism name */
	struct sasl_creds creds;
	int allow_partial;       /* deliver to accepted recipients even if some fail */
	int debug;               /* also note state changes in the transcript */
	smtp_transcript_fn transcript;
	void *transcript_arg;
};

struct smtp_message {
	const char *from;         /* envelope sender, "" for <> */
	const char *const *rcpts; /* envelope recipients */
	size_t nrcpt;
	struct smtp_body_source body;
	int body_8bit;            /* BODY=8BITMIME needed */
	int smtputf8;             /* SMTPUTF8 needed (non-ASCII addresses) */
	/* RFC 3461 parameters, sent only when the server offers DSN and
	 * dropped otherwise (4.1); NULL (zero) means none. Each is checked
	 * before anything is sent: a bad one is CL_EDATA. */
	const char *ret;            /* "FULL" or "HDRS" */
	const char *envid;          /* xtext as received, at most 100 chars */
	const char *const *notify;  /* NULL, or nrcpt entries parallel to rcpts,
	                             * each NULL or "NEVER", "SUCCESS,DELAY"... */
	const char *const *orcpt;   /* the same: NULL or "rfc822;user@example" */
};

/* Outcome of one recipient, and of the whole message. */
struct smtp_rcpt_status {
	int code;           /* reply code to RCPT TO, 0 if never answered */
	char reply[512];    /* the reply on one line */
	char enh[16];       /* its enhanced status code, or "" */
};

struct smtp_result {
	struct smtp_rcpt_status *rcpt; /* nrcpt entries, owned by the result */
	size_t nrcpt;
	int code;                      /* final reply to the data, 0 if none */
	char reply[512];               /* that reply on one line */
	char enh[16];                  /* its enhanced status code, or "" */
	char auth_mech[32];            /* mechanism used, "" if none */
	char warning[CL_ERR_MSG_MAX + 64]; /* something the user should know, or "" */
};

struct smtp_client;

void smtp_timeouts_default(struct smtp_timeouts *t);
void smtp_timeouts_all(struct smtp_timeouts *t, int ms);

/* Connect and get ready to send: greeting, EHLO, TLS, EHLO, and AUTH unless
 * it can be pipelined with the first message. */
int smtp_client_open(struct smtp_client **out, const struct smtp_client_params *p,
		      struct cl_err *err);
/* 1 when the session runs over TLS (STARTTLS done or implicit TLS). */
int smtp_client_is_tls(const struct smtp_client *s);
/* What the server offers (after TLS when TLS is up). */
const struct smtp_caps *smtp_client_caps(const struct smtp_client *s);
/* Send one message. last: pipeline QUIT behind it (the session is then
 * closed and only smtp_client_free remains). On return res holds every
 * recipient's reply and the data reply; on failure err says which stage. */
int smtp_client_send(struct smtp_client *s, const struct smtp_message *m, int last,
		      struct smtp_result *res, struct cl_err *err);
/* Send QUIT (if not already), read 221, close_notify, close. */
void smtp_client_quit(struct smtp_client *s);
void smtp_client_free(struct smtp_client *s);

void smtp_result_init(struct smtp_result *r);
void smtp_result_free(struct smtp_result *r);

#endif
