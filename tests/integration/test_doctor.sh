#!/usr/bin/env bash
# test_doctor.sh - clsmtpc --doctor in a test network built here with
# tests/fixtures/netns.sh: a home host behind an ISP router that drops
# outbound tcp/25 (OP25B) except to the ISP's own mail host, a remote
# provider (25, 587 STARTTLS, 465 implicit TLS; SRV records), the ISP's
# mail host (465 closed; AUTH offered before STARTTLS), hosts with an
# expired, a wrong-name and a self-signed certificate and one speaking
# plain SMTP on 465, and an unreachable network. Servers are
# tests/fixtures/scripted_server.py run inside the namespaces. The
# recommended command is run as printed and must deliver a mail.
# Without network namespaces this test fails, saying so.
# shellcheck disable=SC2317
. "$(dirname "$0")/lib.sh"
require_client

T_START=$(date +%s%N)
NET=$T_DIR/net
mkdir -p "$NET"
SERVER_PIDS=()
# The doctor's whole budget here (the default is 10 s): a filtered port
# costs 60 % of it.
DT=2
PASSWORD='Doctor-Pw-7'
USER_ADDR=alice@provider.test

doctor_cleanup() {
	local p
	for p in "${SERVER_PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	timeout 20 "$LIB_ROOT/tests/fixtures/netns.sh" down "$NET" >/dev/null 2>&1
	lib_cleanup
}
trap doctor_cleanup EXIT
# A test killed by the runner's time limit still takes the network down.
trap 'exit 143' TERM INT

if ! net_env=$(timeout 20 "$LIB_ROOT/tests/fixtures/netns.sh" up "$NET" 2>"$NET/up.err"); then
	not_ok "the test network can be built (ip netns, veth, nftables, dnsmasq; root)" \
		"netns.sh up failed, so --doctor cannot be tested here:"
	diag_file "$NET/up.err"
	done_testing
fi
eval "$net_env"
ok "test network built (namespaces $NETNS_HOME, $NETNS_ISP, ...)"

