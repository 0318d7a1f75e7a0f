#!/usr/bin/env bash
# test_tls_client_opts.sh - msmtp's TLS and connection keys in clsmtpc:
# a client certificate and AUTH EXTERNAL (side by side with msmtp), the TLS
# version floor lowered only when asked and with a warning, the name checked
# and sent in SNI (tls_host_override), a CRL that revokes the server's
# certificate, and the source address (source_ip). The server is the
# scripted one: it asks for a client certificate, speaks only TLS 1.1, or
# logs the SNI name and the peer's address.
. "$(dirname "$0")/lib.sh"
require_client

check_eq() { # NAME GOT WANT
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "got:  '$2'" "want: '$3'"; fi
}

# ---- a client certificate, signed by the test CA --------------------------
PKI=$T_DIR/pki
mkdir -p "$PKI"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-subj /CN=client.example.test -keyout "$PKI/client.key" -out "$PKI/client.csr" \
	>"$PKI/log" 2>&1
openssl x509 -req -in "$PKI/client.csr" -CA "$FIXTURE_CA" -CAkey "$FIXTURE_DIR/pki/ca.key" \
	-CAserial "$PKI/ca.srl" -CAcreateserial -days 2 -out "$PKI/client.pem" >>"$PKI/log" 2>&1 ||
	diag_file "$PKI/log"
chmod 600 "$PKI/client.key"

EXT='{"capabilities": ["PIPELINING", "STARTTLS"],
      "capabilities_tls": ["PIPELINING", "AUTH EXTERNAL PLAIN"],
      "require_auth": true, "client_ca": "'$FIXTURE_CA'"}'
if start_scripted "$EXT"; then
	run_client -M 127.0.0.1 -P "$SCRIPTED_PORT" -Z tls --tls-trust-file "$FIXTURE_CA" \
		--tls-cert-file "$PKI/client.pem" --tls-key-file "$PKI/client.key" -A external \
		-F a@example.test -T b@example.test -s ext "x"
	stop_scripted
	check_rc "--tls-cert-file/--tls-key-file with -A external: sent (0)" 0
	check_grep "the server saw the client certificate" '^\* client-cert .*commonName=client\.example\.test' \
		"$SCRIPTED_TRANSCRIPT"
	check_grep "AUTH EXTERNAL succeeded on the certificate" '^\* auth-external authzid= cert=.*client' \
		"$SCRIPTED_TRANSCRIPT"
	check_eq "the message was accepted" "$(scripted_accepted)" 1
	c_auth=$(grep -E "^C: .AUTH EXTERNAL" "$SCRIPTED_TRANSCRIPT" | head -n1)
else
	not_ok "scripted server for AUTH EXTERNAL"
fi
# msmtp, the same way: the same AUTH line on the wire.
if start_scripted "$EXT"; then
	timeout 30 msmtp --host=127.0.0.1 --port="$SCRIPTED_PORT" --tls=on \
		--tls-trust-file="$FIXTURE_CA" --tls-cert-file="$PKI/client.pem" \
		--tls-key-file="$PKI/client.key" --auth=external -f a@example.test b@example.test \
		<<<"Subject: ext" >"$T_DIR/msmtp.out" 2>&1
	stop_scripted
	m_auth=$(grep -E "^C: .AUTH EXTERNAL" "$SCRIPTED_TRANSCRIPT" | head -n1)
	check_eq "msmtp sends the same AUTH EXTERNAL line" "${c_auth:-none}" "${m_auth:-none}"
fi
if start_scripted "$EXT"; then
	run_client -M 127.0.0.1 -P "$SCRIPTED_PORT" -Z tls --tls-trust-file "$FIXTURE_CA" \
		-A external -F a@example.test -T b@example.test "x"
	stop_scripted
	check_rc "-A external without a certificate fails with the server's refusal (77)" 77
	check_grep "the error quotes the server" '535' "$ERR"
fi
run_client -M 127.0.0.1 -P "$(free_port)" --tls-key-file "$PKI/client.key" -F a@example.test \
	-T b@example.test "x"
check_rc "--tls-key-file without --tls-cert-file is a usage error (64)" 64

# ---- the TLS version floor: 1.2 unless asked -------------------------------
OLD='{"implicit_tls": true, "tls_only": "1.1"}'
if start_scripted "$OLD"; then
	run_client -M 127.0.0.1 -P "$SCRIPTED_PORT" -Z smtps --tls-trust-file "$FIXTURE_CA" \
		-F a@example.test -T b@example.test "x"
	stop_scripted
	check_rc "a TLS 1.1-only server is refused by default (69)" 69
	check_no_grep "nothing was sent to it" '^C: ' "$SCRIPTED_TRANSCRIPT"
