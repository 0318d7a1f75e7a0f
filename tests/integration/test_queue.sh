#!/usr/bin/env bash
# test_queue.sh - the offline queue end to end (docs/queue.md): --queue keeps
# a mail when the network is down (an empty network namespace, as on a
# laptop off line) or the server answers 4xx, and exits 0; permanent
# failures are not queued; --flush delivers through the real Postfix (one
# session for many messages, seen on the scripted server), defers 4xx with
# backoff, moves 5xx to failed/; --list-queue, --drop-queued, the lock, the
# directory checks; no password ever lands in the queue.
. "$(dirname "$0")/lib.sh"
require_client

Q=$T_DIR/queue
PASSFILE=$T_DIR/passfile
printf '%s:localhost:%s\n' "$SASL_USER" "$PW" >"$PASSFILE"
chmod 600 "$PASSFILE"
SUB=(-M localhost -P "$POSTFIX_SUBMISSION_PORT" "${TRUST[@]}" -U "$SASL_USER" -p "$PASSFILE")

# Off line = in a network namespace of our own, with no interface up.
if ! unshare -n true 2>/dev/null; then
	not_ok "an empty network namespace can be made (unshare -n): the off-line tests need it"
	done_testing
fi

# qfiles: the message files of the queue (not the .err notes).
qfiles() { find "$Q/msg" -maxdepth 1 -type f ! -name '*.err' 2>/dev/null | sort; }
failed_files() { find "$Q/failed" -maxdepth 1 -type f ! -name '*.err' 2>/dev/null | sort; }

# ---- --queue ------------------------------------------------------------
mark=$(unique_mark)
T_SEQ=$((T_SEQ + 1))
OUT=$T_DIR/client$T_SEQ.out ERR=$T_DIR/client$T_SEQ.err
timeout 30 unshare -n "$CLSMTPC" --queue --queue-dir "$Q" "${SUB[@]}" -F alice@example.test \
	-T "off-$mark@example.test" -s "offline $mark" "written off line" </dev/null >"$OUT" 2>"$ERR"
RC=$?
check_rc "--queue with no network exits 0" 0
check_grep "--queue says the mail was queued, and why" "not sent now \(connect: .*unreachable.*\); queued as [0-9a-f]{16}" "$ERR"
id_off=$(grep -oE 'queued as [0-9a-f]{16}' "$ERR" | cut -d' ' -f3)
msgid_off=$(sed -n 's/^message-id: //p' "$(qfiles | head -1)")
check "one queue file, private (0600)" test "$(qfiles | wc -l)" -eq 1 -a "$(stat -c %a "$(qfiles | head -1)" 2>/dev/null)" = 600
check "the queue directory is private (0700)" test "$(stat -c %a "$Q")" = 700
check_grep "the queue file names the password source, not the password" "^passfile: $PASSFILE\$" "$(qfiles | head -1)"
check_no_secret "no form of the password is in the queue" "$SASL_USER" "$PW" $(find "$Q" -type f)

run_client --queue --queue-dir "$Q" "${SUB[@]}" -F alice@example.test -T "$POSTFIX_TEMPFAIL_RCPT" \
	-s "busy $mark" "the server says 450"
check_rc "--queue with a 450 to RCPT exits 0" 0
id_busy=$(grep -oE 'queued as [0-9a-f]{16}' "$ERR" | cut -d' ' -f3)
check "the 450 message is queued too" test -n "$id_busy" -a "$(qfiles | wc -l)" -eq 2

run_client --queue --queue-dir "$Q" "${SUB[@]}" -F alice@example.test -T "$POSTFIX_REJECT_RCPT" "x"
check_rc "--queue with a 550 exits 69 (a permanent failure is not queued)" 69
check "the 550 message is not queued" test "$(qfiles | wc -l)" -eq 2

run_client --queue --queue-dir "$Q" -M localhost -P "$POSTFIX_SUBMISSION_PORT" -U "$SASL_USER" \
	-r "$PW" -F alice@example.test -T bob@example.test "x"
check_rc "--queue refuses -r (a password cannot be stored) with 64" 64
check_grep "and says what to use instead" "passwordeval" "$ERR"

