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

struct cl_err {
	enum cl_errclass cls;
	char msg[CL_ERR_MSG_MAX];
};

/* Set class and message; always returns -1 so callers can "return err_set(...)". */
int err_set(struct cl_err *e, enum cl_errclass cls, const char *fmt, ...) BUF_PRINTF(3, 4);
/* Prefix the existing message with more context: "ctx: old message". */
int err_prefix(struct cl_err *e, const char *fmt, ...) BUF_PRINTF(2, 3);
void err_clear(struct cl_err *e);
const char *err_class_name(enum cl_errclass cls);

#endif
