#!/usr/bin/env bash
# test_seed_examples.sh - the command lines of the original article (see
# /work/shared/seed-notes.md), adapted to the loopback test Postfix: each one
# must deliver, and the delivered message and the -v transcript must look as
# the seed describes.
. "$(dirname "$0")/lib.sh"
require_client

# 1. The article's first example: -P 587 -M server -U user -A auto -r password
#    -F from -T to -s subject "body". The recipient is outside our domain:
#    Postfix relays it only because we authenticated.
mark=$(unique_mark)
run_client -P "$POSTFIX_SUBMISSION_PORT" -M localhost -U "$SASL_USER" -A auto -r "$PW" \
	-F alice@example.test -T "nobody-$mark@example.com" -s "clsmtpc test mail" \
	"${TRUST[@]}" "test test test"
check_rc "seed example 1 (587, -A auto, -r) exits 0" 0
if mail_wait "nobody-$mark@example.com"; then
	ok "seed example 1 is delivered (authenticated relay)"
	check "seed example 1 has Subject: clsmtpc test mail" \
		test "$(header Subject)" = "clsmtpc test mail"
	check_grep "seed example 1 From: is the -F address" '^From: .*alice@example\.test' "$MAILFILE"
	check_grep "seed example 1 To: is the -T address" "^To: .*nobody-$mark@example\\.com" "$MAILFILE"
	check_grep "seed example 1 has a Date: header" '^Date: [A-Z][a-z]{2}, [0-9]{1,2} [A-Z][a-z]{2} [0-9]{4} [0-9:]{8} [+-][0-9]{4}' "$MAILFILE"
	check_grep "seed example 1 has a Message-ID: header" '^Message-I[Dd]: <[^ @<>]+@[^ <>]+>$' "$MAILFILE"
	check_grep "seed example 1 has MIME-Version: 1.0" '^M[Ii][Mm][Ee]-Version: 1\.0' "$MAILFILE"
	check_grep "seed example 1 is text/plain US-ASCII" '^Content-Type: text/plain; charset="?US-ASCII"?' "$MAILFILE"
	check_grep "seed example 1 has Content-Transfer-Encoding 7bit" '^Content-Transfer-Encoding: 7(bit|BIT)' "$MAILFILE"
	check_grep "seed example 1 has X-Mailer: clsmtpc-VERSION" '^X-Mailer: clsmtpc-[0-9]' "$MAILFILE"
	check_grep "seed example 1 envelope sender is the -F address" '^Return-Path: <alice@example\.test>$' "$MAILFILE"
	check "seed example 1 body is the last argument" test "$(body_decoded | sed 's/\r$//')" = "test test test"
else
	not_ok "seed example 1 is delivered (authenticated relay)"
	client_diag
fi

# 2. -v prints the session in the original's format, secrets hidden.
mark=$(unique_mark)
run_client -v -P "$POSTFIX_SUBMISSION_PORT" -M localhost -U "$SASL_USER" -A plain -r "$PW" \
	-F alice@example.test -T "v-$mark@example.test" -s "verbose $mark" "${TRUST[@]}" "verbose body"
check_rc "-v session exits 0" 0
check_grep "-v shows the greeting as '<: 220'" "${V_PREFIX}<: 220 " "$ERR"
check_grep "-v shows EHLO as '>: EHLO'" "${V_PREFIX}>: EHLO " "$ERR"
check_grep "-v shows STARTTLS in clear" "${V_PREFIX}>: STARTTLS" "$ERR"
check_grep "-v marks lines after STARTTLS with 'tls>:'" "${V_PREFIX}tls>: EHLO " "$ERR"
check_grep "-v marks server lines after STARTTLS with 'tls<:'" "${V_PREFIX}tls<: 250[ -]" "$ERR"
check_grep "-v redacts the AUTH PLAIN argument as ********" "${V_PREFIX}tls>: AUTH PLAIN \\*{8}\$" "$ERR"
check_grep "-v shows MAIL FROM with <>" "${V_PREFIX}tls>: MAIL FROM:<alice@example\\.test>" "$ERR"
check_grep "-v shows QUIT" "${V_PREFIX}tls>: QUIT" "$ERR"
check_no_secret "-v transcript holds no form of the password" "$SASL_USER" "$PW" "$ERR" "$OUT"
check "-v prints nothing on stdout" test ! -s "$OUT"
check "-v session is delivered" mail_wait "v-$mark@example.test"

# 3. The probe: -v with only a server shows greeting and capabilities, QUITs,
#    sends no mail. Without -T there is no transaction at all.
run_client -v -M localhost -P "$POSTFIX_SUBMISSION_PORT" "${TRUST[@]}"
check_rc "probe (-v with only -M) exits 0" 0
check_grep "probe shows the greeting" "${V_PREFIX}<: 220 postfix\\.example\\.test" "$ERR"
check_grep "probe shows the EHLO capabilities" "${V_PREFIX}(tls)?<: 250[ -]PIPELINING" "$ERR"
check_grep "probe shows STARTTLS offered" "${V_PREFIX}<: 250[ -]STARTTLS" "$ERR"
check_grep "probe QUITs" "${V_PREFIX}(tls)?>: QUIT" "$ERR"
check_no_grep "probe sends no MAIL FROM" '>: (MAIL|RCPT|DATA|BDAT)' "$ERR"
check_no_grep "probe sends no AUTH" '>: AUTH' "$ERR"

