/*
 * doctor_json.h - the doctor's findings as one JSON object (--json), in
 * the schema DOCTOR_JSON_SCHEMA documented in clsmtpc(1): fields are only
 * ever added within a schema version, never renamed or retyped.
 */
#ifndef CLSMTPC_DOCTOR_JSON_H
#define CLSMTPC_DOCTOR_JSON_H

#include "base/buf.h"
#include "doctor.h"

/* The whole object, pretty-printed, ending in a newline. */
int doctor_json_format(struct buf *out, const struct doctor_report *r);

#endif
