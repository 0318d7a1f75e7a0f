#!/usr/bin/env bash
# gmime_evidence.sh - build bench/gmime_evidence.c against Debian's GMime 3
# (libgmime-3.0-dev) and clsmtpc's core library, and run it: the evidence
# for docs/mime.md (GMime's ISO-2022-JP Subject and display names next to
# ours). Also prints GMime's peak memory writing a message with a large
# attachment (it streams when it is the one pushing the bytes).
#   bench/gmime_evidence.sh [BUILD]     (BUILD: default build)
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-${BUILD:-build}}
cd "$ROOT"
pkg-config --exists gmime-3.0 || { echo "gmime_evidence: libgmime-3.0-dev is not installed" >&2; exit 1; }
[ -f "$BUILD/libclsmtp-core.a" ] || { echo "gmime_evidence: run make first" >&2; exit 1; }
out=$(mktemp -d /tmp/gmime_evidence.XXXXXX)
trap 'rm -rf "$out"' EXIT
# shellcheck disable=SC2046
cc -std=c17 -O1 -D_GNU_SOURCE -Isrc/core $(pkg-config --cflags gmime-3.0 openssl libgsasl libidn2) \
	-o "$out/gmime_evidence" bench/gmime_evidence.c "$BUILD/libclsmtp-core.a" \
	$(pkg-config --libs gmime-3.0 openssl libgsasl libidn2)
"$out/gmime_evidence"
echo "Shared libraries GMime brings into a program (ldd; clsmtpc links none of them):"
ldd "$out/gmime_evidence" | awk '{print $1}' | grep -E 'gmime|glib|gobject|gio|gmodule|ffi|mount|blkid|selinux|pcre' |
	sed 's/^/    /'
if [ -x /usr/bin/time ]; then
	head -c $((${SIZE_MB:-100} * 1024 * 1024)) /dev/urandom >"$out/big.bin"
	/usr/bin/time -f '%M' -o "$out/rss" "$out/gmime_evidence" --stream "$out/big.bin"
	echo "GMime writing a message with a ${SIZE_MB:-100} MB attachment to /dev/null (push): peak RSS $(cat "$out/rss") KiB"
fi
