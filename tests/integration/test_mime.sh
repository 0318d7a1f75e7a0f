#!/usr/bin/env bash
# test_mime.sh - MIME messages through the real Postfix, read back from its
# Maildir by Python's email package (strict default policy, no defects;
# tests/integration/mime_check.py): Japanese in ISO-2022-JP and UTF-8,
# attachments of many sizes (binary, from a file and from standard input,
# RFC 2231 names), HTML alternative, Cc/Bcc/Reply-To/-H/In-Reply-To, random
# UTF-8 text with dot and "From " lines and very long lines through BDAT and
# DATA, --raw, SMTPUTF8 addresses; and the errors that stop a mail before
# anything is sent.
. "$(dirname "$0")/lib.sh"
require_client

CHECKER=$LIB_ROOT/tests/integration/mime_check.py
AUTH=(-M localhost -U "$SASL_USER" -A auto -r "$PW" "${TRUST[@]}")
SUB=(-P "$POSTFIX_SUBMISSION_PORT")
NOCHUNK=(-Z smtps -P "$POSTFIX_SMTPS_NOCHUNK_PORT")

# mime_check NAME CASEDIR: copy $MAILFILE to CASEDIR/msg and run the reader
# on it (CASEDIR/expect.json says what it must find).
mime_check() {
	cp "$MAILFILE" "$2/msg"
	if "$PYTHON" "$CHECKER" "$2" >"$2/check.out" 2>&1; then
		ok "$1"
	else
		not_ok "$1"
		diag_file "$2/check.out" 20
	fi
}

# expect DIR JSON: write DIR/expect.json.
expect() {
	printf '%s\n' "$2" >"$1/expect.json"
}

# pyrandom FILE SEED KIND: fixed-seed test data from Python.
#   utf8: random UTF-8 text (CJK, kana, emoji, combining marks, Latin) with
#         lines starting with ".", "..", "From ", one line of 5000 characters
#   bin N: N random octets
pyrandom() {
	"$PYTHON" - "$@" <<'EOF'
import random, sys
path, seed, kind = sys.argv[1], int(sys.argv[2]), sys.argv[3]
r = random.Random(seed)
if kind == "bin":
    open(path, "wb").write(bytes(r.randrange(256) for _ in range(int(sys.argv[4]))))
    sys.exit(0)
ranges = [(0x20, 0x7e), (0xa0, 0x24f), (0x300, 0x36f), (0x3041, 0x30f6), (0x4e00, 0x9fa0),
          (0x1f300, 0x1f64f), (0xac00, 0xd7a3)]
lines = []
for i in range(200):
    a, b = ranges[r.randrange(len(ranges))]
    line = "".join(chr(r.randint(a, b)) for _ in range(r.randrange(0, 60)))
    lines.append(r.choice(["", ".", "..", "From ", " ", ""]) + line)
lines.insert(50, "".join(chr(r.randint(0x4e00, 0x9fa0)) for _ in range(5000)))
lines.insert(60, ".")
open(path, "w", encoding="utf-8").write("\n".join(lines) + "\n")
EOF
}

# ---- Japanese, ISO-2022-JP, with attachments and every header option ------
mark=$(unique_mark)
d=$T_DIR/jis
mkdir -p "$d"
subject="【障害通知】サーバー監視システムからのお知らせ：ディスク使用率が閾値を超えました $mark"
printf '監視対象のディスク使用率が 95%% を超えました。\n.\nFrom ログを確認してください。\n' >"$d/text"
for n in 0 1 2 3 57 58 76 1000 65537; do
	pyrandom "$d/bin$n.bin" "$n" bin "$n"
