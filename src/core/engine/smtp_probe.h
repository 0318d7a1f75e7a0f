/*
 * smtp_probe.h - what clsmtpc --doctor asks of a server without sending any
 * mail: greeting, EHLO before and after TLS (implicit or STARTTLS), the TLS
 * facts and certificate, then QUIT. And, on a session the engine opened,
 * running an AUTH it left pending for pipelining, so credentials can be
 * tested without a transaction. Part of the engine: it uses its I/O,
 * transcript and redaction (smtp_client_int.h).
 */
#ifndef CLSMTP_SMTP_PROBE_H
#define CLSMTP_SMTP_PROBE_H

#include <stddef.h>
#include <stdint.h>

#include "net/conn.h"
#include "smtp/smtp_caps.h"
#include "engine/smtp_client.h"
#include "net/tls.h"

/* A reply kept for the report: its lines joined by '\n', cut at this. */
#define SMTP_PROBE_TEXT_MAX 2048

struct smtp_probe_ehlo {
	int code;  /* reply to EHLO (or to HELO after a 5xx), 0 if never sent */
	int esmtp; /* EHLO was answered 250 */
	char text[SMTP_PROBE_TEXT_MAX];
	struct smtp_caps caps;
};

struct smtp_probe_params {
	const char *host;        /* for SNI, name verification and messages */
	const char *peer;        /* the address connected to, for the transcript, or NULL */
	const char *ehlo_domain; /* our name in EHLO */
	int implicit_tls;        /* TLS from the first byte (465) */
	/* A context that does not enforce verification, so that the facts of
	 * a bad certificate can still be read (tls_peer_info.verify). */
	struct tls_client_ctx *tls_ctx;
	int64_t deadline_ms;     /* on the timeout_now_ms clock: every wait ends by it */
	smtp_transcript_fn transcript;
	void *transcript_arg;
};

struct smtp_probe_result {
	int greeting_code;
	char greeting[SMTP_PROBE_TEXT_MAX];
	struct smtp_probe_ehlo clear; /* EHLO in clear (never with implicit TLS) */
	struct smtp_probe_ehlo tls;   /* EHLO once TLS is up */
	int starttls_code;            /* reply to STARTTLS, 0 if not sent */
	size_t starttls_discarded;    /* bytes sent before the handshake (injection) */
	int tls_tried;                /* a handshake was attempted */
	int tls_up;                   /* and completed */
	char tls_version[32];
	char tls_cipher[128];
	struct tls_peer_info peer;    /* valid when tls_up */
	int completed;                /* the dialogue reached QUIT */
};

/* Run the dialogue on c (connected; consumed: closed before returning).
 * 0 when it reached QUIT; -1 with err naming the stage that failed
 * ("greeting", "EHLO", "STARTTLS", "TLS"), r holding what was learnt. */
int smtp_probe_run(struct conn *c, const struct smtp_probe_params *p, struct smtp_probe_result *r,
		   struct cl_err *err);

/* On a session from smtp_client_open with an auth mechanism: make sure
 * AUTH has really happened. A PLAIN that the engine kept for pipelining
 * with MAIL FROM is sent now, alone. 0 when authenticated; -1 with err:
 * CL_EAUTH rejected, CL_EUNAVAIL no AUTH was started (the server offers
 * none), CL_ETEMP a 4xx or the connection failed. */
int smtp_probe_auth(struct smtp_client *s, struct cl_err *err);
/* The mechanism used or pending ("PLAIN"), "" if none. */
const char *smtp_probe_auth_mech(const struct smtp_client *s);

#endif
