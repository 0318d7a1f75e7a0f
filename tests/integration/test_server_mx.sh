#!/usr/bin/env bash
# test_server_mx.sh - clsmtpd's direct MX delivery (relay_mode mx) against a
# real resolver: a network namespace of its own whose resolv.conf names a
# dnsmasq on the namespace's loopback, serving MX, A and null MX records for
# *.example.test; clsmtpd and the receiving servers (scripted_server.py on
# 127.0.0.x:25) run in the same namespace, so nothing leaves this machine.
# Cases: one MX; two MX whose preferred one refuses; no MX but an address
# (implicit MX); equal preferences; null MX and NXDOMAIN (bounced at once,
# with a failure notice); an IDN domain; a 451 (deferred, kept in the queue);
# neither MX nor address (bounced at once); a domain whose MX hosts loop back
# to clsmtpd (RFC 5321 5.1: bounced, or sent to a better MX); SERVFAIL
# (deferred: a stub server behind dnsmasq answers py.example.test); MX hosts
# without an address (all: bounced at once, 5.4.4; one with an address: sent
# there; one whose lookup fails: deferred, 4.4.3).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server_lib.sh"

srv_require
. "$(dirname "$0")/dns_lib.sh"

# ---- the namespace and its resolver -------------------------------------------
trap 'srv_stop; dns_ns_cleanup; lib_cleanup' EXIT
dns_ns_create clsmtpd-mx || done_testing

# clsmtpd and Python inside the namespace.
printf '#!/bin/sh\nexec %q %q "$@"\n' "$IN_NS" "$CLSMTPD" >"$T_DIR/clsmtpd-ns"
printf '#!/bin/sh\nexec %q %q "$@"\n' "$IN_NS" "$PYTHON" >"$T_DIR/python-ns"
chmod 755 "$T_DIR/clsmtpd-ns" "$T_DIR/python-ns"
CLSMTPD=$T_DIR/clsmtpd-ns

# A stub DNS server for py.example.test (dnsmasq forwards that zone to it):
# it answers what dnsmasq cannot be made to, SERVFAIL for one record type
# and NXDOMAIN for another of the same name. Per name, an rcode for some
# query types; other types: NODATA; other names: NXDOMAIN.
#   mxsf.py.example.test      MX: SERVFAIL
#   servfail.py.example.test  MX: NODATA; A, AAAA: SERVFAIL
#   halfsf.py.example.test    MX, A: NODATA; AAAA: SERVFAIL
#   gone.py.example.test      MX: NODATA; A, AAAA: NXDOMAIN
#   sfhost.py.example.test    MX: NODATA; A, AAAA: SERVFAIL (an MX host)
STUB_PORT=5353
cat >"$T_DIR/dnsstub.py" <<'PY'
import socket, struct, sys
port, ready = int(sys.argv[1]), sys.argv[2]
ZONE = {
    "mxsf.py.example.test": {15: 2},
    "servfail.py.example.test": {1: 2, 28: 2},
    "halfsf.py.example.test": {28: 2},
    "gone.py.example.test": {1: 3, 28: 3},
    "sfhost.py.example.test": {1: 2, 28: 2},
}
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", port))
open(ready, "w").write("ready\n")
while True:
    q, peer = s.recvfrom(512)
    i, labels = 12, []
    try:
        while q[i]:
            labels.append(q[i + 1:i + 1 + q[i]].decode("ascii").lower())
            i += 1 + q[i]
        qtype = struct.unpack("!H", q[i + 1:i + 3])[0]
    except (IndexError, struct.error, UnicodeDecodeError):
        continue
    name = ".".join(labels)
    rcode = ZONE[name].get(qtype, 0) if name in ZONE else 3
    # QR, AA, RD as asked, RA; the question echoed; no records.
    flags = 0x8000 | 0x0400 | (q[2] & 1) << 8 | 0x0080 | rcode
    s.sendto(q[:2] + struct.pack("!HHHHH", flags, 1, 0, 0, 0) + q[12:i + 5], peer)
PY
"$T_DIR/python-ns" "$T_DIR/dnsstub.py" "$STUB_PORT" "$T_DIR/dnsstub.ready" \
	>"$T_DIR/dnsstub.out" 2>&1 &
