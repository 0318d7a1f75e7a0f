#!/usr/bin/env bash
# test_tls.sh - certificate verification and the TLS modes: the test CA is
# untrusted unless --tls-trust-file names it, wrong-name, expired and
# self-signed certificates fail, --tls-certcheck=off and --tls-fingerprint
# work, and a failed or missing TLS never falls back to plaintext.
. "$(dirname "$0")/lib.sh"
require_client

LOGIN=(-U "$SASL_USER" -A auto -r "$PW")

# Without --tls-trust-file the test CA is not trusted (system store only).
for mode in starttls smtps; do
	if [ $mode = smtps ]; then args=(-Z smtps -P "$POSTFIX_SMTPS_PORT"); else args=(-Z tls -P "$POSTFIX_SUBMISSION_PORT"); fi
	mark=$(unique_mark)
	run_client -v "${args[@]}" -M localhost "${LOGIN[@]}" -F "untrusted-$mark@example.test" \
		-T "untrusted-$mark@example.test" "x"
	check "untrusted CA over $mode fails" test "$RC" -ne 0
	check_rc "untrusted CA over $mode is not a temporary failure" 69 74 76 77 78
	check_grep "untrusted CA over $mode: the error names TLS or the certificate" '(TLS|[Cc]ertificate|verif)' "$ERR"
	check_no_grep "untrusted CA over $mode: no AUTH, no MAIL after the failed handshake" '>: (AUTH|MAIL)' "$ERR"
	check_no_secret "untrusted CA over $mode: no password form anywhere" "$SASL_USER" "$PW" "$ERR"
done

# Without -Z, STARTTLS is used when offered; a failed verification must not
# fall back to the plaintext session (nor reconnect without TLS). Seen from
# the server: nothing after the handshake, and at most one connection.
start_scripted "{\"capabilities\": [\"PIPELINING\", \"STARTTLS\", \"AUTH PLAIN LOGIN\"],
	\"cert\": \"$FIXTURE_SELFSIGNED_CERT\", \"key\": \"$FIXTURE_SELFSIGNED_KEY\"}" --connections 2
run_client -M localhost -P "$SCRIPTED_PORT" "${TRUST[@]}" "${LOGIN[@]}" -F a@example.test -T b@example.test "x"
stop_scripted
check "self-signed STARTTLS certificate (no -Z) fails" test "$RC" -ne 0
check "no plaintext fallback after a failed STARTTLS verification" \
	bash -c "! grep -aqE '^(MAIL|RCPT|AUTH|DATA|BDAT)' '$SCRIPTED_LOG'"
check "no second connection after a failed STARTTLS verification" \
	test "$(grep -c '^\* connect' "$SCRIPTED_TRANSCRIPT")" -le 1
check_no_secret "failed STARTTLS: the password never reached the server" "$SASL_USER" "$PW" "$SCRIPTED_LOG"

# Certificates signed by the trusted CA but wrong: a wrong name, expired.
for kind in wrongname expired; do
	if [ $kind = wrongname ]; then
		cert=$FIXTURE_WRONGNAME_CERT key=$FIXTURE_WRONGNAME_KEY
	else
		cert=$FIXTURE_EXPIRED_CERT key=$FIXTURE_EXPIRED_KEY
	fi
	start_scripted "{\"implicit_tls\": true, \"capabilities\": [\"AUTH PLAIN\"], \"cert\": \"$cert\", \"key\": \"$key\"}"
	run_client -Z smtps -M localhost -P "$SCRIPTED_PORT" "${TRUST[@]}" "${LOGIN[@]}" -F a@example.test -T b@example.test "x"
	stop_scripted
	check "$kind certificate (trusted CA) fails" test "$RC" -ne 0
	check_grep "$kind certificate: the error names TLS or the certificate" '(TLS|[Cc]ertificate|verif|name|expired)' "$ERR"
	check "$kind certificate: no AUTH or MAIL reached the server" \
		bash -c "! grep -aqE '^(MAIL|RCPT|AUTH)' '$SCRIPTED_LOG'"

	# The same with -Z tls (STARTTLS).
	start_scripted "{\"capabilities\": [\"STARTTLS\"], \"capabilities_tls\": [\"AUTH PLAIN\"], \"cert\": \"$cert\", \"key\": \"$key\"}"
	run_client -Z tls -M localhost -P "$SCRIPTED_PORT" "${TRUST[@]}" "${LOGIN[@]}" -F a@example.test -T b@example.test "x"
	stop_scripted
	check "$kind certificate over STARTTLS fails" test "$RC" -ne 0
	check "$kind certificate over STARTTLS: no AUTH or MAIL reached the server" \
		bash -c "! grep -aqE '^(MAIL|RCPT|AUTH)' '$SCRIPTED_LOG'"
