#!/usr/bin/env bash
# test_queue_durability.sh - the offline queue loses nothing when a flush is
# killed (docs/queue.md, "At most one duplicate"): N messages are queued off
# line, then `clsmtpc --flush` to the real Postfix (STARTTLS + AUTH) is
# SIGKILLed at pseudo-random moments (fixed seed) and restarted, for a fixed
# number of rounds, then left to finish. Every queued message must be in
# Postfix's Maildir (found by its Message-ID) or still in the queue (msg/ or
# failed/); none may arrive more than twice. The figures are printed as TAP
# comments. Bounded: about 5 s here; every wait has a limit.
. "$(dirname "$0")/lib.sh"
require_client

# A flush here sends about one message per 2-3 ms after some 10 ms of
# start-up, TLS and AUTH: kills 5-45 ms after the start land anywhere from
# the handshake to the middle of the batch.
N=${QUEUE_KILL_MESSAGES:-100}
ROUNDS=${QUEUE_KILL_ROUNDS:-40}
MIN_DELAY_MS=5
MAX_DELAY_MS=${QUEUE_KILL_MAX_DELAY_MS:-45}
RANDOM=20241124 # the fixed seed of the kill moments

Q=$T_DIR/queue
PASSFILE=$T_DIR/passfile
printf '%s:localhost:%s\n' "$SASL_USER" "$PW" >"$PASSFILE"
chmod 600 "$PASSFILE"
if ! unshare -n true 2>/dev/null; then
	not_ok "an empty network namespace can be made (unshare -n): the test queues off line"
	done_testing
fi

queued_files() { find "$Q/msg" "$Q/failed" -maxdepth 1 -type f ! -name '*.err' 2>/dev/null; }
msg_files() { find "$Q/msg" -maxdepth 1 -type f ! -name '*.err' 2>/dev/null; }

# ---- queue N messages off line -------------------------------------------
run=$(unique_mark)
for ((i = 1; i <= N; i++)); do
	timeout 30 unshare -n "$CLSMTPC" --queue --queue-dir "$Q" -M localhost \
		-P "$POSTFIX_SUBMISSION_PORT" "${TRUST[@]}" -U "$SASL_USER" -p "$PASSFILE" \
		-F "killtest-$run@example.test" -T "k$i-$run@example.test" -s "kill test $run $i" \
		"message $i of the kill test $run" </dev/null >/dev/null 2>>"$T_DIR/queue.log"
done
check "$N messages queued off line" test "$(msg_files | wc -l)" -eq "$N"
# Their Message-IDs, to find every copy later.
msg_files | xargs sed -n 's/^message-id: //p' | sort >"$T_DIR/ids"
check "each queued message has its own Message-ID" test "$(sort -u "$T_DIR/ids" | wc -l)" -eq "$N"

# ---- flush, killed at random moments ---------------------------------------
rounds=0
killed=0
while ((rounds < ROUNDS)) && [ -n "$(msg_files)" ]; do
	rounds=$((rounds + 1))
	delay=$((MIN_DELAY_MS + RANDOM % (MAX_DELAY_MS - MIN_DELAY_MS + 1)))
	"$CLSMTPC" --flush --queue-dir "$Q" </dev/null >/dev/null 2>>"$T_DIR/flush.log" &
	pid=$!
	sleep "$(printf '0.%03d' "$delay")"
	if kill -9 "$pid" 2>/dev/null; then
		killed=$((killed + 1))
	fi
	wait "$pid" 2>/dev/null
done
# Then flushes left to finish (a 4xx would defer; none is expected here).
finish=0
while [ -n "$(msg_files)" ] && ((finish < 3)); do
	finish=$((finish + 1))
	timeout -k 2 60 "$CLSMTPC" --flush --queue-dir "$Q" </dev/null >/dev/null 2>>"$T_DIR/flush.log"
done
check "the flush was killed mid-way in some rounds" test "$killed" -gt 0
check "after the kills, unkilled flushes empty the queue" test -z "$(msg_files)"

# ---- wait until Postfix has delivered what it accepted (bounded: 20 s) -----
for ((i = 0; i < 200; i++)); do
	postqueue -c "$POSTFIX_CONFIG" -p 2>/dev/null | grep -q 'Mail queue is empty' && break
	sleep 0.1
done

# ---- count -------------------------------------------------------------------
# Every delivered copy of this run, by Message-ID.
grep -lF -- "kill test $run" "$POSTFIX_MAILDIR"/new/* 2>/dev/null |
	xargs -r grep -hi '^Message-ID:' | sed 's/^[^:]*: *//; s/\r$//' | sort | uniq -c |
	awk '{print $2, $1}' >"$T_DIR/delivered"
queued_files | xargs -r sed -n 's/^message-id: //p' | sort >"$T_DIR/still"
lost=0 dup=0 over=0 delivered=0 still=0
while read -r id; do
	n=$(awk -v id="$id" '$1 == id {print $2}' "$T_DIR/delivered")
	n=${n:-0}
	if [ "$n" -gt 0 ]; then
		delivered=$((delivered + 1))
	elif grep -qxF -- "$id" "$T_DIR/still"; then
		still=$((still + 1))
	else
		lost=$((lost + 1))
		diag "lost: $id"
	fi
	[ "$n" -eq 2 ] && dup=$((dup + 1))
	if [ "$n" -gt 2 ]; then
		over=$((over + 1))
		diag "delivered $n times: $id"
	fi
done <"$T_DIR/ids"
held=$(find "$Q/failed" -maxdepth 1 -type f ! -name '*.err' | wc -l)

diag "kill test: $N messages, $rounds flushes of which $killed were killed (SIGKILL after $MIN_DELAY_MS-$MAX_DELAY_MS ms, seed 20241124), $finish unkilled"
diag "kill test: $delivered delivered, $dup of them twice, $still still queued ($held held in failed/), $lost lost, $over more than twice"
check "no message was lost (each delivered or still queued)" test "$lost" -eq 0
check "no message was delivered more than twice" test "$over" -eq 0
check "every message was delivered or held in failed/" test $((delivered + still)) -eq "$N"
if [ "$held" -gt 0 ]; then
	check_grep "a held message says why it is not sent again" "interrupted" \
		"$(find "$Q/failed" -name '*.err' | head -1)"
fi
done_testing
