#!/usr/bin/env bash
# test_security_tls.sh - clsmtpd's TLS graded by testssl.sh on 465 and with
# --starttls smtp on 587: nothing below TLS 1.2, no weak cipher, no finding
# above LOW. CI runs a reduced set of checks (about 45 s); TESTSSL_FULL=1
# runs testssl.sh's whole default set (see docs/security.md).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server_lib.sh"

srv_require
TESTSSL=$(command -v testssl || command -v testssl.sh || true)
if [ -z "$TESTSSL" ]; then
	not_ok "testssl.sh is installed (Debian package testssl.sh, scripts/install-deps.sh)"
	done_testing
fi

# A certificate as an operator would have one (a year, an OCSP responder
# named, P-256), from a CA of our own: the fixture certificates are made to
# expire within a month, which testssl.sh rightly grades HIGH.
PKI=$T_DIR/pki
mkdir -p "$PKI"
(
	cd "$PKI" || exit 1
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key \
		-out ca.pem -days 730 -subj "/O=clsmtpc tests/CN=testssl CA" \
		-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout server.key \
		-out server.csr -subj "/O=clsmtpc tests/CN=localhost"
	printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature" \
		"extendedKeyUsage=serverAuth" "subjectAltName=DNS:localhost,IP:127.0.0.1" \
		"authorityInfoAccess=OCSP;URI:http://ocsp.example.test/" >ext.cnf
	openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 365 \
		-extfile ext.cnf -out server.pem
) >"$PKI/openssl.log" 2>&1 || { not_ok "test PKI made"; diag_file "$PKI/openssl.log"; done_testing; }
chmod 644 "$PKI"/*.pem "$PKI"/*.key
srv_users
srv_config
sed -i "s|^tls_cert .*|tls_cert $PKI/server.pem|; s|^tls_key .*|tls_key $PKI/server.key|" "$SRV_CONF"
srv_start || { not_ok "clsmtpd starts"; done_testing; }

if [ -n "${TESTSSL_FULL:-}" ]; then
	CHECKS=()
	LIMIT=900
elif nm -D "$CLSMTPD" 2>/dev/null | grep -q __asan_init; then
	# The sanitizer build: the same TLS configuration as the release
	# build, graded in full there; here its handshakes run under ASan
	# (protocols and cipher lists), in a fraction of the time.
	CHECKS=(--protocols --std)
	LIMIT=300
else
	CHECKS=(--protocols --std --fs --server-preference --server-defaults --vulnerable)
	LIMIT=300
fi

# grade NAME TARGET [testssl options]: run testssl.sh (in the background,
# both ports at once) into $T_DIR/NAME.json and NAME.txt.
grade() {
	local name=$1 target=$2
	shift 2
	timeout -k 10 "$LIMIT" "$TESTSSL" --quiet --color 0 --warnings off --nodns none \
		--connect-timeout 10 --openssl-timeout 10 --add-ca "$PKI/ca.pem" \
		--jsonfile "$T_DIR/$name.json" "${CHECKS[@]}" "$@" "$target" \
		>"$T_DIR/$name.txt" 2>&1
	echo $? >"$T_DIR/$name.rc"
}
grade smtps "127.0.0.1:$SRV_PORT_TLS" &
g1=$!
grade starttls "127.0.0.1:$SRV_PORT_SUB" --starttls smtp &
g2=$!
wait "$g1" "$g2"

for name in smtps starttls; do
	label="port $([ $name = smtps ] && echo "$SRV_PORT_TLS (implicit TLS)" || echo "$SRV_PORT_SUB (STARTTLS)")"
	if [ ! -s "$T_DIR/$name.json" ]; then
		not_ok "testssl.sh ran against $label (exit $(cat "$T_DIR/$name.rc"))"
		diag_file "$T_DIR/$name.txt" 30
		continue
	fi
	ok "testssl.sh ran against $label"
	"$PYTHON" - "$T_DIR/$name.json" "$label" >"$T_DIR/$name.tap" <<'PY'
import json, sys
f, label = sys.argv[1], sys.argv[2]
raw = open(f).read().strip().rstrip(",")
if not raw.startswith("["):
    raw = "[" + raw + "]"
d = {x["id"]: x for x in json.loads(raw)}
n = 0
def check(cond, name, why=""):
    global n
    n += 1
    print("%s - %s%s" % ("ok" if cond else "not ok", name, "" if cond else "\n# " + why))
for p in ("SSLv2", "SSLv3", "TLS1", "TLS1_1"):
    v = d.get(p, {}).get("finding", "(missing)")
    check(v.startswith("not offered"), "%s: %s not offered" % (label, p), v)
for p in ("TLS1_2", "TLS1_3"):
    v = d.get(p, {}).get("finding", "(missing)")
    check(v.startswith("offered"), "%s: %s offered" % (label, p), v)
for c in ("cipherlist_NULL", "cipherlist_aNULL", "cipherlist_EXPORT", "cipherlist_LOW",
          "cipherlist_3DES_IDEA", "cipherlist_AVERAGE"):
    v = d.get(c, {}).get("finding", "(missing)")
    # AVERAGE is testssl.sh 3.0's name for the obsolete CBC ciphers.
    check(v.startswith("not offered"), "%s: no %s cipher" % (label, c.split("_", 1)[1]), v)
bad = ["%s %s: %s" % (x["severity"], x["id"], x["finding"]) for x in d.values()
       if x.get("severity") in ("MEDIUM", "HIGH", "CRITICAL")]
check(not bad, "%s: no finding above LOW" % label, "; ".join(bad))
worst = "OK"
for x in d.values():
    s = x.get("severity")
    if s in ("LOW", "MEDIUM", "HIGH", "CRITICAL") and \
            ["OK", "LOW", "MEDIUM", "HIGH", "CRITICAL"].index(s) > ["OK", "LOW", "MEDIUM", "HIGH", "CRITICAL"].index(worst):
        worst = s
low = ["%s (%s)" % (x["id"], x["finding"]) for x in d.values() if x.get("severity") == "LOW"]
print("# %s: worst severity %s; %d findings; LOW: %s" % (label, worst, len(d), ", ".join(low) or "none"))
PY
	while IFS= read -r line; do
		case $line in
		"ok - "*) ok "${line#ok - }" ;;
		"not ok - "*) not_ok "${line#not ok - }" ;;
		"# "*) diag "${line#\# }" ;;
		esac
	done <"$T_DIR/$name.tap"
done
done_testing
