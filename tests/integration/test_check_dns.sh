#!/usr/bin/env bash
# test_check_dns.sh - "clsmtpd -check-dns" against real DNS answers: a
# dnsmasq in a network namespace serving three domains, one set up right
# (MX to this server, its name's address and PTR, SPF covering the
# smarthost, both DKIM keys published, DMARC p=reject), one with its
# records missing, one with wrong ones (another DKIM key, two SPF records).
# Conclusion first, the findings, the zone-file lines to publish (which,
# once served, make the check pass), --json that parses, exit 0 / 1 / 69
# (no DNS answer).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server_lib.sh"
. "$(dirname "$0")/dns_lib.sh"

srv_require
trap 'dns_ns_cleanup; lib_cleanup' EXIT
KEYS=$SRV_DIR/keys
mkdir -p "$KEYS"
for k in "example.org rsa1" "example.org ed1 -a ed25519" "example.net s1" "example.com s1" "example.com other"; do
	# shellcheck disable=SC2086
	"$CLSMTPD" -dkim-keygen $k -d "$KEYS" >/dev/null || not_ok "-dkim-keygen $k"
done
CONF=$SRV_DIR/check.conf
printf '%s\n' "hostname mx.example.org" "spool $SRV_DIR/spool" "users $SRV_DIR/users" \
	"listen 127.0.0.1:25 plain" "domain example.org example.net" "smarthost smtp.isp.example:465" \
	"dkim_sign example.org rsa1 $KEYS/example.org.rsa1.key" \
	"dkim_sign example.org ed1 $KEYS/example.org.ed1.key" \
	"dkim_sign example.net s1 $KEYS/example.net.s1.key" \
	"dkim_sign example.com s1 $KEYS/example.com.s1.key" >"$CONF"
: >"$SRV_DIR/users"
chmod 600 "$SRV_DIR/users"
# The records of example.org's keys, and example.com's "s1" name holding
# the other key (a key changed without its record).
"$CLSMTPD" -f "$CONF" -dkim-records >"$T_DIR/zone.all" || not_ok "-dkim-records"
grep '_domainkey.example.org' "$T_DIR/zone.all" >"$T_DIR/zone.org"
printf '%s\n' "listen 127.0.0.1:25 plain" "spool $SRV_DIR/spool" "users $SRV_DIR/users" \
	"dkim_sign example.com s1 $KEYS/example.com.other.key" >"$T_DIR/other.conf"
"$CLSMTPD" -f "$T_DIR/other.conf" -dkim-records | grep _domainkey >"$T_DIR/zone.com" ||
	not_ok "-dkim-records of the other key"
mapfile -t TXT < <(dns_zone_txt_args "$T_DIR/zone.org"; dns_zone_txt_args "$T_DIR/zone.com")

dns_ns_create clsmtpd-checkdns || done_testing
DNSARGS=(--local=/example.org/ --local=/example.net/ --local=/example.com/ --local=/isp.example/
	--local=/127.in-addr.arpa/
	--host-record=smtp.isp.example,127.0.0.53
	--mx-host=example.org,mx.example.org,10 --host-record=mx.example.org,127.0.0.10
	'--txt-record=example.org,v=spf1 mx ip4:127.0.0.53 ~all'
	'--txt-record=_dmarc.example.org,v=DMARC1; p=reject; rua=mailto:postmaster@example.org'
	'--txt-record=example.net,some other TXT record'
	'--txt-record=example.com,v=spf1 ip4:192.0.2.1 -all' '--txt-record=example.com,v=spf1 a -all'
	'--txt-record=_dmarc.example.com,v=DMARC1; p=quarantine'
	"${TXT[@]}")
dns_start smtp.isp.example "${DNSARGS[@]}" || { not_ok "dnsmasq answers in the namespace"; done_testing; }

check_dns() { # OUTFILE ARGS...: clsmtpd -check-dns in the namespace; sets RC
	local out=$1
	shift
	"$IN_NS" "$CLSMTPD" -f "$CONF" -check-dns "$@" >"$out" 2>"$out.err"
	RC=$?
}

# ---- a domain set up right ----------------------------------------------------------
check_dns "$T_DIR/org.txt" example.org
check "example.org: exit 0" test "$RC" -eq 0
check "... the conclusion comes first: ready" test "$(head -n1 "$T_DIR/org.txt")" = "example.org: ready (6 checks passed)"
check_grep "... MX to this server" '^  ok +mx +MX 10 mx.example.org' "$T_DIR/org.txt"
check_grep "... SPF passes for the smarthost, and says the ISP may send from others" \
	'ok +spf .*passes for the smarthost smtp.isp.example \(127.0.0.53\).*ISP' "$T_DIR/org.txt"
