#!/usr/bin/env bash
# flush.sh - the offline queue's throughput (issue 4): N small messages
# (FLUSH_BENCH_N, default 1000) sent by ONE `clsmtpc --flush` (one session,
# back-to-back transactions), by N invocations of clsmtpc and by N
# invocations of msmtp, all with STARTTLS + AUTH PLAIN, against two loopback
# servers: the test Postfix (tests/fixtures/start.sh; its own fsync'ed
# commit of each message is most of the cost) and a light sink
# (tests/fixtures/scripted_server.py: STARTTLS, AUTH, PIPELINING, CHUNKING,
# nothing written to disk). Prints messages per second, the ratios, CPU per
# message and peak memory (/usr/bin/time %M), and rewrites its own section
# of docs/performance.md (BENCH_DOC=no leaves the file alone;
# FLUSH_BENCH_RESULTS=FILE only rewrites it from an earlier run's figures).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
N=${FLUSH_BENCH_N:-1000}
PYTHON=/usr/bin/python3
export PYTHON
C=$BUILD/clsmtpc
TIME=/usr/bin/time

for tool in "$C" msmtp "$TIME" unshare; do
	command -v "$tool" >/dev/null || { echo "flush.sh: $tool is missing (make; scripts/install-deps.sh)" >&2; exit 1; }
done

