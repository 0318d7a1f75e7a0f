#!/usr/bin/env bash
# test_delivery_postfix.sh - what reaches the real Postfix's Maildir and
# what it refuses: several recipients, rejected and deferred recipients and
# their exit codes, the body (dots, size, stdin) through BDAT and through
# DATA, IPv4/IPv6, --domain.
. "$(dirname "$0")/lib.sh"
require_client

AUTH=(-M localhost -U "$SASL_USER" -A auto -r "$PW" "${TRUST[@]}")

# -T a,b -T c: three recipients, one copy each, all named on To:.
mark=$(unique_mark)
run_client -P "$POSTFIX_SUBMISSION_PORT" "${AUTH[@]}" -F alice@example.test \
	-T "r1-$mark@example.test,r2-$mark@example.test" -T "r3-$mark@example.org" \
	-s "three $mark" "three recipients"
check_rc "-T a,b -T c exits 0" 0
if mail_wait_count "three $mark" 3; then
	ok "-T a,b -T c delivers to all three recipients"
	for r in "r1-$mark@example.test" "r2-$mark@example.test" "r3-$mark@example.org"; do
		check "recipient $r got its copy" grep -lqx "Delivered-To: $r" $MAILFILES
	done
	MAILFILE=$(head -n1 <<<"$MAILFILES")
	to=$(header To)
	check "To: names all three recipients" \
		bash -c "grep -qF 'r1-$mark@example.test' <<<\"\$1\" && grep -qF 'r2-$mark@example.test' <<<\"\$1\" && grep -qF 'r3-$mark@example.org' <<<\"\$1\"" _ "$to"
else
	not_ok "-T a,b -T c delivers to all three recipients" "found: $(mail_count "three $mark")"
	client_diag
fi

# Relay denied (unauthenticated, plain port, foreign domain): 69 and the
# server's reply in the one-line message.
run_client -P "$POSTFIX_SMTP_PORT" -M 127.0.0.1 -F someone@example.test -T victim@example.org "x"
check_rc "relay denied (554) exits 69" 69
check_grep "relay denied: the message names RCPT and quotes the reply" 'RCPT.*554.*Relay access denied' "$ERR"
check "relay denied: the message is one line" test "$(wc -l <"$ERR")" -eq 1

# Unknown user: 550 -> 69.
sender=nosuch-$(unique_mark)@example.test
run_client -P "$POSTFIX_SUBMISSION_PORT" "${AUTH[@]}" -F "$sender" -T "$POSTFIX_REJECT_RCPT" "x"
check_rc "unknown recipient (550) exits 69" 69
check_grep "unknown recipient: the message quotes 550 5.1.1" "RCPT.*<?$POSTFIX_REJECT_RCPT>?.*550 5\\.1\\.1.*User unknown" "$ERR"

# A domain refused by policy even when authenticated: 554 -> 69.
run_client -P "$POSTFIX_SUBMISSION_PORT" "${AUTH[@]}" -F alice@example.test -T "x@$POSTFIX_REJECT_DOMAIN" "x"
check_rc "recipient domain refused (554) exits 69" 69
check_grep "refused domain: the message quotes the reply" '554 5\.7\.1' "$ERR"

# Deferred recipient: 450 -> 75.
run_client -P "$POSTFIX_SUBMISSION_PORT" "${AUTH[@]}" -F alice@example.test -T "$POSTFIX_TEMPFAIL_RCPT" "x"
check_rc "deferred recipient (450) exits 75" 75
check_grep "deferred recipient: the message quotes 450" '450 4\.2\.1' "$ERR"

# One good and one rejected recipient: the mail goes to nobody, through
# BDAT (CHUNKING) and through DATA.
for port in submission nochunk; do
	mark=$(unique_mark)
	sender=partial-$mark@example.test
	if [ $port = submission ]; then
		args=(-P "$POSTFIX_SUBMISSION_PORT")
	else
		args=(-Z smtps -P "$POSTFIX_SMTPS_NOCHUNK_PORT")
	fi
	run_client "${args[@]}" "${AUTH[@]}" -F "$sender" \
		-T "good-$mark@example.test" -T "$POSTFIX_REJECT_RCPT" -s "partial $mark" "partial"
	check_rc "one of two recipients rejected ($port) exits 69" 69
	check "one of two recipients rejected ($port): delivered to nobody" \
		mail_never_arrives "partial $mark" "$sender"
done

# Deferred second recipient: temporary for the whole mail, delivered to nobody.
mark=$(unique_mark)
sender=partial4-$mark@example.test
run_client -P "$POSTFIX_SUBMISSION_PORT" "${AUTH[@]}" -F "$sender" \
	-T "good-$mark@example.test" -T "$POSTFIX_TEMPFAIL_RCPT" -s "partial4 $mark" "partial"
check_rc "one of two recipients deferred exits 75" 75
check "one of two recipients deferred: delivered to nobody" mail_never_arrives "partial4 $mark" "$sender"