run_client --list-queue --queue-dir "$Q"
check_rc "--list-queue exits 0" 0
check_grep "--list-queue shows the off-line message" "^$id_off  queued " "$OUT"
check_grep "--list-queue shows the error that queued it" "last error: .*450 4\.2\.1" "$OUT"
check_grep "--list-queue shows the Message-ID" "Message-ID: <" "$OUT"

# ---- --flush to the real Postfix ----------------------------------------------
run_client --flush --queue-dir "$Q"
check_rc "--flush with a 450 left exits 75" 75
if mail_wait "offline $mark"; then
	ok "--flush delivered the off-line message to Postfix"
	check "the delivered copy keeps the queued Message-ID" grep -qiF "Message-ID: $msgid_off" "$MAILFILE"
else
	not_ok "--flush delivered the off-line message to Postfix"
	client_diag
fi
check "the delivered message left the queue" bash -c "! ls '$Q/msg' | grep -q '^$id_off'"
check_grep "the deferred one is named with its reply" "queue $id_busy: deferred: .*450 4\.2\.1" "$ERR"
busy_name=$(basename "$(qfiles | head -1)")
check "the deferred one waits: 2 attempts, next in 2 minutes" \
	bash -c "[[ '$busy_name' =~ ^$id_busy\.q0\.2\.([0-9]+)\$ ]] && (( BASH_REMATCH[1] >= $(date +%s) + 100 ))"
run_client --flush=due --queue-dir "$Q"
check_rc "--flush=due with nothing due exits 0" 0
check "--flush=due leaves the waiting one alone" test "$(basename "$(qfiles | head -1)")" = "$busy_name"
check "--flush=due prints nothing when not on a terminal (cron)" test ! -s "$ERR"
run_client --flush due --queue-dir "$Q"
check_rc "--flush due (a separate word) is --flush=due" 0
check "and leaves the waiting one alone too" test "$(basename "$(qfiles | head -1)")" = "$busy_name"
run_client --flush now --queue-dir "$Q"
check_rc "a stray argument to a queue command is a usage error (64)" 64

run_client --drop-queued "$id_busy" --queue-dir "$Q"
check_rc "--drop-queued ID exits 0" 0
check "--drop-queued removed it" test "$(qfiles | wc -l)" -eq 0
run_client --drop-queued "$id_busy" --queue-dir "$Q"
check_rc "--drop-queued with an unknown ID exits 64" 64
run_client --flush --queue-dir "$Q"
check_rc "--flush with an empty queue exits 0" 0

# --passwordeval is run again at flush time.
mark=$(unique_mark)
printf '%s\n' "$PW" >"$T_DIR/pw"
timeout 30 unshare -n "$CLSMTPC" --queue --queue-dir "$Q" -M localhost -P "$POSTFIX_SMTPS_PORT" -Z smtps \
	"${TRUST[@]}" -U "$SASL_USER" --passwordeval "cat $T_DIR/pw" -F alice@example.test \
	-T "eval-$mark@example.test" -s "eval $mark" "x" </dev/null >/dev/null 2>"$T_DIR/eval.err"
check "an smtps message with --passwordeval is queued off line" test "$(qfiles | wc -l)" -eq 1
run_client --flush --queue-dir "$Q"
check_rc "--flush runs the password command and delivers over smtps" 0
check "and Postfix has it" mail_wait "eval $mark"

# An account with "queue on-tempfail" queues without --queue; the queue file
# names the account and the configuration it came from.
mark=$(unique_mark)
cat >"$T_DIR/config" <<EOF
account offline
host localhost
port $POSTFIX_SUBMISSION_PORT
tls_trust_file $FIXTURE_CA
auth plain
user $SASL_USER
passwordeval cat $T_DIR/pw
from alice@example.test
queue on-tempfail
EOF
chmod 600 "$T_DIR/config"
timeout 30 unshare -n "$CLSMTPC" --queue-dir "$Q" -C "$T_DIR/config" -a offline \
	-T "acct-$mark@example.test" -s "account $mark" "x" </dev/null >/dev/null 2>"$T_DIR/acct.err"
