#!/usr/bin/env bash
# test_server_clients.sh - real SMTP clients against clsmtpd on loopback:
# swaks, curl, msmtp, Python's smtplib, s-nail and our clsmtpc, each with
# STARTTLS (587-style) and implicit TLS (465-style) and every AUTH mechanism
# it supports; each mail must land in the recipient's Maildir. s-nail also
# shows a wrong password and AUTH PLAIN without TLS refused.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server_lib.sh"

srv_require
srv_users || not_ok "clsmtpd passwd creates the users file"
srv_config
srv_start || { not_ok "clsmtpd starts"; done_testing; }
ok "clsmtpd starts and writes its pid file"

MSG=$T_DIR/msg.txt
# deliver_check NAME BOX MARK: the message with MARK reached BOX.
deliver_check() {
	if srv_mail_wait "$2" "$3"; then
		ok "$1"
	else
		not_ok "$1" "no message with $3 in $2's Maildir"
		diag_file "$SRV_DIR/log" 15
	fi
}

# ---- swaks: PLAIN, LOGIN, CRAM-MD5 over STARTTLS and implicit TLS --------
for mech in PLAIN LOGIN CRAM-MD5; do
	for mode in starttls tls; do
		mark=$(unique_mark)
		if [ $mode = starttls ]; then tlsopt=(--port "$SRV_PORT_SUB" -tls); else tlsopt=(--port "$SRV_PORT_TLS" --tlsc); fi
		swaks --server 127.0.0.1 "${tlsopt[@]}" --auth "$mech" --auth-user bob \
			--auth-password "$SRV_PW_BOB" --from bob@example.org --to alice@example.org \
			--header "Subject: $mark" --body "swaks $mech $mode" >"$T_DIR/swaks.out" 2>&1
		deliver_check "swaks $mech over $mode delivers" alice "$mark"
	done
done
check_no_secret "swaks transcripts leave no password in the server log" bob "$SRV_PW_BOB" "$SRV_DIR/log"

# ---- curl: PLAIN, LOGIN, CRAM-MD5, DIGEST-MD5 -----------------------------
for mech in PLAIN LOGIN CRAM-MD5 DIGEST-MD5; do
	for mode in starttls tls; do
		mark=$(unique_mark)
		printf 'From: bob@example.org\r\nTo: alice@example.org\r\nSubject: %s\r\n\r\ncurl %s %s\r\n' \
			"$mark" "$mech" "$mode" >"$MSG"
		if [ $mode = starttls ]; then url=smtp://127.0.0.1:$SRV_PORT_SUB; extra=(--ssl-reqd); else url=smtps://127.0.0.1:$SRV_PORT_TLS; extra=(); fi
		curl -s --max-time 20 --url "$url" "${extra[@]}" --cacert "$FIXTURE_CA" \
			--user "bob:$SRV_PW_BOB" --login-options "AUTH=$mech" \
			--mail-from bob@example.org --mail-rcpt alice@example.org -T "$MSG" \
			>"$T_DIR/curl.out" 2>&1
		deliver_check "curl $mech over $mode delivers" alice "$mark"
	done
done

# ---- msmtp (GNU SASL): SCRAM-SHA-256, SCRAM-SHA-1, DIGEST-MD5, PLAIN ------
for mech in scram-sha-256 scram-sha-1 digest-md5 plain; do
	for mode in starttls tls; do
		mark=$(unique_mark)
		user=bob; pw=$SRV_PW_BOB
		case $mech in scram*) user=alice; pw=$SRV_PW_ALICE ;; esac
		printf 'From: %s@example.org\nTo: alice@example.org\nSubject: %s\n\nmsmtp %s %s\n' \
			"$user" "$mark" "$mech" "$mode" >"$MSG"
		if [ $mode = starttls ]; then port=$SRV_PORT_SUB; st=on; else port=$SRV_PORT_TLS; st=off; fi
		MSMTP_PW=$pw timeout 20 msmtp --host=localhost --port="$port" --tls=on --tls-starttls=$st \
			--tls-trust-file="$FIXTURE_CA" --auth="$mech" --user="$user" \
			--passwordeval='printf "%s\n" "$MSMTP_PW"' --from="$user@example.org" \
			alice@example.org <"$MSG" >"$T_DIR/msmtp.out" 2>&1
		deliver_check "msmtp $mech over $mode delivers" alice "$mark"
	done
