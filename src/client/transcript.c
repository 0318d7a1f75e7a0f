/*
 * transcript.c - print the session as the original clsmtpc did. Server text
 * is printed with control characters replaced, so a hostile server cannot
 * send terminal escape sequences to the user's screen. Secrets never reach
 * here: the engine has already replaced them with "********".
 */
#include "transcript.h"

#include <time.h>

#include "base/version.h"

void transcript_line(void *arg, const char *tag, char dir, const char *line)
{
	struct transcript *t = arg;
	const unsigned char *p;

	fprintf(t->out, "clsmtpc-%s %s%c: ", CLSMTP_VERSION, tag, dir);
	for (p = (const unsigned char *)line; *p; p++)
		fputc(*p < 0x20 || *p == 0x7f ? '?' : *p, t->out);
	fputc('\n', t->out);
	fflush(t->out);
}

void transcript_banner(struct transcript *t)
{
	char when[64];
	time_t now = time(NULL);
	struct tm tm;

	localtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %a %H:%M", &tm);
	fprintf(t->out, "clsmtpc-%s -: ************ %s ************\n", CLSMTP_VERSION, when);
}