for _ in $(seq 50); do
	[ -s "$T_DIR/dnsstub.ready" ] && break
	sleep 0.1
done
[ -s "$T_DIR/dnsstub.ready" ] || {
	not_ok "the stub DNS server starts in the namespace"
	diag_file "$T_DIR/dnsstub.out"
}

#   one.example.test     MX 10 mx1.one (127.0.0.11)
#   two.example.test     MX 10 mx-a.two (127.0.0.12, nothing listens),
#                        MX 20 mx-b.two (127.0.0.13)
#   plain.example.test   no MX, A 127.0.0.14 (implicit MX)
#   temp.example.test    MX 10 mx.temp (127.0.0.15, answers 451 to RCPT)
#   eq.example.test      MX 10 a.eq (127.0.0.17, nothing listens),
#                        MX 10 b.eq (127.0.0.18): equal preference
#   nullmx.example.test  MX 0 "." (RFC 7505)
#   nosuch.example.test  NXDOMAIN (dnsmasq is authoritative for example.test)
#   bücher.example.test  MX 10 mx.xn--bcher-kva (127.0.0.16), in DNS as its
#                        A-label xn--bcher-kva.example.test (RFC 5890)
#   nodata.example.test  a TXT record only: the name exists, no MX, no A
#   mx.example.test      clsmtpd's own hostname (A 127.0.0.19, unused)
#   loopbest.example.test  MX 10 mx.example.test (clsmtpd by name),
#                          MX 20 mx.loopbest (127.0.0.20)
#   loopaddr.example.test  MX 10 me.loopaddr (A 127.0.0.1: clsmtpd's
#                          listener address), MX 20 mx.loopaddr (127.0.0.22)
#   loopeq.example.test    MX 10 mx.example.test, MX 10 mx.loopeq (127.0.0.23)
#   selfa.example.test     no MX, A 127.0.0.1 (implicit MX: clsmtpd)
#   loopworse.example.test MX 10 mx.loopworse (127.0.0.21),
#                          MX 20 mx.example.test
#   noaddr.example.test    MX 10 gone.noaddr (NXDOMAIN), MX 20 txt.noaddr
#                          (a TXT record only: NODATA): no MX host has an address
#   halfaddr.example.test  MX 10 gone.halfaddr (NXDOMAIN),
#                          MX 20 mx.halfaddr (127.0.0.24)
#   mixsf.example.test     MX 10 gone.mixsf (NXDOMAIN),
#                          MX 20 sfhost.py.example.test (SERVFAIL)
#   *.py.example.test      the stub server above
dns_start mx1.one.example.test --local=/example.test/ \
	--mx-host=one.example.test,mx1.one.example.test,10 \
	--host-record=mx1.one.example.test,127.0.0.11 \
	--mx-host=two.example.test,mx-a.two.example.test,10 \
	--mx-host=two.example.test,mx-b.two.example.test,20 \
	--host-record=mx-a.two.example.test,127.0.0.12 \
	--host-record=mx-b.two.example.test,127.0.0.13 \
	--host-record=plain.example.test,127.0.0.14 \
	--mx-host=temp.example.test,mx.temp.example.test,10 \
	--host-record=mx.temp.example.test,127.0.0.15 \
	--mx-host=eq.example.test,a.eq.example.test,10 \
	--mx-host=eq.example.test,b.eq.example.test,10 \
	--host-record=a.eq.example.test,127.0.0.17 \
	--host-record=b.eq.example.test,127.0.0.18 \
	--mx-host=nullmx.example.test,.,0 \
	--mx-host=xn--bcher-kva.example.test,mx.xn--bcher-kva.example.test,10 \
	--host-record=mx.xn--bcher-kva.example.test,127.0.0.16 \
	--txt-record=nodata.example.test,"no mail here" \
	--host-record=mx.example.test,127.0.0.19 \
	--mx-host=loopbest.example.test,mx.example.test,10 \
	--mx-host=loopbest.example.test,mx.loopbest.example.test,20 \
	--host-record=mx.loopbest.example.test,127.0.0.20 \
	--mx-host=loopaddr.example.test,me.loopaddr.example.test,10 \
	--mx-host=loopaddr.example.test,mx.loopaddr.example.test,20 \
	--host-record=me.loopaddr.example.test,127.0.0.1 \
	--host-record=mx.loopaddr.example.test,127.0.0.22 \
	--mx-host=loopeq.example.test,mx.example.test,10 \
	--mx-host=loopeq.example.test,mx.loopeq.example.test,10 \
	--host-record=mx.loopeq.example.test,127.0.0.23 \
	--host-record=selfa.example.test,127.0.0.1 \
	--mx-host=loopworse.example.test,mx.loopworse.example.test,10 \
	--mx-host=loopworse.example.test,mx.example.test,20 \
	--host-record=mx.loopworse.example.test,127.0.0.21 \
	--mx-host=noaddr.example.test,gone.noaddr.example.test,10 \
	--mx-host=noaddr.example.test,txt.noaddr.example.test,20 \
	--txt-record=txt.noaddr.example.test,"no address here" \
	--mx-host=halfaddr.example.test,gone.halfaddr.example.test,10 \
	--mx-host=halfaddr.example.test,mx.halfaddr.example.test,20 \
	--host-record=mx.halfaddr.example.test,127.0.0.24 \
	--mx-host=mixsf.example.test,gone.mixsf.example.test,10 \
	--mx-host=mixsf.example.test,sfhost.py.example.test,20 \
	--server=/py.example.test/127.0.0.1#$STUB_PORT ||
	{ not_ok "dnsmasq answers in the namespace"; done_testing; }
