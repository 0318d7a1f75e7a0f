#!/usr/bin/env bash
# test_wire_behaviour.sh - what clsmtpc puts on the wire, seen from the
# scripted server's byte log: TLS policy (no PLAIN/LOGIN in clear, -Z tls
# never falls back), quirky servers from the seed survey (qmail's strict
# CRLF, docomo's <> and AUTH=), STARTTLS response injection, SIZE, BDAT,
# dot-stuffing, EHLO after STARTTLS, QUIT and close_notify.
. "$(dirname "$0")/lib.sh"
require_client

MSG=(-F sender@example.test -T rcpt@example.test -s "wire test")

# no_bare_line_ends FILE: every LF is preceded by CR and every CR followed
# by LF (the whole byte stream the client sent).
no_bare_line_ends() {
	"$PYTHON" - "$1" <<'EOF'
import re, sys
data = open(sys.argv[1], "rb").read()
bad = [m.start() for m in re.finditer(rb"(?<!\r)\n|\r(?!\n)", data)]
if bad:
    print("# bare CR/LF at offsets", bad[:10], repr(data[max(0, bad[0] - 20):bad[0] + 20]))
    sys.exit(1)
sys.exit(0 if data else 1)
EOF
}

# --- TLS policy ------------------------------------------------------------
# No STARTTLS offered, -Z tls: 69, and neither AUTH nor MAIL is sent.
start_scripted '{"capabilities": ["PIPELINING", "AUTH PLAIN LOGIN"]}'
run_client -M 127.0.0.1 -P "$SCRIPTED_PORT" -Z tls -U alice -A plain -r "$PW" "${MSG[@]}" "x"
stop_scripted
check_rc "no STARTTLS offered with -Z tls exits 69" 69
check "no STARTTLS offered with -Z tls: no AUTH sent" bash -c "! grep -aq '^AUTH' '$SCRIPTED_LOG'"
check "no STARTTLS offered with -Z tls: no MAIL sent" bash -c "! grep -aq '^MAIL' '$SCRIPTED_LOG'"
check_no_secret "no STARTTLS offered with -Z tls: no password form sent" alice "$PW" "$SCRIPTED_LOG"

# No STARTTLS, no -Z, AUTH PLAIN wanted: refused (69), password never sent.
for mech in plain login auto; do
	start_scripted '{"capabilities": ["PIPELINING", "AUTH PLAIN LOGIN"], "require_auth": true}'
	run_client -M 127.0.0.1 -P "$SCRIPTED_PORT" -U alice -A $mech -r "$PW" "${MSG[@]}" "x"
	stop_scripted
	check_rc "no TLS and no -Z, -A $mech (only PLAIN LOGIN offered): refused with 69" 69
	check "no TLS and no -Z, -A $mech: no AUTH sent" bash -c "! grep -aq '^AUTH' '$SCRIPTED_LOG'"
	check_no_secret "no TLS and no -Z, -A $mech: the password never went out" alice "$PW" "$SCRIPTED_LOG"
	check_grep "no TLS and no -Z, -A $mech: the error says why" '(TLS|clear|-Z none|plaintext|encrypt)' "$ERR"
done

# The same with the non-standard AUTH= line only.
start_scripted '{"capabilities": ["PIPELINING", "AUTH=LOGIN PLAIN"]}'
run_client -M 127.0.0.1 -P "$SCRIPTED_PORT" -U alice -A auto -r "$PW" "${MSG[@]}" "x"
stop_scripted
check_rc "no TLS, AUTH= only, no -Z: refused with 69" 69
check_no_secret "no TLS, AUTH= only, no -Z: the password never went out" alice "$PW" "$SCRIPTED_LOG"

# -Z none explicitly allows PLAIN in clear.
start_scripted '{"capabilities": ["PIPELINING", "AUTH PLAIN LOGIN"], "require_auth": true}'
run_client -M 127.0.0.1 -P "$SCRIPTED_PORT" -Z none -U alice -A plain -r "$PW" "${MSG[@]}" "x"
stop_scripted
check_rc "-Z none -A plain in clear exits 0" 0
check "-Z none -A plain: AUTH PLAIN was sent" bash -c "grep -aq '^AUTH PLAIN' '$SCRIPTED_LOG'"
check "-Z none -A plain: the message was accepted" test "$(scripted_accepted)" -eq 1

# A mechanism that keeps the password off the wire is fine in clear.
start_scripted '{"capabilities": ["PIPELINING", "AUTH CRAM-MD5 PLAIN"], "require_auth": true}'
run_client -M 127.0.0.1 -P "$SCRIPTED_PORT" -U alice -A auto -r "$PW" "${MSG[@]}" "x"
stop_scripted
check_rc "no TLS, -A auto with CRAM-MD5 offered: exits 0" 0
check "no TLS, -A auto with CRAM-MD5 offered: CRAM-MD5 was used" bash -c "grep -aq '^AUTH CRAM-MD5' '$SCRIPTED_LOG'"
check_no_secret "no TLS, CRAM-MD5: the password never went out" alice "$PW" "$SCRIPTED_LOG"

