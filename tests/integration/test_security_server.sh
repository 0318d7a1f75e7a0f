#!/usr/bin/env bash
# test_security_server.sh - clsmtpd against hostile clients, for the attack
# classes test_server_protocol.sh leaves out: AUTH behind STARTTLS, NUL and
# BDAT smuggling (through the relay too), ENVID/ORCPT header injection, long
# lines, bad AUTH base64, more relay tricks, shell metacharacters.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server_lib.sh"

srv_require
srv_users
# Relay through the test Postfix on its port without CHUNKING, so that the
# relayed copy goes out with DATA and dot-stuffing.
SECRET=$SRV_DIR/relay.secret
(umask 077 && printf '%s\n' "$SASL_PASSWORD" >"$SECRET")
srv_config "smarthost 127.0.0.1:$POSTFIX_SMTPS_NOCHUNK_PORT
smarthost_tls smtps
smarthost_user $SASL_USER
smarthost_password_file $SECRET
smarthost_ca $FIXTURE_CA
retry_min 1s
retry_max 2s"
srv_start || { not_ok "clsmtpd starts"; done_testing; }
P=$SRV_PORT_PLAIN

# raw PORT [--tls] [--source ADDR]: send stdin's bytes (Python bytes literals,
# one per line, each sent as one write) and print every reply line, up to
# the server's close (every script ends with QUIT; 5 s at most).
RAW=$T_DIR/raw.py
cat >"$RAW" <<'PY'
import ast, os, socket, ssl, sys, time
port = int(sys.argv[1]); args = sys.argv[2:]
src = args[args.index("--source") + 1] if "--source" in args else None
s = socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(src, 0) if src else None)
if "--tls" in args:
    s = ssl.create_default_context(cafile=os.environ["FIXTURE_CA"]).wrap_socket(s, server_hostname="localhost")
out = b""
def drain(t, until=None):
    global out
    s.settimeout(t)
    try:
        while until is None or until not in out:
            d = s.recv(1 << 20)
            if not d:
                out += b"(closed)\r\n"; return False
            out += d
    except (socket.timeout, ssl.SSLError):
        return True
    except OSError:
        out += b"(reset)\r\n"; return False
    return True
drain(5, b"\r\n")
for line in sys.stdin:
    if not line.strip() or line.startswith("#"):
        continue
    try:
        s.sendall(ast.literal_eval(line.strip()))
    except OSError:
        out += b"(send failed)\r\n"; break
    if not drain(0.1):
        break
drain(5)
sys.stdout.write(out.decode("latin-1").replace("\r\n", "\n"))
PY
raw() { "$PYTHON" "$RAW" "$@"; }

# ---- STARTTLS command injection: AUTH pipelined behind STARTTLS -----------------
# If the server executed it after the handshake, the session would be
# authenticated as bob and might relay.
bob_plain=$(printf '\0bob\0%s' "$SRV_PW_BOB" | base64 -w0)
"$PYTHON" - "$SRV_PORT_SUB" "$bob_plain" >"$T_DIR/inject.out" 2>&1 <<'PY'
import os, socket, ssl, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
f = s.makefile("rb")
def reply(src):
    lines = []
    while True:
        l = src.readline()
        lines.append(l)
        if l[3:4] != b"-":
            return b"".join(lines).decode()
reply(f); s.sendall(b"EHLO c\r\n"); reply(f)
s.sendall(b"STARTTLS\r\nAUTH PLAIN " + sys.argv[2].encode() + b"\r\n")
print(reply(f).strip())
t = ssl.create_default_context(cafile=os.environ["FIXTURE_CA"]).wrap_socket(s, server_hostname="localhost")
g = t.makefile("rb")
t.sendall(b"EHLO c\r\n"); print("ehlo:", reply(g).replace("\r\n", " | "))
t.sendall(b"MAIL FROM:<bob@example.org>\r\n"); print("mail:", reply(g).strip())
t.sendall(b"RCPT TO:<someone@remote.test>\r\n"); print("rcpt:", reply(g).strip())
PY
check_grep "AUTH pipelined behind STARTTLS: STARTTLS answered 220" '^220 2.0.0' "$T_DIR/inject.out"
check_grep "AUTH pipelined behind STARTTLS: AUTH is still offered after TLS (not authenticated)" '^ehlo: .*AUTH' "$T_DIR/inject.out"
check_grep "AUTH pipelined behind STARTTLS: relaying is still denied" '^rcpt: 554' "$T_DIR/inject.out"

