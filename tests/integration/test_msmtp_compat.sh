#!/usr/bin/env bash
# test_msmtp_compat.sh - clsmtpc as a drop-in for msmtp, side by side with
# Debian's msmtp against the same test Postfix: one msmtprc, read by msmtp
# and turned into a clsmtpc configuration by --import-msmtprc; the same
# sendmail command lines; then the two log files, --pretend outputs,
# envelopes (%U@%H), DSN parameters and header keys are compared. Also:
# msmtp options clsmtpc refuses say what to use, --dump-mail sends nothing,
# syslog gets the same line as the log file.
# shellcheck disable=SC2016
. "$(dirname "$0")/lib.sh"
require_client
command -v msmtp >/dev/null || { echo "Bail out! msmtp is not installed"; exit 1; }

BIN=$T_DIR/bin
mkdir -p "$BIN" "$T_DIR/home"
ln -s "$CLSMTPC" "$BIN/sendmail"
export HOME=$T_DIR/home USER=tester LOGNAME=tester HOSTNAME=box.example.test
PWFILE=$T_DIR/pw
printf '%s\n' "$SASL_PASSWORD" >"$PWFILE"
chmod 600 "$PWFILE"
MLOG=$T_DIR/msmtp.log
CLOG=$T_DIR/clsmtpc.log
cat >"$T_DIR/msmtprc" <<EOF
defaults
tls on
tls_trust_file $FIXTURE_CA
timeout 20

account fixture
host localhost
port $POSTFIX_SUBMISSION_PORT
auth plain
user $SASL_USER
passwordeval cat $PWFILE
from %U@%H
domain %H
logfile LOGFILE
dsn_notify failure,delay
dsn_return headers

account default : fixture
EOF
chmod 600 "$T_DIR/msmtprc"
cp "$T_DIR/msmtprc" "$T_DIR/rc.src"
sed "s|LOGFILE|$MLOG|" "$T_DIR/rc.src" >"$T_DIR/msmtprc"

# ---- the import: every key a working line --------------------------------
sed "s|LOGFILE|$CLOG|" "$T_DIR/rc.src" >"$T_DIR/rc.forimport"
T_SEQ=$((T_SEQ + 1))
"$CLSMTPC" --import-msmtprc "$T_DIR/rc.forimport" >"$T_DIR/config" 2>"$T_DIR/import.err"
RC=$?
chmod 600 "$T_DIR/config"
check_rc "--import-msmtprc of an msmtprc with from %U@%H, domain %H, logfile, dsn_*" 0
check_no_grep "no key of it became a comment" '^# not supported' "$T_DIR/config"
check_grep "from %U@%H passes through" '^from %U@%H$' "$T_DIR/config"

# run_both NAME INPUT ARGS...: msmtp -C msmtprc ARGS and clsmtpc
# --sendmail -C config ARGS, each with INPUT on stdin; sets MRC, CRC.
run_both() {
	local in=$1
	shift
	timeout -k 2 30 msmtp -C "$T_DIR/msmtprc" "$@" <"$in" >"$T_DIR/m.out" 2>"$T_DIR/m.err"
	MRC=$?
	timeout -k 2 30 "$CLSMTPC" --sendmail -C "$T_DIR/config" "$@" <"$in" >"$T_DIR/c.out" \
		2>"$T_DIR/c.err"
	CRC=$?
}

check_eq() { # NAME GOT WANT
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "got:  '$2'" "want: '$3'"; fi
}

# A log line without what differs by nature: the time, the queue id, the
# size (msmtp counts LF lines, we count the CRLF message we send).
norm_log() {
	sed -E 's/^[A-Z][a-z]{2} [0-9]{2} [0-9:]{8} //; s/queued as [0-9A-F]+/queued as ID/;
		s/ mailsize=[0-9]+//; s/Ok: [0-9]+ bytes queued/Ok: queued/' "$1"
}

# ---- one mail each: envelope %U@%H, the log lines -------------------------
M=$(unique_mark)
printf 'Subject: compat %s\n\nhello\n' "$M" >"$T_DIR/m1.txt"
run_both "$T_DIR/m1.txt" "a-$M@example.test" "b-$M@example.test"
check_eq "both exit 0 for the same mail" "$MRC $CRC" "0 0"
if mail_wait_count "$M" 4; then
	rps=$(for f in $MAILFILES; do header Return-Path "$f"; done | sort -u | tr '\n' ' ')
	check_eq "envelope sender from %U@%H is the same for both" "$rps" "<tester@box.example.test> "
