#!/usr/bin/env bash
# test_server_relay.sh - clsmtpd's relay agent against the real smarthost of
# the fixtures: Postfix over SMTPS with SMTP AUTH and a verified certificate.
# A mail submitted with clsmtpc on 587 (STARTTLS + AUTH) arrives in Postfix's
# Maildir; each recipient gets its own outcome; a 5xx gets an RFC 3464
# failure notice at once (checked with Python's email parser), never for <>
# nor against NOTIFY=NEVER; clsmtpd -q lists the queue; wrong credentials,
# an untrusted certificate and a bad password file wait or refuse to start;
# relay_mode mx with a route delivers directly.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server_lib.sh"

srv_require

# submit [--source ADDR] [--from A] --to B [--to C] [--mail-opt X] [--rcpt-opt Y]
# [--subject S]: one transaction on the plain port (submit.py); prints the
# queue ID.
submit() {
	srv_submit "$@"
}

# dsn_check FILE MARK RCPT STATUS [hdrs]: FILE is a failure notice about the
# message MARK that reports RCPT with STATUS, parsed by Python's email
# package; prints what it found wrong (nothing if all is right).
dsn_check() {
	"$PYTHON" - "$@" <<'PY'
import email, email.policy, sys
path, mark, rcpt, status = sys.argv[1:5]
hdrs = len(sys.argv) > 5
m = email.message_from_binary_file(open(path, "rb"), policy=email.policy.default)
bad = []
def want(cond, what):
    if not cond:
        bad.append(what)
want(m.get_content_type() == "multipart/report", "type %s" % m.get_content_type())
want(m.get_param("report-type") == "delivery-status", "report-type")
want("MAILER-DAEMON@" in str(m["From"]), "From: %s" % m["From"])
want(m["Auto-Submitted"] == "auto-replied", "Auto-Submitted")
parts = list(m.iter_parts())
want(len(parts) == 3, "%d parts" % len(parts))
if len(parts) == 3:
    want(parts[0].get_content_type() == "text/plain", "part 1 %s" % parts[0].get_content_type())
    want(rcpt in parts[0].get_content(), "the text names the recipient")
    ds = parts[1]
    want(ds.get_content_type() == "message/delivery-status", "part 2 %s" % ds.get_content_type())
    blocks = ds.get_payload()  # per-message fields, then one block per recipient
    want(len(blocks) == 2, "%d status blocks (want 1 recipient)" % (len(blocks) - 1))
    if len(blocks) == 2:
        pm, pr = blocks
        want(pm["Reporting-MTA"] == "dns; mx.example.test", "Reporting-MTA %s" % pm["Reporting-MTA"])
        want(pm["Arrival-Date"] is not None, "Arrival-Date")
        want(pr["Final-Recipient"] == "rfc822; " + rcpt, "Final-Recipient %s" % pr["Final-Recipient"])
        want(pr["Action"] == "failed", "Action %s" % pr["Action"])
        want(pr["Status"] == status, "Status %s" % pr["Status"])
        want(pr["Diagnostic-Code"] is not None, "Diagnostic-Code")
        for k in ("Original-Envelope-Id", "Original-Recipient", "Remote-MTA"):
            if pm[k] or pr[k]:
                print("%s: %s" % (k, pm[k] or pr[k]), file=sys.stderr)
        if status.startswith("5."):
            want(str(pr["Diagnostic-Code"]).startswith("smtp; 5"), "Diagnostic-Code %s" % pr["Diagnostic-Code"])
    orig = parts[2]
    if hdrs:
        want(orig.get_content_type() == "text/rfc822-headers", "part 3 %s" % orig.get_content_type())
        body = orig.get_payload()
        want(mark in body and "body of" not in body, "headers only")
    else:
        want(orig.get_content_type() == "message/rfc822", "part 3 %s" % orig.get_content_type())
        inner = orig.get_payload()[0]
        want(mark in str(inner["Subject"]), "the original is attached")
print("; ".join(bad))
PY
}

# dsn_wait MARK: the failure notice about MARK in alice's Maildir (DSNFILE).
dsn_wait() {
	local i
	DSNFILE=
	for ((i = 0; i < ${2:-10} * 10; i++)); do
		DSNFILE=$(grep -l "^Subject: Undelivered Mail" "$SRV_DIR/mail/alice/new/"* 2>/dev/null |
			xargs -r grep -lF -- "$1" 2>/dev/null | head -n1)
		[ -n "$DSNFILE" ] && return 0
		sleep 0.1
	done
	return 1
}

