#!/usr/bin/env bash
# demo.sh - `make demo`: the whole system of the source article on one
# machine, on loopback. The test suite's Postfix (tests/fixtures/) plays the
# ISP's smarthost: SMTPS with SMTP AUTH. clsmtpd is the home server: a
# submission port with STARTTLS and AUTH for a demo user, relaying through
# the smarthost with the ISP account. clsmtpc sends one mail through it; the
# demo shows the session, clsmtpd's log and the mail in the ISP's Maildir,
# then stops and removes everything. Run as root. BUILD = build directory.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
BUILD=${BUILD:-build}
case $BUILD in
/*) ;;
*) BUILD=$PWD/$BUILD ;;
esac
CLSMTPC=$BUILD/clsmtpc
CLSMTPD=$BUILD/clsmtpd
WAIT_S=15

heading() { printf '\n=== %s\n\n' "$*"; }
die() {
	echo "demo: $*" >&2
	exit 1
}

[ "$(id -u)" -eq 0 ] || die "must run as root: it starts Postfix and clsmtpd on loopback (sudo make demo)"
if [ ! -x "$CLSMTPC" ] || [ ! -x "$CLSMTPD" ]; then
	die "$BUILD/clsmtpc or $BUILD/clsmtpd is not built (make demo builds them)"
fi

work=$(mktemp -d /tmp/clsmtpd-demo.XXXXXX)
srv=$work/clsmtpd
cleanup() {
	if [ -s "$srv/pid" ]; then kill "$(cat "$srv/pid")" 2>/dev/null || true; fi
	tests/fixtures/stop.sh "$work" >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
show_logs() {
	echo "--- clsmtpd's log:" >&2
	tail -n 15 "$srv/log" >&2 2>/dev/null || true
	echo "--- the smarthost's log:" >&2
	tail -n 8 "$POSTFIX_MAILLOG" >&2 2>/dev/null || true
}

# --- 1 ----------------------------------------------------------------------
heading "1. The ISP's smarthost (a throwaway Postfix on loopback)"
if ! tests/fixtures/start.sh "$work" >"$work/fixtures.sh" 2>"$work/start.log"; then
	cat "$work/start.log" >&2
	die "could not start the test Postfix (see above)"
fi
# shellcheck disable=SC1091
. "$work/fixtures.sh"
cat <<EOF
Postfix $(postconf -c "$POSTFIX_CONFIG" -h mail_version 2>/dev/null || echo "?") with Cyrus SASL on 127.0.0.1:$POSTFIX_SMTPS_PORT: implicit TLS
(it stands in for the ISP's port 465) and SMTP AUTH, account "$SASL_USER". Like the ISP's
server behind OP25B, it is the only way out. Its certificate, and the one clsmtpd
uses below, come from a CA made a second ago: $FIXTURE_CA
EOF

# --- 2 ----------------------------------------------------------------------
heading "2. The home server: clsmtpd, configured in a dozen lines"
mkdir -p "$srv"
chmod 755 "$srv"
sub=$(free_port)
(
	umask 077
	printf '%s\n' "$SASL_PASSWORD" >"$srv/isp-password"
)
printf 'taro-demo-pw\n' | "$CLSMTPD" passwd -u "$srv/users" add taro >/dev/null
"$CLSMTPD" -dkim-keygen home.example.test rsa2026 -d "$srv" >/dev/null 2>&1 ||
	die "clsmtpd -dkim-keygen failed"
"$CLSMTPD" -dkim-keygen home.example.test ed2026 -a ed25519 -d "$srv" >/dev/null 2>&1 ||
	die "clsmtpd -dkim-keygen failed"
cat >"$srv/clsmtpd.conf" <<EOF
hostname home.example.test
user nobody
spool $srv/spool
users $srv/users
tls_cert $FIXTURE_CERT
tls_key $FIXTURE_KEY
listen 127.0.0.1:$sub starttls
sender taro free
smarthost 127.0.0.1:$POSTFIX_SMTPS_PORT
smarthost_tls smtps
smarthost_user $SASL_USER
smarthost_password_file $srv/isp-password
smarthost_ca $FIXTURE_CA
dkim_sign home.example.test rsa2026 $srv/home.example.test.rsa2026.key
dkim_sign home.example.test ed2026 $srv/home.example.test.ed2026.key
log stderr
EOF
sed 's/^/    /' "$srv/clsmtpd.conf"
cat <<EOF

Port $sub stands in for 587: STARTTLS, then AUTH (PLAIN and LOGIN only once TLS is up).
The demo user "taro" was added with clsmtpd-passwd (salted SCRAM keys, no plaintext).
The ISP password is in a file only root may read: $(stat -c '%A %U' "$srv/isp-password").
The two DKIM keys (RSA 2048 and Ed25519) were made by "clsmtpd -dkim-keygen"; the
records to publish in the zone of home.example.test ("clsmtpd -dkim-records"):
EOF
"$CLSMTPD" -f "$srv/clsmtpd.conf" -dkim-records >"$srv/zone.txt" || die "clsmtpd -dkim-records failed"
grep -v '^;' "$srv/zone.txt" | cut -c1-100 | sed 's/^/    /; s/$/.../'

"$CLSMTPD" -F -f "$srv/clsmtpd.conf" -P "$srv/pid" 2>"$srv/log" &
for _ in $(seq 1 50); do
	[ -s "$srv/pid" ] && break
	sleep 0.1
done
[ -s "$srv/pid" ] || { show_logs; die "clsmtpd did not start"; }
echo "clsmtpd is running (pid $(cat "$srv/pid")), with its local delivery agent and its relay agent."

# --- 3 ----------------------------------------------------------------------
heading "3. A script on the network sends a mail: clsmtpc -v to clsmtpd"
pass=$work/clsmtpc-pass
(
	umask 077
	printf 'taro:localhost:taro-demo-pw\n' >"$pass"
)
to="friend@$POSTFIX_DOMAIN"
subject="clsmtpd demo $(date '+%Y-%m-%d %H:%M:%S')"
cat <<EOF
\$ clsmtpc -v -Z tls -M localhost -P $sub --tls-trust-file \$CA -U taro -p $pass \\
      -F taro@home.example.test -T $to -s '$subject' 'Hello from the home server.'

EOF
set +e
"$CLSMTPC" -v -Z tls -M localhost -P "$sub" --tls-trust-file "$FIXTURE_CA" -U taro -p "$pass" \
	-F taro@home.example.test -T "$to" -s "$subject" 'Hello from the home server.' 2>&1
rc=$?
set -e
[ "$rc" -eq 0 ] || { show_logs; die "clsmtpc failed with exit status $rc"; }

# --- 4 ----------------------------------------------------------------------
heading "4. clsmtpd queued it durably, then relayed it through the smarthost"
msg=""
for _ in $(seq 1 $((WAIT_S * 10))); do
	msg=$(grep -l -F -x "Subject: $subject" "$POSTFIX_MAILDIR"/new/* 2>/dev/null | head -n 1 || true)
	[ -n "$msg" ] && break
	sleep 0.1
done
sed -n 's/^clsmtpd\[[0-9]*\]: //p' "$srv/log" | grep -E 'sasl_username|from=<|to=<|relay agent:' | sed 's/^/    /'
[ -n "$msg" ] || { show_logs; die "the mail did not reach the smarthost's Maildir within $WAIT_S s"; }

# --- 5 ----------------------------------------------------------------------
heading "5. The mail as the ISP delivered it ($msg)"
sed '/^$/q' "$msg" | sed 's/^/    /'
cat <<EOF
    (body: $(sed '1,/^$/d' "$msg" | head -n 1))

The receiver's view of the DKIM signatures (dkimpy, python3-dkim, with the records above):
EOF
/usr/bin/python3 "$root/tests/integration/dkim_verify.py" "$msg" "$srv/zone.txt" | sed 's/^/    /' ||
	die "a DKIM signature did not verify"
cat <<EOF

Read the Received: lines from the bottom up: clsmtpd took the mail from clsmtpc with
ESMTPSA (TLS + AUTH as taro), wrote it to its spool (file, fsync, rename, fsync of the
directory) before answering 250, and its relay agent passed it to the smarthost, again
with ESMTPSA: implicit TLS, the certificate verified, AUTH as the ISP account. No
stunnel, no Cyrus SASL on the home server. A refusal would have come back to the sender
as a delivery status notification; a smarthost that is down is retried with backoff
(clsmtpd -q lists the queue, clsmtpd -flush retries at once).
EOF

heading "Stopping"
cleanup
trap - EXIT
echo "clsmtpd and the test Postfix stopped, and $work removed."
