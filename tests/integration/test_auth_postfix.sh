#!/usr/bin/env bash
# test_auth_postfix.sh - SMTP AUTH against the real Postfix + Cyrus SASL:
# every mechanism over STARTTLS and over implicit TLS, -A auto's choice,
# wrong passwords, password files and --passwordeval, and that no transcript
# or error message ever holds the password or its base64 forms.
. "$(dirname "$0")/lib.sh"
require_client

for mech in plain login cram-md5 digest-md5 scram-sha-1 scram-sha-256; do
	MECH=$(tr 'a-z' 'A-Z' <<<"$mech")
	for mode in starttls smtps; do
		if [ $mode = smtps ]; then
			args=(-Z smtps -P "$POSTFIX_SMTPS_PORT")
			enc=smtps
		else
			args=(-P "$POSTFIX_SUBMISSION_PORT")
			enc=tls
		fi
		mark=$(unique_mark)
		run_client -v "${args[@]}" -M localhost -U "$SASL_USER" -A "$mech" -r "$PW" \
			-F alice@example.test -T "$mech-$mode-$mark@example.test" -s "$mech $mode" \
			"${TRUST[@]}" "authenticated with $mech"
		check_rc "AUTH $MECH over $mode exits 0" 0
		check_grep "AUTH $MECH over $mode is what was used" "${V_PREFIX}$enc>: AUTH $MECH( \\*{8})?\$" "$ERR"
		check_no_secret "AUTH $MECH over $mode: no password form in the transcript" \
			"$SASL_USER" "$PW" "$ERR" "$OUT"
		check "AUTH $MECH over $mode is delivered" mail_wait "$mech-$mode-$mark@example.test"
	done
done

# SASL continuation lines are redacted too (LOGIN sends user and password as
# two continuation lines; SCRAM sends its proof in one).
run_client -v -P "$POSTFIX_SUBMISSION_PORT" -M localhost -U "$SASL_USER" -A login -r "$PW" \
	-F alice@example.test -T "login-redact@example.test" -s "login" "${TRUST[@]}" "x"
check_rc "AUTH LOGIN (for redaction) exits 0" 0
# client_sasl_lines FILE: the client's lines after "AUTH ..." up to the
# server's 235 (the SASL continuation lines).
client_sasl_lines() {
	awk '/>: AUTH /{on=1; next} on && /<: 2[0-9][0-9] /{on=0} on && />: /{sub(/^[^>]*>: /, ""); print}' "$1"
}
check "AUTH LOGIN continuation lines are shown as ********" \
	bash -c "[ \"\$(printf '%s\n' \"\$1\" | sort -u)\" = '********' ]" _ "$(client_sasl_lines "$ERR")"
for mech in scram-sha-256 digest-md5 cram-md5; do
	run_client -v -P "$POSTFIX_SUBMISSION_PORT" -M localhost -U "$SASL_USER" -A $mech -r "$PW" \
		-F alice@example.test -T "redact-$mech@example.test" -s "redact" "${TRUST[@]}" "x"
	check "AUTH $mech continuation lines are shown as ******** (or empty)" \
		bash -c "[ -z \"\$(printf '%s\n' \"\$1\" | grep -vx -e '\*\*\*\*\*\*\*\*' -e '')\" ] && [ -n \"\$1\" ]" _ "$(client_sasl_lines "$ERR")"
done

# -A auto picks the strongest mechanism Postfix offers: SCRAM-SHA-256.
for mode in starttls smtps; do
	if [ $mode = smtps ]; then args=(-Z smtps -P "$POSTFIX_SMTPS_PORT"); else args=(-P "$POSTFIX_SUBMISSION_PORT"); fi
	mark=$(unique_mark)
	run_client -v "${args[@]}" -M localhost -U "$SASL_USER" -A auto -r "$PW" \
		-F alice@example.test -T "auto-$mark@example.test" -s "auto" "${TRUST[@]}" "auto"
	check_rc "-A auto over $mode exits 0" 0
	check_grep "-A auto over $mode picks SCRAM-SHA-256" '>: AUTH SCRAM-SHA-256' "$ERR"
	check_no_grep "-A auto over $mode tries no other mechanism" '>: AUTH (PLAIN|LOGIN|CRAM|DIGEST|SCRAM-SHA-1)' "$ERR"
done

