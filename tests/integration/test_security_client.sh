#!/usr/bin/env bash
# test_security_client.sh - clsmtpc against hostile servers, for the attack
# classes not covered elsewhere (docs/security.md maps them all): STARTTLS
# stripping without -Z, a fake EHLO injected before the handshake, overlong
# and endless replies, NUL bytes, invalid codes, tricks to get the password.
. "$(dirname "$0")/lib.sh"
require_client

MSG=(-F sender@example.test -T rcpt@example.test -s "security test")

# A server no JSON script can describe: it streams for ever, or answers AUTH
# its own way. One connection; every byte received goes to the log file.
HOSTILE=$T_DIR/hostile.py
cat >"$HOSTILE" <<'PY'
import base64, socket, sys
mode, logf = sys.argv[1], sys.argv[2]
ls = socket.socket(); ls.bind(("127.0.0.1", 0)); ls.listen(1)
print(ls.getsockname()[1], flush=True)
ls.settimeout(20)
c, _ = ls.accept(); c.settimeout(20)
log = open(logf, "ab", buffering=0)
buf = b""
def line():
    global buf
    while b"\n" not in buf:
        d = c.recv(65536)
        if not d:
            raise EOFError
        log.write(d); buf += d
    l, buf = buf.split(b"\n", 1)
    return l.rstrip(b"\r")
def send(b):
    c.sendall(b)
try:
    if mode == "endless-multiline":
        while True:
            send(b"220-flood flood flood flood flood flood flood flood\r\n" * 100)
    if mode == "endless-line":
        while True:
            send(b"220 " + b"x" * 65536)
    send(b"220 hostile.example ESMTP\r\n")
    line()
    if mode == "scram-iterations":
        send(b"250-hostile.example\r\n250 AUTH SCRAM-SHA-256\r\n")
        first = base64.b64decode(line().split()[-1]).decode()
        nonce = first.split("r=", 1)[1]
        sf = "r=%sX,s=c2FsdA==,i=4294967295" % nonce
        send(b"334 " + base64.b64encode(sf.encode()) + b"\r\n")
        line()
    elif mode == "scram-no-proof":
        send(b"250-hostile.example\r\n250 AUTH SCRAM-SHA-256\r\n")
        first = base64.b64decode(line().split()[-1]).decode()
        nonce = first.split("r=", 1)[1]
        sf = "r=%sX,s=c2FsdA==,i=4096" % nonce
        send(b"334 " + base64.b64encode(sf.encode()) + b"\r\n")
        line()
        send(b"235 2.7.0 Authentication successful\r\n")
    elif mode == "cram-asks-password":
        # In clear, CRAM-MD5 offered; its "challenge" is LOGIN's prompt.
        send(b"250-hostile.example\r\n250 AUTH CRAM-MD5\r\n")
        line()
        send(b"334 UGFzc3dvcmQ6\r\n")
        line()
        send(b"535 5.7.8 no\r\n")
    elif mode == "auth-in-clear-after-235":
        send(b"250-hostile.example\r\n250 AUTH CRAM-MD5 PLAIN LOGIN\r\n")
    while True:
        l = line()
        if l.upper().startswith(b"QUIT"):
            send(b"221 bye\r\n")
            break
        send(b"250 ok\r\n")
except (EOFError, OSError):
    pass
PY

# hostile MODE: start it; sets H_PORT, H_PID, H_LOG.
hostile() {
	T_SEQ=$((T_SEQ + 1))
	H_LOG=$T_DIR/hostile$T_SEQ.log
	: >"$H_LOG"
	"$PYTHON" "$HOSTILE" "$1" "$H_LOG" >"$T_DIR/hostile$T_SEQ.port" 2>"$T_DIR/hostile$T_SEQ.err" &
	H_PID=$!
	SCRIPTED_PIDS+=("$H_PID")
	local i
	for ((i = 0; i < 50; i++)); do
		H_PORT=$(head -n1 "$T_DIR/hostile$T_SEQ.port" 2>/dev/null)
		[ -n "$H_PORT" ] && return 0
		sleep 0.1
	done
	return 1
}

hostile_stop() {
	kill "$H_PID" 2>/dev/null
	wait "$H_PID" 2>/dev/null
}

