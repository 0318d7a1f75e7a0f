/*
 * checkdns.h - "clsmtpd -check-dns [DOMAIN] [--json]": read-only checks of
 * what the DNS says about a domain clsmtpd serves or signs for - its MX,
 * its SPF record against the smarthost, the DKIM records of the configured
 * keys, its DMARC policy, the PTR of the server's name - each a finding
 * (data), then a conclusion and the zone-file lines to publish
 * (checkdns_report.c writes them as text or JSON).
 */
#ifndef CLSMTPD_CHECKDNS_H
#define CLSMTPD_CHECKDNS_H

#include <stddef.h>

#include "base/buf.h"
#include "conf.h"

enum cd_status { CD_OK, CD_WARN, CD_FAIL, CD_UNKNOWN };

#define CD_FINDINGS_MAX 24

struct cd_finding {
	const char *check; /* "mx", "spf", "dkim", "dmarc", "ptr" */
	enum cd_status status;
	char *detail;
};

struct cd_domain {
	char *domain;
	struct cd_finding f[CD_FINDINGS_MAX];
	size_t n;
	struct buf publish; /* zone-file lines, one per line */
};

/* Every check for domain under configuration c. */
void checkdns_domain(const struct conf *c, const char *domain, struct cd_domain *out);
void checkdns_free(struct cd_domain *d);
/* The worst status of a domain's findings. */
enum cd_status checkdns_worst(const struct cd_domain *d);
const char *checkdns_status_name(enum cd_status s);

/* checkdns_report.c: the report as text (conclusion first) or JSON. */
void checkdns_text(const struct cd_domain *d, size_t n, struct buf *out);
void checkdns_json(const struct cd_domain *d, size_t n, struct buf *out);

/* The command: its exit status, or -1 when argv is not -check-dns. */
int checkdns_main(int argc, char **argv);

#endif
