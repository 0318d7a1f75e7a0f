#!/usr/bin/env bash
# test_server_sender_relay.sh - sender_relay: one spool drained in one run
# through three smarthosts chosen by the envelope sender, each enforcing
# what real providers do: a mobile carrier's (implicit TLS only, AUTH, MAIL
# FROM and From: must be the account's address, <> brackets, strict CRLF),
# a Gmail-like one (STARTTLS, AUTH, MAIL FROM the account's), and the
# default smarthost for everyone else. The rewritten messages are accepted,
# a failure notice of a rewritten route goes back to the original sender,
# the passwords never reach the log, -t prints the routes without them.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server_lib.sh"

srv_require
trap 'srv_stop; lib_cleanup' EXIT
srv_users || not_ok "clsmtpd passwd creates the users file"

PW_DOCOMO='docomo-Secret-9'
PW_GMAIL='gmail-Secret-7'
(umask 077 && printf '%s\n' "$PW_DOCOMO" >"$SRV_DIR/docomo.secret" &&
	printf '%s\n' "$PW_GMAIL" >"$SRV_DIR/gmail.secret")

start_scripted "{\"implicit_tls\": true, \"capabilities\": [\"PIPELINING\", \"8BITMIME\", \"AUTH PLAIN LOGIN\"],
  \"auth\": {\"user\": \"taro\", \"password\": \"$PW_DOCOMO\"}, \"require_auth\": true,
  \"require_brackets\": true, \"strict_crlf\": true,
  \"mail_from_only\": \"taro@docomo.example\", \"header_from_only\": \"taro@docomo.example\"}" \
	--connections 5 --timeout 90 ||
	{ not_ok "the carrier's smarthost started"; done_testing; }
D_PORT=$SCRIPTED_PORT D_MSGS=$SCRIPTED_MSGS D_TR=$SCRIPTED_TRANSCRIPT
start_scripted "{\"capabilities\": [\"PIPELINING\", \"8BITMIME\", \"STARTTLS\"],
  \"capabilities_tls\": [\"PIPELINING\", \"8BITMIME\", \"AUTH PLAIN\"],
  \"auth\": {\"user\": \"hanako@gmail.example\", \"password\": \"$PW_GMAIL\"}, \"require_auth\": true,
  \"mail_from_only\": \"hanako@gmail.example\"}" --connections 5 --timeout 90 ||
	{ not_ok "the Gmail-like smarthost started"; done_testing; }
G_PORT=$SCRIPTED_PORT G_TR=$SCRIPTED_TRANSCRIPT G_MSGS=$SCRIPTED_MSGS
start_scripted '{"capabilities": ["PIPELINING", "8BITMIME"]}' --connections 5 --timeout 90 ||
	{ not_ok "the default smarthost started"; done_testing; }
S_PORT=$SCRIPTED_PORT S_MSGS=$SCRIPTED_MSGS

ROUTES="sender_relay taro@example.org 127.0.0.1:$D_PORT tls=smtps user=taro password_file=$SRV_DIR/docomo.secret ca=$FIXTURE_CA rewrite=taro@docomo.example rewrite_from=yes
sender_relay @family.example 127.0.0.1:$G_PORT tls=starttls user=hanako@gmail.example password_file=$SRV_DIR/gmail.secret ca=$FIXTURE_CA rewrite=hanako@gmail.example
smarthost 127.0.0.1:$S_PORT
smarthost_tls none"

# ---- the directive ---------------------------------------------------------------
for bad in "sender_relay taro 127.0.0.1:1" "sender_relay a@b.example 127.0.0.1:1 user=x" \
	"sender_relay a@b.example 127.0.0.1:1 rewrite_from=yes" \
	"sender_relay a@b.example 127.0.0.1:1 tls=maybe" "sender_relay a@b.example 127.0.0.1:1 colour=red"; do
	srv_config "$bad"
	check_exit "refused: $bad" 78 "$CLSMTPD" -t -f "$SRV_CONF"
done
check_grep "... naming the line" "clsmtpd.conf:[0-9]+: .*sender_relay" "$T_DIR/last.err"
srv_config "$ROUTES"
check_exit "clsmtpd -t accepts the routes" 0 "$CLSMTPD" -t -f "$SRV_CONF"
check_grep "-t prints each route with its rewrite" \
	"^sender_relay taro@example.org 127.0.0.1:$D_PORT tls=smtps user=taro password_file=.* rewrite=taro@docomo.example rewrite_from=yes" \
	"$T_DIR/last.out"