done
printf 'ログ 1 行目\n2 行目\n' >"$d/log"
run_client "${SUB[@]}" "${AUTH[@]}" -F alice@example.test -N "監視 システム" \
	-T "jis-$mark@example.test" --cc "cc-$mark@example.test" --bcc "bcc-$mark@example.test" \
	--reply-to "運用チーム <ops@example.test>" -H "X-Priority: 1" --in-reply-to "<prev-$mark@example.test>" \
	-c iso-2022-jp -s "$subject" \
	--attach "$d/bin0.bin" --attach "$d/bin1.bin" --attach "$d/bin2.bin" --attach "$d/bin3.bin" \
	--attach "$d/bin57.bin" --attach "$d/bin58.bin" --attach "$d/bin76.bin" --attach "$d/bin1000.bin" \
	--attach "$d/bin65537.bin" \
	--attach "$d/log" --attach-name "障害ログ 2024年度 第3四半期 サーバー監視システム 詳細.log" \
	"$(cat "$d/text")"
check_rc "ISO-2022-JP message with 10 attachments, Cc and Bcc exits 0" 0
if mail_wait "jis-$mark@example.test" 15; then
	atts=$(for n in 0 1 2 3 57 58 76 1000 65537; do printf '{"file": "bin%s.bin", "name": "bin%s.bin", "type": "application/octet-stream"},' "$n" "$n"; done)
	expect "$d" "{\"subject\": \"$subject\", \"from_name\": \"監視 システム\",
	  \"reply_to_name\": \"運用チーム\", \"text\": \"text\", \"charset\": \"ISO-2022-JP\",
	  \"cte\": \"7bit\", \"absent\": [\"Bcc\"], \"headers\": {\"X-Priority\": \"1\",
	  \"In-Reply-To\": \"<prev-$mark@example.test>\", \"Cc\": \"cc-$mark@example.test\"},
	  \"attachments\": [$atts {\"file\": \"log\", \"name\": \"障害ログ 2024年度 第3四半期 サーバー監視システム 詳細.log\", \"type\": \"text/plain\"}]}"
	mime_check "ISO-2022-JP message read back: subject, names, text, 10 attachments byte for byte" "$d"
	check_grep "ISO-2022-JP subject is B-encoded ISO-2022-JP words" '^Subject: =\?ISO-2022-JP\?B\?' "$MAILFILE"
	check_no_grep "no Bcc field in the delivered header" '^[Bb][Cc][Cc]:' "$MAILFILE"
	check "the header and the text part are 7bit" \
		"$PYTHON" -c 'import sys; d=open(sys.argv[1],"rb").read(); sys.exit(any(b>127 for b in d))' "$MAILFILE"
	if mail_wait_count "prev-$mark@example.test" 3; then
		for r in "jis-$mark" "cc-$mark" "bcc-$mark"; do
			check "$r got its copy (To, Cc, Bcc)" grep -lqx "Delivered-To: $r@example.test" $MAILFILES
		done
	else
		not_ok "To, Cc and Bcc recipients each get a copy" "found $(mail_count "prev-$mark@example.test")"
	fi
else
	not_ok "ISO-2022-JP message is delivered"
	client_diag
fi

# ---- random UTF-8 text through BDAT and through DATA ----------------------
for port in submission nochunk; do
	mark=$(unique_mark)
	d=$T_DIR/utf8-$port
	mkdir -p "$d"
	pyrandom "$d/text" 5322 utf8
	if [ $port = submission ]; then args=("${SUB[@]}"); else args=("${NOCHUNK[@]}"); fi
	CLIENT_STDIN=$d/text run_client "${args[@]}" "${AUTH[@]}" -F alice@example.test \
		-N "Zoë 山田 😀" -T "utf8-$port-$mark@example.test" -s "ランダム $mark 😀 é"
	check_rc "random UTF-8 body with dot, From and 5000-character lines ($port) exits 0" 0
	if mail_wait "utf8-$port-$mark@example.test"; then
		expect "$d" "{\"subject\": \"ランダム $mark 😀 é\", \"from_name\": \"Zoë 山田 😀\",
		  \"text\": \"text\", \"charset\": \"UTF-8\"}"
		mime_check "random UTF-8 text read back byte for byte ($port)" "$d"
	else
		not_ok "random UTF-8 body is delivered ($port)"
		client_diag
	fi
