/*
 * smtp_tx_int.h - what smtp_tx.c (the envelope, the replies, the outcome)
 * and smtp_tx_body.c (the BDAT and DATA paths) share about one transaction.
 * Internal to the client engine.
 */
#ifndef CLSMTP_SMTP_TX_INT_H
#define CLSMTP_SMTP_TX_INT_H

#include "engine/smtp_client_int.h"

enum smtp_expect_kind {
	EXP_AUTH,
	EXP_MAIL,
	EXP_RCPT,
	EXP_DATA,     /* 354 expected */
	EXP_CHUNK,    /* a BDAT chunk that is not the last */
	EXP_DATA_END, /* the final reply: BDAT LAST, or "." after DATA */
	EXP_QUIT,
	EXP_RSET,
};

struct smtp_expect {
	enum smtp_expect_kind kind;
	size_t rcpt; /* for EXP_RCPT */
	int timeout_ms;
};

/* What the server said to each part of the transaction so far. */
struct smtp_outcome {
	struct cl_err auth_err; /* cls != CL_OK: AUTH failed */
	struct cl_err mail_err;
	size_t rcpt_ok, rcpt_bad;
	int data_code; /* 354 to DATA, or the BDAT LAST reply */
	char data_reply[512];
	char data_enh[16];
	int data_done; /* final data reply received */
	struct cl_err data_err;
};

struct smtp_tx {
	struct smtp_client *s;
	const struct smtp_message *m;
	struct smtp_result *res;
	struct smtp_expect *exp;
	size_t nexp, cap;
	struct smtp_outcome oc;
	int body_shown; /* the header section is in the transcript */
};

/* Expect a reply of this kind (in order) within timeout_ms. */
int smtp_tx_expect(struct smtp_tx *t, enum smtp_expect_kind kind, size_t rcpt, int timeout_ms);
/* Read the replies to everything expected, in order, and record them. */
int smtp_tx_read_replies(struct smtp_tx *t, struct cl_err *err);
/* The envelope is acceptable (AUTH, MAIL, enough recipients). */
int smtp_tx_envelope_ok(const struct smtp_tx *t);
/* The one error to report about the envelope; returns -1. */
int smtp_tx_envelope_error(struct smtp_tx *t, struct cl_err *err);
/* Queue QUIT and expect its reply. */
int smtp_tx_queue_quit(struct smtp_tx *t, struct cl_err *err);
/* After a failed transaction on a live session: RSET, or QUIT if last. */
void smtp_tx_abandon(struct smtp_tx *t, int last);
/* The message after the envelope, chunk holding its first piece and more
 * saying whether the body has more. -1: failed (err), 0: accepted and
 * done, 1: go on to the transaction's end (its data reply is judged). */
int smtp_tx_bdat(struct smtp_tx *t, struct buf *chunk, int more, int last, struct cl_err *err);
int smtp_tx_data(struct smtp_tx *t, struct buf *chunk, int more, int last, struct cl_err *err);

#endif