ok "dnsmasq answers in the namespace"

# ---- the receiving servers -----------------------------------------------------
# mx_server NAME ADDR [SCRIPT]: a scripted server on ADDR:25 in the
# namespace for one connection; its files are kept under NAME.
declare -A MX_PID MX_TR MX_MSGS
mx_server() {
	local script=${3:-'{}'}
	PYTHON=$T_DIR/python-ns start_scripted "$script" --host "$2" --port 25 \
		--connections 1 --timeout 40 || return 1
	MX_PID[$1]=$SCRIPTED_PID
	MX_TR[$1]=$SCRIPTED_TRANSCRIPT
	MX_MSGS[$1]=$SCRIPTED_MSGS
}
# mx_stop NAME: let it finish its session (bounded), then stop it.
mx_stop() {
	SCRIPTED_PID=${MX_PID[$1]}
	SCRIPTED_TRANSCRIPT=${MX_TR[$1]}
	stop_scripted
}
# mx_accepted NAME: how many messages it stored.
mx_accepted() {
	grep -c '^\* message-accepted' "${MX_TR[$1]}"
}

mx_server one 127.0.0.11 || not_ok "the MX of one.example.test starts"
mx_server twob 127.0.0.13 || not_ok "the second MX of two.example.test starts"
mx_server plain 127.0.0.14 || not_ok "the A host of plain.example.test starts"
mx_server eqb 127.0.0.18 || not_ok "the listening MX of eq.example.test starts"
mx_server idn 127.0.0.16 \
	'{"capabilities": ["PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES", "SMTPUTF8"]}' ||
	not_ok "the MX of bücher.example.test starts"
mx_server temp 127.0.0.15 '{"replies": {"rcpt": "451 4.3.0 Try again later"}}' ||
	not_ok "the MX of temp.example.test starts"
# Worse than clsmtpd (or as good): must never be contacted.
mx_server loopbest 127.0.0.20 || not_ok "the second MX of loopbest.example.test starts"
mx_server loopaddr 127.0.0.22 || not_ok "the second MX of loopaddr.example.test starts"
mx_server loopeq 127.0.0.23 || not_ok "the other MX of loopeq.example.test starts"
# Better than clsmtpd: takes the mail.
mx_server loopworse 127.0.0.21 || not_ok "the best MX of loopworse.example.test starts"
# The one MX host of halfaddr.example.test that has an address.
mx_server halfaddr 127.0.0.24 || not_ok "the second MX of halfaddr.example.test starts"