done

# ---- 8bit when offered: Postfix offers 8BITMIME --------------------------
mark=$(unique_mark)
d=$T_DIR/eight
mkdir -p "$d"
printf 'Grüße aus Köln\nこんにちは\n' >"$d/text"
run_client -v "${SUB[@]}" "${AUTH[@]}" -F alice@example.test -T "eight-$mark@example.test" \
	-s "8bit $mark" "$(cat "$d/text")"
check_rc "UTF-8 body to a server with 8BITMIME exits 0" 0
check_grep "MAIL FROM declares BODY=8BITMIME" 'MAIL FROM:<alice@example.test> .*BODY=8BITMIME' "$ERR"
if mail_wait "eight-$mark@example.test"; then
	expect "$d" '{"text": "text", "cte": "8bit", "charset": "UTF-8"}'
	mime_check "8bit UTF-8 text read back" "$d"
fi

# ---- HTML alternative and an attachment from standard input -------------
mark=$(unique_mark)
d=$T_DIR/html
mkdir -p "$d"
printf '<html><body><h1>週報</h1><p>.</p><p>From here</p></body></html>\n' >"$d/html"
printf 'plain version\n' >"$d/text"
printf 'date,value\n2024-01-01,1\n' >"$d/csv"
CLIENT_STDIN=$d/csv run_client "${SUB[@]}" "${AUTH[@]}" -F alice@example.test \
	-T "html-$mark@example.test" -s "html $mark" --html "$d/html" \
	--attach - --attach-name "週報データ.csv" "$(cat "$d/text")"
check_rc "--html with --attach - (standard input) exits 0" 0
if mail_wait "html-$mark@example.test"; then
	expect "$d" '{"text": "text", "html": "html",
	  "attachments": [{"file": "csv", "name": "週報データ.csv", "type": "text/csv"}]}'
	mime_check "HTML alternative and the attachment from standard input read back" "$d"
	check_grep "the text and HTML are a multipart/alternative" '^Content-Type: multipart/alternative' "$MAILFILE"
else
	not_ok "--html message is delivered"
	client_diag
fi

# ---- empty body, only an attachment --------------------------------------
mark=$(unique_mark)
d=$T_DIR/empty
mkdir -p "$d"
: >"$d/text"
pyrandom "$d/b" 7 bin 4096
run_client "${NOCHUNK[@]}" "${AUTH[@]}" -F alice@example.test -T "empty-$mark@example.test" \
	-s "empty $mark" --attach "$d/b" --attach-name "データ.bin" ""
check_rc "empty body with one attachment (DATA) exits 0" 0
if mail_wait "empty-$mark@example.test"; then
	expect "$d" '{"text": "text", "attachments": [{"file": "b", "name": "データ.bin"}]}'
	mime_check "empty body and its attachment read back" "$d"
fi

# ---- --raw: sent as it is, Date and Message-ID added when missing ----------
mark=$(unique_mark)
d=$T_DIR/raw
mkdir -p "$d"
printf 'From: Raw Sender <alice@example.test>\nTo: raw-%s@example.test\nBcc: hidden@example.test\nSubject: raw %s\nMIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: 8bit\n\n.leading dot\n..two\nFrom the top\nこんにちは\n' "$mark" "$mark" >"$d/in"
printf '.leading dot\n..two\nFrom the top\nこんにちは\n' >"$d/text"
CLIENT_STDIN=$d/in run_client "${SUB[@]}" "${AUTH[@]}" -F alice@example.test -T "raw-$mark@example.test" --raw
check_rc "--raw message without Date and Message-ID exits 0" 0
if mail_wait "raw-$mark@example.test"; then
	expect "$d" "{\"subject\": \"raw $mark\", \"text\": \"text\", \"absent\": [\"Bcc\"]}"
	mime_check "--raw message read back, body as sent" "$d"
	check "--raw: one Date field was added" test "$(grep -c '^Date:' "$MAILFILE")" -eq 1
	check "--raw: one Message-ID field was added" test "$(grep -ci '^Message-ID:' "$MAILFILE")" -eq 1
