/*
 * doctor_conclude.h - from the probes' findings to a conclusion in plain
 * words: what port 25 does (OP25B), which port to use and how (implicit TLS
 * preferred, RFC 8314), warnings, and the command and account block that
 * will work. Pure: no I/O, so unit tests drive it with made-up findings.
 */
#ifndef CLSMTPC_DOCTOR_CONCLUDE_H
#define CLSMTPC_DOCTOR_CONCLUDE_H

#include "base/buf.h"
#include "doctor.h"
#include "options.h"

/* Mechanisms that are weak even inside TLS: MD5-based, and they need the
 * server to keep the password in a reversible form (RFC 6331 made
 * DIGEST-MD5 historic; CRAM-MD5 is the same family). */
#define DOCTOR_WEAK_MECHS "CRAM-MD5 DIGEST-MD5"
/* Warn about a certificate that expires sooner than this. */
#define DOCTOR_CERT_WARN_DAYS 14

/* Fill r->concl from r's findings and what the user gave (o: user, from,
 * TLS options, password source). now is the time for certificate expiry
 * warnings (time(NULL); a fixed value in tests). */
int doctor_conclude(struct doctor_report *r, const struct client_opts *o, long long now);
/* The index of the port to recommend, or -1: TLS up and trusted, AUTH
 * offered after TLS; implicit TLS first, then 465, 587, 2525, others, 25. */
int doctor_conclude_choose(const struct doctor_report *r, const struct client_opts *o);
/* Append arg quoted for a POSIX shell (as is when it needs no quoting). */
int doctor_conclude_quote(struct buf *out, const char *arg);
void doctor_conclude_free(struct doctor_conclusion *c);

#endif
