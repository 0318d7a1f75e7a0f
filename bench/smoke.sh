#!/usr/bin/env bash
# smoke.sh - quick sanity check of bench/delayproxy (a few seconds, no Postfix):
# builds it, then bench/proxycheck.py at a 20 ms RTT: data intact and in order,
# nothing early, FIN forwarded after the data, sequential connections, SIGTERM.
# The precision bound is loose here (a busy CI machine); run.sh reports the real one.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
mkdir -p "$BUILD/bench"
${CC:-cc} -O2 -std=c17 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wformat=2 -D_GNU_SOURCE \
	-o "$BUILD/bench/delayproxy" bench/delayproxy.c
exec timeout -k 5 60 /usr/bin/python3 bench/proxycheck.py --proxy "$BUILD/bench/delayproxy" \
	--delay 10 --exchanges 10 --connections 3 --bulk 100000 --max-error-ms 10
