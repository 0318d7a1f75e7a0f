#!/usr/bin/env bash
# test_server_attack.sh - issue 7's brute force: 50,000 AUTH attempts from
# eight loopback addresses (127.0.0.2-9, STARTTLS + AUTH PLAIN, paced to
# ATTACK_RATE a second) while a legitimate client submits one mail a second
# from 127.0.0.250. Every legitimate submission must succeed; every attacker
# must be banned at the configured threshold (5 failures) and then refused
# at accept. The latency ratio (attack/idle) and the server's CPU time are
# reported as TAP comments, never asserted. Then: the bans survive SIGKILL
# and a restart; -bans/-ban/-unban/-stats and SIGUSR1; trusted and exempt
# networks cannot be banned. About 45 s.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server_lib.sh"
. "$(dirname "$0")/attack_lib.sh"

ATTEMPTS=${ATTACK_ATTEMPTS:-50000}
RATE=${ATTACK_RATE:-2500}
SOURCES=2-9
IDLE_MAILS=5

srv_require
atk_require
srv_users
atk_config
srv_start || { not_ok "clsmtpd starts"; done_testing; }
ctl() { "$CLSMTPD" -f "$SRV_CONF" "$@"; }

# ---- idle latency (after one warm-up submission) ---------------------------
atk_legit "$T_DIR/warmup.txt" 1 127.0.0.250
atk_legit "$T_DIR/idle.txt" "$IDLE_MAILS" 127.0.0.250
if [ "$(grep -c '^ok ' "$T_DIR/idle.txt")" -eq "$IDLE_MAILS" ]; then
	ok "idle: $IDLE_MAILS legitimate submissions succeed"
else
	not_ok "idle: $IDLE_MAILS legitimate submissions succeed"
	diag_file "$T_DIR/idle.txt"
fi

# ---- the attack, with the legitimate client running alongside ------------
legit_n=$((ATTEMPTS / RATE + 4))
atk_legit "$T_DIR/attack.txt" "$legit_n" 127.0.0.250 &
legit_pid=$!
cpu0=$(atk_cpu "$SRV_PID")
start=$(date +%s%N)
timeout -k 5 120 "$ATTACK" auth --port "$SRV_PORT_SUB" --sources $SOURCES --threads 4 \
	--attempts "$ATTEMPTS" --rate "$RATE" --starttls --duration 100 >"$T_DIR/attack.out"
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
cpu1=$(atk_cpu "$SRV_PID")
wait "$legit_pid"
total=$(grep '^total ' "$T_DIR/attack.out")
diag "attacker: $total"
if [ "$(atk_field "$total" attempts)" = "$ATTEMPTS" ]; then
	ok "the attacker made all $ATTEMPTS attempts (in ${elapsed_ms} ms)"
else
	not_ok "the attacker made all $ATTEMPTS attempts" "$total"
fi
good=$(grep -c '^ok ' "$T_DIR/attack.txt")
if [ "$good" -eq "$legit_n" ]; then
	ok "under attack: all $legit_n legitimate submissions succeed"
else
	not_ok "under attack: all $legit_n legitimate submissions succeed ($good did)"
	diag_file "$T_DIR/attack.txt"
fi
if srv_mail_wait alice "legit 127.0.0.250 $((legit_n - 1))" 10 &&
	[ "$(srv_mail_count alice 'submitted under attack')" -eq $((1 + IDLE_MAILS + legit_n)) ]; then
	ok "every legitimate mail is delivered"
else
	not_ok "every legitimate mail is delivered" \
		"$(srv_mail_count alice 'submitted under attack') of $((1 + IDLE_MAILS + legit_n))"
fi