done

# --tls-certcheck=off accepts the wrong-name certificate.
start_scripted "{\"implicit_tls\": true, \"capabilities\": [\"AUTH PLAIN\"], \"cert\": \"$FIXTURE_WRONGNAME_CERT\", \"key\": \"$FIXTURE_WRONGNAME_KEY\"}"
run_client -Z smtps -M localhost -P "$SCRIPTED_PORT" --tls-certcheck=off "${LOGIN[@]}" -F a@example.test -T b@example.test "x"
stop_scripted
check_rc "--tls-certcheck=off accepts a wrong-name certificate" 0
check "--tls-certcheck=off: the message was accepted" test "$(scripted_accepted)" -eq 1

# --tls-certcheck=off against Postfix without the CA.
mark=$(unique_mark)
run_client -Z smtps -P "$POSTFIX_SMTPS_PORT" -M localhost --tls-certcheck=off "${LOGIN[@]}" \
	-F alice@example.test -T "certoff-$mark@example.test" "x"
check_rc "--tls-certcheck=off against Postfix without the CA exits 0" 0
check "--tls-certcheck=off is delivered" mail_wait "certoff-$mark@example.test"

# --tls-fingerprint pins the server certificate, without the CA: msmtp's
# colon-separated form and plain hex.
for form in colon hex; do
	if [ $form = colon ]; then fp=$FIXTURE_CERT_SHA256; else fp=$FIXTURE_CERT_SHA256_HEX; fi
	mark=$(unique_mark)
	run_client -Z smtps -P "$POSTFIX_SMTPS_PORT" -M localhost --tls-fingerprint "$fp" "${LOGIN[@]}" \
		-F alice@example.test -T "fp-$form-$mark@example.test" "x"
	check_rc "--tls-fingerprint ($form form) matching the certificate exits 0" 0
	check "--tls-fingerprint ($form form) is delivered" mail_wait "fp-$form-$mark@example.test"
done
mark=$(unique_mark)
run_client -P "$POSTFIX_SUBMISSION_PORT" -M localhost --tls-fingerprint "$FIXTURE_CERT_SHA256" "${LOGIN[@]}" \
	-F alice@example.test -T "fp-starttls-$mark@example.test" "x"
check_rc "--tls-fingerprint over STARTTLS exits 0" 0

wrongfp=$(printf '%s' "$FIXTURE_CERT_SHA256_HEX" | tr '0-9a-f' '1-9a-f0')
mark=$(unique_mark)
run_client -v -Z smtps -P "$POSTFIX_SMTPS_PORT" -M localhost --tls-fingerprint "$wrongfp" "${TRUST[@]}" "${LOGIN[@]}" \
	-F "wrongfp-$mark@example.test" -T "wrongfp-$mark@example.test" "x"
check "--tls-fingerprint not matching fails (even with the CA trusted)" test "$RC" -ne 0
check_no_grep "--tls-fingerprint not matching: no AUTH sent" '>: AUTH' "$ERR"

# The self-signed certificate is accepted when pinned by its fingerprint.
selfsigned_fp=$(openssl x509 -in "$FIXTURE_SELFSIGNED_CERT" -noout -fingerprint -sha256 | sed 's/^.*=//')
start_scripted "{\"implicit_tls\": true, \"capabilities\": [\"AUTH PLAIN\"], \"cert\": \"$FIXTURE_SELFSIGNED_CERT\", \"key\": \"$FIXTURE_SELFSIGNED_KEY\"}"
run_client -Z smtps -M localhost -P "$SCRIPTED_PORT" --tls-fingerprint "$selfsigned_fp" "${LOGIN[@]}" -F a@example.test -T b@example.test "x"
stop_scripted
check_rc "--tls-fingerprint accepts a pinned self-signed certificate" 0

# -Z tls where STARTTLS is not offered (Postfix's plain port): 69, no MAIL.
run_client -v -Z tls -P "$POSTFIX_SMTP_PORT" -M 127.0.0.1 -F a@example.test -T b@example.test "x"
check_rc "-Z tls where STARTTLS is not offered exits 69" 69
check_no_grep "-Z tls without STARTTLS: no MAIL sent in clear" '>: (MAIL|RCPT|AUTH)' "$ERR"

done_testing