fi
mark=$(unique_mark)
printf 'Date: Sun, 9 Sep 2018 22:41:21 +0900\r\nMessage-ID: <keep-%s@example.test>\r\nFrom: alice@example.test\r\nTo: raw2-%s@example.test\r\nSubject: raw2\r\n\r\nbody\r\n' "$mark" "$mark" >"$T_DIR/raw2"
CLIENT_STDIN=$T_DIR/raw2 run_client "${NOCHUNK[@]}" "${AUTH[@]}" -F alice@example.test -T "raw2-$mark@example.test" --raw
check_rc "--raw message with Date and Message-ID (DATA) exits 0" 0
if mail_wait "raw2-$mark@example.test"; then
	check "--raw keeps the message's own Message-ID" grep -qx "Message-ID: <keep-$mark@example.test>" "$MAILFILE"
	check "--raw keeps the message's own Date" grep -qx "Date: Sun, 9 Sep 2018 22:41:21 +0900" "$MAILFILE"
	check "--raw adds no second Date" test "$(grep -c '^Date:' "$MAILFILE")" -eq 1
fi

# ---- SMTPUTF8: Postfix offers it, addresses go as they are ---------------
mark=$(unique_mark)
run_client -v "${SUB[@]}" "${AUTH[@]}" -F alice@example.test -T "ユーザー-$mark@例え.test" \
	-s "utf8 addr $mark" "x"
check_rc "non-ASCII local part and domain with SMTPUTF8 offered exits 0" 0
check_grep "MAIL FROM asks for SMTPUTF8" 'MAIL FROM:<alice@example.test> .*SMTPUTF8' "$ERR"
check_grep "RCPT TO carries the UTF-8 address" "RCPT TO:<ユーザー-$mark@例え.test>" "$ERR"
if mail_wait "utf8 addr $mark"; then
	check_grep "the To field holds the UTF-8 address (RFC 6532)" "^To: <ユーザー-$mark@例え.test>" "$MAILFILE"
else
	not_ok "UTF-8 address is delivered"
	client_diag
fi

# ---- errors: nothing is sent ----------------------------------------------
sender=err-$(unique_mark)@example.test
run_client "${SUB[@]}" "${AUTH[@]}" -F "$sender" -T bob@example.test -c iso-2022-jp -s "丸数字 ①" "x"
check_rc "a character ISO-2022-JP lacks exits 65" 65
check_grep "the error names the character and the field" "subject: character U\\+2460 '①'" "$ERR"
run_client "${SUB[@]}" "${AUTH[@]}" -F "$sender" -T bob@example.test -H "Bcc: x@example.test" "x"
check_rc "-H Bcc: exits 65" 65
run_client "${SUB[@]}" "${AUTH[@]}" -F "$sender" -T bob@example.test -H $'X-A: 1\r\nX-B: 2' "x"
check_rc "-H with a line break exits 65" 65
run_client "${SUB[@]}" "${AUTH[@]}" -F "$sender" -T bob@example.test --attach /nonexistent/report.pdf "x"
check_rc "a missing attachment exits 74" 74
check_grep "the error names the file" 'cannot open attachment /nonexistent/report.pdf' "$ERR"
run_client "${SUB[@]}" "${AUTH[@]}" -F "$sender" -T bob@example.test --attach - "x"
check_rc "--attach - without --attach-name exits 64" 64
run_client "${SUB[@]}" "${AUTH[@]}" -F "$sender" -T bob@example.test --attach - --attach-name a.txt
check_rc "standard input as body and attachment at once exits 64" 64
run_client "${SUB[@]}" "${AUTH[@]}" -F "$sender" -T bob@example.test -c no-such-charset "x"
check_rc "an unknown charset exits 64" 64
check "none of the refused mails reached Postfix" mail_never_arrives "$sender" "$sender" 1

done_testing
