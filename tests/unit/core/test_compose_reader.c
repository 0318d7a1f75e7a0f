/* test_compose_reader.c - composed messages read back by an independent
 * parser, Python's email package with the strict default policy: no defects,
 * and the same body, subject and display name, for fixed cases and seeded
 * random UTF-8 (CJK, emoji, combining marks, "." and "From " lines). */
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "testutil.h"
#include "msg/compose.h"

static const char *const seed_to[] = {"nobody@example.com"};

static struct compose_params seed_params(void)
{
	struct compose_params p = {0};

	p.from_addr = "64L114@mail.example.ac.jp";
	p.to = seed_to;
	p.nto = 1;
	p.subject = "clsmtpc test mail";
	p.body = "test test test";
	p.body_len = 14;
	p.mailer = "clsmtpc-test";
	p.date = 1536577154;
	return p;
}

static int compose(const struct compose_params *p, struct buf *m, struct cl_err *err)
{
	buf_reset(m);
	err_clear(err);
	return compose_message(p, m, NULL, err);
}

/* The independent reader: Python's email package, strict default policy.
 * Its phrase parser (3.11) puts a space between adjacent encoded-words in a
 * display name, which RFC 2047 6.2 says to drop (it does the same to its own
 * output), so the name is compared as RFC 2047 decodes it (email.header),
 * and the default policy's reading only with spaces removed. */
static const char py_reader[] =
    "import email, email.policy, os, sys\n"
    "from email.header import decode_header, make_header\n"
    "from email.utils import parseaddr\n"
    "bad = 0\n"
    "for d in sys.argv[1:]:\n"
    "    rd = lambda n: open(os.path.join(d, n), 'rb').read()\n"
    "    raw = rd('msg')\n"
    "    m = email.message_from_bytes(raw, policy=email.policy.default)\n"
    "    errs = [repr(m.defects)] if m.defects else []\n"
    "    for k, v in m.items():\n"
    "        if v.defects: errs.append('%s: %r' % (k, v.defects))\n"
    "    want = rd('body').decode().replace('\\r\\n', '\\n').replace('\\r', '\\n')\n"
    "    if want and not want.endswith('\\n'): want += '\\n'\n"
    "    got = m.get_content().replace('\\r\\n', '\\n')\n"
    "    if got != want: errs.append('body %r != %r' % (got[:80], want[:80]))\n"
    "    if str(m['subject']) != rd('subject').decode():\n"
    "        errs.append('subject %r' % str(m['subject']))\n"
    "    want = rd('name').decode()\n"
    "    name = m['from'].addresses[0].display_name\n"
    "    if name.replace(' ', '') != want.replace(' ', ''): errs.append('name %r' % name)\n"
    "    c = email.message_from_bytes(raw, policy=email.policy.compat32)['from']\n"
    "    name = str(make_header(decode_header(parseaddr(c)[0])))\n"
    "    if name != want: errs.append('name %r != %r' % (name, want))\n"
    "    if any(len(l) > 998 for l in raw.split(b'\\r\\n')): errs.append('long line')\n"
    "    for e in errs: print('# %s: %s' % (d, e))\n"
    "    bad += len(errs) > 0\n"
    "print('# python read %d messages, %d bad' % (len(sys.argv) - 1, bad))\n"
    "sys.exit(1 if bad else 0)\n";

TEST_RNG(rnd, 5322u)

/* Random UTF-8 text of nchars: ASCII, Latin, combining marks, CJK, emoji;
 * with newlines (LF, CRLF or CR) when lines is set. */
static void random_text(struct buf *b, size_t nchars, int lines)
{
	static const uint32_t base[] = {0x20, 0xa0, 0x300, 0x3040, 0x1f300};
	static const uint32_t span[] = {95, 0x760, 0x70, 0x6fc0, 0x800};
	static const char *const starts[] = {".", "From ", "..", " "};
	uint32_t cp;
	size_t i, k;

	for (i = 0; i < nchars; i++) {
		if (lines && rnd() % 20 == 0) {
			buf_adds(b, rnd() % 3 == 0 ? "\r\n" : rnd() % 2 ? "\n" : "\r");
			if (rnd() % 3 == 0)
				buf_adds(b, starts[rnd() % 4]);
			continue;
		}
		k = rnd() % 7;
		k = k > 4 ? 0 : k;
		cp = base[k] + rnd() % span[k];
		if (cp < 0x80) {
			buf_addc(b, (char)cp);
		} else if (cp < 0x800) {
			buf_addc(b, (char)(0xc0 | cp >> 6));
			buf_addc(b, (char)(0x80 | (cp & 0x3f)));
		} else if (cp < 0x10000) {
			buf_addc(b, (char)(0xe0 | cp >> 12));
			buf_addc(b, (char)(0x80 | (cp >> 6 & 0x3f)));
			buf_addc(b, (char)(0x80 | (cp & 0x3f)));
		} else {
			buf_addc(b, (char)(0xf0 | cp >> 18));
			buf_addc(b, (char)(0x80 | (cp >> 12 & 0x3f)));
			buf_addc(b, (char)(0x80 | (cp >> 6 & 0x3f)));
			buf_addc(b, (char)(0x80 | (cp & 0x3f)));
		}
	}
}

