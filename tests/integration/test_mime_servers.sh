#!/usr/bin/env bash
# test_mime_servers.sh - the message fitted to what the server offers, shown
# with the scripted server (tests/fixtures/scripted_server.py): without
# SMTPUTF8 a non-ASCII domain goes as A-labels (envelope and header) and a
# non-ASCII local part stops the mail before MAIL FROM; without 8BITMIME no
# 8bit part and no BODY=8BITMIME; SIZE= is the exact size of a streamed
# message with attachments; a pipe attachment of unknown size still arrives.
. "$(dirname "$0")/lib.sh"
require_client

CHECKER=$LIB_ROOT/tests/integration/mime_check.py

# mime_check_msg NAME FILE CASEDIR: run the reader on FILE.
mime_check_msg() {
	cp "$2" "$3/msg"
	if "$PYTHON" "$CHECKER" "$3" >"$3/check.out" 2>&1; then
		ok "$1"
	else
		not_ok "$1"
		diag_file "$3/check.out" 20
	fi
}

PLAIN='{"capabilities": ["PIPELINING", "ENHANCEDSTATUSCODES", "SIZE 200000000"]}'
CHUNK='{"capabilities": ["PIPELINING", "CHUNKING", "8BITMIME", "SIZE 200000000"]}'

# ---- no SMTPUTF8: A-labels ------------------------------------------------
if start_scripted "$PLAIN"; then
	run_client -P "$SCRIPTED_PORT" -M 127.0.0.1 -F "alice@送信.example" -T "info@例え.jp" \
		--cc "carol@Bücher.example" -s "idn" "body"
	stop_scripted
	check_rc "non-ASCII domains without SMTPUTF8 exit 0" 0
	scripted_client_lines >"$T_DIR/idn.lines"
	check_grep "MAIL FROM uses the A-label" '^MAIL FROM:<alice@xn--vuq367m\.example>' "$T_DIR/idn.lines"
	check_no_grep "MAIL FROM does not ask for SMTPUTF8" 'SMTPUTF8' "$T_DIR/idn.lines"
	check_grep "RCPT TO uses the A-label" '^RCPT TO:<info@xn--r8jz45g\.jp>' "$T_DIR/idn.lines"
	check_grep "Cc RCPT TO uses the A-label" '^RCPT TO:<carol@xn--bcher-kva\.example>' "$T_DIR/idn.lines"
	check_grep "the To field uses the A-label" '^To: <info@xn--r8jz45g\.jp>' "$SCRIPTED_MSGS/msg-1.eml"
	check_grep "the From field uses the A-label" '^From: <alice@xn--vuq367m\.example>' "$SCRIPTED_MSGS/msg-1.eml"
	check "the whole message is ASCII" \
		"$PYTHON" -c 'import sys; sys.exit(any(b > 127 for b in open(sys.argv[1], "rb").read()))' \
		"$SCRIPTED_MSGS/msg-1.eml"
else
	not_ok "scripted server without SMTPUTF8 starts"
fi

# ---- no SMTPUTF8: a non-ASCII local part is refused before MAIL FROM ------
if start_scripted "$PLAIN"; then
	run_client -P "$SCRIPTED_PORT" -M 127.0.0.1 -F alice@example.test -T "ユーザー@例え.jp" "body"
	stop_scripted
	check_rc "non-ASCII local part without SMTPUTF8 exits 69" 69
	check_grep "the error names the address and the missing SMTPUTF8" \
		'<ユーザー@例え\.jp>: the local part is not ASCII and 127\.0\.0\.1 does not offer SMTPUTF8' "$ERR"
	scripted_client_lines >"$T_DIR/local.lines"
	check_no_grep "no MAIL FROM was sent" 'MAIL FROM' "$T_DIR/local.lines"
	check "no message reached the server" test "$(scripted_accepted)" -eq 0
else
	not_ok "scripted server without SMTPUTF8 starts"
fi

# ---- no 8BITMIME: UTF-8 text goes base64 or quoted-printable -------------
d=$T_DIR/no8
mkdir -p "$d"
printf 'こんにちは、世界\nGrüße\n' >"$d/text"
if start_scripted "$PLAIN"; then
	run_client -P "$SCRIPTED_PORT" -M 127.0.0.1 -F alice@example.test -T bob@example.test \
		-s "8bit?" "$(cat "$d/text")"
	stop_scripted
	check_rc "UTF-8 body to a server without 8BITMIME exits 0" 0
	scripted_client_lines >"$T_DIR/no8.lines"
	check_no_grep "no BODY=8BITMIME" 'BODY=8BITMIME' "$T_DIR/no8.lines"
	printf '{"text": "text", "seven_bit": true, "cte": "base64"}\n' >"$d/expect.json"
	mime_check_msg "the body is base64 and reads back" "$SCRIPTED_MSGS/msg-1.eml" "$d"
else
	not_ok "scripted server without 8BITMIME starts"
fi

# ---- CHUNKING + SIZE: the declared size is the size sent ------------------
d=$T_DIR/size
mkdir -p "$d"
head -c 300001 /dev/urandom >"$d/a.bin"
printf 'text\n' >"$d/text"
if start_scripted "$CHUNK"; then
	run_client -P "$SCRIPTED_PORT" -M 127.0.0.1 -F alice@example.test -T bob@example.test \
		-s "size" --attach "$d/a.bin" "text"
	stop_scripted
	check_rc "a 300 KB attachment through BDAT exits 0" 0
	size=$(scripted_client_lines | sed -n 's/.*MAIL FROM:<alice@example.test> SIZE=\([0-9]*\).*/\1/p')
	check "SIZE= ($size) is the size of the message received" \
		test "$size" = "$(stat -c %s "$SCRIPTED_MSGS/msg-1.eml")"
	printf '{"text": "text", "attachments": [{"file": "a.bin", "name": "a.bin"}]}\n' >"$d/expect.json"
	mime_check_msg "the attachment reads back byte for byte" "$SCRIPTED_MSGS/msg-1.eml" "$d"
else
	not_ok "scripted server with CHUNKING starts"
fi

# ---- a pipe attachment (size unknown: no SIZE=) ---------------------------
d=$T_DIR/pipe
mkdir -p "$d"
head -c 200000 /dev/urandom >"$d/p.bin"
printf 'see attached\n' >"$d/text"
if start_scripted "$CHUNK"; then
	timeout -k 2 30 "$CLSMTPC" -P "$SCRIPTED_PORT" -M 127.0.0.1 -F alice@example.test -T bob@example.test \
		-s pipe --attach - --attach-name p.bin "see attached" < <(cat "$d/p.bin") >"$T_DIR/pipe.out" 2>"$T_DIR/pipe.err"
	RC=$?
	ERR=$T_DIR/pipe.err
	stop_scripted
	check_rc "an attachment from a pipe exits 0" 0
	scripted_client_lines >"$T_DIR/pipe.lines"
	check_no_grep "no SIZE= when the size is unknown" 'SIZE=' "$T_DIR/pipe.lines"
	printf '{"text": "text", "attachments": [{"file": "p.bin", "name": "p.bin"}]}\n' >"$d/expect.json"
	mime_check_msg "the pipe attachment reads back byte for byte" "$SCRIPTED_MSGS/msg-1.eml" "$d"
else
	not_ok "scripted server with CHUNKING starts"
fi

done_testing
