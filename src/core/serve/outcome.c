/*
 * outcome.c - delivery outcomes as records (outcome.h): built from an
 * error value or a reply, stored as journal fields, and turned into the
 * sentence for people in one place (outcome_text). outcome_from_text reads
 * the sentences that release 1 journalled, so an old spool still reads.
 */
#include "serve/outcome.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Each journal field is at most this long (a record stays one bounded line:
 * SPOOL_LINE_MAX). */
#define OUTCOME_MTA_MAX  255
#define OUTCOME_TEXT_MAX 1500
#define OUTCOME_LEAD_MAX 300

void outcome_init(struct outcome *o)
{
	memset(o, 0, sizeof(*o));
}

void outcome_free(struct outcome *o)
{
	free(o->mta);
	free(o->reply);
	free(o->note);
	free(o->lead);
	outcome_init(o);
}

/* *dst = a copy of src (NULL or "" : NULL). */
static int outcome_set(char **dst, const char *src)
{
	free(*dst);
	*dst = NULL;
	if (src == NULL || *src == '\0')
		return 0;
	return (*dst = strdup(src)) != NULL ? 0 : -1;
}

int outcome_copy(struct outcome *o, const struct outcome *src)
{
	outcome_free(o);
	memcpy(o->status, src->status, sizeof(o->status));
	o->stage = src->stage;
	o->code = src->code;
	if (outcome_set(&o->mta, src->mta) < 0 || outcome_set(&o->reply, src->reply) < 0 ||
	    outcome_set(&o->note, src->note) < 0 || outcome_set(&o->lead, src->lead) < 0)
		return -1;
	return 0;
}

int outcome_note(struct outcome *o, const char *status, const char *note)
{
	outcome_free(o);
	snprintf(o->status, sizeof(o->status), "%s", status ? status : "");
	return outcome_set(&o->note, note);
}

/* "C.0.0" for reply code, or its enhanced code when that has its class
 * (RFC 3463: class.subject.detail, the class matching the reply). */
static void outcome_status_of(char *out, int code, const char *enh)
{
	char c = code / 100 == 4 ? '4' : '5';

	snprintf(out, 16, "%c.0.0", c);
	if ((code / 100 == 4 || code / 100 == 5) && enh != NULL && enh[0] == c && enh[1] == '.')
		snprintf(out, 16, "%s", enh);
}

int outcome_reply(struct outcome *o, const char *mta, enum cl_stage stage, int code,
                  const char *enh, const char *reply)
{
	outcome_free(o);
	outcome_status_of(o->status, code, enh);
	o->stage = stage;
	o->code = code;
	if (outcome_set(&o->mta, mta) < 0 || outcome_set(&o->reply, reply) < 0)
		return -1;
	return 0;
}

int outcome_from_err(struct outcome *o, const char *mta, const struct cl_err *e)
{
	if (e->code != 0)
		return outcome_reply(o, mta, e->stage, e->code, e->enh, e->reply);
	if (outcome_note(o, e->enh, e->msg) < 0 || outcome_set(&o->mta, mta) < 0)
		return -1;
	o->stage = e->stage;
	return 0;
}

int outcome_expired(struct outcome *o, const char *lead, const struct outcome *last)
{
	struct outcome n;

	outcome_init(&n);
	if (last != NULL && outcome_copy(&n, last) < 0) {
		outcome_free(&n);
		return -1;
	}
	free(n.lead);
	n.lead = NULL;
	memcpy(n.status, "4.4.7", 6);
	if (outcome_set(&n.lead, lead) < 0) {
		outcome_free(&n);
		return -1;
	}
	outcome_free(o);
	*o = n;
	return 0;
}

/* The last error itself, without the lead. */
static void outcome_inner(const struct outcome *o, struct buf *out)
{
	if (o->code != 0 && o->mta != NULL) {
		buf_printf(out, "host %s said: %s", o->mta, o->reply ? o->reply : "");
		if (o->stage != CL_STAGE_NONE)
			buf_printf(out, " (in reply to %s)", err_stage_name(o->stage));
	} else if (o->code != 0) {
		buf_adds(out, o->reply ? o->reply : "");
	} else if (o->mta != NULL) {
		buf_printf(out, "host %s: %s", o->mta, o->note ? o->note : "");
	} else if (o->note != NULL) {
		buf_adds(out, o->note);
	}
}

