/*
 * err.h - how the core reports failure: a status class plus a one-line
 * message naming what failed (and the server's reply when there is one).
 * Core functions return -1 and fill a struct cl_err; only main() turns the
 * class into an exit code (sysexits).
 */
#ifndef CLSMTP_ERR_H
#define CLSMTP_ERR_H

#include "base/buf.h"

enum cl_errclass {
	CL_OK = 0,
	CL_EUSAGE,    /* bad command line */
	CL_EDATA,     /* bad input data: address, header, message */
	CL_ENOHOST,   /* host name does not exist */
	CL_EUNAVAIL,  /* 5xx, required TLS or mechanism not offered */
	CL_EIO,       /* local I/O error */
	CL_ETEMP,     /* any 4xx, timeout, refused/reset, temporary DNS */
	CL_EPROTO,    /* the server broke the protocol */
	CL_EAUTH,     /* authentication rejected */
	CL_ECONFIG,   /* configuration or password file error */
	CL_ESOFTWARE, /* internal error (out of memory, broken invariant) */
	CL_ETLS,      /* TLS handshake or certificate verification failed */
};

#define CL_ERR_MSG_MAX 1024

/* The step of an SMTP exchange an error comes from (what a reply answered). */
enum cl_stage {
	CL_STAGE_NONE = 0,
	CL_STAGE_CONNECT,
	CL_STAGE_GREETING,
	CL_STAGE_EHLO,
	CL_STAGE_STARTTLS,
	CL_STAGE_AUTH,
	CL_STAGE_MAIL,
	CL_STAGE_RCPT,
	CL_STAGE_DATA,     /* the DATA command */
	CL_STAGE_DATA_END, /* the end of the message (".", or BDAT) */
	CL_STAGE_COUNT
};

/* Besides the line for people, what the server answered, as data (the
 * client engine fills it from the parsed reply): reply code, RFC 3463
 * enhanced status code, the reply on one line and the stage it answered.
 * err_set clears them; err_reply sets them; err_prefix keeps them. */
struct cl_err {
	enum cl_errclass cls;
	char msg[CL_ERR_MSG_MAX];
	int code;            /* reply code, 0 when the error is not a reply */
	char enh[16];        /* "5.1.1", or "" */
	enum cl_stage stage; /* CL_STAGE_NONE when not known */
	char reply[CL_ERR_MSG_MAX];
};

/* Set class and message; always returns -1 so callers can "return err_set(...)". */
int err_set(struct cl_err *e, enum cl_errclass cls, const char *fmt, ...) BUF_PRINTF(3, 4);
/* Prefix the existing message with more context: "ctx: old message". */
int err_prefix(struct cl_err *e, const char *fmt, ...) BUF_PRINTF(2, 3);
/* Record the reply the error is about (after err_set); reply may be NULL
 * (then only the stage and enh are set). Always returns -1. */
int err_reply(struct cl_err *e, enum cl_stage stage, int code, const char *enh, const char *reply);
void err_clear(struct cl_err *e);
/* "MAIL FROM", "RCPT TO", "end of DATA"...: the words of "in reply to". */
const char *err_stage_name(enum cl_stage st);
/* The stage of that name, or CL_STAGE_NONE. */
enum cl_stage err_stage_by_name(const char *name);
const char *err_class_name(enum cl_errclass cls);

#endif