check_no_secret "-t never prints the accounts' passwords" taro "$PW_DOCOMO" "$T_DIR/last.out"

# ---- one spool, three routes, one run --------------------------------------------
M=$(unique_mark)
srv_start || { not_ok "clsmtpd starts with two sender routes"; done_testing; }
printf 'From: "Taro Yamada" <taro@example.org>\nTo: friend@example.net\nSubject: %s carrier\n\nfrom the carrier account\n' "$M" >"$T_DIR/carrier.eml"
srv_submit --from taro@example.org --to friend@example.net --message "$T_DIR/carrier.eml" >/dev/null ||
	not_ok "the trusted network submits taro's message"
srv_submit --from hanako@family.example --to friend@example.net --subject "$M gmail" >/dev/null ||
	not_ok "the trusted network submits hanako's message"
srv_submit --from jiro@example.org --to friend@example.net --subject "$M default" >/dev/null ||
	not_ok "the trusted network submits jiro's message"
for ((i = 0; i < 150; i++)); do
	[ -f "$D_MSGS/msg-1.eml" ] && [ -f "$G_MSGS/msg-1.eml" ] && [ -f "$S_MSGS/msg-1.eml" ] && break
	sleep 0.1
done
check "the carrier's smarthost accepted taro's message" grep -q "$M carrier" "$D_MSGS/msg-1.eml"
check_grep "... with AUTH" "AUTH PLAIN" "$D_TR"
check_grep "... MAIL FROM the account's address" "MAIL FROM:<taro@docomo.example>" "$D_TR"
check_grep "... From: rewritten, the display name kept" '^From: "Taro Yamada" <taro@docomo.example>' \
	"$D_MSGS/msg-1.eml"
check "the Gmail-like smarthost accepted hanako's message" grep -q "$M gmail" "$G_MSGS/msg-1.eml"
check_grep "... MAIL FROM hanako@gmail.example" "MAIL FROM:<hanako@gmail.example>" "$G_TR"
check_grep "... its From: left alone (no rewrite_from)" '^From: <hanako@family.example>' "$G_MSGS/msg-1.eml"
check "the default smarthost got jiro's message" grep -q "$M default" "$S_MSGS/msg-1.eml"
check "... and only it" test ! -f "$S_MSGS/msg-2.eml" -a ! -f "$D_MSGS/msg-2.eml" -a ! -f "$G_MSGS/msg-2.eml"
check_no_secret "the log holds no account password" taro "$PW_DOCOMO" "$SRV_DIR/log"
check_no_secret "... nor the other" hanako "$PW_GMAIL" "$SRV_DIR/log"

# ---- a refusal of a rewritten route goes back to the original sender ------------
# taro's From: on a second account whose provider refuses it: the notice
# goes to taro@example.org (a local mailbox), not to taro@docomo.example.
srv_stop
printf 'From: taro@example.org\nTo: someone@example.net\nSubject: %s refused\n\nx\n' "$M" >"$T_DIR/refused.eml"
srv_config "sender_relay taro@example.org 127.0.0.1:$G_PORT tls=starttls user=hanako@gmail.example password_file=$SRV_DIR/gmail.secret ca=$FIXTURE_CA rewrite=taro@docomo.example
mailbox taro@example.org $SRV_DIR/mail/taro
smarthost 127.0.0.1:$S_PORT
smarthost_tls none"
srv_start || { not_ok "clsmtpd restarts"; done_testing; }
srv_submit --from taro@example.org --to someone@example.net --message "$T_DIR/refused.eml" >/dev/null
if srv_mail_wait taro "$M refused" 15; then
	ok "the provider's refusal comes back to taro@example.org"
	check_grep "... a delivery status notification" "Content-Type: multipart/report" "$SRV_MAILFILE"
	check_grep "... quoting the provider's 553" "553 5.7.1" "$SRV_MAILFILE"
else
	not_ok "the provider's refusal comes back to taro@example.org"
	diag_file "$SRV_DIR/log"
fi
srv_stop
stop_scripted
done_testing
