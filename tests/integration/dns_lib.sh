# dns_lib.sh - a network namespace of the test's own whose resolv.conf names
# a dnsmasq on the namespace's loopback: real DNS answers (MX, A, TXT) for
# test domains without touching the machine's resolver. Source after lib.sh.
#
#   dns_ns_create NAME     the namespace; sets IN_NS (a wrapper that runs its
#                          arguments inside) and DNS_NS; cleanup in dns_ns_cleanup
#   dns_start READY ARGS   dnsmasq with ARGS (--local=, --txt-record=, ...),
#                          waiting until it answers for the host name READY
#                          (which ARGS must give an address)

DNS_PID=
DNS_NS=

dns_ns_cleanup() {
	local p
	[ -n "$DNS_PID" ] && kill "$DNS_PID" 2>/dev/null
	[ -n "$DNS_NS" ] || return 0
	# Anything of ours still inside (a receiving server) goes with it.
	for p in $(ip netns pids "$DNS_NS" 2>/dev/null); do
		kill "$p" 2>/dev/null
	done
	ip netns del "$DNS_NS" 2>/dev/null
	rm -rf "/etc/netns/${DNS_NS:?}"
}

dns_ns_create() {
	local t
	for t in ip dnsmasq; do
		command -v "$t" >/dev/null || { not_ok "$t is installed (scripts/install-deps.sh)"; return 1; }
	done
	DNS_NS=$1-$$
	if ! ip netns add "$DNS_NS" 2>"$T_DIR/netns.err"; then
		not_ok "network namespace $DNS_NS" "$(cat "$T_DIR/netns.err")"
		DNS_NS=
		return 1
	fi
	ip -n "$DNS_NS" link set lo up
	mkdir -p "/etc/netns/$DNS_NS"
	printf 'nameserver 127.0.0.1\noptions timeout:2 attempts:2\n' >"/etc/netns/$DNS_NS/resolv.conf"
	# exec all the way down, so the pid we hold is the program's own.
	IN_NS=$T_DIR/in-ns
	printf '#!/bin/sh\nexec ip netns exec %q "$@"\n' "$DNS_NS" >"$IN_NS"
	chmod 755 "$IN_NS"
}

dns_start() {
	local ready=$1
	shift
	"$IN_NS" dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts \
		--no-poll --user=root --group=root --listen-address=127.0.0.1 --bind-interfaces \
		--port=53 --domain-needed \
		--log-queries --log-facility="$T_DIR/dnsmasq.log" --pid-file="$T_DIR/dnsmasq.pid" \
		"$@" >"$T_DIR/dnsmasq.out" 2>&1 &
	DNS_PID=$!
	# Ready when it answers (getent hosts: ahosts would skip the query, as
	# AI_ADDRCONFIG finds no address but loopback).
	for _ in $(seq 50); do
		"$IN_NS" getent hosts "$ready" >/dev/null 2>&1 && return 0
		kill -0 "$DNS_PID" 2>/dev/null || break
		sleep 0.1
	done
	diag_file "$T_DIR/dnsmasq.out"
	return 1
}

# dns_zone_txt_args ZONEFILE: dnsmasq --txt-record arguments, one per line,
# for the TXT records of zone-file lines 'NAME IN TXT ( "a" "b" )' (as
# clsmtpd -dkim-records prints them).
dns_zone_txt_args() {
	"$PYTHON" - "$1" <<'PY'
import re, sys
for m in re.finditer(r'^(\S+)\s+IN\s+TXT\s+\(((?:\s*"[^"]*")+)\s*\)', open(sys.argv[1]).read(), re.M):
    parts = re.findall(r'"([^"]*)"', m.group(2))
    # On the command line dnsmasq takes quotes literally: the strings
    # (without commas, as DKIM records are) are separated by commas.
    print("--txt-record=%s,%s" % (m.group(1).rstrip("."), ",".join(parts)))
PY
}
