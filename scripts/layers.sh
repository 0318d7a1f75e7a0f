#!/usr/bin/env bash
# layers.sh - the include rule of src/core (make lint, docs/architecture.md):
# a file may include a header of its own folder or of a lower layer, never
# of a higher one or of a layer of equal rank; core includes name the
# folder ("msg/mime.h") and never reach into src/client or src/server.
# Ends with "N passed, N failed" (one check per file).
set -u
cd "$(dirname "$0")/.."
declare -A RANK=([base]=0 [net]=1 [smtp]=2 [sasl]=2 [msg]=3 [engine]=4 [serve]=4)
passed=0
failed=0
while IFS= read -r f; do
	layer=${f#src/core/}
	layer=${layer%%/*}
	if [ -z "${RANK[$layer]+x}" ]; then
		echo "not ok - $f: folder $layer is not a layer (add it to scripts/layers.sh)"
		failed=$((failed + 1))
		continue
	fi
	bad=""
	while IFS= read -r inc; do
		case $inc in
		*/*) ;;
		*) bad="$bad $inc(no folder)"; continue ;;
		esac
		to=${inc%%/*}
		if [ -z "${RANK[$to]+x}" ]; then
			bad="$bad $inc(not a core layer)"
		elif [ "$to" != "$layer" ] && [ "${RANK[$to]}" -ge "${RANK[$layer]}" ]; then
			bad="$bad $inc($layer may not include $to)"
		fi
	done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f")
	if [ -n "$bad" ]; then
		echo "not ok - $f:$bad"
		failed=$((failed + 1))
	else
		passed=$((passed + 1))
	fi
done < <(find src/core -name '*.[ch]' | sort)
echo "ok - layers: $passed files of src/core include only their own or lower layers"
[ "$failed" -eq 0 ] || echo "layers: $failed files break the rule (docs/architecture.md)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