done

# ---- Python smtplib: CRAM-MD5, PLAIN, LOGIN ---------------------------------
for mech in CRAM-MD5 PLAIN LOGIN; do
	for mode in starttls tls; do
		mark=$(unique_mark)
		"$PYTHON" - "$mode" "$mech" "$mark" "$SRV_PORT_SUB" "$SRV_PORT_TLS" "$SRV_PW_BOB" \
			>"$T_DIR/py.out" 2>&1 <<'PY'
import os, smtplib, ssl, sys
mode, mech, mark, sub, tls, pw = sys.argv[1:]
ctx = ssl.create_default_context(cafile=os.environ["FIXTURE_CA"])
if mode == "starttls":
    s = smtplib.SMTP("localhost", int(sub), timeout=20)
    s.starttls(context=ctx)
else:
    s = smtplib.SMTP_SSL("localhost", int(tls), context=ctx, timeout=20)
s.ehlo()
s.esmtp_features["auth"] = mech
s.login("bob", pw)
s.sendmail("bob@example.org", ["alice@example.org"],
           "Subject: %s\r\n\r\nsmtplib %s %s\r\n" % (mark, mech, mode))
s.quit()
PY
		deliver_check "python smtplib $mech over $mode delivers" alice "$mark"
	done
done

# ---- s-nail (built-in SMTP): PLAIN, LOGIN, CRAM-MD5 --------------------
# snail_send MODE MECH PASSWORD MARK: s-nail sends one mail from bob to alice
# with smtp-auth=MECH. No resource files (-:/; it refuses -n with -:), HOME
# in a scratch directory, v15-compat URL syntax, the test CA as the only
# trust anchor and strict verification (s-nail matches only DNS names of the
# certificate, so the host is localhost). MODE: starttls (submission port,
# smtp-use-starttls), tls (smtps://, implicit TLS), cleartext (submission
# port without STARTTLS) or plainport (the port-25 style listener). sendwait
# makes its exit status the SMTP result. -vv logs the dialogue to
# $T_DIR/snail.err; the lines s-nail sent go to $T_DIR/snail-sent.txt. Sets RC.
SNAIL_HOME=$T_DIR/snail-home
mkdir -p "$SNAIL_HOME"
snail_send() {
	local mode=$1 mech=$2 pw=$3 mark=$4 url st=()
	case $mode in
	starttls) url=smtp://bob@localhost:$SRV_PORT_SUB; st=(-Ssmtp-use-starttls) ;;
	tls) url=smtps://bob@localhost:$SRV_PORT_TLS ;;
	cleartext) url=smtp://bob@localhost:$SRV_PORT_SUB ;;
	plainport) url=smtp://bob@localhost:$SRV_PORT_PLAIN ;;
	esac
	printf 's-nail %s %s\n' "$mech" "$mode" >"$T_DIR/snail-body.txt"
	HOME=$SNAIL_HOME timeout -k 2 30 s-nail -:/ -vv -Sv15-compat -Sttycharset=utf-8 \
		-Smta="$url" "${st[@]}" -Ssmtp-auth="$mech" -Spassword="$pw" \
		-Stls-ca-file="$FIXTURE_CA" -Stls-ca-no-defaults -Stls-verify=strict \
		-Ssocket-connect-timeout=10 -Ssendwait -Snosave \
		-Sfrom=bob@example.org -s "$mark" alice@example.org \
		<"$T_DIR/snail-body.txt" >"$T_DIR/snail.out" 2>"$T_DIR/snail.raw"
	RC=$?
	# -vv prints the password on a "Credentials:" line: never kept on disk
	# (test_zz_secrets checks everything the suite leaves).
	grep -av -e 'Credentials:' -e "$pw" "$T_DIR/snail.raw" >"$T_DIR/snail.err"
	rm -f "$T_DIR/snail.raw"
	grep -a '^s-nail: >>> ' "$T_DIR/snail.err" | grep -av '^s-nail: >>> SERVER:' \
		>"$T_DIR/snail-sent.txt"
}