spool_empty_wait() {
	local i
	for ((i = 0; i < ${1:-10} * 10; i++)); do
		[ -z "$(ls -A "$SRV_DIR/spool/msg" 2>/dev/null)" ] && return 0
		sleep 0.1
	done
	return 1
}

srv_users || not_ok "clsmtpd passwd creates the users file"
SECRET=$SRV_DIR/relay.secret
(umask 077 && printf '%s\n' "$SASL_PASSWORD" >"$SECRET")
SMARTHOST="smarthost 127.0.0.1:$POSTFIX_SMTPS_PORT
smarthost_tls smtps
smarthost_user $SASL_USER
smarthost_password_file $SECRET
smarthost_ca $FIXTURE_CA
retry_min 1s
retry_max 2s"
srv_config "$SMARTHOST"
srv_start || { not_ok "clsmtpd starts with a smarthost"; done_testing; }
ok "clsmtpd starts with a smarthost over SMTPS with AUTH"
check_grep "the relay agent is started" 'relay agent started \(pid [0-9]+\)' "$SRV_DIR/log"

# ---- the whole path: clsmtpc -> 587 STARTTLS+AUTH -> clsmtpd -> Postfix ----
mark=$(unique_mark)
run_client -M 127.0.0.1 -P "$SRV_PORT_SUB" -Z tls --tls-trust-file "$FIXTURE_CA" -U carol \
	-r "$SRV_PW_CAROL" -F carol@example.org -T "relay-$mark@example.test" -s "relay $mark" \
	"relayed through the smarthost"
check_rc "clsmtpc submits to clsmtpd on 587 with STARTTLS and AUTH" 0
if mail_wait "$mark" 15; then
	ok "the relayed mail lands in the smarthost's Maildir"
else
	not_ok "the relayed mail lands in the smarthost's Maildir"
	diag_file "$SRV_DIR/log" 15
fi
recv=$(header Received 2>/dev/null)
case $recv in
*"with ESMTPSA"*) ok "Postfix received it over TLS, authenticated (ESMTPSA)" ;;
*) not_ok "Postfix received it over TLS, authenticated (ESMTPSA)" "Received: $recv" ;;
esac
if grep -q "(clsmtpd) with ESMTPSA" "$MAILFILE" 2>/dev/null; then
	ok "the message keeps clsmtpd's own Received: header"
else
	not_ok "the message keeps clsmtpd's own Received: header"
fi
pfid=$(sed -n "s/.*to=<relay-$mark@example.test>, relay=.*status=sent (.*queued as \([0-9A-F]*\).*/\1/p" "$SRV_DIR/log" | head -n1)
if [ -n "$pfid" ] && grep -q "$pfid: client=.*sasl_username=$SASL_USER" "$POSTFIX_MAILLOG"; then
	ok "the smarthost saw AUTH as $SASL_USER (Postfix queue ID $pfid)"
else
	not_ok "the smarthost saw AUTH as $SASL_USER" "Postfix queue ID '$pfid'"
	diag_file "$SRV_DIR/log" 10
fi
check "the spool is empty once the mail is relayed" spool_empty_wait 10
check_no_secret "the smarthost password is not in clsmtpd's log" "$SASL_USER" "$SASL_PASSWORD" "$SRV_DIR/log"

# ---- one outcome per recipient; a failure notice at once for the 5xx --------
mark=$(unique_mark)
qid=$(submit --to "$POSTFIX_REJECT_RCPT" --to "ok-$mark@example.test" --to "$POSTFIX_TEMPFAIL_RCPT" \
	--mail-opt "ENVID=env+2B$mark" --mail-opt RET=FULL \
	--rcpt-opt NOTIFY=FAILURE,DELAY --rcpt-opt "ORCPT=rfc822;orig+2B$mark@example.test" \
	--subject "$mark")
