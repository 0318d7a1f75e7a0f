#!/usr/bin/env bash
# inside.sh PKGDIR UPGRADEDIR - the package test's part that runs as root in
# a throwaway copy of the machine (an overlay, see run.sh): install the
# three packages with dpkg -i, check what they made, run clsmtpd as its
# unit would (sandbox.sh), send a mail through /usr/sbin/sendmail, scrape
# the metrics, renew the certificate with the certbot hook, feed a real
# log to fail2ban-regex, upgrade with a message in the queue, purge. Prints
# "ok - NAME" / "not ok - NAME" lines; run.sh numbers and counts them.
set -u
PKG=$1
UPG=$2
HERE=$(cd "$(dirname "$0")" && pwd)
W=/tmp/pkgtest
mkdir -p "$W"
UNIT=/lib/systemd/system/clsmtpd.service
DPID=
SPID=

ok() { echo "ok - $1"; }
not_ok() {
	echo "not ok - $1"
	shift
	local l
	for l in "$@"; do printf '%s\n' "$l" | sed 's/^/# /'; done
	return 0
}
check() {
	local name=$1
	shift
	if "$@" >"$W/last.out" 2>&1; then ok "$name"; else not_ok "$name" "failed: $*" "$(tail -n 5 "$W/last.out")"; fi
}
diag_file() { [ -f "$1" ] && tail -n "${2:-15}" "$1" | cut -c1-240 | sed 's/^/#   /'; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# wait_for SECONDS CMD...: poll CMD every 0.1 s, at most SECONDS.
wait_for() {
	local i n=$(($1 * 10))
	shift
	for ((i = 0; i < n; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

cleanup() {
	rm -rf /tmp/pkgtest-artifacts
	cp -a "$W" /tmp/pkgtest-artifacts
	[ -n "$DPID" ] && kill "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	[ -n "$SPID" ] && kill "$SPID" 2>/dev/null && wait "$SPID" 2>/dev/null
	return 0
}
trap cleanup EXIT

start_daemon() {
	"$HERE/sandbox.sh" "$UNIT" /run/pkgtest-log.sock -- /usr/sbin/clsmtpd -F -f /etc/clsmtpd.conf \
		2>>"$W/daemon.err" &
	DPID=$!
	wait_for 10 test -S /run/clsmtpd/ctl && wait_for 5 clsmtpd -stats
}
stop_daemon() {
	kill "$DPID" 2>/dev/null
	wait "$DPID" 2>/dev/null
	DPID=
	# systemd removes the RuntimeDirectory when the service stops.
	rm -rf /run/clsmtpd
}
# The daemon's own pid (setpriv execs it, so it is $DPID's).
daemon_status() { cat "/proc/$DPID/status"; }

# ---- install ---------------------------------------------------------------
if dpkg -i "$PKG"/clsmtpc_*.deb "$PKG"/clsmtpc-mta_*.deb "$PKG"/clsmtpd_*.deb >"$W/dpkg-i.log" 2>&1; then
	ok "dpkg -i installs clsmtpc, clsmtpc-mta and clsmtpd"
else
	not_ok "dpkg -i installs clsmtpc, clsmtpc-mta and clsmtpd" "$(tail -n 10 "$W/dpkg-i.log")"
	apt-get install -f -y -qq >>"$W/dpkg-i.log" 2>&1
fi
for p in clsmtpc clsmtpc-mta clsmtpd; do
	check "$p is installed" sh -c "dpkg-query -W -f='\${Status}' $p | grep -qx 'install ok installed'"
done
check "the clsmtpd system user exists, without a login shell" \
	sh -c 'getent passwd clsmtpd | grep -q ":/var/spool/clsmtpd:/usr/sbin/nologin$"'
check "/var/spool/clsmtpd is clsmtpd's, mode 0700" \
	sh -c '[ "$(stat -c %U:%a /var/spool/clsmtpd)" = clsmtpd:700 ]'
check "/etc/clsmtpd.users is root:clsmtpd 0640" \
	sh -c '[ "$(stat -c %U:%G:%a /etc/clsmtpd.users)" = root:clsmtpd:640 ]'
check "/usr/sbin/sendmail and /usr/lib/sendmail are clsmtpc" \
	sh -c '[ "$(readlink -f /usr/sbin/sendmail)" = /usr/bin/clsmtpc ] && [ "$(readlink -f /usr/lib/sendmail)" = /usr/bin/clsmtpc ]'
check "/etc/clsmtpc.conf is readable by every sender and holds no password" \
	sh -c '[ "$(stat -c %a /etc/clsmtpc.conf)" = 644 ] && ! grep -Eq "^[[:space:]]*(password|passwordeval)" /etc/clsmtpc.conf'
check "the unit is enabled (deb-systemd-helper)" test -L /etc/systemd/system/multi-user.target.wants/clsmtpd.service
check "the metrics timer is installed but not enabled" \
	sh -c 'test -f /lib/systemd/system/clsmtpd-metrics.timer && ! test -e /etc/systemd/system/timers.target.wants/clsmtpd-metrics.timer'

# ---- the shipped configuration ----------------------------------------------
if clsmtpd -t >"$W/t0.out" 2>&1; then
	ok "clsmtpd -t accepts the shipped /etc/clsmtpd.conf (exit 0)"
else
	not_ok "clsmtpd -t accepts the shipped /etc/clsmtpd.conf (exit 0)" "$(cat "$W/t0.out")"
fi
check "the shipped configuration listens on loopback only" \
	sh -c "grep '^listen ' '$W/t0.out' | grep -vqE '^listen (127\\.0\\.0\\.1|\\[::1\\]):' && exit 1; grep -q '^listen ' '$W/t0.out'"
check "the shipped configuration lets only this machine relay" \
	sh -c "[ \"\$(grep '^trusted ' '$W/t0.out')\" = 'trusted 127.0.0.1/32 ::1/128' ]"
check "clsmtpd -t shows the control socket in the runtime directory" grep -qx 'control_socket /run/clsmtpd/ctl' "$W/t0.out"

# ---- the unit ---------------------------------------------------------------
systemd-analyze security --offline=true "$UNIT" >"$W/security.out" 2>&1
score=$(sed -n 's/.*Overall exposure level for clsmtpd.service: \([0-9.]*\).*/\1/p' "$W/security.out")
if [ -n "$score" ] && awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }'; then
	ok "the installed unit's exposure is $score (at most 2.0)"
else
	not_ok "the installed unit's exposure is at most 2.0" "score: '$score'" "$(tail -n 3 "$W/security.out")"
fi
if systemd-analyze verify "$UNIT" /lib/systemd/system/clsmtpd-metrics.service \
	/lib/systemd/system/clsmtpd-metrics.timer >"$W/verify.out" 2>&1 && [ ! -s "$W/verify.out" ]; then
	ok "systemd-analyze verify: the three units are clean"
else
	not_ok "systemd-analyze verify: the three units are clean" "$(head -n 5 "$W/verify.out")"
fi

# The drop-in of man 8 clsmtpd for Maildirs in home directories.
mkdir -p /etc/systemd/system/clsmtpd.service.d
printf '[Service]\nProtectHome=tmpfs\nBindPaths=/home\n' >/etc/systemd/system/clsmtpd.service.d/maildir.conf
if systemd-analyze verify clsmtpd.service >"$W/verify2.out" 2>&1 && [ ! -s "$W/verify2.out" ] &&
	systemd-analyze security --offline=true clsmtpd.service 2>&1 | grep -Eq 'clsmtpd.service: (0|1|2\.0)'; then
	ok "the documented drop-in for Maildirs in /home is valid and keeps the exposure at most 2.0"
else
	not_ok "the documented drop-in for Maildirs in /home is valid and keeps the exposure at most 2.0" "$(head -n 5 "$W/verify2.out")"
fi
rm -rf /etc/systemd/system/clsmtpd.service.d

# ---- configure it as an administrator would ---------------------------------
PORT=$(free_port)
PSUB=$(free_port)
SMART=$(free_port) # nothing listens there: relayed mail is deferred
SECRET="pkgtest-Secret-$$"
install -d -o clsmtpd -g clsmtpd -m 0750 /var/mail/clsmtpd-test /var/mail/clsmtpd-test/taro
install -d -o root -g root -m 0755 /var/mail/clsmtpd-test/locked /var/mail/clsmtpd-test/locked/jiro
install -d -o root -g clsmtpd -m 0750 /etc/clsmtpd
printf '%s\n' "$SECRET" | install -o clsmtpd -g clsmtpd -m 0600 /dev/stdin /etc/clsmtpd/isp.secret
sed -i "s/^listen 127.0.0.1:25 plain$/listen 127.0.0.1:$PORT plain/" /etc/clsmtpd.conf
cat >>/etc/clsmtpd.conf <<CONF
# ---- added by tests/package/inside.sh
hostname mail.home.test
listen 127.0.0.1:$PSUB starttls
tls_cert /etc/clsmtpd/tls/fullchain.pem
tls_key /etc/clsmtpd/tls/privkey.pem
domain home.test
mailbox taro@home.test /var/mail/clsmtpd-test/taro/Maildir
mailbox jiro@home.test /var/mail/clsmtpd-test/locked/jiro/Maildir
smarthost 127.0.0.1:$SMART
smarthost_tls none
smarthost_user pkgtest
smarthost_password_file /etc/clsmtpd/isp.secret
auth_failure_delay 1 1
ban_auth_failures 3
CONF
sed -i "s/^port 25$/port $PORT/" /etc/clsmtpc.conf

# Certificates: two pairs as certbot would leave them in its live/ dir.
for n in a b; do
	mkdir -p "$W/le-$n"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-subj "/CN=mail.home.test" -keyout "$W/le-$n/privkey.pem" -out "$W/le-$n/fullchain.pem" \
		>/dev/null 2>&1
done
fp() { openssl x509 -in "$1" -noout -fingerprint -sha256 | cut -d= -f2; }
FP_A=$(fp "$W/le-a/fullchain.pem")
FP_B=$(fp "$W/le-b/fullchain.pem")
check "the certbot deploy hook installs the first certificate" \
	env RENEWED_LINEAGE="$W/le-a" /usr/libexec/clsmtpd/certbot-deploy-hook
check "the hook leaves the key root:clsmtpd 0640" \
	sh -c '[ "$(stat -c %U:%G:%a /etc/clsmtpd/tls/privkey.pem)" = root:clsmtpd:640 ]'

if clsmtpd -t >"$W/t1.out" 2>&1; then
	ok "clsmtpd -t accepts the configured file"
else
	not_ok "clsmtpd -t accepts the configured file" "$(tail -n 3 "$W/t1.out")"
fi
check "clsmtpd -t hides the smarthost password" sh -c "! grep -qF '$SECRET' '$W/t1.out' && grep -q '^# smarthost password: read (hidden)' '$W/t1.out'"

# ---- run it as the unit does -------------------------------------------------
python3 "$HERE/syslog.py" /run/pkgtest-log.sock "$W/mail.log" &
SPID=$!
wait_for 5 test -S /run/pkgtest-log.sock
if start_daemon; then
	ok "clsmtpd starts under the unit's sandbox and answers on /run/clsmtpd/ctl"
else
	not_ok "clsmtpd starts under the unit's sandbox and answers on /run/clsmtpd/ctl"
	diag_file "$W/daemon.err"
	diag_file "$W/mail.log"
fi
st=$(daemon_status 2>/dev/null)
uid=$(id -u clsmtpd)
check "it runs as clsmtpd" sh -c "printf '%s\n' \"$st\" | grep -Eq '^Uid:[[:space:]]+$uid[[:space:]]+$uid[[:space:]]+$uid'"
check "its bounding set is CAP_NET_BIND_SERVICE alone" sh -c "printf '%s\n' \"$st\" | grep -qx 'CapBnd:[[:space:]]*0000000000000400'"
check "its only capability is CAP_NET_BIND_SERVICE (ambient)" \
	sh -c "printf '%s\n' \"$st\" | grep -qx 'CapEff:[[:space:]]*0000000000000400' && printf '%s\n' \"$st\" | grep -qx 'CapAmb:[[:space:]]*0000000000000400'"
check "no new privileges" sh -c "printf '%s\n' \"$st\" | grep -qx 'NoNewPrivs:[[:space:]]*1'"
check "it sees / read-only and its spool writable" \
	sh -c "awk '\$5 == \"/\" { print \$6 }' /proc/$DPID/mountinfo | grep -q '^ro' && awk '\$5 == \"/var/spool/clsmtpd\" { print \$6 }' /proc/$DPID/mountinfo | grep -q '^rw'"
check "the control socket is the daemon's, mode 0600" \
	sh -c '[ "$(stat -c %F:%U:%a /run/clsmtpd/ctl)" = socket:clsmtpd:600 ]'
check "clsmtpd -ban works through the control socket" clsmtpd -ban 192.0.2.7 60
check "clsmtpd -bans lists that ban" sh -c 'clsmtpd -bans | grep -q "^192.0.2.7/32"'
clsmtpd -unban 192.0.2.7 >/dev/null 2>&1

# ---- a mail through /usr/sbin/sendmail (clsmtpc-mta) -------------------------
MARK="pkgtest-$$-$RANDOM"
msg() { printf 'To: %s\nSubject: %s\n\n%s body\n' "$1" "$MARK" "$MARK"; }
if msg taro@home.test | setpriv --reuid=nobody --regid=nogroup --clear-groups \
	env HOME=/nonexistent /usr/sbin/sendmail -t >"$W/sm.out" 2>&1; then
	ok "a user (nobody) sends through /usr/sbin/sendmail and /etc/clsmtpc.conf"
else
	not_ok "a user (nobody) sends through /usr/sbin/sendmail and /etc/clsmtpc.conf" "$(cat "$W/sm.out")"
fi
if wait_for 10 sh -c "grep -lq '$MARK' /var/mail/clsmtpd-test/taro/Maildir/new/*"; then
	ok "clsmtpd delivered it into the Maildir under /var/mail"
else
	not_ok "clsmtpd delivered it into the Maildir under /var/mail"
	diag_file "$W/mail.log"
fi
msg jiro@home.test | /usr/sbin/sendmail -t >/dev/null 2>&1
msg someone@elsewhere.test | /usr/sbin/sendmail -t >/dev/null 2>&1
check "a mailbox clsmtpd may not write is deferred, not lost" \
	wait_for 10 grep -q 'to=<jiro@home.test>, relay=local, status=deferred' "$W/mail.log"
check "relayed mail is deferred while the smarthost is down" \
	wait_for 10 grep -q 'to=<someone@elsewhere.test>, relay=.*status=deferred' "$W/mail.log"
check "from another address, relaying is refused (no open relay)" \
	sh -c "swaks --silent 1 -li 127.0.0.2 -s 127.0.0.1 -p $PORT -f x@example.net -t victim@example.com 2>&1 | grep -q '554 5.7.1'"

# ---- metrics -----------------------------------------------------------------
if clsmtpd -stats --format=prometheus >"$W/metrics.prom" 2>"$W/metrics.err"; then
	ok "clsmtpd -stats --format=prometheus answers"
else
	not_ok "clsmtpd -stats --format=prometheus answers" "$(cat "$W/metrics.err")"
fi
if promtool check metrics <"$W/metrics.prom" >"$W/promtool.out" 2>&1; then
	ok "promtool check metrics accepts the scrape"
else
	not_ok "promtool check metrics accepts the scrape" "$(head -n 5 "$W/promtool.out")"
fi
mval() { awk -v k="$1" '$1 == k { print $2 }' "$W/metrics.prom"; }
check "the scrape counts the accepted messages (3)" [ "$(mval clsmtpd_messages_accepted_total)" = 3 ]
check "the scrape counts the local delivery" [ "$(mval 'clsmtpd_deliveries_total{class="local",status="sent"}')" = 1 ]
check "the scrape counts the relay deferral" \
	sh -c "[ \"\$(awk '\$1 == \"clsmtpd_deliveries_total{class=\\\"relay\\\",status=\\\"deferred\\\"}\" { print \$2 }' '$W/metrics.prom')\" -ge 1 ]"
check "the scrape counts the refused relay attempt" [ "$(mval 'clsmtpd_messages_refused_total{reason="relay_denied"}')" = 1 ]
check "the scrape shows the queue (2 messages waiting)" [ "$(mval clsmtpd_queue_messages)" = 2 ]
# The metrics unit's own command line, into node_exporter's directory.
mkdir -p /var/lib/prometheus/node-exporter
cmd=$(sed -n 's/^ExecStart=//p' /lib/systemd/system/clsmtpd-metrics.service)
# shellcheck disable=SC2086
if $cmd 2>"$W/timer.err" && promtool check metrics </var/lib/prometheus/node-exporter/clsmtpd.prom >/dev/null 2>&1 &&
	[ "$(stat -c %a /var/lib/prometheus/node-exporter/clsmtpd.prom)" = 644 ] &&
	[ "$(ls /var/lib/prometheus/node-exporter | wc -l)" = 1 ]; then
	ok "clsmtpd-metrics.service writes clsmtpd.prom (0644, atomically, valid)"
else
	not_ok "clsmtpd-metrics.service writes clsmtpd.prom (0644, atomically, valid)" "$(cat "$W/timer.err")"
fi
rm -rf /var/lib/prometheus

# ---- certificates: renewal, a bad pair ----------------------------------------
served() { openssl s_client -connect "127.0.0.1:$PSUB" -starttls smtp </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256 | cut -d= -f2; }
served_is() { [ "$(served)" = "$1" ]; }
check "the first certificate is served" [ "$(served)" = "$FP_A" ]
check "the hook installs a renewed certificate and reloads clsmtpd" \
	env RENEWED_LINEAGE="$W/le-b" /usr/libexec/clsmtpd/certbot-deploy-hook
check "the reload loads the renewed certificate" wait_for 5 grep -q 'reload: certificate /etc/clsmtpd/tls/fullchain.pem loaded' "$W/mail.log"
check "after the reload the renewed certificate is served" served_is "$FP_B"
mkdir -p "$W/le-bad"
cp "$W/le-a/fullchain.pem" "$W/le-bad/fullchain.pem"
cp "$W/le-b/privkey.pem" "$W/le-bad/privkey.pem"
if env RENEWED_LINEAGE="$W/le-bad" /usr/libexec/clsmtpd/certbot-deploy-hook >"$W/hook.out" 2>&1; then
	not_ok "the hook refuses a key that does not match its certificate"
else
	ok "the hook refuses a key that does not match its certificate"
fi
check "... and leaves the installed pair alone" cmp -s "$W/le-b/fullchain.pem" /etc/clsmtpd/tls/fullchain.pem
# A broken certificate that reaches clsmtpd anyway: the old one stays.
echo "not a certificate" >/etc/clsmtpd/tls/fullchain.pem
kill -HUP "$DPID"
check "on a bad certificate clsmtpd logs why and keeps the old one" \
	wait_for 5 grep -q 'reload: keeping the old certificate' "$W/mail.log"
check "the old certificate is still served" served_is "$FP_B"
cp "$W/le-b/fullchain.pem" /etc/clsmtpd/tls/fullchain.pem

# ---- users file, AUTH, fail2ban ------------------------------------------------
printf 'taro-Pw-1\n' | clsmtpd-passwd add taro >/dev/null 2>&1
check "clsmtpd-passwd keeps the users file root:clsmtpd 0640" \
	sh -c '[ "$(stat -c %U:%G:%a /etc/clsmtpd.users)" = root:clsmtpd:640 ]'
kill -HUP "$DPID"
wait_for 5 grep -q 'reload: 1 users' "$W/mail.log"
check "an account added while running authenticates after the reload" \
	swaks --silent 2 -s 127.0.0.1 -p "$PSUB" -tls -a PLAIN -au taro -ap taro-Pw-1 --quit-after AUTH
for i in 1 2 3; do
	swaks --silent 2 -li 127.0.0.2 -s 127.0.0.1 -p "$PSUB" -tls -a PLAIN -au taro -ap "wrong-$i" \
		--quit-after AUTH >/dev/null 2>&1
done
check "three failed AUTH from 127.0.0.2 get it banned" \
	wait_for 5 grep -q 'defence: action=ban client=127.0.0.2 ' "$W/mail.log"
fail2ban-regex --print-all-matched "$W/mail.log" /etc/fail2ban/filter.d/clsmtpd.conf >"$W/f2b.out" 2>&1
want=$(grep -cE 'defence: action=(delay|ban) client=127\.0\.0\.2 ' "$W/mail.log")
got=$(sed -n 's/^Lines: [0-9]* lines, [0-9]* ignored, \([0-9]*\) matched.*/\1/p' "$W/f2b.out")
if [ "$want" -ge 3 ] && [ "$got" = "$want" ] && grep -q '127.0.0.2' "$W/f2b.out"; then
	ok "fail2ban-regex finds the $got failures of 127.0.0.2 in the syslog file"
else
	not_ok "fail2ban-regex finds the failures of 127.0.0.2 in the syslog file" "want $want, got '$got'" "$(tail -n 12 "$W/f2b.out")"
fi

# ---- upgrade with mail in the queue ----------------------------------------------
qid=$(clsmtpd -q 2>/dev/null | awk '/<jiro@home.test>/ { print prev } { prev = $1 }')
stop_daemon
if dpkg -i "$UPG"/clsmtpc_*.deb "$UPG"/clsmtpc-mta_*.deb "$UPG"/clsmtpd_*.deb >"$W/dpkg-u.log" 2>&1; then
	ok "dpkg -i upgrades the three packages"
else
	not_ok "dpkg -i upgrades the three packages" "$(tail -n 10 "$W/dpkg-u.log")"
fi
check "clsmtpd is now the new version" sh -c "dpkg-query -W -f='\${Version}' clsmtpd | grep -q '+upgradetest'"
check "the upgrade kept the administrator's /etc/clsmtpd.conf" grep -q "^listen 127.0.0.1:$PORT plain" /etc/clsmtpd.conf
check "the upgrade kept the users file" sh -c 'grep -q "^taro " /etc/clsmtpd.users && [ "$(stat -c %U:%G:%a /etc/clsmtpd.users)" = root:clsmtpd:640 ]'
check "the upgrade kept the queued message ($qid)" sh -c "[ -n '$qid' ] && clsmtpd -q | grep -q '^$qid '"
chown clsmtpd:clsmtpd /var/mail/clsmtpd-test/locked/jiro
if start_daemon; then ok "the upgraded clsmtpd starts"; else not_ok "the upgraded clsmtpd starts"; diag_file "$W/daemon.err"; fi
clsmtpd -flush >/dev/null 2>&1
if wait_for 10 sh -c "grep -lq '$MARK' /var/mail/clsmtpd-test/locked/jiro/Maildir/new/*"; then
	ok "the message queued before the upgrade is delivered after it"
else
	not_ok "the message queued before the upgrade is delivered after it"
	diag_file "$W/mail.log"
fi
stop_daemon
kill "$SPID" 2>/dev/null
wait "$SPID" 2>/dev/null
SPID=
rm -f /run/pkgtest-log.sock
rm -rf /var/mail/clsmtpd-test

# ---- purge -----------------------------------------------------------------------
if dpkg --purge clsmtpc-mta clsmtpd clsmtpc >"$W/dpkg-p.log" 2>&1; then
	ok "dpkg --purge removes the three packages"
else
	not_ok "dpkg --purge removes the three packages" "$(tail -n 10 "$W/dpkg-p.log")"
fi
check "no package is left, not even its configuration" \
	sh -c '! dpkg-query -W -f="\${Package} \${Status}\n" clsmtpc clsmtpc-mta clsmtpd 2>/dev/null | grep -v "not-installed$" | grep -q .'
check "the clsmtpd user and group are gone" sh -c '! getent passwd clsmtpd && ! getent group clsmtpd'
check "the spool, /etc/clsmtpd*, /etc/clsmtpc.conf and sendmail are gone" \
	sh -c '! ls -d /var/spool/clsmtpd /etc/clsmtpd /etc/clsmtpd.conf /etc/clsmtpd.users /etc/clsmtpc.conf /usr/sbin/sendmail /usr/lib/sendmail /etc/fail2ban/filter.d/clsmtpd.conf /etc/systemd/system/multi-user.target.wants/clsmtpd.service 2>/dev/null | grep -q .'
