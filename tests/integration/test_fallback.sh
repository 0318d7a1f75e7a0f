#!/usr/bin/env bash
# test_fallback.sh - fallback servers (--fallback, the account's "fallback"):
# the next server is tried when one cannot be reached or answers 4xx before
# it took the message, never when the reply to the data was lost (the
# message may have been accepted: nothing is sent twice). The first servers
# are scripted; the last one is the test Postfix.
. "$(dirname "$0")/lib.sh"
require_client

check_eq() { # NAME GOT WANT
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "got:  '$2'" "want: '$3'"; fi
}
sub=(-Z tls --tls-trust-file "$FIXTURE_CA" -U "$SASL_USER" -r "$SASL_PASSWORD" -F a@example.test)

# ---- a port nobody listens on, then Postfix --------------------------------
M=$(unique_mark)
run_client -M localhost -P "$(free_port)" --fallback "localhost:$POSTFIX_SUBMISSION_PORT" \
	"${sub[@]}" -T "f1-$M@example.test" -s "fb $M" "x"
check_rc "the first server refuses the connection: the fallback sends (0)" 0
check_grep "the user is told which server is tried next" "trying the fallback server localhost port $POSTFIX_SUBMISSION_PORT" "$ERR"
mail_wait "$M" && ok "the mail arrived through the fallback" || not_ok "the mail arrived through the fallback"

# ---- 421 at the greeting, then 451 to the recipient, then Postfix (account) --
start_scripted '{"replies": {"greeting": "421 4.3.2 Shutting down"}}'
P1=$SCRIPTED_PORT T1=$SCRIPTED_TRANSCRIPT PID1=$SCRIPTED_PID
start_scripted '{"replies": {"rcpt": "451 4.3.0 Try later"}}'
P2=$SCRIPTED_PORT T2=$SCRIPTED_TRANSCRIPT
mkdir -p "$T_DIR/xdg/clsmtpc"
cat >"$T_DIR/xdg/clsmtpc/config" <<EOF
account fb
host 127.0.0.1
port $P1
tls_trust_file $FIXTURE_CA
fallback 127.0.0.1:$P2, localhost:$POSTFIX_SUBMISSION_PORT
logfile $T_DIR/fb.log
EOF
chmod 600 "$T_DIR/xdg/clsmtpc/config"
M=$(unique_mark)
XDG_CONFIG_HOME=$T_DIR/xdg run_client -a fb -U "$SASL_USER" -r "$SASL_PASSWORD" -F a@example.test \
	-T "f2-$M@example.test" -s "fb $M" "x"
stop_scripted
SCRIPTED_PID=$PID1 SCRIPTED_TRANSCRIPT=$T1 stop_scripted
check_rc "421 greeting, then 451 to RCPT, then Postfix: sent (0)" 0
check_eq "no server but the last accepted the message" \
	"$(grep -c '^\* message-accepted' "$T1" "$T2" | cut -d: -f2 | tr '\n' ' ')" "0 0 "
mail_wait "$M" && ok "the mail arrived through the second fallback" ||
	not_ok "the mail arrived through the second fallback"
check_eq "one log line per server tried" "$(wc -l <"$T_DIR/fb.log")" 3
check_grep "the failed servers' lines say why" "smtpstatus=451 smtpmsg='451 4.3.0 Try later'" "$T_DIR/fb.log"

# ---- the reply to the data is lost: no fallback ----------------------------
start_scripted '{"replies": {"data_end": {"drop": true}}}'
P3=$SCRIPTED_PORT
M=$(unique_mark)
run_client -M 127.0.0.1 -P "$P3" -Z none --fallback "localhost:$POSTFIX_SUBMISSION_PORT" \
	-U "$SASL_USER" -r "$SASL_PASSWORD" -F "s-$M@example.test" -T "f3-$M@example.test" \
	-s "fb $M" "x"
stop_scripted
check_rc "the connection drops after the data: temporary failure (75)" 75
check_no_grep "the fallback is not tried: the first server may have the message" 'trying the fallback' "$ERR"
if mail_never_arrives "$M" "s-$M@example.test" 2; then
	ok "nothing reached the fallback server"
else
	not_ok "nothing reached the fallback server"
fi

# ---- 5xx is final: no fallback ---------------------------------------------
start_scripted '{"replies": {"rcpt": "550 5.1.1 No such user"}}'
run_client -M 127.0.0.1 -P "$SCRIPTED_PORT" -Z none --fallback "localhost:$POSTFIX_SUBMISSION_PORT" \
	-F a@example.test -T "nobody@example.test" "x"
stop_scripted
check_rc "a 5xx refusal is final (69)" 69
check_no_grep "and no fallback is tried" 'trying the fallback' "$ERR"

done_testing
