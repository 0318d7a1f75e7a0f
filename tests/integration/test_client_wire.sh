#!/usr/bin/env bash
# test_client_wire.sh - what clsmtpc puts on the wire, and in what order:
# the pipelined groups that keep it at the round-trip floor (checked from
# the transcript's order, never from timings), SMTPUTF8 and SIZE, the
# password from --passwordeval, HELO fall-back, every address of a host
# tried, BDAT with a refused recipient undone by RSET, QUIT + close_notify.
. "$(dirname "$0")/lib.sh"
require_client

AUTH=(-M localhost -U "$SASL_USER" -A plain -r "$PW" "${TRUST[@]}")

# line_of ERE FILE: the number of the first line matching ERE (0 if none).
line_of() {
	local n
	n=$(grep -nE -m1 "$1" "$2" | cut -d: -f1)
	echo "${n:-0}"
}

# STARTTLS + PIPELINING + CHUNKING: AUTH, MAIL, RCPT, BDAT LAST and QUIT are
# all written before the first of their replies is read.
mark=$(unique_mark)
run_client -v -P "$POSTFIX_SUBMISSION_PORT" -Z tls "${AUTH[@]}" -F alice@example.test \
	-T "pipe-$mark@example.test" -s "pipe $mark" "body"
check_rc "STARTTLS+PLAIN to Postfix exits 0" 0
first_reply=$(line_of 'tls<: 235' "$ERR")
quit=$(line_of 'tls>: QUIT' "$ERR")
bdat=$(line_of 'tls>: BDAT [0-9]+ LAST' "$ERR")
auth=$(line_of 'tls>: AUTH PLAIN \*+$' "$ERR")
if [ "$auth" -gt 0 ] && [ "$bdat" -gt "$auth" ] && [ "$quit" -gt "$bdat" ] &&
	[ "$first_reply" -gt "$quit" ]; then
	ok "AUTH PLAIN, MAIL, RCPT, BDAT LAST and QUIT leave in one group"
else
	not_ok "AUTH PLAIN, MAIL, RCPT, BDAT LAST and QUIT leave in one group" \
		"auth=$auth bdat=$bdat quit=$quit first reply=$first_reply"
	diag_file "$ERR" 40
fi
check_grep "MAIL FROM declares SIZE (offered by Postfix)" 'tls>: MAIL FROM:<alice@example\.test> SIZE=[0-9]+' "$ERR"
check "the QUIT is written once" test "$(grep -c '>: QUIT' "$ERR")" -eq 1
check "the pipelined message arrives" mail_wait "pipe $mark"

# Implicit TLS, PIPELINING without CHUNKING: AUTH..DATA in one group, then
# the message and QUIT in the next.
mark=$(unique_mark)
run_client -v -P "$POSTFIX_SMTPS_NOCHUNK_PORT" -Z smtps "${AUTH[@]}" -F alice@example.test \
	-T "data-$mark@example.test" -s "data $mark" "body"
check_rc "smtps without CHUNKING exits 0" 0
data=$(line_of 'smtps>: DATA$' "$ERR")
first_reply=$(line_of 'smtps<: 235' "$ERR")
go=$(line_of 'smtps<: 354' "$ERR")
quit=$(line_of 'smtps>: QUIT' "$ERR")
queued=$(line_of 'smtps<: 250 2\.0\.0' "$ERR")
if [ "$data" -gt 0 ] && [ "$first_reply" -gt "$data" ] && [ "$quit" -gt "$go" ] &&
	[ "$queued" -gt "$quit" ]; then
	ok "AUTH..DATA in one group; message and QUIT in the next"
else
	not_ok "AUTH..DATA in one group; message and QUIT in the next" \
		"data=$data 235=$first_reply 354=$go quit=$quit 250=$queued"
	diag_file "$ERR" 40
fi
check "the DATA message arrives" mail_wait "data $mark"

# --passwordeval: the first line of the command's output is the password.
mark=$(unique_mark)
run_client -P "$POSTFIX_SUBMISSION_PORT" -M localhost -U "$SASL_USER" "${TRUST[@]}" \
	--passwordeval "printf '%s\n' '$PW'; echo second-line-ignored" \
	-F alice@example.test -T "eval-$mark@example.test" -s "eval $mark" "body"
check_rc "--passwordeval supplies the password" 0
run_client -P "$POSTFIX_SUBMISSION_PORT" -M localhost -U "$SASL_USER" "${TRUST[@]}" \
	--passwordeval "exit 3" -F alice@example.test -T "x@example.test" "body"
check_rc "--passwordeval failing exits 78 (configuration)" 78
check_grep "--passwordeval failure is named" 'passwordeval' "$ERR"

# SMTPUTF8: a non-ASCII recipient goes out with the SMTPUTF8 parameter.
mark=$(unique_mark)
run_client -v -P "$POSTFIX_SUBMISSION_PORT" "${AUTH[@]}" -F alice@example.test \
	-T "利用者-$mark@example.test" -s "utf8 $mark" "body"
