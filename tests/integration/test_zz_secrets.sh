#!/usr/bin/env bash
# test_zz_secrets.sh - no test password, nor its base64 forms, in what the
# suite's programs wrote under $TEST_WORK (transcripts, logs, errors, mail).
# Must run LAST: run-tests.sh runs test_*.sh in glob order, "zz" sorts after
# every other name (docs/security.md); run alone it has nothing to scan.
. "$(dirname "$0")/lib.sh"

# The passwords the tests use (keep in step with them), and the user names
# they go with: the PLAIN forms pair each user with each password.
passwords=("$SASL_PASSWORD" 's3cret' 'Doctor-Pw-7' 'Hunter2-')
while IFS= read -r pw; do
	passwords+=("$pw")
done < <(sed -n "s/^SRV_PW_[A-Z]*='\\(.*\\)'\$/\\1/p" "$LIB_ROOT/tests/integration/server_lib.sh")
users=("$SASL_USER" alice bob carol alice@provider.test)

forms=$T_DIR/forms
for pw in "${passwords[@]}"; do
	for u in "${users[@]}"; do
		secret_forms "$u" "$pw"
	done
done | sort -u | grep . >"$forms"

# What is not scanned, and why: the inputs a test gives a program (command
# lines, stdin, password files, users files, sasldb, configuration), and what
# a peer received (the scripted and hostile servers' logs of the bytes they
# got: with -Z none, PLAIN in clear is what the test checks arrived).
excluded() {
	case $1 in
	*.cmd | */stdin* | */passfile* | */badpassfile | */pw | */passwords | */users | \
		*.secret | */sasl/* | */pki/* | */fixtures.env | *.conf | */config | \
		*/scripted*/received.log | */scripted*/transcript.txt | *.tr | */hostile*.log | \
		"$T_DIR"/*) return 0 ;;
	esac
	return 1
}

scanned=0
hits=$T_DIR/hits
: >"$hits"
while IFS= read -r -d '' f; do
	excluded "$f" && continue
	scanned=$((scanned + 1))
	if grep -aqF -f "$forms" "$f"; then
		printf '%s: %s\n' "${f#"$TEST_WORK"/}" "$(grep -aoF -f "$forms" "$f" | head -n1)" >>"$hits"
	fi
done < <(find "$TEST_WORK" -type f -print0)
others=$(find "$TEST_WORK" -mindepth 1 -maxdepth 1 -type d -name 'test_*' ! -path "$T_DIR" | wc -l)

# The scan itself works: a planted PLAIN response is found.
mkdir -p "$T_DIR/plant"
printf 'tls>: AUTH PLAIN %s\n' "$(printf '\0%s\0%s' "$SASL_USER" "$SASL_PASSWORD" | base64 -w0)" >"$T_DIR/plant/err"
check "the scan finds a planted AUTH PLAIN response" grep -aqF -f "$forms" "$T_DIR/plant/err"

if [ "$others" -eq 0 ]; then
	ok "no password form in the other tests' output # SKIP run alone: no other test's files"
elif [ -s "$hits" ]; then
	not_ok "no password form in the $scanned files the other $others tests wrote"
	diag_file "$hits" 20
else
	ok "no password form in the $scanned files the other $others tests wrote"
fi
cores=$(find "$TEST_WORK" -type f \( -name 'core' -o -name 'core.[0-9]*' -o -name '*.core' \) | head -n5)
check "no core dump left by any test" test -z "$cores"
asan=$(grep -rlaE '^(==[0-9]+==ERROR: (Address|Leak)Sanitizer|.*runtime error: )' "$TEST_WORK" 2>/dev/null |
	grep -v "^$T_DIR/" | head -n5)
check "no sanitizer report in any test's output" test -z "$asan"
[ -n "$asan" ] && diag "$asan"
done_testing