else
	not_ok "four copies delivered (two per program)" "$(mail_count "$M") found"
	diag_file "$T_DIR/c.err"
fi
check_eq "the log lines of a sent mail are msmtp's, field for field" \
	"$(norm_log "$CLOG" | tail -n1)" "$(norm_log "$MLOG" | tail -n1)"
check_grep "the log line has the size sent" ' mailsize=[0-9]+ smtpstatus=250 ' "$CLOG"

# ---- DSN: the same parameters on the wire (from the config, then -N/-R) ---
M=$(unique_mark)
printf 'Subject: dsn %s\n\nhello\n' "$M" >"$T_DIR/m2.txt"
# msmtp -d prints AUTH PLAIN decodably: keep only the envelope lines.
timeout -k 2 30 msmtp -C "$T_DIR/msmtprc" -d -N success -R full "c-$M@example.test" \
	<"$T_DIR/m2.txt" 2>&1 | grep -E 'MAIL FROM:|RCPT TO:' >"$T_DIR/m2.m"
timeout -k 2 30 "$CLSMTPC" --sendmail -C "$T_DIR/config" -v -N success -R full \
	"c-$M@example.test" <"$T_DIR/m2.txt" >"$T_DIR/m2.c" 2>&1
m_rcpt=$(grep -oE 'RCPT TO:<[^>]+>.*' "$T_DIR/m2.m" | head -n1 | tr -d '\r')
c_rcpt=$(grep -oE 'RCPT TO:<[^>]+>.*' "$T_DIR/m2.c" | head -n1 | tr -d '\r')
check_eq "-N success: RCPT carries msmtp's NOTIFY=" "$c_rcpt" "$m_rcpt"
check_grep "-R full: MAIL FROM carries RET=FULL" 'MAIL FROM:<[^>]+>.* RET=FULL' "$T_DIR/m2.c"
grep -E 'MAIL FROM:' "$T_DIR/m2.m" | grep -q 'RET=FULL' &&
	ok "(msmtp sends RET=FULL too)" || not_ok "(msmtp sends RET=FULL too)"
check_grep "the account's dsn_notify when no -N" 'NOTIFY=FAILURE,DELAY' \
	<(timeout -k 2 30 "$CLSMTPC" --sendmail -C "$T_DIR/config" -v "d-$M@example.test" \
		<"$T_DIR/m2.txt" 2>&1)

# ---- a refused recipient: the failure lines compared ----------------------
printf 'Subject: fail\n\nx\n' >"$T_DIR/m3.txt"
run_both "$T_DIR/m3.txt" "$POSTFIX_REJECT_RCPT"
check_eq "a refused recipient fails in both" "$([ "$MRC" -ne 0 ] && [ "$CRC" -ne 0 ] && echo yes)" yes
c_line=$(norm_log "$CLOG" | tail -n1)
m_line=$(norm_log "$MLOG" | tail -n1)
check_eq "failure log: same host, tls, auth, user, from, recipients, smtpstatus, smtpmsg" \
	"${c_line%% errormsg=*}" "${m_line%% errormsg=*}"
check_grep "failure log: errormsg and exitcode" "errormsg='.*User unknown' exitcode=EX_" "$CLOG"

# ---- -X FILE in sendmail mode writes the log ------------------------------
M=$(unique_mark)
printf 'Subject: x %s\n\nx\n' "$M" >"$T_DIR/m4.txt"
timeout -k 2 30 "$CLSMTPC" --sendmail -C "$T_DIR/config" -X "$T_DIR/x.log" \
	"e-$M@example.test" <"$T_DIR/m4.txt" >/dev/null 2>"$T_DIR/x.err"
check_grep "-X FILE: the log line goes there" "recipients=e-$M@example.test .*exitcode=EX_OK" \
	"$T_DIR/x.log"
check_no_fixed "no secret in any log" "$SASL_PASSWORD" "$CLOG" "$T_DIR/x.log"

# ---- --pretend: the same values for the keys both have --------------------
timeout 10 msmtp -C "$T_DIR/msmtprc" --pretend >"$T_DIR/p.m" 2>/dev/null </dev/null
timeout 10 "$CLSMTPC" --sendmail -C "$T_DIR/config" --pretend >"$T_DIR/p.c" 2>"$T_DIR/p.err" \
	</dev/null
