#!/usr/bin/env bash
# test_sendmail.sh - clsmtpc as /usr/sbin/sendmail, driven by the real
# programs that call sendmail (cron's command line, s-nail, git send-email,
# PHP's mail()) and by hand, delivering through the test Postfix (submission
# port, STARTTLS, AUTH PLAIN) and read back from its Maildir: recipients as
# given or taken from the header (-t), Bcc gone from every delivered copy,
# Date/Message-ID added, sendmail's options and exit codes.
# shellcheck disable=SC2016
. "$(dirname "$0")/lib.sh"
require_client

# ---- the world: a configuration with one default account, a symlink -----
BIN=$T_DIR/bin
SM=$BIN/sendmail
CFGDIR=$T_DIR/xdg/clsmtpc
mkdir -p "$BIN" "$CFGDIR" "$T_DIR/home"
ln -s "$CLSMTPC" "$SM"
ENVELOPE=envelope-$(unique_mark)@example.test
cat >"$CFGDIR/config" <<EOF
# test configuration (test_sendmail.sh)
defaults
tls_trust_file $FIXTURE_CA
timeout 20

account fixture
host localhost
port $POSTFIX_SUBMISSION_PORT
tls on
auth plain
user $SASL_USER
password_env CLSMTPC_TEST_PW
from $ENVELOPE
aliases $T_DIR/aliases

account down : fixture
port $(free_port)
queue on-tempfail

account default : fixture
EOF
chmod 600 "$CFGDIR/config"
ADMIN=admin-$(unique_mark)@example.test
printf '# aliases for unqualified names\nroot: %s\ndefault: nobody-else@example.test\n' \
	"$ADMIN" >"$T_DIR/aliases"
# Every program below finds the configuration through the environment, as
# it would find ~/.config/clsmtpc/config.
export XDG_CONFIG_HOME=$T_DIR/xdg HOME=$T_DIR/home CLSMTPC_TEST_PW=$SASL_PASSWORD

# run_sm INPUT-FILE ARGS...: the symlink, like any program would run it.
run_sm() {
	local in=$1
	shift
	T_SEQ=$((T_SEQ + 1))
	OUT=$T_DIR/sm$T_SEQ.out
	ERR=$T_DIR/sm$T_SEQ.err
	printf '%q ' "$SM" "$@" >"$T_DIR/client$T_SEQ.cmd"
	timeout -k 2 30 "$SM" "$@" <"$in" >"$OUT" 2>"$ERR"
	RC=$?
}

