/*
 * test_dkim.c - DKIM's relaxed canonical forms (RFC 6376 3.4, its 3.4.6
 * example), the body hash of RFC 8463's example, the message stream cut
 * anywhere, the From domain, key files and the DNS record. Signatures
 * themselves are verified by dkimpy and OpenDKIM in test_dkim_sign.sh.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "testutil.h"
#include "base/b64.h"
#include "msg/dkim_sign.h"

TEST_RNG(rng, 0x646b696dULL)

static const char *head_canon(const char *field)
{
	static struct buf out = BUF_INIT(4096);
	buf_reset(&out);
	dkim_canon_header(field, strlen(field), 1, &out);
	return buf_cstr(&out);
}

TEST(test_header_relaxed)
{
	CHECK_STR(head_canon("A: X\r\n"), "a:X\r\n");
	/* RFC 6376 3.4.6's example. */
	CHECK_STR(head_canon("B : Y\t\r\n\tZ  \r\n"), "b:Y Z\r\n");
	CHECK_STR(head_canon("Subject:   \r\n"), "subject:\r\n");
	CHECK_STR(head_canon("SUBJECT:a \t b"), "subject:a b\r\n");
	CHECK_STR(head_canon("X-Long: one\r\n two\r\n\t three\r\n"), "x-long:one two three\r\n");
}

struct sink {
	struct buf b;
	size_t calls;
};

static void sink_emit(void *arg, const char *p, size_t n)
{
	struct sink *s = arg;
	buf_add(&s->b, p, n);
	s->calls++;
}

static const char *body_canon(const char *body, size_t len, size_t piece)
{
	static struct sink s = {BUF_INIT(1 << 22), 0};
	struct dkim_body_canon c;
	size_t off = 0;

	buf_reset(&s.b);
	dkim_body_canon_init(&c, sink_emit, &s);
	while (off < len) {
		size_t k = piece && piece < len - off ? piece : len - off;
		dkim_body_canon_feed(&c, body + off, k);
		off += k;
	}
	dkim_body_canon_end(&c);
	return buf_cstr(&s.b);
}

TEST(test_body_relaxed)
{
	/* RFC 6376 3.4.6's example: leading blanks stay one space. */
	const char *ex = " C \r\nD \t E\r\n\r\n\r\n";
	CHECK_STR(body_canon(ex, strlen(ex), 0), " C\r\nD E\r\n");
	CHECK_STR(body_canon("", 0, 0), "");
	CHECK_STR(body_canon("\r\n\r\n", 4, 0), "");
	CHECK_STR(body_canon("   \r\n\t\r\n", 8, 0), "");
	CHECK_STR(body_canon("end", 3, 0), "end\r\n");
	CHECK_STR(body_canon("a\r\n\r\n \r\nb", 9, 0), "a\r\n\r\n\r\nb\r\n");
	/* A CR alone is an ordinary byte; so is one at the very end. */
	CHECK_STR(body_canon("a\rb\r\n", 5, 0), "a\rb\r\n");
	CHECK_STR(body_canon("a\r", 2, 0), "a\r\r\n");
	/* 8-bit bytes pass as they are. */
	CHECK_STR(body_canon("\xe6\x97\xa5 \xe6\x9c\xac\r\n", 9, 0),
	          "\xe6\x97\xa5 \xe6\x9c\xac\r\n");
}

/* Cut anywhere, the same canonical body: random bodies of blanks, CR, LF
 * and letters, fed whole and in random pieces. */
TEST(test_body_pieces)
{
	static const char alpha[] = " \t\r\nab";
	char body[600];
	struct buf whole = BUF_INIT(1 << 16);
	int bad = 0;

	for (int t = 0; t < 400; t++) {
		size_t len = rng() % sizeof(body);
		for (size_t i = 0; i < len; i++)
			body[i] = alpha[rng() % 6];
		buf_reset(&whole);
		buf_adds(&whole, body_canon(body, len, 0));
		if (strcmp(buf_cstr(&whole), body_canon(body, len, 1 + rng() % 7)) != 0)
			bad++;
		/* Idempotent: the canonical form of a canonical form is itself. */
		if (strcmp(buf_cstr(&whole),
		           body_canon(whole.data ? whole.data : "", whole.len, 0)) != 0)
			bad++;
	}
	CHECK_INT(bad, 0);
	buf_free(&whole);
}

/* A body longer than the emit chunk comes out whole, in several calls. */
TEST(test_body_chunks)
{
	static struct sink s = {BUF_INIT(1 << 22), 0};
	struct dkim_body_canon c;
	char line[100];

	memset(line, 'x', sizeof(line) - 2);
	memcpy(line + sizeof(line) - 2, "\r\n", 2);
	dkim_body_canon_init(&c, sink_emit, &s);
	for (int i = 0; i < 1000; i++)
		dkim_body_canon_feed(&c, line, sizeof(line));
	dkim_body_canon_end(&c);
	CHECK_INT(s.b.len, 100000);
	CHECK(s.calls > 10);
	buf_free(&s.b);
}

