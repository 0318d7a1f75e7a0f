/*
 * fuzz_server_session.c - libFuzzer harness for the whole server session
 * (smtp_server.c) fed a hostile client's bytes in chosen read sizes, with stub
 * hooks: replies are clean "NNN" lines, a committed message has CRLF only, no
 * NUL, and relayed with DATA ends only at its own end. See docs/security.md.
 */
#include "fuzz.h"
#include "smtp/smtp_data.h"
#include "serve/smtp_server.h"

struct fuzz_srv {
	struct buf msg;
	int in_tx, rcpts, committed, tls_started;
};

static int fuzz_srv_mail(void *arg, const char *from, const struct smtp_mail_params *mp,
                         struct buf *reply)
{
	struct fuzz_srv *st = arg;

	(void)mp;
	FUZZ_ASSERT(!fuzz_has_ctl(from, strlen(from)), "sender without control bytes");
	st->in_tx = 1;
	st->rcpts = 0;
	if (strncmp(from, "refuse", 6) == 0) {
		buf_set(reply, "550 5.7.1 refused by policy");
		return -1;
	}
	return 0;
}

static int fuzz_srv_rcpt(void *arg, const char *to, const struct smtp_rcpt_params *rp,
                         struct buf *reply)
{
	struct fuzz_srv *st = arg;

	(void)rp;
	FUZZ_ASSERT(st->in_tx, "RCPT only inside a transaction");
	FUZZ_ASSERT(!fuzz_has_ctl(to, strlen(to)) && *to != '\0',
	            "recipient without control bytes");
	if (to[0] == 'x') {
		buf_set(reply, "550 5.1.1 no such user");
		return -1;
	}
	st->rcpts++;
	return 0;
}

static int fuzz_srv_begin(void *arg, struct buf *reply)
{
	struct fuzz_srv *st = arg;

	(void)reply;
	FUZZ_ASSERT(st->in_tx && st->rcpts > 0, "data only after an accepted RCPT");
	buf_reset(&st->msg);
	return 0;
}

static int fuzz_srv_write(void *arg, const char *p, size_t n)
{
	struct fuzz_srv *st = arg;

	return buf_add(&st->msg, p, n);
}

/* Relayed with DATA (the client core's encoder, as the relay agent does),
 * the message holds exactly one end of data: its own, at the very end. */
static void fuzz_srv_relay_check(const struct buf *msg)
{
	struct smtp_data_enc e;
	struct buf w = BUF_INIT(4u << 20);
	const char *hit;

	smtp_data_enc_init(&e, 1);
	FUZZ_ASSERT(buf_adds(&w, "\r\n") == 0, "harness buffer");
	FUZZ_ASSERT(smtp_data_enc_chunk(&e, msg->data ? msg->data : "", msg->len, &w) == 0 &&
	                smtp_data_enc_end(&e, &w) == 0,
	            "relay encoding");
	hit = memmem(w.data, w.len, "\r\n.\r\n", 5);
	FUZZ_ASSERT(hit != NULL && hit == w.data + w.len - 5,
	            "a relayed message ends only at its own end of data");
	buf_free(&w);
}

static int fuzz_srv_end(void *arg, enum smtp_data_end how, struct buf *reply)
{
	struct fuzz_srv *st = arg;

	if (how == SMTP_DATA_OK) {
		FUZZ_ASSERT(st->in_tx && st->rcpts > 0, "commit only with recipients");
		FUZZ_ASSERT(!fuzz_has_bare_eol(st->msg.data, st->msg.len),
		            "a committed message has CRLF line ends only");
		FUZZ_ASSERT(st->msg.len == 0 || memchr(st->msg.data, '\0', st->msg.len) == NULL,
		            "a committed message has no NUL byte");
		fuzz_srv_relay_check(&st->msg);
		st->committed++;
		buf_set(reply, "250 2.0.0 Ok: queued as FUZZ");
	}
	buf_reset(&st->msg);
	return 0;
}

static void fuzz_srv_reset(void *arg)
{
	struct fuzz_srv *st = arg;

	st->in_tx = 0;
	st->rcpts = 0;
}

