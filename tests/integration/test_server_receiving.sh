#!/usr/bin/env bash
# test_server_receiving.sh - clsmtpd as the receiving end of the internet:
# port 25 offers STARTTLS when a certificate is configured and keeps the
# pregreet test on plain and "starttls noauth" listeners; no AUTH before
# TLS unless auth_before_tls says so (and then never PLAIN or LOGIN); text
# pipelined behind DATA before the 354 is refused and delivers nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server_lib.sh"

srv_require
srv_users
P_MX=$(free_port)
srv_config "listen 127.0.0.1:$P_MX starttls noauth"
srv_start || { not_ok "clsmtpd starts"; done_testing; }
P=$SRV_PORT_PLAIN

# ehlo_caps PORT [starttls]: the EHLO keywords, before or after STARTTLS.
ehlo_caps() {
	"$PYTHON" - "$@" <<'PY'
import os, smtplib, ssl, sys
port = int(sys.argv[1])
s = smtplib.SMTP("127.0.0.1", port, timeout=10)
s.ehlo("client.test")
if len(sys.argv) > 2:
    s.starttls(context=ssl.create_default_context(cafile=os.environ["FIXTURE_CA"]))
    s.ehlo("client.test")
for k, v in s.esmtp_features.items():
    print((k + " " + v).strip().upper())
s.quit()
PY
}

# talk_first PORT SOURCE: send EHLO before the greeting; print the replies.
talk_first() {
	"$PYTHON" - "$@" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5,
                             source_address=(sys.argv[2], 0))
s.sendall(b"EHLO early.test\r\n")
data = b""
try:
    while True:
        d = s.recv(4096)
        if not d:
            break
        data += d
except socket.timeout:
    pass
print(data.decode("latin-1"))
PY
}

# ---- port 25: STARTTLS offered with a certificate ----------------------------
# The pregreet test first, from hosts that have not passed it yet (a host
# that passed is greeted at once for a day).
talk_first "$P" 127.0.0.3 >"$T_DIR/early_plain.out" 2>&1
check_grep "a plain listener still drops a client that talks first" '^554 5.5.1' "$T_DIR/early_plain.out"
talk_first "$P_MX" 127.0.0.4 >"$T_DIR/early_mx.out" 2>&1
check_grep "so does a 'starttls noauth' listener (the pregreet test follows AUTH, not TLS)" '^554 5.5.1' "$T_DIR/early_mx.out"

ehlo_caps "$P" >"$T_DIR/plain.caps" 2>&1
check_grep "port 25 (plain) offers STARTTLS when a certificate is configured" '^STARTTLS' "$T_DIR/plain.caps"
check_no_grep "port 25 offers no AUTH" '^AUTH' "$T_DIR/plain.caps"
ehlo_caps "$P" tls >"$T_DIR/plain_tls.caps" 2>&1
check_grep "STARTTLS on port 25 completes (verified against the test CA)" '^PIPELINING' "$T_DIR/plain_tls.caps"

mark=$(unique_mark)
"$PYTHON" - "$P" "$mark" >"$T_DIR/tls25.out" 2>&1 <<'PY'
import os, smtplib, ssl, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=10)
s.starttls(context=ssl.create_default_context(cafile=os.environ["FIXTURE_CA"]))
s.sendmail("sender@internet.test", ["alice@example.org"],
           "From: sender@internet.test\r\nTo: alice@example.org\r\nSubject: " + sys.argv[2] +
           "\r\n\r\nover TLS on port 25\r\n")
s.quit()
PY
if srv_mail_wait alice "$mark"; then
	ok "mail from the internet arrives over STARTTLS on port 25"
	check_grep "... and its Received: field says it came encrypted" 'with (ESMTPS|UTF8SMTPS) id' "$SRV_MAILFILE"
else
	not_ok "mail from the internet arrives over STARTTLS on port 25"
	diag_file "$T_DIR/tls25.out"
fi

# ---- no AUTH before TLS by default ---------------------------------------------
ehlo_caps "$SRV_PORT_SUB" >"$T_DIR/sub_clear.caps" 2>&1
check_grep "the submission port offers STARTTLS" '^STARTTLS' "$T_DIR/sub_clear.caps"
check_no_grep "no AUTH at all before TLS (not even CRAM-MD5 or SCRAM)" '^AUTH' "$T_DIR/sub_clear.caps"
ehlo_caps "$SRV_PORT_SUB" tls >"$T_DIR/sub_tls.caps" 2>&1
check_grep "after STARTTLS: PLAIN, LOGIN and CRAM-MD5 are offered" '^AUTH .*PLAIN.*' "$T_DIR/sub_tls.caps"
check_grep "... CRAM-MD5 among them" '^AUTH .*CRAM-MD5' "$T_DIR/sub_tls.caps"
srv_dialog "$SRV_PORT_SUB" >"$T_DIR/auth_clear.out" <<'SCRIPT'
b'EHLO c.test\r\n'
b'AUTH CRAM-MD5\r\n'
b'QUIT\r\n'
SCRIPT
check_grep "AUTH sent in clear anyway is refused" '^5[0-9][0-9] ' "$T_DIR/auth_clear.out"
check_no_grep "... without a challenge" '^334' "$T_DIR/auth_clear.out"

