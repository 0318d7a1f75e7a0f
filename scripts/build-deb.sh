#!/bin/sh
# build-deb.sh - build the Debian packages (debian/) with dpkg-buildpackage
# in a copy of the tree, so that nothing is written beside the checkout
# (dpkg-buildpackage puts its output in the parent directory), and copy the
# source package, the .deb files and the .changes into $DEB_OUT (default
# build/deb). DEB_BUILD_OPTIONS=nocheck skips the unit tests.
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
# What building needs (debian/control's Build-Depends and the tools): a
# fresh machine gets it from Debian when we are root, else is told what.
need="build-essential debhelper dpkg-dev pkgconf libssl-dev libgsasl-dev libidn2-dev libpsl-dev"
missing=""
for p in $need; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "build-deb: missing:$missing (as root: apt-get install$missing)" >&2
		exit 69
	fi
	echo "build-deb: installing:$missing" >&2
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
scripts/version-check.sh >/dev/null
out=${DEB_OUT:-build/deb}
case $out in /*) ;; *) out=$top/$out ;; esac
version=$(dpkg-parsechangelog -l debian/changelog -S Version)
work=$(mktemp -d /tmp/clsmtpc-deb.XXXXXX)
trap 'rm -rf "$work"' EXIT INT TERM
mkdir "$work/clsmtpc-$version"
# The tracked files and the ones not yet committed, never build/ or .git.
if git rev-parse --git-dir >/dev/null 2>&1; then
	git ls-files -z --cached --others --exclude-standard |
		tar --null -T - -cf - | tar -xf - -C "$work/clsmtpc-$version"
else
	tar --exclude=./build --exclude=./.git -cf - . | tar -xf - -C "$work/clsmtpc-$version"
fi
(cd "$work/clsmtpc-$version" && dpkg-buildpackage -us -uc -j2) >"$work/build.log" 2>&1 || {
	tail -n 40 "$work/build.log" >&2
	echo "build-deb: dpkg-buildpackage failed (log above)" >&2
	exit 1
}
mkdir -p "$out"
rm -f "$out"/*.deb "$out"/*.changes "$out"/*.buildinfo "$out"/*.dsc "$out"/*.tar.*
cp "$work"/*.deb "$work"/*.changes "$work"/*.buildinfo "$work"/*.dsc "$work"/*.tar.* "$out"/
cp "$work/build.log" "$out/build.log"
ls "$out"/*.deb