/* Toy mechanism: "dXNlcg==" then "cGFzcw==" succeeds; "Zg==" returns final data. */
static enum smtp_auth_result fuzz_srv_auth(void *arg, const char *mech, const char *in,
                                           struct buf *out)
{
	(void)arg;
	if (in != NULL)
		FUZZ_ASSERT(!fuzz_has_ctl(in, strlen(in)), "AUTH data without control bytes");
	if (mech != NULL) {
		if (in != NULL && strcmp(in, "dXNlcg==") != 0)
			return SMTP_AUTH_FAIL;
		buf_set(out, "Y2hhbGxlbmdl");
		return SMTP_AUTH_CONTINUE;
	}
	if (strcmp(in, "Zg==") == 0) {
		buf_set(out, "dj1wcm9vZg==");
		return SMTP_AUTH_OK;
	}
	if (strcmp(in, "cGFzcw==") == 0)
		return SMTP_AUTH_OK;
	if (strcmp(in, "dA==") == 0)
		return SMTP_AUTH_TEMPFAIL;
	return SMTP_AUTH_FAIL;
}

static void fuzz_srv_abort(void *arg)
{
	(void)arg;
}

/* Every reply line: three digits, ' ' or '-', text, CRLF; no other CR/LF. */
static void fuzz_srv_check_output(struct buf *o)
{
	size_t i = 0;

	FUZZ_ASSERT(!fuzz_has_bare_eol(o->data, o->len), "replies end in CRLF");
	while (i < o->len) {
		const char *e = memmem(o->data + i, o->len - i, "\r\n", 2);
		size_t n;

		FUZZ_ASSERT(e != NULL, "reply output ends in CRLF");
		n = (size_t)(e - (o->data + i));
		FUZZ_ASSERT(n >= 4 && o->data[i] >= '2' && o->data[i] <= '5' &&
		                (o->data[i + 3] == ' ' || o->data[i + 3] == '-'),
		            "reply line is NNN text");
		FUZZ_ASSERT(!fuzz_has_ctl(o->data + i, n), "reply line without control bytes");
		i += n + 2;
	}
	buf_consume(o, o->len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const mechs[] = {"", "TOY", "TOY PLAIN", "PLAIN"};
	struct smtp_server_cfg cfg;
	struct smtp_server_hooks h;
	struct smtp_server *s;
	struct fuzz_srv st;
	size_t i = 1, step;
	unsigned f, act = 0;

	if (size < 1)
		return 0;
	f = data[0];
	memset(&st, 0, sizeof(st));
	buf_init(&st.msg, 1 << 20);
	memset(&cfg, 0, sizeof(cfg));
	cfg.hostname = "mx.fuzz.test";
	smtp_server_limits_default(&cfg.lim);
	cfg.lim.rcpt_max = 5;
	cfg.lim.size_max = (f & 0x80) ? 200 : 0;
	cfg.lim.bare_lf_normalize = (f >> 6) & 1;
	cfg.lim.errors_max = 50;
	cfg.starttls = f & 1;
	cfg.tls_active = (f >> 1) & 1;
	cfg.auth_mechs = mechs[(f >> 2) & 3];
	memset(&h, 0, sizeof(h));
	h.arg = &st;
	h.mail = fuzz_srv_mail;
	h.rcpt = fuzz_srv_rcpt;
	h.data_begin = fuzz_srv_begin;
	h.data_write = fuzz_srv_write;
	h.data_end = fuzz_srv_end;
	h.reset = fuzz_srv_reset;
	h.auth = fuzz_srv_auth;
	h.auth_abort = fuzz_srv_abort;
	s = smtp_server_new(&cfg, &h);
	FUZZ_ASSERT(s != NULL, "server session allocated");
	step = ((f >> 4) & 3) == 0 ? size : (size_t)1 << (2 * ((f >> 4) & 3));
	act = smtp_server_greet(s);
	fuzz_srv_check_output(smtp_server_output(s));
	while (i < size && !(act & SMTP_SRV_ACT_CLOSE)) {
		size_t n = size - i < step ? size - i : step;

		act = smtp_server_feed(s, (const char *)data + i, n);
		i += n;
		fuzz_srv_check_output(smtp_server_output(s));
		if (act & SMTP_SRV_ACT_STARTTLS) {
			/* The handshake: what was read with STARTTLS is gone. */
			FUZZ_ASSERT(!smtp_server_tls_active(s), "STARTTLS only in clear");
			smtp_server_tls_started(s, "TOY");
			st.tls_started = 1;
			FUZZ_ASSERT(smtp_server_authenticated(s) == 0, "TLS forgets AUTH");
		}
	}
	if (!(act & SMTP_SRV_ACT_CLOSE)) {
		smtp_server_timeout(s);
		fuzz_srv_check_output(smtp_server_output(s));
	}
	smtp_server_free(s);
	buf_free(&st.msg);
	return 0;
}
