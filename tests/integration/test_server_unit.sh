#!/usr/bin/env bash
# test_server_unit.sh - the shipped systemd unit (contrib/clsmtpd.service):
# systemd-analyze rates its exposure at most 2.0 and verifies it; and,
# since systemd is not PID 1 here, clsmtpd is run the way the unit runs
# it: an unprivileged user, the bounding set reduced to
# CAP_NET_BIND_SERVICE (ambient), no-new-privs, the control socket in a
# runtime directory. It binds a port below 1024, takes mail, answers
# -stats, and has no other capability. A control socket that cannot be
# made stops the start, with one line saying which.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server_lib.sh"

srv_require
UNIT=$LIB_ROOT/contrib/clsmtpd.service

if ! command -v systemd-analyze >/dev/null; then
	not_ok "systemd-analyze is installed (package systemd)"
	done_testing
fi

# ---- the unit as systemd-analyze sees it --------------------------------------
score=$(systemd-analyze security --offline=true "$UNIT" 2>&1 |
	sed -n 's/.*Overall exposure level for clsmtpd.service: \([0-9.]*\).*/\1/p')
if [ -n "$score" ] && awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }'; then
	ok "systemd-analyze security: exposure $score (at most 2.0)"
else
	not_ok "systemd-analyze security: exposure '$score' (at most 2.0)"
	systemd-analyze security --offline=true "$UNIT" 2>&1 | grep '✗' | sed 's/^/# /'
fi
# verify checks that the commands exist: point them at this build.
sed "s|/usr/sbin/clsmtpd|$CLSMTPD|g; s|/bin/kill|$(command -v kill)|" "$UNIT" >"$T_DIR/clsmtpd.service"
if (cd "$T_DIR" && systemd-analyze verify --man=no ./clsmtpd.service) >"$T_DIR/verify.out" 2>&1 &&
	[ ! -s "$T_DIR/verify.out" ]; then
	ok "systemd-analyze verify: no finding"
else
	not_ok "systemd-analyze verify: no finding"
	diag_file "$T_DIR/verify.out"
fi
for d in 'User=clsmtpd' 'CapabilityBoundingSet=CAP_NET_BIND_SERVICE' \
	'AmbientCapabilities=CAP_NET_BIND_SERVICE' 'NoNewPrivileges=yes' 'ProtectSystem=strict' \
	'RuntimeDirectory=clsmtpd' 'SystemCallFilter=@system-service' 'MemoryDenyWriteExecute=yes'; do
	check_grep "the unit says $d" "^$d\$" "$UNIT"
done

# ---- clsmtpd as the unit runs it ------------------------------------------------
if ! command -v setpriv >/dev/null; then
	not_ok "setpriv is installed (util-linux)"
	done_testing
fi
# A free port below 1024 on 127.0.0.1 (only CAP_NET_BIND_SERVICE may bind it).
LOW=$("$PYTHON" - <<'PY'
import random, socket
for p in random.Random().sample(range(600, 1000), 200):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        continue
    finally:
        s.close()
    print(p)
    break
PY
)
RUN=$T_DIR/run
mkdir -p "$RUN" "$SRV_DIR/spool"
chown nobody "$RUN" "$SRV_DIR/spool"
chmod 750 "$RUN"
srv_users
srv_config "listen 127.0.0.1:$LOW plain
control_socket $RUN/control"
# The users file and the certificate key are read as nobody.
chown nobody "$SRV_DIR/users"
cp "$FIXTURE_KEY" "$SRV_DIR/tls.key"
chown nobody "$SRV_DIR/tls.key"
chmod 600 "$SRV_DIR/tls.key"
sed -i "s|^tls_key .*|tls_key $SRV_DIR/tls.key|" "$SRV_CONF"

setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all,+net_bind_service \
	--ambient-caps=-all,+net_bind_service --bounding-set=-all,+net_bind_service --no-new-privs \
	"$CLSMTPD" -F -f "$SRV_CONF" 2>>"$SRV_DIR/log" &
SRV_PID=$!
if srv_log_wait 'ready: ' 10; then
	ok "clsmtpd starts as nobody with only CAP_NET_BIND_SERVICE"
else
	not_ok "clsmtpd starts as nobody with only CAP_NET_BIND_SERVICE"
	diag_file "$SRV_DIR/log"
	done_testing
fi
check "... and listens on port $LOW (below 1024)" test -n "$(ss -Hltn "sport = :$LOW")"
status=/proc/$SRV_PID/status
check_grep "... its uid is nobody's" "^Uid:[[:space:]]+$(id -u nobody)[[:space:]]" "$status"
check_grep "... no-new-privs is set" '^NoNewPrivs:[[:space:]]+1' "$status"
check_grep "... its bounding set is CAP_NET_BIND_SERVICE alone" '^CapBnd:[[:space:]]+0000000000000400$' "$status"
check_grep "... and it has no other effective capability" '^CapEff:[[:space:]]+000000000000040[0]$|^CapEff:[[:space:]]+0000000000000000$' "$status"
mark=$(unique_mark)
"$PYTHON" - "$LOW" "$mark" >"$T_DIR/send.out" 2>&1 <<'PY'
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=10)
s.sendmail("a@internet.test", ["alice@example.org"],
           "Subject: %s\r\n\r\nunder the unit's privileges\r\n" % sys.argv[2])
s.quit()
PY
if srv_mail_wait alice "$mark"; then
	ok "mail is accepted and delivered under the unit's privileges"
else
	not_ok "mail is accepted and delivered under the unit's privileges"
	diag_file "$T_DIR/send.out"
	diag_file "$SRV_DIR/log"
fi
check_exit "clsmtpd -stats answers through the control socket in the runtime directory" 0 \
	"$CLSMTPD" -stats -f "$SRV_CONF"
check_grep "... with the daemon's figures" 'sessions' "$T_DIR/last.out"
check "the control socket is the daemon user's, for it alone (mode 0600)" \
	test "$(stat -c '%a %U' "$RUN/control")" = "600 nobody"
srv_stop

# ---- a control socket that cannot be made stops the start -----------------------
srv_config "control_socket $T_DIR/no-such-dir/control"
"$CLSMTPD" -F -f "$SRV_CONF" >"$T_DIR/noctl.out" 2>&1
check "no control socket: clsmtpd does not start (exit 78: its directory is missing, a configuration to fix)" test $? -eq 78
check_grep "... and says which socket and why" "control socket $T_DIR/no-such-dir/control: No such file or directory" "$T_DIR/noctl.out"

# ---- started as the wrong user ------------------------------------------------------
srv_config "control_socket $RUN/control"
chown daemon "$SRV_DIR/users" 2>/dev/null
setpriv --reuid=daemon --regid=daemon --clear-groups "$CLSMTPD" -F -f "$SRV_CONF" \
	>"$T_DIR/wronguser.out" 2>&1
check "started as another unprivileged user: refused" test $? -ne 0
check_grep "... saying whom to start it as" 'start clsmtpd as root or as nobody|Permission denied' "$T_DIR/wronguser.out"

done_testing