void outcome_text(const struct outcome *o, struct buf *out)
{
	size_t before;

	if (o->lead == NULL) {
		outcome_inner(o, out);
		return;
	}
	buf_printf(out, "%s; last error: ", o->lead);
	before = out->len;
	outcome_inner(o, out);
	if (out->len == before)
		buf_adds(out, "none");
}

const char *outcome_remote_mta(const struct outcome *o)
{
	return o->lead == NULL && o->code != 0 ? o->mta : NULL;
}

const char *outcome_remote_reply(const struct outcome *o)
{
	return o->code != 0 ? o->reply : NULL;
}

/* A field: at most max bytes of s, TAB CR LF as spaces. */
static void outcome_field(struct buf *out, const char *s, size_t max)
{
	size_t i;

	buf_addc(out, '\t');
	for (i = 0; s != NULL && s[i] != '\0' && i < max; i++)
		buf_addc(out, s[i] == '\t' || s[i] == '\r' || s[i] == '\n' ? ' ' : s[i]);
}

int outcome_format(const struct outcome *o, struct buf *out)
{
	char code[8];
	size_t start = out->len;

	snprintf(code, sizeof(code), "%d", o->code);
	outcome_field(out, o->status, sizeof(o->status) - 1);
	outcome_field(out, err_stage_name(o->stage), 32);
	outcome_field(out, code, sizeof(code));
	outcome_field(out, o->mta, OUTCOME_MTA_MAX);
	outcome_field(out, o->reply, OUTCOME_TEXT_MAX);
	outcome_field(out, o->note, OUTCOME_TEXT_MAX);
	outcome_field(out, o->lead, OUTCOME_LEAD_MAX);
	/* The fields follow a TAB of the caller's: drop our first one. */
	if (out->len > start) {
		memmove(out->data + start, out->data + start + 1, out->len - start - 1);
		out->len--;
		out->data[out->len] = '\0';
	}
	return 0;
}

int outcome_parse(struct outcome *o, char *const *f, size_t n)
{
	char *end;
	long code;

	outcome_free(o);
	if (n != OUTCOME_NFIELDS || strlen(f[0]) >= sizeof(o->status))
		return -1;
	code = strtol(f[2], &end, 10);
	if (*end != '\0' || (code != 0 && (code < 200 || code > 599)))
		return -1;
	if (f[1][0] != '\0' && (o->stage = err_stage_by_name(f[1])) == CL_STAGE_NONE)
		return -1;
	memcpy(o->status, f[0], strlen(f[0]) + 1);
	o->code = (int)code;
	if (outcome_set(&o->mta, f[3]) < 0 || outcome_set(&o->reply, f[4]) < 0 ||
	    outcome_set(&o->note, f[5]) < 0 || outcome_set(&o->lead, f[6]) < 0) {
		outcome_free(o);
		return -1;
	}
	return 0;
}

/* ---- release 1's sentences ------------------------------------------- */

/* 1 if p starts with a reply code followed by SP, '-' or the end. */
static int outcome_is_code(const char *p)
{
	return isdigit((unsigned char)p[0]) && isdigit((unsigned char)p[1]) &&
	       isdigit((unsigned char)p[2]) && (p[3] == ' ' || p[3] == '-' || p[3] == '\0');
}

/* The status release 1 gave such a sentence: the enhanced code of the reply
 * it quotes (after "said: ", or at its start), 4.4.7 when expired, a
 * leading code of ours, else 5.0.0 (4.0.0 for a 4xx reply). */