/* Compose p and store the message and what a reader must find into dir. */
static int store_case(const char *dir, const struct compose_params *p)
{
	struct buf m = BUF_INIT(1 << 24);
	struct cl_err err;
	int r;

	if (mkdir(dir, 0700) < 0 || compose(p, &m, &err) < 0) {
		printf("# %s: %s\n", dir, err.msg);
		return -1;
	}
	r = test_write_file(dir, "msg", buf_cstr(&m), m.len, 0644) |
	    test_write_file(dir, "body", p->body ? p->body : "", p->body_len, 0644) |
	    test_write_file(dir, "subject", p->subject, strlen(p->subject), 0644) |
	    test_write_file(dir, "name", p->from_name ? p->from_name : "",
	               p->from_name ? strlen(p->from_name) : 0, 0644);
	buf_free(&m);
	return r;
}

static void remove_case(const char *dir)
{
	static const char *const files[] = {"msg", "body", "subject", "name"};
	struct buf path = BUF_INIT(4096);
	size_t i;

	for (i = 0; i < 4; i++) {
		buf_reset(&path);
		buf_printf(&path, "%s/%s", dir, files[i]);
		unlink(buf_cstr(&path));
	}
	buf_free(&path);
	rmdir(dir);
}

TEST(test_compose_python_email_reads_every_message_without_defects)
{
	enum { NCASES = 40 };
	const char *python = "/usr/bin/python3";
	char top[] = "/tmp/test_compose.XXXXXX", script[600], *argv[NCASES + 3];
	static char dirs[NCASES][560];
	struct buf body[NCASES], subj[NCASES], name[NCASES];
	struct compose_params p;
	int i, n, status = -1;
	pid_t pid;

	if (access(python, X_OK) != 0) {
		printf("# skipped: no %s\n", python);
		return;
	}
	CHECK(mkdtemp(top) != NULL);
	snprintf(script, sizeof(script), "%s/reader.py", top);
	CHECK(test_write_file(top, "reader.py", py_reader, strlen(py_reader), 0644) == 0);
	argv[0] = (char *)python;
	argv[1] = script;
	for (n = 0; n < NCASES; n++) {
		buf_init(&body[n], 1 << 20);
		buf_init(&subj[n], 4096);
		buf_init(&name[n], 4096);
		p = seed_params();
		/* Fixed cases first, then seeded random text. */
		switch (n) {
		case 0:
			break;
		case 1:
			buf_adds(&name[n], "Smith, \"J\" \\ x");
			buf_adds(&subj[n], "cost =?utf-8?q?x?= and a  double space");
			buf_adds(&body[n], ".\nFrom me\n..\ntrailing   \n\ttab\t\n");
			break;
		case 2:
			buf_adds(&name[n], "\xe5\xb1\xb1\xe7\x94\xb0 \xe5\xa4\xaa\xe9\x83\x8e");
			random_text(&subj[n], 100, 0);
			for (i = 0; i < 1500; i++)
				buf_addc(&body[n], (char)('A' + i % 26));
			buf_adds(&body[n], "\n\xe6\x97\xa5\n");
			break;
		default:
			random_text(&name[n], 1 + rnd() % 40, 0);
			random_text(&subj[n], rnd() % 160, 0);
			random_text(&body[n], rnd() % 3000, 1);
		}
		if (n > 0) {
			p.from_name = name[n].data ? name[n].data : "";
			p.subject = subj[n].data ? subj[n].data : "";
			p.body = buf_cstr(&body[n]);
			p.body_len = body[n].len;
		}
		snprintf(dirs[n], sizeof(dirs[n]), "%s/case%02d", top, n);
		CHECK(store_case(dirs[n], &p) == 0);
		argv[n + 2] = dirs[n];
	}
	argv[NCASES + 2] = NULL;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		execv(python, argv);
		_exit(127);
	}
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	for (n = 0; n < NCASES; n++) {
		remove_case(dirs[n]);
		buf_free(&body[n]);
		buf_free(&subj[n]);
		buf_free(&name[n]);
	}
	unlink(script);
	rmdir(top);
}

int main(void)
{
	RUN(test_compose_python_email_reads_every_message_without_defects);
	CHECK_DONE();
}