# ---- clsmtpd, relaying by MX ---------------------------------------------------
srv_users || not_ok "clsmtpd passwd creates the users file"
# A retry an hour later: a deferred recipient stays deferred for the test.
srv_config "relay_mode mx
retry_min 1h
retry_max 2h
relay_timeout 10s"
# Inside the namespace ::1 may be absent: the IPv4 listeners are enough.
sed -i '/^listen \[::1\]/d' "$SRV_CONF"
srv_start || {
	not_ok "clsmtpd starts in the namespace"
	done_testing
}
check_grep "the relay agent delivers to MX hosts" 'relay agent: direct delivery to MX hosts' "$SRV_DIR/log"

# submit MARK TO: from alice@example.org (trusted 127.0.0.2, plain port)
# inside the namespace; prints the queue ID, or refused:CODE.
submit() {
	SRV_SUBMIT_PYTHON="$T_DIR/python-ns" srv_submit --ehlo mx-test.example --subject "$1" \
		--to "$2" --refused-ok
}

# notice MARK: the failure notice about MARK in alice's Maildir (10 s at
# most): its From, the queue ID it reports, then the recipient's
# Final-Recipient, Action, Status and Diagnostic-Code, one per line.
notice() {
	local i f=
	for ((i = 0; i < 100; i++)); do
		f=$(grep -l "^Subject: Undelivered Mail" "$SRV_DIR/mail/alice/new/"* 2>/dev/null |
			xargs -r grep -lF -- "$1" 2>/dev/null | head -n1)
		[ -n "$f" ] && break
		sleep 0.1
	done
	[ -n "$f" ] || return 0
	"$PYTHON" - "$f" <<'PY'
import email, email.policy, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
ds = [p for p in m.walk() if p.get_content_type() == "message/delivery-status"]
print(m["From"])
if not ds:
    print("no delivery-status part")
else:
    msg, r = ds[0].get_payload()[0], ds[0].get_payload()[1]
    print(msg["X-Clsmtpd-Queue-ID"])
    for h in ("Final-Recipient", "Action", "Status", "Diagnostic-Code"):
        print(" ".join(str(r[h]).split()))
PY
}

# check_notice NAME MARK QID RCPT STATUS REASON: a notice from the mailer
# daemon about QID: RCPT failed with STATUS (an ERE), and REASON (an ERE)
# in its Diagnostic-Code.
check_notice() {
	local got head
	got=$(notice "$2")
	head=$(printf 'Mail Delivery System <MAILER-DAEMON@mx.example.test>\n%s\nrfc822; %s\nfailed' "$3" "$4")
	if [ "$(sed -n 1,4p <<<"$got")" = "$head" ] &&
		sed -n 5p <<<"$got" | grep -Eqx -- "$5" &&
		sed -n 6p <<<"$got" | grep -Eq -- "$6"; then
		ok "$1"
	else
		not_ok "$1" "expected a notice about $3: $4 failed, Status /$5/, reason /$6/; got:" \
			"${got:-(no notice)}"
	fi
}

declare -A MARK QID
for c in one two plain eq nullmx nosuch bücher temp nodata gone.py loopbest loopaddr loopeq \
	selfa loopworse servfail.py halfsf.py mxsf.py noaddr halfaddr mixsf; do
	MARK[$c]=$(unique_mark)
	QID[$c]=$(submit "${MARK[$c]}" "${MARK[$c]}@$c.example.test")
	case ${QID[$c]} in
	"" | refused:*) not_ok "clsmtpd queues the message to $c.example.test" "got '${QID[$c]}'" ;;
	esac
done

# ---- (1) one MX ------------------------------------------------------------------
q=${QID[one]} m=${MARK[one]}
check "one MX: sent to mx1.one.example.test:25" \
	srv_log_wait "$q: to=<$m@one\\.example\\.test>, relay=mx1\\.one\\.example\\.test:25, status=sent \\(host mx1\\.one\\.example\\.test said: 250"