# --- servers of the seed survey -----------------------------------------------
# qmail: a bare LF anywhere fails the message at the end with 451.
for caps in '"PIPELINING"' '"PIPELINING", "CHUNKING"'; do
	label=DATA
	[[ $caps == *CHUNKING* ]] && label=BDAT
	start_scripted "{\"strict_crlf\": true, \"capabilities\": [$caps]}"
	run_client_input "first line\nsecond line\rthird line\r\nfourth\n\n.dot line\n" \
		-M 127.0.0.1 -P "$SCRIPTED_PORT" "${MSG[@]}"
	stop_scripted
	check_rc "strict-CRLF (qmail) server accepts our message ($label)" 0
	check "strict-CRLF server ($label): every line end on the wire is CRLF" no_bare_line_ends "$SCRIPTED_LOG"
	check "strict-CRLF server ($label): bare LF and CR in the input became line breaks" \
		grep -qx $'second line\r' "$SCRIPTED_MSGS/msg-1.eml"
	check "strict-CRLF server ($label): ... and the CR-separated line too" \
		grep -qx $'third line\r' "$SCRIPTED_MSGS/msg-1.eml"
	check "strict-CRLF server ($label): the dot line arrives intact" \
		grep -qx $'.dot line\r' "$SCRIPTED_MSGS/msg-1.eml"
done

# docomo: addresses must be inside <>.
start_scripted '{"require_brackets": true, "capabilities": ["PIPELINING"]}'
run_client -M 127.0.0.1 -P "$SCRIPTED_PORT" "${MSG[@]}" "x"
stop_scripted
check_rc "<>-demanding (docomo) server accepts our message" 0
check "MAIL FROM is sent as MAIL FROM:<addr>" bash -c "grep -aq '^MAIL FROM:<sender@example.test>' '$SCRIPTED_LOG'"
check "RCPT TO is sent as RCPT TO:<addr>" bash -c "grep -aq '^RCPT TO:<rcpt@example.test>' '$SCRIPTED_LOG'"

# docomo: implicit TLS and only the AUTH= form of the capability.
start_scripted '{"implicit_tls": true, "require_auth": true, "require_brackets": true, "capabilities": ["AUTH=LOGIN PLAIN"]}'
run_client -M localhost -P "$SCRIPTED_PORT" -Z smtps "${TRUST[@]}" -U alice -A auto -r "$PW" "${MSG[@]}" "x"
stop_scripted
check_rc "AUTH=-only server over smtps exits 0" 0
check "AUTH=-only server: the client authenticated" bash -c "grep -aqE '^AUTH (PLAIN|LOGIN)' '$SCRIPTED_LOG'"
check "AUTH=-only server: the message was accepted" test "$(scripted_accepted)" -eq 1

# HELO fall-back when EHLO is not understood (no extensions then).
start_scripted '{"replies": {"ehlo": "502 5.5.2 Error: command not recognized"}}'
run_client -M 127.0.0.1 -P "$SCRIPTED_PORT" "${MSG[@]}" "x"
stop_scripted
check_rc "server without EHLO: HELO fall-back delivers" 0
check "server without EHLO: HELO was sent" bash -c "grep -aq '^HELO ' '$SCRIPTED_LOG'"

# --- STARTTLS response injection ---------------------------------------------
# The server appends lines to "220 Ready" in the same write, before the
# handshake. They must never be read as replies after TLS.
inject='554 5.7.0 INJECTED reply\r\n250 INJECTED ok\r\n'
start_scripted "{\"capabilities\": [\"PIPELINING\", \"STARTTLS\"], \"capabilities_tls\": [\"PIPELINING\", \"AUTH PLAIN\"],
	\"require_auth\": true, \"starttls_inject\": \"$inject\"}"
run_client -v -M localhost -P "$SCRIPTED_PORT" "${TRUST[@]}" -U alice -A plain -r "$PW" "${MSG[@]}" "x"
stop_scripted
check_no_grep "STARTTLS injection: the injected lines are never reported" 'INJECTED' "$ERR"
if [ "$RC" -eq 0 ]; then
	check "STARTTLS injection: a successful session stored exactly one message" test "$(scripted_accepted)" -eq 1
else
	check "STARTTLS injection: a failed session sent no AUTH or MAIL" \
		bash -c "! grep -aqE '^(AUTH|MAIL)' '$SCRIPTED_LOG'"
fi
check_rc "STARTTLS injection: the session succeeds (injected bytes discarded)" 0

