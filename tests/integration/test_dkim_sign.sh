#!/usr/bin/env bash
# test_dkim_sign.sh - clsmtpd signs the mail that originates here with
# DKIM (rsa-sha256 and ed25519-sha256 at once, relaxed/relaxed) and the
# signatures verify at the final receiver: messages relayed through the
# fixtures' Postfix (SMTPS, AUTH, BDAT) and through a smarthost without
# CHUNKING (DATA, dot-stuffing), read back as delivered, then checked by
# three independent verifiers with the public keys and the DMARC record
# served by dnsmasq in a network namespace: dkimpy, OpenDKIM
# (opendkim-testmsg) and python3-authheaders' DMARC evaluation. Tampered
# copies (body, a signed field, a second From) fail. Mail from outside,
# from another domain, or whose From the user may not use is not signed.
# -dkim-keygen writes keys safely and prints records split into strings
# of at most 255 bytes.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server_lib.sh"
. "$(dirname "$0")/dns_lib.sh"

srv_require
command -v opendkim-testmsg >/dev/null ||
	{ not_ok "opendkim-testmsg is installed (opendkim-tools)"; done_testing; }
"$PYTHON" -c 'import dkim, nacl, authheaders' 2>/dev/null ||
	{ not_ok "python3-dkim, python3-nacl, python3-authheaders are installed"; done_testing; }
trap 'srv_stop; dns_ns_cleanup; lib_cleanup' EXIT
VERIFY=$LIB_ROOT/tests/integration/dkim_verify.py
DMARC=$LIB_ROOT/tests/integration/dmarc_check.py

srv_users || not_ok "clsmtpd passwd creates the users file"
KEYS=$SRV_DIR/keys

# ---- -dkim-keygen ------------------------------------------------------------------
srv_config
check_exit "-dkim-keygen makes a 2048-bit RSA key" 0 \
	"$CLSMTPD" -f "$SRV_CONF" -dkim-keygen example.org rsa2026 -d "$KEYS"
check_grep "... and prints the line for clsmtpd.conf" \
	"^dkim_sign example.org rsa2026 $KEYS/example.org.rsa2026.key\$" "$T_DIR/last.out"
check_grep "... and the TXT record" '^rsa2026\._domainkey\.example\.org\. IN TXT \( "v=DKIM1; k=rsa; p=' \
	"$T_DIR/last.out"
check "the key file is root's, readable by the group of the configured user (nobody), 0640" \
	test "$(stat -c %U:%G:%a "$KEYS/example.org.rsa2026.key")" = "root:$(id -gn nobody):640"
check "the directory it made is the same group's, 0750" \
	test "$(stat -c %U:%G:%a "$KEYS")" = "root:$(id -gn nobody):750"
check_exit "-dkim-keygen -a ed25519" 0 \
	"$CLSMTPD" -f "$SRV_CONF" -dkim-keygen example.org ed2026 -a ed25519 -d "$KEYS"
check_exit "a key is never overwritten (73)" 73 \
	"$CLSMTPD" -f "$SRV_CONF" -dkim-keygen example.org rsa2026 -d "$KEYS"
check_exit "a selector that is not a DNS name is refused (64)" 64 \
	"$CLSMTPD" -f "$SRV_CONF" -dkim-keygen example.org 'bad sel' -d "$KEYS"
check_exit "RSA below 1024 bits is refused (64)" 64 \
	"$CLSMTPD" -f "$SRV_CONF" -dkim-keygen example.org short -b 512 -d "$KEYS"
check "nothing else was written" test "$(ls "$KEYS" | wc -l)" -eq 2