# ---- STARTTLS stripping without -Z (a man in the middle) -----------------------
# The capability rewritten away (Cisco PIX style "XXXXXXXA") or STARTTLS
# refused: the client may go on in clear, but never with the password.
for case in stripped refused garbage; do
	case $case in
	stripped) script='{"capabilities": ["PIPELINING", "XXXXXXXA", "AUTH PLAIN LOGIN"], "require_auth": true}' ;;
	refused) script='{"capabilities": ["PIPELINING", "STARTTLS", "AUTH PLAIN LOGIN"], "require_auth": true,
		"replies": {"starttls": "454 4.7.0 TLS not available due to local problem"}}' ;;
	garbage) script='{"capabilities": ["PIPELINING", "STARTTLS", "AUTH PLAIN LOGIN"], "require_auth": true,
		"replies": {"starttls": "250 2.0.0 Ok"}}' ;;
	esac
	for mech in auto plain login; do
		start_scripted "$script"
		run_client -M 127.0.0.1 -P "$SCRIPTED_PORT" "${TRUST[@]}" -U alice -A $mech -r "$PW" "${MSG[@]}" "x"
		stop_scripted
		check "STARTTLS $case (no -Z), -A $mech: the session fails" test "$RC" -ne 0
		check_no_secret "STARTTLS $case (no -Z), -A $mech: no password form sent" alice "$PW" "$SCRIPTED_LOG"
		check "STARTTLS $case (no -Z), -A $mech: no MAIL sent" bash -c "! grep -aq '^MAIL' '$SCRIPTED_LOG'"
	done
done

# ---- STARTTLS response injection: a whole fake EHLO reply -----------------------
# Injected with the 220: a post-TLS EHLO reply offering PLAIN. The real one
# offers CRAM-MD5 only; reading the injected lines would send AUTH PLAIN.
inject='250-scripted.example.test\r\n250-PIPELINING\r\n250 AUTH PLAIN LOGIN\r\n'
start_scripted "{\"capabilities\": [\"PIPELINING\", \"STARTTLS\"], \"capabilities_tls\": [\"PIPELINING\", \"AUTH CRAM-MD5\"],
	\"require_auth\": true, \"starttls_inject\": \"$inject\"}"
run_client -v -M localhost -P "$SCRIPTED_PORT" "${TRUST[@]}" -U alice -A auto -r "$PW" "${MSG[@]}" "x"
stop_scripted
check_rc "injected fake EHLO before the handshake: the session succeeds" 0
check "injected fake EHLO: the client used the real capabilities (CRAM-MD5)" \
	grep -q '^C: AUTH CRAM-MD5' "$SCRIPTED_TRANSCRIPT"
check "injected fake EHLO: no AUTH PLAIN or LOGIN" bash -c "! grep -qE '^C: AUTH (PLAIN|LOGIN)' '$SCRIPTED_TRANSCRIPT'"
check "injected fake EHLO: EHLO was sent again after the handshake" \
	test "$(grep -c '^C: EHLO ' "$SCRIPTED_TRANSCRIPT")" -eq 2

# ---- replies that are too long, endless, or not replies ------------------------------
start_scripted "{\"replies\": {\"greeting\": {\"raw\": \"220 $(head -c 100000 /dev/zero | tr '\0' x)\\r\\n\"}}}"
run_client "${MSG[@]}" -M 127.0.0.1 -P "$SCRIPTED_PORT" "x"
stop_scripted
check_rc "a 100 kB greeting line is a protocol error (76)" 76
check "a 100 kB greeting line: the error is one short line" \
	bash -c "[ \$(wc -l <'$ERR') -eq 1 ] && [ \$(wc -c <'$ERR') -lt 600 ]"

start_scripted "{\"replies\": {\"ehlo\": [\"250-scripted.example.test\", \"250-$(head -c 5000 /dev/zero | tr '\0' A)\", \"250 PIPELINING\"]}}"
run_client "${MSG[@]}" -M 127.0.0.1 -P "$SCRIPTED_PORT" "x"
stop_scripted
check_rc "a 5000-byte EHLO line is a protocol error (76)" 76
check "a 5000-byte EHLO line: no MAIL sent" bash -c "! grep -aq '^MAIL' '$SCRIPTED_LOG'"

