#!/usr/bin/env bash
# test_fixtures.sh - the test world itself, checked with other clients
# (swaks, msmtp) so that a broken fixture is not mistaken for a clsmtpc bug:
# the Postfix ports, Cyrus SASL mechanisms, Maildir delivery, relay policy,
# and the scripted server's basic session.
. "$(dirname "$0")/lib.sh"

# swaks_send NAME MARK ARGS...: one swaks session; ok if exit 0 and the
# message (marked in its recipient) reaches the Maildir.
swaks_send() {
	local name=$1 mark=$2
	shift 2
	if swaks --server localhost --from alice@example.test --to "fx-$mark@example.test" \
		--header "Subject: fixture $mark" --body "fixture check" "$@" >"$T_DIR/swaks.out" 2>&1 &&
		mail_wait "fx-$mark@example.test"; then
		ok "$name"
		rm -f "$T_DIR/swaks.out" # it holds the AUTH secrets
	else
		not_ok "$name"
		diag_file "$T_DIR/swaks.out" 15
	fi
}

# msmtp_send NAME MARK ARGS...: the same with msmtp.
msmtp_send() {
	local name=$1 mark=$2
	shift 2
	if printf 'Subject: fixture %s\n\nfixture check\n' "$mark" |
		msmtp --host=localhost --tls-trust-file="$FIXTURE_CA" --user="$SASL_USER" \
			--passwordeval="printf '%s\\n' '$SASL_PASSWORD'" --from=alice@example.test "$@" \
			"fx-$mark@example.test" >"$T_DIR/msmtp.out" 2>&1 &&
		mail_wait "fx-$mark@example.test"; then
		ok "$name"
	else
		not_ok "$name"
		diag_file "$T_DIR/msmtp.out" 15
	fi
}

swaks_send "swaks: submission, STARTTLS + AUTH PLAIN, delivered" "$(unique_mark)" \
	--port "$POSTFIX_SUBMISSION_PORT" --tls --tls-ca-path "$FIXTURE_CA" --tls-verify \
	--auth PLAIN --auth-user "$SASL_USER" --auth-password "$SASL_PASSWORD"
swaks_send "swaks: submission, STARTTLS + AUTH CRAM-MD5, delivered" "$(unique_mark)" \
	--port "$POSTFIX_SUBMISSION_PORT" --tls --tls-ca-path "$FIXTURE_CA" --tls-verify \
	--auth CRAM-MD5 --auth-user "$SASL_USER" --auth-password "$SASL_PASSWORD"
swaks_send "swaks: smtps + AUTH LOGIN, delivered" "$(unique_mark)" \
	--port "$POSTFIX_SMTPS_PORT" --tlsc --tls-ca-path "$FIXTURE_CA" --tls-verify \
	--auth LOGIN --auth-user "$SASL_USER" --auth-password "$SASL_PASSWORD"
swaks_send "swaks: plain port, local domain without AUTH, delivered" "$(unique_mark)" \
	--port "$POSTFIX_SMTP_PORT"

msmtp_send "msmtp: submission, STARTTLS + SCRAM-SHA-256, delivered" "$(unique_mark)" \
	--port="$POSTFIX_SUBMISSION_PORT" --tls=on --auth=scram-sha-256
msmtp_send "msmtp: smtps + SCRAM-SHA-1, delivered" "$(unique_mark)" \
	--port="$POSTFIX_SMTPS_PORT" --tls=on --tls-starttls=off --auth=scram-sha-1
msmtp_send "msmtp: smtps without CHUNKING + DIGEST-MD5, delivered" "$(unique_mark)" \
	--port="$POSTFIX_SMTPS_NOCHUNK_PORT" --tls=on --tls-starttls=off --auth=digest-md5

swaks --server 127.0.0.1 --port "$POSTFIX_SMTP_PORT" --from a@example.test --to x@example.org \
	--quit-after RCPT >"$T_DIR/relay.out" 2>&1
check_grep "plain port: relay to another domain is denied" '554 5\.7\.1 .*Relay access denied' "$T_DIR/relay.out"
swaks --server localhost --port "$POSTFIX_SUBMISSION_PORT" --tls --tls-ca-path "$FIXTURE_CA" \
	--from a@example.test --to x@example.test --quit-after RCPT >"$T_DIR/noauth.out" 2>&1
check_grep "submission: mail without AUTH is refused" '<~\* 554 ' "$T_DIR/noauth.out"
swaks --server localhost --port "$POSTFIX_SUBMISSION_PORT" --quit-after EHLO >"$T_DIR/ehlo.out" 2>&1
check_no_grep "submission: no AUTH offered before STARTTLS" '250[ -]AUTH' "$T_DIR/ehlo.out"
check_grep "submission: STARTTLS offered" '250[ -]STARTTLS' "$T_DIR/ehlo.out"
check_grep "submission: CHUNKING offered" '250[ -]CHUNKING' "$T_DIR/ehlo.out"
swaks --server localhost --port "$POSTFIX_SMTPS_NOCHUNK_PORT" --tlsc --tls-ca-path "$FIXTURE_CA" \
	--quit-after EHLO >"$T_DIR/nochunk.out" 2>&1
check_no_grep "smtps without CHUNKING: no CHUNKING offered" '250[ -]CHUNKING' "$T_DIR/nochunk.out"
check_grep "smtps without CHUNKING: PIPELINING offered" '250[ -]PIPELINING' "$T_DIR/nochunk.out"
check_grep "smtps: every SASL mechanism offered" \
	'250[ -]AUTH PLAIN LOGIN CRAM-MD5 DIGEST-MD5 SCRAM-SHA-1 SCRAM-SHA-256$' "$T_DIR/nochunk.out"

# The scripted server: a plain session, and its STARTTLS injection.
start_scripted '{"capabilities": ["PIPELINING", "STARTTLS", "AUTH PLAIN"], "require_auth": true}'
printf 'Subject: scripted\n\n.dot\nbody\n' | msmtp --host=localhost --port="$SCRIPTED_PORT" --tls=on \
	--tls-trust-file="$FIXTURE_CA" --auth=plain --user=alice --passwordeval="echo $SASL_PASSWORD" \
	--from=a@example.test b@example.test >"$T_DIR/m1.out" 2>&1
rc=$?
stop_scripted
check "scripted server: msmtp STARTTLS + PLAIN session succeeds" test $rc -eq 0
check "scripted server: the message is stored dot-unstuffed" grep -qx $'.dot\r' "$SCRIPTED_MSGS/msg-1.eml"
check "scripted server: the byte log holds the dot-stuffed line" grep -aqx $'..dot\r' "$SCRIPTED_LOG"
check "scripted server: close_notify recorded" grep -q '^\* close-notify' "$SCRIPTED_TRANSCRIPT"

start_scripted '{"capabilities": ["STARTTLS"], "starttls_inject": "250 INJECTED\r\n"}'
printf 'Subject: scripted\n\nbody\n' | msmtp --host=localhost --port="$SCRIPTED_PORT" --tls=on \
	--tls-trust-file="$FIXTURE_CA" --auth=off --from=a@example.test b@example.test >"$T_DIR/m2.out" 2>&1
stop_scripted
check "scripted server: STARTTLS injection is sent and recorded" grep -q '^\* starttls-injected 250 INJECTED' "$SCRIPTED_TRANSCRIPT"

done_testing
