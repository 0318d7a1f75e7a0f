/*
 * spf.h - the SPF check_host() function of RFC 7208, sans-I/O: the caller
 * answers the DNS questions it asks (spf_eval returns SPF_NEED_DNS with the
 * question; spf_answer stores the reply; spf_eval again). Evaluation is
 * replayed from the start over the answers cached so far, so it is a pure
 * function of the inputs and the DNS data, and needs no coroutine.
 */
#ifndef CLSMTPD_SPF_H
#define CLSMTPD_SPF_H

#include <stddef.h>

enum spf_result {
	SPF_NONE,
	SPF_NEUTRAL,
	SPF_PASS,
	SPF_FAIL,
	SPF_SOFTFAIL,
	SPF_TEMPERROR,
	SPF_PERMERROR,
	SPF_NEED_DNS, /* not a result: answer spf_question() and call again */
};

enum spf_qtype { SPF_Q_TXT, SPF_Q_A, SPF_Q_AAAA, SPF_Q_MX, SPF_Q_PTR };

enum spf_dns_status {
	SPF_DNS_OK,       /* an answer, maybe with no records (NODATA) */
	SPF_DNS_NXDOMAIN, /* the name does not exist */
	SPF_DNS_ERROR,    /* SERVFAIL, timeout, anything else: temperror */
};

/* RFC 7208 4.6.4: at most 10 terms that cause DNS lookups, at most 2
 * lookups that find nothing, at most 10 names behind one mx or ptr. */
#define SPF_DNS_TERMS_MAX 10
#define SPF_VOID_MAX      2
#define SPF_NAMES_MAX     10
/* Answers kept for one evaluation: the bound above allows about 120. */
#define SPF_CACHE_MAX 256

struct spf;

/* ip: "192.0.2.1" or "2001:db8::1"; sender: the MAIL FROM address ("" for
 * the null sender: postmaster@helo is checked, RFC 7208 2.4); helo: the
 * client's HELO/EHLO name. NULL when ip is not an address or out of memory. */
struct spf *spf_new(const char *ip, const char *sender, const char *helo);
void spf_free(struct spf *s);
/* Run check_host() for the sender's domain (or the HELO name for <>). */
enum spf_result spf_eval(struct spf *s);
/* With SPF_NEED_DNS: the question to answer. */
void spf_question(const struct spf *s, enum spf_qtype *type, const char **name);
/* The answer to a question: records as text (TXT: the record's strings
 * joined; A/AAAA: the address; MX: the exchange; PTR: the name). */
int spf_answer(struct spf *s, enum spf_qtype type, const char *name,
               enum spf_dns_status status, const char *const *rr, size_t nrr);
/* After a result: the domain that was checked, and a short reason
 * ("matched ip4:192.0.2.0/24", "no SPF record", "too many DNS lookups"). */
const char *spf_domain(const struct spf *s);
const char *spf_reason(const struct spf *s);
/* "pass", "fail", ... as RFC 8601 writes them. */
const char *spf_result_name(enum spf_result r);
/* DNS questions asked so far (for the caller's figures). */
size_t spf_lookups(const struct spf *s);

#endif
