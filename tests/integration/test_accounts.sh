#!/usr/bin/env bash
# test_accounts.sh - the configuration file against the test Postfix:
# choosing the account (-a, the -F address, the default), the command line
# overriding it, -C, the permission check and the refused "password", every
# password source (passwordeval, passfile, keyring via secret-tool,
# environment), a provider preset, --import-msmtprc end to end, and OAuth2:
# the shipped token helper (data/clsmtpc-oauth2-token) refreshing a token at
# a fake token endpoint and clsmtpc sending it with XOAUTH2.
. "$(dirname "$0")/lib.sh"
require_client

DATA=$LIB_ROOT/data
export CLSMTPC_PROVIDERS=$DATA/providers.conf
XDG=$T_DIR/xdg
CFG=$XDG/clsmtpc/config
mkdir -p "$XDG/clsmtpc" "$T_DIR/home" "$T_DIR/fakebin"
export XDG_CONFIG_HOME=$XDG HOME=$T_DIR/home CLSMTPC_TEST_PW=$SASL_PASSWORD
MK=$(unique_mark)
DEAD=$(free_port)

write_cfg() { # FILE: stdin into FILE, mode 600
	cat >"$1"
	chmod 600 "$1"
}

write_cfg "$CFG" <<EOF
defaults
tls_trust_file $FIXTURE_CA
timeout 20

account sub
host localhost
port $POSTFIX_SUBMISSION_PORT
tls on
auth plain
user $SASL_USER
password_env CLSMTPC_TEST_PW
from sub-$MK@example.test

account smtps : sub
port $POSTFIX_SMTPS_PORT
tls_starttls off
from smtps-$MK@example.test

account wrongport : sub
port $DEAD
from wrongport-$MK@example.test

account viapreset
provider docomo
host localhost
port $POSTFIX_SMTPS_PORT
user $SASL_USER
password_env CLSMTPC_TEST_PW
from preset-$MK@example.test

account evalpw : sub
password_env
passwordeval printf '%s\\n' "\$CLSMTPC_TEST_PW"
from eval-$MK@example.test

account default : sub
EOF

check_eq() { # NAME GOT WANT
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "got:  '$2'" "want: '$3'"; fi
}

# send NAME WANT-SENDER ARGS...: send a marked mail with ARGS and check it
# arrived with WANT-SENDER as its envelope sender.
send() {
	local name=$1 want=$2 m
	shift 2
	m=$(unique_mark)
	run_client "$@" -T "to-$m@example.test" -s "accounts $m" "body $m"
	if [ "$RC" -ne 0 ]; then
		not_ok "$name" "exit status $RC"
		client_diag
		return
	fi
	if mail_wait "$m"; then
		check_eq "$name" "$(header Return-Path)" "<$want>"
	else
		not_ok "$name: delivered"
	fi
}

# ---- which account -------------------------------------------------------
send "-a smtps: that account (implicit TLS port) is used" "smtps-$MK@example.test" -a smtps -v
check_grep "-a smtps: the session is implicit TLS" "${V_PREFIX}smtps>: AUTH PLAIN" "$ERR"
send "-F picks the account whose from matches" "smtps-$MK@example.test" -F "smtps-$MK@example.test" -v
check_grep "-F smtps-...: implicit TLS as the account says" "${V_PREFIX}smtps>: MAIL FROM" "$ERR"
send "no -a, no -F: the default account" "sub-$MK@example.test" -v
check_grep "default account: STARTTLS" "${V_PREFIX}tls>: MAIL FROM" "$ERR"
send "-F with an unknown address: default account, that sender" "other-$MK@example.test" \
	-F "other-$MK@example.test"

# ---- the command line wins -----------------------------------------------
run_client -a wrongport -T "x@example.test" -s s b
check_rc "the account's port, nothing listens: 75 (temporary)" 75
send "-P overrides the account's port" "wrongport-$MK@example.test" -a wrongport \
	-P "$POSTFIX_SUBMISSION_PORT"
send "-Z smtps -P overrides the account's TLS mode" "sub-$MK@example.test" -a sub \
	-Z smtps -P "$POSTFIX_SMTPS_PORT"
run_client -a nosuch -T x@example.test -s s b
check_rc "-a with an unknown account: 78" 78
check_grep "and it names it" "account 'nosuch' is not defined" "$ERR"

# ---- password sources ----------------------------------------------------
send "passwordeval in the account" "eval-$MK@example.test" -a evalpw
printf '%s:localhost:%s\n' "$SASL_USER" "$SASL_PASSWORD" >"$T_DIR/passfile"
chmod 600 "$T_DIR/passfile"
write_cfg "$T_DIR/pf.conf" <<EOF
account pf
host localhost
port $POSTFIX_SUBMISSION_PORT
tls_trust_file $FIXTURE_CA
user $SASL_USER
passfile $T_DIR/passfile
from pf-$MK@example.test
EOF
send "-C FILE and the original's password file in the account" "pf-$MK@example.test" \
	-C "$T_DIR/pf.conf" -a pf
