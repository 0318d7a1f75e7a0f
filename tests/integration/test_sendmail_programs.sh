#!/usr/bin/env bash
# test_sendmail_programs.sh - more real programs that call sendmail, with
# clsmtpc as their sendmail, delivering through the test Postfix and read
# back: bsd-mailx (mail -s), mutt (attachment, envelope_from: -f chooses the
# account, as msmtp's manual sets mutt up), and a logwatch/apticron-style
# report piped to "sendmail -oi -t". Each program's own command line is
# recorded by a wrapper and shown. (cron, s-nail, git send-email and PHP's
# mail() are in test_sendmail.sh.)
. "$(dirname "$0")/lib.sh"
require_client
for p in bsd-mailx mutt; do
	command -v "$p" >/dev/null || { echo "Bail out! $p is not installed"; exit 1; }
done

check_eq() { # NAME GOT WANT
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "got:  '$2'" "want: '$3'"; fi
}

BIN=$T_DIR/bin
mkdir -p "$BIN" "$T_DIR/xdg/clsmtpc" "$T_DIR/home"
ln -s "$CLSMTPC" "$BIN/sendmail"
# The wrapper: record argv (one line per call), then run our sendmail.
cat >"$BIN/sendmail-logged" <<EOF
#!/bin/sh
printf '%s\n' "\$*" >>"$T_DIR/argv.log"
exec "$BIN/sendmail" "\$@"
EOF
chmod +x "$BIN/sendmail-logged"
DEFAULT_FROM=default-$(unique_mark)@example.test
WORK_FROM=work-$(unique_mark)@example.test
cat >"$T_DIR/xdg/clsmtpc/config" <<EOF
defaults
host localhost
port $POSTFIX_SUBMISSION_PORT
tls on
tls_trust_file $FIXTURE_CA
auth plain
user $SASL_USER
password_env CLSMTPC_TEST_PW
logfile $T_DIR/sent.log

account home
from $DEFAULT_FROM

account work
from $WORK_FROM

account default : home
EOF
chmod 600 "$T_DIR/xdg/clsmtpc/config"
export XDG_CONFIG_HOME=$T_DIR/xdg HOME=$T_DIR/home CLSMTPC_TEST_PW=$SASL_PASSWORD

# ---- bsd-mailx: mail -s SUBJECT RCPT < body ------------------------------
M=$(unique_mark)
printf 'set sendmail=%s\n' "$BIN/sendmail-logged" >"$T_DIR/mailrc"
: >"$T_DIR/argv.log"
printf 'Disk report %s\n/dev/sda1 91%%\n' "$M" |
	MAILRC=$T_DIR/mailrc timeout -k 2 30 bsd-mailx -s "bsd-mailx $M" "x-$M@example.test" \
		>"$T_DIR/mailx.out" 2>"$T_DIR/mailx.err"
RC=$?
check_eq "bsd-mailx -s ... exits 0" "$RC" 0
diag "bsd-mailx ran: sendmail $(head -n1 "$T_DIR/argv.log")"
if mail_wait "$M"; then
	check_eq "bsd-mailx: Subject as given" "$(header Subject)" "bsd-mailx $M"
	check_grep "bsd-mailx: the envelope sender is the default account's" \
		"^Return-Path: <$DEFAULT_FROM>" "$MAILFILE"
	check_grep "bsd-mailx: From: added from the account" "^From: .*$DEFAULT_FROM" "$MAILFILE"
	check_grep "bsd-mailx: body intact" '^/dev/sda1 91%$' "$MAILFILE"
else
	not_ok "bsd-mailx mail delivered"
	diag_file "$T_DIR/mailx.err"
fi

# ---- mutt: attachment; envelope_from makes mutt pass -f -----------------
M=$(unique_mark)
cat >"$T_DIR/muttrc" <<EOF
set sendmail="$BIN/sendmail-logged"
set use_from=yes
set realname="Work Person"
set from=$WORK_FROM
set use_envelope_from=yes
set charset=utf-8
set send_charset=utf-8
set record=""
set copy=no
EOF
printf 'attached %s\n' "$M" >"$T_DIR/report.txt"
: >"$T_DIR/argv.log"
printf 'Body from mutt %s\n' "$M" |
	timeout -k 2 30 mutt -n -F "$T_DIR/muttrc" -s "mutt $M" -a "$T_DIR/report.txt" -- \
		"y-$M@example.test" >"$T_DIR/mutt.out" 2>"$T_DIR/mutt.err"
RC=$?
check_eq "mutt -s ... -a FILE exits 0" "$RC" 0
diag "mutt ran: sendmail $(head -n1 "$T_DIR/argv.log")"
check_grep "mutt passes -f with the envelope sender" "-f $WORK_FROM" "$T_DIR/argv.log"
if mail_wait "$M"; then
	check_grep "mutt: -f chose the work account (envelope sender)" "^Return-Path: <$WORK_FROM>" \
		"$MAILFILE"
	check_grep "mutt: its own From: kept" "^From: Work Person <$WORK_FROM>" "$MAILFILE"
	check_grep "mutt: the attachment arrived" 'filename="?report\.txt"?' "$MAILFILE"
else
	not_ok "mutt mail delivered"
	diag_file "$T_DIR/mutt.err"
fi

# ---- a logwatch/apticron-style report: sendmail -oi -t -------------------
# logwatch's mailer is "sendmail -t"; apticron and most report scripts add
# -oi. The report has its own To, From and a line holding only ".".
M=$(unique_mark)
cat >"$T_DIR/report.sh" <<EOF
#!/bin/sh
# like logwatch --output mail: the whole message on standard input
{
	printf 'To: admin-%s@example.test\n' "$M"
	printf 'From: logwatch@%s\n' "\$(hostname)"
	printf 'Subject: Logwatch for host (Linux) %s\n' "$M"
	printf 'Content-Type: text/plain; charset="iso-8859-1"\n\n'
	printf ' ################### Logwatch 7.8 ####################\n'
	printf ' --------------------- pam_unix Begin ------------------------\n'
	printf '.\n'
	printf ' sshd: Authentication Failures: root (203.0.113.7): 3 Time(s)\n'
} | "$BIN/sendmail-logged" -oi -t
EOF
chmod +x "$T_DIR/report.sh"
: >"$T_DIR/argv.log"
timeout -k 2 30 "$T_DIR/report.sh" >"$T_DIR/report.out" 2>"$T_DIR/report.err"
check_eq "a logwatch-style report through sendmail -oi -t exits 0" "$?" 0
if mail_wait "$M"; then
	check_eq "-t: the report went to its To:" "$(header Delivered-To)" "admin-$M@example.test"
	check_grep "-oi: the line holding only '.' did not end the report" 'Authentication Failures' \
		"$MAILFILE"
	check_grep "the report's own From: is kept" '^From: logwatch@' "$MAILFILE"
else
	not_ok "logwatch-style report delivered"
	diag_file "$T_DIR/report.err"
fi
check_eq "one log line per mail, all EX_OK" "$(grep -c 'exitcode=EX_OK$' "$T_DIR/sent.log")" 3

done_testing