check "one MX: the message is removed from the queue" srv_log_wait "$q: removed"
mx_stop one
check "one MX: it arrived once" test "$(mx_accepted one)" -eq 1
check_grep "one MX: envelope sender alice@example.org" '^C: MAIL FROM:<alice@example\.org>' "${MX_TR[one]}"
check_grep "one MX: envelope recipient as given" "^C: RCPT TO:<$m@one\\.example\\.test>" "${MX_TR[one]}"
check_grep "one MX: clsmtpd greets with its hostname" '^C: EHLO mx\.example\.test$' "${MX_TR[one]}"
check_grep "one MX: the stored message is ours" "^Subject: $m" "${MX_MSGS[one]}/msg-1.eml"
check_grep "the MX query went to the namespace's dnsmasq" 'query\[MX\] one\.example\.test from 127\.0\.0\.1' "$T_DIR/dnsmasq.log"

# ---- (2) two MX, the preferred one refuses connections -----------------------------
q=${QID[two]} m=${MARK[two]}
check "two MX: the preferred one (pref 10) is tried first and refuses" \
	srv_log_wait "relay: MX mx-a\\.two\\.example\\.test of two\\.example\\.test: .*(refused|connect)"
check "two MX: sent to the second (pref 20)" \
	srv_log_wait "$q: to=<$m@two\\.example\\.test>, relay=mx-b\\.two\\.example\\.test:25, status=sent"
check "two MX: the message is removed from the queue" srv_log_wait "$q: removed"
mx_stop twob
check "two MX: it arrived once" test "$(mx_accepted twob)" -eq 1
check_grep "two MX: envelope recipient as given" "^C: RCPT TO:<$m@two\\.example\\.test>" "${MX_TR[twob]}"

# ---- (3) no MX, an A record: the domain itself (RFC 5321 5.1) ----------------------
q=${QID[plain]} m=${MARK[plain]}
check "no MX: sent to the domain's own address" \
	srv_log_wait "$q: to=<$m@plain\\.example\\.test>, relay=plain\\.example\\.test:25, status=sent"
mx_stop plain
check "no MX: it arrived once" test "$(mx_accepted plain)" -eq 1
check_grep "no MX: envelope recipient as given" "^C: RCPT TO:<$m@plain\\.example\\.test>" "${MX_TR[plain]}"

# ---- two MX of equal preference (tried in random order), one down -------------------
q=${QID[eq]} m=${MARK[eq]}
check "equal preference: sent to the one that listens, whichever came first" \
	srv_log_wait "$q: to=<$m@eq\\.example\\.test>, relay=b\\.eq\\.example\\.test:25, status=sent"
mx_stop eqb
check "equal preference: it arrived once" test "$(mx_accepted eqb)" -eq 1

# ---- (4) null MX and a domain that does not exist: permanent --------------------------
# relay_mx.c's texts begin with their RFC 3463 code; dsn_status makes it the
# notice's Status (RFC 7505 X.1.10 for null MX, X.1.2 for NXDOMAIN).
ST_NULLMX='5\.1\.10'
ST_NXDOMAIN='5\.1\.2'
q=${QID[nullmx]} m=${MARK[nullmx]}
check "null MX: bounced at once, no host tried" \
	srv_log_wait "$q: to=<$m@nullmx\\.example\\.test>, relay=none, status=bounced \\(.*null MX"
# RFC 7505 4.3: X.1.10, "Recipient address has null MX".
check_notice "null MX: a failure notice to the sender, Status 5.1.10" "$m" "$q" \
	"$m@nullmx.example.test" "$ST_NULLMX" '^X-clsmtpd; 5\.1\.10 .*null MX'
check "null MX: the notice is sent from <>" \
	srv_log_wait ": from=<>, size=[0-9]+, nrcpt=1 \\(failure notice about $q\\)"
check "null MX: the message is removed from the queue" srv_log_wait "$q: removed"
q=${QID[nosuch]} m=${MARK[nosuch]}
check "NXDOMAIN: bounced at once, no host tried" \
	srv_log_wait "$q: to=<$m@nosuch\\.example\\.test>, relay=none, status=bounced \\(.*does not exist"
# RFC 3463 X.1.2: "Bad destination system address ... does not exist".
check_notice "NXDOMAIN: a failure notice to the sender, Status 5.1.2" "$m" "$q" \
	"$m@nosuch.example.test" "$ST_NXDOMAIN" '^X-clsmtpd; 5\.1\.2 .*does not exist'