# ---- certificates for the test host names, signed by the fixture CA ----
PKI=$NET/pki
mkdir -p "$PKI"
CA=$FIXTURE_CA
CAKEY=$FIXTURE_DIR/pki/ca.key
mkcerts() (
	cd "$PKI" || exit 1
	exec >openssl.log 2>&1
	if [ ! -r "$CAKEY" ]; then
		# Our own CA when the fixture's key is not there.
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
			-keyout ca.key -out ca.pem -days 30 -subj "/CN=clsmtpc doctor test CA" \
			-addext "basicConstraints=critical,CA:TRUE" \
			-addext "keyUsage=critical,keyCertSign,cRLSign" || exit 1
		CA=$PKI/ca.pem
		CAKEY=$PKI/ca.key
	fi
	cp "$CA" trust.pem
	leaf() { # leaf NAME CN SANS [openssl-ca dates]
		printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=%s\n' "$3" >"$1.ext"
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
			-keyout "$1.key" -out "$1.csr" -subj "/O=clsmtpc doctor tests/CN=$2" || exit 1
		openssl x509 -req -in "$1.csr" -CA "$CA" -CAkey "$CAKEY" -CAcreateserial \
			-days 30 -extfile "$1.ext" -out "$1.pem" || exit 1
	}
	leaf provider mail.provider.test "DNS:mail.provider.test,DNS:smtp.names.test"
	leaf ispmail mx1.isp.test "DNS:mx1.isp.test"
	leaf wrongname somewhere-else.test "DNS:somewhere-else.test"
	# The expired one needs explicit dates: `openssl ca` takes them.
	mkdir -p db
	: >db/index.txt
	echo 1000 >db/serial
	cat >ca.cnf <<EOF
[ca]
default_ca = t
[t]
database = $PKI/db/index.txt
serial = $PKI/db/serial
new_certs_dir = $PKI/db
certificate = $CA
private_key = $CAKEY
default_md = sha256
policy = p
unique_subject = no
copy_extensions = none
[p]
commonName = supplied
organizationName = optional
EOF
	printf 'basicConstraints=CA:FALSE\nsubjectAltName=DNS:expired.other.test\n' >expired.ext
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout expired.key \
		-out expired.csr -subj "/O=clsmtpc doctor tests/CN=expired.other.test" || exit 1
	openssl ca -batch -config ca.cnf -in expired.csr -out expired.pem -notext \
		-startdate 20200101000000Z -enddate 20200201000000Z -extfile expired.ext || exit 1
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout selfsigned.key -out selfsigned.pem -days 30 \
		-subj "/O=clsmtpc doctor tests/CN=selfsigned.other.test" \
		-addext "subjectAltName=DNS:selfsigned.other.test" || exit 1
	chmod 644 ./*.pem ./*.key
)
if ! mkcerts; then
	not_ok "test certificates made" "openssl failed:"
	diag_file "$PKI/openssl.log"
	done_testing
fi
TRUST_FILE=$PKI/trust.pem

# ---- servers -------------------------------------------------------------
# serve NAME NS ADDR PORT SCRIPT: a scripted server inside a namespace.
serve() {
	local name=$1 ns=$2 addr=$3 port=$4 script=$5
	ip netns exec "$ns" "$PYTHON" "$SCRIPTED_SERVER" --script "$script" --host "$addr" \
		--port "$port" --connections 40 --timeout 55 \
		--transcript "$NET/$name.tr" --messages "$NET/$name.msgs" \
		>"$NET/$name.port" 2>"$NET/$name.err" &
	SERVER_PIDS+=($!)
	SERVER_NAMES+=("$name")
}
SERVER_NAMES=()
AUTHJ="\"auth\": {\"user\": \"$USER_ADDR\", \"password\": \"$PASSWORD\"}"
P=$PKI
serve prov25 "$NETNS_PROV" 203.0.113.10 25 "{\"hostname\": \"mail.provider.test\",
  \"capabilities\": [\"PIPELINING\", \"SIZE 10485760\", \"STARTTLS\", \"8BITMIME\"],
  \"cert\": \"$P/provider.pem\", \"key\": \"$P/provider.key\"}"
serve prov587 "$NETNS_PROV" 203.0.113.10 587 "{\"hostname\": \"mail.provider.test\",
  \"capabilities\": [\"PIPELINING\", \"SIZE 10485760\", \"STARTTLS\", \"ENHANCEDSTATUSCODES\"],
  \"capabilities_tls\": [\"PIPELINING\", \"SIZE 10485760\", \"AUTH PLAIN LOGIN\", \"ENHANCEDSTATUSCODES\"],
  \"cert\": \"$P/provider.pem\", \"key\": \"$P/provider.key\", \"require_auth\": true, $AUTHJ}"
serve prov465 "$NETNS_PROV" 203.0.113.10 465 "{\"hostname\": \"mail.provider.test\",
  \"implicit_tls\": true,
  \"capabilities\": [\"PIPELINING\", \"SIZE 10485760\", \"AUTH PLAIN LOGIN\", \"ENHANCEDSTATUSCODES\",
                     \"8BITMIME\", \"CHUNKING\", \"SMTPUTF8\"],
  \"cert\": \"$P/provider.pem\", \"key\": \"$P/provider.key\", \"require_auth\": true, $AUTHJ}"
serve isp25 "$NETNS_ISPMAIL" 198.51.100.25 25 "{\"hostname\": \"mx1.isp.test\",
  \"capabilities\": [\"PIPELINING\", \"SIZE 10485760\", \"STARTTLS\", \"8BITMIME\"],
  \"cert\": \"$P/ispmail.pem\", \"key\": \"$P/ispmail.key\"}"
serve isp587 "$NETNS_ISPMAIL" 198.51.100.25 587 "{\"hostname\": \"mx1.isp.test\",
  \"capabilities\": [\"PIPELINING\", \"STARTTLS\", \"AUTH PLAIN LOGIN\"],
  \"capabilities_tls\": [\"PIPELINING\", \"AUTH PLAIN LOGIN\"],
  \"cert\": \"$P/ispmail.pem\", \"key\": \"$P/ispmail.key\", $AUTHJ}"
for bad in expired:21 wrongname:22 selfsigned:23; do
	serve "${bad%%:*}" "$NETNS_OTHER" "203.0.113.${bad##*:}" 465 "{\"implicit_tls\": true,
	  \"capabilities\": [\"AUTH PLAIN LOGIN\"],
	  \"cert\": \"$P/${bad%%:*}.pem\", \"key\": \"$P/${bad%%:*}.key\"}"
done
# 465 answered in clear: the TLS handshake meets "220 ..." (protocol).
serve plaintext "$NETNS_OTHER" 203.0.113.24 465 '{"capabilities": ["AUTH PLAIN LOGIN"]}'

# Bounded wait (10 s) for every server's port line.
servers_up=yes
for i in "${!SERVER_NAMES[@]}"; do
	n=${SERVER_NAMES[$i]}
	for ((k = 0; k < 100; k++)); do
		[ -s "$NET/$n.port" ] && break
		kill -0 "${SERVER_PIDS[$i]}" 2>/dev/null || break
		sleep 0.1
	done
	if [ ! -s "$NET/$n.port" ]; then
		servers_up=no
		not_ok "scripted server $n started" "its stderr:"
		diag_file "$NET/$n.err"
	fi
done
[ $servers_up = yes ] && ok "${#SERVER_NAMES[@]} scripted servers listening in the namespaces"

# ---- running the doctor from the home host ---------------------------------
# doctor NAME ARGS...: run clsmtpc --doctor in the home namespace (hard limit
# 20 s); sets D_OUT, D_ERR, D_RC and D_MS (wall-clock milliseconds).
doctor() {
	local name=$1 t0
	shift
	D_OUT=$NET/$name.out
	D_ERR=$NET/$name.err.txt
	printf '%q ' "$CLSMTPC" --doctor "$@" >"$NET/$name.cmd"
	t0=$(date +%s%N)
	ip netns exec "$NETNS_HOME" timeout -k 2 20 "$CLSMTPC" --doctor "$@" \
		</dev/null >"$D_OUT" 2>"$D_ERR"
	D_RC=$?
	D_MS=$((($(date +%s%N) - t0) / 1000000))
	echo "$D_MS" >"$NET/$name.ms"
}

doctor_diag() {
	diag "command: $(cat "$NET/$1.cmd")" "exit status: $(cat "$NET/$1.rc" 2>/dev/null || echo "$D_RC")" "stdout:"
	diag_file "$NET/$1.out" 40
	diag "stderr:"
	diag_file "$NET/$1.err.txt" 10
}

# jcheck NAME RUN PYEXPR: ok if PYEXPR is true of the JSON the run printed
# (d: the object; port(N): the entry of port N; rec: the recommendation).
jcheck() {
	local name=$1 run=$2 expr=$3
	if "$PYTHON" - "$NET/$run.out" "$expr" >"$NET/jcheck.out" 2>&1 <<'EOF'; then
import json, sys
d = json.load(open(sys.argv[1]))
def port(n):
    return [p for p in d["ports"] if p["port"] == n][0]
rec = d["conclusion"]["recommended"]
ok = eval(sys.argv[2])
if not ok:
    print("false: " + sys.argv[2])
    sys.exit(1)
EOF
		ok "$name"
	else
		not_ok "$name" "$(cat "$NET/jcheck.out")"
		doctor_diag "$run"
	fi
}

# check_rc_is NAME RUN WANT
check_rc_is() {
	if [ "$D_RC" -eq "$3" ]; then
		ok "$1"
	else
		not_ok "$1" "expected exit status $3, got $D_RC"
		doctor_diag "$2"
	fi
}

umask 077
printf '%s:mail.provider.test:%s\n' "$USER_ADDR" "$PASSWORD" >"$NET/passfile"
printf '%s:mail.provider.test:%s\n' "$USER_ADDR" "wrong-$PASSWORD" >"$NET/badpassfile"
umask 022

# 1. The remote provider, found by SRV, from behind OP25B (JSON).
doctor srv "$USER_ADDR" --tls-trust-file "$TRUST_FILE" --timeout $DT --json
check_rc_is "doctor via SRV exits 0 (a way to submit exists)" srv 0
jcheck "SRV discovery: _submissions._tcp first, mail.provider.test used" srv \
	'd["discovery"]["method"] == "srv" and d["host"] == "mail.provider.test" and d["discovery"]["steps"][0]["what"] == "SRV _submissions._tcp.provider.test"'
jcheck "port 25 of the remote provider is filtered (OP25B), not refused or open" srv \
	'port(25)["state"] == "filtered" and d["conclusion"]["port25"] == "filtered"'
jcheck "587 open: STARTTLS offered, TLS 1.2+, certificate verified, AUTH only after TLS" srv \
	'port(587)["state"] == "open" and port(587)["starttls"]["offered"] and port(587)["tls"]["version"] in ("TLSv1.2", "TLSv1.3") and port(587)["tls"]["certificate"]["verified"] and port(587)["ehlo"]["auth"] == [] and port(587)["ehlo_tls"]["auth"] == ["PLAIN", "LOGIN"]'
jcheck "465 open with implicit TLS: certificate facts, PLAIN LOGIN, CHUNKING, SMTPUTF8, SIZE" srv \
	'port(465)["state"] == "open" and port(465)["tls_mode"] == "implicit" and port(465)["ehlo"] is None and "mail.provider.test" in port(465)["tls"]["certificate"]["subject"] and "CN" in port(465)["tls"]["certificate"]["issuer"] and port(465)["tls"]["certificate"]["not_after"] and port(465)["ehlo_tls"]["auth"] == ["PLAIN", "LOGIN"] and port(465)["ehlo_tls"]["chunking"] and port(465)["ehlo_tls"]["smtputf8"] and port(465)["ehlo_tls"]["size"] == 10485760 and port(465)["ehlo_tls"]["pipelining"]'
jcheck "2525 (nothing listens) is refused" srv 'port(2525)["state"] == "refused"'
jcheck "recommends 465 with implicit TLS and PLAIN (RFC 8314 over 587)" srv \
	'rec["port"] == 465 and rec["tls_mode"] == "smtps" and rec["auth"] == "plain" and rec["command"][:9] == ["clsmtpc", "-Z", "smtps", "-M", "mail.provider.test", "-P", "465", "-A", "plain"]'
jcheck "the conclusion starts with port 25 and names OP25B" srv \
	'd["conclusion"]["summary"].startswith("Port 25 is filtered") and "OP25B" in d["conclusion"]["summary"] and "465 works with implicit TLS" in d["conclusion"]["summary"]'
jcheck "JSON schema name and exit status" srv \
	'd["schema"] == "clsmtpc-doctor/1" and d["conclusion"]["exit_status"] == 0 and d["auth_test"] is None'
budget_ms=$((DT * 1000 + 1500))
if [ "$D_MS" -le "$budget_ms" ]; then
	ok "the doctor ends within its budget ($D_MS ms for --timeout $DT, 4 ports in parallel)"
else
	not_ok "the doctor ends within its budget" "took $D_MS ms, budget ${DT}s"
fi

# 2. The same in words.
doctor srvtext "$USER_ADDR" --tls-trust-file "$TRUST_FILE" --timeout $DT
check_rc_is "doctor (text) exits 0" srvtext 0
# The first paragraph after the heading line(s).
if awk 'f && NF { print; exit } !NF { f = 1 }' "$D_OUT" | grep -q '^Port 25 is filtered from this network'; then
	ok "text: the conclusion comes first, in plain words"
else
	not_ok "text: the conclusion comes first, in plain words"
	doctor_diag srvtext
fi
wide=$(awk 'length($0) > 80' "$D_OUT" | head -3)
if [ -z "$wide" ]; then
	ok "text: every line fits 80 columns"
else
	not_ok "text: every line fits 80 columns" "$wide"
fi
check_no_fixed "text: no colour codes when stdout is not a terminal" $'\033[' "$D_OUT"
check_grep "text: the table shows 25 filtered" '^25 +filtered' "$D_OUT"
check_grep "text: the table shows 2525 refused" '^2525 +refused' "$D_OUT"
check_grep "text: the certificate verification is shown" 'verification +verified' "$D_OUT"

# 3. The command, run as printed (plus a password source): a mail arrives.
sed -n '/^Use:$/,/^$/p' "$D_OUT" | sed '1d;/^$/d' >"$NET/use.txt"
if [ -s "$NET/use.txt" ] && head -c 9 "$NET/use.txt" | grep -q '^  clsmtpc'; then
	ok "text: a command to use is printed"
else
	not_ok "text: a command to use is printed"
	doctor_diag srvtext
fi
{
	printf 'set -u\n'
	# shellcheck disable=SC2016 # expanded by the script this writes
	sed '1s|^  clsmtpc |"$CLSMTPC" -p "$PASSFILE" |' "$NET/use.txt"
} >"$NET/use.sh"
ip netns exec "$NETNS_HOME" env CLSMTPC="$CLSMTPC" PASSFILE="$NET/passfile" \
	timeout -k 2 20 bash "$NET/use.sh" </dev/null >"$NET/use.out" 2>"$NET/use.err"
rc=$?
if [ $rc -eq 0 ] && grep -lq 'Subject: clsmtpc test' "$NET"/prov465.msgs/msg-*.eml 2>/dev/null; then
	ok "the recommended command, run as printed, delivers a mail through 465"
else
	not_ok "the recommended command, run as printed, delivers a mail through 465" \
		"exit status $rc; script:" "$(cat "$NET/use.sh")" "stderr:"
	diag_file "$NET/use.err"
fi

# 4. Colour only on a terminal (and never with NO_COLOR).
ip netns exec "$NETNS_HOME" env TERM=xterm timeout -k 2 20 script -qec \
	"$CLSMTPC --doctor mail.provider.test --tls-trust-file $TRUST_FILE --timeout $DT" \
	/dev/null </dev/null >"$NET/tty.out" 2>&1
if grep -aq $'\033\\[32m' "$NET/tty.out"; then
	ok "text: colour on a terminal"
else
	not_ok "text: colour on a terminal"
	diag_file "$NET/tty.out" 10
fi
ip netns exec "$NETNS_HOME" env TERM=xterm NO_COLOR=1 timeout -k 2 20 script -qec \
	"$CLSMTPC --doctor mail.provider.test --tls-trust-file $TRUST_FILE --timeout $DT" \
	/dev/null </dev/null >"$NET/tty2.out" 2>&1
check_no_fixed "text: no colour with NO_COLOR set" $'\033[' "$NET/tty2.out"

# 5. Credentials: AUTH tried once on the recommended port, then QUIT.
doctor cred "$USER_ADDR" -U "$USER_ADDR" -p "$NET/passfile" --tls-trust-file "$TRUST_FILE" \
	--timeout $DT --json -v
check_rc_is "doctor with good credentials exits 0" cred 0
jcheck "credentials work: AUTH PLAIN accepted on 465" cred \
	'd["auth_test"]["ok"] and d["auth_test"]["mechanism"] == "PLAIN" and d["auth_test"]["port"] == 465 and "credentials work" in d["conclusion"]["summary"]'
jcheck "the command carries the password file (never the password)" cred \
	'"-p" in rec["command"] and "'"$PASSWORD"'" not in json.dumps(d)'
check_grep "-v: the probes' transcripts show AUTH with the secret hidden" 'AUTH PLAIN \*\*\*\*\*\*\*\*' "$D_ERR"
check_no_secret "no secret in the doctor's output or transcript" "$USER_ADDR" "$PASSWORD" \
	"$D_OUT" "$D_ERR"
nmsg_before=$(ls "$NET"/prov465.msgs/msg-*.eml 2>/dev/null | wc -l)
"$PYTHON" -c 'import json,sys; print("\0".join(json.load(open(sys.argv[1]))["conclusion"]["recommended"]["command"][1:]), end="")' \
	"$NET/cred.out" >"$NET/cred.argv"
mapfile -d '' cargv <"$NET/cred.argv"
ip netns exec "$NETNS_HOME" timeout -k 2 20 "$CLSMTPC" "${cargv[@]}" </dev/null \
	>"$NET/cred-send.out" 2>"$NET/cred-send.err"
rc=$?
nmsg_after=$(ls "$NET"/prov465.msgs/msg-*.eml 2>/dev/null | wc -l)
if [ $rc -eq 0 ] && [ "$nmsg_after" -gt "$nmsg_before" ]; then
	ok "the JSON command (with -p from the doctor's own options) delivers as it is"
else
	not_ok "the JSON command (with -p from the doctor's own options) delivers as it is" \
		"exit $rc, messages $nmsg_before -> $nmsg_after"
	diag_file "$NET/cred-send.err"
fi

doctor badcred "$USER_ADDR" -U "$USER_ADDR" -p "$NET/badpassfile" \
	--tls-trust-file "$TRUST_FILE" --timeout $DT --json
check_rc_is "doctor with a wrong password exits 77 (authentication)" badcred 77
jcheck "a wrong password is reported as refused credentials" badcred \
	'd["auth_test"]["ok"] is False and "refused your credentials" in d["conclusion"]["summary"] and d["conclusion"]["exit_status"] == 77'

# 6. The ISP's own mail host: 25 reachable (no OP25B towards it), 465 closed.
doctor isp mx1.isp.test --tls-trust-file "$TRUST_FILE" --timeout $DT --json
check_rc_is "doctor of the ISP's server exits 0" isp 0
jcheck "the ISP's own server: 25 open (not filtered), 465 refused, 587 open" isp \
	'port(25)["state"] == "open" and port(465)["state"] == "refused" and port(587)["state"] == "open"'
jcheck "without 465 it recommends 587 with STARTTLS" isp \
	'rec["port"] == 587 and rec["tls_mode"] == "tls"'
jcheck "it warns that 587 offers AUTH PLAIN before STARTTLS" isp \
	'any("587 offers AUTH PLAIN LOGIN before STARTTLS" in w for w in d["conclusion"]["warnings"])'

# 7. Discovery without SRV: MX, common names, presets.
doctor mx bob@isp.test --tls-trust-file "$TRUST_FILE" --timeout $DT --json
jcheck "no SRV, no preset, no smtp./mail. name: the MX host is used" mx \
	'd["discovery"]["method"] == "mx" and d["host"] == "mx1.isp.test" and any(s["what"] == "name smtp.isp.test" for s in d["discovery"]["steps"])'
doctor names carol@names.test --tls-trust-file "$TRUST_FILE" --timeout $DT --json
jcheck "smtp.DOMAIN is found by name" names \
	'd["discovery"]["method"] == "name" and d["host"] == "smtp.names.test" and rec["port"] == 465'
cat >"$NET/providers.conf" <<'EOF'
# Test presets for test_doctor.sh (not real providers).
preset testprovider
title Test provider
domains preset.test other-preset.test
host mail.provider.test
port 465
tls_mode smtps
auth plain
sender_policy any
source tests/integration/test_doctor.sh
EOF
CLSMTPC_PROVIDERS=$NET/providers.conf doctor preset dave@preset.test \
	--tls-trust-file "$TRUST_FILE" --timeout $DT --json
jcheck "a provider preset is used when there is no SRV record" preset \
	'd["discovery"]["method"] == "preset" and d["discovery"]["preset"] == "testprovider" and d["host"] == "mail.provider.test"'

# 8. TLS failures, each with its reason (in parallel: each waits for 25).
tls_pids=()
for h in expired wrongname selfsigned plaintext; do
	doctor "tls-$h" "$h.other.test" --tls-trust-file "$TRUST_FILE" --timeout $DT --json &
	tls_pids+=($!)
done
wait "${tls_pids[@]}"
for h in expired:expired wrongname:wrong-name selfsigned:untrusted plaintext:protocol; do
	run=tls-${h%%:*}
	D_OUT=$NET/$run.out
	jcheck "${h%%:*} certificate: 465 is a TLS failure ($( echo "${h##*:}"))" "$run" \
		'port(465)["state"] == "tls-failure" and port(465)["tls_failure"] == "'"${h##*:}"'" and rec is None and d["conclusion"]["exit_status"] == 69'
done
jcheck "the expired certificate's facts are still reported" tls-expired \
	'port(465)["tls"]["certificate"]["not_after"].startswith("2020-02-01") and not port(465)["tls"]["certificate"]["verified"]'
jcheck "the wrong name is named" tls-wrongname \
	'"somewhere-else.test" in port(465)["detail"]'

# 9. An unreachable network (ICMP host unreachable from the router).
doctor unreach nowhere.test --timeout $DT --json
check_rc_is "nothing answers: exit 75 (temporary)" unreach 75
jcheck "every port unreachable" unreach \
	'all(p["state"] == "unreachable" for p in d["ports"])'

# Figures, for the report.
diag "doctor run times (ms, --timeout $DT): srv $(cat "$NET/srv.ms"), text $(cat "$NET/srvtext.ms"), credentials $(cat "$NET/cred.ms"), ISP host $(cat "$NET/isp.ms"), MX $(cat "$NET/mx.ms"), unreachable $(cat "$NET/unreach.ms")"
diag "whole test: $((($(date +%s%N) - T_START) / 1000000)) ms"
done_testing