pick() { grep -E '^(host|port|domain|user|from|tls|tls_starttls|tls_trust_file|tls_certcheck|dsn_notify|dsn_return|logfile|set_from_header|set_date_header|remove_bcc_headers|undisclosed_recipients) = ' "$1"; }
check_eq "--pretend prints msmtp's values for the keys both programs have" \
	"$(pick "$T_DIR/p.c")" "$(pick "$T_DIR/p.m" | sed "s|$MLOG|$CLOG|")"
check_no_fixed "--pretend prints no password" "$SASL_PASSWORD" "$T_DIR/p.c"
fd() { grep -E '^(from|domain) = ' "$1"; }
timeout 10 msmtp --host=x --from=%U@%H --domain=%H --pretend >"$T_DIR/p2.m" 2>/dev/null </dev/null
timeout 10 "$CLSMTPC" --sendmail --host=x --from=%U@%H --domain=%H --pretend >"$T_DIR/p2.c" \
	2>/dev/null </dev/null
check_eq "%U@%H and %H on the command line: expanded as msmtp does" "$(fd "$T_DIR/p2.c")" \
	"$(fd "$T_DIR/p2.m")"

# ---- header keys: the delivered headers compared --------------------------
M=$(unique_mark)
printf 'From: Somebody <somebody@example.test>\nTo: t-%s@example.test\nBcc: k-%s@example.test\nSubject: hk %s\n\nx\n' \
	"$M" "$M" "$M" >"$T_DIR/m5.txt"
hk=(--undisclosed-recipients=on --set-from-header=on -t)
run_both "$T_DIR/m5.txt" "${hk[@]}"
check_eq "undisclosed_recipients + set_from_header on: both exit 0" "$MRC $CRC" "0 0"
if mail_wait_count "$M" 4; then
	tos=$(for f in $MAILFILES; do header To "$f"; done | sort -u | tr '\n' ' ')
	froms=$(for f in $MAILFILES; do header From "$f"; done | sort -u | tr '\n' ' ')
	check_eq "To: undisclosed-recipients:; in every copy of both" "$tos" "undisclosed-recipients:; "
	check_eq "set_from_header on: From is the envelope sender in every copy" "$froms" \
		"tester@box.example.test "
else
	not_ok "header keys: four copies" "$(mail_count "$M") found"
	diag_file "$T_DIR/c.err"
fi
# Postfix's cleanup drops Bcc whatever the client sends: the scripted
# server shows what each program sent.
printf 'To: t@example.test\nBcc: k@example.test\nSubject: bcc\n\nx\n' >"$T_DIR/m6.txt"
if start_scripted '{"capabilities": ["PIPELINING"]}' --connections 2; then
	sp=(--host=127.0.0.1 --port="$SCRIPTED_PORT" --tls=off --auth=off -f s@example.test)
	timeout 30 msmtp "${sp[@]}" --remove-bcc-headers=off -t <"$T_DIR/m6.txt" >/dev/null 2>&1
	timeout 30 "$CLSMTPC" --sendmail "${sp[@]}" --remove-bcc-headers=off -t <"$T_DIR/m6.txt" \
		>/dev/null 2>"$T_DIR/bcc.err"
	stop_scripted
	check_grep "remove_bcc_headers off: msmtp sends Bcc" '^Bcc: k@example.test' \
		"$SCRIPTED_MSGS/msg-1.eml"
	check_grep "remove_bcc_headers off: clsmtpc sends Bcc too" '^Bcc: k@example.test' \
		"$SCRIPTED_MSGS/msg-2.eml"
else
	not_ok "scripted server for the Bcc case"
fi

# ---- more of msmtp's header and sender keys, compared on the wire ----------
printf 'To: t@example.test\nSubject: nodate\n\nx\n' >"$T_DIR/m9.txt"
if start_scripted '{"capabilities": ["PIPELINING"]}' --connections 2; then
	sp=(--host=127.0.0.1 --port="$SCRIPTED_PORT" --tls=off --auth=off)
	hd=(--set-date-header=off --set-msgid-header=off --auto-from=on --maildomain=auto.example.test -t)
	timeout 30 msmtp "${sp[@]}" "${hd[@]}" <"$T_DIR/m9.txt" >/dev/null 2>&1
	timeout 30 "$CLSMTPC" --sendmail "${sp[@]}" "${hd[@]}" <"$T_DIR/m9.txt" >/dev/null \
		2>"$T_DIR/m9.err"
	stop_scripted
	fields() { grep -cE '^(Date|Message-ID):' "$1"; }
	check_eq "set_date_header off, set_msgid_header off: neither program adds them" \
		"$(fields "$SCRIPTED_MSGS/msg-1.eml") $(fields "$SCRIPTED_MSGS/msg-2.eml")" "0 0"
	check_eq "auto_from + maildomain: the same envelope sender as msmtp" \
		"$(grep -c "MAIL FROM:<tester@auto.example.test>" "$SCRIPTED_TRANSCRIPT")" 2
