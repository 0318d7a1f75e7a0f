/*
 * doctor_probe.h - the doctor's probes: every port of a report at once,
 * each classified (open, refused, filtered, unreachable, TLS failure) and,
 * when open, looked at (greeting, EHLO, TLS, certificate), within one
 * deadline (doctor_probe.c).
 */
#ifndef CLSMTPC_DOCTOR_PROBE_H
#define CLSMTPC_DOCTOR_PROBE_H

#include <stdint.h>

#include "doctor.h"
#include "net/tls.h"

struct doctor_probe_params {
	const char *host;
	int family;                     /* AF_UNSPEC, AF_INET, AF_INET6 */
	const char *ehlo_domain;
	struct tls_client_ctx *tls_ctx; /* verification reported, not enforced */
	int64_t connect_deadline_ms;    /* a port silent until then is filtered */
	int64_t deadline_ms;            /* every probe ends by then */
	int verbose;                    /* keep each dialogue in port->transcript */
};

/* Probe r->ports[0..nports) in parallel; fills each port's state, facts and
 * detail. Always returns 0 (a port's failure is a finding, not an error). */
int doctor_probe_all(struct doctor_report *r, const struct doctor_probe_params *pp,
		     struct cl_err *err);

#endif
