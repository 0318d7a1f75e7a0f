/* test_mime_reader.c - whole MIME messages read back by the independent
 * reader (tests/integration/mime_check.py: Python's email package, strict
 * default policy): text, HTML and attachments compared byte for byte, for
 * fixed cases (ISO-2022-JP, attachment sizes 0..65537, RFC 2231 names, dot
 * and "From " lines, long lines, empty body) and seeded random ones. */
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "msg/charset.h"
#include "check.h"
#include "testutil.h"
#include "msg/compose.h"

#define CHECKER "tests/integration/mime_check.py"
#define NFIXED  8
#define NRANDOM 40
#define NCASES  (NFIXED + NRANDOM)

static const char *const to1[] = {"bob@example.com"};
static const char *const cc1[] = {"carol@example.com", "dave@example.org"};
static const size_t att_sizes[] = {0, 1, 2, 3, 57, 58, 76, 1000, 65536 + 1};

TEST_RNG(rnd, 20450u)

/* A random character: any script (UTF-8), or one ISO-2022-JP holds. */
static void random_char(struct buf *b, struct charset *jis)
{
	static const uint32_t base[] = {0x20, 0xa0, 0x300, 0x3040, 0x1f300};
	static const uint32_t span[] = {95, 0x760, 0x70, 0x6fc0, 0x800};
	size_t k, before;
	struct buf tmp = BUF_INIT(64);
	struct cl_err e;

	for (;;) {
		before = b->len;
		k = rnd() % 7;
		k = k > 4 ? 0 : k;
		if (jis && k != 0) {
			/* Kana, kanji, and JIS symbols. */
			static const uint32_t jb[] = {0x3041, 0x30a1, 0x4e00, 0xff01};
			static const uint32_t js[] = {0x53, 0x56, 0x5000, 0x5e};
			k = rnd() % 4;
			test_put_utf8(b, jb[k] + rnd() % js[k]);
		} else {
			test_put_utf8(b, base[k] + rnd() % span[k]);
		}
		if (jis == NULL)
			return;
		buf_reset(&tmp);
		if (charset_from_utf8(jis, b->data + before, b->len - before, &tmp, "t", &e) == 0)
			break;
		buf_truncate(b, before);
	}
	buf_free(&tmp);
}

/* Random text of n characters, with line breaks (LF, CRLF, CR) and lines
 * that start with ".", "From " or a space when lines is set. */
static void random_text(struct buf *b, size_t n, int lines, struct charset *jis)
{
	static const char *const starts[] = {".", "From ", "..", " ", ".\r\n"};
	size_t i;

	for (i = 0; i < n; i++) {
		if (lines && rnd() % 20 == 0) {
			buf_adds(b, rnd() % 3 == 0 ? "\r\n" : rnd() % 2 ? "\n" : "\r");
			if (rnd() % 3 == 0)
				buf_adds(b, starts[rnd() % 5]);
			continue;
		}
		random_char(b, jis);
	}
}

/* s as a JSON string (UTF-8 kept as it is). */
static void json_str(struct buf *j, const char *s)
{
	buf_addc(j, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			buf_printf(j, "\\%c", c);
		else if (c < 0x20)
			buf_printf(j, "\\u%04x", c);
		else
			buf_addc(j, (char)c);
	}
	buf_addc(j, '"');
}

struct tcase {
	char dir[600];
	struct compose_params p;
	struct buf body, html, subj, name, json;
	struct attach att[12];
	size_t natt;
	char attname[12][200];
	const char *charset_label;
	int seven_bit;
};

static void case_init(struct tcase *c, const char *top, int n)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->dir, sizeof(c->dir), "%s/case%02d", top, n);
	mkdir(c->dir, 0700);
	buf_init(&c->body, 1 << 20);
	buf_init(&c->html, 1 << 20);
	buf_init(&c->subj, 4096);
	buf_init(&c->name, 4096);
	buf_init(&c->json, 1 << 16);
	c->p.from_addr = "alice@example.jp";
	c->p.to = to1;
	c->p.nto = 1;
	c->p.mailer = "clsmtpc-test";
	c->p.msgid_domain = "test.example";
}

/* An attachment of size octets of random bytes (or text) named name. */
static void case_attach(struct tcase *c, size_t size, const char *name, int text)
{
	unsigned char *data = malloc(size + 1);
	char file[16];
	struct cl_err err;
	struct buf path = BUF_INIT(1024);
	size_t i;

	for (i = 0; i < size; i++)
		data[i] =
		    text ? (unsigned char)("abc \n.From x\r\n"[rnd() % 14]) : (unsigned char)rnd();
	snprintf(file, sizeof(file), "att%zu", c->natt);
	test_write_file(c->dir, file, data, size, 0644);
	buf_printf(&path, "%s/%s", c->dir, file);
	/* The name as sent: without white space around it. */
	while (*name == ' ')
		name++;
	snprintf(c->attname[c->natt], sizeof(c->attname[0]), "%s", name);
	for (i = strlen(c->attname[c->natt]); i > 0 && c->attname[c->natt][i - 1] == ' '; i--)
		c->attname[c->natt][i - 1] = '\0';
	CHECK(attach_open(&c->att[c->natt], strdup(buf_cstr(&path)), name, NULL, &err) == 0);
	c->natt++;
	free(data);
	buf_free(&path);
}