static void outcome_text_status(const char *text, char *out)
{
	const char *r = strstr(text, " said: ");
	int a, b, c, len = 0;

	memcpy(out, "5.0.0", 6);
	if (strncmp(text, "delivery time expired", 21) == 0) {
		memcpy(out, "4.4.7", 6);
		return;
	}
	r = r ? r + 7 : text;
	if (!outcome_is_code(r)) {
		/* Our own failures (relay_mx.c) began with their RFC 3463 code. */
		if ((text[0] == '4' || text[0] == '5') && text[1] == '.') {
			/* NOLINTNEXTLINE(cert-err34-c): 1-3 digits each cannot overflow */
			if (sscanf(text, "%1d.%3d.%3d%n", &a, &b, &c, &len) == 3 &&
			    (text[len] == ' ' || text[len] == '\0'))
				snprintf(out, 16, "%d.%d.%d", a, b, c);
		}
		return;
	}
	if (r[0] == '4')
		memcpy(out, "4.0.0", 6);
	if ((r[0] != '4' && r[0] != '5') || r[3] != ' ')
		return;
	/* NOLINTNEXTLINE(cert-err34-c): 1-3 digits each cannot overflow */
	if (sscanf(r + 4, "%1d.%3d.%3d%n", &a, &b, &c, &len) == 3 && a == r[0] - '0' &&
	    (r[4 + len] == ' ' || r[4 + len] == '\0'))
		snprintf(out, 16, "%d.%d.%d", a, b, c);
}

/* The last error of a sentence, without its lead. */
static int outcome_inner_from_text(struct outcome *o, const char *t)
{
	const char *said = strstr(t, " said: "), *colon, *in;
	char *mta, *reply;
	int r;

	if (strncmp(t, "host ", 5) == 0 && said != NULL && outcome_is_code(said + 7)) {
		mta = strndup(t + 5, (size_t)(said - t - 5));
		in = strstr(said + 7, " (in reply to ");
		reply = strndup(said + 7, in ? (size_t)(in - said - 7) : strlen(said + 7));
		o->stage = CL_STAGE_NONE;
		if (in != NULL) {
			char name[32];
			size_t n = strlen(in + 14);
			if (n > 0 && n < sizeof(name) && in[14 + n - 1] == ')') {
				memcpy(name, in + 14, n - 1);
				name[n - 1] = '\0';
				o->stage = err_stage_by_name(name);
			}
		}
		o->code = (int)strtol(said + 7, NULL, 10);
		r = mta && reply && outcome_set(&o->mta, mta) == 0 &&
		            outcome_set(&o->reply, reply) == 0
		        ? 0
		        : -1;
		free(mta);
		free(reply);
		return r;
	}
	if (outcome_is_code(t)) {
		o->code = (int)strtol(t, NULL, 10);
		return outcome_set(&o->reply, t);
	}
	if (strncmp(t, "host ", 5) == 0 && (colon = strstr(t + 5, ": ")) != NULL) {
		mta = strndup(t + 5, (size_t)(colon - t - 5));
		r = mta && outcome_set(&o->mta, mta) == 0 && outcome_set(&o->note, colon + 2) == 0
		        ? 0
		        : -1;
		free(mta);
		return r;
	}
	return outcome_set(&o->note, t);
}

int outcome_from_text(struct outcome *o, const char *text)
{
	const char *last = strstr(text, "; last error: ");
	struct buf again = BUF_INIT((size_t)-1 / 2);
	int r = 0, same;

	outcome_free(o);
	if (strncmp(text, "delivery time expired", 21) == 0 && last != NULL) {
		o->lead = strndup(text, (size_t)(last - text));
		if (o->lead == NULL)
			r = -1;
		else if (strcmp(last + 14, "none") != 0)
			r = outcome_inner_from_text(o, last + 14);
	} else {
		r = outcome_inner_from_text(o, text);
	}
	outcome_text_status(text, o->status);
	if (r < 0) {
		outcome_free(o);
		return -1;
	}
	/* Whatever does not read back as written stays the sentence it was. */
	outcome_text(o, &again);
	same = strcmp(buf_cstr(&again), text) == 0;
	buf_free(&again);
	if (!same) {
		char status[16];
		memcpy(status, o->status, sizeof(status));
		if (outcome_note(o, status, text) < 0)
			return -1;
	}
	return 0;
}