fi
if start_scripted "$OLD"; then
	run_client -M 127.0.0.1 -P "$SCRIPTED_PORT" -Z smtps --tls-trust-file "$FIXTURE_CA" \
		--tls-min-version 1.1 -F a@example.test -T b@example.test "x"
	stop_scripted
	check_rc "--tls-min-version 1.1 reaches it (0)" 0
	check_grep "over TLS 1.1" '^\* tls-established TLSv1\.1' "$SCRIPTED_TRANSCRIPT"
	check_grep "with a warning that names the risk" 'warning: TLS 1\.1 allowed.*RFC 8996' "$ERR"
fi
run_client -M 127.0.0.1 -P "$(free_port)" --tls-min-version 1.4 -F a@example.test \
	-T b@example.test "x"
check_rc "--tls-min-version 1.4 is a usage error (64)" 64

# ---- tls_host_override: the name checked and sent in SNI ------------------
WRONG='{"implicit_tls": true, "cert": "'$FIXTURE_WRONGNAME_CERT'", "key": "'$FIXTURE_WRONGNAME_KEY'"}'
if start_scripted "$WRONG"; then
	run_client -M 127.0.0.1 -P "$SCRIPTED_PORT" -Z smtps --tls-trust-file "$FIXTURE_CA" \
		-F a@example.test -T b@example.test "x"
	stop_scripted
	check_rc "a certificate for another name is refused (69)" 69
fi
if start_scripted "$WRONG"; then
	run_client -M localhost -P "$SCRIPTED_PORT" -4 -Z smtps --tls-trust-file "$FIXTURE_CA" \
		--tls-host-override wrong-name.example.test -F a@example.test -T b@example.test "x"
	stop_scripted
	check_rc "--tls-host-override with the certificate's name: sent (0)" 0
	check_grep "SNI carries the overriding name" '^\* sni wrong-name\.example\.test$' \
		"$SCRIPTED_TRANSCRIPT"
fi

# ---- a CRL: our own small CA revokes its server certificate ---------------
C=$T_DIR/crlca
mkdir -p "$C"
: >"$C/index.txt"
echo 1000 >"$C/crlnumber"
cat >"$C/ca.cnf" <<EOF
[ca]
default_ca = d
[d]
database = $C/index.txt
crlnumber = $C/crlnumber
default_md = sha256
default_crl_days = 2
EOF
{
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-subj /CN=crl-test-ca -keyout "$C/ca.key" -out "$C/ca.pem"
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost \
		-addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$C/srv.key" -out "$C/srv.csr"
	openssl x509 -req -in "$C/srv.csr" -CA "$C/ca.pem" -CAkey "$C/ca.key" -CAcreateserial \
		-CAserial "$C/ca.srl" -copy_extensions copy -days 2 -out "$C/srv.pem"
	openssl ca -config "$C/ca.cnf" -gencrl -keyfile "$C/ca.key" -cert "$C/ca.pem" \
		-out "$C/empty.crl"
	openssl ca -config "$C/ca.cnf" -revoke "$C/srv.pem" -keyfile "$C/ca.key" -cert "$C/ca.pem"
	openssl ca -config "$C/ca.cnf" -gencrl -keyfile "$C/ca.key" -cert "$C/ca.pem" \
		-out "$C/revoked.crl"
} >"$C/log" 2>&1 || diag_file "$C/log"
CRLSRV='{"implicit_tls": true, "cert": "'$C/srv.pem'", "key": "'$C/srv.key'"}'
if start_scripted "$CRLSRV"; then
	run_client -M 127.0.0.1 -P "$SCRIPTED_PORT" -Z smtps --tls-trust-file "$C/ca.pem" \
		--tls-crl-file "$C/empty.crl" -F a@example.test -T b@example.test "x"
	stop_scripted
	check_rc "--tls-crl-file with a CRL that revokes nothing: sent (0)" 0
fi
if start_scripted "$CRLSRV"; then
	run_client -M 127.0.0.1 -P "$SCRIPTED_PORT" -Z smtps --tls-trust-file "$C/ca.pem" \
		--tls-crl-file "$C/revoked.crl" -F a@example.test -T b@example.test "x"
	stop_scripted
	check_rc "--tls-crl-file revoking the server's certificate: refused (69)" 69
	check_grep "the error says revoked" 'revoked' "$ERR"
	check_no_grep "nothing was sent" '^C: ' "$SCRIPTED_TRANSCRIPT"
fi

# ---- source_ip ---------------------------------------------------------
if start_scripted '{}'; then
	run_client -M 127.0.0.1 -P "$SCRIPTED_PORT" -Z none --source-ip 127.0.0.2 \
		-F a@example.test -T b@example.test "x"
	stop_scripted
	check_rc "--source-ip 127.0.0.2: sent (0)" 0
	check_grep "the server saw the connection come from 127.0.0.2" '^\* connect 1 from 127\.0\.0\.2$' \
		"$SCRIPTED_TRANSCRIPT"
fi
run_client -M 127.0.0.1 -P "$(free_port)" --source-ip not-an-ip -F a@example.test \
	-T b@example.test "x"
check_rc "--source-ip that is not an address: usage error (64)" 64

done_testing
