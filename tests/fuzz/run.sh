#!/usr/bin/env bash
# run.sh [SECONDS] - build the libFuzzer harnesses and run each for SECONDS
# (FUZZ_SECONDS, default 20), FUZZ_JOBS at a time (2), from tests/fuzz/corpus
# and tests/fuzz/regress; one TAP line per harness with its figures, then
# "N passed, N failed". Any crash, leak, timeout or broken invariant fails.
# FUZZ_ONLY=PATTERN picks harnesses; FUZZ_BUILD (build/fuzz) keeps the corpus.
set -u
cd "$(dirname "$0")/../.."
SECS=${1:-${FUZZ_SECONDS:-20}}
JOBS=${FUZZ_JOBS:-2}
FB=${FUZZ_BUILD:-build/fuzz}
ONLY=${FUZZ_ONLY:-}

if ! command -v clang >/dev/null; then
	echo "fuzz: clang is not installed (scripts/install-deps.sh)"
	echo "0 passed, 1 failed"
	exit 1
fi
echo "== building the fuzz harnesses in $FB"
mkdir -p "$FB"
if ! make -s -j"$JOBS" -f tests/fuzz/Makefile FUZZ_BUILD="$FB" >"$FB/build.log" 2>&1; then
	tail -n 40 "$FB/build.log"
	echo "0 passed, 1 failed"
	exit 1
fi
mkdir -p "$FB/logs" "$FB/crashes"

names=()
for h in "$FB"/fuzz_*; do
	[ -x "$h" ] || continue
	n=$(basename "$h")
	[ -n "$ONLY" ] && [[ $n != *$ONLY* ]] && continue
	names+=("$n")
done

# fuzz_one NAME: one bounded run; its log in $FB/logs/NAME.log.
fuzz_one() {
	local n=$1 dirs=() d
	mkdir -p "$FB/corpus/$n"
	for d in tests/fuzz/corpus/$n tests/fuzz/regress/$n; do
		[ -d "$d" ] && dirs+=("$d")
	done
	# -timeout: one input taking 10 s is a finding (a hostile peer could
	# make us spin). -rss_limit_mb: the same for memory.
	timeout -k 10 $((SECS + 120)) "$FB/$n" -max_total_time="$SECS" -timeout=10 \
		-rss_limit_mb=2560 -max_len=16384 -print_final_stats=1 \
		-artifact_prefix="$FB/crashes/$n-" "$FB/corpus/$n" "${dirs[@]}" \
		>"$FB/logs/$n.log" 2>&1
	echo $? >"$FB/logs/$n.rc"
}

echo "== fuzzing ${#names[@]} harnesses, ${SECS} s each, $JOBS at a time"
running=0
for n in "${names[@]}"; do
	rm -f "$FB/logs/$n.rc"
	fuzz_one "$n" &
	running=$((running + 1))
	if [ "$running" -ge "$JOBS" ]; then
		wait -n
		running=$((running - 1))
	fi
done
wait

passed=0
failed=0
i=0
for n in "${names[@]}"; do
	i=$((i + 1))
	log=$FB/logs/$n.log
	rc=$(cat "$FB/logs/$n.rc" 2>/dev/null || echo 99)
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
	last=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -n1)
	cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
	ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
	corp=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$last")
	figures="${execs:-?} executions, cov ${cov:-?}, ft ${ft:-?}, corpus ${corp:-?}"
	if [ "$rc" = 0 ]; then
		passed=$((passed + 1))
		echo "ok $i - $n: $figures"
	else
		failed=$((failed + 1))
		echo "not ok $i - $n: exit $rc after $figures"
		grep -E 'ERROR|invariant broken|SUMMARY|Test unit written|^ *#[0-9]+ 0x' "$log" |
			head -n 30 | sed 's/^/#   /'
	fi
done
echo "1..$i"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
