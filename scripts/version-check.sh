#!/bin/sh
# version-check.sh - the version lives in src/core/base/version.h; the
# Debian changelog must name the same one (a packaged build bumped only
# there would show one version in --version and another to dpkg).
# Exits 1 and says both when they differ.
set -eu
cd "$(dirname "$0")/.."
h=$(sed -n 's/^#define CLSMTP_VERSION "\(.*\)"$/\1/p' src/core/base/version.h)
d=$(dpkg-parsechangelog -l debian/changelog -S Version)
if [ -z "$h" ] || [ "$h" != "$d" ]; then
	echo "version-check: src/core/base/version.h says '$h', debian/changelog says '$d'" >&2
	exit 1
fi
echo "version-check: $h"