work=$(mktemp -d /tmp/clsmtpc-flushbench.XXXXXX)
SINK_PID=
cleanup() {
	[ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null || true
	tests/fixtures/stop.sh "$work" >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT

run=$(date +%s)
RESULTS=$work/results
: >"$RESULTS"

# msmtprc SERVER PORT: msmtp's configuration for one server.
msmtprc() {
	cat >"$work/msmtprc" <<EOF
account bench
host localhost
port $2
tls on
tls_starttls on
tls_trust_file $FIXTURE_CA
auth plain
user $SASL_USER
password $SASL_PASSWORD
from bench@example.test
EOF
	chmod 600 "$work/msmtprc"
}

# The message msmtp sends (clsmtpc composes a similar one from -s and the body).
message_file() { # TAG I
	printf 'From: bench@example.test\r\nTo: <r%s@example.test>\r\nSubject: flushbench %s %s %s\r\nDate: %s\r\nMessage-ID: <%s.%s.%s@bench.example.test>\r\n\r\nsmall message %s\r\n' \
		"$2" "$run" "$1" "$2" "$(date -R)" "$run" "$1" "$2" "$2"
}

# sink_start: the light server, for CONNS connections; sets SINK_PORT.
sink_start() { # CONNS
	local d=$work/sink.$RANDOM
	mkdir -p "$d"
	SINK_TRANSCRIPT=$d/transcript
	"$PYTHON" tests/fixtures/scripted_server.py --port "${SINK_FIXED_PORT:-0}" --connections "$1" \
		--timeout 3600 --transcript "$SINK_TRANSCRIPT" \
		--script '{"capabilities": ["PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES", "SIZE 10485760", "CHUNKING", "STARTTLS", "AUTH PLAIN LOGIN"]}' \
		>"$d/port" 2>"$d/stderr" &
	SINK_PID=$!
	for _ in $(seq 50); do
		SINK_PORT=$(head -n1 "$d/port" 2>/dev/null || true)
		[ -n "$SINK_PORT" ] && return 0
		sleep 0.1
	done
	echo "flush.sh: the sink did not start" >&2
	cat "$d/stderr" >&2
	exit 1
}
# sink_stop: let the sink finish its sessions (bounded: 10 s), then stop it.
sink_stop() {
	local i
	for ((i = 0; i < 100; i++)); do
		kill -0 "$SINK_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill "$SINK_PID" 2>/dev/null || true
	wait "$SINK_PID" 2>/dev/null || true
	SINK_PID=
}

# delivered SERVER TAG: how many messages of this run with TAG arrived: for
# Postfix (once its queue is empty) found by subject in the Maildir, for the
# sink accepted so far (call it before other sends to the same sink).
delivered() {
	local i
	if [ "$1" = postfix ]; then
		for ((i = 0; i < 600; i++)); do
			postqueue -c "$POSTFIX_CONFIG" -p 2>/dev/null | grep -q 'Mail queue is empty' && break
			sleep 0.1
		done
		grep -lF -- "flushbench $run $2 " "$POSTFIX_MAILDIR"/new/* 2>/dev/null | wc -l
	else
		grep -c '^\* message-accepted' "$SINK_TRANSCRIPT" || true
	fi
}

# record SERVER SENDER WALL_S USER_S SYS_S PEAK_KB DELIVERED
record() { echo "$*" >>"$RESULTS"; }

# peak_single CMD...: the largest peak RSS (KB) over 3 runs of one send.
peak_single() {
	local i m=0 k
	for i in 1 2 3; do
		k=$("$TIME" -f '%M' "$@" 2>&1 >/dev/null </dev/null | tail -n1)
		[ "$k" -gt "$m" ] && m=$k
	done
	echo "$m"
}

bench_server() { # SERVER PORT
	local server=$1 port=$2 q=$work/queue-$1 i t k out got
	local CL=(-M localhost -P "$port" --tls-trust-file "$FIXTURE_CA" -U "$SASL_USER" -p "$PASSFILE"
		-A plain -F bench@example.test)

	# 1. one flush: queue N messages off line (not timed), then --flush.
	echo "flush.sh: $server: queueing $N messages off line"
	for ((i = 1; i <= N; i++)); do
		unshare -n "$C" --queue --queue-dir "$q" "${CL[@]}" -T "r$i@example.test" \
			-s "flushbench $run flush $i" "small message $i" </dev/null >/dev/null 2>&1
	done
	[ "$(find "$q/msg" -type f ! -name '*.err' | wc -l)" -eq "$N" ] ||
		{ echo "flush.sh: could not queue $N messages" >&2; exit 1; }
	[ "$server" = sink ] && { SINK_FIXED_PORT=$port sink_start 1; }
	echo "flush.sh: $server: clsmtpc --flush"
	out=$("$TIME" -f '%e %U %S %M' "$C" --flush --queue-dir "$q" 2>&1 >/dev/null | tail -n1)
	[ "$server" = sink ] && sink_stop
	record "$server" "clsmtpc --flush" $out "$(delivered "$server" flush)"

	# 2. N invocations of clsmtpc, 3. N invocations of msmtp.
	[ "$server" = sink ] && { SINK_FIXED_PORT=$port sink_start $((N + 3)); }
	echo "flush.sh: $server: $N x clsmtpc"
	out=$("$TIME" -f '%e %U %S' bash -c '
		for ((i = 1; i <= $1; i++)); do
			"${@:3}" -T "r$i@example.test" -s "flushbench $2 single $i" "small message $i" </dev/null >/dev/null || exit 1
		done' _ "$N" "$run" "$C" "${CL[@]}" 2>&1 | tail -n1)
	got=$(delivered "$server" single)
	t=$(peak_single "$C" "${CL[@]}" -T r0@example.test -s "flushbench $run peak 0" "small message")
	[ "$server" = sink ] && sink_stop
	record "$server" "clsmtpc (N invocations)" $out "$t" "$got"

	msmtprc "$server" "$port"
	[ "$server" = sink ] && { SINK_FIXED_PORT=$port sink_start $((N + 3)); }
	echo "flush.sh: $server: $N x msmtp"
	for ((i = 1; i <= N; i++)); do message_file msmtp "$i" >"$work/m$i.eml"; done
	out=$("$TIME" -f '%e %U %S' bash -c '
		for ((i = 1; i <= $1; i++)); do
			msmtp -C "$2" -a bench "r$i@example.test" <"$3/m$i.eml" >/dev/null || exit 1
		done' _ "$N" "$work/msmtprc" "$work" 2>&1 | tail -n1)
	got=$(delivered "$server" msmtp)
	message_file peak 0 >"$work/m0.eml"
	t=0
	for i in 1 2 3; do
		k=$("$TIME" -f '%M' msmtp -C "$work/msmtprc" -a bench r0@example.test <"$work/m0.eml" 2>&1 | tail -n1)
		[ "$k" -gt "$t" ] && t=$k
	done
	[ "$server" = sink ] && sink_stop
	record "$server" "msmtp (N invocations)" $out "$t" "$got"
}

if [ -n "${FLUSH_BENCH_RESULTS:-}" ]; then
	# Only rewrite the report from an earlier run's figures
	# ($BUILD/bench/flush-results.txt; FLUSH_BENCH_N must match).
	RESULTS=$FLUSH_BENCH_RESULTS
else
	echo "flush.sh: starting the test Postfix (tests/fixtures/start.sh)"
	eval "$(tests/fixtures/start.sh "$work")"
	export FIXTURE_CERT FIXTURE_KEY
	PASSFILE=$work/passfile
	printf '%s:localhost:%s\n' "$SASL_USER" "$SASL_PASSWORD" >"$PASSFILE"
	chmod 600 "$PASSFILE"

	bench_server postfix "$POSTFIX_SUBMISSION_PORT"
	sink_port=$("$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
	bench_server sink "$sink_port"
	mkdir -p "$BUILD/bench"
	cp "$RESULTS" "$BUILD/bench/flush-results.txt"
fi
doc=()
[ "${BENCH_DOC:-yes}" != no ] && doc=(docs/performance.md)
"$PYTHON" - "$RESULTS" "$N" "$(msmtp --version | head -n1)" "$("$C" --version)" \
	"$(postconf -d mail_version 2>/dev/null | sed 's/.*= //')" "${doc[@]}" <<'EOF'
import datetime, os, platform, re, sys, textwrap
results, n, msmtp_v, cl_v, pf_v = sys.argv[1:6]
n = int(n)
doc = sys.argv[6] if len(sys.argv) > 6 else None
rows = []
for line in open(results):
    f = line.split()
    # server, sender (several words), wall, user, sys, peak, delivered
    server, rest = f[0], f[1:]
    sender = " ".join(rest[:-5])
    wall, user, sys_, peak, got = rest[-5:]
    rows.append(dict(server=server, sender=sender, wall=float(wall), cpu=float(user) + float(sys_),
                     peak=int(peak), got=int(got)))
by = {(r["server"], r["sender"]): r for r in rows}
def rate(r):
    return n / r["wall"] if r["wall"] > 0 else float("inf")
lines = []
lines.append("| server | sender | messages/s | x msmtp | x clsmtpc (%d invocations) | CPU ms/msg | peak RSS KB | delivered |" % n)
lines.append("|---|---|---|---|---|---|---|---|")
for server in ("postfix", "sink"):
    ms = by.get((server, "msmtp (N invocations)"))
    cs = by.get((server, "clsmtpc (N invocations)"))
    for sender in ("clsmtpc --flush", "clsmtpc (N invocations)", "msmtp (N invocations)"):
        r = by.get((server, sender))
        if not r:
            continue
        lines.append("| %s | %s | %.1f | %.2f | %.2f | %.2f | %d | %d/%d |" % (
            "Postfix 587 (STARTTLS, AUTH PLAIN)" if server == "postfix" else "light sink (STARTTLS, AUTH PLAIN)",
            "`clsmtpc --flush` (1 connection)" if sender == "clsmtpc --flush" else sender.replace("N", str(n)),
            rate(r), rate(r) / rate(ms), rate(r) / rate(cs), 1000 * r["cpu"] / n, r["peak"], r["got"], n))
table = "\n".join(lines)
print()
print(table)
print()
if not doc:
    sys.exit(0)
cpu = "unknown CPU"
try:
    for l in open("/proc/cpuinfo"):
        if l.startswith("model name"):
            cpu = l.split(":", 1)[1].strip()
            break
except OSError:
    pass
osname = ""
try:
    for l in open("/etc/os-release"):
        if l.startswith("PRETTY_NAME="):
            osname = l.split("=", 1)[1].strip().strip('"')
except OSError:
    pass
now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
fl_pf, ms_pf, cs_pf = by[("postfix", "clsmtpc --flush")], by[("postfix", "msmtp (N invocations)")], by[("postfix", "clsmtpc (N invocations)")]
fl_sk, ms_sk = by[("sink", "clsmtpc --flush")], by[("sink", "msmtp (N invocations)")]
fill = lambda t: textwrap.fill(" ".join(t.split()), 95, break_on_hyphens=False)
intro = fill(f"""`bench/flush.sh` on {now}: {n} small messages (about 300 bytes), STARTTLS and AUTH
PLAIN to a loopback server, sent three ways: **one** `clsmtpc --flush` of {n} queued messages
(one connection, back-to-back transactions, each message renamed to "sending" with an `fsync`
of the queue directory before its transaction and removed after the 250, docs/queue.md), {n}
invocations of clsmtpc, and {n} invocations of msmtp. Two servers: the test Postfix (it
commits every message to its queue with `fsync` before answering 250, so its own work is much
of each transaction) and a light sink (`tests/fixtures/scripted_server.py` with STARTTLS,
AUTH, PIPELINING and CHUNKING, writing nothing to disk), which shows the client side alone.
Machine: {cpu}, {os.cpu_count()} CPUs, Linux {platform.release()}, {osname}.""")
notes = fill(f"""messages/s = {n} / wall time of the whole run (for the invocations: a shell loop, one
process per message, fork to exit). CPU = user + system time of all the client processes, per
message. Peak RSS = `/usr/bin/time -f %M` of the flush process, and the largest of three single
sends for the invocations. "delivered" = found in Postfix's Maildir by a unique subject, or
accepted by the sink. One run, not averaged: the figures move between runs with the load of the
machine, the light sink's most (it is one Python process, and its TLS handshakes use the CPU
the clients need).""")
summary = fill(f"""Against Postfix, the flush delivers **{rate(fl_pf):.0f}** messages per second:
**{rate(fl_pf)/rate(ms_pf):.0f}x** msmtp's {rate(ms_pf):.1f} and **{rate(fl_pf)/rate(cs_pf):.1f}x**
clsmtpc's own {rate(cs_pf):.0f} when it is run once per message; against the light sink,
{rate(fl_sk):.0f} per second, {rate(fl_sk)/rate(ms_sk):.0f}x msmtp. One invocation per message
pays a process, a TCP connection, a TLS handshake, EHLO twice and AUTH for every message, and
msmtp also waits on delayed ACKs (it leaves Nagle's algorithm on; see the round-trip section);
the flush pays them once, and its peak memory ({fl_pf['peak']} KB for {n} messages) is that of
a single send.""")
section = f"""<!-- bench:flush begin (written by bench/flush.sh; rerun it rather than edit) -->
## Offline queue: `clsmtpc --flush` against one invocation per message

{intro}

{table}

{notes}

{summary}

Versions: {cl_v}; {msmtp_v}; Postfix {pf_v}.
<!-- bench:flush end -->"""
text = open(doc).read() if os.path.exists(doc) else "# Performance\n"
pat = re.compile(r"<!-- bench:flush begin.*?<!-- bench:flush end -->", re.S)
if pat.search(text):
    text = pat.sub(lambda m: section, text)
else:
    text = text.rstrip("\n") + "\n\n" + section + "\n"
open(doc, "w").write(text)
print("flush.sh: wrote the flush section of", doc)
EOF
