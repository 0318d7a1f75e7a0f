#!/usr/bin/env bash
# test_input.sh - what clsmtpc accepts from its command line and standard
# input: CR/LF smuggled into the subject, addresses or display name is bad
# data (65) and nothing reaches the server; the body comes from the last
# argument, from stdin when absent, or from stdin with "-".
. "$(dirname "$0")/lib.sh"
require_client

# refused NAME ARGS...: against a scripted server, the client exits 65 and
# no mail command reaches the server.
refused() {
	local name=$1
	shift
	start_scripted '{"capabilities": ["PIPELINING", "CHUNKING"]}'
	run_client -M 127.0.0.1 -P "$SCRIPTED_PORT" "$@"
	stop_scripted
	check_rc "$name exits 65" 65
	check "$name: nothing sent to the server" \
		bash -c "! grep -aqE '^(MAIL|RCPT|DATA|BDAT)' '$SCRIPTED_LOG'"
}

CR=$'\r'
LF=$'\n'
refused "LF in -s (header injection)" -F a@example.test -T b@example.test -s "Hello${LF}Bcc: victim@example.org" "x"
refused "CR in -s" -F a@example.test -T b@example.test -s "Hello${CR}Bcc: victim@example.org" "x"
refused "CRLF in -s" -F a@example.test -T b@example.test -s "Hello${CR}${LF}Bcc: victim@example.org" "x"
refused "LF in -F" -F "a@example.test${LF}RCPT TO:<victim@example.org>" -T b@example.test "x"
refused "CR in -F" -F "a@example.test${CR}" -T b@example.test "x"
refused "LF in -T" -F a@example.test -T "b@example.test${LF}RCPT TO:<victim@example.org>" "x"
refused "CRLF in -T" -F a@example.test -T "b@example.test${CR}${LF}DATA" "x"
refused "LF in the second -T" -F a@example.test -T b@example.test -T "c@example.test${LF}x" "x"
refused "LF in -N" -F a@example.test -N "Name${LF}Bcc: victim@example.org <a@example.test>" -T b@example.test "x"
refused "CR in the address inside -N" -F a@example.test -N "Name <a@example.test${CR}>" -T b@example.test "x"
refused "'>' and a parameter smuggled into -T" -F a@example.test -T "b@example.test> NOTIFY=SUCCESS" "x"
refused "'>' and a parameter smuggled into -F" -F "a@example.test> SIZE=1" -T b@example.test "x"

# The body: last argument, stdin when absent, stdin with "-".
start_scripted '{"capabilities": ["PIPELINING"]}'
run_client_input "from stdin\nsecond line\n" -M 127.0.0.1 -P "$SCRIPTED_PORT" -F a@example.test -T b@example.test -s stdin
stop_scripted
check_rc "body from stdin (no body argument) exits 0" 0
check "body from stdin arrives" test "$(scripted_body)" = "$(printf 'from stdin\nsecond line')"

start_scripted '{"capabilities": ["PIPELINING"]}'
run_client_input "from stdin with dash\n" -M 127.0.0.1 -P "$SCRIPTED_PORT" -F a@example.test -T b@example.test -s dash -
stop_scripted
check_rc "body from stdin with '-' exits 0" 0
check "body from stdin with '-' arrives" test "$(scripted_body)" = "from stdin with dash"

start_scripted '{"capabilities": ["PIPELINING"]}'
run_client_input "NOT THIS\n" -M 127.0.0.1 -P "$SCRIPTED_PORT" -F a@example.test -T b@example.test -s arg "the argument"
stop_scripted
check_rc "body as the last argument (stdin ignored) exits 0" 0
check "body as the last argument arrives, not stdin" test "$(scripted_body)" = "the argument"

# Usage.
run_client --no-such-option
check_rc "an unknown option exits 64" 64
run_client --help
check_rc "--help exits 0" 0
check_grep "--help lists -Z" '-Z' "$OUT"
run_client --version
check_rc "--version exits 0" 0
check_grep "--version names clsmtpc and a version" 'clsmtpc[- ][0-9]+\.[0-9]+' "$OUT"

done_testing