# ---- SMTP smuggling: NUL variants in DATA -------------------------------------------
for v in '\r\n\x00.\r\n' '\r\n.\x00\r\n' '\n\x00.\n'; do
	mark=$(unique_mark)
	{
		echo "b'EHLO c\\r\\nMAIL FROM:<a@stranger.test>\\r\\nRCPT TO:<alice@example.org>\\r\\nDATA\\r\\n'"
		echo "b'Subject: $mark outer\\r\\n\\r\\nx$v' b'MAIL FROM:<evil@stranger.test>\\r\\nRCPT TO:<bob@example.org>\\r\\nDATA\\r\\nSubject: $mark smuggled\\r\\n\\r\\ny\\r\\n.\\r\\n'"
		echo "b'QUIT\\r\\n'"
	} >"$T_DIR/nul.in"
	raw "$P" <"$T_DIR/nul.in" >"$T_DIR/nul.out"
	if grep -q '^550 5.6.0' "$T_DIR/nul.out" && [ "$(grep -c '^354' "$T_DIR/nul.out")" -eq 1 ] &&
		! grep -q '^250 2.0.0 Ok: queued' "$T_DIR/nul.out"; then
		ok "smuggling variant $v: refused, and no smuggled command ran"
	else
		not_ok "smuggling variant $v: refused, and no smuggled command ran"
		diag_file "$T_DIR/nul.out"
	fi
	sleep 0.5
	check "smuggling variant $v: nothing delivered" \
		test "$(srv_mail_count alice "$mark")" -eq 0 -a "$(srv_mail_count bob "$mark")" -eq 0
done

# ---- SMTP smuggling through BDAT and the relay -----------------------------------------
# A BDAT chunk may hold "\r\n.\r\n" followed by commands: it is content. Relayed
# with DATA (the smarthost has no CHUNKING), it must arrive as one message
# holding those lines, and never as a second message.
mark=$(unique_mark)
body="Subject: $mark outer\\r\\n\\r\\nx\\r\\n.\\r\\nMAIL FROM:<evil@stranger.test>\\r\\nRCPT TO:<victim-$mark@remote.test>\\r\\nDATA\\r\\nSubject: $mark smuggled\\r\\n\\r\\ny\\r\\n.\\r\\n"
len=$(printf '%b' "$body" | wc -c)
raw "$P" --source 127.0.0.2 >"$T_DIR/bdat.out" <<EOF
b'EHLO lan.test\r\nMAIL FROM:<printer@lan.test>\r\nRCPT TO:<smuggle-$mark@remote.test>\r\nBDAT $len LAST\r\n$body'
b'QUIT\r\n'
EOF
check_grep "BDAT chunk holding an end of data and commands: accepted as one message" '^250 2.0.0 Ok: queued' "$T_DIR/bdat.out"
check "BDAT chunk: the commands inside were not executed (one 250 for the message)" \
	test "$(grep -c '^250 2.0.0 Ok: queued' "$T_DIR/bdat.out")" -eq 1
