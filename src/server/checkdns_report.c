/*
 * checkdns_report.c - the findings of clsmtpd -check-dns as text (the
 * conclusion first, then each check, then what to publish) or as JSON
 * (checkdns.h).
 */
#include "checkdns.h"

#include <string.h>

#include "base/json.h"

static void cd_conclusion(const struct cd_domain *d, struct buf *out)
{
	size_t fail = 0, warn = 0, unknown = 0;

	for (size_t i = 0; i < d->n; i++) {
		fail += d->f[i].status == CD_FAIL;
		warn += d->f[i].status == CD_WARN;
		unknown += d->f[i].status == CD_UNKNOWN;
	}
	if (fail + warn + unknown == 0) {
		buf_printf(out, "%s: ready (%zu checks passed)", d->domain, d->n);
		return;
	}
	buf_printf(out, "%s:", d->domain);
	if (fail)
		buf_printf(out, " %zu problem%s", fail, fail > 1 ? "s" : "");
	if (warn)
		buf_printf(out, "%s %zu warning%s", fail ? "," : "", warn, warn > 1 ? "s" : "");
	if (unknown)
		buf_printf(out, "%s %zu not known", fail || warn ? "," : "", unknown);
}

void checkdns_text(const struct cd_domain *d, size_t n, struct buf *out)
{
	for (size_t k = 0; k < n; k++) {
		if (k > 0)
			buf_addc(out, '\n');
		cd_conclusion(&d[k], out);
		buf_addc(out, '\n');
		for (size_t i = 0; i < d[k].n; i++)
			buf_printf(out, "  %-7s %-5s %s\n", checkdns_status_name(d[k].f[i].status),
			           d[k].f[i].check, d[k].f[i].detail);
		if (d[k].publish.len > 0)
			buf_printf(out, "  publish in the zone of %s:\n%s", d[k].domain,
			           buf_cstr(&d[k].publish));
	}
}

void checkdns_json(const struct cd_domain *d, size_t n, struct buf *out)
{
	struct buf line = BUF_INIT(1 << 20);

	buf_adds(out, "{\"domains\": [");
	for (size_t k = 0; k < n; k++) {
		const char *p = buf_cstr(&d[k].publish);
		buf_adds(out, k ? ",\n  {\"domain\": " : "\n  {\"domain\": ");
		json_string(out, d[k].domain);
		buf_adds(out, ", \"conclusion\": ");
		json_string(out, checkdns_status_name(checkdns_worst(&d[k])));
		buf_adds(out, ", \"summary\": ");
		buf_reset(&line);
		cd_conclusion(&d[k], &line);
		json_string(out, buf_cstr(&line));
		buf_adds(out, ",\n   \"checks\": [");
		for (size_t i = 0; i < d[k].n; i++) {
			buf_adds(out, i ? ",\n    {\"check\": " : "\n    {\"check\": ");
			json_string(out, d[k].f[i].check);
			buf_adds(out, ", \"status\": ");
			json_string(out, checkdns_status_name(d[k].f[i].status));
			buf_adds(out, ", \"detail\": ");
			json_string(out, d[k].f[i].detail);
			buf_addc(out, '}');
		}
		buf_adds(out, "],\n   \"publish\": [");
		/* One string per zone-file line. */
		for (const char *q = p; *q;) {
			const char *e = strchr(q, '\n');
			size_t len = e ? (size_t)(e - q) : strlen(q);
			buf_reset(&line);
			buf_add(&line, q, len);
			buf_adds(out, q == p ? "" : ", ");
			json_string(out, buf_cstr(&line));
			q += len + (e ? 1 : 0);
		}
		buf_adds(out, "]}");
	}
	buf_adds(out, "\n]}\n");
	buf_free(&line);
}
