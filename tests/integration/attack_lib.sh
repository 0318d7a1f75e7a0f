# attack_lib.sh - helpers for the defence tests (test_server_attack*.sh),
# sourced after lib.sh and server_lib.sh: a configuration with the default
# defence, the attacker (tests/helpers/smtp_attack.c), a legitimate client
# that submits one mail a second from its own loopback address and records
# each submission's latency, and the server's CPU time and peak memory
# from /proc. Every address is on lo (127.0.0.0/8); nothing else is used.
# shellcheck shell=bash

: "${TESTS_BIN:=$LIB_ROOT/build/tests}"
ATTACK=$TESTS_BIN/smtp_attack

# atk_require: stop here (one failure) unless the attacker is built.
atk_require() {
	[ -x "$ATTACK" ] || { not_ok "the attacker is built ($ATTACK)"; done_testing; }
}

# atk_config [EXTRA-LINES]: clsmtpd with one plain and one STARTTLS
# listener, alice (SCRAM keys only) owning alice@example.org, the trusted
# network 127.0.1.0/24, and the defence at its defaults unless EXTRA says
# otherwise. Ports in SRV_PORT_PLAIN and SRV_PORT_SUB.
atk_config() {
	SRV_PORT_PLAIN=$(free_port)
	SRV_PORT_SUB=$(free_port)
	SRV_CONF=$SRV_DIR/clsmtpd.conf
	cat >"$SRV_CONF" <<CONF
# defence test configuration
hostname mx.example.test
user nobody
spool $SRV_DIR/spool
users $SRV_DIR/users
tls_cert $FIXTURE_CERT
tls_key $FIXTURE_KEY
listen 127.0.0.1:$SRV_PORT_PLAIN plain
listen 127.0.0.1:$SRV_PORT_SUB starttls
domain example.org
mailbox alice@example.org $SRV_DIR/mail/alice
mailbox bob@example.org $SRV_DIR/mail/bob
trusted 127.0.1.0/24
sender alice own alice@example.org
sender bob own bob@example.org
log stderr
${1:-}
CONF
}

# atk_legit OUT COUNT SOURCE [USER PASSWORD]: COUNT submissions, one a
# second, from SOURCE over STARTTLS + AUTH (Python's smtplib, which tries
# CRAM-MD5 before PLAIN like many clients). OUT gets one line per mail:
# "ok MILLISECONDS" or "fail REASON".
atk_legit() {
	"$PYTHON" - "$SRV_PORT_SUB" "$3" "$2" "$1" "${4:-alice}" "${5:-$SRV_PW_ALICE}" <<'PY'
import os, smtplib, ssl, sys, time
port, src, n, out, user, pw = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6]
ctx = ssl.create_default_context(cafile=os.environ["FIXTURE_CA"])
ctx.check_hostname = False
t0 = time.monotonic()
with open(out, "w") as f:
    for i in range(n):
        t = time.monotonic()
        try:
            s = smtplib.SMTP("127.0.0.1", port, source_address=(src, 0), timeout=30)
            s.starttls(context=ctx)
            s.login(user, pw)
            s.sendmail(user + "@example.org", ["alice@example.org"],
                       "Subject: legit %s %d\r\n\r\nsubmitted under attack\r\n" % (src, i))
            s.quit()
            f.write("ok %.2f\n" % ((time.monotonic() - t) * 1000))
        except Exception as e:
            f.write("fail %r\n" % (e,))
        f.flush()
        d = t0 + i + 1 - time.monotonic()
        if d > 0:
            time.sleep(d)
PY
}

# atk_pct FILE PERCENT: that percentile of the "ok MS" lines (50: median).
atk_pct() {
	awk '$1 == "ok" {print $2}' "$1" | sort -n |
		awk -v p="$2" '{v[NR] = $1} END {i = int((NR * p + 99) / 100); if (i < 1) i = 1; if (NR) print v[i]; else print 0}'
}

atk_median() {
	atk_pct "$1" 50
}

# atk_cpu PID: user + system CPU time in clock ticks.
atk_cpu() {
	awk '{print $14 + $15}' "/proc/$1/stat"
}

# atk_rss PID: peak resident memory (VmHWM) in kB.
atk_rss() {
	awk '/^VmHWM:/ {print $2}' "/proc/$1/status"
}

# atk_field LINE KEY: the value of KEY=... in a key=value line.
atk_field() {
	printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n1
}
