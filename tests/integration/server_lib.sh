# server_lib.sh - helpers for the clsmtpd integration tests (sourced after
# lib.sh): write a configuration and a users file, start clsmtpd in the
# foreground and wait for its pid file (written once the listeners are bound),
# wait for Maildir deliveries, and talk raw SMTP through a small Python peer.
# shellcheck shell=bash

: "${CLSMTPD:=$LIB_ROOT/build/clsmtpd}"
SRV_DIR=$T_DIR/srv
SRV_PID=
mkdir -p "$SRV_DIR/mail"
# The server drops privileges to nobody: it must reach its files.
chmod 755 "$TEST_WORK" "$T_DIR" "$SRV_DIR"
chown nobody "$SRV_DIR/mail"

# srv_require: stop here (one failure) unless clsmtpd is built; from now on
# the test's exit stops clsmtpd and cleans up.
srv_require() {
	if [ ! -x "$CLSMTPD" ]; then
		not_ok "clsmtpd binary exists at $CLSMTPD"
		done_testing
	fi
	trap 'srv_stop; lib_cleanup' EXIT
}

# srv_users: alice (SCRAM keys only) and bob (also the plaintext, for
# CRAM-MD5 and DIGEST-MD5), carol (free sender binding).
SRV_PW_ALICE='alice-Pw-1'
SRV_PW_BOB='bob-Pw-2'
SRV_PW_CAROL='carol-Pw-3'
srv_users() {
	local f=$SRV_DIR/users
	rm -f "$f"
	printf '%s\n' "$SRV_PW_ALICE" | "$CLSMTPD" passwd -u "$f" add alice >/dev/null &&
		printf '%s\n' "$SRV_PW_BOB" | "$CLSMTPD" passwd -u "$f" add bob --plaintext >/dev/null &&
		printf '%s\n' "$SRV_PW_CAROL" | "$CLSMTPD" passwd -u "$f" add carol >/dev/null
}

# srv_config [EXTRA-LINES]: ports in SRV_PORT_PLAIN, SRV_PORT_SUB, SRV_PORT_TLS.
srv_config() {
	SRV_PORT_PLAIN=$(free_port)
	SRV_PORT_SUB=$(free_port)
	SRV_PORT_TLS=$(free_port)
	SRV_CONF=$SRV_DIR/clsmtpd.conf
	cat >"$SRV_CONF" <<CONF
# test configuration
hostname mx.example.test
user nobody
spool $SRV_DIR/spool
users $SRV_DIR/users
tls_cert $FIXTURE_CERT
tls_key $FIXTURE_KEY
listen 127.0.0.1:$SRV_PORT_PLAIN plain
listen 127.0.0.1:$SRV_PORT_SUB starttls
listen [::1]:$SRV_PORT_SUB starttls
listen 127.0.0.1:$SRV_PORT_TLS tls
domain example.org catchall.example.org
mailbox alice@example.org $SRV_DIR/mail/alice
mailbox bob@example.org $SRV_DIR/mail/bob
alias postmaster@example.org alice@example.org
catchall catchall.example.org bob@example.org
trusted 127.0.0.2
sender alice own alice@example.org
sender bob rewrite bob@example.org
sender carol free
log stderr
${1:-}
CONF
}

# srv_start: start clsmtpd -F and wait (5 s at most) for its pid file.
srv_start() {
	local i
	rm -f "$SRV_DIR/pid"
	"$CLSMTPD" -F -f "$SRV_CONF" -P "$SRV_DIR/pid" 2>>"$SRV_DIR/log" &
	SRV_PID=$!
	for ((i = 0; i < 50; i++)); do
		[ -s "$SRV_DIR/pid" ] && return 0
		kill -0 "$SRV_PID" 2>/dev/null || break
		sleep 0.1
	done
	diag "clsmtpd did not start:"
	diag_file "$SRV_DIR/log"
	return 1
}

srv_stop() {
	if [ -n "$SRV_PID" ] && kill -0 "$SRV_PID" 2>/dev/null; then
		kill "$SRV_PID"
		wait "$SRV_PID" 2>/dev/null
	fi
	SRV_PID=
}

# srv_agent_pid: the delivery agent's pid (from the log).
srv_agent_pid() {
	sed -n 's/.*delivery agent started (pid \([0-9]*\)).*/\1/p' "$SRV_DIR/log" | tail -n1
}

# srv_mail_wait BOX MARK [SECONDS]: a message with MARK in BOX's Maildir new/.
srv_mail_wait() {
	local i
	SRV_MAILFILE=
	for ((i = 0; i < ${3:-10} * 10; i++)); do
		SRV_MAILFILE=$(grep -lF -- "$2" "$SRV_DIR/mail/$1/new/"* 2>/dev/null | head -n1)
		[ -n "$SRV_MAILFILE" ] && return 0
		sleep 0.1
	done
	return 1
}

# srv_log_wait ERE [SECONDS]: a line of clsmtpd's log matches ERE (10 s at most).
srv_log_wait() {
	local i
	for ((i = 0; i < ${2:-10} * 10; i++)); do
		grep -Eq -- "$1" "$SRV_DIR/log" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# srv_submit ARGS...: one submission to the plain port with submit.py
# (--to is required; see its header). SRV_SUBMIT_PYTHON runs it instead of
# Debian's python3 (a wrapper into a network namespace).
srv_submit() {
	"${SRV_SUBMIT_PYTHON:-$PYTHON}" "$LIB_ROOT/tests/integration/submit.py" \
		--port "$SRV_PORT_PLAIN" "$@"
}

srv_mail_count() {
	grep -lF -- "$2" "$SRV_DIR/mail/$1/new/"* 2>/dev/null | wc -l
}

# srv_dialog PORT [--source ADDR] [--tls] < SCRIPT: a raw SMTP peer. SCRIPT
# lines are Python bytes literals sent as they are (b'EHLO x\r\n'); after
# each, replies are read until the line ends a reply (or 2 s of silence).
# Prints every reply line.
srv_dialog() {
	[ -f "$SRV_DIR/dialog.py" ] || srv_dialog_script >"$SRV_DIR/dialog.py"
	"$PYTHON" "$SRV_DIR/dialog.py" "$@"
}

srv_dialog_script() {
	cat <<'PY'
import ast, socket, ssl, sys, os
port = int(sys.argv[1]); src = None; use_tls = False
args = sys.argv[2:]
while args:
    a = args.pop(0)
    if a == "--source": src = args.pop(0)
    elif a == "--tls": use_tls = True
s = socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(src, 0) if src else None)
if use_tls:
    ctx = ssl.create_default_context(cafile=os.environ["FIXTURE_CA"])
    s = ctx.wrap_socket(s, server_hostname="localhost")
buf = b""
def replies():
    global buf
    out = []
    s.settimeout(2)
    while True:
        while b"\r\n" in buf:
            line, buf = buf.split(b"\r\n", 1)
            out.append(line.decode("latin-1"))
            if len(line) < 4 or line[3:4] == b" ":
                if not buf:
                    return out
        try:
            d = s.recv(65536)
        except socket.timeout:
            return out
        except ConnectionError:
            # closed with unread data (our next command) in its buffer: RST
            d = b""
        if not d:
            out.append("(closed)")
            return out
        buf += d
for l in replies():
    print(l)
for line in sys.stdin:
    line = line.strip()
    if not line or line.startswith("#"):
        continue
    data = ast.literal_eval(line)
    try:
        s.sendall(data)
    except OSError:
        print("(send failed)")
        break
    for l in replies():
        print(l)
PY
}
