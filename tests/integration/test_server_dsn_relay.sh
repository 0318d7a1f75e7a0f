#!/usr/bin/env bash
# test_server_dsn_relay.sh - clsmtpd passes the RFC 3461 parameters it took
# (RET=, ENVID= on MAIL; NOTIFY=, ORCPT= on RCPT) on to the smarthost: a
# scripted server that offers DSN records them unchanged; one that does not
# gets the mail without them (4.1: dropped, not failed); and the real test
# Postfix, given NOTIFY=SUCCESS, answers with a success report that carries
# the ENVID, the ORCPT and only the headers (RET=HDRS). clsmtpd's own success
# notices (RFC 3461 6.2.2): "delivered" for a local delivery with
# NOTIFY=SUCCESS, "relayed" for a smarthost without DSN, none for one with
# DSN (it takes over) nor for NOTIFY=FAILURE or NEVER.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server_lib.sh"

srv_require

# submit MARK MAILOPTS RCPT[|RCPTOPTS]...: one transaction from
# alice@example.org on the plain port (127.0.0.2 is trusted: it may relay);
# options are space-separated. Prints the queue ID.
submit() {
	local mark=$1 mopts=$2 t args=()
	shift 2
	for t in "$@"; do args+=(--to "$t"); done
	srv_submit --ehlo dsn-relay.example --subject "$mark" --mail-opts "$mopts" "${args[@]}"
}

# relay_to PORT: (re)start clsmtpd with a plain smarthost at PORT.
relay_to() {
	srv_stop
	srv_config "smarthost 127.0.0.1:$1
smarthost_tls none
retry_min 1s
retry_max 1s
relay_timeout 10s"
	srv_start
}

# report_wait QID: a success notice about QID in alice's Maildir (the
# sender's; 10 s at most). Sets REPORT.
report_wait() {
	srv_mail_wait alice "X-Clsmtpd-Queue-ID: $1" && REPORT=$SRV_MAILFILE
}

# no_report QID: no success notice about QID was queued (it would have been
# logged before the recipient's status=sent line), and none reaches alice's
# Maildir within 3 s.
no_report() {
	if grep -q -- "$1: sender delivery status notification" "$SRV_DIR/log"; then
		diag "$(grep -- "$1: sender delivery status notification" "$SRV_DIR/log")"
		return 1
	fi
	! srv_mail_wait alice "X-Clsmtpd-Queue-ID: $1" 3
}

# report_problems FILE ACTION FINAL ORIGINAL ENVID [ABSENT]: what is wrong
# with the success notice in FILE (nothing printed: it is right). One
# recipient block, for FINAL, with ACTION, Status 2.0.0 and ORIGINAL as its
# Original-Recipient; the ENVID; only the original's headers; ABSENT named
# nowhere in the report part.
report_problems() {
	"$PYTHON" - "$@" <<'PY'
import email, email.policy, sys
f, action, final, orig, envid = sys.argv[1:6]
absent = sys.argv[6] if len(sys.argv) > 6 else None
m = email.message_from_binary_file(open(f, "rb"), policy=email.policy.default)
bad = []
if m["From"] is None or "MAILER-DAEMON@" not in str(m["From"]):
    bad.append("From %s" % m["From"])
if m.get_content_type() != "multipart/report":
    bad.append("type %s" % m.get_content_type())
ds = [p for p in m.walk() if p.get_content_type() == "message/delivery-status"]
if not ds:
    bad.append("no delivery-status part")
else:
    blocks = ds[0].get_payload()
    if str(blocks[0].get("Original-Envelope-Id")) != envid:
        bad.append("Original-Envelope-Id %s" % blocks[0].get("Original-Envelope-Id"))
    rcpts = blocks[1:]
    if len(rcpts) != 1:
        bad.append("%d recipient blocks" % len(rcpts))
    else:
        pr = rcpts[0]
        if str(pr.get("Final-Recipient")) != "rfc822; " + final:
            bad.append("Final-Recipient %s" % pr.get("Final-Recipient"))
        if str(pr.get("Original-Recipient")) != "rfc822; " + orig:
            bad.append("Original-Recipient %s" % pr.get("Original-Recipient"))
        if pr.get("Action") != action:
            bad.append("Action %s" % pr.get("Action"))
        if pr.get("Status") != "2.0.0":
            bad.append("Status %s" % pr.get("Status"))
    if absent and absent in ds[0].as_string():
        bad.append("%s is in the report" % absent)
types = [p.get_content_type() for p in m.walk()]
if "text/rfc822-headers" not in types:
    bad.append("no headers-only part (RET=HDRS): %s" % types)
if b"body of " in open(f, "rb").read():
    bad.append("the original's body is in the report")
print("; ".join(bad))
PY
}