check "NXDOMAIN: the notice is sent from <>" \
	srv_log_wait ": from=<>, size=[0-9]+, nrcpt=1 \\(failure notice about $q\\)"
check "NXDOMAIN: the message is removed from the queue" srv_log_wait "$q: removed"

# ---- an internationalised domain: the MX query asks for its A-label ------------------
q=${QID[bücher]} m=${MARK[bücher]}
check "IDN: sent to the MX of the A-label" \
	srv_log_wait "$q: to=<$m@bücher\\.example\\.test>, relay=mx\\.xn--bcher-kva\\.example\\.test:25, status=sent"
mx_stop idn
check "IDN: it arrived once" test "$(mx_accepted idn)" -eq 1
check_grep "IDN: the recipient is passed on in UTF-8 (SMTPUTF8)" \
	"^C: RCPT TO:<$m@b\\\\xc3\\\\xbccher\\.example\\.test>" "${MX_TR[idn]}"
check_grep "IDN: the MX query was for the A-label" 'query\[MX\] xn--bcher-kva\.example\.test from' "$T_DIR/dnsmasq.log"

# ---- (5) the only MX answers 451: deferred, kept --------------------------------------
q=${QID[temp]} m=${MARK[temp]}
check "451 from the only MX: deferred" \
	srv_log_wait "$q: to=<$m@temp\\.example\\.test>, relay=mx\\.temp\\.example\\.test:25, status=deferred \\(host mx\\.temp\\.example\\.test said: 451 4\\.3\\.0"
mx_stop temp
check "451: nothing was stored by the MX" test "$(mx_accepted temp)" -eq 0
"$CLSMTPD" -q -f "$SRV_CONF" >"$T_DIR/q.out" 2>&1
if grep -qF "$q" "$T_DIR/q.out" && grep -Eq "$m@temp\\.example\\.test" "$T_DIR/q.out" &&
	grep -q 'relay  deferred, 1 attempt, next' "$T_DIR/q.out"; then
	ok "451: clsmtpd -q shows the message, deferred after 1 attempt"
else
	not_ok "451: clsmtpd -q shows the message, deferred after 1 attempt"
	diag_file "$T_DIR/q.out"
fi
check_no_grep "451: no failure notice was sent" "$m" <(cat "$SRV_DIR/mail/alice/new/"* 2>/dev/null)
if [ "$(grep -c '^\* connect' "${MX_TR[temp]}")" -eq 1 ]; then
	ok "451: one connection, no retry before retry_min"
else
	not_ok "451: one connection, no retry before retry_min"
fi

# ---- (6) neither MX nor address: as final as NXDOMAIN (RFC 5321 5.1) ------------------
# Postfix: "Host or domain name not found"; RFC 3463 X.1.2.
q=${QID[nodata]} m=${MARK[nodata]}
check "no MX, no A (NODATA): bounced at once, no host tried" \
	srv_log_wait "$q: to=<$m@nodata\\.example\\.test>, relay=none, status=bounced \\(5\\.1\\.2 .*neither MX nor address"
check_notice "no MX, no A (NODATA): a failure notice to the sender, Status 5.1.2" "$m" "$q" \
	"$m@nodata.example.test" "$ST_NXDOMAIN" '^X-clsmtpd; 5\.1\.2 .*neither MX nor address'
check "no MX, no A (NODATA): the message is removed from the queue" srv_log_wait "$q: removed"
check_grep "no MX, no A: the implicit MX's address was asked for" \
	'query\[A\] nodata\.example\.test from 127\.0\.0\.1' "$T_DIR/dnsmasq.log"
q=${QID[gone.py]} m=${MARK[gone.py]}
check "no MX, then NXDOMAIN for the address: bounced at once" \
	srv_log_wait "$q: to=<$m@gone\\.py\\.example\\.test>, relay=none, status=bounced \\(5\\.1\\.2 .*neither MX nor address"
check_notice "no MX, NXDOMAIN for the address: a failure notice, Status 5.1.2" "$m" "$q" \
	"$m@gone.py.example.test" "$ST_NXDOMAIN" '^X-clsmtpd; 5\.1\.2 '

