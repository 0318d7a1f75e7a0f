/*
 * gmime_evidence.c - the measurements behind docs/mime.md's decision on
 * GMime: the same Japanese Subject and display name written by GMime 3 and
 * by clsmtpc's own header writer (hdr.c) with ISO-2022-JP asked for, and,
 * for each, the encoded-words found: count, longest (RFC 2047 allows 75),
 * charset and encoding. Built and run by bench/gmime_evidence.sh.
 */
#include <fcntl.h>
#include <gmime/gmime.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "msg/charset.h"
#include "msg/hdr.h"

static const char subject[] = "【障害通知】サーバー監視システムからのお知らせ：ディスク使用率が"
                              "閾値を超えました";
static const char name[] = "山田 太郎";

/* Describe the encoded-words of one header field as written. */
static void words(const char *label, const char *field)
{
	const char *p = field, *q, *e;
	size_t n = 0, longest = 0, len, col = 0, widest = 0;
	char cs[64] = "", enc = '?';

	for (q = field; *q; q++) {
		if (*q == '\n') {
			widest = col > widest ? col : widest;
			col = 0;
		} else if (*q != '\r') {
			col++;
		}
	}
	widest = col > widest ? col : widest;
	while ((p = strstr(p, "=?")) != NULL) {
		q = strchr(p + 2, '?');
		if (q == NULL || q[1] == '\0' || q[2] != '?')
			break;
		e = strstr(q + 3, "?=");
		if (e == NULL)
			break;
		len = (size_t)(e + 2 - p);
		snprintf(cs, sizeof(cs), "%.*s", (int)(q - p - 2), p + 2);
		enc = q[1];
		longest = len > longest ? len : longest;
		n++;
		p = e + 2;
	}
	printf("%s\n", label);
	printf("    %s", field);
	if (field[0] && field[strlen(field) - 1] != '\n')
		printf("\n");
	printf("  -> %zu encoded-word(s), longest %zu characters (RFC 2047: at most 75), "
	       "charset %s, encoding %c, widest line %zu columns%s\n\n",
	       n, longest, n ? cs : "-", n ? enc : '-', widest,
	       longest > 75 ? "  ** over the limit **" : "");
}

static char *gmime_field(GMimeObject *o, const char *h)
{
	GMimeFormatOptions *fo = g_mime_format_options_get_default();
	char *all = g_mime_object_get_headers(o, fo), *p, *end, *r;
	size_t n = strlen(h);

	for (p = all; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, h, n) == 0 && p[n] == ':')
			break;
	if (p == NULL || *p == '\0')
		return g_strdup("(none)");
	for (end = p; (end = strchr(end, '\n')) != NULL && (end[1] == ' ' || end[1] == '\t'); end++)
		;
	r = g_strndup(p, end ? (size_t)(end - p + 1) : strlen(p));
	g_free(all);
	return r;
}

/* --stream FILE: GMime writes a message with FILE attached (base64) to
 * /dev/null, for the peak memory of its own (push) streaming. */
static int stream(const char *path)
{
	GMimeMessage *m = g_mime_message_new(TRUE);
	GMimeMultipart *mp = g_mime_multipart_new_with_subtype("mixed");
	GMimeTextPart *t = g_mime_text_part_new_with_subtype("plain");
	GMimePart *a = g_mime_part_new_with_type("application", "octet-stream");
	GMimeStream *in, *out;
	GMimeDataWrapper *dw;
	int fd = open(path, O_RDONLY), nul = open("/dev/null", O_WRONLY);

	if (fd < 0 || nul < 0)
		return 1;
	g_mime_text_part_set_text(t, "body\n");
	g_mime_multipart_add(mp, GMIME_OBJECT(t));
	in = g_mime_stream_fs_new(fd);
	dw = g_mime_data_wrapper_new_with_stream(in, GMIME_CONTENT_ENCODING_DEFAULT);
	g_mime_part_set_content(a, dw);
	g_mime_part_set_content_encoding(a, GMIME_CONTENT_ENCODING_BASE64);
	g_mime_part_set_filename(a, "big.bin");
	g_mime_multipart_add(mp, GMIME_OBJECT(a));
	g_mime_message_set_mime_part(m, GMIME_OBJECT(mp));
	out = g_mime_stream_fs_new(nul);
	g_mime_object_write_to_stream(GMIME_OBJECT(m), NULL, out);
	g_mime_stream_flush(out);
	return 0;
}

int main(int argc, char **argv)
{
	GMimeMessage *m;
	InternetAddress *ia;
	struct charset cs;
	struct cl_err err;
	struct buf b = BUF_INIT(4096);
	struct hdr h;
	char *f;

	g_mime_init();
	if (argc == 3 && strcmp(argv[1], "--stream") == 0)
		return stream(argv[2]);
	printf("GMime %u.%u.%u, ISO-2022-JP asked for everywhere\n\n", gmime_major_version,
	       gmime_minor_version, gmime_micro_version);

	m = g_mime_message_new(TRUE);
	g_mime_message_set_subject(m, subject, "iso-2022-jp");
	f = gmime_field(GMIME_OBJECT(m), "Subject");
	words("GMime: g_mime_message_set_subject(msg, subject, \"iso-2022-jp\")", f);
	g_free(f);

	g_mime_object_set_header(GMIME_OBJECT(m), "From", "山田 太郎 <taro@example.jp>",
	                         "iso-2022-jp");
	f = gmime_field(GMIME_OBJECT(m), "From");
	words("GMime: g_mime_object_set_header(msg, \"From\", \"山田 太郎 <taro@example.jp>\", "
	      "\"iso-2022-jp\")",
	      f);
	g_free(f);

	g_mime_message_add_mailbox(m, GMIME_ADDRESS_TYPE_TO, name, "taro@example.jp");
	f = gmime_field(GMIME_OBJECT(m), "To");
	words(
	    "GMime: g_mime_message_add_mailbox(msg, TO, \"山田 太郎\", ...) (no charset argument)",
	    f);
	g_free(f);

	ia = internet_address_mailbox_new(name, "taro@example.jp");
	internet_address_set_charset(ia, "iso-2022-jp");
	internet_address_list_add(g_mime_message_get_addresses(m, GMIME_ADDRESS_TYPE_CC), ia);
	f = gmime_field(GMIME_OBJECT(m), "Cc");
	words("GMime: internet_address_set_charset(addr, \"iso-2022-jp\") on the address itself",
	      f);
	g_free(f);

	if (charset_open(&cs, "iso-2022-jp", &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	hdr_begin(&h, &b, "Subject");
	hdr_set_charset(&h, &cs);
	hdr_text(&h, subject, strlen(subject));
	hdr_end(&h);
	words("clsmtpc: hdr.c, -c iso-2022-jp (Subject)", buf_cstr(&b));
	buf_reset(&b);
	hdr_begin(&h, &b, "From");
	hdr_set_charset(&h, &cs);
	hdr_phrase(&h, name, strlen(name));
	hdr_token(&h, "<taro@example.jp>", 17);
	hdr_end(&h);
	words("clsmtpc: hdr.c, -c iso-2022-jp (From display name)", buf_cstr(&b));
	charset_close(&cs);
	buf_free(&b);
	g_object_unref(m);
	return 0;
}