check_grep "... the RSA record matches the key" 'ok +dkim +selector rsa1 \(rsa-sha256\)' "$T_DIR/org.txt"
check_grep "... the Ed25519 record too" 'ok +dkim +selector ed1 \(ed25519-sha256\)' "$T_DIR/org.txt"
check_grep "... DMARC p=reject explained" 'ok +dmarc +p=reject: .*DKIM signature \(d=example.org\) aligns' "$T_DIR/org.txt"
check_grep "... the PTR of the server's name" 'ok +ptr +mx.example.org has the address 127.0.0.10, whose PTR is mx.example.org' "$T_DIR/org.txt"
check_no_grep "... nothing to publish" 'publish in the zone' "$T_DIR/org.txt"

# ---- records missing ------------------------------------------------------------------
check_dns "$T_DIR/net.txt" example.net
check "example.net: exit 1" test "$RC" -eq 1
check_grep "... conclusion first: the problems counted" '^example.net: [0-9]+ problems?' "$T_DIR/net.txt"
check_grep "... no MX for a domain it receives" 'fail +mx +no MX record' "$T_DIR/net.txt"
check_grep "... no SPF (a warning: DKIM carries the mail)" 'warn +spf +no SPF record' "$T_DIR/net.txt"
check_grep "... the DKIM record missing" 'fail +dkim +selector s1: s1._domainkey.example.net has no record' "$T_DIR/net.txt"
check_grep "... no DMARC" 'warn +dmarc +no DMARC record' "$T_DIR/net.txt"
check_grep "... what to publish: the MX" '^example.net. IN MX 10 mx.example.org.$' "$T_DIR/net.txt"
check_grep "... the DKIM record, in strings" '^s1._domainkey.example.net. IN TXT \( "v=DKIM1; k=rsa; p=' "$T_DIR/net.txt"
check_grep "... a DMARC record to start with" '^_dmarc.example.net. IN TXT "v=DMARC1; p=none; rua=mailto:postmaster@example.net"$' "$T_DIR/net.txt"

# ---- records wrong -----------------------------------------------------------------------
check_dns "$T_DIR/com.txt" example.com
check "example.com: exit 1" test "$RC" -eq 1
check_grep "... two SPF records are an error" 'fail +spf +2 SPF records' "$T_DIR/com.txt"
check_grep "... the DKIM record holds another key" 'fail +dkim +selector s1: s1._domainkey.example.com holds another key' "$T_DIR/com.txt"
check_grep "... and the right one is to publish" '^s1._domainkey.example.com. IN TXT' "$T_DIR/com.txt"
check_grep "... DMARC quarantine with signing: fine" 'ok +dmarc +p=quarantine' "$T_DIR/com.txt"
check_grep "... a domain it does not receive for needs no MX" 'ok +mx +no MX record \(this server does not receive' "$T_DIR/com.txt"

# ---- every domain, JSON ---------------------------------------------------------------------
check_dns "$T_DIR/all.json" --json
check "all domains: exit 1 (some fail)" test "$RC" -eq 1
cat >"$T_DIR/check_json.py" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
names = [x["domain"] for x in d["domains"]]
assert names == ["example.org", "example.net", "example.com"], names
org, net = d["domains"][0], d["domains"][1]
assert org["conclusion"] == "ok" and org["publish"] == [], org
assert net["conclusion"] == "fail", net
assert any(c["check"] == "dkim" and c["status"] == "fail" for c in net["checks"])
assert any(p.startswith("example.net. IN MX 10") for p in net["publish"]), net["publish"]
print("ok")
PY
if "$PYTHON" "$T_DIR/check_json.py" "$T_DIR/all.json" >"$T_DIR/json.out" 2>&1; then
	ok "--json: our domains then the signing domains, each with checks and lines to publish"
else
	not_ok "--json: our domains then the signing domains, each with checks and lines to publish"
	diag_file "$T_DIR/json.out"
fi

# ---- what it says to publish, published, passes --------------------------------------------
grep '_domainkey' "$T_DIR/net.txt" >"$T_DIR/zone.net"
mapfile -t FIX < <(dns_zone_txt_args "$T_DIR/zone.net")
kill "$DNS_PID" 2>/dev/null
wait "$DNS_PID" 2>/dev/null
dns_start smtp.isp.example "${DNSARGS[@]}" "${FIX[@]}" --mx-host=example.net,mx.example.org,10 \
	'--txt-record=example.net,v=spf1 mx ip4:127.0.0.53 ~all' \
	'--txt-record=_dmarc.example.net,v=DMARC1; p=none; rua=mailto:postmaster@example.net' ||
	not_ok "dnsmasq restarts with the published records"
check_dns "$T_DIR/net2.txt" example.net
check "example.net with what it said to publish: exit 0" test "$RC" -eq 0
check_grep "... its DKIM record now matches" 'ok +dkim +selector s1' "$T_DIR/net2.txt"

# ---- no DNS at all -----------------------------------------------------------------------------
kill "$DNS_PID" 2>/dev/null
wait "$DNS_PID" 2>/dev/null
DNS_PID=
check_dns "$T_DIR/none.txt" example.org
check "no resolver answers: exit 69" test "$RC" -eq 69
check_grep "... and says it could not know" 'unknown +mx +the MX query for example.org failed' "$T_DIR/none.txt"
done_testing