# ---- (7) the local host among the MX hosts (RFC 5321 5.1) ----------------------------
# Only hosts strictly preferred to clsmtpd may be used; none left: the mail
# would loop. RFC 3463 X.4.6 "Routing loop detected"; Postfix's words.
ST_LOOP='5\.4\.6'
for c in loopbest loopaddr loopeq selfa; do
	q=${QID[$c]} m=${MARK[$c]}
	case $c in
	loopbest) what="the best MX is clsmtpd's hostname, a worse one exists" ;;
	loopaddr) what="the best MX has clsmtpd's listener address, a worse one exists" ;;
	loopeq) what="clsmtpd and another MX share the best preference" ;;
	selfa) what="no MX, the domain's address is clsmtpd's" ;;
	esac
	check "loop ($what): bounced" \
		srv_log_wait "$q: to=<$m@$c\\.example\\.test>, relay=none, status=bounced \\(5\\.4\\.6 mail for $c\\.example\\.test loops back to myself\\)"
	check_notice "loop ($c): a failure notice to the sender, Status 5.4.6" "$m" "$q" \
		"$m@$c.example.test" "$ST_LOOP" "^X-clsmtpd; 5\\.4\\.6 mail for $c\\.example\\.test loops back to myself\$"
	check "loop ($c): the message is removed from the queue" srv_log_wait "$q: removed"
done
for c in loopbest loopaddr loopeq; do
	mx_stop $c
	if grep -q '^\* connect' "${MX_TR[$c]}"; then
		not_ok "loop ($c): the MX not preferred to clsmtpd was not contacted"
		diag_file "${MX_TR[$c]}"
	else
		ok "loop ($c): the MX not preferred to clsmtpd was not contacted"
	fi
done
q=${QID[loopworse]} m=${MARK[loopworse]}
check "clsmtpd a worse MX: sent to the better one" \
	srv_log_wait "$q: to=<$m@loopworse\\.example\\.test>, relay=mx\\.loopworse\\.example\\.test:25, status=sent"
check "clsmtpd a worse MX: the message is removed from the queue" srv_log_wait "$q: removed"
mx_stop loopworse
check "clsmtpd a worse MX: it arrived once" test "$(mx_accepted loopworse)" -eq 1
check_grep "clsmtpd a worse MX: envelope recipient as given" \
	"^C: RCPT TO:<$m@loopworse\\.example\\.test>" "${MX_TR[loopworse]}"

# ---- (8) the DNS did not answer (SERVFAIL): deferred, never bounced (4.4.3) -----------
for c in servfail.py halfsf.py mxsf.py; do
	q=${QID[$c]} m=${MARK[$c]}
	case $c in
	servfail.py) what="SERVFAIL for A and AAAA of a domain without MX" re='address' ;;
	halfsf.py) what="NODATA for A, SERVFAIL for AAAA, no MX" re='address' ;;
	mxsf.py) what="SERVFAIL for the MX" re='MX' ;;
	esac
	check "DNS temporary ($what): deferred, 4.4.3" \
		srv_log_wait "$q: to=<$m@${c//./\\.}\\.example\\.test>, relay=none, status=deferred \\(4\\.4\\.3 DNS: no answer for the $re of "
done
for c in servfail.py halfsf.py mxsf.py; do
	check_no_grep "DNS temporary ($c): not bounced" "${QID[$c]}: .*status=bounced" "$SRV_DIR/log"
	check_no_grep "DNS temporary ($c): no failure notice" "${MARK[$c]}" \
		<(cat "$SRV_DIR/mail/alice/new/"* 2>/dev/null)
done
"$CLSMTPD" -q -f "$SRV_CONF" >"$T_DIR/q2.out" 2>&1
n=0
for c in servfail.py halfsf.py mxsf.py; do
	grep -qF "${QID[$c]}" "$T_DIR/q2.out" && n=$((n + 1))
done
if [ "$n" -eq 3 ]; then
	ok "DNS temporary: the three messages wait in the queue"
else
	not_ok "DNS temporary: the three messages wait in the queue"
	diag_file "$T_DIR/q2.out"
