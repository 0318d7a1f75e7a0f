#!/usr/bin/env bash
# run.sh - the client benchmark (`make bench`): round trips and CPU per message
# for clsmtpc, msmtp, swaks and curl against the test Postfix, through
# bench/delayproxy (RTT BENCH_RTT_MS, default 100), BENCH_RUNS sends per tool
# and scenario (default 5). Prints a table and rewrites docs/performance.md.
# BUILD gives the build directory; BENCH_DOC=no leaves the docs alone.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
RTT=${BENCH_RTT_MS:-100}
RUNS=${BENCH_RUNS:-5}
PYTHON=/usr/bin/python3
export PYTHON

# The proxy is a standalone program, not part of the main Makefile.
mkdir -p "$BUILD/bench"
${CC:-cc} -O2 -std=c17 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wformat=2 -D_GNU_SOURCE \
	-o "$BUILD/bench/delayproxy" bench/delayproxy.c

work=$(mktemp -d /tmp/clsmtpc-bench.XXXXXX)
cleanup() {
	tests/fixtures/stop.sh "$work" >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT

echo "bench: checking the delay proxy (one-way $(awk "BEGIN{print $RTT/2}") ms)"
"$PYTHON" bench/proxycheck.py --proxy "$BUILD/bench/delayproxy" \
	--delay "$(awk "BEGIN{print $RTT/2}")" --exchanges 10 --connections 2 \
	--json "$work/calibration.json"

echo "bench: starting the test Postfix (tests/fixtures/start.sh)"
eval "$(tests/fixtures/start.sh "$work")"

doc=()
if [ "${BENCH_DOC:-yes}" != no ]; then
	doc=(--doc docs/performance.md --template bench/performance.md.in)
fi
echo "bench: $RUNS sends per tool and scenario through a ${RTT} ms RTT, then $RUNS direct"
"$PYTHON" bench/bench.py --build "$BUILD" --proxy "$BUILD/bench/delayproxy" \
	--work "$work" --rtt "$RTT" --runs "$RUNS" \
	--calibration "$work/calibration.json" --json "$BUILD/bench/results.json" \
	${BENCH_VERBOSE:+-v} "${doc[@]}"
