#!/usr/bin/env bash
# demo.sh - `make demo`: start a throwaway submission server on loopback (the
# test suite's Postfix with Cyrus SASL and a throwaway CA, tests/fixtures/),
# send one mail through it with `clsmtpc -v` over STARTTLS and SMTP AUTH, show
# the transcript and the delivered message, then stop and remove everything.
# Run as root (Postfix needs it). BUILD = the build directory (default build).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
CLSMTPC=$PWD/$BUILD/clsmtpc
DELIVERY_WAIT_S=10

heading() { printf '\n=== %s\n\n' "$*"; }
die() {
	echo "demo: $*" >&2
	exit 1
}

[ "$(id -u)" -eq 0 ] || die "must run as root: it starts a Postfix instance on loopback (sudo make demo)"
[ -x "$CLSMTPC" ] || die "$BUILD/clsmtpc is not built (make demo builds it)"

work=$(mktemp -d /tmp/clsmtpc-demo.XXXXXX)
cleanup() {
	tests/fixtures/stop.sh "$work" >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# show_log: what went wrong on the server side, for a failed run.
show_log() {
	echo "--- last lines of the test Postfix's log ($POSTFIX_MAILLOG):" >&2
	tail -n 15 "$POSTFIX_MAILLOG" >&2 2>/dev/null || true
}

# --- 1 ----------------------------------------------------------------------
heading "1. A throwaway submission server on loopback"
if ! tests/fixtures/start.sh "$work" >"$work/fixtures.sh" 2>"$work/start.log"; then
	cat "$work/start.log" >&2
	die "could not start the test Postfix (see above)"
fi
# shellcheck disable=SC1091
. "$work/fixtures.sh"
pf_version=$(postconf -c "$POSTFIX_CONFIG" -h mail_version 2>/dev/null || echo "?")
cat <<EOF
Postfix $pf_version with Cyrus SASL, listening on 127.0.0.1 and ::1 only, from $work:
  port $POSTFIX_SUBMISSION_PORT   submission: STARTTLS, AUTH offered only after TLS (stands in for 587)
  port $POSTFIX_SMTPS_PORT   submissions: implicit TLS (stands in for 465)
Its certificate (for "localhost") is signed by a CA made a second ago: $FIXTURE_CA
Demo account: user "$SASL_USER". Mail for anyone@$POSTFIX_DOMAIN lands in one Maildir.
EOF

# --- 2 ----------------------------------------------------------------------
heading "2. A password file, readable by its owner only"
pass=$work/clsmtpc-pass
(
	umask 077
	printf '%s:%s:%s\n' "$SASL_USER" localhost "$SASL_PASSWORD" >"$pass"
)
echo "$(stat -c '%A' "$pass")  $pass"
echo "  $SASL_USER:localhost:********"
echo "One line per account: user:server:password. clsmtpc refuses the file if group or"
echo "others may read it. Unlike -r, it keeps the password out of ps and shell history."

# --- 3 ----------------------------------------------------------------------
heading "3. Sending with clsmtpc -v: the session transcript (secrets shown as ********)"
from="alice@$POSTFIX_DOMAIN"
to="bob@$POSTFIX_DOMAIN"
subject="clsmtpc demo $(date '+%Y-%m-%d %H:%M:%S')"
body="Hello Bob, this mail went through STARTTLS and SMTP AUTH."
cat <<EOF
\$ $BUILD/clsmtpc -v -Z tls -M localhost -P $POSTFIX_SUBMISSION_PORT --tls-trust-file $FIXTURE_CA \\
      -U $SASL_USER -A auto -p $pass \\
      -N 'Alice <$from>' -T $to -s '$subject' \\
      '$body'

EOF
set +e
"$CLSMTPC" -v -Z tls -M localhost -P "$POSTFIX_SUBMISSION_PORT" --tls-trust-file "$FIXTURE_CA" \
	-U "$SASL_USER" -A auto -p "$pass" \
	-N "Alice <$from>" -T "$to" -s "$subject" \
	"$body" 2>&1 | tee "$work/transcript"
rc=${PIPESTATUS[0]}
set -e
echo
if [ "$rc" -ne 0 ]; then
	show_log
	die "clsmtpc failed with exit status $rc (see its last line above)"
fi
echo "clsmtpc exited with status 0: the server accepted the message."

# --- 4 ----------------------------------------------------------------------
heading "4. The message as delivered to the Maildir"
msg=""
for _ in $(seq 1 $((DELIVERY_WAIT_S * 10))); do
	msg=$(grep -l -F -x "Subject: $subject" "$POSTFIX_MAILDIR"/new/* 2>/dev/null | head -n 1 || true)
	[ -n "$msg" ] && break
	sleep 0.1
done
if [ -z "$msg" ]; then
	show_log
	die "the message did not reach $POSTFIX_MAILDIR/new within $DELIVERY_WAIT_S s"
fi
echo "$msg:"
echo
cat "$msg"

# --- 5 ----------------------------------------------------------------------
heading "What just happened"
mech=$(sed -n 's/.* [a-z]*>: AUTH \([A-Z0-9-]*\).*/\1/p' "$work/transcript" | head -n 1)
tlsver=$(sed -n 's/.*-: TLS \(TLSv[0-9.]*\) .*/\1/p' "$work/transcript" | head -n 1)
qid=$(sed -n 's/.*<: 250 .*queued as \([0-9A-Za-z]*\).*/\1/p' "$work/transcript" | head -n 1)
case $mech in
SCRAM-* | DIGEST-MD5)
	auth_text="-A auto chose $mech, the strongest mechanism offered, and checked the server's
      proof that it knows the password; what clsmtpc sent is shown as ********."
	;;
*)
	auth_text="-A auto chose ${mech:-a mechanism}, the strongest mechanism offered; what clsmtpc
      sent is shown as ********."
	;;
esac
if grep -q '>: BDAT .* LAST' "$work/transcript"; then
	flight="MAIL, RCPT, BDAT LAST with the message, and QUIT went out in one flight"
else
	flight="MAIL and RCPT went out pipelined, the message after DATA with QUIT behind it"
fi
cat <<EOF
TLS:  clsmtpc upgraded the connection with STARTTLS (${tlsver:-TLS}, certificate verified against
      the demo CA), forgot what it had learnt in clear and asked for the capabilities again.
AUTH: $auth_text
Mail: $flight;
      Postfix queued it${qid:+ as $qid} and delivered it to the Maildir above.
EOF

heading "Stopping the test server"
cleanup
trap - EXIT
echo "Stopped, and $work removed."
