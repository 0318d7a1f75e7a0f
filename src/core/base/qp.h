/*
 * qp.h - quoted-printable (RFC 2045 6.7) for text bodies: CRLF in the input
 * is a hard line break; every other octet outside printable ASCII, '=', and
 * whitespace at the end of a line are encoded; soft line breaks keep every
 * encoded line within 76 characters.
 */
#ifndef CLSMTP_QP_H
#define CLSMTP_QP_H

#include <stddef.h>

#include "base/buf.h"

/* RFC 2045 6.7 rule 5: encoded lines are at most 76 characters. */
#define QP_LINE_MAX 76

/* Append the quoted-printable form of in (canonical CRLF text; a bare CR or
 * LF is encoded as data). The output's lines end in CRLF; if the input does
 * not end in CRLF, neither does the output. On failure nothing is appended. */
int qp_encode(const char *in, size_t len, struct buf *out);
/* Append the decoded form of in (soft line breaks removed); -1 on a
 * malformed '=' sequence. Accepts the encoder's output and any RFC 2045 text. */
int qp_decode(const char *in, size_t len, struct buf *out);
/* Number of octets of in that qp_encode writes as =XX. */
size_t qp_encoded_count(const char *in, size_t len);

#endif