# Banned at the threshold: the ban line says 5/5, the server checked at
# most 5 passwords from each source, and the rest was refused at accept.
all_banned=1 within=1
for ((x = ${SOURCES%-*}; x <= ${SOURCES#*-}; x++)); do
	a=127.0.0.$x
	grep -q "defence: action=ban client=$a net=$a/32 reason=auth-failures count=5/5 " "$SRV_DIR/log" || all_banned=0
	n=$(grep -cE "\[$a\]: SASL authentication (failed|refused for now)" "$SRV_DIR/log")
	[ "$n" -le 5 ] || { within=0; diag "$a: $n passwords checked"; }
done
if [ $all_banned -eq 1 ]; then
	ok "every attacking address is banned, at 5 failures (count=5/5)"
else
	not_ok "every attacking address is banned, at 5 failures"
	grep 'action=ban' "$SRV_DIR/log" | head -10 | sed 's/^/# /'
fi
if [ $within -eq 1 ]; then ok "no attacker had more than 5 AUTH attempts answered"; else not_ok "no attacker had more than 5 AUTH attempts answered"; fi
refused=$(atk_field "$total" refused)
if [ "$refused" -ge $((ATTEMPTS - 8 * 40)) ]; then
	ok "after the bans the attempts are refused at accept ($refused of $ATTEMPTS)"
else
	not_ok "after the bans the attempts are refused at accept ($refused of $ATTEMPTS)"
fi
hz=$(getconf CLK_TCK)
cpu_ms=$(((cpu1 - cpu0) * 1000 / hz))
idle=$(atk_median "$T_DIR/idle.txt")
att=$(atk_median "$T_DIR/attack.txt")
ratio=$(awk -v a="$att" -v i="$idle" 'BEGIN {printf "%.2f", (i > 0 ? a / i : 0)}')
diag "figures: attack ${ATTEMPTS} attempts from 8 addresses at ${RATE}/s in ${elapsed_ms} ms;" \
	"server CPU ${cpu_ms} ms for the attack ($(awk -v c="$cpu_ms" -v n="$ATTEMPTS" 'BEGIN {printf "%.1f", c * 1000 / n}') us per attempt);" \
	"legitimate latency p50 idle ${idle} ms, under attack ${att} ms, ratio ${ratio} (goal <= 2);" \
	"p90 idle $(atk_pct "$T_DIR/idle.txt" 90) ms, under attack $(atk_pct "$T_DIR/attack.txt" 90) ms;" \
	"max under attack $(atk_pct "$T_DIR/attack.txt" 100) ms"
diag "server peak RSS $(atk_rss "$SRV_PID") kB"
printf 'attempts=%s rate=%s elapsed_ms=%s cpu_ms=%s idle_ms=%s attack_ms=%s ratio=%s\n' \
	"$ATTEMPTS" "$RATE" "$elapsed_ms" "$cpu_ms" "$idle" "$att" "$ratio" >"$TEST_WORK/attack-figures.txt"

# ---- the control command and SIGUSR1 ---------------------------------------
ctl -bans >"$T_DIR/bans.out" 2>&1
check_grep "-bans lists the attackers' bans" '^127\.0\.0\.2/32[[:space:]]until .*[[:space:]]offences=1[[:space:]]reason=auth-failures$' "$T_DIR/bans.out"
ctl -stats >"$T_DIR/stats.out" 2>&1
check_grep "-stats counts the refused attempts" 'defence: stats .* refused_banned=[1-9][0-9]{4,} ' "$T_DIR/stats.out"
kill -USR1 "$SRV_PID"
for ((i = 0; i < 20; i++)); do grep -q 'clsmtpd.*: defence: stats ' "$SRV_DIR/log" && break; sleep 0.1; done
check_grep "SIGUSR1 logs the counter summary" 'clsmtpd\[[0-9]+\]: defence: stats sessions=[0-9]+ .* bans_active=8 ' "$SRV_DIR/log"
check_exit "-ban refuses a trusted network" 65 ctl -ban 127.0.1.7 60
check_grep "and says it is never banned" 'trusted or exempt network: never banned' "$T_DIR/last.err"
check_exit "-ban refuses the exempt 127.0.0.1" 65 ctl -ban 127.0.0.0/24 60
check_exit "-ban bans an address" 0 ctl -ban 127.0.0.77 3600
printf "b'QUIT\\\\r\\\\n'\n" >"$T_DIR/quit.in"
srv_dialog "$SRV_PORT_SUB" --source 127.0.0.77 <"$T_DIR/quit.in" >"$T_DIR/ban77.out"
check_grep "a banned address is closed at once, before any greeting" '^\(closed\)$' "$T_DIR/ban77.out"

# ---- restart during a ban: SIGKILL, then start again ------------------------
kill -KILL "$SRV_PID"
wait "$SRV_PID" 2>/dev/null
SRV_PID=
check_grep "the ban list is on disk in the spool" '^127\.0\.0\.9/32[[:space:]][0-9]+[[:space:]]1[[:space:]]auth-failures$' "$SRV_DIR/spool/bans"
srv_start || not_ok "clsmtpd starts again"
srv_dialog "$SRV_PORT_SUB" --source 127.0.0.3 <"$T_DIR/quit.in" >"$T_DIR/restart.out"
check_grep "after SIGKILL and a restart the ban still holds" '^\(closed\)$' "$T_DIR/restart.out"
srv_dialog "$SRV_PORT_SUB" --source 127.0.0.77 <"$T_DIR/quit.in" >"$T_DIR/restart77.out"
check_grep "so does the manual one" '^\(closed\)$' "$T_DIR/restart77.out"
check_exit "-unban lifts a ban" 0 ctl -unban 127.0.0.3
srv_dialog "$SRV_PORT_SUB" --source 127.0.0.3 <"$T_DIR/quit.in" >"$T_DIR/unban.out"
check_grep "the unbanned address is greeted again" '^220 ' "$T_DIR/unban.out"

# ---- offline: -ban with the daemon stopped applies at the next start --------
srv_stop
check_exit "-ban works on the ban file while clsmtpd is stopped" 0 ctl -ban 127.0.0.88
check_grep "and says when it applies" 'applies at the next start' "$T_DIR/last.out"
check_exit "-stats needs the daemon" 69 ctl -stats
srv_start || not_ok "clsmtpd starts again"
srv_dialog "$SRV_PORT_SUB" --source 127.0.0.88 <"$T_DIR/quit.in" >"$T_DIR/offline.out"
check_grep "the offline ban holds after the start" '^\(closed\)$' "$T_DIR/offline.out"
check_no_secret "no password in the server log" alice "$SRV_PW_ALICE" "$SRV_DIR/log"
done_testing
