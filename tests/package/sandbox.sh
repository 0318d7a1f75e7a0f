#!/usr/bin/env bash
# sandbox.sh UNIT [SYSLOG-SOCKET] -- COMMAND...: run COMMAND the way systemd
# would run UNIT's service, where systemd is not PID 1 (CI containers). In a
# private mount namespace: ProtectSystem=strict (everything read-only but
# ReadWritePaths and RuntimeDirectory), ProtectHome, PrivateTmp,
# PrivateDevices (null, zero, full, random, urandom, tty, and /dev/log as
# systemd links it to the journal: here SYSLOG-SOCKET); then with setpriv:
# User/Group, CapabilityBoundingSet, AmbientCapabilities, NoNewPrivileges,
# UMask. The seccomp filter, MemoryDenyWriteExecute and the Restrict*
# settings have no stand-in here: systemd-analyze checks them.
set -eu
unit=$1
shift
log=
if [ "$1" != "--" ]; then
	log=$1
	shift
fi
[ "$1" = "--" ] && shift

val() { sed -n "s/^$1=//p" "$unit" | tail -n1; }
user=$(val User)
group=$(val Group)
caps=$(val CapabilityBoundingSet | tr 'A-Z ' 'a-z,' | sed 's/cap_//g')
ambient=$(val AmbientCapabilities | tr 'A-Z ' 'a-z,' | sed 's/cap_//g')
umask_v=$(val UMask)
rundir=$(val RuntimeDirectory)
rwpaths=$(val ReadWritePaths)
[ "$(val ProtectSystem)" = strict ] || { echo "sandbox: $unit: not ProtectSystem=strict" >&2; exit 1; }

if [ -z "${SANDBOX_INNER:-}" ]; then
	# RuntimeDirectory=: made by systemd before the start, owned by User.
	if [ -n "$rundir" ]; then
		install -d -o "$user" -g "$group" -m "$(val RuntimeDirectoryMode)" "/run/$rundir"
	fi
	SANDBOX_INNER=1 exec unshare -m --propagation private "$0" "$unit" ${log:+"$log"} -- "$@"
fi

# PrivateDevices=yes: a /dev of its own, from the real nodes.
old=$(mktemp -d /run/.sandbox.XXXXXX)
mount --rbind /dev "$old"
mount -t tmpfs -o mode=755 tmpfs /dev
for n in null zero full random urandom tty; do
	touch "/dev/$n"
	mount --bind "$old/$n" "/dev/$n"
done
ln -s /proc/self/fd /dev/fd
ln -s /proc/self/fd/0 /dev/stdin
ln -s /proc/self/fd/1 /dev/stdout
ln -s /proc/self/fd/2 /dev/stderr
mkdir /dev/shm && mount -t tmpfs -o mode=1777 tmpfs /dev/shm
if [ -n "$log" ]; then
	touch /dev/log
	mount --bind "$log" /dev/log
fi
umount -l "$old"
rmdir "$old"
mount -o remount,bind,ro /dev
# PrivateTmp=yes
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs -o mode=1777 tmpfs /var/tmp
# ProtectHome=yes
for p in /home /root; do
	if [ -d "$p" ]; then mount -t tmpfs -o ro,mode=000 tmpfs "$p"; fi
done
# The writable places stay writable: each becomes a mount of its own ...
for p in $rwpaths ${rundir:+/run/$rundir}; do
	p=${p#-}
	if [ -e "$p" ]; then mount --bind "$p" "$p"; fi
done
# ... and the rest is read-only (ProtectSystem=strict).
mount -o remount,bind,ro /
if grep -q ' /run ' /proc/self/mounts; then mount -o remount,bind,ro /run; fi

umask "${umask_v:-0022}"
exec setpriv --reuid="$user" --regid="$group" --clear-groups \
	--bounding-set="-all${caps:+,+$caps}" --inh-caps="-all${ambient:+,+$ambient}" \
	${ambient:+--ambient-caps="+$ambient"} \
	$([ "$(val NoNewPrivileges)" = yes ] && echo --no-new-privs) -- "$@"
