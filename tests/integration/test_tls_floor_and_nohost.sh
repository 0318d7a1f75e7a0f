#!/usr/bin/env bash
# test_tls_floor_and_nohost.sh - two things no friendly peer shows: a server
# that only speaks TLS 1.1 is refused (TLS 1.2 is our floor, RFC 8996), and a
# host name that does not exist exits 68 (EX_NOHOST) rather than 75. The name
# lookup runs in a network namespace whose resolver is a dnsmasq on its own
# loopback answering NXDOMAIN, so no query leaves this machine.
. "$(dirname "$0")/lib.sh"
require_client

# --- TLS 1.1 only: the handshake must fail, and nothing be sent in clear.
port=$(free_port)
openssl s_server -quiet -accept "127.0.0.1:$port" -tls1_1 -cipher 'DEFAULT@SECLEVEL=0' \
	-cert "$FIXTURE_CERT" -key "$FIXTURE_KEY" -naccept 1 \
	>"$T_DIR/s_server.out" 2>"$T_DIR/s_server.err" </dev/null &
srv=$!
# Ready when the port is listening (asked of the kernel: a test connection
# would use up the server's one accept).
for _ in $(seq 200); do
	[ -n "$(ss -Hltn "src 127.0.0.1:$port")" ] && break
	sleep 0.05
done
[ -n "$(ss -Hltn "src 127.0.0.1:$port")" ] || diag "openssl s_server did not listen:" "$(cat "$T_DIR/s_server.err")"
run_client -M 127.0.0.1 -P "$port" -Z smtps --tls-certcheck=off --timeout 10 "${TRUST[@]}" -U alice -A plain \
	-r "$PW" -F a@example.test -T b@example.test "x"
kill "$srv" 2>/dev/null
wait "$srv" 2>/dev/null
check_rc "a TLS 1.1-only server is refused (69)" 69
check_grep "the error names the TLS handshake" 'TLS' "$ERR"
check_no_fixed "no credential reached the TLS 1.1 server" "$PW" "$T_DIR/s_server.out"

# --- a name that does not exist: 68.
ns=clsmtpc-nohost-$$
if ! ip netns add "$ns" 2>"$T_DIR/netns.err"; then
	not_ok "network namespace for the resolver test" "$(cat "$T_DIR/netns.err")"
	done_testing
fi
cleanup_ns() {
	[ -n "${dns_pid:-}" ] && kill "$dns_pid" 2>/dev/null
	ip netns del "$ns" 2>/dev/null
	rm -rf "/etc/netns/$ns"
}
trap 'cleanup_ns; lib_cleanup' EXIT
ip netns exec "$ns" ip link set lo up
mkdir -p "/etc/netns/$ns"
echo "nameserver 127.0.0.1" >"/etc/netns/$ns/resolv.conf"
: >"$T_DIR/hosts.empty"
ip netns exec "$ns" dnsmasq --keep-in-foreground --no-resolv --no-hosts \
	--addn-hosts="$T_DIR/hosts.empty" --listen-address=127.0.0.1 --bind-interfaces \
	--address=/invalid/ --user=root --pid-file="$T_DIR/dnsmasq.pid" \
	2>"$T_DIR/dnsmasq.err" &
dns_pid=$!
# Ready when dnsmasq listens on the namespace's port 53 (UDP has no
# handshake to try).
for _ in $(seq 100); do
	[ -n "$(ip netns exec "$ns" ss -Hlun 'sport = :53')" ] && break
	sleep 0.05
done
T_SEQ=$((T_SEQ + 1))
ERR=$T_DIR/nohost.err
timeout 30 ip netns exec "$ns" "$CLSMTPC" -M mail.no-such-host.invalid --timeout 5 \
	-F a@example.test -T b@example.test "x" </dev/null >/dev/null 2>"$ERR"
RC=$?
check_rc "a host name that does not exist exits 68" 68
check_grep "the error names the missing host" 'mail\.no-such-host\.invalid' "$ERR"

done_testing