# check_report NAME QID ARGS...: the success notice about QID arrives and
# report_problems finds nothing wrong with it.
check_report() {
	local name=$1 qid=$2 bad
	shift 2
	if ! report_wait "$qid"; then
		not_ok "$name" "no notice about $qid in alice's Maildir"
		grep -F -- "$qid" "$SRV_DIR/log" | tail -n 10 | while IFS= read -r l; do diag "$l"; done
		return
	fi
	bad=$(report_problems "$REPORT" "$@")
	if [ -z "$bad" ]; then
		ok "$name"
	else
		not_ok "$name" "$bad"
		diag_file "$REPORT" 60
	fi
}

# client_line EXACT: the scripted server received exactly this line.
client_line() {
	scripted_client_lines | grep -qxF -- "$1"
}

srv_users || not_ok "clsmtpd passwd creates the users file"
BASE='"PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES", "SIZE 10485760"'

# ---- a smarthost that offers DSN: the parameters arrive unchanged ------------
start_scripted "{\"capabilities\": [$BASE, \"DSN\"]}" --connections 2 ||
	not_ok "scripted server starts"
relay_to "$SCRIPTED_PORT" || not_ok "clsmtpd starts"
mark=$(unique_mark)
qid=$(submit "$mark" "RET=HDRS ENVID=env+2B$mark" \
	"a-$mark@remote.test|NOTIFY=SUCCESS,DELAY ORCPT=rfc822;orig+2B$mark@remote.test" \
	"b-$mark@remote.test")
check "a message with DSN parameters is queued" test -n "$qid"
check "... and relayed" srv_log_wait "$qid: to=<b-$mark@remote.test>, relay=.*status=sent"
check "a smarthost that offers DSN takes over: no success notice from us (NOTIFY=SUCCESS)" \
	no_report "$qid"
# A keyword inside the ENVID is not a parameter: no SMTPUTF8 for a server
# that does not offer it (the message would be refused).
mark2=$(unique_mark)
qid2=$(submit "$mark2" "ENVID=SMTPUTF8.BODY+3D8BITMIME.$mark2" "$mark2@remote.test|NOTIFY=NEVER")
check "an ENVID that holds SMTPUTF8 is relayed as any other" \
	srv_log_wait "$qid2: to=<$mark2@remote.test>, relay=.*status=sent"
stop_scripted
check "the smarthost received RET=HDRS and the ENVID on MAIL FROM" \
	client_line "MAIL FROM:<alice@example.org> SIZE=$(stat -c %s "$SCRIPTED_MSGS/msg-1.eml") RET=HDRS ENVID=env+2B$mark"
check "... NOTIFY=SUCCESS,DELAY and the ORCPT on the first RCPT TO" \
	client_line "RCPT TO:<a-$mark@remote.test> NOTIFY=SUCCESS,DELAY ORCPT=rfc822;orig+2B$mark@remote.test"
check "... nothing on the recipient that had none" client_line "RCPT TO:<b-$mark@remote.test>"
check "... the second message's ENVID as it was, no SMTPUTF8 nor BODY parameter" \
	client_line "MAIL FROM:<alice@example.org> SIZE=$(stat -c %s "$SCRIPTED_MSGS/msg-2.eml") ENVID=SMTPUTF8.BODY+3D8BITMIME.$mark2"
check "... and its NOTIFY=NEVER" client_line "RCPT TO:<$mark2@remote.test> NOTIFY=NEVER"
check "both messages were accepted once" test "$(scripted_accepted)" -eq 2

# ---- a smarthost without DSN: relayed, the parameters dropped ---------------
start_scripted "{\"capabilities\": [$BASE]}" || not_ok "scripted server starts"
relay_to "$SCRIPTED_PORT" || not_ok "clsmtpd starts"
mark=$(unique_mark)
qid=$(submit "$mark" "RET=HDRS ENVID=env+2B$mark" \
	"a-$mark@remote.test|NOTIFY=SUCCESS,DELAY ORCPT=rfc822;orig+2B$mark@remote.test" \
	"b-$mark@remote.test")
check "without DSN at the smarthost the mail is still relayed" \
	srv_log_wait "$qid: to=<a-$mark@remote.test>, relay=.*status=sent"
check_report "... and the sender gets a \"relayed\" notice for the NOTIFY=SUCCESS recipient only" \
	"$qid" relayed "a-$mark@remote.test" "orig+$mark@remote.test" "env+$mark" "b-$mark@"
check "... queued as one notice" \
	test "$(grep -c -- "$qid: sender delivery status notification" "$SRV_DIR/log")" -eq 1
stop_scripted
check "the smarthost accepted it once" test "$(scripted_accepted)" -eq 1
check "MAIL FROM carries no RET nor ENVID" \
	client_line "MAIL FROM:<alice@example.org> SIZE=$(stat -c %s "$SCRIPTED_MSGS/msg-1.eml")"
check "RCPT TO carries no NOTIFY nor ORCPT" client_line "RCPT TO:<a-$mark@remote.test>"
check_no_grep "no DSN parameter anywhere in what it received" 'RET=|ENVID=|NOTIFY=|ORCPT=' "$SCRIPTED_TRANSCRIPT"

