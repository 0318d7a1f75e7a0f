#!/usr/bin/env bash
# test_server_metrics.sh - clsmtpd's operations interface against the real
# smarthost of the fixtures (Postfix, SMTPS, AUTH): "clsmtpd -t" prints the
# effective configuration without the smarthost password; the control
# socket lives where control_socket says, and clsmtpd refuses to start when
# it cannot make it; "-stats --format=prometheus" passes promtool and counts
# what happened - a local delivery, a relayed message and its delay, a
# recipient refused by the smarthost, a relay refusal, AUTH failures, the
# queue; --output writes the textfile whole.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server_lib.sh"

if [ ! -x "$CLSMTPD" ]; then
	not_ok "clsmtpd binary exists at $CLSMTPD"
	done_testing
fi
command -v promtool >/dev/null || { not_ok "promtool is installed (prometheus)"; done_testing; }
trap 'srv_stop; lib_cleanup' EXIT

srv_users || not_ok "clsmtpd passwd creates the users file"
SECRET=$SRV_DIR/relay.secret
(umask 077 && printf '%s\n' "$SASL_PASSWORD" >"$SECRET")
mkdir -p "$SRV_DIR/run"
chown nobody "$SRV_DIR/run"
EXTRA="control_socket $SRV_DIR/run/ctl
smarthost 127.0.0.1:$POSTFIX_SMTPS_PORT
smarthost_tls smtps
smarthost_user $SASL_USER
smarthost_password_file $SECRET
smarthost_ca $FIXTURE_CA
auth_failure_delay 0 0"

# ---- clsmtpd -t ---------------------------------------------------------------
srv_config "control_socket $SRV_DIR/no-such-dir/ctl"
check_exit "clsmtpd -t accepts a control socket in a missing directory (checked at start)" 0 \
	"$CLSMTPD" -t -f "$SRV_CONF"
check_exit "clsmtpd refuses to start without its control socket (exit 78)" 78 \
	timeout 10 "$CLSMTPD" -F -f "$SRV_CONF"
check_grep "... and names it" "control socket $SRV_DIR/no-such-dir/ctl: No such file" "$T_DIR/last.err"
srv_config "$EXTRA"
check_exit "clsmtpd -t exits 0" 0 "$CLSMTPD" -t -f "$SRV_CONF"
cp "$T_DIR/last.out" "$T_DIR/t.out"
check_grep "-t prints the effective configuration with its defaults" '^ban_auth_failures 5$' "$T_DIR/t.out"
check_grep "-t prints the control socket" "^control_socket $SRV_DIR/run/ctl\$" "$T_DIR/t.out"
check_no_secret "-t never prints the smarthost password" "$SASL_USER" "$SASL_PASSWORD" "$T_DIR/t.out"
grep -v '^clsmtpd: ' "$T_DIR/t.out" >"$T_DIR/t2.conf"
check_exit "what -t prints loads again" 0 "$CLSMTPD" -t -f "$T_DIR/t2.conf"

# ---- traffic -------------------------------------------------------------------
srv_start || { not_ok "clsmtpd starts"; done_testing; }
check "the control socket is where control_socket says, mode 0600" \
	test "$(stat -c %F:%a "$SRV_DIR/run/ctl")" = socket:600
MARK=$(unique_mark)
swaks --silent 2 -li 127.0.0.2 -s 127.0.0.1 -p "$SRV_PORT_PLAIN" -f x@example.org \
	-t alice@example.org --header "Subject: $MARK local" >/dev/null 2>&1
swaks --silent 2 -li 127.0.0.2 -s 127.0.0.1 -p "$SRV_PORT_PLAIN" -f alice@example.org \
	-t "someone@$POSTFIX_DOMAIN" --header "Subject: $MARK relay" >/dev/null 2>&1
swaks --silent 2 -li 127.0.0.2 -s 127.0.0.1 -p "$SRV_PORT_PLAIN" -f alice@example.org \
	-t "$POSTFIX_REJECT_RCPT" --header "Subject: $MARK rejected" >/dev/null 2>&1
