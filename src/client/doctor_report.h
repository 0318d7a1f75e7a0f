/*
 * doctor_report.h - the doctor's findings for people: the conclusion first,
 * then the command, warnings, an account block, a per-port table and the
 * details of each port that answered. Fits 80 columns; colour only when
 * asked for (on a terminal, NO_COLOR unset).
 */
#ifndef CLSMTPC_DOCTOR_REPORT_H
#define CLSMTPC_DOCTOR_REPORT_H

#include <stdio.h>

#include "base/buf.h"
#include "doctor.h"

#define DOCTOR_REPORT_WIDTH 80

/* The whole text report into out. */
int doctor_report_format(struct buf *out, const struct doctor_report *r, int colour);
/* 1 if f is a terminal that takes colour (NO_COLOR unset, TERM not dumb). */
int doctor_report_colour_ok(FILE *f);
/* Append text word-wrapped: lines at most width columns (a longer word
 * stands alone), each prefixed with indent spaces. Server text is cleaned
 * of control characters on the way. */
int doctor_report_wrap(struct buf *out, const char *text, size_t indent, size_t width);

#endif