fi
check_grep "the stub server was asked (dnsmasq forwarded py.example.test)" \
	'query\[AAAA\] halfsf\.py\.example\.test from 127\.0\.0\.1' "$T_DIR/dnsmasq.log"

# ---- (9) MX hosts without an address (NXDOMAIN or NODATA for A and AAAA) --------------
# None has one: as final as a domain without address (Postfix: "Host or
# domain name not found"), RFC 3463 X.4.4 "Unable to route".
ST_NOADDR='5\.4\.4'
q=${QID[noaddr]} m=${MARK[noaddr]}
check "no MX host with an address: bounced at once, 5.4.4" \
	srv_log_wait "$q: to=<$m@noaddr\\.example\\.test>, relay=none, status=bounced \\(5\\.4\\.4 DNS: no MX host of noaddr\\.example\\.test has an address\\)"
check_notice "no MX host with an address: a failure notice to the sender, Status 5.4.4" \
	"$m" "$q" "$m@noaddr.example.test" "$ST_NOADDR" \
	'^X-clsmtpd; 5\.4\.4 DNS: no MX host of noaddr\.example\.test has an address$'
check "no MX host with an address: the message is removed from the queue" \
	srv_log_wait "$q: removed"
check_grep "no MX host with an address: the NXDOMAIN host's address was asked for" \
	'query\[A\] gone\.noaddr\.example\.test from 127\.0\.0\.1' "$T_DIR/dnsmasq.log"
check_grep "no MX host with an address: the NODATA host's address was asked for" \
	'query\[A\] txt\.noaddr\.example\.test from 127\.0\.0\.1' "$T_DIR/dnsmasq.log"
check_no_grep "no MX host with an address: no connection was attempted" \
	'relay: MX .* of noaddr\.example\.test|relay=[a-z.]*noaddr\.example\.test:25' "$SRV_DIR/log"
# One without an address, one with: the mail goes to the one with.
q=${QID[halfaddr]} m=${MARK[halfaddr]}
check "one MX host without an address, one with: sent to the one with" \
	srv_log_wait "$q: to=<$m@halfaddr\\.example\\.test>, relay=mx\\.halfaddr\\.example\\.test:25, status=sent"
check "one MX host without an address, one with: the message is removed from the queue" \
	srv_log_wait "$q: removed"
mx_stop halfaddr
check "one MX host without an address, one with: it arrived once" \
	test "$(mx_accepted halfaddr)" -eq 1
check_grep "one MX host without an address, one with: envelope recipient as given" \
	"^C: RCPT TO:<$m@halfaddr\\.example\\.test>" "${MX_TR[halfaddr]}"
# One without an address, one whose lookup the DNS did not answer: wait.
q=${QID[mixsf]} m=${MARK[mixsf]}
check "one MX host without an address, one SERVFAIL: deferred, 4.4.3" \
	srv_log_wait "$q: to=<$m@mixsf\\.example\\.test>, relay=none, status=deferred \\(4\\.4\\.3 DNS: no answer for the address of sfhost\\.py\\.example\\.test, MX of mixsf\\.example\\.test\\)"
check_no_grep "one MX host without an address, one SERVFAIL: not bounced" \
	"$q: .*status=bounced" "$SRV_DIR/log"
check_no_grep "one MX host without an address, one SERVFAIL: no failure notice" "$m" \
	<(cat "$SRV_DIR/mail/alice/new/"* 2>/dev/null)
"$CLSMTPD" -q -f "$SRV_CONF" >"$T_DIR/q3.out" 2>&1
if grep -qF "$q" "$T_DIR/q3.out" && grep -q "$m@mixsf\.example\.test" "$T_DIR/q3.out"; then
	ok "one MX host without an address, one SERVFAIL: the message waits in the queue"
else
	not_ok "one MX host without an address, one SERVFAIL: the message waits in the queue"
	diag_file "$T_DIR/q3.out"
fi
check_grep "one MX host without an address, one SERVFAIL: the stub server was asked" \
	'query\[A\] sfhost\.py\.example\.test from 127\.0\.0\.1' "$T_DIR/dnsmasq.log"

check_no_grep "no error in clsmtpd's log" 'error|panic|abort' "$SRV_DIR/log"
srv_stop
done_testing
