#!/usr/bin/env bash
# test_server_failures.sh - exit codes against the scripted server's chosen
# failures: every 4xx at any stage is 75, 5xx is 69, AUTH rejected is 77,
# dropped connections and silence are 75 (bounded by --timeout), garbage is
# 76; a failure names its stage in one line, and nothing is half-delivered.
. "$(dirname "$0")/lib.sh"
require_client

BASIC=(-M 127.0.0.1 -Z none -F sender@example.test -T rcpt@example.test -s "failure test")
NOCHUNK='"capabilities": ["PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES", "SIZE 10485760"]'
CHUNK='"capabilities": ["PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES", "SIZE 10485760", "CHUNKING"]'

# scenario NAME EXPECTED-EXIT SCRIPT-JSON [CLIENT-ARGS...]: one session of
# the client against the scripted server; checks the exit status, and that
# no message was stored unless EXPECTED is 0.
scenario() {
	local name=$1 want=$2 script=$3
	shift 3
	start_scripted "$script" || { not_ok "$name (server start)"; return; }
	run_client "${BASIC[@]}" -P "$SCRIPTED_PORT" "$@" "body of $name"
	stop_scripted
	check_rc "$name exits $want" "$want"
	if [ "$want" -ne 0 ]; then
		check "$name: no message stored" test "$(scripted_accepted)" -eq 0
	fi
}

# A reply at each stage.
scenario "421 at the greeting" 75 '{"replies": {"greeting": "421 4.3.2 Service not available"}}'
check_grep "421 at the greeting: the error quotes the reply" '421 4\.3\.2 Service not available' "$ERR"
check "421 at the greeting: the error is one line" test "$(wc -l <"$ERR")" -eq 1
scenario "554 at the greeting" 69 '{"replies": {"greeting": "554 5.3.2 No SMTP service here"}}'
check_grep "554 at the greeting: the error quotes the reply" '554 5\.3\.2 No SMTP service here' "$ERR"
scenario "421 to EHLO" 75 '{"replies": {"ehlo": "421 4.3.2 Shutting down"}}'
scenario "451 to MAIL" 75 "{$NOCHUNK, \"replies\": {\"mail\": \"451 4.3.0 Mail server temporarily rejected message\"}}"
check_grep "451 to MAIL: the error names MAIL and quotes the reply" 'MAIL.*451 4\.3\.0 Mail server temporarily rejected' "$ERR"
scenario "550 to MAIL" 69 "{$NOCHUNK, \"replies\": {\"mail\": \"550 5.7.1 Sender rejected\"}}"
check_grep "550 to MAIL: the error names MAIL and quotes the reply" 'MAIL.*550 5\.7\.1 Sender rejected' "$ERR"
scenario "450 to RCPT" 75 "{$NOCHUNK, \"replies\": {\"rcpt\": \"450 4.2.1 Mailbox busy\"}}"
check_grep "450 to RCPT: the error names RCPT and quotes the reply" 'RCPT.*450 4\.2\.1 Mailbox busy' "$ERR"
scenario "550 to RCPT" 69 "{$NOCHUNK, \"replies\": {\"rcpt\": \"550 5.1.1 No such user\"}}"
check_grep "550 to RCPT: the error names the recipient" 'RCPT.*rcpt@example\.test.*550 5\.1\.1' "$ERR"
scenario "451 to DATA" 75 "{$NOCHUNK, \"replies\": {\"data\": \"451 4.3.0 Try again later\"}}"
check_grep "451 to DATA: the error names DATA" 'DATA.*451 4\.3\.0' "$ERR"
scenario "554 to DATA" 69 "{$NOCHUNK, \"replies\": {\"data\": \"554 5.5.1 No thanks\"}}"
scenario "451 at the end of data" 75 "{$NOCHUNK, \"replies\": {\"data_end\": \"451 4.3.0 Queue file write error\"}}"
check_grep "451 at the end of data: the error quotes the reply" '451 4\.3\.0 Queue file write error' "$ERR"
scenario "554 at the end of data" 69 "{$NOCHUNK, \"replies\": {\"data_end\": \"554 5.7.1 Message rejected as spam\"}}"
check_grep "554 at the end of data: the error quotes the reply" '554 5\.7\.1 Message rejected as spam' "$ERR"
scenario "451 to BDAT LAST" 75 "{$CHUNK, \"replies\": {\"bdat_last\": \"451 4.3.0 Queue file write error\"}}"
scenario "554 to BDAT LAST" 69 "{$CHUNK, \"replies\": {\"bdat_last\": \"554 5.7.1 Message rejected\"}}"
scenario "421 to MAIL, then the server closes" 75 "{$NOCHUNK, \"replies\": {\"mail\": {\"reply\": \"421 4.7.0 Too many errors\", \"then\": \"drop\"}}}"
scenario "421 at the end of data, then the server closes" 75 "{$NOCHUNK, \"replies\": {\"data_end\": {\"reply\": \"421 4.3.0 Shutting down\", \"then\": \"drop\"}}}"

# AUTH outcomes (-Z none allows PLAIN in clear against this server).
AUTHCAPS='"capabilities": ["PIPELINING", "AUTH PLAIN LOGIN"]'
scenario "535 to AUTH PLAIN" 77 "{$AUTHCAPS, \"require_auth\": true}" -U alice -A plain -r wrong-password
check_grep "535 to AUTH: the error names AUTH and quotes the reply" 'AUTH.*535 5\.7\.8' "$ERR"
scenario "454 to AUTH PLAIN" 75 "{$AUTHCAPS, \"require_auth\": true, \"replies\": {\"auth\": \"454 4.7.0 Temporary authentication failure\"}}" \
	-U alice -A plain -r "$PW"
