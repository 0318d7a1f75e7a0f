#!/usr/bin/env bash
# test_server_soak.sh - nothing lost: SOAK_N messages (default 200) are
# submitted by 4 concurrent clients while clsmtpd - the daemon, or one of its
# two delivery agents - is killed with SIGKILL SOAK_KILLS times (default 40)
# at random moments (fixed seed, SOAK_SEED) and restarted. A third of the messages go to a local Maildir,
# a third through the smarthost (the fixtures' Postfix, SMTPS + AUTH), a
# third to both. At the end every message that got a 250 must have reached
# every recipient; duplicates (the price of at-least-once) are counted and
# reported, as are messages committed whose 250 the kill swallowed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server_lib.sh"

srv_require
SOAK_N=${SOAK_N:-200}
SOAK_SEED=${SOAK_SEED:-6}
SOAK_KILLS=${SOAK_KILLS:-40}
SECRET=$SRV_DIR/relay.secret
(umask 077 && printf '%s\n' "$SASL_PASSWORD" >"$SECRET")
srv_users || not_ok "clsmtpd passwd creates the users file"
srv_config "smarthost 127.0.0.1:$POSTFIX_SMTPS_PORT
smarthost_tls smtps
smarthost_user $SASL_USER
smarthost_password_file $SECRET
smarthost_ca $FIXTURE_CA
retry_min 1s
retry_max 1s
relay_timeout 10s"

# The driver owns clsmtpd: it starts it, kills it, restarts it and stops it.
"$PYTHON" - "$CLSMTPD" "$SRV_CONF" "$SRV_DIR" "$SRV_PORT_PLAIN" "$POSTFIX_MAILDIR" \
	"$SOAK_N" "$SOAK_SEED" "$SOAK_KILLS" >"$T_DIR/soak.out" 2>"$T_DIR/soak.err" <<'PY'
import atexit, os, random, signal, smtplib, subprocess, sys, threading, time

clsmtpd, conf, srv, port, pf_maildir = sys.argv[1:6]
N, seed, K = int(sys.argv[6]), int(sys.argv[7]), int(sys.argv[8])
rng = random.Random(seed)
pidfile = os.path.join(srv, "pid")
log = open(os.path.join(srv, "log"), "ab")
run = "soak%d" % os.getpid()
t0 = time.time()

def start():
    try:
        os.unlink(pidfile)
    except FileNotFoundError:
        pass
    p = subprocess.Popen([clsmtpd, "-F", "-f", conf, "-P", pidfile], stderr=log)
    for _ in range(100):
        if os.path.exists(pidfile) and os.path.getsize(pidfile) > 0:
            return p
        if p.poll() is not None:
            break
        time.sleep(0.05)
    sys.exit("clsmtpd did not start")

def children(pid):
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(d))
            except (OSError, IndexError, ValueError):
                pass
    return out

def kind(i):
    return ("local", "relay", "both")[i % 3]

def rcpts(i):
    k = kind(i)
    r = []
    if k in ("local", "both"):
        r.append("alice@example.org")
    if k in ("relay", "both"):
        r.append("%s-%d@example.test" % (run, i))
    return r

acked = {}       # message -> the attempt token that got a 250
tried = []       # every attempt token sent (whether or not it got a 250)
lock = threading.Lock()
next_msg = [0]
done = threading.Event()

def submitter():
    while True:
        with lock:
            i = next_msg[0]
            if i >= N:
                return
            next_msg[0] += 1
        for attempt in range(200):
            token = "%s-m%d-a%d" % (run, i, attempt)
            with lock:
                tried.append((i, token))
            try:
                s = smtplib.SMTP("127.0.0.1", int(port), source_address=("127.0.0.2", 0), timeout=10)
                s.ehlo("soak.example")
                s.mail("soak-sender@example.org")
                for r in rcpts(i):
                    code, _ = s.rcpt(r)
                    if code != 250:
                        raise smtplib.SMTPException("rcpt %d" % code)
                code, resp = s.data("From: <soak-sender@example.org>\r\nSubject: %s\r\n"
                                    "Message-ID: <%s@soak>\r\n\r\n%s" % (token, token, ("x" * 70 + "\r\n") * (3 + i % 20)))
                if code == 250:
                    with lock:
                        acked[i] = token
                    try:
                        s.quit()
                    except Exception:
                        pass
                    break
            except (OSError, smtplib.SMTPException):
                pass
            time.sleep(0.02)

proc = start()

# Stopped from outside (the runner's time limit): still clean up.
signal.signal(signal.SIGTERM, lambda *a: sys.exit(1))

@atexit.register
def stop_daemon():
    # Whatever happens to this driver, no clsmtpd of ours stays behind.
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
        proc.wait()

