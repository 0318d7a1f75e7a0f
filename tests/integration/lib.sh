# lib.sh - helpers sourced by tests/integration/test_*.sh: TAP counters and
# checks, running clsmtpc with a hard time limit, the scripted SMTP server
# (tests/fixtures/scripted_server.py) started per test, waiting for a message
# in the test Postfix's Maildir, and cleanup. Relies on the environment of
# tests/run-tests.sh; run alone, a test starts the fixtures itself.
# shellcheck shell=bash disable=SC2034

set -u
LIB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
: "${CLSMTPC:=$LIB_ROOT/build/clsmtpc}"
: "${PYTHON:=/usr/bin/python3}"
export CLSMTPC PYTHON

# ---- standalone runs: start the fixtures if run-tests.sh did not ----------
LIB_OWN_FIXTURES=
if [ -z "${POSTFIX_SUBMISSION_PORT:-}" ]; then
	TEST_WORK=${TEST_WORK:-$(mktemp -d /tmp/clsmtpc-it.XXXXXX)}
	export TEST_WORK
	if ! lib_env=$("$LIB_ROOT/tests/fixtures/start.sh" "$TEST_WORK"); then
		echo "Bail out! fixtures failed to start"
		exit 1
	fi
	eval "$lib_env"
	LIB_OWN_FIXTURES=$TEST_WORK
fi
: "${TEST_WORK:?}"
: "${SCRIPTED_SERVER:=$LIB_ROOT/tests/fixtures/scripted_server.py}"

# Each test file gets its own scratch directory.
T_NAME=$(basename "$0" .sh)
T_DIR=$(mktemp -d "$TEST_WORK/$T_NAME.XXXXXX")
mkdir -p "$TEST_WORK/scripted"
T_N=0
T_FAIL=0
T_SEQ=0
SCRIPTED_PIDS=()

lib_cleanup() {
	local pid
	for pid in "${SCRIPTED_PIDS[@]}"; do
		if kill -0 "$pid" 2>/dev/null; then
			kill "$pid" 2>/dev/null || true
		fi
		rm -f "$TEST_WORK/scripted/$pid.pid"
	done
	if [ -n "$LIB_OWN_FIXTURES" ]; then
		"$LIB_ROOT/tests/fixtures/stop.sh" "$LIB_OWN_FIXTURES" >/dev/null 2>&1
		rm -rf "$LIB_OWN_FIXTURES"
	fi
}
trap lib_cleanup EXIT

# ---- TAP ---------------------------------------------------------------
diag() {
	local line
	for line in "$@"; do
		printf '%s\n' "$line" | sed 's/^/# /'
	done
}

# diag_file FILE [MAXLINES]: a file's tail as TAP comments.
diag_file() {
	[ -f "$1" ] || { diag "($1 does not exist)"; return; }
	tail -n "${2:-20}" "$1" | cut -c1-300 | sed 's/^/#   /'
}

ok() {
	T_N=$((T_N + 1))
	echo "ok $T_N - $1"
}