scenario "535 to AUTH LOGIN" 77 "{$AUTHCAPS, \"require_auth\": true}" -U alice -A login -r wrong-password
scenario "correct AUTH PLAIN in clear with -Z none" 0 "{$AUTHCAPS, \"require_auth\": true}" -U alice -A plain -r "$PW"

# STARTTLS refused with 454 while -Z tls requires it: temporary, and
# nothing else is sent in clear.
start_scripted '{"capabilities": ["PIPELINING", "STARTTLS", "AUTH PLAIN"], "replies": {"starttls": "454 4.7.0 TLS not available due to local problem"}}'
run_client -M 127.0.0.1 -P "$SCRIPTED_PORT" -Z tls "${TRUST[@]}" -U alice -A plain -r "$PW" -F a@example.test -T b@example.test "x"
stop_scripted
check_rc "454 to STARTTLS with -Z tls exits 75" 75
check "454 to STARTTLS with -Z tls: no AUTH or MAIL sent in clear" \
	bash -c "! grep -aqE '^(AUTH|MAIL|RCPT)' '$SCRIPTED_LOG'"
check_no_secret "454 to STARTTLS: the password never reached the server" alice "$PW" "$SCRIPTED_LOG"

# A server that fails to prove itself (SCRAM server signature, DIGEST-MD5
# rspauth): 77, and no mail transaction follows.
for mech in scram-sha-256 scram-sha-1 digest-md5; do
	MECH=$(tr 'a-z' 'A-Z' <<<"$mech")
	if [ $mech = digest-md5 ]; then bad='"digest_bad_rspauth": true'; else bad='"scram_bad_server_signature": true'; fi
	start_scripted "{\"implicit_tls\": true, \"capabilities\": [\"PIPELINING\", \"AUTH $MECH\"], $bad}"
	run_client -M localhost -P "$SCRIPTED_PORT" -Z smtps "${TRUST[@]}" -U alice -A "$mech" -r "$PW" \
		-F a@example.test -T b@example.test "x"
	stop_scripted
	check_rc "$MECH server with a wrong proof exits 77" 77
	check "$MECH server with a wrong proof: no MAIL sent" bash -c "! grep -aqE '^MAIL' '$SCRIPTED_LOG'"
done
# ... and with the right proof, the same mechanisms succeed.
for mech in scram-sha-256 scram-sha-1 digest-md5 cram-md5; do
	MECH=$(tr 'a-z' 'A-Z' <<<"$mech")
	start_scripted "{\"implicit_tls\": true, \"require_auth\": true, \"capabilities\": [\"PIPELINING\", \"AUTH $MECH\"]}"
	run_client -M localhost -P "$SCRIPTED_PORT" -Z smtps "${TRUST[@]}" -U alice -A "$mech" -r "$PW" \
		-F a@example.test -T b@example.test "x"
	stop_scripted
	check_rc "$MECH against the scripted server exits 0" 0
done

# The connection dropped in the middle of the message.
scenario "connection dropped during DATA" 75 "{$NOCHUNK, \"data_drop_after\": 20}"
scenario "connection dropped during BDAT" 75 "{$CHUNK, \"data_drop_after\": 20}"
scenario "connection dropped right after the greeting" 75 '{"replies": {"ehlo": {"drop": true}}}'
scenario "connection dropped instead of the RCPT reply" 75 "{$NOCHUNK, \"replies\": {\"rcpt\": {\"drop\": true}}}"

# A server that never answers: 75 within --timeout (bounded here by the
# 30 s limit of run_client; no assertion on the time itself).
scenario "no greeting ever (--timeout 2)" 75 '{"replies": {"greeting": {"hang": true}}}' --timeout 2
scenario "no reply to EHLO ever (--timeout 2)" 75 '{"replies": {"ehlo": {"hang": true}}}' --timeout 2
scenario "no reply at the end of data ever (--timeout 2)" 75 "{$NOCHUNK, \"replies\": {\"data_end\": {\"hang\": true}}}" --timeout 2
scenario "server silent in the middle of BDAT (--timeout 2)" 75 "{$CHUNK, \"data_hang_after\": 10}" --timeout 2

# Nothing listening: connection refused is temporary.
port=$(free_port)
run_client "${BASIC[@]}" -P "$port" "x"
check_rc "connection refused exits 75" 75
check_grep "connection refused: the error names the connect stage" '[Cc]onnect' "$ERR"

# Garbage instead of SMTP: a protocol error.
scenario "garbage greeting" 76 '{"replies": {"greeting": {"raw": "HTTP/1.1 400 Bad Request\r\n\r\n"}}}'
scenario "reply code changing within a multi-line reply" 76 '{"replies": {"ehlo": ["250-scripted.example.test", "550 PIPELINING"]}}'

# Multi-line replies everywhere are fine.
scenario "multi-line replies at every stage" 0 "{$NOCHUNK,
	\"replies\": {\"greeting\": [\"220-scripted.example.test first line\", \"220-second line\", \"220 last line\"],
	\"mail\": [\"250-2.1.0 Sender\", \"250 2.1.0 Ok\"], \"rcpt\": [\"250-2.1.5 Recipient\", \"250 2.1.5 Ok\"],
	\"data\": [\"354-Go ahead\", \"354 End with <CRLF>.<CRLF>\"], \"data_end\": [\"250-2.0.0 Queued\", \"250 2.0.0 Ok\"]}}"

done_testing
