#!/usr/bin/env bash
# test_server_attack_distributed.sh - one account attacked from fifty
# loopback addresses (127.0.0.10-59), three failures each, below the
# per-address ban: the account is then protected (unknown addresses get one
# checked attempt per 15 s, the rest 454 unchecked) while its owner still
# gets in from the trusted network, from the address she used before, and
# through the session she had already authenticated. Trusted networks and
# the exempt 127.0.0.1 are never delayed or banned however often they fail.
# auth_failure_delay is 1..2 s here (not Dovecot's 2..15 s) to keep the
# test short. About 15 s.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server_lib.sh"
. "$(dirname "$0")/attack_lib.sh"

srv_require
atk_require
srv_users
atk_config "auth_failure_delay 1 2"
srv_start || { not_ok "clsmtpd starts"; done_testing; }

# alice's own session, authenticated before the attack from 127.0.0.250;
# it sends its mail once the attack is over (when $T_DIR/go appears).
"$PYTHON" - "$SRV_PORT_SUB" "$T_DIR/go" "$SRV_PW_ALICE" >"$T_DIR/held.out" 2>&1 <<'PY' &
import os, smtplib, ssl, sys, time
port, go, pw = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ctx = ssl.create_default_context(cafile=os.environ["FIXTURE_CA"])
ctx.check_hostname = False
s = smtplib.SMTP("127.0.0.1", port, source_address=("127.0.0.250", 0), timeout=60)
s.starttls(context=ctx)
s.login("alice", pw)
print("authenticated", flush=True)
for _ in range(600):
    if os.path.exists(go):
        break
    s.noop()
    time.sleep(0.1)
s.sendmail("alice@example.org", ["alice@example.org"], "Subject: held session\r\n\r\nstill mine\r\n")
s.quit()
print("sent", flush=True)
PY
held_pid=$!
for ((i = 0; i < 50; i++)); do grep -q authenticated "$T_DIR/held.out" && break; sleep 0.1; done

# ---- the distributed attack ---------------------------------------------------
timeout -k 5 60 "$ATTACK" auth --port "$SRV_PORT_SUB" --sources 10-59 --threads 1 \
	--per-source 3 --per-conn 3 --attempts 150 --starttls --duration 50 >"$T_DIR/dist.out"
total=$(grep '^total ' "$T_DIR/dist.out")
diag "attacker: $total"
check_grep "the account is protected once it crosses 10 failures" \
	'defence: action=protect reason=account-under-attack failures=10/10 window=600s interval=15s user=alice$' "$SRV_DIR/log"
tempfail=$(atk_field "$total" tempfail)
checked=$(atk_field "$total" auth_fail)
if [ "${tempfail:-0}" -gt 100 ] && [ "${checked:-999}" -lt 20 ]; then
	ok "then most attempts are answered 454 unchecked ($tempfail), few checked ($checked)"
else
	not_ok "then most attempts are answered 454 unchecked" "$total"
fi
check_no_grep "no attacking address reached the per-address ban" 'action=ban client=127\.0\.0\.' "$SRV_DIR/log"

# ---- the owner still gets in ---------------------------------------------------
atk_legit "$T_DIR/trusted.txt" 2 127.0.1.1
check_grep "alice submits from her trusted network during the attack" '^ok ' "$T_DIR/trusted.txt"
if [ "$(grep -c '^ok ' "$T_DIR/trusted.txt")" -eq 2 ]; then ok "every time"; else not_ok "every time"; diag_file "$T_DIR/trusted.txt"; fi
atk_legit "$T_DIR/known.txt" 1 127.0.0.250
check_grep "and from the address she authenticated from before" '^ok ' "$T_DIR/known.txt"
touch "$T_DIR/go"
wait "$held_pid"
check_grep "her session authenticated before the attack still sends" '^sent$' "$T_DIR/held.out"
check_no_grep "nothing of hers was throttled" 'action=throttle client=127\.0\.(1\.1|0\.250) ' "$SRV_DIR/log"
if srv_mail_wait alice 'held session' && [ "$(srv_mail_count alice 'submitted under attack')" -eq 3 ]; then
	ok "and all her mail is delivered"
else
	not_ok "and all her mail is delivered"
fi

# ---- trusted and exempt networks are never banned --------------------------------
timeout -k 5 60 "$ATTACK" auth --port "$SRV_PORT_SUB" --net 127.0.1. --sources 5-5 --threads 1 \
	--attempts 30 --per-conn 3 --user bob --starttls --duration 30 >"$T_DIR/trusted.out"
line=$(grep '^total ' "$T_DIR/trusted.out")
if [ "$(atk_field "$line" auth_fail)" = 30 ]; then
	ok "30 failures from a trusted address are all answered 535 at once (no ban, no 454)"
else
	not_ok "30 failures from a trusted address are all answered 535" "$line"
fi
check_no_grep "a trusted address is never banned or delayed" 'action=(ban|delay|throttle) client=127\.0\.1\.5 ' "$SRV_DIR/log"
atk_legit "$T_DIR/after.txt" 1 127.0.1.5 bob "$SRV_PW_BOB"
check_grep "and still logs in" '^ok ' "$T_DIR/after.txt"
timeout -k 5 60 "$ATTACK" auth --port "$SRV_PORT_SUB" --sources 1-1 --threads 1 \
	--attempts 12 --per-conn 3 --user bob --starttls --duration 30 >"$T_DIR/exempt.out"
line=$(grep '^total ' "$T_DIR/exempt.out")
if [ "$(atk_field "$line" auth_fail)" = 12 ]; then
	ok "the exempt 127.0.0.1 is never banned either"
else
	not_ok "the exempt 127.0.0.1 is never banned either" "$line"
fi
check_no_secret "no password in the server log" alice "$SRV_PW_ALICE" "$SRV_DIR/log"
done_testing