# Wrong password: 77, one line naming AUTH, nothing sent.
for mech in plain cram-md5 digest-md5 scram-sha-256; do
	mark=$(unique_mark)
	run_client -P "$POSTFIX_SUBMISSION_PORT" -M localhost -U "$SASL_USER" -A "$mech" -r "not-$PW" \
		-F "wrongpw-$mark@example.test" -T "wrongpw-$mark@example.test" "${TRUST[@]}" "x"
	check_rc "wrong password with $mech exits 77" 77
	check_grep "wrong password with $mech: the error names AUTH" 'AUTH' "$ERR"
	check "wrong password with $mech: the error is one line" test "$(wc -l <"$ERR")" -eq 1
	check_no_secret "wrong password with $mech: the error holds no password form" \
		"$SASL_USER" "not-$PW" "$ERR"
done
check "wrong passwords deliver nothing" test "$(mail_count wrongpw-)" -eq 0

# Password file: user:server:password lines, first match of user and server.
pf=$T_DIR/passwords
{
	echo "bob:localhost:bobs-password"
	echo "$SASL_USER:elsewhere.example.test:not-this-one"
	echo "$SASL_USER:localhost:$PW"
	echo "$SASL_USER:localhost:nor-this-one"
} >"$pf"
chmod 600 "$pf"
mark=$(unique_mark)
run_client -P "$POSTFIX_SUBMISSION_PORT" -M localhost -U "$SASL_USER" -A auto -p "$pf" \
	-F alice@example.test -T "pf-$mark@example.test" "${TRUST[@]}" "password file"
check_rc "-p FILE (mode 600) with the matching user:server line exits 0" 0
check "-p FILE is delivered" mail_wait "pf-$mark@example.test"

chmod 640 "$pf"
run_client -P "$POSTFIX_SUBMISSION_PORT" -M localhost -U "$SASL_USER" -A auto -p "$pf" \
	-F alice@example.test -T "pf640@example.test" "${TRUST[@]}" "x"
check_rc "-p FILE readable by group exits 78" 78
check_grep "-p FILE readable by group: the error says why" '(group|permission|mode|readable|0?640)' "$ERR"
chmod 604 "$pf"
run_client -P "$POSTFIX_SUBMISSION_PORT" -M localhost -U "$SASL_USER" -A auto -p "$pf" \
	-F alice@example.test -T "pf604@example.test" "${TRUST[@]}" "x"
check_rc "-p FILE readable by others exits 78" 78
chmod 600 "$pf"

pf2=$T_DIR/passwords-nomatch
echo "bob:localhost:bobs-password" >"$pf2"
chmod 600 "$pf2"
run_client -P "$POSTFIX_SUBMISSION_PORT" -M localhost -U "$SASL_USER" -A auto -p "$pf2" \
	-F alice@example.test -T "pfnomatch@example.test" "${TRUST[@]}" "x"
check_rc "-p FILE without a line for user and server exits 78" 78
run_client -P "$POSTFIX_SUBMISSION_PORT" -M localhost -U "$SASL_USER" -A auto -p "$T_DIR/no-such-file" \
	-F alice@example.test -T "pfmissing@example.test" "${TRUST[@]}" "x"
check_rc "-p with a missing file exits 78" 78

mark=$(unique_mark)
run_client -P "$POSTFIX_SUBMISSION_PORT" -M localhost -U "$SASL_USER" -A auto \
	--passwordeval "printf '%s\\n' '$PW'" \
	-F alice@example.test -T "peval-$mark@example.test" "${TRUST[@]}" "passwordeval"
check_rc "--passwordeval CMD exits 0" 0
check "--passwordeval is delivered" mail_wait "peval-$mark@example.test"

# -U without any password source: a configuration error, not a prompt.
run_client -P "$POSTFIX_SUBMISSION_PORT" -M localhost -U "$SASL_USER" -A plain \
	-F alice@example.test -T "nopw@example.test" "${TRUST[@]}" "x"
check_rc "-U with no password at all exits 78" 78

# The submission port offers AUTH only after STARTTLS (smtpd_tls_auth_only):
# with -Z none the client sees no AUTH and must not send one.
run_client -v -P "$POSTFIX_SUBMISSION_PORT" -M localhost -Z none -U "$SASL_USER" -A plain -r "$PW" \
	-F alice@example.test -T "noauth@example.test" "x"
check_rc "-Z none -A plain where AUTH is not offered in clear exits 69" 69
check_no_grep "-Z none: no AUTH sent when not offered" '>: AUTH' "$ERR"
check_no_secret "-Z none: no password form anywhere" "$SASL_USER" "$PW" "$ERR"

done_testing
