/*
 * doctor.h - clsmtpc --doctor: why mail does not leave this network, and
 * the command that will work. doctor.c runs the job (discover the server,
 * probe its ports in parallel, try AUTH if asked, conclude, print); the
 * struct doctor_report below is what every part fills or reads.
 * Parts: doctor_discover.c, doctor_probe.c, doctor_conclude.c,
 * doctor_report.c (text), doctor_json.c (--json).
 */
#ifndef CLSMTPC_DOCTOR_H
#define CLSMTPC_DOCTOR_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>

#include "base/err.h"
#include "options.h"
#include "engine/smtp_probe.h"

/* The whole probe, all ports in parallel (issue 5: "10 s in all"). */
#define DOCTOR_TIMEOUT_DEFAULT_S 10
/* Share of it for TCP connects. Linux resends a lost SYN after 1 s and
 * 3 s; 60 % of 10 s covers both and leaves 4 s for greeting, EHLO and TLS.
 * A port that has not answered by then is filtered. */
#define DOCTOR_CONNECT_SHARE_PCT 60
/* 25, 587, 465, 2525, one from -P or SRV, one spare. */
#define DOCTOR_PORTS_MAX 6
#define DOCTOR_STEPS_MAX 16
#define DOCTOR_WARNINGS_MAX 16
#define DOCTOR_HOST_MAX 256
/* The JSON schema's name and version; bump on incompatible change. */
#define DOCTOR_JSON_SCHEMA "clsmtpc-doctor/1"

enum doctor_state {
	DOCTOR_OPEN,        /* SMTP answered (and TLS verified where used) */
	DOCTOR_REFUSED,     /* RST: nothing listens */
	DOCTOR_FILTERED,    /* no answer at all: OP25B's signature */
	DOCTOR_UNREACHABLE, /* ICMP unreachable, no route */
	DOCTOR_TLS_FAILURE, /* TCP fine, TLS failed or did not verify */
	DOCTOR_NO_SMTP,     /* TCP fine, but no usable SMTP dialogue */
	DOCTOR_NOT_PROBED,  /* the host did not resolve */
};

struct doctor_port {
	int port;
	int implicit_tls;           /* probed with TLS from the first byte */
	enum doctor_state state;
	char addr[INET6_ADDRSTRLEN]; /* the address that answered or was tried */
	long connect_ms;            /* until the TCP outcome was known */
	long elapsed_ms;            /* until the probe ended */
	const char *tls_failure;    /* NULL, "protocol" or a tls_verify_class_name */
	char detail[CL_ERR_MSG_MAX]; /* why, when not plainly open; "" otherwise */
	int connected;              /* TCP connected: smtp holds the dialogue */
	struct smtp_probe_result smtp;
	char *transcript;           /* -v: the dialogue, malloc'ed, or NULL */
};

struct doctor_step {
	char what[300];   /* "SRV _submissions._tcp.example.com" */
	char result[300]; /* "mail.example.com port 465", "none (NXDOMAIN)" */
};

struct doctor_discovery {
	char target[DOCTOR_HOST_MAX]; /* as given */
	char domain[DOCTOR_HOST_MAX]; /* of user@domain, "" for a host */
	char address[DOCTOR_HOST_MAX]; /* user@domain when given, else "" */
	const char *method;           /* "given", "srv", "preset", "name", "mx" */
	char host[DOCTOR_HOST_MAX];   /* the server chosen */
	int port;                     /* from SRV or the preset, 0 if none */
	int port_implicit_tls;        /* that port wants implicit TLS */
	char preset[64];              /* the preset's name when method is "preset" */
	char preset_auth[32];         /* its auth ("auto", "xoauth2"...), or "" */
	struct doctor_step steps[DOCTOR_STEPS_MAX];
	size_t nsteps;
};

struct doctor_auth {
	int tried;
	int port;         /* where */
	int ok;
	char mech[32];    /* the mechanism used, upper case */
	enum cl_errclass cls; /* on failure */
	char detail[CL_ERR_MSG_MAX];
};

struct doctor_conclusion {
	int rec;                /* index of the recommended port, -1 if none */
	char rec_auth[32];      /* for -A, lower case ("plain") */
	char **argv;            /* the recommended command, NULL-terminated */
	size_t argc;
	char *command;          /* the same quoted for a POSIX shell */
	char *account;          /* the same as a configuration account block */
	char *summary;          /* the conclusion in plain words */
	char *warnings[DOCTOR_WARNINGS_MAX];
	size_t nwarnings;
	enum cl_errclass cls;   /* CL_OK, or why there is no way to submit */
	char why[CL_ERR_MSG_MAX]; /* one line for stderr when cls != CL_OK */
};

struct doctor_report {
	struct doctor_discovery disc;
	const char *host;       /* disc.host */
	int family;
	int timeout_s;
	long elapsed_ms;        /* the whole run */
	struct doctor_port ports[DOCTOR_PORTS_MAX];
	size_t nports;
	struct doctor_auth auth;
	struct doctor_conclusion concl;
};

/* Run clsmtpc --doctor as o says; prints the report on stdout. 0 when a
 * way to submit was found (and the credentials, if given, work); -1 with
 * err otherwise (class for the exit code, one line for stderr). */
int doctor_run(struct client_opts *o, struct cl_err *err);

/* Words for the report and the JSON: "open", "refused", "filtered",
 * "unreachable", "tls-failure", "no-smtp", "not-probed". */
const char *doctor_state_name(enum doctor_state s);

/* The usual ports in the order they are shown, and whether each is
 * implicit TLS; -P (and an SRV port) added when not among them. */
void doctor_ports_init(struct doctor_report *r, int extra_port, int extra_implicit);

void doctor_report_free(struct doctor_report *r);

#endif
