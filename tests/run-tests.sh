#!/usr/bin/env bash
# run-tests.sh - run every unit test binary and integration test script,
# count their TAP lines ("ok N - name" / "not ok N - name"), and end with the
# one line "N passed, N failed". Exits non-zero if anything failed, if a test
# program died, or if no test ran at all.
# Integration tests share one set of fixtures (test CA, Postfix on loopback)
# started here by tests/fixtures/start.sh and stopped on exit.
# UNIT_ONLY=1 (make unit) runs the unit tests alone: no root, no fixture.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export BUILD
case $BUILD in
/*) build_abs=$BUILD ;;
*) build_abs=$PWD/$BUILD ;;
esac
export CLSMTPC="$build_abs/clsmtpc"
export CLSMTPD="$build_abs/clsmtpd"
export TESTS_BIN="$build_abs/tests"
# Debian's interpreter, not a pyenv shim first on PATH.
export PYTHON=/usr/bin/python3
ONLY=${ONLY:-}

passed=0
failed=0
failed_names=()
work=$(mktemp -d /tmp/clsmtpc-tests.XXXXXX)
export TEST_WORK="$work"

cleanup() {
	if [ -x tests/fixtures/stop.sh ]; then
		tests/fixtures/stop.sh "$work" >/dev/null 2>&1 || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

# run_one NAME COMMAND... : run a test program with a hard time limit and
# count its TAP lines; a program that exits non-zero without a "not ok"
# line counts as one failure of its own.
run_one() {
	local name=$1 out rc ok=0 bad=0 line t0=$SECONDS
	shift
	out=$(timeout -k 5 300 "$@" 2>&1)
	rc=$?
	# Seconds per test, slowest first at the end (what CI's time is made of).
	echo "$((SECONDS - t0)) $name" >>"$work/times"
	while IFS= read -r line; do
		case $line in
		"ok "*) ok=$((ok + 1)); echo "  $name: $line" ;;
		"not ok "*) bad=$((bad + 1)); echo "  $name: $line"; failed_names+=("$name: ${line#not ok }") ;;
		"#"*) [ -n "${VERBOSE:-}" ] || [ $bad -gt 0 ] && echo "  $name: $line" ;;
		esac
	done <<<"$out"
	if [ $rc -ne 0 ] && [ $bad -eq 0 ]; then
		bad=1
		failed_names+=("$name: exited with status $rc")
		echo "  $name: exited with status $rc; its output:"
		tail -n 30 <<<"$out" | sed 's/^/    /'
	fi
	if [ $ok -eq 0 ] && [ $bad -eq 0 ]; then
		bad=1
		failed_names+=("$name: ran no test")
	fi
	passed=$((passed + ok))
	failed=$((failed + bad))
}

echo "== unit tests"
for t in "$BUILD"/tests/test_*; do
	[ -x "$t" ] || continue
	n=$(basename "$t")
	[ -n "$ONLY" ] && [[ $n != *$ONLY* ]] && continue
	run_one "$n" "$t"
done

echo "== integration tests"
if [ -n "${UNIT_ONLY:-}" ]; then
	echo "  (UNIT_ONLY: skipped)"
elif [ -x tests/fixtures/start.sh ]; then
	if ! env_out=$(tests/fixtures/start.sh "$work" 2>"$work/fixtures.log"); then
		echo "fixtures failed to start:"; sed 's/^/    /' "$work/fixtures.log"
		failed=$((failed + 1)); failed_names+=("fixtures: failed to start")
	else
		eval "$env_out"
		for t in tests/integration/test_*.sh; do
			[ -f "$t" ] || continue
			n=$(basename "$t" .sh)
			[ -n "$ONLY" ] && [[ $n != *$ONLY* ]] && continue
			run_one "$n" bash "$t"
		done
	fi
fi

if [ -s "$work/times" ] && [ -z "$ONLY" ]; then
	echo "== slowest tests (seconds)"
	sort -rn "$work/times" | head -n 8 | sed 's/^/  /'
fi
if [ ${#failed_names[@]} -gt 0 ]; then
	echo "== failures"
	printf '  %s\n' "${failed_names[@]}"
fi
echo "$passed passed, $failed failed"
[ $failed -eq 0 ] && [ $passed -gt 0 ]