else
	not_ok "scripted server for the header keys"
fi
# allow_from_override off: the account's from, whatever -f says.
sed 's/^from %U@%H$/from %U@%H\nallow_from_override off/' "$T_DIR/config" >"$T_DIR/config.afo"
chmod 600 "$T_DIR/config.afo"
M=$(unique_mark)
printf 'Subject: afo %s\n\nx\n' "$M" >"$T_DIR/m10.txt"
timeout 30 "$CLSMTPC" --sendmail -C "$T_DIR/config.afo" -f other@example.test "h-$M@example.test" \
	<"$T_DIR/m10.txt" >/dev/null 2>"$T_DIR/afo.err"
if mail_wait "$M"; then
	check_grep "allow_from_override off: -f is overridden by the account's from" \
		'^Return-Path: <tester@box.example.test>' "$MAILFILE"
else
	not_ok "allow_from_override off: mail delivered"
	diag_file "$T_DIR/afo.err"
fi
# logfile_time_format, as strftime.
timeout 30 "$CLSMTPC" --sendmail -C "$T_DIR/config" --logfile="$T_DIR/tf.log" \
	--logfile-time-format='%Y-%m-%dT%H:%M:%S' "i-$M@example.test" <"$T_DIR/m10.txt" >/dev/null 2>&1
check_grep "--logfile-time-format: the line starts with that time" \
	'^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8} host=localhost ' "$T_DIR/tf.log"

# ---- no account at all: SMTPSERVER and EMAIL, as msmtp ---------------------
if start_scripted '{"capabilities": ["PIPELINING"]}' --connections 2; then
	printf 'Subject: env\n\nx\n' >"$T_DIR/m11.txt"
	for prog in msmtp "$CLSMTPC --sendmail"; do
		# shellcheck disable=SC2086
		HOME=$T_DIR/empty XDG_CONFIG_HOME=$T_DIR/empty SMTPSERVER=127.0.0.1 \
			EMAIL=env-sender@example.test timeout 30 $prog --port="$SCRIPTED_PORT" \
			--tls=off --auth=off env-rcpt@example.test <"$T_DIR/m11.txt" >/dev/null 2>&1
	done
	stop_scripted
	check_eq "SMTPSERVER and EMAIL without an account: both programs send the same envelope" \
		"$(grep -c 'MAIL FROM:<env-sender@example.test>' "$SCRIPTED_TRANSCRIPT")" 2
else
	not_ok "scripted server for SMTPSERVER/EMAIL"
fi

# ---- msmtp options clsmtpc refuses name the alternative ------------------
for opt in --tls-priorities=NORMAL --serverinfo --socket=/run/x --protocol=lmtp; do
	timeout 10 "$CLSMTPC" --sendmail -C "$T_DIR/config" "$opt" x@example.test \
		</dev/null >/dev/null 2>"$T_DIR/r.err"
	rc=$?
	if [ "$rc" -eq 64 ] && grep -q 'not supported' "$T_DIR/r.err"; then
		ok "$opt is refused (64) with the alternative"
	else
		not_ok "$opt is refused (64) with the alternative" "exit $rc" "$(cat "$T_DIR/r.err")"
	fi
done

# ---- --dump-mail: the message, and no connection -------------------------
M=$(unique_mark)
printf 'Subject: dump %s\n\nbody\n' "$M" >"$T_DIR/m7.txt"
timeout 10 "$CLSMTPC" --sendmail --host=127.0.0.1 --port="$(free_port)" -f me@example.test \
	--dump-mail "f-$M@example.test" <"$T_DIR/m7.txt" >"$T_DIR/dump.out" 2>"$T_DIR/dump.err"
rc=$?
check_eq "--dump-mail to a port nobody listens on exits 0" "$rc" 0
check_grep "--dump-mail prints the message with the fields added" '^Message-ID: <' "$T_DIR/dump.out"
check_grep "--dump-mail prints the body" '^body' "$T_DIR/dump.out"

# ---- syslog: the same line, through /dev/log ------------------------------
# A private mount namespace puts our own socket at /dev/log.
mkdir -p "$T_DIR/dev"
"$PYTHON" - "$T_DIR/dev/log" "$T_DIR/syslog.out" <<'EOF' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(20)
try:
    data = s.recv(65536)
    open(sys.argv[2], "wb").write(data)