if [ -n "$qid" ]; then ok "a message for three relayed recipients is queued ($qid)"; else not_ok "a message for three relayed recipients is queued"; fi
if mail_wait "ok-$mark" 15; then ok "the accepted recipient gets the message"; else not_ok "the accepted recipient gets the message"; fi
check "the refused recipient is bounced" srv_log_wait "$qid: to=<$POSTFIX_REJECT_RCPT>, relay=.*status=bounced \\(host .* said: 550 5\\.1\\.1"
check "the busy recipient is deferred, not bounced" srv_log_wait "$qid: to=<$POSTFIX_TEMPFAIL_RCPT>, relay=.*status=deferred \\(host .* said: 450 4\\.2\\.1"
check "the notice goes from the null sender" srv_log_wait ": from=<>, size=[0-9]+, nrcpt=1 \\(failure notice about $qid\\)"
if dsn_wait "$mark"; then
	ok "the failure notice reaches the sender's mailbox"
	bad=$(dsn_check "$DSNFILE" "$mark" "$POSTFIX_REJECT_RCPT" 5.1.1 2>"$T_DIR/dsn.fields")
	if [ -z "$bad" ]; then ok "the notice is an RFC 3464 report for the one refused recipient (Python's email parser)"; else not_ok "the notice is an RFC 3464 report" "$bad"; diag_file "$DSNFILE" 60; fi
	check_grep "the notice carries the ENVID, decoded from xtext" "^Original-Envelope-Id: env\\+$mark" "$T_DIR/dsn.fields"
	check_grep "the notice carries the ORCPT, decoded from xtext" "^Original-Recipient: rfc822; orig\\+$mark@example.test" "$T_DIR/dsn.fields"
	check_grep "the notice names the smarthost (Remote-MTA)" "^Remote-MTA: dns; 127\\.0\\.0\\.1" "$T_DIR/dsn.fields"
else
	not_ok "the failure notice reaches the sender's mailbox"
	diag_file "$SRV_DIR/log" 20
fi
"$CLSMTPD" -q -f "$SRV_CONF" >"$T_DIR/q.out" 2>&1
check_grep "clsmtpd -q lists the waiting message" "^$qid  [0-9]+ bytes  .*from <alice@example.org>" "$T_DIR/q.out"
check_grep "clsmtpd -q shows the deferred recipient with its reply" "<$POSTFIX_TEMPFAIL_RCPT>  relay  deferred, [0-9]+ attempts?, next .*450 4\\.2\\.1" "$T_DIR/q.out"
check_grep "clsmtpd -q shows the delivered recipient" "<ok-$mark@example.test>  relay  delivered" "$T_DIR/q.out"
check_grep "clsmtpd -q shows the bounced recipient" "<$POSTFIX_REJECT_RCPT>  relay  bounced: failure notice queued as [0-9A-F]{20}" "$T_DIR/q.out"

# ---- no notice about a notice; none against NOTIFY=NEVER; RET=HDRS -----------
mark=$(unique_mark)
qid=$(submit --from "" --to "$POSTFIX_REJECT_RCPT" --subject "$mark")
check "a failed message from <> gets no notice (never a bounce to a bounce)" srv_log_wait "$qid: to=<$POSTFIX_REJECT_RCPT>, no failure notice: the sender is <>"
mark=$(unique_mark)
qid=$(submit --to "$POSTFIX_REJECT_RCPT" --rcpt-opt NOTIFY=NEVER --subject "$mark")
check "NOTIFY=NEVER: no notice" srv_log_wait "$qid: to=<$POSTFIX_REJECT_RCPT>, no failure notice: the recipient asked for none"
check "NOTIFY=NEVER: the message is removed" srv_log_wait "$qid: removed"
if dsn_wait "$mark" 1; then not_ok "no notice arrives for NOTIFY=NEVER"; else ok "no notice arrives for NOTIFY=NEVER"; fi
mark=$(unique_mark)
qid=$(submit --to "$POSTFIX_REJECT_RCPT" --mail-opt RET=HDRS --subject "$mark")
if dsn_wait "$mark"; then
	bad=$(dsn_check "$DSNFILE" "$mark" "$POSTFIX_REJECT_RCPT" 5.1.1 hdrs 2>/dev/null)
	if [ -z "$bad" ]; then ok "RET=HDRS: the notice returns the header section only"; else not_ok "RET=HDRS: the notice returns the header section only" "$bad"; fi
else
	not_ok "RET=HDRS: a notice arrives"
fi
qid=$(submit --to "$POSTFIX_REJECT_RCPT" --from nobody-here@example.org --subject "$(unique_mark)")
check "a notice nobody can take is dropped with a log line" srv_log_wait "$qid: to=<$POSTFIX_REJECT_RCPT>, relay=.*status=bounced"
check "... and the message is removed" srv_log_wait "$qid: removed"