check "an account with queue on-tempfail queues when off line" test "$(qfiles | wc -l)" -eq 1
check_grep "the queue file names the account" "^account: offline\$" "$(qfiles | head -1)"
check_grep "and the configuration file" "^config: $T_DIR/config\$" "$(qfiles | head -1)"
run_client --flush --queue-dir "$Q"
check_rc "--flush sends the account's message" 0
check "and Postfix has it" mail_wait "account $mark"

# ---- one session for many messages (scripted server) ----------------------------
port=$(free_port)
for i in 1 2 3 4 5; do
	run_client --queue --queue-dir "$Q" -M 127.0.0.1 -P "$port" -Z none -F a@example.test \
		-T "b$i@example.test" -s "batch $i" "batch body $i"
done
check "5 messages queued while the port was closed (refused = temporary)" test "$(qfiles | wc -l)" -eq 5
start_scripted '{"capabilities": ["PIPELINING", "8BITMIME", "SIZE 10485760", "CHUNKING"]}' \
	--port "$port" --connections 1
run_client --flush --queue-dir "$Q"
stop_scripted
check_rc "--flush of 5 messages exits 0" 0
check "the 5 messages went over one connection" test "$(grep -c '^\* connect' "$SCRIPTED_TRANSCRIPT")" -eq 1
check "the server accepted 5 messages" test "$(scripted_accepted)" -eq 5
check "5 transactions back to back, no RSET, one QUIT" \
	test "$(scripted_client_lines | grep -c "^MAIL FROM")" -eq 5 \
	-a "$(scripted_client_lines | grep -c "^RSET")" -eq 0 \
	-a "$(scripted_client_lines | grep -c "^QUIT")" -eq 1
check "the queue is empty afterwards" test "$(qfiles | wc -l)" -eq 0

# ---- 5xx at flush time: failed/, not retried ---------------------------------------
port=$(free_port)
run_client --queue --queue-dir "$Q" -M 127.0.0.1 -P "$port" -Z none -F a@example.test \
	-T gone@example.test -s "to fail" "x"
id_fail=$(grep -oE 'queued as [0-9a-f]{16}' "$ERR" | cut -d' ' -f3)
start_scripted '{"replies": {"rcpt": "550 5.1.1 No such user"}}' --port "$port"
run_client --flush --queue-dir "$Q"
stop_scripted
check_rc "--flush with a 550 exits 69" 69
check "the rejected message is in failed/" test "$(failed_files)" = "$Q/failed/$id_fail"
check_grep "failed/ID.err holds the reply" "550 5\.1\.1 No such user" "$Q/failed/$id_fail.err"
run_client --list-queue --queue-dir "$Q"
check_grep "--list-queue shows it as failed, with the reason" "^$id_fail  failed " "$OUT"
run_client --flush --queue-dir "$Q"
check_rc "a failed message is not retried (--flush exits 0)" 0
run_client --drop-queued "$id_fail" --queue-dir "$Q"
check "--drop-queued removes a failed message too" test -z "$(failed_files)"

# ---- the lock, and the directory check -----------------------------------------------
port=$(free_port)
run_client --queue --queue-dir "$Q" -M 127.0.0.1 -P "$port" -Z none -F a@example.test -T l@example.test "x"
# This shell holds the lock as a running flush would.
exec 9>>"$Q/lock"
flock -n 9
run_client --flush --queue-dir "$Q"
exec 9>&-
check_rc "--flush while another holds the lock exits 75" 75
check_grep "and says another flush is running" "another clsmtpc is flushing" "$ERR"
check "and did not touch the message" test "$(qfiles | wc -l)" -eq 1

chmod 777 "$Q"
run_client --flush --queue-dir "$Q"
check_rc "a queue directory writable by others is refused (78)" 78
chmod 700 "$Q"

# ---- the progress line, on a terminal only ---------------------------------------------
if command -v script >/dev/null; then
	start_scripted '{}' --port "$port"
	script -qec "$CLSMTPC --flush --queue-dir '$Q'" /dev/null >"$T_DIR/tty.out" 2>&1
	stop_scripted
	check_grep "on a terminal, --flush shows a summary" "flush: 1 sent" "$T_DIR/tty.out"
	check_grep "on a terminal, --flush shows its progress" "flush: 1/1: 1 sent" "$T_DIR/tty.out"
fi

done_testing