static int msg_of(struct dkim_msg *m, const char *text, size_t piece)
{
	struct cl_err err;
	size_t len = strlen(text), off = 0;

	if (dkim_msg_init(m, &err) < 0)
		return -1;
	while (off < len) {
		size_t k = piece && piece < len - off ? piece : len - off;
		if (dkim_msg_feed(m, text + off, k, &err) < 0)
			return -1;
		off += k;
	}
	return dkim_msg_end(m, &err);
}

/* RFC 8463 appendix A.3's message: its bh= whatever the pieces. */
static const char rfc8463[] = "From: Joe SixPack <joe@football.example.com>\r\n"
                              "To: Suzie Q <suzie@shopping.example.net>\r\n"
                              "Subject: Is dinner ready?\r\n"
                              "Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)\r\n"
                              "Message-ID: <20030712040037.46341.5F8J@football.example.com>\r\n"
                              "\r\n"
                              "Hi.\r\n"
                              "\r\n"
                              "We lost the game.  Are you hungry yet?\r\n"
                              "\r\n"
                              "Joe.\r\n";

TEST(test_body_hash_rfc8463)
{
	struct buf bh = BUF_INIT(64), dom = BUF_INIT(256), addr = BUF_INIT(512);
	struct cl_err err;

	for (size_t piece = 0; piece < 9; piece++) {
		struct dkim_msg m;
		CHECK_INT(msg_of(&m, rfc8463, piece), 0);
		buf_reset(&bh);
		b64_encode(m.body_hash, sizeof(m.body_hash), &bh);
		CHECK_STR(buf_cstr(&bh), "2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=");
		CHECK_INT(m.head.len, strstr(rfc8463, "\r\n\r\n") + 2 - rfc8463);
		CHECK_INT(dkim_msg_from(&m, &addr, &dom, &err), 0);
		CHECK_STR(buf_cstr(&dom), "football.example.com");
		dkim_msg_free(&m);
	}
	buf_free(&bh);
	buf_free(&dom);
	buf_free(&addr);
}

TEST(test_from_domain)
{
	struct buf dom = BUF_INIT(256), addr = BUF_INIT(512);
	struct dkim_msg m;
	struct cl_err err;

	msg_of(&m, "Subject: x\r\nFROM: \"A, B\" <a@Example.ORG>\r\n\r\nbody\r\n", 0);
	CHECK_INT(dkim_msg_from(&m, &addr, &dom, &err), 0);
	CHECK_STR(buf_cstr(&dom), "example.org");
	CHECK_STR(buf_cstr(&addr), "a@Example.ORG");
	dkim_msg_free(&m);
	msg_of(&m, "From: a@x.example,\r\n b@y.example\r\n\r\n", 0);
	CHECK_INT(dkim_msg_from(&m, &addr, &dom, &err), -1);
	dkim_msg_free(&m);
	msg_of(&m, "From: a@x.example\r\nFrom: b@y.example\r\n\r\n", 0);
	CHECK_INT(dkim_msg_from(&m, &addr, &dom, &err), -1);
	dkim_msg_free(&m);
	msg_of(&m, "To: a@x.example\r\n\r\n", 0);
	CHECK_INT(dkim_msg_from(&m, &addr, &dom, &err), -1);
	dkim_msg_free(&m);
	/* No body at all: the header section is the message. */
	msg_of(&m, "From: a@x.example\r\n", 0);
	CHECK_INT(dkim_msg_from(&m, &addr, &dom, &err), 0);
	dkim_msg_free(&m);
	buf_free(&dom);
	buf_free(&addr);
}

/* The field: folded lines of at most 78 bytes, From oversigned, the
 * fields in the order they were given, no l=. */
