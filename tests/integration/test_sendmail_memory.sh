#!/usr/bin/env bash
# test_sendmail_memory.sh - sendmail mode streams the message: a 50 MB
# message given to `clsmtpc --sendmail -t` (a backup report, an attachment
# from `mail -a`) is spooled to a temporary file and sent from it, so the
# peak memory (max RSS under /usr/bin/time -v) stays far below its size.
# The sink is the scripted server (plain, no SIZE limit); a bound, not a timing.
. "$(dirname "$0")/lib.sh"
require_client

SIZE_MB=50
RSS_MAX_KB=$((20 * 1024))
# AddressSanitizer's shadow memory and quarantine add about 15 MB; the
# message held in memory would still be several times over this bound.
nm -D "$CLSMTPC" 2>/dev/null | grep -q __asan_init && RSS_MAX_KB=$((40 * 1024))

if [ ! -x /usr/bin/time ]; then
	not_ok "/usr/bin/time is installed (Debian package time)"
	done_testing
fi

CFGDIR=$T_DIR/xdg/clsmtpc
mkdir -p "$CFGDIR" "$T_DIR/home"
start_scripted '{"capabilities": ["PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES"]}' \
	--timeout 120 || { not_ok "scripted server started"; done_testing; }
cat >"$CFGDIR/config" <<EOF
# test configuration (test_sendmail_memory.sh)
account sink
host 127.0.0.1
port $SCRIPTED_PORT
tls off
from big-sender@example.test
timeout 60

account default : sink
EOF
chmod 600 "$CFGDIR/config"

# The message: a header section with a Bcc, then 50 MB of LF-ended lines
# (canonicalised to CRLF on the way) and a last line to find at the end.
M=$(unique_mark)
MSG=$T_DIR/big.txt
{
	printf 'From: Backup <backup@example.test>\nTo: ops-%s@example.test\n' "$M"
	printf 'Bcc: audit-%s@example.test\nSubject: nightly backup report %s\n\n' "$M" "$M"
	yes 'backup: /srv/data/archive/2026/11/23/part-000123.tar.zst ok 1234567 bytes' |
		head -c $((SIZE_MB * 1024 * 1024))
	printf 'end of report %s\n' "$M"
} >"$MSG"
diag "message: $(stat -c %s "$MSG") bytes"

T_SEQ=$((T_SEQ + 1))
ERR=$T_DIR/big.err
XDG_CONFIG_HOME=$T_DIR/xdg HOME=$T_DIR/home timeout -k 2 120 \
	/usr/bin/time -v -o "$T_DIR/time.txt" "$CLSMTPC" --sendmail -t <"$MSG" >"$T_DIR/big.out" 2>"$ERR"
RC=$?
check_rc "a ${SIZE_MB} MB message through --sendmail -t exits 0" 0
stop_scripted

RSS=$(sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): //p' "$T_DIR/time.txt")
diag "max RSS: ${RSS:-?} kB for a ${SIZE_MB} MB message (bound: $RSS_MAX_KB kB)"
if [ -n "$RSS" ] && [ "$RSS" -lt "$RSS_MAX_KB" ]; then
	ok "peak memory (${RSS} kB) is well under the message size"
else
	not_ok "peak memory (${RSS:-?} kB) is well under the message size" \
		"max RSS must stay below $RSS_MAX_KB kB"
	diag_file "$T_DIR/time.txt"
fi

check "the sink accepted one message" test "$(scripted_accepted)" -eq 1
EML=$SCRIPTED_MSGS/msg-1.eml
if [ -f "$EML" ]; then
	check "the whole body arrived (its last line)" grep -qF "end of report $M" "$EML"
	check "sent with CRLF line ends only" test "$(tr -d '\n' <"$EML" | tr -cd '\r' | wc -c)" \
		-eq "$(tr -cd '\n' <"$EML" | wc -c)"
	check "Bcc is not in the message" test -z "$(sed -n '1,/^\r$/{/^Bcc:/p}' "$EML")"
	check_grep "Date: added" '^Date: ' "$EML"
	check_grep "Message-ID: added" '^Message-ID: <[^@>]+@example\.test>' "$EML"
else
	not_ok "the sink stored the message"
fi
check_grep "RCPT for the Bcc recipient (-t)" "RCPT TO:<audit-$M@example.test>" "$SCRIPTED_TRANSCRIPT"

done_testing