# The probe on the plain port (no STARTTLS there), seed-style: -v -M -P only.
run_client -v -M 127.0.0.1 -P "$POSTFIX_SMTP_PORT"
check_rc "probe of a plain port exits 0" 0
check_grep "probe of a plain port shows its capabilities" "${V_PREFIX}<: 250[ -]PIPELINING" "$ERR"
check_no_grep "probe of a plain port sends no MAIL FROM" '>: (MAIL|RCPT|DATA|BDAT)' "$ERR"

# 4. -P 587 -Z tls -A plain
mark=$(unique_mark)
run_client -v -P "$POSTFIX_SUBMISSION_PORT" -M localhost -Z tls -U "$SASL_USER" -A plain -r "$PW" \
	-F alice@example.test -T "ztls-$mark@example.test" -s "Z tls $mark" "${TRUST[@]}" "body Z tls"
check_rc "-P 587 -Z tls -A plain exits 0" 0
check_grep "-Z tls issues STARTTLS" "${V_PREFIX}>: STARTTLS" "$ERR"
check_grep "-Z tls authenticates inside TLS" "${V_PREFIX}tls>: AUTH PLAIN" "$ERR"
check "-Z tls -A plain is delivered" mail_wait "ztls-$mark@example.test"

# 5. -Z smtps -A plain (implicit TLS)
mark=$(unique_mark)
run_client -v -P "$POSTFIX_SMTPS_PORT" -M localhost -Z smtps -U "$SASL_USER" -A plain -r "$PW" \
	-F alice@example.test -T "smtps-$mark@example.test" -s "smtps $mark" "${TRUST[@]}" "body smtps"
check_rc "-Z smtps -A plain exits 0" 0
check_grep "-Z smtps marks server lines with 'smtps<:'" "${V_PREFIX}smtps<: 220 " "$ERR"
check_grep "-Z smtps marks client lines with 'smtps>:'" "${V_PREFIX}smtps>: AUTH PLAIN \\*{8}\$" "$ERR"
check_no_grep "-Z smtps never issues STARTTLS" '>: STARTTLS' "$ERR"
check_no_secret "-Z smtps transcript holds no form of the password" "$SASL_USER" "$PW" "$ERR"
check "-Z smtps -A plain is delivered" mail_wait "smtps-$mark@example.test"

# 6. -N "Name <addr>": display name on From:, and the <addr> becomes the
#    envelope sender instead of -F.
mark=$(unique_mark)
run_client -P "$POSTFIX_SUBMISSION_PORT" -M localhost -U "$SASL_USER" -A auto -r "$PW" \
	-F alice@example.test -N "Taro Yamada <taro-$mark@example.test>" \
	-T "n-$mark@example.test" -s "display name" "${TRUST[@]}" "body N"
check_rc "-N 'Name <addr>' exits 0" 0
if mail_wait "n-$mark@example.test"; then
	check_grep "-N <addr> replaces the envelope sender" "^Return-Path: <taro-$mark@example\\.test>\$" "$MAILFILE"
	check_grep "-N puts the display name on From:" "^From: \"?Taro Yamada\"? <taro-$mark@example\\.test>" "$MAILFILE"
else
	not_ok "-N 'Name <addr>' is delivered"
	client_diag
fi

# -N with a non-ASCII name: RFC 2047-encoded on From:, decoding back.
mark=$(unique_mark)
run_client -P "$POSTFIX_SUBMISSION_PORT" -M localhost -U "$SASL_USER" -A auto -r "$PW" \
	-N "山田 太郎 <yamada-$mark@example.test>" -T "n8-$mark@example.test" \
	-s "日本語の件名" "${TRUST[@]}" "本文です。"
check_rc "-N with a Japanese name and subject exits 0" 0
if mail_wait "n8-$mark@example.test"; then
	check_grep "non-ASCII display name is RFC 2047-encoded" '^From: =\?[Uu][Tt][Ff]-8\?[BbQq]\?' "$MAILFILE"
	check "non-ASCII display name decodes back" \
		grep -qF "山田 太郎" <(header_decoded From)
	check_grep "non-ASCII subject is RFC 2047-encoded" '^Subject: =\?[Uu][Tt][Ff]-8\?[BbQq]\?' "$MAILFILE"
	check "non-ASCII subject decodes back" test "$(header_decoded Subject)" = "日本語の件名"
	check_grep "UTF-8 body is labelled charset=UTF-8" '^Content-Type: text/plain; charset="?UTF-8"?' "$MAILFILE"
	check "UTF-8 body decodes back" test "$(body_decoded | sed 's/\r$//')" = "本文です。"
	check "no raw 8-bit byte in the headers" \
		bash -c "sed '/^\$/q' '$MAILFILE' | LC_ALL=C grep -q '[^[:print:][:space:]]' && exit 1 || exit 0"
else
	not_ok "-N with a Japanese name is delivered"
	client_diag
fi

# 7. Line ends: CRLF in the input is one line end, and the Maildir (LF) copy
#    has neither CR nor a doubled line.
mark=$(unique_mark)
run_client_input "line one\r\nline two\r\n\r\nline four\r\n" \
	-P "$POSTFIX_SUBMISSION_PORT" -M localhost -U "$SASL_USER" -A auto -r "$PW" \
	-F alice@example.test -T "crlf-$mark@example.test" -s "crlf" "${TRUST[@]}"
check_rc "CRLF body from stdin exits 0" 0
if mail_wait "crlf-$mark@example.test"; then
	check "CRLF body arrives with LF line ends (no CR in the Maildir file)" \
		bash -c "! grep -q \$'\\r' '$MAILFILE'"
	check "CRLF body arrives line by line, intact" \
		test "$(body_decoded)" = "$(printf 'line one\nline two\n\nline four')"
else
	not_ok "CRLF body from stdin is delivered"
	client_diag
fi

done_testing