# ---- NOTIFY=FAILURE only, to a smarthost without DSN: no success notice -----
start_scripted "{\"capabilities\": [$BASE]}" || not_ok "scripted server starts"
relay_to "$SCRIPTED_PORT" || not_ok "clsmtpd starts"
mark=$(unique_mark)
qid=$(submit "$mark" "" "f-$mark@remote.test|NOTIFY=FAILURE")
check "NOTIFY=FAILURE: relayed to a smarthost without DSN" \
	srv_log_wait "$qid: to=<f-$mark@remote.test>, relay=.*status=sent"
check "... and no success notice" no_report "$qid"
stop_scripted

# ---- local delivery: a "delivered" notice for NOTIFY=SUCCESS ----------------
mark=$(unique_mark)
qid=$(submit "$mark" "RET=HDRS ENVID=loc+2B$mark" \
	"bob@example.org|NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;bobby+2B$mark@example.org" \
	"postmaster@example.org|NOTIFY=FAILURE")
check "NOTIFY=SUCCESS: delivered into bob's Maildir" srv_mail_wait bob "$mark"
check_report "... and the sender gets a \"delivered\" notice naming bob only" \
	"$qid" delivered "bob@example.org" "bobby+$mark@example.org" "loc+$mark" "postmaster@"
check "... queued as one notice" \
	test "$(grep -c -- "$qid: sender delivery status notification" "$SRV_DIR/log")" -eq 1
mark=$(unique_mark)
qid=$(submit "$mark" "" "bob@example.org|NOTIFY=FAILURE")
check "NOTIFY=FAILURE: delivered into bob's Maildir" srv_mail_wait bob "$mark"
check "... and no success notice" no_report "$qid"
mark=$(unique_mark)
qid=$(submit "$mark" "" "bob@example.org|NOTIFY=NEVER")
check "NOTIFY=NEVER: delivered into bob's Maildir" srv_mail_wait bob "$mark"
check "... and no success notice" no_report "$qid"

# ---- the real Postfix (it offers DSN): its success report shows them --------
srv_stop
SECRET=$SRV_DIR/relay.secret
(umask 077 && printf '%s\n' "$SASL_PASSWORD" >"$SECRET")
srv_config "smarthost 127.0.0.1:$POSTFIX_SMTPS_PORT
smarthost_tls smtps
smarthost_user $SASL_USER
smarthost_password_file $SECRET
smarthost_ca $FIXTURE_CA
retry_min 1s
retry_max 2s"
srv_start || not_ok "clsmtpd starts with Postfix as the smarthost"
mark=$(unique_mark)
qid=$(submit "$mark" "RET=HDRS ENVID=env+2B$mark" \
	"dsn-$mark@example.test|NOTIFY=SUCCESS ORCPT=rfc822;orig+2B$mark@example.test")
check "relayed to Postfix" srv_log_wait "$qid: to=<dsn-$mark@example.test>, relay=.*status=sent" 15
check "Postfix offers DSN: no success notice from us" no_report "$qid"
# Postfix sends alice@example.org (its Maildir takes every domain) a
# "delivered" report that names the envelope ID.
report=
for ((i = 0; i < 150; i++)); do
	report=$(grep -l "^Original-Envelope-Id: env+$mark" "$POSTFIX_MAILDIR"/new/* 2>/dev/null | head -n1)
	[ -n "$report" ] && break
	sleep 0.1
done
if [ -n "$report" ]; then
	ok "Postfix's success report carries the ENVID (decoded from xtext)"
	bad=$("$PYTHON" - "$report" "$mark" <<'PY'
import email, email.policy, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
mark = sys.argv[2]
bad = []
ds = [p for p in m.walk() if p.get_content_type() == "message/delivery-status"]
if not ds:
    bad.append("no delivery-status part")
else:
    blocks = ds[0].get_payload()
    pr = blocks[1] if len(blocks) > 1 else {}
    if pr.get("Action") != "delivered":
        bad.append("Action %s" % pr.get("Action"))
    orig = str(pr.get("Original-Recipient", "")).replace(" ", "")
    if orig.lower() not in ("rfc822;orig+%s@example.test" % mark, "rfc822;orig+2b%s@example.test" % mark):
        bad.append("Original-Recipient %s" % pr.get("Original-Recipient"))
types = [p.get_content_type() for p in m.walk()]
if "text/rfc822-headers" not in types:
    bad.append("no headers-only part (RET=HDRS): %s" % types)
print("; ".join(bad))
PY
)
	if [ -z "$bad" ]; then
		ok "... it reports the ORCPT, Action: delivered, and only the headers (RET=HDRS)"
	else
		not_ok "... it reports the ORCPT, Action: delivered, and only the headers (RET=HDRS)" "$bad"
		diag_file "$report" 60
	fi
else
	not_ok "Postfix's success report carries the ENVID (decoded from xtext)"
	grep -F "$mark" "$POSTFIX_MAILLOG" | tail -n 10 | while IFS= read -r l; do diag "$l"; done
fi

done_testing