CLSMTPC_TEST_PW='' run_client -a sub -T x@example.test -s s b
check_rc "password_env with the variable empty: 78" 78
check_grep "and it names the variable" "CLSMTPC_TEST_PW" "$ERR"

# The keyring: a stand-in secret-tool that answers only msmtp's attributes.
cat >"$T_DIR/fakebin/secret-tool" <<EOF
#!/bin/sh
[ "\$*" = "lookup host localhost service smtp user $SASL_USER" ] || exit 1
printf '%s\n' "\$FAKE_KEYRING_SECRET"
EOF
chmod +x "$T_DIR/fakebin/secret-tool"
write_cfg "$T_DIR/kr.conf" <<EOF
account kr
host localhost
port $POSTFIX_SUBMISSION_PORT
tls_trust_file $FIXTURE_CA
user $SASL_USER
keyring on
from kr-$MK@example.test
EOF
PATH=$T_DIR/fakebin:$PATH FAKE_KEYRING_SECRET=$SASL_PASSWORD \
	send "keyring on: the password from secret-tool lookup host/service/user" \
	"kr-$MK@example.test" -C "$T_DIR/kr.conf" -a kr
if ! command -v secret-tool >/dev/null; then
	run_client -C "$T_DIR/kr.conf" -a kr -T x@example.test -s s b
	check_rc "keyring on without secret-tool: 78" 78
	check_grep "and it says which package" "libsecret-tools" "$ERR"
fi

# ---- a provider preset ------------------------------------------------------
send "provider docomo fills TLS mode and mechanism (implicit TLS, PLAIN)" \
	"preset-$MK@example.test" -a viapreset -v
check_grep "provider docomo: implicit TLS from the preset" "${V_PREFIX}smtps>: AUTH PLAIN" "$ERR"

# ---- the file's own checks ------------------------------------------------
write_cfg "$T_DIR/open.conf" <<EOF
account a
host localhost
EOF
chmod 644 "$T_DIR/open.conf"
run_client -C "$T_DIR/open.conf" -a a -T x@example.test -s s b
check_rc "a configuration readable by others: 78" 78
check_grep "with the fix" "chmod 600" "$ERR"
write_cfg "$T_DIR/pw.conf" <<EOF
account a
host localhost
password Hunter2-$MK
EOF
run_client -C "$T_DIR/pw.conf" -a a -T x@example.test -s s b
check_rc "'password' in the configuration: 78" 78
check_grep "names the file and line and the way out" "pw.conf, line 3: .*passwordeval" "$ERR"
check_no_fixed "the refused password is not echoed" "Hunter2-$MK" "$ERR"
# A seed command line (-M without -a or -C) does not read any configuration.
XDG_CONFIG_HOME=$T_DIR/broken
mkdir -p "$XDG_CONFIG_HOME/clsmtpc"
cp "$T_DIR/pw.conf" "$XDG_CONFIG_HOME/clsmtpc/config"
m=$(unique_mark)
run_client -M localhost -P "$POSTFIX_SUBMISSION_PORT" -U "$SASL_USER" --password-env CLSMTPC_TEST_PW \
	--tls-trust-file "$FIXTURE_CA" -F "seed-$MK@example.test" -T "to-$m@example.test" -s "$m" body
check_rc "-M without -a ignores even a broken configuration" 0
XDG_CONFIG_HOME=$XDG

# ---- --import-msmtprc, then sending with what it printed -------------------
cat >"$T_DIR/msmtprc" <<EOF
# my msmtp setup
defaults
auth on
tls on
tls_trust_file $FIXTURE_CA
logfile ~/.msmtp.log
tls_priorities NORMAL

account imported
host localhost
port $POSTFIX_SUBMISSION_PORT
user $SASL_USER
password Secret-$MK-msmtp
from imported-$MK@example.test

account default : imported
EOF
run_client --import-msmtprc "$T_DIR/msmtprc"
check_rc "--import-msmtprc FILE exits 0" 0
check_no_fixed "the imported configuration holds no password" "Secret-$MK-msmtp" "$OUT" "$ERR"
check_grep "the account gets the keyring instead" "^keyring on$" "$OUT"
check_grep "auth on becomes auth auto" "^auth auto$" "$OUT"
check_grep "logfile passes through (clsmtpc logs as msmtp does)" "^logfile ~/.msmtp.log$" "$OUT"
check_grep "an unsupported key stays as a comment saying why" "^# not supported by clsmtpc \\(GnuTLS priority.*\\): tls_priorities NORMAL" "$OUT"
check_grep "stderr says how to store the password" \
	"secret-tool store --label=clsmtpc host localhost service smtp user $SASL_USER" "$ERR"
cp "$OUT" "$T_DIR/imported.conf"
chmod 600 "$T_DIR/imported.conf"
PATH=$T_DIR/fakebin:$PATH FAKE_KEYRING_SECRET=$SASL_PASSWORD \
	send "the imported configuration sends (default account, keyring)" \
	"imported-$MK@example.test" -C "$T_DIR/imported.conf"