# no_bcc_anywhere NAME MARK: no delivered copy with MARK has a Bcc field.
no_bcc_anywhere() {
	local f bad=
	while IFS= read -r f; do
		if header Bcc "$f" >/dev/null || header Resent-Bcc "$f" >/dev/null; then
			bad=$f
		fi
	done < <(grep -lF -- "$2" "$POSTFIX_MAILDIR"/new/* 2>/dev/null)
	if [ -z "$bad" ]; then ok "$1"; else not_ok "$1" "Bcc in $bad"; diag_file "$bad" 30; fi
}

# delivered_to MARK: the Delivered-To of every copy with MARK, sorted.
delivered_to() {
	local f
	while IFS= read -r f; do
		header Delivered-To "$f"
	done < <(grep -lF -- "$1" "$POSTFIX_MAILDIR"/new/* 2>/dev/null) | sort | tr '\n' ' '
}

# wait_copies MARK N: wait for N delivered copies; MAILFILE is one of them.
wait_copies() {
	mail_wait_count "$1" "$2" || return 1
	MAILFILE=$(head -n1 <<<"$MAILFILES")
}

check_eq() { # NAME GOT WANT
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "got:  '$2'" "want: '$3'"; fi
}

# ---- cron, as a script run by cron would have its output mailed ----------
# Vixie cron (Debian): sendmail -FCronDaemon -i -B8BITMIME -oem USER, with
# a message it writes itself. Here the cron user is "root": an unqualified
# name that the account's aliases file maps.
M=$(unique_mark)
cat >"$T_DIR/cron.txt" <<EOF
Subject: Cron <root@backup> /usr/local/bin/nightly-backup $M
MIME-Version: 1.0
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: 8bit
X-Cron-Env: <SHELL=/bin/sh>
X-Cron-Env: <HOME=/root>

backup finished: 42 files
.
a line with only a dot above: -i keeps it
EOF
run_sm "$T_DIR/cron.txt" -FCronDaemon -i -B8BITMIME -oem root
check_rc "cron's command line (-FCronDaemon -i -B8BITMIME -oem root) exits 0" 0
if mail_wait "$M"; then
	ok "cron mail delivered"
	check_eq "cron mail went to root's alias" "$(header Delivered-To)" "$ADMIN"
	check_eq "missing From: written from -F and the envelope sender" \
		"$(header From)" "CronDaemon <$ENVELOPE>"
	check_grep "Date: added" '^Date: [A-Z][a-z]{2}, [0-9]+ [A-Z][a-z]{2} [0-9]{4} ' "$MAILFILE"
	check_grep "Message-ID: added" '^Message-ID: <[^@>]+@example\.test>' "$MAILFILE"
	check_grep "-i: a line holding only '.' does not end the message" \
		'^a line with only a dot above' "$MAILFILE"
	check_grep "envelope sender is the account's from" "^Return-Path: <$ENVELOPE>" "$MAILFILE"
else
	not_ok "cron mail delivered"
	diag_file "$ERR"
fi

# Cron-style "sendmail -t": recipients from the message (cronie, anacron
# and most scripts write their own To:), Bcc dropped.
M=$(unique_mark)
printf 'From: root (Cron Daemon)\nTo: ops-%s@example.test\nCc: Team <team-%s@example.test>\nBcc: audit-%s@example.test\nSubject: Cron <root@web1> logrotate %s\n\nerror: rotated 3 logs\n' \
	"$M" "$M" "$M" "$M" >"$T_DIR/cront.txt"
run_sm "$T_DIR/cront.txt" -t
check_rc "cron-style sendmail -t exits 0" 0
if wait_copies "$M" 3; then
	check_eq "-t: To, Cc and Bcc recipients, each once" "$(delivered_to "$M")" \
		"audit-$M@example.test ops-$M@example.test team-$M@example.test "
	no_bcc_anywhere "-t: Bcc is in no delivered copy" "$M"
	# Postfix qualifies the bare "root" with its own domain; the rest is ours.
	check_grep "-t: the message's own From: is kept" '^From: root(@[a-z.]+)? \(Cron Daemon\)$' \
		"$MAILFILE"
else
	not_ok "-t: three copies delivered" "$(delivered_to "$M")"
	diag_file "$ERR"
fi

# --sendmail as the first argument, -f, recipients as arguments (a list),
# and a lone "." ending the message without -i.
M=$(unique_mark)
SENDER=bounce-$M@example.test
printf 'Subject: flag %s\n\nfirst\n.\nnever sent %s-tail\n' "$M" "$M" >"$T_DIR/flag.txt"
T_SEQ=$((T_SEQ + 1))
timeout -k 2 30 "$CLSMTPC" --sendmail -f "<$SENDER>" -oi -odi "a-$M@example.test, B <b-$M@example.test>" \
	<"$T_DIR/flag.txt" >"$T_DIR/f.out" 2>"$T_DIR/f.err"
RC=$?
ERR=$T_DIR/f.err
check_rc "--sendmail -f ... -oi -odi RCPTS exits 0" 0
if wait_copies "$M" 2; then
	check_eq "recipients from the arguments (list with a display name)" \
		"$(delivered_to "$M")" "a-$M@example.test b-$M@example.test "
	check_grep "-f sets the envelope sender" "^Return-Path: <$SENDER>" "$MAILFILE"
	check_grep "-oi keeps the lone dot line" "never sent $M-tail" "$MAILFILE"
else
	not_ok "--sendmail delivered twice" "$(delivered_to "$M")"
	diag_file "$T_DIR/f.err"
fi

M=$(unique_mark)
printf 'Subject: dot %s\n\nkept\n.\nnot-sent-%s\n' "$M" "$M" >"$T_DIR/dot.txt"
run_sm "$T_DIR/dot.txt" "dot-$M@example.test"
check_rc "without -i, exit 0" 0
if mail_wait "$M"; then
	check_no_grep "without -i, a lone '.' line ends the message" "not-sent-$M" "$MAILFILE"
else
	not_ok "without -i: delivered"
fi

# -v: the session on stderr, the password in no form.
M=$(unique_mark)
printf 'To: v-%s@example.test\nSubject: v\n\nx\n' "$M" >"$T_DIR/v.txt"
run_sm "$T_DIR/v.txt" -t -v
check_rc "-v -t exits 0" 0
check_grep "-v prints the transcript" "${V_PREFIX}tls>: AUTH PLAIN \*+" "$ERR"
check_no_secret "the password appears in no form in the -v output" "$SASL_USER" \
	"$SASL_PASSWORD" "$ERR" "$OUT"

# ---- exit codes as sendmail's (sysexits) ---------------------------------
printf 'Subject: none\n\nx\n' >"$T_DIR/none.txt"
run_sm "$T_DIR/none.txt" -t
check_rc "-t with no recipient in the message: 64 (EX_USAGE)" 64
run_sm "$T_DIR/none.txt" -bs
check_rc "-bs (SMTP on stdin) is refused: 64" 64
run_sm "$T_DIR/none.txt" -Y x@example.test
check_rc "an unknown option: 64" 64
run_sm "$T_DIR/none.txt" "$POSTFIX_REJECT_RCPT"
check_rc "a recipient refused with 550: 69 (EX_UNAVAILABLE)" 69
check_grep "the refused recipient is named" "nosuchuser@example.test" "$ERR"
run_sm "$T_DIR/none.txt" "$POSTFIX_TEMPFAIL_RCPT"
check_rc "a recipient refused with 450: 75 (EX_TEMPFAIL)" 75
run_sm "$T_DIR/none.txt" nosuchlocalname
check_rc "an unqualified name with no alias: aliases' default is used: 0" 0
CLSMTPC_TEST_PW='' run_sm "$T_DIR/none.txt" x@example.test
check_rc "the password variable empty: 78 (EX_CONFIG)" 78
XDG_CONFIG_HOME=$T_DIR/nowhere run_sm "$T_DIR/none.txt" x@example.test
check_rc "no configuration: 78 (EX_CONFIG)" 78
check_grep "and it says what to write" "needs an account" "$ERR"

# ---- s-nail (mail -s) with our sendmail as its MTA -----------------------
# A wrapper records the command line s-nail uses, then execs the symlink.
cat >"$BIN/sendmail-logged" <<EOF
#!/bin/sh
printf '%s\n' "\$*" >>"$T_DIR/argv.log"
exec "$SM" "\$@"
EOF
chmod +x "$BIN/sendmail-logged"
M=$(unique_mark)
: >"$T_DIR/argv.log"
printf 'Hello from s-nail %s\n' "$M" >"$T_DIR/snail-body.txt"
T_SEQ=$((T_SEQ + 1))
timeout -k 2 30 s-nail -:/ -Sv15-compat -Smta="$BIN/sendmail-logged" -Ssendwait \
	-Sfrom="Mail User <mailuser@example.test>" -s "s-nail $M" \
	-c "cc-$M@example.test" -b "bcc-$M@example.test" "to-$M@example.test" \
	<"$T_DIR/snail-body.txt" >"$T_DIR/snail.out" 2>"$T_DIR/snail.err"
RC=$?
ERR=$T_DIR/snail.err
check_rc "s-nail -s ... (mta = our sendmail) exits 0" 0
diag "s-nail ran: sendmail $(head -n1 "$T_DIR/argv.log")"
if wait_copies "$M" 3; then
	check_eq "s-nail: To, Cc and Bcc recipients" "$(delivered_to "$M")" \
		"bcc-$M@example.test cc-$M@example.test to-$M@example.test "
	no_bcc_anywhere "s-nail: Bcc is in no delivered copy" "$M"
	check_eq "s-nail: its From: is kept" "$(header From)" "Mail User <mailuser@example.test>"
	check_grep "s-nail: the body arrives" "Hello from s-nail $M" "$MAILFILE"
else
	not_ok "s-nail: three copies delivered" "$(delivered_to "$M")"
	diag_file "$T_DIR/snail.err"
fi

# ---- git send-email --smtp-server=our sendmail ---------------------------
M=$(unique_mark)
REPO=$T_DIR/repo
mkdir -p "$REPO"
(
	cd "$REPO" && git init -q && git config user.email dev@example.test &&
		git config user.name "Dev Eloper" && printf 'v1 %s\n' "$M" >file.txt &&
		git add file.txt && git commit -qm "file: first version ($M)" &&
		git format-patch -q -1 -o "$T_DIR/patches"
) >"$T_DIR/git.log" 2>&1
T_SEQ=$((T_SEQ + 1))
(cd "$REPO" && timeout -k 2 60 git send-email --smtp-server="$SM" --confirm=never --quiet \
	--suppress-cc=all --from="Dev Eloper <dev@example.test>" --to="maint-$M@example.test" \
	--cc="list-$M@example.test" --bcc="archive-$M@example.test" "$T_DIR"/patches/*.patch) \
	>"$T_DIR/gse.out" 2>"$T_DIR/gse.err"
RC=$?
ERR=$T_DIR/gse.err
check_rc "git send-email --smtp-server=sendmail exits 0" 0
if wait_copies "$M" 3; then
	check_eq "git send-email: To, Cc and Bcc recipients" "$(delivered_to "$M")" \
		"archive-$M@example.test list-$M@example.test maint-$M@example.test "
	no_bcc_anywhere "git send-email: Bcc is in no delivered copy" "$M"
	check_grep "git send-email: the patch subject" "^Subject: \[PATCH\] file: first version \($M\)" \
		"$MAILFILE"
	check_grep "git send-email: its Message-ID is kept" '^Message-I[Dd]: <[^>]+>' "$MAILFILE"
else
	not_ok "git send-email: three copies delivered" "$(delivered_to "$M")"
	diag_file "$T_DIR/gse.err"
	diag_file "$T_DIR/git.log"
fi

# ---- PHP's mail() with sendmail_path = our sendmail -t -i ------------------
M=$(unique_mark)
T_SEQ=$((T_SEQ + 1))
timeout -k 2 30 php -n -d "sendmail_path=$SM -t -i" -r '
	$m = $argv[1];
	$ok = mail("to-$m@example.test", "PHP mail() $m", "Hello from PHP\n.\nline after a lone dot\n",
		["From" => "Web App <web@example.test>", "Cc" => "cc-$m@example.test",
		 "Bcc" => "bcc-$m@example.test"]);
	exit($ok ? 0 : 1);' "$M" >"$T_DIR/php.out" 2>"$T_DIR/php.err"
RC=$?
ERR=$T_DIR/php.err
check_rc "PHP mail() returns true" 0
if wait_copies "$M" 3; then
	check_eq "PHP: To, Cc and Bcc recipients" "$(delivered_to "$M")" \
		"bcc-$M@example.test cc-$M@example.test to-$M@example.test "
	no_bcc_anywhere "PHP: Bcc is in no delivered copy" "$M"
	check_eq "PHP: its From: is kept" "$(header From)" "Web App <web@example.test>"
	check_grep "PHP: -i keeps the line after the lone dot" "line after a lone dot" "$MAILFILE"
else
	not_ok "PHP: three copies delivered" "$(delivered_to "$M")"
	diag_file "$T_DIR/php.err"
fi

# ---- "queue on-tempfail" in the account: sendmail succeeds, mail kept ---------
M=$(unique_mark)
printf 'To: later-%s@example.test\nSubject: offline %s\n\nkept for later\n' "$M" "$M" >"$T_DIR/q.txt"
XDG_STATE_HOME=$T_DIR/state run_sm "$T_DIR/q.txt" -a down -t
check_rc "server down, account with queue on-tempfail: sendmail exits 0" 0
check_grep "and says the mail was queued" "queued as [0-9a-f]{16}" "$ERR"
XDG_STATE_HOME=$T_DIR/state run_client --list-queue
check_grep "the queued mail names its account and recipient" \
	"<$ENVELOPE> -> <later-$M@example.test> via localhost:[0-9]+ account down" "$OUT"

done_testing
