/*
 * transcript.h - clsmtpc's -v output in the original tool's format:
 * "clsmtpc-VERSION <: 220 ..." for the server, ">:" for us, "-:" for notes,
 * with "tls" or "smtps" after the version once encrypted.
 */
#ifndef CLSMTPC_TRANSCRIPT_H
#define CLSMTPC_TRANSCRIPT_H

#include <stdio.h>

struct transcript {
	FILE *out;
};

/* An smtp_transcript_fn; arg is a struct transcript. */
void transcript_line(void *arg, const char *tag, char dir, const char *line);
/* The opening line: "clsmtpc-V -: ************ 2018-09-09 Sun 22:41 ************". */
void transcript_banner(struct transcript *t);

#endif
