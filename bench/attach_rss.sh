#!/usr/bin/env bash
# attach_rss.sh - peak memory (RSS) of clsmtpc sending one large attachment
# (default 100 MB of random data), through BDAT and through DATA, to a
# loopback sink (bench/mime_sink.py), measured with GNU time's %M; the
# attachment is then decoded from what the sink received and compared with
# the file (SHA-256). A baseline run with a one-line body shows what the
# program needs without any attachment. Prints a Markdown table.
#   SIZE_MB=100 bench/attach_rss.sh
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CLSMTPC=${CLSMTPC:-$ROOT/build/clsmtpc}
PYTHON=/usr/bin/python3
SIZE_MB=${SIZE_MB:-100}
TIME=/usr/bin/time
[ -x "$TIME" ] || { echo "attach_rss: $TIME missing (Debian package time)" >&2; exit 1; }
[ -x "$CLSMTPC" ] || { echo "attach_rss: build $CLSMTPC first (make)" >&2; exit 1; }
work=$(mktemp -d /tmp/attach_rss.XXXXXX)
trap 'rm -rf "$work"' EXIT

head -c $((SIZE_MB * 1024 * 1024)) /dev/urandom >"$work/big.bin"
want=$(sha256sum "$work/big.bin" | cut -d' ' -f1)

# run MODE ATTACH...: peak RSS in KiB, elapsed seconds; checks the copy.
run() {
	local mode=$1 port pid i
	shift
	rm -f "$work/msg" "$work/port"
	"$PYTHON" "$ROOT/bench/mime_sink.py" --out "$work/msg" \
		$([ "$mode" = DATA ] && echo --no-chunking) >"$work/port" &
	pid=$!
	for i in $(seq 1 50); do
		port=$(head -n1 "$work/port" 2>/dev/null || true)
		[ -n "$port" ] && break
		sleep 0.1
	done
	"$TIME" -f '%M %e' -o "$work/time" "$CLSMTPC" -M 127.0.0.1 -P "$port" -Z none \
		-F bench@example.test -T sink@example.test -s "rss $mode" "$@" "body" \
		>"$work/out" 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
	wait "$pid"
	cat "$work/time"
}

# The attachment as received: the base64 between its part's header and
# the closing boundary, decoded.
received_sha() {
	"$PYTHON" - "$work/msg" <<'PY'
import base64, hashlib, sys
data = open(sys.argv[1], "rb").read()
mark = b"Content-Transfer-Encoding: base64\r\n\r\n"
i = data.index(mark) + len(mark)
j = data.index(b"\r\n--=_clsmtpc_", i)
print(hashlib.sha256(base64.b64decode(data[i:j])).hexdigest())
PY
}

read -r base_kb base_s < <(run BDAT)
read -r bdat_kb bdat_s < <(run BDAT --attach "$work/big.bin")
bdat_ok=$([ "$(received_sha)" = "$want" ] && echo yes || echo NO)
read -r data_kb data_s < <(run DATA --attach "$work/big.bin")
data_ok=$([ "$(received_sha)" = "$want" ] && echo yes || echo NO)

echo "| run | peak RSS | time | attachment intact |"
echo "|---|---|---|---|"
echo "| one-line body, no attachment | $base_kb KiB | ${base_s} s | - |"
echo "| $SIZE_MB MB attachment, BDAT (CHUNKING) | $bdat_kb KiB | ${bdat_s} s | $bdat_ok |"
echo "| $SIZE_MB MB attachment, DATA | $data_kb KiB | ${data_s} s | $data_ok |"
[ "$bdat_ok" = yes ] && [ "$data_ok" = yes ]
