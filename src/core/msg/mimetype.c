/*
 * mimetype.c - media type by file extension (see mimetype.h). The table is
 * read line by line at each lookup (one lookup per attachment; the file is
 * about 60 KB): "type/subtype ext ext ...", '#' comments. Extensions match
 * without regard to case.
 */
#include "msg/mimetype.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Common types for when the system table lacks them (.log is in no table). */
static const char *const mimetype_builtin[][2] = {
    {"txt", "text/plain"},        {"log", "text/plain"},        {"text", "text/plain"},
    {"csv", "text/csv"},          {"html", "text/html"},        {"htm", "text/html"},
    {"xml", "application/xml"},   {"json", "application/json"}, {"pdf", "application/pdf"},
    {"png", "image/png"},         {"jpg", "image/jpeg"},        {"jpeg", "image/jpeg"},
    {"gif", "image/gif"},         {"zip", "application/zip"},   {"gz", "application/gzip"},
    {"tar", "application/x-tar"}, {"eml", "message/rfc822"},
};

static int mimetype_token_char(char c)
{
	/* RFC 2045 5.1: any CHAR except SPACE, CTLs, or tspecials. */
	return c > 0x20 && c < 0x7f && strchr("()<>@,;:\\\"/[]?=", c) == NULL;
}

int mimetype_valid(const char *t)
{
	const char *slash = strchr(t, '/');
	size_t i;

	if (slash == NULL || slash == t || slash[1] == '\0' || strlen(t) > 127)
		return 0;
	for (i = 0; t[i]; i++)
		if (t + i != slash && !mimetype_token_char(t[i]))
			return 0;
	return 1;
}

/* Look ext up in the table file; 1 and the type in out when found. */
static int mimetype_from_table(const char *table, const char *ext, struct buf *out)
{
	char line[1024], *type, *tok, *save;
	FILE *f = fopen(table, "r");
	int found = 0;

	if (f == NULL)
		return 0;
	while (!found && fgets(line, sizeof(line), f) != NULL) {
		if (line[0] == '#')
			continue;
		type = strtok_r(line, " \t\r\n", &save);
		if (type == NULL || !mimetype_valid(type))
			continue;
		while ((tok = strtok_r(NULL, " \t\r\n", &save)) != NULL)
			if (strcasecmp(tok, ext) == 0) {
				found = buf_adds(out, type) < 0 ? -1 : 1;
				break;
			}
	}
	fclose(f);
	return found;
}

int mimetype_for_name(const char *table, const char *name, struct buf *out)
{
	const char *base = strrchr(name, '/'), *dot;
	size_t i;
	int r;

	base = base ? base + 1 : name;
	dot = strrchr(base, '.');
	if (dot != NULL && dot != base && dot[1] != '\0' && strlen(dot + 1) < 32) {
		r = mimetype_from_table(table ? table : MIMETYPE_TABLE, dot + 1, out);
		if (r != 0)
			return r;
		for (i = 0; i < sizeof(mimetype_builtin) / sizeof(mimetype_builtin[0]); i++)
			if (strcasecmp(mimetype_builtin[i][0], dot + 1) == 0)
				return buf_adds(out, mimetype_builtin[i][1]) < 0 ? -1 : 1;
	}
	return buf_adds(out, MIMETYPE_DEFAULT) < 0 ? -1 : 0;
}