srv_stop

# ---- our credentials refused: wait, never bounce ------------------------------
(umask 077 && printf 'not-the-password\n' >"$SECRET")
srv_config "$SMARTHOST"
srv_start || not_ok "clsmtpd restarts"
mark=$(unique_mark)
qid=$(submit --to "pw-$mark@example.test" --subject "$mark")
check "a refused password defers the mail" srv_log_wait "$qid: to=<pw-$mark@example.test>, relay=.*status=deferred \\(.*AUTH .*(535|authentication failed)"
check_grep "the log says our credentials were refused" "refused our credentials" "$SRV_DIR/log"
if dsn_wait "$mark" 1; then not_ok "no notice for our own credential problem"; else ok "no notice for our own credential problem"; fi
srv_stop

# ---- the certificate is verified by default -----------------------------------
srv_config "smarthost 127.0.0.1:$POSTFIX_SMTPS_PORT
smarthost_tls smtps
smarthost_user $SASL_USER
smarthost_passwordeval printf '%s\\n' '$SASL_PASSWORD'
retry_min 1s"
srv_start || not_ok "clsmtpd restarts with passwordeval"
check "the mail with the refused password is retried after the restart" srv_log_wait "$qid: to=<pw-$mark@example.test>, relay=.*status=deferred \\(.*(certificate|verif)"
ok "without smarthost_ca the test CA is not trusted: the mail waits (verification is on by default)"
srv_stop
srv_config "smarthost 127.0.0.1:$POSTFIX_SMTPS_PORT
smarthost_tls smtps
smarthost_user $SASL_USER
smarthost_passwordeval printf '%s\\n' '$SASL_PASSWORD'
smarthost_ca $FIXTURE_CA
retry_min 1s"
srv_start || not_ok "clsmtpd restarts"
if mail_wait "pw-$mark" 20; then ok "with the CA and the password from passwordeval the waiting mail is relayed"; else not_ok "with the CA and passwordeval the waiting mail is relayed"; diag_file "$SRV_DIR/log" 10; fi
check_no_secret "passwordeval's password is not in the log" "$SASL_USER" "$SASL_PASSWORD" "$SRV_DIR/log"
srv_stop

# ---- the password file must be root's alone -----------------------------------
(umask 077 && printf '%s\n' "$SASL_PASSWORD" >"$SECRET")
chmod 644 "$SECRET"
srv_config "$SMARTHOST"
check_exit "a password file readable by others stops clsmtpd -t (exit 78)" 78 "$CLSMTPD" -t -f "$SRV_CONF"
check_grep "... and says how to fix it" "chmod 600" "$T_DIR/last.err"
chmod 600 "$SECRET"
srv_config "smarthost_user someone"
check_exit "smarthost_user without a password source is a configuration error" 78 "$CLSMTPD" -t -f "$SRV_CONF"
check_grep "... naming the line" "clsmtpd.conf:[0-9]+: smarthost_user needs" "$T_DIR/last.err"
srv_config "retry_min 10m
retry_max 5m"
check_exit "retry_min longer than retry_max is refused" 78 "$CLSMTPD" -t -f "$SRV_CONF"
srv_config "queue_lifetime 5 days"
check_exit "a malformed duration names its line" 78 "$CLSMTPD" -t -f "$SRV_CONF"

# ---- relay_mode mx: direct delivery (a route stands in for DNS here) ---------
srv_config "relay_mode mx
route example.test 127.0.0.1:$POSTFIX_SMTP_PORT
retry_min 1s"
srv_start || not_ok "clsmtpd starts in mx mode"
mark=$(unique_mark)
qid=$(submit --to "mx-$mark@example.test" --subject "$mark")
if mail_wait "mx-$mark" 15; then ok "relay_mode mx delivers to the domain's host on its SMTP port"; else not_ok "relay_mode mx delivers directly"; diag_file "$SRV_DIR/log" 10; fi
recv=$(header Received 2>/dev/null)
case $recv in
*"with ESMTP id"*) ok "direct delivery does not authenticate (ESMTP, no A)" ;;
*) not_ok "direct delivery does not authenticate" "Received: $recv" ;;
esac
srv_stop

done_testing
