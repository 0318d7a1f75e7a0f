/*
 * spool_env.c - the spool's envelope block and journal records as text
 * (spool_env.h; the format is docs/spool.md): building and freeing an
 * envelope, writing it and a record into a buffer, reading both back from
 * bytes. No file, no clock: spool.c brings the bytes and the time.
 */
#include "serve/spool_env.h"

#include <stdlib.h>
#include <string.h>

static const char *const spool_rstate_names[] = {"pending", "deferred", "delivered", "failed",
                                                 "bounced"};

const char *spool_rstate_name(enum spool_rstate s)
{
	return spool_rstate_names[s];
}

void spool_env_init(struct spool_envelope *e)
{
	memset(e, 0, sizeof(*e));
}

static char *spool_strdup(const char *s)
{
	return strdup(s != NULL && *s != '\0' ? s : "-");
}

int spool_env_add_rcpt(struct spool_envelope *e, const char *addr, enum spool_class cls,
                       const char *target, const char *notify, const char *orcpt)
{
	struct spool_rcpt *r;

	if (e->nrcpt >= SPOOL_RCPT_MAX)
		return -1;
	if (e->nrcpt == e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 8;
		r = realloc(e->rcpt, cap * sizeof(*r));
		if (r == NULL)
			return -1;
		e->rcpt = r;
		e->cap = cap;
	}
	r = &e->rcpt[e->nrcpt];
	memset(r, 0, sizeof(*r));
	r->cls = cls;
	r->addr = strdup(addr);
	r->target = spool_strdup(target);
	r->notify = spool_strdup(notify);
	r->orcpt = spool_strdup(orcpt);
	if (r->addr == NULL || r->target == NULL || r->notify == NULL || r->orcpt == NULL) {
		free(r->addr);
		free(r->target);
		free(r->notify);
		free(r->orcpt);
		return -1;
	}
	e->nrcpt++;
	return 0;
}

void spool_env_free(struct spool_envelope *e)
{
	size_t i;

	for (i = 0; i < e->nrcpt; i++) {
		free(e->rcpt[i].addr);
		free(e->rcpt[i].target);
		free(e->rcpt[i].notify);
		free(e->rcpt[i].orcpt);
		free(e->rcpt[i].last_text);
		outcome_free(&e->rcpt[i].last);
	}
	free(e->rcpt);
	free(e->client);
	free(e->helo);
	free(e->auth);
	free(e->from);
	free(e->from_params);
	memset(e, 0, sizeof(*e));
}

int spool_env_format(const struct spool_envelope *e, struct buf *b)
{
	size_t i;
	int r = 0;

	r |= buf_printf(b, "clsmtpd-spool 1\nid\t%s\ntime\t%lld\nclient\t%s\nhelo\t%s\nauth\t%s\n",
	                e->qid, (long long)e->arrival, e->client ? e->client : "-",
	                e->helo ? e->helo : "-", e->auth ? e->auth : "-");
	r |= buf_printf(b, "from\t%s\t%s\n", e->from ? e->from : "",
	                e->from_params && *e->from_params ? e->from_params : "-");
	for (i = 0; i < e->nrcpt; i++) {
		const struct spool_rcpt *rc = &e->rcpt[i];
		r |= buf_printf(b, "rcpt\t%zu\t%s\t%s\t%s\t%s\t%s\n", i,
		                rc->cls == SPOOL_LOCAL ? "local" : "relay", rc->addr, rc->target,
		                rc->notify, rc->orcpt);
	}
	r |= buf_adds(b, "data\n");
	return r;
}

int spool_journal_format(struct buf *out, char kind, size_t n, time_t when, time_t next_try,
                         const struct outcome *o)
{
	int r = buf_printf(out, "%c\t%zu\t%lld\t%lld\t", kind, n, (long long)when,
	                   kind == 'T' ? (long long)next_try : 0LL);

	if (r == 0)
		r = outcome_format(o, out);
	return r < 0 ? -1 : buf_addc(out, '\n');
}

/* Split line at TABs into at most max fields (in place); returns the count. */
static size_t spool_fields(char *line, char **f, size_t max)
{
	size_t n = 0;
	char *p = line;

	while (n < max) {
		f[n++] = p;
		p = strchr(p, '\t');
		if (p == NULL)
			break;
		*p++ = '\0';
	}
	return n;
}