# Body with dot lines, through BDAT (submission) and DATA (nochunk).
body='.leading dot\n..two dots\n.\nline after a lone dot\n. dot space\nend'
for port in submission nochunk; do
	mark=$(unique_mark)
	if [ $port = submission ]; then args=(-P "$POSTFIX_SUBMISSION_PORT"); else args=(-Z smtps -P "$POSTFIX_SMTPS_NOCHUNK_PORT"); fi
	run_client_input "$body\n" "${args[@]}" "${AUTH[@]}" -F alice@example.test \
		-T "dots-$port-$mark@example.test" -s "dots"
	check_rc "dot-line body ($port) exits 0" 0
	if mail_wait "dots-$port-$mark@example.test"; then
		check "dot-line body ($port) arrives intact" test "$(body_decoded)" = "$(printf '%b' "$body")"
	else
		not_ok "dot-line body ($port) is delivered"
		client_diag
	fi
done

# A larger body (about 300 KB, many lines) arrives byte for byte.
big=$T_DIR/big.txt
"$PYTHON" -c '
import random
r = random.Random(42)
for i in range(6000):
    print("%05d " % i + "".join(r.choice("abcdefghij .,-") for _ in range(r.randrange(0, 90))))
' >"$big"
for port in submission nochunk; do
	mark=$(unique_mark)
	if [ $port = submission ]; then args=(-P "$POSTFIX_SUBMISSION_PORT"); else args=(-Z smtps -P "$POSTFIX_SMTPS_NOCHUNK_PORT"); fi
	CLIENT_STDIN=$big run_client "${args[@]}" "${AUTH[@]}" -F alice@example.test \
		-T "big-$port-$mark@example.test" -s "big" -
	check_rc "300 KB body from stdin with '-' ($port) exits 0" 0
	if mail_wait "big-$port-$mark@example.test"; then
		check "300 KB body ($port) arrives byte for byte" \
			cmp -s <(body_decoded) "$big"
	else
		not_ok "300 KB body ($port) is delivered"
		client_diag
	fi
done

# Bare LF and bare CR in the input are line breaks.
mark=$(unique_mark)
run_client_input "one\ntwo\rthree\r\nfour" -P "$POSTFIX_SUBMISSION_PORT" "${AUTH[@]}" \
	-F alice@example.test -T "bare-$mark@example.test" -s "bare"
check_rc "bare LF / bare CR body exits 0" 0
if mail_wait "bare-$mark@example.test"; then
	check "bare LF and bare CR arrive as line breaks" \
		test "$(body_decoded)" = "$(printf 'one\ntwo\nthree\nfour')"
else
	not_ok "bare LF / bare CR body is delivered"
	client_diag
fi

# IPv4 and IPv6 (-6 with localhost only where /etc/hosts maps it to ::1).
v6host=::1
grep -qE '^::1[[:space:]].*[[:space:]]localhost([[:space:]]|$)' /etc/hosts && v6host=localhost
for fam in 4 6; do
	mark=$(unique_mark)
	host=localhost
	[ $fam = 6 ] && host=$v6host
	run_client "-$fam" -P "$POSTFIX_SUBMISSION_PORT" -M "$host" -U "$SASL_USER" -A auto -r "$PW" \
		"${TRUST[@]}" -F alice@example.test -T "ipv$fam-$mark@example.test" -s "ipv$fam" "x"
	check_rc "-$fam -M $host exits 0" 0
	if mail_wait "ipv$fam-$mark@example.test"; then
		if [ $fam = 4 ]; then
			check_grep "-4 connects over IPv4" 'from .*\[127\.0\.0\.1\]' "$MAILFILE"
		else
			check_grep "-6 connects over IPv6" 'from .*\[(IPv6:)?::1\]' "$MAILFILE"
		fi
	else
		not_ok "-$fam is delivered"
		client_diag
	fi
done
mark=$(unique_mark)
run_client -P "$POSTFIX_SMTPS_PORT" -Z smtps -M ::1 -U "$SASL_USER" -A auto -r "$PW" "${TRUST[@]}" \
	-F alice@example.test -T "v6lit-$mark@example.test" -s "v6" "x"
check_rc "-M ::1 (IPv6 literal, certificate with IP:::1) exits 0" 0
mark=$(unique_mark)
run_client -P "$POSTFIX_SMTPS_PORT" -Z smtps -M 127.0.0.1 -U "$SASL_USER" -A auto -r "$PW" "${TRUST[@]}" \
	-F alice@example.test -T "v4lit-$mark@example.test" -s "v4" "x"
check_rc "-M 127.0.0.1 (certificate with IP:127.0.0.1) exits 0" 0

# --domain NAME is the EHLO argument (Postfix records it in Received:).
mark=$(unique_mark)
run_client -P "$POSTFIX_SUBMISSION_PORT" "${AUTH[@]}" --domain client.example.test \
	-F alice@example.test -T "dom-$mark@example.test" -s "domain" "x"
check_rc "--domain NAME exits 0" 0
if mail_wait "dom-$mark@example.test"; then
	check_grep "--domain NAME is sent in EHLO" '^Received: from client\.example\.test ' "$MAILFILE"
else
	not_ok "--domain NAME is delivered"
fi

done_testing
