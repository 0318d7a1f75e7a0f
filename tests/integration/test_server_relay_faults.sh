#!/usr/bin/env bash
# test_server_relay_faults.sh - the relay agent against a smarthost that
# misbehaves (tests/fixtures/scripted_server.py): 4xx then success on the
# next session, 5xx (a failure notice at once), a connection dropped in the
# middle of DATA, 5xx after the data, a smarthost down for a while (nothing
# listening, then a server: "clsmtpd -flush" sends the queue over one
# connection), the queue lifetime (notice with 4.4.7), and the local agent's
# failures, which now expire and bounce too.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server_lib.sh"

srv_require

# submit MARK [TO...]: from alice@example.org (trusted 127.0.0.2, plain
# port) to TO (default MARK@remote.test); prints the queue ID, or
# refused:CODE.
submit() {
	local mark=$1 t args=()
	shift
	[ $# -gt 0 ] || set -- "$mark@remote.test"
	for t in "$@"; do args+=(--to "$t"); done
	srv_submit --ehlo faults.example --subject "$mark" --refused-ok "${args[@]}" \
		--body-extra "long enough to be cut in the middle of DATA by a
scripted server that drops the connection after a few bytes
"
}

# dsn_status MARK: the Status: of the failure notice about MARK in alice's
# Maildir (empty if none arrived within 10 s).
dsn_status() {
	local i f
	for ((i = 0; i < 100; i++)); do
		f=$(grep -l "^Subject: Undelivered Mail" "$SRV_DIR/mail/alice/new/"* 2>/dev/null |
			xargs -r grep -lF -- "$1" 2>/dev/null | head -n1)
		[ -n "$f" ] && break
		sleep 0.1
	done
	[ -n "$f" ] || return 0
	"$PYTHON" - "$f" <<'PY'
import email, email.policy, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
ds = [p for p in m.walk() if p.get_content_type() == "message/delivery-status"]
print(ds[0].get_payload()[1]["Status"] if ds else "no delivery-status part")
PY
}

# relay_to PORT [EXTRA]: (re)start clsmtpd with the smarthost at PORT, no
# TLS, no AUTH, retries after 1 s.
relay_to() {
	srv_stop
	srv_config "smarthost 127.0.0.1:$1
smarthost_tls none
retry_min 1s
retry_max 1s
relay_timeout 10s
${2:-}"
	srv_start
}

CAPS='"capabilities": ["PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES", "SIZE 10485760"]'
srv_users || not_ok "clsmtpd passwd creates the users file"

# ---- 4xx, then success on the next session ------------------------------------
start_scripted "{$CAPS, \"sessions\": [{\"replies\": {\"rcpt\": \"451 4.3.0 Try again later\"}}, {}]}" \
	--connections 2 || not_ok "scripted server starts"
relay_to "$SCRIPTED_PORT" || not_ok "clsmtpd starts"
mark=$(unique_mark)
qid=$(submit "$mark")
check "451 to RCPT: deferred" srv_log_wait "$qid: to=<$mark@remote.test>, relay=.*status=deferred \\(host .* said: 451 4\\.3\\.0"
check "... then sent on the next session" srv_log_wait "$qid: to=<$mark@remote.test>, relay=.*status=sent"
stop_scripted
check "... exactly once" test "$(scripted_accepted)" -eq 1

# ---- 5xx: bounced at once, no retry ---------------------------------------------
start_scripted "{$CAPS, \"replies\": {\"rcpt\": \"550 5.1.1 No such user here\"}}" \
	--connections 2 || not_ok "scripted server starts"
relay_to "$SCRIPTED_PORT" || not_ok "clsmtpd starts"
mark=$(unique_mark)
qid=$(submit "$mark")
check "550 to RCPT: bounced at once" srv_log_wait "$qid: to=<$mark@remote.test>, relay=.*status=bounced \\(host .* said: 550 5\\.1\\.1"
st=$(dsn_status "$mark")
if [ "$st" = 5.1.1 ]; then ok "the failure notice says Status: 5.1.1"; else not_ok "the failure notice says Status: 5.1.1" "got '$st'"; fi
check "the message is removed" srv_log_wait "$qid: removed"
stop_scripted
check "no second attempt after a 5xx" test "$(grep -c '^\* connect' "$SCRIPTED_TRANSCRIPT")" -eq 1

# ---- 5xx after the data ------------------------------------------------------------
start_scripted "{$CAPS, \"replies\": {\"data_end\": \"554 5.6.0 Content refused\"}}" || not_ok "scripted server starts"
relay_to "$SCRIPTED_PORT" || not_ok "clsmtpd starts"
mark=$(unique_mark)
qid=$(submit "$mark" "a-$mark@remote.test" "b-$mark@remote.test")
check "554 after DATA bounces every recipient of the transaction" \
	srv_log_wait "$qid: to=<b-$mark@remote.test>, relay=.*status=bounced \\(host .* said: 554 5\\.6\\.0 Content refused \\(in reply to end of DATA"
st=$(dsn_status "$mark")
if [ "$st" = 5.6.0 ]; then ok "the notice says Status: 5.6.0"; else not_ok "the notice says Status: 5.6.0" "got '$st'"; fi
stop_scripted

# ---- the connection dropped in the middle of DATA -----------------------------------
start_scripted "{$CAPS, \"sessions\": [{\"data_drop_after\": 60}, {}]}" --connections 2 ||
	not_ok "scripted server starts"
relay_to "$SCRIPTED_PORT" || not_ok "clsmtpd starts"
mark=$(unique_mark)
qid=$(submit "$mark")
check "a drop in the middle of DATA defers" srv_log_wait "$qid: to=<$mark@remote.test>, relay=.*status=deferred"
check "... and the next session delivers" srv_log_wait "$qid: to=<$mark@remote.test>, relay=.*status=sent"
stop_scripted
check "the server stored the message once (the cut one was never complete)" test "$(scripted_accepted)" -eq 1
if [ -f "$SCRIPTED_MSGS/msg-1.eml" ] && grep -q "scripted server that drops" "$SCRIPTED_MSGS/msg-1.eml"; then
	ok "the message stored is the whole message"
else
	not_ok "the message stored is the whole message"
fi

# ---- a smarthost down for a while; clsmtpd -flush; one connection for all -----------
port=$(free_port)
relay_to "$port" "retry_min 1h
retry_max 2h" || not_ok "clsmtpd starts"
marks=()
for i in 1 2 3; do
	marks[i]=$(unique_mark)
	qids[i]=$(submit "${marks[i]}")
done
check "nothing listening: the three messages are deferred" \
	srv_log_wait "${qids[3]}: to=<${marks[3]}@remote.test>, relay=.*status=deferred \\(.*(refused|connect)"
"$CLSMTPD" -q -f "$SRV_CONF" >"$T_DIR/q.out" 2>&1
if [ "$(grep -c '  relay  deferred, 1 attempt, next' "$T_DIR/q.out")" -eq 3 ]; then
	ok "clsmtpd -q shows the three deferred recipients, next try in an hour"
else
	not_ok "clsmtpd -q shows the three deferred recipients"
	diag_file "$T_DIR/q.out"
fi
start_scripted "{$CAPS}" --port "$port" --connections 1 || not_ok "the smarthost comes back"
check_exit "clsmtpd -flush asks the agents to retry now" 0 "$CLSMTPD" -flush -f "$SRV_CONF"
check "after the flush the last message is sent" srv_log_wait "${qids[3]}: to=<${marks[3]}@remote.test>, relay=.*status=sent" 10
stop_scripted
check "all three are accepted by the smarthost" test "$(scripted_accepted)" -eq 3
check "... over one connection" test "$(grep -c '^\* connect' "$SCRIPTED_TRANSCRIPT")" -eq 1
check "... in the order they arrived" test "$(grep -c "Subject: ${marks[1]}" "$SCRIPTED_MSGS/msg-1.eml")" -eq 1
srv_stop
check_exit "clsmtpd -flush with no clsmtpd running exits 75" 75 "$CLSMTPD" -flush -f "$SRV_CONF"

# ---- the queue lifetime: a notice with 4.4.7 ----------------------------------------
port=$(free_port)
relay_to "$port" "queue_lifetime 2s" || not_ok "clsmtpd starts"
mark=$(unique_mark)
qid=$(submit "$mark")
check "past the queue lifetime the recipient fails" \
	srv_log_wait "$qid: to=<$mark@remote.test>, relay=.*status=bounced \\(delivery time expired after 2s" 15
st=$(dsn_status "$mark")
if [ "$st" = 4.4.7 ]; then ok "the notice says Status: 4.4.7 (delivery time expired)"; else not_ok "the notice says Status: 4.4.7" "got '$st'"; fi

# ---- the local agent: a mailbox that cannot be written expires and bounces ----------
: >"$SRV_DIR/not-a-directory"
srv_stop
srv_config "queue_lifetime 2s
mailbox broken@example.org $SRV_DIR/not-a-directory/Maildir"
srv_start || not_ok "clsmtpd starts"
mark=$(unique_mark)
qid=$(submit "$mark" broken@example.org)
check "a local delivery that fails is deferred" srv_log_wait "$qid: to=<broken@example.org>, relay=local, status=deferred"
for ((i = 0; i < 100; i++)); do
	grep -q "$qid: to=<broken@example.org>, relay=local, status=bounced" "$SRV_DIR/log" && break
	# The local agent retries every minute: ask it now, once the lifetime is over.
	[ $((i % 10)) -eq 9 ] && "$CLSMTPD" -flush -f "$SRV_CONF" >/dev/null 2>&1
	sleep 0.1
done
check "past the lifetime (and a flush) it fails instead of retrying forever" \
	srv_log_wait "$qid: to=<broken@example.org>, relay=local, status=bounced \\(delivery time expired" 1
st=$(dsn_status "$mark")
if [ "$st" = 4.4.7 ]; then ok "the sender gets a notice for the local failure too"; else not_ok "the sender gets a notice for the local failure" "got '$st'"; fi
check "the message is removed" srv_log_wait "$qid: removed"

done_testing