static int case_store(struct tcase *c)
{
	struct buf m = BUF_INIT(1 << 24);
	struct cl_err err;
	size_t i;
	int r;

	c->p.subject = c->subj.data ? c->subj.data : "";
	c->p.from_name = c->name.len ? c->name.data : NULL;
	c->p.body = buf_cstr(&c->body);
	c->p.body_len = c->body.len;
	c->p.att = c->att;
	c->p.natt = c->natt;
	err_clear(&err);
	if (compose_message(&c->p, &m, NULL, &err) < 0) {
		printf("# %s: %s\n", c->dir, err.msg);
		return -1;
	}
	r = test_write_file(c->dir, "msg", m.data, m.len, 0644) |
	    test_write_file(c->dir, "text", c->body.data, c->body.len, 0644);
	buf_adds(&c->json, "{\"subject\": ");
	json_str(&c->json, c->p.subject);
	if (c->p.from_name) {
		buf_adds(&c->json, ", \"from_name\": ");
		json_str(&c->json, c->p.from_name);
	}
	buf_adds(&c->json, ", \"text\": \"text\", \"absent\": [\"Bcc\"]");
	if (c->p.html) {
		r |= test_write_file(c->dir, "html", c->html.data, c->html.len, 0644);
		buf_adds(&c->json, ", \"html\": \"html\"");
	}
	if (c->charset_label)
		buf_printf(&c->json, ", \"charset\": \"%s\"", c->charset_label);
	if (c->seven_bit)
		buf_adds(&c->json, ", \"seven_bit\": true");
	buf_adds(&c->json, ", \"attachments\": [");
	for (i = 0; i < c->natt; i++) {
		buf_printf(&c->json, "%s{\"file\": \"att%zu\", \"name\": ", i ? ", " : "", i);
		json_str(&c->json, c->attname[i]);
		buf_adds(&c->json, "}");
	}
	buf_adds(&c->json, "]}");
	r |= test_write_file(c->dir, "expect.json", c->json.data, c->json.len, 0644);
	buf_free(&m);
	return r;
}

static void case_free(struct tcase *c)
{
	size_t i;

	for (i = 0; i < c->natt; i++) {
		free((void *)c->att[i].path);
		attach_close(&c->att[i]);
	}
	buf_free(&c->body);
	buf_free(&c->html);
	buf_free(&c->subj);
	buf_free(&c->name);
	buf_free(&c->json);
}

static void fixed_case(struct tcase *c, int n, struct charset *jis)
{
	size_t i;

	switch (n) {
	case 0: /* The Japanese convention: ISO-2022-JP, 7bit, B words. */
		c->p.charset = "iso-2022-jp";
		c->charset_label = "ISO-2022-JP";
		c->seven_bit = 1;
		buf_adds(&c->subj,
		         "【障害通知】サーバー監視システムからのお知らせ：ディスク使用率が"
		         "閾値を超えました");
		buf_adds(&c->name, "山田 太郎");
		buf_adds(&c->body, "本文です。\n.ドットで始まる行\nFrom で始まる行\n\n半角カナ"
		                   "ではなく全角カナ\n");
		break;
	case 1: /* Attachments of every awkward size, empty body. */
		for (i = 0; i < sizeof(att_sizes) / sizeof(att_sizes[0]); i++) {
			char name[64];
			snprintf(name, sizeof(name), "blob-%zu.bin", att_sizes[i]);
			case_attach(c, att_sizes[i], name, 0);
		}
		break;
	case 2: /* Names: RFC 2231 continuations, quotes, spaces. */
		buf_adds(&c->body, "see attached\n");
		case_attach(c, 100,
		            "2024年度 売上報告書（最終版）の添付ファイルです・第二四半期"
		            "・営業部門・東日本エリア.pdf",
		            0);
		case_attach(c, 10, "with \"quotes\" and \\ backslash.txt", 1);
		case_attach(c, 10,
		            "ascii name that is rather long, with spaces, commas, and "
		            "semicolons; and more; and more.dat",
		            0);
		case_attach(c, 5, "émoji 😀 ñ.bin", 0);
		break;
	case 3: /* Long lines, dots, From: encoded, never cut. */
		for (i = 0; i < 3000; i++)
			buf_addc(&c->body, (char)('a' + i % 26));
		buf_adds(&c->body, "\n.\n..\nFrom me\n");
		for (i = 0; i < 600; i++)
			buf_adds(&c->body, "日");
		buf_adds(&c->body, "\n");
		c->p.allow_8bit = 1;
		break;
	case 4: /* HTML alternative and an attachment. */
		buf_adds(&c->body, "plain version\n");
		buf_adds(&c->html, "<html><body><p>HTML 版です</p>\n<p>.</p></body></html>\n");
		c->p.html = c->html.data;
		c->p.html_len = c->html.len;
		case_attach(c, 2000, "notes.txt", 1);
		break;
	case 5: /* HTML alone, ISO-2022-JP. */
		c->p.charset = "iso-2022-jp";
		c->charset_label = "ISO-2022-JP";
		c->seven_bit = 1;
		buf_adds(&c->body, "テキスト\n");
		buf_adds(&c->html, "<p>エイチティーエムエル</p>\n");
		c->p.html = c->html.data;
		c->p.html_len = c->html.len;
		break;
	case 6: /* 8BITMIME offered: UTF-8 text goes 8bit. */
		c->p.allow_8bit = 1;
		c->p.cc = cc1;
		c->p.ncc = 2;
		buf_adds(&c->subj, "Grüße");
		buf_adds(&c->body, "Grüße aus Köln\nこんにちは\n");
		break;
	default: /* ISO-8859-1 through iconv. */
		c->p.charset = "iso-8859-1";
		c->charset_label = "ISO-8859-1";
		buf_adds(&c->subj, "Café crème");
		buf_adds(&c->name, "Zoë Ångström");
		buf_adds(&c->body, "Déjà vu, señor.\n");
		(void)jis;
		break;
	}
}