check_rc "a UTF-8 local part is sent to a server offering SMTPUTF8" 0
check_grep "MAIL FROM carries SMTPUTF8" '>: MAIL FROM:<alice@example\.test> .*SMTPUTF8' "$ERR"
check "the SMTPUTF8 message arrives" mail_wait "utf8 $mark"

start_scripted '{"capabilities": ["PIPELINING", "8BITMIME"]}'
run_client -P "$SCRIPTED_PORT" -M 127.0.0.1 -F a@example.test -T "利用者@example.test" "body"
stop_scripted
check_rc "a UTF-8 address to a server without SMTPUTF8 exits 69" 69
check_no_grep "and no MAIL FROM was sent" '^MAIL' "$SCRIPTED_LOG"

# SIZE: a message larger than the server's limit is refused before MAIL.
start_scripted '{"capabilities": ["PIPELINING", "SIZE 100"]}'
run_client -P "$SCRIPTED_PORT" -M 127.0.0.1 -F a@example.test -T b@example.test \
	"$(head -c 3000 /dev/zero | tr '\0' x)"
stop_scripted
check_rc "a message over the SIZE limit exits 69" 69
check_grep "the SIZE refusal names the limit" 'SIZE 100' "$ERR"
check_no_grep "and nothing was offered to the server" '^MAIL' "$SCRIPTED_LOG"

# HELO fall-back when EHLO is not understood; no TLS can be required then.
start_scripted '{"replies": {"ehlo": "502 5.5.2 Error: command not recognized"}}'
run_client -P "$SCRIPTED_PORT" -M 127.0.0.1 -Z none -F a@example.test -T b@example.test "body"
stop_scripted
check_rc "EHLO refused: HELO fall-back delivers" 0
check_grep "HELO was sent after the refused EHLO" '^HELO ' "$SCRIPTED_LOG"
check "the HELO session delivered one message" test "$(scripted_accepted)" -eq 1
start_scripted '{"replies": {"ehlo": "502 5.5.2 Error: command not recognized"}}'
run_client -P "$SCRIPTED_PORT" -M 127.0.0.1 -Z tls -F a@example.test -T b@example.test "body"
stop_scripted
check_rc "EHLO refused with -Z tls exits 69 (no STARTTLS without EHLO)" 69

# BDAT with two recipients, the second refused: the first chunk goes
# without LAST, and the transaction is abandoned (QUIT, as it was the only
# message), so nobody receives the mail.
start_scripted '{"capabilities": ["PIPELINING", "CHUNKING", "8BITMIME"],
  "replies": {"rcpt2": "550 5.1.1 no such user"}}'
run_client -P "$SCRIPTED_PORT" -M 127.0.0.1 -Z none -F a@example.test \
	-T ok@example.test,bad@example.test "body"
stop_scripted
check_rc "BDAT, one of two recipients refused: exits 69" 69
check_grep "the refused recipient is named with the reply" 'bad@example\.test.*550 5\.1\.1' "$ERR"
check_grep "the error says the mail went to nobody" 'sent to nobody' "$ERR"
check_no_grep "no BDAT LAST was sent" '^BDAT [0-9]+ LAST' "$SCRIPTED_LOG"
check_grep "QUIT abandoned the open transaction" '^QUIT' "$SCRIPTED_LOG"
check "the server stored no message" test "$(scripted_accepted)" -eq 0

# BDAT with two recipients, both accepted: BDAT n, then BDAT 0 LAST.
start_scripted '{"capabilities": ["PIPELINING", "CHUNKING"]}'
run_client -P "$SCRIPTED_PORT" -M 127.0.0.1 -Z none -F a@example.test \
	-T one@example.test,two@example.test "two recipients"
stop_scripted
check_rc "BDAT, two recipients accepted: exits 0" 0
check_grep "the message is closed with BDAT 0 LAST" '^BDAT 0 LAST' "$SCRIPTED_LOG"
check "the server stored one message" test "$(scripted_accepted)" -eq 1

# Every address of the host is tried: the server listens on 127.0.0.1 only,
# "localhost" also resolves to ::1.
start_scripted '{}' --host 127.0.0.1
run_client -v -P "$SCRIPTED_PORT" -M localhost -Z none -F a@example.test -T b@example.test "x"
stop_scripted
check_rc "a refused address of the host is skipped for the next one" 0
check_grep "it connected to 127.0.0.1" 'connected to localhost \(\[127\.0\.0\.1\]' "$ERR"

# The end of a TLS session: QUIT answered, then our close_notify.
start_scripted '{"implicit_tls": true}'
run_client -P "$SCRIPTED_PORT" -M localhost -Z smtps "${TRUST[@]}" -F a@example.test \
	-T b@example.test "x"
stop_scripted
check_rc "implicit TLS session to the scripted server exits 0" 0
check_grep "QUIT was sent" '^QUIT' "$SCRIPTED_LOG"
check_grep "the client sent a TLS close_notify" '^\* close-notify' "$SCRIPTED_TRANSCRIPT"

done_testing