# not_ok NAME [DIAGNOSTIC...]
not_ok() {
	T_N=$((T_N + 1))
	T_FAIL=$((T_FAIL + 1))
	echo "not ok $T_N - $1"
	shift
	[ $# -gt 0 ] && diag "$@"
	return 0
}

# check NAME CMD...: ok if CMD exits 0.
check() {
	local name=$1
	shift
	if "$@"; then
		ok "$name"
	else
		not_ok "$name" "failed: $*"
	fi
}

# check_exit NAME EXPECTED CMD...: run CMD (output kept in $T_DIR/last.*),
# ok if it exits with EXPECTED.
check_exit() {
	local name=$1 want=$2 rc
	shift 2
	"$@" >"$T_DIR/last.out" 2>"$T_DIR/last.err"
	rc=$?
	if [ "$rc" -eq "$want" ]; then
		ok "$name"
	else
		not_ok "$name" "expected exit $want, got $rc: $*"
		diag_file "$T_DIR/last.err"
	fi
}

done_testing() {
	echo "1..$T_N"
	[ "$T_FAIL" -eq 0 ]
	exit $?
}

# ---- running clsmtpc ---------------------------------------------------
# run_client ARGS...: run clsmtpc with stdin from /dev/null (or from the
# file $CLIENT_STDIN if set) under a hard 30 s limit. Sets RC, and OUT/ERR to
# files holding its stdout/stderr.
run_client() {
	T_SEQ=$((T_SEQ + 1))
	OUT=$T_DIR/client$T_SEQ.out
	ERR=$T_DIR/client$T_SEQ.err
	local in=${CLIENT_STDIN:-/dev/null}
	printf '%q ' "$CLSMTPC" "$@" >"$T_DIR/client$T_SEQ.cmd"
	timeout -k 2 30 "$CLSMTPC" "$@" <"$in" >"$OUT" 2>"$ERR"
	RC=$?
	return 0
}

# run_client_input TEXT ARGS...: as run_client with TEXT (printf %b, so \n,
# \r and \t escapes work) on stdin.
run_client_input() {
	local text=$1
	shift
	printf '%b' "$text" >"$T_DIR/stdin$((T_SEQ + 1))"
	CLIENT_STDIN=$T_DIR/stdin$((T_SEQ + 1)) run_client "$@"
}

# client_diag: the last command line, exit status and stderr as comments.
client_diag() {
	diag "command: $(cat "$T_DIR/client$T_SEQ.cmd" 2>/dev/null)" "exit status: $RC" "stderr:"
	diag_file "$ERR" 25
}

# check_rc NAME EXPECTED...: ok if the last run_client exited with one of
# the EXPECTED statuses.
check_rc() {
	local name=$1 w
	shift
	for w in "$@"; do
		if [ "$RC" -eq "$w" ]; then
			ok "$name"
			return 0
		fi
	done
	not_ok "$name" "expected exit status $*"
	client_diag
}

# check_grep NAME ERE FILE: ok if FILE has a line matching ERE.
check_grep() {
	if grep -Eq -- "$2" "$3" 2>/dev/null; then
		ok "$1"
	else
		not_ok "$1" "no line matching /$2/ in $3:"
		diag_file "$3" 30
	fi
}

# check_no_grep NAME ERE FILE: ok if no line of FILE matches ERE.
check_no_grep() {
	if grep -Eq -- "$2" "$3" 2>/dev/null; then
		not_ok "$1" "unexpected line matching /$2/ in $3:"
		grep -En -- "$2" "$3" | head -5 | cut -c1-300 | sed 's/^/#   /'
	else
		ok "$1"
	fi
}

# check_no_fixed NAME STRING FILE...: ok if STRING occurs in none of FILEs
# (binary-safe fixed-string search).
check_no_fixed() {
	local name=$1 s=$2 f
	shift 2
	for f in "$@"; do
		if [ -f "$f" ] && grep -aqF -- "$s" "$f"; then
			not_ok "$name" "'$s' found in $f"
			return 0
		fi
	done
	ok "$name"
}

# unique_mark: a token unique in this run, to find a message again.
unique_mark() {
	printf 'm%s%04d' "$(date +%s%N | tail -c 10)" "$((RANDOM % 10000))"
}

# free_port: a TCP port nothing listens on (127.0.0.1), for refused connects.
free_port() {
	"$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# secret_forms USER PASSWORD: the password and the base64 forms that would
# betray it (PLAIN with and without authzid, LOGIN), one per line.
secret_forms() {
	printf '%s\n' "$2"
	printf '%s' "$2" | base64 -w0
	echo
	printf '\0%s\0%s' "$1" "$2" | base64 -w0
	echo
	printf '%s\0%s\0%s' "$1" "$1" "$2" | base64 -w0
	echo
}

# check_no_secret NAME USER PASSWORD FILE...: none of secret_forms occurs.
check_no_secret() {
	local name=$1 u=$2 p=$3 form f
	shift 3
	while IFS= read -r form; do
		[ -n "$form" ] || continue
		for f in "$@"; do
			if [ -f "$f" ] && grep -aqF -- "$form" "$f"; then
				not_ok "$name" "secret form '$form' found in $f"
				return 0
			fi
		done
	done < <(secret_forms "$u" "$p")
	ok "$name"
}

# ---- the Postfix Maildir -----------------------------------------------
# mail_wait MARK [SECONDS]: wait (default 10 s) for a delivered message
# containing MARK; sets MAILFILE (the first found) and MAILFILES (all).
mail_wait() {
	local mark=$1 limit=${2:-10} i
	MAILFILE=
	MAILFILES=
	for ((i = 0; i < limit * 10; i++)); do
		MAILFILES=$(grep -lF -- "$mark" "$POSTFIX_MAILDIR"/new/* 2>/dev/null || true)
		if [ -n "$MAILFILES" ]; then
			MAILFILE=$(head -n1 <<<"$MAILFILES")
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# mail_count MARK: how many delivered messages contain MARK.
mail_count() {
	grep -lF -- "$1" "$POSTFIX_MAILDIR"/new/* 2>/dev/null | wc -l
}

# mail_wait_count MARK N [SECONDS]: wait until N messages contain MARK;
# sets MAILFILES.
mail_wait_count() {
	local i
	MAILFILES=
	for ((i = 0; i < ${3:-10} * 10; i++)); do
		if [ "$(mail_count "$1")" -ge "$2" ]; then
			MAILFILES=$(grep -lF -- "$1" "$POSTFIX_MAILDIR"/new/* 2>/dev/null)
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# postfix_accepted ENVELOPE_SENDER: true if Postfix queued a message from
# that sender (qmgr logs "from=<...>" for every committed message).
postfix_accepted() {
	grep -F "from=<$1>" "$POSTFIX_MAILLOG" 2>/dev/null | grep -q '/qmgr\[[0-9]*\]: [0-9A-Za-z]*: from=<'
}

# mail_never_arrives MARK SENDER [SECONDS]: true if after SECONDS (default 2)
# no message with MARK was delivered and none from SENDER was queued.
mail_never_arrives() {
	local i
	for ((i = 0; i < ${3:-2} * 10; i++)); do
		if [ "$(mail_count "$1")" -gt 0 ] || postfix_accepted "$2"; then
			return 1
		fi
		sleep 0.1
	done
	return 0
}

# header NAME [FILE]: the first NAME: header of FILE (default $MAILFILE),
# unfolded, without the name.
header() {
	"$PYTHON" - "$1" "${2:-$MAILFILE}" <<'EOF'
import sys, email, email.policy
with open(sys.argv[2], "rb") as f:
    m = email.message_from_binary_file(f, policy=email.policy.compat32)
v = m.get(sys.argv[1])
if v is None:
    sys.exit(1)
print(" ".join(str(v).split()))
EOF
}

# header_decoded NAME [FILE]: the header with RFC 2047 words decoded.
header_decoded() {
	"$PYTHON" - "$1" "${2:-$MAILFILE}" <<'EOF'
import sys, email, email.header, email.policy
with open(sys.argv[2], "rb") as f:
    m = email.message_from_binary_file(f, policy=email.policy.compat32)
v = m.get(sys.argv[1])
if v is None:
    sys.exit(1)
print(str(email.header.make_header(email.header.decode_header(str(v)))))
EOF
}

# body_decoded [FILE]: the message body, transfer-decoded, in its charset.
body_decoded() {
	"$PYTHON" - "${1:-$MAILFILE}" <<'EOF'
import sys, email, email.policy
with open(sys.argv[1], "rb") as f:
    m = email.message_from_binary_file(f, policy=email.policy.default)
sys.stdout.write(m.get_content())
EOF
}

# ---- the scripted server -------------------------------------------------
# start_scripted SCRIPT [SERVER-ARGS...]: start scripted_server.py (SCRIPT is
# JSON text or a file) on a free port, in the background, for one connection
# unless --connections N is given. Sets SCRIPTED_PORT, SCRIPTED_PID,
# SCRIPTED_LOG (bytes received), SCRIPTED_TRANSCRIPT, SCRIPTED_MSGS (dir of
# msg-N.eml). Returns 1 (and diagnoses) if it did not come up within 5 s.
start_scripted() {
	local script=$1 d i
	shift
	T_SEQ=$((T_SEQ + 1))
	d=$T_DIR/scripted$T_SEQ
	mkdir -p "$d"
	SCRIPTED_LOG=$d/received.log
	SCRIPTED_TRANSCRIPT=$d/transcript.txt
	SCRIPTED_MSGS=$d/msgs
	: >"$SCRIPTED_LOG"
	: >"$SCRIPTED_TRANSCRIPT"
	"$PYTHON" "$SCRIPTED_SERVER" --script "$script" --port 0 --timeout 30 \
		--log "$SCRIPTED_LOG" --transcript "$SCRIPTED_TRANSCRIPT" \
		--messages "$SCRIPTED_MSGS" "$@" >"$d/port" 2>"$d/stderr" &
	SCRIPTED_PID=$!
	SCRIPTED_PIDS+=("$SCRIPTED_PID")
	echo "$SCRIPTED_PID" >"$TEST_WORK/scripted/$SCRIPTED_PID.pid"
	SCRIPTED_PORT=
	for ((i = 0; i < 50; i++)); do
		SCRIPTED_PORT=$(head -n1 "$d/port" 2>/dev/null)
		[ -n "$SCRIPTED_PORT" ] && return 0
		kill -0 "$SCRIPTED_PID" 2>/dev/null || break
		sleep 0.1
	done
	diag "scripted server did not start:"
	diag_file "$d/stderr"
	return 1
}

# stop_scripted: let the scripted server finish the sessions that began
# (bounded: 10 s), then stop it; afterwards its log files are complete.
stop_scripted() {
	local i connects ends
	for ((i = 0; i < 100; i++)); do
		kill -0 "$SCRIPTED_PID" 2>/dev/null || break
		connects=$(grep -c '^\* connect ' "$SCRIPTED_TRANSCRIPT")
		ends=$(grep -c '^\* end ' "$SCRIPTED_TRANSCRIPT")
		[ "$connects" -eq "$ends" ] && break
		sleep 0.1
	done
	if kill -0 "$SCRIPTED_PID" 2>/dev/null; then
		kill "$SCRIPTED_PID" 2>/dev/null
	fi
	wait "$SCRIPTED_PID" 2>/dev/null
	rm -f "$TEST_WORK/scripted/$SCRIPTED_PID.pid"
	return 0
}

# scripted_accepted: how many messages the scripted server accepted.
scripted_accepted() {
	grep -c '^\* message-accepted' "$SCRIPTED_TRANSCRIPT"
}

# scripted_body [FILE]: the body (after the first empty line) of a message
# the scripted server stored (default: the first one), CRLF shown as LF.
scripted_body() {
	"$PYTHON" - "${1:-$SCRIPTED_MSGS/msg-1.eml}" <<'EOF'
import sys
data = open(sys.argv[1], "rb").read()
i = data.find(b"\r\n\r\n")
sys.stdout.buffer.write(data[i + 4:].replace(b"\r\n", b"\n") if i >= 0 else b"")
EOF
}

# scripted_client_lines: the client's command lines from the transcript.
scripted_client_lines() {
	sed -n 's/^C: //p' "$SCRIPTED_TRANSCRIPT"
}

# ---- the clsmtpc transcript (-v) ------------------------------------------
# Lines are "clsmtpc-VERSION <: ..." (server) and "clsmtpc-VERSION >: ..."
# (client), with "tls" or "smtps" before the arrow once encrypted.
V_PREFIX='^clsmtpc-[^ ]+ '

# require_client: without the binary every test here would fail; say so once.
require_client() {
	if [ ! -x "$CLSMTPC" ]; then
		not_ok "clsmtpc binary exists at $CLSMTPC"
		done_testing
	fi
}

# Options every run against the test Postfix or a TLS scripted server uses
# to trust the test CA.
TRUST=(--tls-trust-file "$FIXTURE_CA")
PW=$SASL_PASSWORD