SECRET=$SRV_DIR/relay.secret
(umask 077 && printf '%s\n' "$SASL_PASSWORD" >"$SECRET")
SIGN="dkim_sign example.org rsa2026 $KEYS/example.org.rsa2026.key
dkim_sign example.org ed2026 $KEYS/example.org.ed2026.key"
srv_config "$SIGN"
check_exit "-dkim-records prints the configured keys' records" 0 "$CLSMTPD" -f "$SRV_CONF" -dkim-records
ZONE=$T_DIR/zone.txt
cp "$T_DIR/last.out" "$ZONE"
check "... two of them" test "$(grep -c '_domainkey' "$ZONE")" -eq 2
check "... in strings of at most 255 bytes" test -z "$(grep -o '"[^"]*"' "$ZONE" | awk 'length($0) > 257')"
check "... the RSA record needs two strings" grep -q '^rsa2026.*" "' "$ZONE"
chmod 644 "$KEYS/example.org.ed2026.key"
check_exit "clsmtpd -t refuses a key others may read" 78 "$CLSMTPD" -t -f "$SRV_CONF"
check_grep "... and says so" "others may read it" "$T_DIR/last.err"
chmod 640 "$KEYS/example.org.ed2026.key"
check_exit "-dkim-sign refuses mail of another domain (65)" 65 \
	sh -c "printf 'From: a@example.net\n\nx\n' | '$CLSMTPD' -f '$SRV_CONF' -dkim-sign"

# ---- relayed through Postfix (SMTPS, AUTH, BDAT) --------------------------------
srv_config "smarthost 127.0.0.1:$POSTFIX_SMTPS_PORT
smarthost_tls smtps
smarthost_user $SASL_USER
smarthost_password_file $SECRET
smarthost_ca $FIXTURE_CA
$SIGN"
srv_start || { not_ok "clsmtpd starts with two DKIM keys"; done_testing; }
# Its keys and passwords are never in a core file: no core limit, in the
# daemon and in its agents (after the change of user).
for p in "$SRV_PID" $(pgrep -P "$SRV_PID"); do
	check "clsmtpd process $p: core files off (RLIMIT_CORE 0)" \
		grep -Eq '^Max core file size +0 +0 ' "/proc/$p/limits"
done
M=$(unique_mark)
RCPT=someone@$POSTFIX_DOMAIN
MSGS=$T_DIR/msgs
mkdir -p "$MSGS"
# plain: ASCII.
printf 'From: Alice <alice@example.org>\nTo: <%s>\nSubject: %s plain\nDate: Sat, 05 Dec 2026 10:00:00 +0900\nMessage-ID: <%s.1@example.org>\n\nHello.\n' \
	"$RCPT" "$M" "$M" >"$MSGS/plain"
# utf8: 8-bit UTF-8 body, blanks to canonicalise, empty lines at the end.
printf 'From: alice@example.org\nTo: %s\nSubject: %s utf8\nMIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: 8bit\n\n\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x81\xae\xe6\x9c\xac\xe6\x96\x87   \t\nend  of\tline \n\n\n\n' \
	"$RCPT" "$M" >"$MSGS/utf8"
# jis: ISO-2022-JP body and an encoded subject, as Japanese mailers send.
printf 'From: =?ISO-2022-JP?B?GyRCJUElaiU5GyhC?= <alice@example.org>\nTo: %s\nSubject: %s jis =?ISO-2022-JP?B?GyRCRnxLXDhsGyhC?=\nMIME-Version: 1.0\nContent-Type: text/plain; charset=ISO-2022-JP\nContent-Transfer-Encoding: 7bit\n\n\033$BF|K\\8l$N%F%-%9%H\033(B\n' \
	"$RCPT" "$M" >"$MSGS/jis"
# fold: long folded fields, dots at line starts, a line of blanks.
{
	printf 'Date: Sat, 05 Dec 2026 10:00:00 +0900\nFrom: alice@example.org\nTo: %s,\n\tone@%s, two@%s,\n   three@%s\n' "$RCPT" "$POSTFIX_DOMAIN" "$POSTFIX_DOMAIN" "$POSTFIX_DOMAIN"
	printf 'Subject: %s fold a subject that goes on and on well past seventy-eight\n characters, folded\n\tagain\n' "$M"
	printf 'References: <a1@example.org> <a2@example.org> <a3@example.org>\n <a4@example.org> <a5@example.org>\n\n'
	printf '.leading dot\n..two dots\n.\tdot and tab\n   \nlast\n'
} >"$MSGS/fold"
for m in plain utf8 jis fold; do
	srv_submit --from alice@example.org --to "$RCPT" --message "$MSGS/$m" >/dev/null ||
		not_ok "clsmtpd accepts the $m message from the trusted network"
done
srv_submit --port "$SRV_PORT_SUB" --starttls --auth "alice:$SRV_PW_ALICE" --source 127.0.0.3 \
	--from alice@example.org --to "$RCPT" --subject "$M auth" >/dev/null ||
	not_ok "alice submits with AUTH"
# Not ours to sign: alice may not use bob's From; another domain.
printf 'From: bob@example.org\nTo: %s\nSubject: %s notbob\n\nx\n' "$RCPT" "$M" >"$MSGS/notbob"
srv_submit --port "$SRV_PORT_SUB" --starttls --auth "alice:$SRV_PW_ALICE" --source 127.0.0.3 \
	--from alice@example.org --to "$RCPT" --message "$MSGS/notbob" >/dev/null ||
	not_ok "alice submits a message From bob"
printf 'From: x@example.net\nTo: %s\nSubject: %s otherdomain\n\nx\n' "$RCPT" "$M" >"$MSGS/other"
srv_submit --from x@example.net --to "$RCPT" --message "$MSGS/other" >/dev/null ||
	not_ok "a trusted client sends From another domain"
# From outside, to a local user, with our domain in From: delivered unsigned.
printf 'From: alice@example.org\nTo: alice@example.org\nSubject: %s inbound\n\nx\n' "$M" >"$MSGS/inbound"
srv_submit --source 127.0.0.3 --from alice@example.org --to alice@example.org \
	--message "$MSGS/inbound" >/dev/null || not_ok "an outside client delivers to alice"

GOT=$T_DIR/got
mkdir -p "$GOT"
for m in plain utf8 jis fold auth notbob otherdomain; do
	if mail_wait "$M $m" 15; then
		cp "$MAILFILE" "$GOT/$m"
	else
		not_ok "the $m message reaches the final receiver"
	fi
done
srv_mail_wait alice "$M inbound" && cp "$SRV_MAILFILE" "$GOT/inbound"
check "mail from outside is not signed" test -f "$GOT/inbound" -a -z "$(grep -i '^DKIM-Signature' "$GOT/inbound")"
check "a From the user may not use is not signed" test -z "$(grep -i '^DKIM-Signature' "$GOT/notbob" 2>/dev/null)"
check_grep "... and the log says why" "dkim=unsigned \(From <bob@example.org> is not an address alice may use\)" "$SRV_DIR/log"
check "another domain is not signed" test -z "$(grep -i '^DKIM-Signature' "$GOT/otherdomain" 2>/dev/null)"
check_grep "... and the log says why" "dkim=unsigned \(example.net is not a signing domain" "$SRV_DIR/log"
srv_stop

# ---- relayed through a smarthost without CHUNKING (DATA, dot-stuffed) ----------
start_scripted '{"capabilities": ["PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES"]}' ||
	{ not_ok "scripted smarthost started"; done_testing; }
srv_config "smarthost 127.0.0.1:$SCRIPTED_PORT
smarthost_tls none
$SIGN"
srv_start || { not_ok "clsmtpd starts (DATA smarthost)"; done_testing; }
srv_submit --from alice@example.org --to "$RCPT" --message "$MSGS/fold" >/dev/null
for ((i = 0; i < 100; i++)); do
	[ "$(scripted_accepted)" -ge 1 ] && break
	sleep 0.1
done
check "the DATA smarthost got the message" test "$(scripted_accepted)" -ge 1
check_grep "... by DATA" "DATA" "$SCRIPTED_TRANSCRIPT"
check_grep "... dot-stuffed on the wire" '\.\.leading dot' "$SCRIPTED_LOG"
# Stored with LF line ends, as a Maildir holds it (opendkim-testmsg reads
# LF files; the sink keeps the CRLF of the wire).
sed 's/\r$//' "$SCRIPTED_MSGS/msg-1.eml" >"$GOT/fold-data" 2>/dev/null
srv_stop
stop_scripted

# ---- the verifiers, with the DNS of a receiver ------------------------------------
dns_ns_create clsmtpd-dkim || done_testing
mapfile -t TXT < <(dns_zone_txt_args "$ZONE")
dns_start ready.example.org --local=/example.org/ --host-record=ready.example.org,127.0.0.9 \
	"${TXT[@]}" '--txt-record=_dmarc.example.org,v=DMARC1; p=reject; adkim=s; aspf=s' ||
	{ not_ok "dnsmasq serves the DKIM keys"; done_testing; }
for m in plain utf8 jis fold auth fold-data; do
	f=$GOT/$m
	[ -f "$f" ] || { not_ok "$m: delivered"; continue; }
	"$IN_NS" "$PYTHON" "$VERIFY" "$f" >"$T_DIR/v.$m" 2>&1
	check "$m: dkimpy verifies the RSA signature" grep -q '^pass d=example.org s=rsa2026 a=rsa-sha256' "$T_DIR/v.$m"
	check "$m: dkimpy verifies the Ed25519 signature" grep -q '^pass d=example.org s=ed2026 a=ed25519-sha256' "$T_DIR/v.$m"
	check "$m: no signature fails" test -z "$(grep -v '^pass' "$T_DIR/v.$m")"
	"$IN_NS" opendkim-testmsg <"$f" >"$T_DIR/o.$m" 2>&1
	check "$m: OpenDKIM verifies (opendkim-testmsg exits 0, says nothing)" \
		test "$?" -eq 0 -a ! -s "$T_DIR/o.$m"
	"$IN_NS" "$PYTHON" "$DMARC" "$f" >"$T_DIR/d.$m" 2>&1
	check "$m: authheaders: dkim=pass, header.d=example.org" grep -q 'dkim=pass.*header.d=example.org' "$T_DIR/d.$m"
	check "$m: authheaders: dmarc=pass (p=reject, strict alignment)" grep -q 'dmarc=pass' "$T_DIR/d.$m"
done
diag "verdicts (plain): $(tr '\n' ' ' <"$T_DIR/v.plain")"
diag "authheaders (plain): $(tr '\n' ' ' <"$T_DIR/d.plain")"

# ---- tampering --------------------------------------------------------------------
tamper() { # NAME SED-EXPRESSION
	local f=$T_DIR/tamper.$1
	sed "$2" "$GOT/plain" >"$f"
	"$IN_NS" "$PYTHON" "$VERIFY" "$f" >"$T_DIR/v.t.$1" 2>&1
	check "tampered ($1): dkimpy fails both signatures" test "$(grep -c '^fail' "$T_DIR/v.t.$1")" -eq 2
	"$IN_NS" opendkim-testmsg <"$f" >"$T_DIR/o.t.$1" 2>&1
	check "tampered ($1): OpenDKIM fails it" test "$?" -ne 0 -o -s "$T_DIR/o.t.$1"
	"$IN_NS" "$PYTHON" "$DMARC" "$f" >"$T_DIR/d.t.$1" 2>&1
	check "tampered ($1): dmarc=fail" grep -q 'dmarc=fail' "$T_DIR/d.t.$1"
}
tamper body 's/^Hello\./Hello!/'
tamper subject "s/^Subject: $M plain/Subject: $M changed/"
tamper from2 "0,/^From: /s//From: mallory@example.org\\nFrom: /"
done_testing
