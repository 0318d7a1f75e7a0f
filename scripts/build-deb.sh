#!/bin/sh
# build-deb.sh - build the Debian packages (debian/) with dpkg-buildpackage
# in a copy of the tree, so that nothing is written beside the checkout
# (dpkg-buildpackage puts its output in the parent directory), and copy the
# source package, the .deb files and the .changes into $DEB_OUT (default
# build/deb). DEB_BUILD_OPTIONS=nocheck skips the unit tests.
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
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
