#!/usr/bin/env bash
# test_socks5.sh - clsmtpc through a real SOCKS5 proxy, Debian's Dante
# (danted) on loopback, to the test Postfix: --proxy socks5h://, the
# account's proxy_host/proxy_port, msmtp's --proxy-host/--proxy-port in
# sendmail mode (msmtp itself sent the same way for comparison); the proxy
# resolves the server's name (it sees "localhost", not an address); a proxy
# that refuses the destination and a dead proxy give clear errors.
. "$(dirname "$0")/lib.sh"
require_client
DANTED=$(command -v danted || echo /usr/sbin/danted)
[ -x "$DANTED" ] || { echo "Bail out! danted (dante-server) is not installed"; exit 1; }

check_eq() { # NAME GOT WANT
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "got:  '$2'" "want: '$3'"; fi
}

# danted on a free loopback port: no authentication; only Postfix's
# submission port may be reached through it, so a refusal can be shown.
PPORT=$(free_port)
cat >"$T_DIR/danted.conf" <<EOF
logoutput: $T_DIR/danted.log
debug: 1
internal: 127.0.0.1 port = $PPORT
external: lo
clientmethod: none
socksmethod: none
user.privileged: root
user.unprivileged: nobody
client pass { from: 127.0.0.0/8 to: 0.0.0.0/0 }
socks pass { from: 127.0.0.0/8 to: 127.0.0.1/32 port = $POSTFIX_SUBMISSION_PORT command: connect }
socks block { from: 0.0.0.0/0 to: 0.0.0.0/0 log: connect error }
EOF
"$DANTED" -f "$T_DIR/danted.conf" -p "$T_DIR/danted.pid" -N 1 >"$T_DIR/danted.out" 2>&1 &
DPID=$!
trap 'kill "$DPID" 2>/dev/null; wait "$DPID" 2>/dev/null; lib_cleanup' EXIT
for _ in $(seq 100); do
	[ -n "$(ss -Hltn "src 127.0.0.1:$PPORT")" ] && break
	sleep 0.05
done
[ -n "$(ss -Hltn "src 127.0.0.1:$PPORT")" ] || { diag_file "$T_DIR/danted.out"; diag_file "$T_DIR/danted.log"; }

sub=(-P "$POSTFIX_SUBMISSION_PORT" -Z tls --tls-trust-file "$FIXTURE_CA" -U "$SASL_USER"
	-r "$SASL_PASSWORD" -F a@example.test)
M=$(unique_mark)
run_client -M localhost --proxy "socks5h://127.0.0.1:$PPORT" "${sub[@]}" -T "s1-$M@example.test" \
	-s "socks $M" -v "x"
check_rc "--proxy socks5h://127.0.0.1:PORT to Postfix: sent (0)" 0
mail_wait "$M" && ok "the mail sent through danted arrived" || not_ok "the mail sent through danted arrived"
check_grep "the proxy resolved the name: danted logged the connection to localhost" \
	"localhost\.$POSTFIX_SUBMISSION_PORT|127\.0\.0\.1\.$POSTFIX_SUBMISSION_PORT" "$T_DIR/danted.log"
check_grep "STARTTLS and AUTH went through the tunnel" 'tls>: AUTH [A-Z0-9-]+ \*+' "$ERR"

# The account's keys, and msmtp's option names in sendmail mode.
mkdir -p "$T_DIR/xdg/clsmtpc"
cat >"$T_DIR/xdg/clsmtpc/config" <<EOF
account px
host localhost
port $POSTFIX_SUBMISSION_PORT
tls on
tls_trust_file $FIXTURE_CA
auth on
user $SASL_USER
password_env PW
from a@example.test
proxy_host 127.0.0.1
proxy_port $PPORT
EOF
chmod 600 "$T_DIR/xdg/clsmtpc/config"
M=$(unique_mark)
printf 'Subject: acct %s\n\nx\n' "$M" >"$T_DIR/m.txt"
PW=$SASL_PASSWORD XDG_CONFIG_HOME=$T_DIR/xdg timeout 30 "$CLSMTPC" --sendmail -a px \
	"s2-$M@example.test" <"$T_DIR/m.txt" >/dev/null 2>"$T_DIR/s2.err"
check_eq "proxy_host/proxy_port in the account: sent (0)" "$?" 0
M2=$(unique_mark)
printf 'Subject: opts %s\n\nx\n' "$M2" >"$T_DIR/m2.txt"
opts=(--host=localhost --port="$POSTFIX_SUBMISSION_PORT" --tls=on --tls-trust-file="$FIXTURE_CA"
	--auth=on --user="$SASL_USER" --passwordeval="echo $SASL_PASSWORD"
	--proxy-host=127.0.0.1 --proxy-port="$PPORT" -f a@example.test)
timeout 30 "$CLSMTPC" --sendmail "${opts[@]}" "s3-$M2@example.test" <"$T_DIR/m2.txt" \
	>/dev/null 2>"$T_DIR/s3.err"
c_rc=$?
timeout 30 msmtp "${opts[@]}" "s4-$M2@example.test" <"$T_DIR/m2.txt" >/dev/null 2>"$T_DIR/s4.err"
check_eq "msmtp's --proxy-host/--proxy-port: clsmtpc and msmtp both send (0 0)" "$c_rc $?" "0 0"
if mail_wait "$M" && mail_wait_count "$M2" 2; then
	ok "the three mails sent through the proxy arrived"
else
	not_ok "the three mails sent through the proxy arrived"
	diag_file "$T_DIR/s2.err"
	diag_file "$T_DIR/s3.err"
fi

# A destination the proxy does not allow: its refusal, in words.
run_client -M 127.0.0.1 -P "$POSTFIX_SMTP_PORT" --proxy "127.0.0.1:$PPORT" -Z none \
	-F a@example.test -T b@example.test "x"
check_rc "the proxy refuses the destination: 69" 69
check_grep "the error gives the proxy's reason" 'SOCKS5: the proxy could not connect: connection not allowed by ruleset' "$ERR"

kill "$DPID" 2>/dev/null
wait "$DPID" 2>/dev/null
run_client -M localhost --proxy "socks5h://127.0.0.1:$PPORT" "${sub[@]}" -T b@example.test "x"
check_rc "a proxy that is not there: temporary failure (75)" 75
check_grep "the error names the proxy" 'SOCKS5 proxy' "$ERR"
run_client -M localhost --proxy "socks4://127.0.0.1:$PPORT" "${sub[@]}" -T b@example.test "x"
check_rc "--proxy with another scheme: usage error (64)" 64

done_testing
