#!/usr/bin/env bash
# attack.sh - what an AUTH brute force costs clsmtpd, with and without its
# defence (docs/defence.md). Starts a throwaway clsmtpd on loopback (its own
# certificate, one SCRAM account) and measures the server's CPU time
# (/proc/PID/stat) for:
#   1. ATTEMPTS attempts from 8 banned addresses (127.0.0.2-9), unpaced:
#      what refusing at accept costs, and how many a second it sustains;
#   2. NODEF_ATTEMPTS attempts with the defence turned off (no ban, no delay,
#      no account protection): STARTTLS and a password check every time.
# Needs the build (make) and root only for nothing: it runs as the caller.
# Usage: bench/attack.sh [ATTEMPTS [NODEF_ATTEMPTS]]; BUILD picks the build.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
ATTEMPTS=${1:-50000}
NODEF=${2:-2000}
CLSMTPD=$PWD/$BUILD/clsmtpd
ATTACK=$PWD/$BUILD/tests/smtp_attack
PYTHON=/usr/bin/python3
[ -x "$CLSMTPD" ] && [ -x "$ATTACK" ] || { echo "attack.sh: run make first" >&2; exit 1; }

work=$(mktemp -d /tmp/clsmtpd-attack.XXXXXX)
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/key.pem" -out "$work/cert.pem" \
	-days 1 -subj /CN=localhost 2>/dev/null
printf 'bench-Pw-1\n' | "$CLSMTPD" passwd -u "$work/users" add alice >/dev/null
port=$("$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
hz=$(getconf CLK_TCK)

# start EXTRA-LINES: a fresh clsmtpd (new spool) with the defence as told.
start() {
	rm -rf "$work/spool"
	cat >"$work/clsmtpd.conf" <<CONF
hostname bench.example.test
spool $work/spool
users $work/users
tls_cert $work/cert.pem
tls_key $work/key.pem
listen 127.0.0.1:$port starttls
domain example.org
log stderr
$1
CONF
	rm -f "$work/pid"
	"$CLSMTPD" -F -f "$work/clsmtpd.conf" -P "$work/pid" 2>"$work/log" &
	pid=$!
	for _ in $(seq 50); do [ -s "$work/pid" ] && return 0; sleep 0.1; done
	echo "attack.sh: clsmtpd did not start" >&2
	cat "$work/log" >&2
	exit 1
}
stop() {
	kill "$pid"
	wait "$pid" 2>/dev/null || true
	pid=
}
cpu() { awk '{print $14 + $15}' "/proc/$pid/stat"; }

# 1. refused at accept
start ""
for x in 2 3 4 5 6 7 8 9; do "$CLSMTPD" -f "$work/clsmtpd.conf" -ban "127.0.0.$x" >/dev/null; done
c0=$(cpu)
t0=$(date +%s%N)
out=$("$ATTACK" auth --port "$port" --sources 2-9 --threads 4 --attempts "$ATTEMPTS" --starttls | tail -n1)
t1=$(date +%s%N)
c1=$(cpu)
stop
ms=$(((t1 - t0) / 1000000))
cpu_ms=$(((c1 - c0) * 1000 / hz))
echo "banned:    $ATTEMPTS attempts in $ms ms ($((ATTEMPTS * 1000 / (ms > 0 ? ms : 1)))/s);" \
	"server CPU $cpu_ms ms, $(awk -v c="$cpu_ms" -v n="$ATTEMPTS" 'BEGIN {printf "%.1f", c * 1000 / n}') us per attempt"
echo "           attacker: $out"

# 2. the same attempts without the defence
start "ban_auth_failures 0
auth_failure_delay 0 0
user_failures 0
ban_exempt none"
c0=$(cpu)
t0=$(date +%s%N)
out=$("$ATTACK" auth --port "$port" --sources 2-9 --threads 4 --attempts "$NODEF" --per-conn 3 --starttls | tail -n1)
t1=$(date +%s%N)
c1=$(cpu)
stop
ms=$(((t1 - t0) / 1000000))
cpu_ms=$(((c1 - c0) * 1000 / hz))
echo "undefended: $NODEF attempts in $ms ms; server CPU $cpu_ms ms," \
	"$(awk -v c="$cpu_ms" -v n="$NODEF" 'BEGIN {printf "%.0f", c * 1000 / n}') us per attempt" \
	"(x $ATTEMPTS = $(awk -v c="$cpu_ms" -v n="$NODEF" -v a="$ATTEMPTS" 'BEGIN {printf "%.0f", c * a / n / 1000}') s)"
echo "           attacker: $out"