# snail_diag: s-nail's exit status and dialogue (without its "Credentials:"
# line, which shows the password).
snail_diag() {
	diag "s-nail exit status: $RC"
	grep -av 'Credentials:' "$T_DIR/snail.err" | grep -av '^s-nail:  ' >"$T_DIR/snail.diag"
	diag_file "$T_DIR/snail.diag" 30
}

# snail_check NAME ERE: ok if the last s-nail dialogue has a line matching ERE.
snail_check() {
	if grep -aEq -- "$2" "$T_DIR/snail.err"; then
		ok "$1"
	else
		not_ok "$1" "no line matching /$2/ in s-nail's dialogue"
		snail_diag
	fi
}

for mech in plain login cram-md5; do
	MECH=${mech^^}
	for mode in starttls tls; do
		mark=$(unique_mark)
		snail_send $mode $mech "$SRV_PW_BOB" "$mark"
		if [ $RC -eq 0 ] && grep -aq "^s-nail: >>> AUTH $MECH\$" "$T_DIR/snail.err" &&
			grep -aq '^s-nail: >>> SERVER: 235 ' "$T_DIR/snail.err"; then
			ok "s-nail $mech over $mode authenticates with AUTH $MECH and exits 0"
		else
			not_ok "s-nail $mech over $mode authenticates with AUTH $MECH and exits 0"
			snail_diag
		fi
		deliver_check "s-nail $mech over $mode delivers" alice "$mark"
	done
done

# A wrong password: 535, a non-zero exit, nothing delivered.
snail_marks=()
mark=$(unique_mark)
snail_marks+=("$mark")
snail_send starttls plain "wrong-$SRV_PW_BOB" "$mark"
if [ $RC -ne 0 ]; then
	ok "s-nail with a wrong password exits non-zero"
else
	not_ok "s-nail with a wrong password exits non-zero"
	snail_diag
fi
snail_check "s-nail with a wrong password gets 535" '^s-nail: >>> SERVER: 535 '

# AUTH PLAIN without TLS: the submission port does not offer PLAIN before
# STARTTLS and refuses it; the plain listener offers no AUTH at all. s-nail
# must fail, and its credentials must never cross the cleartext connection.
for mode in cleartext plainport; do
	mark=$(unique_mark)
	snail_marks+=("$mark")
	snail_send $mode plain "$SRV_PW_BOB" "$mark"
	if [ $RC -ne 0 ] && ! grep -aq '^s-nail: >>> SERVER: 235 ' "$T_DIR/snail.err"; then
		ok "s-nail AUTH PLAIN without STARTTLS ($mode) fails and exits non-zero"
	else
		not_ok "s-nail AUTH PLAIN without STARTTLS ($mode) fails and exits non-zero"
		snail_diag
	fi
	if [ $mode = cleartext ]; then
		check_no_grep "the submission port offers no PLAIN before STARTTLS" \
			'^s-nail: >>> SERVER: 250[ -]AUTH .*PLAIN' "$T_DIR/snail.err"
		snail_check "clsmtpd refuses AUTH PLAIN before STARTTLS" '^s-nail: >>> SERVER: 5[0-9][0-9] '
	else
		check_no_grep "the plain listener offers no AUTH" '^s-nail: >>> SERVER: 250[ -]AUTH' \
			"$T_DIR/snail.err"
		snail_check "the plain listener refuses AUTH PLAIN" '^s-nail: >>> SERVER: 5[0-9][0-9] '
	fi
	# The capture holds what s-nail sent: its AUTH command, but no credentials.
	snail_check "s-nail's dialogue ($mode) records the AUTH PLAIN it sent" '^s-nail: >>> AUTH PLAIN$'
	check_no_secret "s-nail sent no credentials over cleartext ($mode)" bob "$SRV_PW_BOB" \
		"$T_DIR/snail-sent.txt"