hostile endless-multiline
run_client "${MSG[@]}" -M 127.0.0.1 -P "$H_PORT" --timeout 10 "x"
hostile_stop
check_rc "an endless multi-line greeting is a protocol error (76), not a hang" 76
check_grep "an endless multi-line reply: the error says why" 'longer than [0-9]+ lines' "$ERR"

hostile endless-line
run_client "${MSG[@]}" -M 127.0.0.1 -P "$H_PORT" --timeout 10 "x"
hostile_stop
check_rc "an endless line (no LF ever) is a protocol error (76), not a hang" 76

for where in greeting ehlo mail data_end; do
	start_scripted "{\"capabilities\": [\"PIPELINING\"], \"replies\": {\"$where\": {\"raw\": \"250 a\\u0000b\\r\\n\"}}}"
	run_client "${MSG[@]}" -M 127.0.0.1 -P "$SCRIPTED_PORT" "x"
	stop_scripted
	check_rc "a NUL byte in the $where reply is a protocol error (76)" 76
	check "a NUL byte in the $where reply: stderr holds no NUL" bash -c "! grep -qaP '\\x00' '$ERR'"
done

codes=('099 too low' '600 too high' '2500 four digits' '25 two digits' 'abc letters' '250x no separator' '')
for code in "${codes[@]}"; do
	for where in greeting data_end; do
		start_scripted "{\"capabilities\": [\"PIPELINING\"], \"replies\": {\"$where\": {\"raw\": \"$code\\r\\n\"}}}"
		run_client "${MSG[@]}" -M 127.0.0.1 -P "$SCRIPTED_PORT" "x"
		stop_scripted
		check_rc "invalid status '$code' at $where is a protocol error (76)" 76
	done
done

# ---- getting the password out of the client -------------------------------------
# CRAM-MD5 in clear whose "challenge" is LOGIN's "Password:" prompt: the
# answer is an HMAC, never the password.
hostile cram-asks-password
run_client "${MSG[@]}" -M 127.0.0.1 -P "$H_PORT" -U alice -A auto -r "$PW" "x"
hostile_stop
check_rc "CRAM-MD5 with a 'Password:' challenge: authentication refused (77)" 77
check_no_secret "CRAM-MD5 with a 'Password:' challenge: no password form sent" alice "$PW" "$H_LOG"

# PLAIN and LOGIN offered in clear, no STARTTLS: -A auto picks CRAM-MD5 and
# never the mechanisms that send the password.
hostile auth-in-clear-after-235
run_client "${MSG[@]}" -M 127.0.0.1 -P "$H_PORT" -U alice -A auto -r "$PW" "x"
hostile_stop
check "PLAIN, LOGIN and CRAM-MD5 in clear: only CRAM-MD5 is tried" \
	bash -c "grep -aq '^AUTH CRAM-MD5' '$H_LOG' && ! grep -aqE '^AUTH (PLAIN|LOGIN)' '$H_LOG'"
check_no_secret "PLAIN, LOGIN and CRAM-MD5 in clear: no password form sent" alice "$PW" "$H_LOG"

# ---- SCRAM servers that do not prove themselves ------------------------------------
# 235 right after the client's proof, without the server signature "v=".
hostile scram-no-proof
run_client "${MSG[@]}" -M 127.0.0.1 -P "$H_PORT" -Z none -U alice -A scram-sha-256 -r "$PW" "x"
hostile_stop
check_rc "SCRAM server answering 235 without its signature: refused (77)" 77
check "SCRAM server without its signature: no MAIL sent" bash -c "! grep -aq '^MAIL' '$H_LOG'"

# An iteration count of 2^32: hours of PBKDF2 if obeyed (found by fuzzing).
hostile scram-iterations
run_client "${MSG[@]}" -M 127.0.0.1 -P "$H_PORT" -Z none -U alice -A scram-sha-256 -r "$PW" --timeout 10 "x"
hostile_stop
check_rc "SCRAM server asking for 4294967295 iterations: refused at once (76)" 76
check_grep "SCRAM iteration bomb: the error says why" 'SCRAM iterations' "$ERR"

done_testing