except socket.timeout:
    pass
EOF
slpid=$!
for _ in $(seq 50); do [ -S "$T_DIR/dev/log" ] && break; sleep 0.1; done
M=$(unique_mark)
printf 'Subject: sl %s\n\nx\n' "$M" >"$T_DIR/m8.txt"
unshare -m sh -c 'mount --bind "$1" /dev && shift && exec "$@"' sh "$T_DIR/dev" \
	timeout 30 "$CLSMTPC" --sendmail -C "$T_DIR/config" --syslog=LOG_MAIL "g-$M@example.test" \
	<"$T_DIR/m8.txt" >/dev/null 2>"$T_DIR/sl.err"
wait "$slpid" 2>/dev/null
# <22> is LOG_MAIL (2*8) + LOG_INFO (6).
check_grep "--syslog=LOG_MAIL: one line at mail.info with the log's fields" \
	"^<22>.*clsmtpc\[[0-9]+\]: host=localhost tls=on auth=on user=$SASL_USER .*recipients=g-$M@example.test .*exitcode=EX_OK" \
	"$T_DIR/syslog.out"

# ---- the password from ~/.netrc, then from the terminal --------------------
NH=$T_DIR/nhome
mkdir -p "$NH"
printf 'machine localhost\n  login %s password %s\n' "$SASL_USER" "$SASL_PASSWORD" >"$NH/.netrc"
chmod 600 "$NH/.netrc"
M=$(unique_mark)
sub=(-M localhost -P "$POSTFIX_SUBMISSION_PORT" -Z tls --tls-trust-file "$FIXTURE_CA" -U "$SASL_USER")
HOME=$NH run_client "${sub[@]}" -F a@example.test -T "n-$M@example.test" -s "netrc $M" "x"
check_rc "no password source but ~/.netrc: sent (0)" 0
mail_wait "$M" && ok "the mail authenticated with ~/.netrc arrived" ||
	not_ok "the mail authenticated with ~/.netrc arrived"
HOME=$NH timeout 30 msmtp --host=localhost --port="$POSTFIX_SUBMISSION_PORT" --tls=on \
	--tls-trust-file="$FIXTURE_CA" --auth=on --user="$SASL_USER" -f a@example.test \
	"n2-$M@example.test" <<<"Subject: x" >/dev/null 2>&1
check_eq "(msmtp reads the same ~/.netrc)" "$?" 0
chmod 644 "$NH/.netrc"
HOME=$NH run_client "${sub[@]}" -F a@example.test -T "n3-$M@example.test" "x"
check_rc "a ~/.netrc others can read is refused (78)" 78
check_grep "with the chmod that fixes it" 'chmod 600 .*\.netrc' "$ERR"
rm -f "$NH/.netrc"
# A terminal (a pty) and nothing else: clsmtpc asks, without echo.
M=$(unique_mark)
cat >"$T_DIR/typist.py" <<'EOF'
import os, pty, sys, select, time
pw = sys.argv[1].encode()
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
seen, typed, deadline = b"", False, time.time() + 30
while time.time() < deadline:
    r, _, _ = select.select([fd], [], [], 1)
    if not r:
        continue
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk:
        break
    seen += chunk
    if not typed and b"password for" in seen:
        os.write(fd, pw + b"\n")
        typed = True
_, status = os.waitpid(pid, 0)
sys.stdout.write(seen.decode("utf-8", "replace"))
print("\nEXIT %d" % os.waitstatus_to_exitcode(status))
print("ECHOED" if pw in seen else "NOT-ECHOED")
EOF
HOME=$NH "$PYTHON" "$T_DIR/typist.py" "$SASL_PASSWORD" "$CLSMTPC" "${sub[@]}" -F a@example.test \
	-T "t-$M@example.test" -s "tty $M" x >"$T_DIR/tty.out" 2>&1 </dev/null
check_grep "no source but a terminal: clsmtpc asks for the password" "^password for $SASL_USER at localhost: " "$T_DIR/tty.out"
check_grep "and sends with it (0)" '^EXIT 0$' "$T_DIR/tty.out"
check_grep "the typed password is not echoed" '^NOT-ECHOED$' "$T_DIR/tty.out"
mail_wait "$M" && ok "the mail sent with the typed password arrived" ||
	not_ok "the mail sent with the typed password arrived"

done_testing