# --- protocol details ---------------------------------------------------------
# EHLO again after STARTTLS; QUIT; close_notify at the end.
start_scripted '{"capabilities": ["PIPELINING", "STARTTLS", "SIZE 1000000"], "capabilities_tls": ["PIPELINING", "SIZE 1000000", "AUTH PLAIN"], "require_auth": true}'
run_client -M localhost -P "$SCRIPTED_PORT" "${TRUST[@]}" -U alice -A plain -r "$PW" "${MSG[@]}" "x"
stop_scripted
check_rc "STARTTLS session (no -Z) exits 0" 0
check "EHLO is sent again after STARTTLS" test "$(grep -c '^C: EHLO ' "$SCRIPTED_TRANSCRIPT")" -eq 2
check "the session ends with QUIT" test "$(scripted_client_lines | tail -n1)" = QUIT
check "the TLS session ends with close_notify" grep -q '^\* close-notify' "$SCRIPTED_TRANSCRIPT"
check "SIZE= is declared when SIZE is offered" bash -c "grep -aqE '^MAIL FROM:<sender@example.test> .*SIZE=[0-9]+' '$SCRIPTED_LOG'"
check "AUTH PLAIN goes with its initial response (one line)" bash -c "grep -aqE '^AUTH PLAIN [A-Za-z0-9+/=]+' '$SCRIPTED_LOG'"
check "CRLF only on the wire (STARTTLS session)" no_bare_line_ends "$SCRIPTED_LOG"

# BDAT when CHUNKING is offered; DATA with dot-stuffing otherwise.
body='.leading dot\n..two dots\n.\nend'
start_scripted '{"capabilities": ["PIPELINING", "CHUNKING"]}'
run_client_input "$body\n" -M 127.0.0.1 -P "$SCRIPTED_PORT" "${MSG[@]}"
stop_scripted
check_rc "CHUNKING server exits 0" 0
check "BDAT is used when CHUNKING is offered" grep -q '^C: BDAT [0-9]* LAST' "$SCRIPTED_TRANSCRIPT"
check "no DATA when CHUNKING is offered" bash -c "! grep -q '^C: DATA' '$SCRIPTED_TRANSCRIPT'"
check "BDAT: dot lines arrive intact" test "$(scripted_body)" = "$(printf '%b' "$body")"

start_scripted '{"capabilities": ["PIPELINING"]}'
run_client_input "$body\n" -M 127.0.0.1 -P "$SCRIPTED_PORT" "${MSG[@]}"
stop_scripted
check_rc "DATA server exits 0" 0
check "DATA: a line '.x' is sent dot-stuffed as '..x'" grep -aqxF $'..leading dot\r' "$SCRIPTED_LOG"
check "DATA: a line '..x' is sent dot-stuffed as '...x'" grep -aqxF $'...two dots\r' "$SCRIPTED_LOG"
check "DATA: a lone '.' line is sent dot-stuffed as '..'" grep -aqxF $'..\r' "$SCRIPTED_LOG"
check "DATA: dot lines arrive intact" test "$(scripted_body)" = "$(printf '%b' "$body")"
check "DATA: CRLF only on the wire" no_bare_line_ends "$SCRIPTED_LOG"

# A body not ending in a line break still ends the data correctly.
start_scripted '{"capabilities": ["PIPELINING"], "strict_crlf": true}'
run_client -M 127.0.0.1 -P "$SCRIPTED_PORT" "${MSG[@]}" "no final newline"
stop_scripted
check_rc "body without a final line break (DATA, strict CRLF) exits 0" 0
check "body without a final line break arrives" grep -q '^no final newline' "$SCRIPTED_MSGS/msg-1.eml"

# One of two recipients rejected: the mail goes to nobody (DATA and BDAT).
for caps in '"PIPELINING"' '"PIPELINING", "CHUNKING"'; do
	label=DATA
	[[ $caps == *CHUNKING* ]] && label=BDAT
	start_scripted "{\"capabilities\": [$caps], \"replies\": {\"rcpt2\": \"550 5.1.1 <second@example.test>: User unknown\"}}"
	run_client -M 127.0.0.1 -P "$SCRIPTED_PORT" -F sender@example.test -T first@example.test -T second@example.test "x"
	stop_scripted
	check_rc "one of two recipients rejected ($label) exits 69" 69
	check "one of two recipients rejected ($label): no message completed" test "$(scripted_accepted)" -eq 0
	check_grep "one of two recipients rejected ($label): the error names the recipient" 'second@example\.test' "$ERR"
done

# --domain NAME is the EHLO argument.
start_scripted '{"capabilities": ["PIPELINING"]}'
run_client -M 127.0.0.1 -P "$SCRIPTED_PORT" --domain client.example.test "${MSG[@]}" "x"
stop_scripted
check "--domain NAME: EHLO client.example.test" grep -qx 'C: EHLO client.example.test' "$SCRIPTED_TRANSCRIPT"
start_scripted '{"capabilities": ["PIPELINING"]}'
run_client -M 127.0.0.1 -P "$SCRIPTED_PORT" "${MSG[@]}" "x"
stop_scripted
check_rc "default EHLO name: session exits 0" 0
check "default EHLO name is neither localhost nor empty nor a path" \
	bash -c "grep -q '^C: EHLO ' '$SCRIPTED_TRANSCRIPT' && ! grep -qxE 'C: EHLO (localhost|localhost\.localdomain|.*/.*|)' '$SCRIPTED_TRANSCRIPT'"

done_testing
