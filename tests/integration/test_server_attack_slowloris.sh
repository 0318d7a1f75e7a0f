#!/usr/bin/env bash
# test_server_attack_slowloris.sh - resource exhaustion: 300 connections
# from thirty loopback addresses (127.0.0.2-31) each sending one byte a
# second of a line that never ends, against max_sessions 200: a legitimate
# client still submits one mail a second (the full server evicts its
# idlest stranger), and the server's peak memory stays small (reported).
# Then, with request_timeout 3: a trickling request is dropped; pregreet
# talkers are dropped and a client that waited is remembered; one address
# gets at most max_sessions_per_client connections. About 35 s.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server_lib.sh"
. "$(dirname "$0")/attack_lib.sh"

SLOW_SECONDS=${SLOWLORIS_SECONDS:-20}
LEGIT=12

srv_require
atk_require
srv_users
atk_config
srv_start || { not_ok "clsmtpd starts"; done_testing; }
rss0=$(atk_rss "$SRV_PID")

# ---- slowloris against the default limits -------------------------------------
timeout -k 5 $((SLOW_SECONDS + 30)) "$ATTACK" slowloris --port "$SRV_PORT_SUB" --sources 2-31 \
	--conns 300 --interval 1000 --duration "$SLOW_SECONDS" >"$T_DIR/slow.out" &
slow_pid=$!
sleep 3
atk_legit "$T_DIR/legit.txt" "$LEGIT" 127.0.0.250
wait "$slow_pid"
diag "slowloris: $(cat "$T_DIR/slow.out")"
good=$(grep -c '^ok ' "$T_DIR/legit.txt")
if [ "$good" -eq "$LEGIT" ]; then
	ok "during the slowloris all $LEGIT legitimate submissions succeed"
else
	not_ok "during the slowloris all $LEGIT legitimate submissions succeed ($good did)"
	diag_file "$T_DIR/legit.txt"
fi
maxopen=$(atk_field "$(cat "$T_DIR/slow.out")" max_open)
if [ "${maxopen:-0}" -ge 200 ]; then
	ok "the attack did fill the server (max_sessions 200; it held $maxopen sockets)"
else
	not_ok "the attack did fill the server" "$(cat "$T_DIR/slow.out")"
fi
check_grep "a full server evicts an idle stranger to serve the newcomer" \
	'defence: action=evict client=127\.0\.0\.[0-9]+ reason=server-full conns=[0-9]+ idle_ms=[0-9]+$' "$SRV_DIR/log"
check_no_grep "it never evicted the legitimate client" 'action=evict client=127\.0\.0\.250 ' "$SRV_DIR/log"
"$CLSMTPD" -f "$SRV_CONF" -stats >"$T_DIR/stats.out" 2>&1
peak=$(sed -n 's/.* peak_sessions=\([0-9]*\) .*/\1/p' "$T_DIR/stats.out")
if [ "${peak:-999}" -le 200 ]; then
	ok "sessions never exceeded max_sessions ($peak)"
else
	not_ok "sessions never exceeded max_sessions ($peak)"
fi
rss=$(atk_rss "$SRV_PID")
diag "figures: slowloris 300 connections x ${SLOW_SECONDS} s: server peak RSS ${rss} kB (${rss0} kB at start); $(cat "$T_DIR/stats.out" | tail -n1)"
# AddressSanitizer's shadow memory and quarantine multiply the figure.
rss_max=65536
nm -D "$CLSMTPD" 2>/dev/null | grep -q __asan_init && rss_max=524288
if [ "$rss" -lt "$rss_max" ]; then
	ok "peak memory stays bounded (${rss} kB < $((rss_max / 1024)) MiB)"
else
	not_ok "peak memory stays bounded (${rss} kB)"
fi

# ---- a trickling request is dropped at its deadline ---------------------------
srv_stop
atk_config "request_timeout 3"
srv_start || not_ok "clsmtpd starts again"
timeout -k 5 30 "$ATTACK" slowloris --port "$SRV_PORT_SUB" --sources 40-43 --conns 20 \
	--interval 1000 --duration 8 >"$T_DIR/trickle.out"
dropped=$(atk_field "$(cat "$T_DIR/trickle.out")" dropped_by_server)
if [ "${dropped:-0}" -ge 20 ]; then
	ok "a line trickling in a byte a second is dropped at request_timeout ($dropped drops)"
else
	not_ok "a line trickling in is dropped at request_timeout" "$(cat "$T_DIR/trickle.out")"
fi
check_grep "and the drop is logged with its reason" \
	'defence: action=drop client=127\.0\.0\.4[0-3] reason=slow-request state=INIT$' "$SRV_DIR/log"

# ---- pregreet: the plain listener waits 1 s for the greeting --------------------
"$PYTHON" - "$SRV_PORT_PLAIN" >"$T_DIR/pregreet.out" 2>&1 <<'PY'
import socket, sys
port = int(sys.argv[1])
def session(src, early):
    s = socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(src, 0))
    if early:
        s.sendall(b"EHLO bot\r\n")
    data = s.recv(4096)
    if not early:
        s.sendall(b"EHLO polite\r\n")
        data += s.recv(4096)
    s.sendall(b"QUIT\r\n")
    try:
        while True:
            d = s.recv(4096)
            if not d:
                break
            data += d
    except OSError:
        pass
    s.close()
    return data.decode(errors="replace").replace("\r\n", " | ")
print("bot:", session("127.0.0.60", True))
print("polite:", session("127.0.0.61", False))
# It passed: greeted at once now, so talking right away is no offence.
print("again:", session("127.0.0.61", True))
PY
check_grep "a client talking before the greeting is dropped with 554" '^bot: 554 5\.5\.1' "$T_DIR/pregreet.out"
check_grep "and logged" 'defence: action=drop client=127\.0\.0\.60 reason=pregreet$' "$SRV_DIR/log"
check_grep "a client that waits is greeted" '^polite: 220 .*\| 250-' "$T_DIR/pregreet.out"
check_grep "and is greeted at once next time (postscreen's pass cache)" '^again: 220 .*\| 250-' "$T_DIR/pregreet.out"

# ---- connections per client ------------------------------------------------
"$PYTHON" - "$SRV_PORT_SUB" >"$T_DIR/limit.out" 2>&1 <<'PY'
import socket, sys
port, socks, greet, refused = int(sys.argv[1]), [], 0, 0
for i in range(25):
    s = socket.create_connection(("127.0.0.1", port), timeout=5, source_address=("127.0.0.70", 0))
    socks.append(s)
    line = s.recv(4096)
    if line.startswith(b"220"):
        greet += 1
    elif line.startswith(b"421 4.7.0 Too many connections from your address"):
        refused += 1
print("greeted=%d refused=%d" % (greet, refused))
for s in socks:
    s.close()
PY
check_grep "one address gets 20 sessions, the rest 421" '^greeted=20 refused=5$' "$T_DIR/limit.out"
done_testing