TEST(test_sign_field)
{
	static const char *msg = "From: a@example.org\r\nTo: b@example.net\r\nTo: c@example.net\r\n"
	                         "Subject: s\r\nX-Other: o\r\n\r\nbody\r\n";
	struct dkim_sig_params p = {"example.org", "sel2026", NULL, 1764892800};
	struct buf out = BUF_INIT(8192), one = BUF_INIT(8192);
	struct dkim_key k;
	struct dkim_msg m;
	struct cl_err err;
	const char *line;

	CHECK_INT(dkim_key_generate(&k, DKIM_ED25519_SHA256, 0, &err), 0);
	CHECK_INT(msg_of(&m, msg, 0), 0);
	CHECK_INT(dkim_sign(&m, &k, &p, &out, &err), 0);
	CHECK(strncmp(out.data, "DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed;", 57) ==
	      0);
	for (line = out.data; *line;) {
		const char *e = strstr(line, "\r\n");
		CHECK(e != NULL && e - line <= 78);
		if (e == NULL)
			break;
		line = e + 2;
		CHECK(*line == '\0' || *line == '\t');
	}
	/* Unfolded, the tags read plainly. */
	buf_reset(&one);
	dkim_canon_header(out.data, out.len, 0, &one);
	CHECK(strstr(one.data, " d=example.org; s=sel2026; t=1764892800; ") != NULL);
	CHECK(strstr(one.data, " h=from:from:subject:to:to; bh=") != NULL);
	CHECK(strstr(one.data, "l=") == NULL);
	CHECK(strstr(one.data, "x-other") == NULL);
	/* RSA: the same body hash, another a=. */
	dkim_key_free(&k);
	buf_reset(&out);
	CHECK_INT(dkim_key_generate(&k, DKIM_RSA_SHA256, 1024, &err), 0);
	CHECK_INT(dkim_sign(&m, &k, &p, &out, &err), 0);
	CHECK(strstr(out.data, "a=rsa-sha256;") != NULL);
	dkim_key_free(&k);
	/* A list without From: From is signed all the same. */
	p.headers = "x-absent:subject";
	buf_reset(&out);
	buf_reset(&one);
	CHECK_INT(dkim_key_generate(&k, DKIM_ED25519_SHA256, 0, &err), 0);
	CHECK_INT(dkim_sign(&m, &k, &p, &out, &err), 0);
	dkim_canon_header(out.data, out.len, 0, &one);
	CHECK(strstr(one.data, " h=from:from:subject; ") != NULL);
	dkim_key_free(&k);
	dkim_msg_free(&m);
	buf_free(&out);
	buf_free(&one);
}

TEST(test_key_files)
{
	char dir[] = "/tmp/test_dkim.XXXXXX", path[256];
	struct buf pem = BUF_INIT(1 << 16), rec = BUF_INIT(8192), zone = BUF_INIT(8192);
	struct dkim_key k, back;
	struct cl_err err;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/k.pem", dir);
	CHECK_INT(dkim_key_generate(&k, DKIM_RSA_SHA256, 2048, &err), 0);
	CHECK_INT(dkim_key_pem(&k, &pem, &err), 0);
	CHECK_INT(test_write_file(NULL, path, pem.data, pem.len, 0640), 0);
	CHECK_INT(dkim_key_load(&back, path, &err), 0);
	CHECK_INT(back.bits, 2048);
	CHECK_INT(back.alg, DKIM_RSA_SHA256);
	CHECK_INT(dkim_key_record(&k, &rec, &err), 0);
	CHECK(strncmp(rec.data, "v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8A", 50) == 0);
	/* 2048-bit RSA does not fit one string: split at 255 bytes. */
	CHECK_INT(dkim_zone_line("s1", "example.org", rec.data, &zone), 0);
	CHECK(strncmp(zone.data, "s1._domainkey.example.org. IN TXT ( \"v=DKIM1; k=rsa; p=", 55) ==
	      0);
	CHECK(strstr(zone.data, "\" \"") != NULL);
	for (const char *q = strchr(zone.data, '"'); q; q = strchr(q + 1, '"')) {
		const char *e = strchr(q + 1, '"');
		CHECK(e != NULL && e - q - 1 <= 255);
		if (e == NULL)
			break;
		q = e;
	}
	dkim_key_free(&back);
	/* Others may read it: refused. */
	chmod(path, 0644);
	CHECK_INT(dkim_key_load(&back, path, &err), -1);
	CHECK(strstr(err.msg, "others may read it") != NULL);
	/* Not a key. */
	CHECK_INT(test_write_file(NULL, path, "hello\n", 6, 0600), 0);
	CHECK_INT(dkim_key_load(&back, path, &err), -1);
	dkim_key_free(&k);
	/* Ed25519: 32 raw bytes, 44 characters of base64. */
	buf_reset(&rec);
	CHECK_INT(dkim_key_generate(&k, DKIM_ED25519_SHA256, 0, &err), 0);
	CHECK_INT(dkim_key_record(&k, &rec, &err), 0);
	CHECK_INT(rec.len, strlen("v=DKIM1; k=ed25519; p=") + 44);
	dkim_key_free(&k);
	/* Too short an RSA key cannot be made. */
	CHECK_INT(dkim_key_generate(&k, DKIM_RSA_SHA256, 512, &err), -1);
	unlink(path);
	rmdir(dir);
	buf_free(&pem);
	buf_free(&rec);
	buf_free(&zone);
}

int main(void)
{
	RUN(test_header_relaxed);
	RUN(test_body_relaxed);
	RUN(test_body_pieces);
	RUN(test_body_chunks);
	RUN(test_body_hash_rfc8463);
	RUN(test_from_domain);
	RUN(test_sign_field);
	RUN(test_key_files);
	CHECK_DONE();
}