done

# None of the refused mails may arrive (bounded wait: 2 s).
snail_arrived=
for ((i = 0; i < 20; i++)); do
	for mark in "${snail_marks[@]}"; do
		[ "$(srv_mail_count alice "$mark")" -gt 0 ] && snail_arrived=$mark
	done
	[ -n "$snail_arrived" ] && break
	sleep 0.1
done
if [ -z "$snail_arrived" ]; then
	ok "no mail from a refused s-nail session is delivered"
else
	not_ok "no mail from a refused s-nail session is delivered" "$snail_arrived arrived"
fi
check_no_secret "s-nail sessions leave no password in the server log" bob "$SRV_PW_BOB" "$SRV_DIR/log"
check_no_secret "s-nail sessions leave no wrong password in the server log" bob \
	"wrong-$SRV_PW_BOB" "$SRV_DIR/log"

# ---- clsmtpc: every mechanism, pipelining and BDAT -------------------------
for mech in scram-sha-256 scram-sha-1 digest-md5 cram-md5 plain login; do
	for mode in tls smtps; do
		mark=$(unique_mark)
		if [ $mode = tls ]; then port=$SRV_PORT_SUB; else port=$SRV_PORT_TLS; fi
		SECRET=$SRV_PW_BOB run_client -v -M localhost -P "$port" -Z $mode --tls-trust-file "$FIXTURE_CA" \
			-U bob --password-env SECRET -A "$mech" -F bob@example.org -T alice@example.org \
			-s "$mark" "clsmtpc $mech $mode"
		deliver_check "clsmtpc $mech over $mode delivers" alice "$mark"
	done
done
check_grep "clsmtpc chose SCRAM-SHA-256-PLUS (tls-exporter binding) when offered" \
	'AUTH SCRAM-SHA-256-PLUS' "$T_DIR"/client1.err
mark=$(unique_mark)
SECRET=$SRV_PW_BOB run_client -v -M localhost -P "$SRV_PORT_SUB" -Z tls --tls-trust-file "$FIXTURE_CA" \
	-U bob --password-env SECRET -A plain -F bob@example.org -T alice@example.org -T postmaster@example.org \
	-s "$mark" "two recipients through BDAT"
check_grep "clsmtpc uses BDAT (CHUNKING) with clsmtpd" 'BDAT [0-9]+' "$ERR"
check_grep "clsmtpc pipelines MAIL and RCPT" 'RCPT TO:<postmaster@example.org>' "$ERR"
deliver_check "an alias delivers to its mailbox" alice "$mark"
for ((i = 0; i < 50; i++)); do
	[ "$(srv_mail_count alice "$mark")" -ge 2 ] && break
	sleep 0.1
done
if [ "$(srv_mail_count alice "$mark")" -eq 2 ]; then
	ok "both recipients (mailbox and alias) got the message"
else
	not_ok "both recipients got the message" "$(srv_mail_count alice "$mark") copies"
fi

# ---- IPv6 listener -----------------------------------------------------
mark=$(unique_mark)
SECRET=$SRV_PW_BOB run_client -6 -M ::1 -P "$SRV_PORT_SUB" -Z tls --tls-trust-file "$FIXTURE_CA" \
	-U bob --password-env SECRET -F bob@example.org -T alice@example.org -s "$mark" "over IPv6"
deliver_check "clsmtpc over IPv6 (::1) STARTTLS delivers" alice "$mark"

check_grep "the log has one line per accepted message with its queue ID" \
	'^clsmtpd\[[0-9]+\]: [0-9A-F]{20}: from=<bob@example.org>, size=[0-9]+, nrcpt=1' "$SRV_DIR/log"
check_no_secret "no password of bob in the server log" bob "$SRV_PW_BOB" "$SRV_DIR/log"
check_no_secret "no password of alice in the server log" alice "$SRV_PW_ALICE" "$SRV_DIR/log"
done_testing