threads = [threading.Thread(target=submitter) for _ in range(4)]
for t in threads:
    t.start()
kills = {"daemon": 0, "local agent": 0, "relay agent": 0}
# The kill points: after which acknowledged submission, plus a random delay
# so that a kill lands at any stage of reception or delivery. Points not
# reached when the clients are done fall in the delivery that follows.
for point in sorted(rng.sample(range(1, N), K)):
    while any(t.is_alive() for t in threads):
        with lock:
            if len(acked) >= point:
                break
        time.sleep(0.002)
    busy = any(t.is_alive() for t in threads)
    time.sleep(rng.uniform(0, 0.03) if busy else rng.uniform(0.02, 0.2))
    victim = rng.choice(["daemon", "daemon", "daemon", "local agent", "relay agent"])
    target = []
    if victim != "daemon":
        # An agent: a child of our daemon, told apart by its log line.
        want = "delivery agent started" if victim == "local agent" else "relay agent started"
        pids = []
        with open(os.path.join(srv, "log"), "rb") as f:
            for line in f:
                if want.encode() in line:
                    pids.append(int(line.split(b"(pid ")[1].split(b")")[0]))
        target = [p for p in pids[-1:] if p in children(proc.pid)]
        if not target:
            victim = "daemon"
    if victim == "daemon":
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc = start()
    else:
        os.kill(target[0], signal.SIGKILL)
    kills[victim] += 1
for t in threads:
    t.join()
t_kill = time.time() - t0

# Let it drain: every message out of the spool (bounded).
msgdir = os.path.join(srv, "spool", "msg")
for _ in range(600):
    if not os.listdir(msgdir):
        break
    time.sleep(0.1)
left = len(os.listdir(msgdir))
proc.send_signal(signal.SIGTERM)
proc.wait()

def tokens_in(d):
    counts = {}
    for name in os.listdir(d):
        with open(os.path.join(d, name), "rb") as f:
            for line in f:
                if line.startswith(b"Subject: " + run.encode()):
                    tok = line.split()[1].decode()
                    counts[tok] = counts.get(tok, 0) + 1
                    break
    return counts

local = tokens_in(os.path.join(srv, "mail", "alice", "new"))
relay = tokens_in(os.path.join(pf_maildir, "new"))
lost = dup = 0
lost_list = []
for i, tok in acked.items():
    k = kind(i)
    for where, counts in (("local", local), ("relay", relay)):
        if k in (where, "both"):
            c = counts.get(tok, 0)
            if c == 0:
                lost += 1
                lost_list.append("%s (%s)" % (tok, where))
            dup += max(0, c - 1)
unacked_delivered = sum(1 for i, tok in tried if acked.get(i) != tok and (tok in local or tok in relay))
print("messages=%d acked=%d kills=%d daemon=%d local_agent=%d relay_agent=%d lost=%d duplicates=%d "
      "unacked_delivered=%d left_in_spool=%d kill_phase_s=%.1f total_s=%.1f seed=%d"
      % (N, len(acked), sum(kills.values()), kills["daemon"], kills["local agent"], kills["relay agent"],
         lost, dup, unacked_delivered, left, t_kill, time.time() - t0, seed))
for l in lost_list[:20]:
    print("lost: " + l)
PY
rc=$?
if [ $rc -ne 0 ]; then
	not_ok "the soak driver ran" "exit status $rc"
	diag_file "$T_DIR/soak.err"
	diag_file "$SRV_DIR/log" 20
	done_testing
fi
line=$(head -n1 "$T_DIR/soak.out")
diag "$line"
val() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p; s/^$1=\([0-9.]*\).*/\1/p" <<<"$line" | head -n1; }
# want NAME KEY VALUE: ok if the driver's figure KEY equals VALUE.
want() {
	if [ "$(val "$2")" -eq "$3" ]; then ok "$1"; else not_ok "$1" "$line"; fi
}
want "all $SOAK_N messages got a 250 in the end" acked "$SOAK_N"
want "clsmtpd was killed with SIGKILL $SOAK_KILLS times meanwhile (daemon $(val daemon), local agent $(val local_agent), relay agent $(val relay_agent))" kills "$SOAK_KILLS"
want "nothing lost: every message that got a 250 was delivered to every recipient" lost 0
[ "$(val lost)" -eq 0 ] || diag_file "$T_DIR/soak.out"
want "the spool drained after the last restart" left_in_spool 0
ok "duplicates counted: $(val duplicates) (at-least-once after a kill between delivery and journal)"
check_no_grep "no agent ever complained about a damaged spool file" "damaged" "$SRV_DIR/log"
echo "$line" >"${SOAK_REPORT:-/dev/null}"
done_testing
