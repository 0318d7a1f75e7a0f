#!/usr/bin/env bash
# run.sh - the Debian packages end to end (make deb-check; CI runs it last):
# build them (scripts/build-deb.sh), check the version agrees, lintian with
# no error and no warning, the unit's exposure, then install, run, upgrade
# and purge them (inside.sh) in a throwaway copy of this machine: an overlay
# of / in a private mount namespace, chrooted, where the test Postfix (an
# MTA clsmtpc-mta conflicts with) is first removed as from a clean machine.
# The machine itself is never changed; what the purge left behind is read
# from the overlay's upper directory. Prints TAP, then "N passed, N failed".
# Needs root. DEB_OUT (default build/deb) receives the packages, lintian's
# output, the metrics scrape and the syslog file of the run.
set -u
cd "$(dirname "$0")/../.."
TOP=$PWD
OUT=${DEB_OUT:-build/deb}
case $OUT in /*) ;; *) OUT=$TOP/$OUT ;; esac
N=0
FAIL=0
start=$(date +%s)

ok() { N=$((N + 1)); echo "ok $N - $1"; }
not_ok() {
	N=$((N + 1))
	FAIL=$((FAIL + 1))
	echo "not ok $N - $1"
	shift
	local l
	for l in "$@"; do printf '%s\n' "$l" | sed 's/^/# /'; done
	return 0
}
finish() {
	echo "1..$N"
	echo "# package test: $(($(date +%s) - start)) s"
	echo "$((N - FAIL)) passed, $FAIL failed"
	[ "$FAIL" -eq 0 ]
	exit $?
}

if [ "$(id -u)" -ne 0 ]; then
	echo "Bail out! the package test needs root (dpkg -i, chroot)"
	exit 1
fi
for t in dpkg-buildpackage lintian systemd-analyze promtool fail2ban-regex setpriv unshare swaks; do
	command -v "$t" >/dev/null || { echo "Bail out! $t is missing (scripts/install-deps.sh)"; exit 1; }
done

# ---- build, version, lintian --------------------------------------------------
if scripts/version-check.sh >/dev/null 2>&1; then
	ok "src/core/base/version.h and debian/changelog name the same version"
else
	not_ok "src/core/base/version.h and debian/changelog name the same version" "$(scripts/version-check.sh 2>&1)"
fi
# make check has run the unit tests: the package build skips them.
if DEB_OUT=$OUT DEB_BUILD_OPTIONS="nocheck ${DEB_BUILD_OPTIONS:-}" scripts/build-deb.sh >"$OUT.log" 2>&1; then
	ok "dpkg-buildpackage builds clsmtpc, clsmtpc-mta and clsmtpd"
else
	not_ok "dpkg-buildpackage builds clsmtpc, clsmtpc-mta and clsmtpd" "$(tail -n 20 "$OUT.log")"
	finish
fi
rm -f "$OUT.log"
lintian --pedantic --display-info "$OUT"/*.changes >"$OUT/lintian.txt" 2>&1
if ! grep -Eq '^[EW]: ' "$OUT/lintian.txt"; then
	ok "lintian: no error, no warning ($(grep -c '^[IPX]: ' "$OUT/lintian.txt") info/pedantic/experimental notes)"
else
	not_ok "lintian: no error, no warning" "$(grep -E '^[EW]: ' "$OUT/lintian.txt")"
fi

# ---- the packages for the upgrade: the same files, a newer version -----------
version=$(dpkg-parsechangelog -l debian/changelog -S Version)
work=$(mktemp -d /tmp/clsmtpc-pkgtest.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/pkg" "$work/upg"
cp "$OUT"/clsmtpc_*.deb "$OUT"/clsmtpc-mta_*.deb "$OUT"/clsmtpd_*.deb "$work/pkg/"
repack_ok=1
for deb in "$work"/pkg/*.deb; do
	d=$work/repack
	rm -rf "$d"
	dpkg-deb -R "$deb" "$d" &&
		sed -i "s/^Version: $version\$/Version: $version+upgradetest1/; s/(>= $version)/(>= $version+upgradetest1)/" "$d/DEBIAN/control" &&
		dpkg-deb -b "$d" "$work/upg/$(basename "$deb" | sed "s/_${version}_/_${version}+upgradetest1_/")" >/dev/null || repack_ok=0
done
[ $repack_ok = 1 ] && ok "the upgrade packages are made (version $version+upgradetest1)" ||
	not_ok "the upgrade packages are made (version $version+upgradetest1)"

# ---- a throwaway copy of the machine -----------------------------------------
# In its own mount namespace: everything mounted here vanishes with it.
unshare -m --propagation private bash -s "$work" "$TOP" >"$work/inside.tap" 2>"$work/inside.err" <<'SETUP'
set -u
work=$1 top=$2
r=$work/root
mkdir -p "$r"
mount -t tmpfs -o size=2g tmpfs "$r"
mkdir "$r/upper" "$r/work" "$r/m"
mount -t overlay overlay -o "lowerdir=/,upperdir=$r/upper,workdir=$r/work" "$r/m"
m=$r/m
mount -t proc proc "$m/proc"
mount --rbind /sys "$m/sys"
mount --rbind /dev "$m/dev"
mount -t tmpfs -o mode=755 tmpfs "$m/run"
mount -t tmpfs -o mode=1777 tmpfs "$m/tmp"
mkdir -p "$m/tmp/pkgtest-tools"
cp -a "$top/tests/package/." "$m/tmp/pkgtest-tools/"
cp -a "$work/pkg" "$work/upg" "$m/tmp/"
# As on a clean machine: no other MTA and nothing that needs one (bsd-mailx
# came with the test Postfix), and (as in build chroots) no service started
# or stopped by a maintainer script.
chroot "$m" sh -c '
	printf "#!/bin/sh\nexit 101\n" >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d
	for p in $(dpkg-query -W -f="\${Package} \${Status} | \${Provides} | \${Depends} \${Pre-Depends}\n" |
		awk "/ installed \| / && /mail-transport-agent|default-mta/ { print \$1 }"); do
		dpkg --remove --force-depends "$p" >/dev/null 2>&1 || echo "cannot remove $p" >&2
	done' >&2
(cd "$r/upper" && find . -path ./tmp -prune -o -path ./run -prune -o -print | sort) >"$work/before.list"
chroot "$m" /tmp/pkgtest-tools/inside.sh /tmp/pkg /tmp/upg
cp -a "$m/tmp/pkgtest-artifacts" "$work/artifacts" 2>/dev/null
# What the purge left: what the overlay holds now and did not before, or
# holds with other contents than the machine (dpkg's own records and logs,
# the man-db cache and the shadow tools' backups aside).
(cd "$r/upper" && find . -path ./tmp -prune -o -path ./run -prune -o -print | sort) >"$work/after.list"
comm -13 "$work/before.list" "$work/after.list" |
	grep -Ev '^\./(var/lib/dpkg|var/log|var/cache/man|var/cache/debconf|var/lib/systemd/deb-systemd-helper-enabled$|var/lib/systemd$|var/lib/systemd/deb-systemd-helper-masked$|etc/(passwd|group|shadow|gshadow|subuid|subgid)-?$|var/lib/prometheus$|var/mail$)' |
	while read -r f; do
		if [ -d "$r/upper/$f" ] && [ -d "/$f" ]; then continue; fi
		if [ -f "$r/upper/$f" ] && [ -f "/$f" ] && cmp -s "$r/upper/$f" "/$f"; then continue; fi
		echo "left: ${f#.}"
	done >"$work/leftovers"
for f in etc/passwd etc/group etc/shadow etc/gshadow; do
	if [ -f "$r/upper/$f" ] && ! cmp -s "$r/upper/$f" "/$f"; then
		diff "/$f" "$r/upper/$f" | sed "s|^|changed /$f: |" >>"$work/leftovers"
	fi
done
umount -l "$m" 2>/dev/null
SETUP
# Number the inner lines and count them.
while IFS= read -r line; do
	case $line in
	"ok - "*) ok "${line#ok - }" ;;
	"not ok - "*) not_ok "${line#not ok - }" ;;
	"#"*) echo "$line" ;;
	esac
done <"$work/inside.tap"
if ! grep -q '^ok - \|^not ok - ' "$work/inside.tap"; then
	not_ok "the install/run/purge part ran" "$(tail -n 15 "$work/inside.err")"
fi
if [ -f "$work/leftovers" ] && [ ! -s "$work/leftovers" ]; then
	ok "after the purge the machine holds nothing the packages made"
else
	not_ok "after the purge the machine holds nothing the packages made" "$(head -n 20 "$work/leftovers" 2>/dev/null)"
fi
# What the run saw, for who reads the CI log later: the scrape, the log.
if [ -d "$work/artifacts" ]; then
	rm -rf "$OUT/pkgtest"
	cp -a "$work/artifacts" "$OUT/pkgtest"
fi
[ -s "$work/inside.err" ] && sed 's/^/# stderr: /' "$work/inside.err" | head -n 10
finish