# 127.0.0.3 is not trusted: relaying is refused.
swaks --silent 2 -li 127.0.0.3 -s 127.0.0.1 -p "$SRV_PORT_PLAIN" -f x@example.net \
	-t victim@example.com >/dev/null 2>&1
for i in 1 2; do
	swaks --silent 2 -li 127.0.0.3 -s 127.0.0.1 -p "$SRV_PORT_SUB" -tls -a PLAIN -au alice \
		-ap "wrong-$i" --quit-after AUTH >/dev/null 2>&1
done
srv_mail_wait alice "$MARK local" || not_ok "the local message arrives"
mail_wait "$MARK relay" >/dev/null 2>&1 || not_ok "the relayed message reaches the smarthost"
srv_log_wait "to=<$POSTFIX_REJECT_RCPT>.*status=bounced" || not_ok "the smarthost's 550 bounces"

# ---- the scrape ------------------------------------------------------------------
check_exit "-stats --format=prometheus exits 0" 0 "$CLSMTPD" -f "$SRV_CONF" -stats --format=prometheus
cp "$T_DIR/last.out" "$T_DIR/m.prom"
if promtool check metrics <"$T_DIR/m.prom" >"$T_DIR/promtool.out" 2>&1; then
	ok "promtool check metrics accepts it, without a lint remark"
else
	not_ok "promtool check metrics accepts it, without a lint remark"
	diag_file "$T_DIR/promtool.out"
fi
val() { awk -v k="$1" '$1 == k { print $2 }' "$T_DIR/m.prom"; }
expect() {
	local got
	got=$(val "$2")
	if [ "$got" = "$3" ]; then ok "$1 ($2 $3)"; else not_ok "$1" "$2: got '$got', want $3"; fi
}
expect "the accepted messages are counted" clsmtpd_messages_accepted_total 3
# The local message and the failure notice about the refused recipient.
expect "the local deliveries are counted" 'clsmtpd_deliveries_total{class="local",status="sent"}' 2
expect "the relayed message is counted" 'clsmtpd_deliveries_total{class="relay",status="sent"}' 1
expect "the smarthost's refusal is counted as a bounce" 'clsmtpd_deliveries_total{class="relay",status="bounced"}' 1
expect "the relay delay histogram holds the relayed message" clsmtpd_relay_delay_seconds_count 1
expect "... in its +Inf bucket too" 'clsmtpd_relay_delay_seconds_bucket{le="+Inf"}' 1
expect "the relay refusal is counted" 'clsmtpd_messages_refused_total{reason="relay_denied"}' 1
expect "the AUTH failures are counted" clsmtpd_auth_failures_total 2
expect "the queue is empty again" clsmtpd_queue_messages 0
check "the connections are counted" test "$(val clsmtpd_connections_total)" -ge 6
check_exit "--output writes the textfile" 0 "$CLSMTPD" -f "$SRV_CONF" -stats --format=prometheus \
	--output="$T_DIR/clsmtpd.prom"
check "... mode 0644, no temporary file left" \
	test "$(stat -c %a "$T_DIR/clsmtpd.prom"):$(ls "$T_DIR" | grep -c 'clsmtpd.prom.tmp')" = 644:0
check_exit "--output without --format=prometheus is refused (64)" 64 "$CLSMTPD" -f "$SRV_CONF" -stats \
	--output="$T_DIR/x.prom"
check_exit "--format with -bans is refused (64)" 64 "$CLSMTPD" -f "$SRV_CONF" -bans --format=prometheus
check_exit "an unknown format is refused (64)" 64 "$CLSMTPD" -f "$SRV_CONF" -stats --format=json
diag "sample scrape:" "$(grep -v '^#' "$T_DIR/m.prom" | grep -v ' 0$')"
srv_stop
check_exit "-stats --format=prometheus without a daemon exits 69" 69 "$CLSMTPD" -f "$SRV_CONF" -stats \
	--format=prometheus
done_testing