if mail_wait "$mark outer" 20; then
	ok "BDAT smuggling: the relayed message arrives at the smarthost"
	sleep 1
	check "BDAT smuggling: exactly one message arrives, not two" test "$(mail_count "$mark")" -eq 1
	check "BDAT smuggling: the smuggled lines are content of that message" grep -q "^MAIL FROM:<evil@stranger.test>" "$MAILFILE"
	check "BDAT smuggling: nothing for the smuggled recipient" test "$(mail_count "victim-$mark")" -le 1
	if grep -l "victim-$mark" "$POSTFIX_MAILDIR"/new/* 2>/dev/null | xargs -r grep -L "$mark outer" | grep -q .; then
		not_ok "BDAT smuggling: no message of its own for the smuggled recipient"
	else
		ok "BDAT smuggling: no message of its own for the smuggled recipient"
	fi
else
	not_ok "BDAT smuggling: the relayed message arrives at the smarthost"
	diag_file "$SRV_DIR/log"
fi

# ---- header injection through MAIL FROM / RCPT TO parameters ----------------------------
# ENVID and ORCPT are xtext: "+0D+0A" decodes to CR LF. The failure notice
# quotes both; an injected "X-Injected:" line must never appear in it.
mark=$(unique_mark)
"$PYTHON" - "$P" "$mark" "$POSTFIX_REJECT_RCPT" >"$T_DIR/hdrinj.out" 2>&1 <<'PY'
import smtplib, sys
port, mark, rej = int(sys.argv[1]), sys.argv[2], sys.argv[3]
s = smtplib.SMTP("127.0.0.1", port, source_address=("127.0.0.2", 0), timeout=10)
s.ehlo("lan.test")
print(s.mail("alice@example.org", ["ENVID=env+0D+0AX-Injected:+20envid-" + mark, "RET=HDRS"]))
print(s.rcpt(rej, ["NOTIFY=FAILURE", "ORCPT=rfc822;x+0D+0AX-Injected:+20orcpt-" + mark]))
print(s.rcpt("alice@example.org", ["ORCPT=rfc822;y+0D+0AX-Injected:+20local-" + mark]))
print(s.data(("Subject: hdrinj " + mark + "\r\n\r\nbody\r\n").encode()))
s.quit()
PY
check_grep "parameters with +0D+0A: the message is accepted" "^\(250, b'2.0.0 Ok: queued" "$T_DIR/hdrinj.out"
if srv_mail_wait alice "hdrinj $mark" 10; then
	check_no_grep "the local copy holds no injected field" '^X-Injected' "$SRV_MAILFILE"
else
	not_ok "the local copy is delivered" "$(cat "$T_DIR/hdrinj.out")"
fi
dsn=
for ((i = 0; i < 200; i++)); do
	dsn=$(grep -l "^Subject: Undelivered Mail" "$SRV_DIR/mail/alice/new/"* 2>/dev/null | xargs -r grep -lF -- "$mark" | head -n1)
	[ -n "$dsn" ] && break
	sleep 0.1
done
if [ -n "$dsn" ]; then
	ok "a failure notice is sent for the refused recipient"
	check_no_grep "the failure notice holds no injected field (ENVID, ORCPT)" '^X-Injected' "$dsn"
	check "the failure notice parses, with the refused recipient in its report" "$PYTHON" -c '
import email, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"))
ds = [p for p in m.walk() if p.get_content_type() == "message/delivery-status"]
sys.exit(0 if ds and sys.argv[2] in ds[0].as_string() else 1)' "$dsn" "$POSTFIX_REJECT_RCPT"
else
	not_ok "a failure notice is sent for the refused recipient"
	diag_file "$SRV_DIR/log"
fi

# ---- overlong commands and lines ---------------------------------------------------------
long=$(head -c 100000 /dev/zero | tr '\0' a)
printf "b'EHLO %s\\\\r\\\\n'\nb'NOOP\\\\r\\\\n'\n" "$long" | raw "$P" >"$T_DIR/long.out"
check_grep "a 100 kB command line is refused: 500 line too long" '^500 5.5.2 Error: line too long' "$T_DIR/long.out"
check_grep "after a 100 kB command line the session goes on (NOOP 250)" '^250 2.0.0 Ok' "$T_DIR/long.out"
"$PYTHON" - "$P" >"$T_DIR/flood.out" 2>&1 <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.recv(4096)
chunk = b"A" * 65536
for _ in range(160):  # 10 MB without a line end
    s.sendall(chunk)
s.sendall(b"\r\nNOOP\r\n")
s.settimeout(5)
data = b""
while data.count(b"\r\n") < 2:
    d = s.recv(4096)
    if not d:
        break
    data += d
print(data.decode("latin-1"))
PY
check_grep "10 MB without a line end: one 500 line too long" '^500 5.5.2 Error: line too long' "$T_DIR/flood.out"
check_grep "10 MB without a line end: the session goes on" '^250 2.0.0 Ok' "$T_DIR/flood.out"
check "10 MB without a line end: the server is still running" kill -0 "$SRV_PID"
longline=$(head -c 2000 /dev/zero | tr '\0' b)
printf "%s\n" "b'EHLO c\\r\\nMAIL FROM:<a@stranger.test>\\r\\nRCPT TO:<alice@example.org>\\r\\nDATA\\r\\n'" \
	"b'Subject: long\\r\\n\\r\\n$longline\\r\\n.\\r\\n'" "b'QUIT\\r\\n'" | raw "$P" >"$T_DIR/longdata.out"
check_grep "a 2000-octet message line is refused (RFC 5322: 998)" '^550 5.6.0 Error: message line too long' "$T_DIR/longdata.out"

# ---- AUTH with malformed base64 (over implicit TLS, where AUTH is offered) ------------------
raw "$SRV_PORT_TLS" --tls >"$T_DIR/authb64.out" <<EOF
b'EHLO c\r\n'
b'AUTH PLAIN !!!!\r\n'
b'AUTH PLAIN dGVzdA\r\n'
b'AUTH PLAIN ab=c\r\n'
b'AUTH PLAIN AGJvYgA\x00\r\n'
b'AUTH LOGIN\r\n'
b'%%%%\r\n'
b'AUTH CRAM-MD5\r\n'
b'*\r\n'
b'AUTH DIGEST-MD5\r\n'
b'\r\n'
b'AUTH SCRAM-SHA-256 bixuPWJvYixyPQ==\r\n'
b'AUTH PLAIN $(head -c 20000 /dev/zero | tr '\0' A)\r\n'
b'NOOP\r\n'
EOF
check "malformed base64 after AUTH PLAIN is refused with 501 (3 forms)" \
	test "$(grep -c '^501 5.5.2 Error: cannot decode the initial response' "$T_DIR/authb64.out")" -eq 3
check_grep "a NUL byte in an AUTH line is refused" '^500 5.5.2 Error: bare CR or NUL in command' "$T_DIR/authb64.out"
check_grep "malformed base64 in an AUTH continuation is refused" '^501 5.5.2 Error: cannot decode the response' "$T_DIR/authb64.out"
check_grep "'*' cancels an AUTH exchange" '^501 5.0.0 Authentication cancelled' "$T_DIR/authb64.out"
check "an empty DIGEST-MD5 answer and a malformed SCRAM message fail (535), not crash" \
	test "$(grep -c '^535 5.7.8' "$T_DIR/authb64.out")" -ge 2
check_grep "a 20 kB AUTH line is refused" '^500 5.5.2 Error: line too long' "$T_DIR/authb64.out"
check "after malformed AUTH the session answers NOOP" test "$(tail -n1 "$T_DIR/authb64.out" | cut -c1-3)" = 250
check "after malformed AUTH the server is still running" kill -0 "$SRV_PID"
check_no_grep "no AUTH attempt succeeded" '^235' "$T_DIR/authb64.out"

# ---- more open-relay tricks (test_server_protocol.sh has the classic list) -------------------
tricks=('user@localhost' 'user@127.0.0.1' 'user@[IPv6:::1]' '<user@other.test>' 'user@other.test@'
	'USER@OTHER.TEST' '"user@other.test"' 'user@other.test.' 'user@example.org@[127.0.0.1]'
	'@other.test:user@example.org' 'user@xn--80ak6aa92e.test' 'user@other.test%example.org'
	'user@example.org%other.test' 'other.test:user@example.org' 'user\@other.test@example.org'
	'user@ other.test' 'user@other.test>' '"user@example.org"@other.test')
for t in "${tricks[@]}"; do
	printf "b'EHLO attacker.test\\\\r\\\\nMAIL FROM:<a@attacker.test>\\\\r\\\\n'\nb'RCPT TO:<%s>\\\\r\\\\n'\nb'QUIT\\\\r\\\\n'\n" "$t" >"$T_DIR/trick.in"
	raw "$P" <"$T_DIR/trick.in" >"$T_DIR/trick.out"
	if sed -n '/^250 2.1.0/,$p' "$T_DIR/trick.out" | sed -n 2p | grep -Eq '^5[0-9][0-9] '; then
		ok "open-relay trick refused: RCPT TO:<$t>"
	else
		not_ok "open-relay trick refused: RCPT TO:<$t>"
		diag_file "$T_DIR/trick.out"
	fi
done

# ---- shell metacharacters in every field that reaches a log or a file name ----------------
# The server never runs a shell, and every log record stays one line.
mark=$(unique_mark)
pwn=/tmp/pwned-$mark
meta="\$(touch\${IFS}$pwn)"
tick="\`touch\${IFS}$pwn\`"
bob_meta=$(printf '\0%s\0x' "$meta" | base64 -w0)
raw "$P" >"$T_DIR/meta.out" <<EOF
b'EHLO $meta\r\n'
b'MAIL FROM:<"$tick;|&"@stranger.test> ENVID=$meta\r\n'
b'RCPT TO:<"$meta"@catchall.example.org>\r\n'
b'RCPT TO:<$tick@catchall.example.org> ORCPT=rfc822;$tick NOTIFY=NEVER\r\n'
b'DATA\r\n'
b'Subject: $mark $meta\r\nMessage-ID: <$tick@x>\r\n\r\n$meta\r\n.\r\n'
b'QUIT\r\n'
EOF
raw "$SRV_PORT_TLS" --tls >>"$T_DIR/meta.out" <<EOF
b'EHLO c\r\nAUTH PLAIN $bob_meta\r\n'
b'AUTH LOGIN\r\n'
b'$(printf '%s' "$tick" | base64 -w0)\r\n'
b'eA==\r\n'
b'QUIT\r\n'
EOF
check_grep "metacharacters: the message is accepted" '^250 2.0.0 Ok: queued' "$T_DIR/meta.out"
if srv_mail_wait bob "$mark" 10; then ok "metacharacters: the message is delivered"; else not_ok "metacharacters: the message is delivered"; fi
check "metacharacters: no shell ran anything (no file $pwn)" test ! -e "$pwn"
check_grep "metacharacters: the HELO name is logged as it was sent" 'helo=\$\(touch' "$SRV_DIR/log"
check "metacharacters: every log line is one record (starts with clsmtpd[pid])" \
	bash -c "! grep -avE '^clsmtpd(-[a-z]+)?\\[[0-9]+\\]: ' '$SRV_DIR/log' | grep -q ."
bad=$(find "$SRV_DIR/spool" "$SRV_DIR/mail" -mindepth 1 | sed "s|^$SRV_DIR/||" | grep -v '^[A-Za-z0-9/._:,=-]*$' || true)
if [ -z "$bad" ]; then
	ok "metacharacters: every spool and Maildir file name is [A-Za-z0-9._:,=-]"
else
	not_ok "metacharacters: every spool and Maildir file name is [A-Za-z0-9._:,=-]" "$bad"
fi

rm -f "$pwn"
check_no_secret "no password form in the server log" bob "$SRV_PW_BOB" "$SRV_DIR/log"
check "the server survived every test" kill -0 "$SRV_PID"
done_testing