# ---- OAuth2: the token helper and XOAUTH2 ------------------------------------
# A fake token endpoint (HTTP on loopback) and a submission server with
# implicit TLS that offers only XOAUTH2 and checks the bearer token.
cat >"$T_DIR/oauthfake.py" <<'EOF'
import base64, http.server, os, socket, ssl, sys, threading, urllib.parse

d = sys.argv[1]
TOKEN = "ya29.test-" + os.urandom(6).hex()
hits = []

class Token(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        f = urllib.parse.parse_qs(body)
        hits.append(f)
        good = (f.get("grant_type") == ["refresh_token"] and f.get("client_id") == ["cid.example"]
                and f.get("client_secret") == ["s3cr3t&=+"] and f.get("refresh_token") == ["1//rt-x"])
        out = ('{\n  "access_token": "%s",\n  "expires_in": 3599,\n  "token_type": "Bearer",\n'
               '  "refresh_token": "1//rt-rotated"\n}' % TOKEN
               if good else '{"error": "invalid_grant"}').encode()
        self.send_response(200 if good else 400)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)
        open(d + "/token_hits", "w").write(str(len(hits)))
    def log_message(self, *a):
        pass

httpd = http.server.HTTPServer(("127.0.0.1", 0), Token)
threading.Thread(target=httpd.serve_forever, daemon=True).start()

ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
ctx.load_cert_chain(os.environ["FIXTURE_CERT"], os.environ["FIXTURE_KEY"])
ls = socket.socket()
ls.bind(("127.0.0.1", 0))
ls.listen(5)
print(httpd.server_address[1], ls.getsockname()[1], flush=True)
ls.settimeout(60)
want = base64.b64encode(("user=alice@example.test\x01auth=Bearer %s\x01\x01" % TOKEN).encode())
for _ in range(2):
    c, _ = ls.accept()
    s = ctx.wrap_socket(c, server_side=True)
    s.settimeout(20)
    f = s.makefile("rwb")
    def say(x):
        f.write(x.encode() + b"\r\n"); f.flush()
    say("220 oauth.example.test ESMTP")
    authed = False
    while True:
        line = f.readline()
        if not line:
            break
        cmd = line.strip().split(b" ")
        verb = cmd[0].upper()
        if verb == b"EHLO":
            say("250-oauth.example.test\r\n250-PIPELINING\r\n250 AUTH XOAUTH2")
        elif verb == b"AUTH":
            authed = cmd[1].upper() == b"XOAUTH2" and len(cmd) > 2 and cmd[2] == want
            open(d + "/auth_result", "a").write("ok\n" if authed else "bad %r\n" % line)
            say("235 2.7.0 Accepted" if authed else "535 5.7.8 Bad token")
        elif verb in (b"MAIL", b"RCPT"):
            say("250 ok" if authed else "530 5.7.0 Authentication required")
        elif verb == b"DATA":
            say("354 go")
            while f.readline() not in (b".\r\n", b""):
                pass
            say("250 2.0.0 queued")
        elif verb == b"QUIT":
            say("221 bye")
            break
        else:
            say("502 no")
    s.close()
EOF
OD=$T_DIR/oauth
mkdir -p "$OD"
timeout -k 2 90 "$PYTHON" "$T_DIR/oauthfake.py" "$OD" >"$OD/ports" 2>"$OD/stderr" &
OPID=$!
for _ in $(seq 1 50); do [ -s "$OD/ports" ] && break; sleep 0.1; done
read -r TOKPORT SMTPPORT <"$OD/ports"
cat >"$OD/google.conf" <<EOF
token_uri=http://127.0.0.1:$TOKPORT/token
client_id=cid.example
client_secret=s3cr3t&=+
refresh_token=1//rt-x
EOF
chmod 600 "$OD/google.conf"
write_cfg "$T_DIR/oauth.conf" <<EOF
account gmail-like
provider gmail
host localhost
port $SMTPPORT
tls_trust_file $FIXTURE_CA
auth xoauth2
user alice@example.test
passwordeval $DATA/clsmtpc-oauth2-token $OD/google.conf
from alice@example.test
EOF
for i in 1 2; do
	run_client -C "$T_DIR/oauth.conf" -a gmail-like -T "to@example.test" -s "oauth $i" body -v
	check_rc "XOAUTH2 with the token helper's token, send $i: exit 0" 0
done
check_eq "the server saw the right bearer token twice" "$(tr '\n' ' ' <"$OD/auth_result" 2>/dev/null)" "ok ok "
check_eq "the token endpoint was asked once (the token is cached)" "$(cat "$OD/token_hits" 2>/dev/null)" "1"
check_grep "the token is hidden in the transcript" "${V_PREFIX}smtps>: AUTH XOAUTH2 \*+$" "$ERR"
check_no_fixed "the client secret is in no output" "s3cr3t" "$OUT" "$ERR"
check_grep "a rotated refresh token replaces the old one" "^refresh_token=1//rt-rotated$" \
	"$OD/google.conf"
if [ "$(stat -c %a "$OD/google.conf.cache")" = 600 ]; then ok "the token cache is mode 600"; else not_ok "the token cache is mode 600"; fi
wait "$OPID" 2>/dev/null

done_testing