static void random_case(struct tcase *c, struct charset *jis)
{
	struct charset *cs = NULL;
	size_t i, n;

	if (rnd() % 3 == 0) {
		c->p.charset = "ISO-2022-JP";
		c->charset_label = "ISO-2022-JP";
		c->seven_bit = 1;
		cs = jis;
	}
	random_text(&c->name, 1 + rnd() % 30, 0, cs);
	random_text(&c->subj, rnd() % 150, 0, cs);
	random_text(&c->body, rnd() % 4000, 1, cs);
	if (rnd() % 4 == 0) {
		random_text(&c->html, rnd() % 500, 1, cs);
		c->p.html = buf_cstr(&c->html);
		c->p.html_len = c->html.len;
	}
	c->p.allow_8bit = cs == NULL && rnd() % 2;
	n = rnd() % 4;
	for (i = 0; i < n; i++) {
		struct buf name = BUF_INIT(300);
		random_text(&name, 1 + rnd() % 40, 0, NULL);
		buf_adds(&name, rnd() % 2 ? ".txt" : ".bin");
		case_attach(c, rnd() % 5 == 0 ? rnd() % 70000 : rnd() % 300, buf_cstr(&name),
		            rnd() % 2);
		buf_free(&name);
	}
}

static int run_checker(char **dirs, int n)
{
	const char *python = "/usr/bin/python3";
	char **argv = calloc((size_t)n + 3, sizeof(*argv));
	int status = -1, i;
	pid_t pid;

	argv[0] = (char *)python;
	argv[1] = (char *)CHECKER;
	for (i = 0; i < n; i++)
		argv[i + 2] = dirs[i];
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		execv(python, argv);
		_exit(127);
	}
	free(argv);
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(test_mime_messages_read_back_byte_for_byte_by_python_email)
{
	static struct tcase cases[NCASES];
	char top[] = "/tmp/test_mime_reader.XXXXXX", *dirs[NCASES], cmd[700];
	struct charset jis;
	struct cl_err err;
	int n;

	CHECK(access(CHECKER, R_OK) == 0);
	CHECK(access("/usr/bin/python3", X_OK) == 0);
	CHECK(mkdtemp(top) != NULL);
	CHECK(charset_open(&jis, "ISO-2022-JP", &err) == 0);
	for (n = 0; n < NCASES; n++) {
		case_init(&cases[n], top, n);
		if (n < NFIXED)
			fixed_case(&cases[n], n, &jis);
		else
			random_case(&cases[n], &jis);
		CHECK(case_store(&cases[n]) == 0);
		dirs[n] = cases[n].dir;
	}
	CHECK_INT(run_checker(dirs, NCASES), 0);
	for (n = 0; n < NCASES; n++)
		case_free(&cases[n]);
	charset_close(&jis);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	if (!check_failed_now && system(cmd) != 0)
		printf("# could not remove %s\n", top);
}

int main(void)
{
	RUN(test_mime_messages_read_back_byte_for_byte_by_python_email);
	CHECK_DONE();
}