# ---- message text pipelined behind DATA ------------------------------------------
mark2=$(unique_mark)
printf "b'EHLO spam.test\\\\r\\\\nMAIL FROM:<a@spam.test>\\\\r\\\\nRCPT TO:<alice@example.org>\\\\r\\\\nDATA\\\\r\\\\nSubject: %s\\\\r\\\\n\\\\r\\\\nbuy\\\\r\\\\n.\\\\r\\\\n'\nb'NOOP\\\\r\\\\n'\n" "$mark2" >"$T_DIR/pipe.in"
srv_dialog "$P" --source 127.0.0.2 <"$T_DIR/pipe.in" >"$T_DIR/pipe.out"
check_grep "text sent behind DATA before the 354 is refused (503 5.5.0)" '^503 5.5.0 .*pipelining' "$T_DIR/pipe.out"
check_no_grep "... no 354 was given" '^354' "$T_DIR/pipe.out"
check_grep "... and the session is closed" '^\((closed|send failed)\)' "$T_DIR/pipe.out"
srv_dialog "$P" --source 127.0.0.2 >"$T_DIR/pipe_ok.out" <<'SCRIPT'
b'EHLO good.test\r\nMAIL FROM:<a@good.test>\r\nRCPT TO:<alice@example.org>\r\nDATA\r\n'
b'Subject: waited for the 354\r\n\r\nfine\r\n.\r\nQUIT\r\n'
SCRIPT
check_grep "a client that waits for the 354 after pipelining MAIL/RCPT/DATA is served" '^250 2.0.0' "$T_DIR/pipe_ok.out"
if srv_mail_wait alice "waited for the 354" 10 && ! grep -qlF -- "$mark2" "$SRV_DIR/mail/alice/new/"* 2>/dev/null; then
	ok "the pipelined text was not delivered; the proper one was"
else
	not_ok "the pipelined text was not delivered; the proper one was"
fi

# ---- a stranger that greets with our own name ------------------------------------
srv_dialog "$P" >"$T_DIR/helo_ours.out" <<'SCRIPT'
b'EHLO mx.example.test\r\n'
b'EHLO EXAMPLE.ORG.\r\n'
b'MAIL FROM:<a@forged.test>\r\n'
b'EHLO client.internet.test\r\n'
b'QUIT\r\n'
SCRIPT
if [ "$(grep -c '^550 5.7.1 Error: you are not me' "$T_DIR/helo_ours.out")" -eq 2 ]; then
	ok "EHLO with our host name or one of our domains (any case, trailing dot) is refused"
else
	not_ok "EHLO with our host name or one of our domains (any case, trailing dot) is refused"
	diag_file "$T_DIR/helo_ours.out"
fi
check_grep "... so MAIL still needs a proper EHLO" '^503 5.5.1' "$T_DIR/helo_ours.out"
check_grep "... and a proper one is then served" '^250 (DSN|STARTTLS)$' "$T_DIR/helo_ours.out"
check_grep "... and the refusal is logged with the name" 'HELO/EHLO mx.example.test is our own name' "$SRV_DIR/log"
srv_dialog "$P" --source 127.0.0.2 >"$T_DIR/helo_trusted.out" <<'SCRIPT'
b'EHLO mx.example.test\r\n'
b'QUIT\r\n'
SCRIPT
check_no_grep "a trusted network may use our name (a LAN machine, a local script)" '^550' "$T_DIR/helo_trusted.out"

# ---- auth_before_tls yes: the old clients' way, never PLAIN/LOGIN ----------------
srv_stop
srv_config "auth_before_tls yes"
srv_start || { not_ok "clsmtpd restarts with auth_before_tls yes"; done_testing; }
ehlo_caps "$SRV_PORT_SUB" >"$T_DIR/sub_clear2.caps" 2>&1
check_grep "auth_before_tls yes: CRAM-MD5 offered in clear" '^AUTH .*CRAM-MD5' "$T_DIR/sub_clear2.caps"
check_no_grep "... but never PLAIN or LOGIN in clear" '^AUTH .*( |^)(PLAIN|LOGIN)( |$)' "$T_DIR/sub_clear2.caps"
"$CLSMTPD" -t -f "$SRV_DIR/clsmtpd.conf" >/dev/null 2>&1
check "the configuration with auth_before_tls checks" [ $? -eq 0 ]
printf 'auth_before_tls maybe\nlisten 127.0.0.1:25 plain\n' >"$T_DIR/bad.conf"
"$CLSMTPD" -t -f "$T_DIR/bad.conf" >"$T_DIR/bad.out" 2>&1
check_grep "a bad auth_before_tls value names the line" 'bad.conf:1: auth_before_tls: must be yes or no' "$T_DIR/bad.out"

done_testing
