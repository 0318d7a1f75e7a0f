/*
 * dmarc.h - DMARC (RFC 7489) for mail from the internet, sans-I/O like
 * spf.h: the record of the From: domain (or of its organizational domain,
 * from the Public Suffix List through libpsl), identifier alignment of the
 * SPF and DKIM results, and the policy to apply (p, sp, pct).
 */
#ifndef CLSMTPD_DMARC_H
#define CLSMTPD_DMARC_H

#include <stddef.h>

#include "spf.h"

enum dmarc_result { DMARC_NONE, DMARC_PASS, DMARC_FAIL, DMARC_TEMPERROR, DMARC_PERMERROR,
                    DMARC_NEED_DNS };
enum dmarc_policy { DMARC_P_NONE, DMARC_P_QUARANTINE, DMARC_P_REJECT };

struct dmarc;

/* from_domain: the domain of the RFC 5322.From address (one address; a
 * message with several From addresses is the caller's to refuse or to
 * check each). NULL when the domain is empty or out of memory. */
struct dmarc *dmarc_new(const char *from_domain);
void dmarc_free(struct dmarc *d);
/* The authenticated identifiers: the SPF result for the MAIL FROM domain
 * (or HELO name for <>), and each DKIM signature that verified (d=). */
void dmarc_spf(struct dmarc *d, enum spf_result r, const char *domain);
int dmarc_dkim_pass(struct dmarc *d, const char *sdid);
/* pct sampling: roll is a number from 0 to 99 (random in production). */
enum dmarc_result dmarc_eval(struct dmarc *d, unsigned roll);
/* With DMARC_NEED_DNS: the TXT question to answer (spf.h's statuses). */
const char *dmarc_question(const struct dmarc *d);
int dmarc_answer(struct dmarc *d, const char *name, enum spf_dns_status st,
                 const char *const *txt, size_t n);
/* After a result: the policy published (p or sp as it applies) and the
 * one to apply after pct (DMARC_P_NONE for a pass). */
enum dmarc_policy dmarc_published(const struct dmarc *d);
enum dmarc_policy dmarc_disposition(const struct dmarc *d);
const char *dmarc_policy_name(enum dmarc_policy p);
const char *dmarc_result_name(enum dmarc_result r);
/* The organizational domain of a name (RFC 7489 3.2), or the name itself
 * when the Public Suffix List has no answer. */
const char *dmarc_org_domain(const char *domain, char *out, size_t max);
/* "p=reject sp=none dis=reject" for Authentication-Results, and why. */
const char *dmarc_comment(const struct dmarc *d);
const char *dmarc_reason(const struct dmarc *d);

#endif
