#!/usr/bin/env bash
# test_scram_plus.sh - SCRAM-SHA-*-PLUS with the RFC 9266 tls-exporter
# channel binding, end to end against GNU SASL's server side behind
# OpenSSL (tests/helpers/scram_plus_server.c): -A auto picks -PLUS when it is
# offered over TLS 1.3, the binding matches, and a server bound to another
# TLS session (a man in the middle) is refused.
set -u
n=0
fails=0
work=$(mktemp -d "${TEST_WORK:-/tmp}/scramplus.XXXXXX")

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; }

# start_peer MECHS [bad]: start the peer, set $port and $peer_pid.
start_peer() {
	: >"$work/port"
	"$TESTS_BIN/scram_plus_server" "$FIXTURE_CERT" "$FIXTURE_KEY" alice s3cret "$@" \
		>"$work/port" 2>"$work/peer.err" &
	peer_pid=$!
	for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.05; done
	port=$(head -n 1 "$work/port")
}

send() {
	timeout 20 "$CLSMTPC" -v -M localhost -P "$port" -Z smtps -U alice -r s3cret \
		--tls-trust-file "$FIXTURE_CA" -F a@example.test -T b@example.test -s plus "$@" \
		body >"$work/out" 2>&1
}

start_peer "SCRAM-SHA-256-PLUS SCRAM-SHA-256 SCRAM-SHA-1-PLUS PLAIN"
send
rc=$?
wait "$peer_pid"
peer_rc=$?
if [ $rc -eq 0 ] && [ $peer_rc -eq 0 ] && grep -q ">: AUTH SCRAM-SHA-256-PLUS" "$work/out"; then
	ok "auto_prefers_scram_sha_256_plus_and_binding_matches"
else
	not_ok "auto_prefers_scram_sha_256_plus_and_binding_matches (rc=$rc peer=$peer_rc)"
	sed 's/^/# /' "$work/out" "$work/peer.err"
fi

start_peer "SCRAM-SHA-1-PLUS SCRAM-SHA-1"
send -A scram-sha-1-plus
rc=$?
wait "$peer_pid"
peer_rc=$?
if [ $rc -eq 0 ] && [ $peer_rc -eq 0 ]; then
	ok "explicit_scram_sha_1_plus_works"
else
	not_ok "explicit_scram_sha_1_plus_works (rc=$rc peer=$peer_rc)"
	sed 's/^/# /' "$work/out" "$work/peer.err"
fi

start_peer "SCRAM-SHA-256-PLUS" bad
send
rc=$?
wait "$peer_pid"
if [ $rc -eq 77 ] && ! grep -q "^clsmtpc.*: 235" "$work/out"; then
	ok "wrong_channel_binding_fails_with_77"
else
	not_ok "wrong_channel_binding_fails_with_77 (rc=$rc)"
	sed 's/^/# /' "$work/out"
fi

if grep -q "s3cret" "$work/out"; then
	not_ok "transcript_holds_no_password"
else
	ok "transcript_holds_no_password"
fi

rm -rf "$work"
echo "1..$n"
[ $fails -eq 0 ]