static int spool_parse_env_line(struct spool_envelope *e, char *line)
{
	char *f[8];
	size_t n = spool_fields(line, f, 8);

	if (strcmp(f[0], "id") == 0 && n == 2)
		return strcmp(f[1], e->qid) == 0 ? 0 : -1;
	if (strcmp(f[0], "time") == 0 && n == 2) {
		e->arrival = (time_t)strtoll(f[1], NULL, 10);
		return 0;
	}
	if (strcmp(f[0], "client") == 0 && n == 2 && e->client == NULL)
		return (e->client = strdup(f[1])) ? 0 : -1;
	if (strcmp(f[0], "helo") == 0 && n == 2 && e->helo == NULL)
		return (e->helo = strdup(f[1])) ? 0 : -1;
	if (strcmp(f[0], "auth") == 0 && n == 2 && e->auth == NULL)
		return (e->auth = strdup(f[1])) ? 0 : -1;
	if (strcmp(f[0], "from") == 0 && n == 3 && e->from == NULL) {
		e->from = strdup(f[1]);
		e->from_params = strdup(f[2]);
		return e->from && e->from_params ? 0 : -1;
	}
	if (strcmp(f[0], "rcpt") == 0 && n == 7) {
		if (strtoul(f[1], NULL, 10) != e->nrcpt)
			return -1;
		return spool_env_add_rcpt(e, f[3],
		                          strcmp(f[2], "local") == 0 ? SPOOL_LOCAL : SPOOL_RELAY,
		                          f[4], f[5], f[6]);
	}
	return -1;
}

int spool_journal_apply(struct spool_envelope *e, char *line)
{
	char *f[4 + OUTCOME_NFIELDS];
	size_t n = spool_fields(line, f, 4 + OUTCOME_NFIELDS), i;
	struct spool_rcpt *r;
	struct outcome o;
	struct buf t = BUF_INIT(SPOOL_LINE_MAX * 2);

	/* Release 1: KIND N WHEN NEXT TEXT; now the outcome's fields. */
	if ((n != 5 && n != 4 + OUTCOME_NFIELDS) || strlen(f[0]) != 1 ||
	    strchr("DFBT", f[0][0]) == NULL)
		return -1;
	i = strtoul(f[1], NULL, 10);
	if (i >= e->nrcpt)
		return -1;
	outcome_init(&o);
	if ((n == 5 ? outcome_from_text(&o, f[4]) : outcome_parse(&o, f + 4, n - 4)) < 0)
		return -1;
	r = &e->rcpt[i];
	switch (f[0][0]) {
	case 'D':
		r->state = SPOOL_DELIVERED;
		break;
	case 'F':
		r->state = SPOOL_FAILED;
		break;
	case 'B':
		r->state = SPOOL_BOUNCED;
		break;
	default: /* 'T' */
		r->state = SPOOL_DEFERRED;
		r->attempts++;
		r->next_try = (time_t)strtoll(f[3], NULL, 10);
		break;
	}
	outcome_free(&r->last);
	r->last = o;
	outcome_text(&o, &t);
	free(r->last_text);
	r->last_text = strdup(buf_cstr(&t));
	buf_free(&t);
	return 0;
}

void spool_reader_init(struct spool_reader *r, enum spool_read_mode mode)
{
	r->mode = mode;
	buf_init(&r->line, SPOOL_LINE_MAX);
	r->first = mode == SPOOL_READ_ENVELOPE;
	r->consumed = 0;
}

void spool_reader_free(struct spool_reader *r)
{
	buf_free(&r->line);
}

int spool_reader_feed(struct spool_reader *r, struct spool_envelope *e, const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char *line;
		r->consumed++;
		if (p[i] != '\n') {
			if (buf_addc(&r->line, p[i]) < 0)
				return -1;
			continue;
		}
		line = r->line.data ? r->line.data : (char *)"";
		if (r->first) {
			if (strcmp(line, "clsmtpd-spool 1") != 0)
				return -1;
			r->first = 0;
		} else if (r->mode == SPOOL_READ_ENVELOPE && strcmp(line, "data") == 0) {
			buf_reset(&r->line);
			return 1;
		} else if ((r->mode == SPOOL_READ_ENVELOPE ? spool_parse_env_line(e, line)
		                                           : spool_journal_apply(e, line)) < 0) {
			return -1;
		}
		buf_reset(&r->line);
	}
	return 0;
}
