/*
 * doctor_report.c - format the doctor's report for a terminal (see
 * doctor_report.h). Everything is built in a buffer first, so unit tests
 * can check the width; text that came from the server goes through
 * doctor_report_clean so that it cannot move the user's cursor.
 */
#include "doctor_report.h"

#include "doctor_conclude.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define C_RESET  "\033[0m"
#define C_BOLD   "\033[1m"
#define C_RED    "\033[31m"
#define C_GREEN  "\033[32m"
#define C_YELLOW "\033[33m"

/* The table's columns: PORT STATE TLS AUTH. */
#define COL_PORT  6
#define COL_STATE 12
#define COL_TLS   28
/* Label column of the per-port details. */
#define COL_LABEL 15

int doctor_report_colour_ok(FILE *f)
{
	const char *term = getenv("TERM");
	const char *no = getenv("NO_COLOR");

	return isatty(fileno(f)) && (no == NULL || no[0] == '\0') && term &&
	       strcmp(term, "dumb") != 0;
}

/* Control characters from the network become '?'. */
static void doctor_report_clean(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

/* Columns a UTF-8 string takes (one per character: good enough for the
 * ASCII that SMTP servers send). */
static size_t doctor_report_cols(const char *s, size_t n)
{
	size_t c = 0, i;

	for (i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			c++;
	return c;
}

int doctor_report_wrap(struct buf *out, const char *text, size_t indent, size_t width)
{
	char *copy = strdup(text), *p, *w;
	size_t col = 0, wl, wc, i;
	int r = 0;

	if (copy == NULL)
		return -1;
	doctor_report_clean(copy);
	p = copy;
	for (;;) {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		w = p;
		wl = strcspn(p, " ");
		wc = doctor_report_cols(w, wl);
		if (col > 0 && col + 1 + wc > width) {
			r |= buf_addc(out, '\n');
			col = 0;
		}
		if (col == 0) {
			for (i = 0; i < indent; i++)
				r |= buf_addc(out, ' ');
			col = indent;
		} else {
			r |= buf_addc(out, ' ');
			col++;
		}
		r |= buf_add(out, w, wl);
		col += wc;
		p += wl;
	}
	if (col > 0)
		r |= buf_addc(out, '\n');
	free(copy);
	return r ? -1 : 0;
}

static const char *doctor_report_state_colour(enum doctor_state s)
{
	switch (s) {
	case DOCTOR_OPEN:
		return C_GREEN;
	case DOCTOR_REFUSED:
		return C_YELLOW;
	default:
		return C_RED;
	}
}

static void doctor_report_pad(struct buf *out, const char *s, size_t width)
{
	size_t n = doctor_report_cols(s, strlen(s));

	buf_adds(out, s);
	while (n++ < width)
		buf_addc(out, ' ');
}

static void doctor_report_tls_cell(char *cell, size_t n, const struct doctor_port *p)
{
	const struct smtp_probe_result *s = &p->smtp;
	const char *mode = p->implicit_tls ? "implicit" : "STARTTLS";
	const char *v = s->tls_version;

	/* "TLSv1.3" -> "1.3": the column is headed TLS. */
	if (strncmp(v, "TLSv", 4) == 0)
		v += 4;
	if (s->tls_up)
		snprintf(cell, n, "%s %s %s", mode, v,
		         s->peer.verify == TLS_VERIFY_OK ? "ok"
		                                         : tls_verify_class_name(s->peer.verify));
	else if (p->tls_failure)
		snprintf(cell, n, "%s %s", mode, p->tls_failure);
	else if (p->connected && s->clear.code == 250 && !(s->clear.caps.flags & CAP_STARTTLS))
		snprintf(cell, n, "none");
	else
		snprintf(cell, n, "-");
	/* Always one blank before the next column. */
	if (strlen(cell) > COL_TLS - 1)
		cell[COL_TLS - 1] = '\0';
}

static void doctor_report_auth_cell(char *cell, size_t n, const struct doctor_port *p)
{
	const struct smtp_probe_result *s = &p->smtp;

	if (s->tls_up && (s->tls.caps.flags & CAP_AUTH))
		snprintf(cell, n, "%s%s", s->tls.caps.auth,
		         !p->implicit_tls && !(s->clear.caps.flags & CAP_AUTH) ? " (after TLS)"
		                                                               : "");
	else if (s->clear.caps.flags & CAP_AUTH)
		snprintf(cell, n, "%s (in clear!)", s->clear.caps.auth);
	else if (p->connected && (s->tls.code == 250 || s->clear.code == 250))
		snprintf(cell, n, "none");
	else
		snprintf(cell, n, "-");
}

static void doctor_report_table(struct buf *out, const struct doctor_report *r, int colour)
{
	char cell[SMTP_CAPS_AUTH_MAX + 32], port[16];
	size_t i, room = DOCTOR_REPORT_WIDTH - COL_PORT - COL_STATE - COL_TLS;

	doctor_report_pad(out, "PORT", COL_PORT);
	doctor_report_pad(out, "STATE", COL_STATE);
	doctor_report_pad(out, "TLS", COL_TLS);
	buf_adds(out, "AUTH\n");
	for (i = 0; i < r->nports; i++) {
		const struct doctor_port *p = &r->ports[i];

		snprintf(port, sizeof(port), "%d", p->port);
		doctor_report_pad(out, port, COL_PORT);
		if (colour)
			buf_adds(out, doctor_report_state_colour(p->state));
		buf_adds(out, doctor_state_name(p->state));
		if (colour)
			buf_adds(out, C_RESET);
		for (size_t k = strlen(doctor_state_name(p->state)); k < COL_STATE; k++)
			buf_addc(out, ' ');
		doctor_report_tls_cell(cell, sizeof(cell), p);
		doctor_report_pad(out, cell, COL_TLS);
		doctor_report_auth_cell(cell, sizeof(cell), p);
		/* A long AUTH list wraps under its own column. */
		{
			struct buf w = BUF_INIT(4096);
			doctor_report_wrap(&w, cell, COL_PORT + COL_STATE + COL_TLS,
			                   COL_PORT + COL_STATE + COL_TLS + room - 1);
			buf_adds(out, buf_cstr(&w) + COL_PORT + COL_STATE + COL_TLS);
			buf_free(&w);
		}
	}
}

/* "label        value" with the value wrapped under itself. */
static void doctor_report_field(struct buf *out, const char *label, const char *value)
{
	struct buf w = BUF_INIT(16384);

	if (value == NULL || value[0] == '\0')
		return;
	doctor_report_wrap(&w, value, COL_LABEL, DOCTOR_REPORT_WIDTH - 1);
	buf_adds(out, "  ");
	doctor_report_pad(out, label, COL_LABEL - 2);
	buf_adds(out, buf_cstr(&w) + (w.len >= COL_LABEL ? COL_LABEL : 0));
	buf_free(&w);
}

/* An EHLO reply's keywords on one line: "PIPELINING, SIZE 10240000, ...". */
static void doctor_report_ehlo(struct buf *out, const char *label, const struct smtp_probe_ehlo *e)
{
	struct buf v = BUF_INIT(SMTP_PROBE_TEXT_MAX * 2);
	const char *nl = strchr(e->text, '\n');

	if (e->code == 0)
		return;
	if (!e->esmtp) {
		buf_printf(&v, "%d (HELO only: %s)", e->code, e->text);
	} else if (nl == NULL) {
		buf_adds(&v, "(no extensions)");
	} else {
		for (const char *p = nl + 1; *p;) {
			size_t l = strcspn(p, "\n");
			if (v.len)
				buf_adds(&v, ", ");
			buf_add(&v, p, l);
			p += l;
			if (*p)
				p++;
		}
	}
	doctor_report_field(out, label, buf_cstr(&v));
	buf_free(&v);
}

static void doctor_report_port(struct buf *out, const struct doctor_report *r,
                               const struct doctor_port *p)
{
	const struct smtp_probe_result *s = &p->smtp;
	struct buf v = BUF_INIT(4096);

	(void)r;
	buf_printf(out, "%d (%s) at %s: %s, TCP in %ld ms\n", p->port,
	           p->implicit_tls ? "implicit TLS" : "plain, STARTTLS if offered", p->addr,
	           doctor_state_name(p->state), p->connect_ms);
	if (s->greeting_code) {
		buf_printf(&v, "%d %s", s->greeting_code, s->greeting);
		for (char *q = v.data; q && *q; q++)
			if (*q == '\n')
				*q = ' ';
		doctor_report_field(out, "greeting", buf_cstr(&v));
	}
	doctor_report_ehlo(out, p->implicit_tls ? "EHLO" : "EHLO (clear)", &s->clear);
	if (!p->implicit_tls && s->clear.code == 250)
		doctor_report_field(out, "STARTTLS",
		                    s->clear.caps.flags & CAP_STARTTLS ? "offered" : "not offered");
	if (s->tls_up) {
		buf_reset(&v);
		buf_printf(&v, "%s %s", s->tls_version, s->tls_cipher);
		doctor_report_field(out, "TLS", buf_cstr(&v));
		doctor_report_field(out, "certificate", s->peer.subject);
		doctor_report_field(out, "names", s->peer.names);
		doctor_report_field(out, "issuer", s->peer.issuer);
		buf_reset(&v);
		buf_printf(&v, "%s to %s", s->peer.not_before, s->peer.not_after);
		doctor_report_field(out, "valid", buf_cstr(&v));
		buf_reset(&v);
		if (s->peer.verify == TLS_VERIFY_OK)
			buf_adds(&v, "verified");
		else
			buf_printf(&v, "NOT verified: %s (%s)", s->peer.verify_msg,
			           tls_verify_class_name(s->peer.verify));
		doctor_report_field(out, "verification", buf_cstr(&v));
		doctor_report_ehlo(out, "EHLO (TLS)", &s->tls);
	}
	if (s->tls_up || s->clear.code == 250) {
		const struct smtp_caps *c = s->tls_up ? &s->tls.caps : &s->clear.caps;
		buf_reset(&v);
		buf_printf(&v, "AUTH %s; ", c->flags & CAP_AUTH ? c->auth : "none");
		if (c->flags & CAP_SIZE)
			buf_printf(&v, "SIZE %llu; ", c->size_max);
		buf_printf(&v, "PIPELINING %s; CHUNKING %s; SMTPUTF8 %s",
		           c->flags & CAP_PIPELINING ? "yes" : "no",
		           c->flags & CAP_CHUNKING ? "yes" : "no",
		           c->flags & CAP_SMTPUTF8 ? "yes" : "no");
		doctor_report_field(out, "offers", buf_cstr(&v));
	}
	if (p->detail[0] && p->state != DOCTOR_OPEN)
		doctor_report_field(out, "problem", p->detail);
	buf_free(&v);
}

/* An option that takes no value. */
static int doctor_report_flag_only(const char *a)
{
	return strcmp(a, "-4") == 0 || strcmp(a, "-6") == 0 ||
	       strncmp(a, "--tls-certcheck", 15) == 0;
}

static void doctor_report_command(struct buf *out, const struct doctor_conclusion *c, int colour)
{
	size_t col = 0, i = 0;
	struct buf a = BUF_INIT(8192);

	buf_adds(out, colour ? C_BOLD "Use:" C_RESET "\n" : "Use:\n");
	/* Shell continuation lines, so that it can be pasted as it is; an
	 * option stays on the line of its value. */
	while (i < c->argc) {
		buf_reset(&a);
		doctor_conclude_quote(&a, c->argv[i]);
		if (i > 0 && c->argv[i][0] == '-' && !doctor_report_flag_only(c->argv[i]) &&
		    i + 1 < c->argc) {
			size_t opt_len = a.len;
			buf_addc(&a, ' ');
			doctor_conclude_quote(&a, c->argv[i + 1]);
			/* Too long together for a line of its own: split it. */
			if (4 + a.len + 2 > DOCTOR_REPORT_WIDTH - 1)
				buf_truncate(&a, opt_len);
			else
				i++;
		}
		i++;
		if (col > 0 && col + 1 + a.len + 2 > DOCTOR_REPORT_WIDTH - 1) {
			buf_adds(out, " \\\n");
			col = 0;
		}
		if (col == 0) {
			buf_adds(out, i <= 1 ? "  " : "    ");
			col = i <= 1 ? 2 : 4;
		} else {
			buf_addc(out, ' ');
			col++;
		}
		buf_add(out, a.data, a.len);
		col += a.len;
	}
	buf_adds(out, "\n");
	buf_free(&a);
}

int doctor_report_format(struct buf *out, const struct doctor_report *r, int colour)
{
	const struct doctor_conclusion *c = &r->concl;
	const struct doctor_discovery *d = &r->disc;
	struct buf line = BUF_INIT(4096);
	size_t i;

	buf_printf(&line, "clsmtpc --doctor %s: server %s", d->target, r->host);
	if (strcmp(d->method, "given") != 0 && d->nsteps)
		buf_printf(&line, " (%s%s)", strcmp(d->method, "preset") == 0 ? "preset " : "",
		           strcmp(d->method, "preset") == 0 ? d->preset
		                                            : d->steps[d->nsteps - 1].what);
	buf_printf(&line, ", probed in %.2fs.", (double)r->elapsed_ms / 1000.0);
	doctor_report_wrap(out, buf_cstr(&line), 0, DOCTOR_REPORT_WIDTH - 1);
	buf_addc(out, '\n');
	doctor_report_wrap(out, c->summary ? c->summary : "", 0, DOCTOR_REPORT_WIDTH - 1);
	if (c->rec >= 0 && c->argv) {
		buf_addc(out, '\n');
		doctor_report_command(out, c, colour);
	}
	if (c->nwarnings) {
		buf_adds(out, colour ? "\n" C_YELLOW "Warnings:" C_RESET "\n" : "\nWarnings:\n");
		for (i = 0; i < c->nwarnings; i++) {
			struct buf w = BUF_INIT(8192);
			doctor_report_wrap(&w, c->warnings[i], 4, DOCTOR_REPORT_WIDTH - 1);
			buf_adds(out, "  - ");
			buf_adds(out, buf_cstr(&w) + (w.len >= 4 ? 4 : 0));
			buf_free(&w);
		}
	}
	if (c->rec >= 0 && c->account) {
		buf_adds(out, "\nOr this account in ~/.config/clsmtpc/config:\n");
		for (const char *p = c->account; *p;) {
			size_t l = strcspn(p, "\n");
			buf_adds(out, "  ");
			buf_add(out, p, l);
			buf_addc(out, '\n');
			p += l;
			if (*p)
				p++;
		}
	}
	if (d->nsteps && strcmp(d->method, "given") != 0) {
		buf_adds(out, "\nHow the server was found:\n");
		for (i = 0; i < d->nsteps; i++) {
			buf_reset(&line);
			struct buf w = BUF_INIT(4096);
			buf_printf(&line, "%s: %s", d->steps[i].what, d->steps[i].result);
			doctor_report_wrap(&w, buf_cstr(&line), 4, DOCTOR_REPORT_WIDTH - 1);
			buf_adds(out, "  - ");
			buf_adds(out, buf_cstr(&w) + (w.len >= 4 ? 4 : 0));
			buf_free(&w);
		}
	}
	buf_addc(out, '\n');
	doctor_report_table(out, r, colour);
	for (i = 0; i < r->nports; i++) {
		if (!r->ports[i].connected)
			continue;
		buf_addc(out, '\n');
		doctor_report_port(out, r, &r->ports[i]);
	}
	if (r->auth.tried) {
		buf_reset(&line);
		if (r->auth.ok)
			buf_printf(&line, "AUTH test on %d: %s accepted.", r->auth.port,
			           r->auth.mech);
		else
			buf_printf(&line, "AUTH test on %d: %s", r->auth.port, r->auth.detail);
		buf_addc(out, '\n');
		doctor_report_wrap(out, buf_cstr(&line), 0, DOCTOR_REPORT_WIDTH - 1);
	}
	buf_free(&line);
	return 0;
}
