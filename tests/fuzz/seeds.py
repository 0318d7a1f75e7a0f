#!/usr/bin/python3
"""seeds.py - (re)generate the seed corpora of the fuzz harnesses in
tests/fuzz/corpus/NAME/ from real material: the session transcripts in
tests/fuzz/transcripts/ (clsmtpc -v against the test Postfix and clsmtpd,
secrets redacted), the seed article's EHLO replies (tests/unit/
test_smtp_caps.c), the example configurations of the man pages, and the
known attack inputs (SMTP smuggling variants, open-relay tricks, header
injection). SASL seeds are whole, valid exchanges: the harnesses' nonces are
deterministic (fuzz_sasl.h), so this script runs the built harness with
FUZZ_SASL_TRACE=1 to read the other side's messages and computes the
answers (SCRAM proofs and signatures, DIGEST-MD5 response and rspauth,
CRAM-MD5). Run from the top of the tree after `make -f tests/fuzz/Makefile`:
    /usr/bin/python3 tests/fuzz/seeds.py [FUZZ_BUILD]
Standard library only. The output is committed; rerun when formats change.
"""

import base64
import glob
import hashlib
import hmac
import os
import re
import subprocess
import sys

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(TOP, "tests", "fuzz", "corpus")
BUILD = sys.argv[1] if len(sys.argv) > 1 else os.path.join(TOP, "build", "fuzz")
USER, PASSWORD, HOST = "fuzzuser", "Fuzz-Pw-9q", "mx.fuzz.test"
CB = bytes(range(32))  # FUZZ_SASL_CB in fuzz_sasl.h


def save(harness, name, data):
    d = os.path.join(OUT, harness)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogateescape")
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def b64(b):
    return base64.b64encode(b).decode()


# ---- transcripts -----------------------------------------------------------
def transcripts():
    out = []
    for path in sorted(glob.glob(os.path.join(TOP, "tests", "fuzz", "transcripts", "*.txt"))):
        server, client = [], []
        for line in open(path, encoding="utf-8", errors="replace"):
            m = re.match(r"^clsmtpc-\S+ (?:smtps|tls)?([<>-]): ?(.*)$", line.rstrip("\n"))
            if not m:
                continue
            kind, text = m.groups()
            if kind == "<":
                server.append(text)
            elif kind == ">":
                client.append(text)
        out.append((os.path.basename(path)[:-4], server, client))
    return out


def replies(lines):
    """Group server lines into replies."""
    cur, out = [], []
    for ln in lines:
        cur.append(ln)
        if len(ln) < 4 or ln[3] == " ":
            out.append(cur)
            cur = []
    return out


def caps_from_unit_test():
    src = open(os.path.join(TOP, "tests", "unit", "test_smtp_caps.c"), encoding="utf-8").read()
    out = []
    for m in re.finditer(r"EHLO\(&c,((?:\s*\"(?:[^\"\\]|\\.)*\",?)+)\)", src):
        out.append(re.findall(r"\"((?:[^\"\\]|\\.)*)\"", m.group(1)))
    return out


def reply_seeds(ts):
    n = 0
    for name, server, _ in ts:
        save("fuzz_reply", name, "".join(s + "\r\n" for s in server))
        for r in replies(server):
            if r[0].startswith("250-") or r[0].startswith("250 "):
                if len(r) > 2:
                    n += 1
                    save("fuzz_caps", "%s-ehlo%d" % (name, n), b"\x01" + "".join(s + "\r\n" for s in r).encode())
    for i, lines in enumerate(caps_from_unit_test()):
        text = "".join(s + "\r\n" for s in lines)
        save("fuzz_caps", "article-%02d" % i, b"\x00" + text.encode())
        save("fuzz_reply", "article-%02d" % i, text)
    hostile = {
        "nul": b"250-ok\r\n250 a\x00b\r\n",
        "long": b"250 " + b"x" * 3000 + b"\r\n",
        "endless": b"250-x\r\n" * 200 + b"250 end\r\n",
        "code-change": b"250-a\r\n550 b\r\n",
        "bad-codes": b"099 a\r\n600 b\r\n2500 c\r\n25\r\nabc\r\n250x\r\n",
        "bare": b"250\r\n354\r\n",
        "enhanced": b"550 5.1.1 <x>: no\r\n451-4.3.0 a\r\n451 4.3.0 b\r\n250 2.0.0 x\r\n",
        "lf-only": b"220 a\n250-b\n250 c\n",
        "injected-after-starttls": b"220 2.0.0 Ready to start TLS\r\n554 5.7.0 INJECTED\r\n250 ok\r\n",
    }
    for k, v in hostile.items():
        save("fuzz_reply", "hostile-" + k, v)
    save("fuzz_caps", "auth-equals", b"\x13250-x\r\n250-AUTH=LOGIN PLAIN\r\n250 AUTH PLAIN CRAM-MD5 SCRAM-SHA-256-PLUS XOAUTH2\r\n")


# ---- the server's command parser and session ---------------------------------
CMD_ATTACKS = [
    "MAIL FROM:<>", "MAIL FROM:<a@b.example> SIZE=100 BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=x+2By",
    "RCPT TO:<a@b.example> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;a+40b.example",
    "RCPT TO:<a@b.example> ORCPT=rfc822;x+0D+0AX-Injected:+20yes",
    "MAIL FROM:<a@b.example> ENVID=id+0D+0ABcc:+20victim@example.org",
    "RCPT TO:<user%other.test@example.org>", "RCPT TO:<\"user@other.test\"@example.org>",
    "RCPT TO:<@example.org:user@other.test>", "RCPT TO:<user@other.test@example.org>",
    "RCPT TO:<other.test!user@example.org>", "RCPT TO:<user@example.org.>",
    "RCPT TO:<user@[127.0.0.1]>", "RCPT TO:<\"a b\\\"c\"@example.org>",
    "RCPT TO:<$(touch /tmp/pwned)@example.org>", "RCPT TO:<`id`@example.org>",
    "MAIL FROM:<a;rm -rf /@example.org>", "MAIL FROM:<a|b@example.org>",
    "MAIL FROM: <a@b.example>", "MAIL FROM:a@b.example", "RCPT TO:<a@b.example>>",
    "RCPT TO:<a@xn--bcher-kva.example>", "RCPT TO:<\xc3\xa4@b\xc3\xbccher.example> ",
    "BDAT 100 LAST", "BDAT 0", "BDAT 99999999999999999999", "AUTH PLAIN AGZ1enp1c2VyAEZ1enotUHctOXE=",
    "AUTH SCRAM-SHA-256 =", "EHLO client.example", "HELO x", "STARTTLS", "DATA", "QUIT",
]


def cmd_seeds(ts):
    seen = set()
    for _, _, client in ts:
        for ln in client:
            if "*" in ln or not ln or ln in seen or not re.match(r"^[A-Z]{4}", ln):
                continue
            seen.add(ln)
    for ln in sorted(seen) + CMD_ATTACKS:
        save("fuzz_server_cmd", "cmd-%s" % hashlib.sha1(ln.encode("utf-8", "surrogateescape")).hexdigest()[:12], ln)


SMUGGLE = [b"\n.\n", b"\n.\r\n", b"\r.\r", b"\r\n.\r", b"\r.\r\n", b"\r\n.\n", b"\n.\r",
           b"\r\n\x00.\r\n", b"\r\n.\x00\r\n", b"\r\n \r\n.\r\n"]


def session_seeds(ts):
    msg = b"Subject: seed\r\nFrom: <a@b.example>\r\n\r\nhello\r\n..dot\r\n"
    base = b"EHLO client.example\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\n"
    sessions = {
        "data": base + b"DATA\r\n" + msg + b".\r\nQUIT\r\n",
        "bdat": base + b"BDAT %d LAST\r\n" % len(msg) + msg + b"QUIT\r\n",
        "bdat-two": base + b"BDAT 5\r\nhelloBDAT 0 LAST\r\nQUIT\r\n",
        "auth-toy": b"EHLO c\r\nAUTH TOY dXNlcg==\r\ncGFzcw==\r\n" + base[6 + 14:] + b"DATA\r\n" + msg + b".\r\n",
        "auth-toy-final": b"EHLO c\r\nAUTH TOY\r\nZg==\r\n\r\nMAIL FROM:<>\r\n",
        "auth-bad-b64": b"EHLO c\r\nAUTH TOY !!!\r\nAUTH TOY dXNlcg==\r\n*\r\nAUTH TOY dXNlcg==\r\nd=A\r\n",
        "starttls-inject": b"EHLO c\r\nSTARTTLS\r\nRSET\r\nMAIL FROM:<evil@x.example>\r\n",
        "rset-noop": b"EHLO c\r\nRSET\r\nNOOP\r\nVRFY x\r\nEXPN y\r\nHELP\r\nHELO c\r\nQUIT\r\n",
        "bare-lf": b"EHLO c\nMAIL FROM:<a@b.example>\n",
        "long-line": b"EHLO " + b"a" * 5000 + b"\r\nNOOP\r\n",
        "refused": b"EHLO c\r\nMAIL FROM:<refuse@b.example>\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<x@y.example>\r\nDATA\r\n",
    }
    for k, v in sessions.items():
        for flag in (0x05, 0x15, 0x41):
            save("fuzz_server_session", "%s-%02x" % (k, flag), bytes([flag]) + v)
    for i, s in enumerate(SMUGGLE):
        body = b"Subject: outer\r\n\r\nx" + s + b"MAIL FROM:<e@x.example>\r\nRCPT TO:<c@d.example>\r\nDATA\r\nSubject: smuggled\r\n\r\ny\r\n.\r\n"
        save("fuzz_server_session", "smuggle-%d" % i, b"\x00" + base + b"DATA\r\n" + body + b"QUIT\r\n")
        save("fuzz_server_session", "smuggle-norm-%d" % i, b"\x40" + base + b"DATA\r\n" + body + b"QUIT\r\n")
        for flag in (0x00, 0x02, 0x01, 0x14, 0x36):
            save("fuzz_server_data", "smuggle-%d-%02x" % (i, flag), bytes([flag]) + body)
    for name, _, client in ts:
        pre = [ln for ln in client if not ln.startswith("*")]
        text = "\r\n".join(ln for ln in pre if "*" not in ln) + "\r\n"
        save("fuzz_server_session", "transcript-" + name, b"\x15" + text.encode())
        save("fuzz_server_data", "transcript-" + name, b"\x00" + text.encode() + b".\r\n")


# ---- SASL: whole exchanges through the harnesses -------------------------------
def trace(harness, data):
    exe = os.path.join(BUILD, harness)
    tmp = os.path.join(BUILD, "seed-input")
    with open(tmp, "wb") as f:
        f.write(data)
    env = dict(os.environ, FUZZ_SASL_TRACE="1")
    p = subprocess.run([exe, tmp], env=env, capture_output=True)
    return [ln[3:] for ln in p.stderr.decode("latin-1").splitlines() if ln[:3] in ("C: ", "S: ")]


def scram_keys(hname, salt, it):
    sp = hashlib.pbkdf2_hmac(hname, PASSWORD.encode(), salt, it)
    ck = hmac.new(sp, b"Client Key", hname).digest()
    sk = hmac.new(sp, b"Server Key", hname).digest()
    return ck, hashlib.new(hname, ck).digest(), sk


def sasl_client_seeds():
    h = "fuzz_sasl_client"
    for idx, hname in ((4, "sha1"), (5, "sha256"), (6, "sha1"), (7, "sha256")):
        first = trace(h, bytes([idx]))[0]  # n,,n=fuzzuser,r=NONCE
        bare = first.split(",", 2)[2]
        cnonce = bare.split("r=", 1)[1]
        salt, it = b"seedsaltseedsalt", 4096
        sf = "r=%sSRVNONCE,s=%s,i=%d" % (cnonce, b64(salt), it)
        cf = trace(h, bytes([idx]) + sf.encode())[-1]
        without = cf.rsplit(",p=", 1)[0]
        _, _, sk = scram_keys(hname, salt, it)
        am = ("%s,%s,%s" % (bare, sf, without)).encode()
        sig = hmac.new(sk, am, hname).digest()
        save(h, "scram-%d-valid" % idx, bytes([idx]) + sf.encode() + b"\nv=" + b64(sig).encode())
        save(h, "scram-%d-wrong-proof" % idx, bytes([idx]) + sf.encode() + b"\nv=" + b64(bytes(len(sig))).encode())
        save(h, "scram-%d-error" % idx, bytes([idx]) + sf.encode() + b"\ne=invalid-proof")
        save(h, "scram-%d-huge-iterations" % idx, bytes([idx]) + sf.replace("i=4096", "i=4294967295").encode())
    chal = 'realm="%s",nonce="OA6MG9tEQGm2hh",qop="auth",charset=utf-8,algorithm=md5-sess' % HOST
    for authz, flag in (("", 0x03), ("other", 0x23)):
        resp = trace(h, bytes([flag]) + chal.encode())[-1]
        kv = dict(re.findall(r'([a-z-]+)="?([^",]*)"?', resp))
        a1 = hashlib.md5(("%s:%s:%s" % (USER, kv.get("realm", ""), PASSWORD)).encode()).digest()
        a1 += (":%s:%s" % (kv["nonce"], kv["cnonce"])).encode() + ((":" + authz).encode() if authz else b"")
        ha1 = hashlib.md5(a1).hexdigest()
        ha2 = hashlib.md5((":" + kv["digest-uri"]).encode()).hexdigest()
        rsp = hashlib.md5(("%s:%s:%s:%s:%s:%s" % (ha1, kv["nonce"], kv["nc"], kv["cnonce"], kv["qop"], ha2)).encode()).hexdigest()
        save(h, "digest-md5-valid-%02x" % flag, bytes([flag]) + chal.encode() + b"\nrspauth=" + rsp.encode())
    save(h, "digest-md5-wrong-rspauth", b"\x03" + chal.encode() + b"\nrspauth=" + b"0" * 32)
    save(h, "cram-md5", b"\x02<1896.697170952@postoffice.example.net>")
    save(h, "login", b"\x01Username:\nPassword:")
    save(h, "login-b64-text", b"\x11VXNlcm5hbWU6\nUGFzc3dvcmQ6")
    save(h, "plain-prompt", b"\x40")
    save(h, "oauthbearer-error", b'\x09{"status":"invalid_token","scope":"https://mail.google.com/"}\n')
    save(h, "xoauth2-error", b'\x08{"status":"400","schemes":"Bearer","scope":"https://mail.google.com/"}')
    save(h, "bad-base64", b"\x15!!!notbase64")


def sasl_server_seeds():
    h = "fuzz_sasl_server"
    cbflag = 0x20
    for idx, hname in ((4, "sha1"), (5, "sha256"), (6, "sha1"), (7, "sha256")):
        plus = idx >= 6
        flag = idx | (cbflag if plus else 0)
        gs2 = "p=tls-exporter,," if plus else "n,,"
        bare = "n=%s,r=seedclientnonce" % USER
        first = gs2 + bare
        sf = trace(h, bytes([flag]) + first.encode())[-1]
        attrs = dict(a.split("=", 1) for a in sf.split(","))
        salt, it = base64.b64decode(attrs["s"]), int(attrs["i"])
        c = b64(gs2.encode() + (CB if plus else b""))
        without = "c=%s,r=%s" % (c, attrs["r"])
        ck, st, _ = scram_keys(hname, salt, it)
        am = ("%s,%s,%s" % (bare, sf, without)).encode()
        csig = hmac.new(st, am, hname).digest()
        proof = bytes(a ^ b for a, b in zip(ck, csig))
        final = "%s,p=%s" % (without, b64(proof))
        save(h, "scram-%d-valid" % idx, bytes([flag]) + first.encode() + b"\n" + final.encode())
        save(h, "scram-%d-wrong-proof" % idx, bytes([flag]) + first.encode() + b"\n" + final[:-8].encode() + b"AAAAAAA=")
    chal = trace(h, b"\x43")[-1]
    kv = dict(re.findall(r'([a-z-]+)="?([^",]*)"?', chal))
    cnonce, nc, uri = "seedcnonce", "00000001", "smtp/" + HOST
    a1 = hashlib.md5(("%s:%s:%s" % (USER, HOST, PASSWORD)).encode()).digest() + (":%s:%s" % (kv["nonce"], cnonce)).encode()
    ha1 = hashlib.md5(a1).hexdigest()
    ha2 = hashlib.md5(("AUTHENTICATE:" + uri).encode()).hexdigest()
    rsp = hashlib.md5(("%s:%s:%s:%s:auth:%s" % (ha1, kv["nonce"], nc, cnonce, ha2)).encode()).hexdigest()
    resp = ('username="%s",realm="%s",nonce="%s",cnonce="%s",nc=%s,qop=auth,digest-uri="%s",response=%s,charset=utf-8'
            % (USER, HOST, kv["nonce"], cnonce, nc, uri, rsp))
    save(h, "digest-md5-valid", b"\x43" + resp.encode())
    save(h, "digest-md5-empty", b"K\n\n")
    chal = trace(h, b"\x42")[-1]
    digest = hmac.new(PASSWORD.encode(), chal.encode(), hashlib.md5).hexdigest()
    save(h, "cram-md5-valid", b"\x42" + ("%s %s" % (USER, digest)).encode())
    save(h, "plain-valid", b"\x00\x00" + USER.encode() + b"\x00" + PASSWORD.encode())
    save(h, "plain-authzid-other", b"\x00other\x00" + USER.encode() + b"\x00" + PASSWORD.encode())
    save(h, "plain-no-ir", b"\x40\x00" + USER.encode() + b"\x00" + PASSWORD.encode())
    save(h, "login-ir", b"\x01" + USER.encode() + b"\n" + PASSWORD.encode())
    save(h, "login-no-ir", b"\x41" + USER.encode() + b"\n" + PASSWORD.encode())
    save(h, "b64-text", b"\x10AGZ1enp1c2VyAEZ1enotUHctOXE=")


# ---- composition, addresses, codecs -------------------------------------------------
def compose_seeds():
    def fields(*f):
        return b"\x00".join(x.encode() for x in f)
    S = [
        (0x01, fields("alice@example.test", "Alice", "bob@example.test", "", "hello", "", "", "", "", "", "", "body\n")),
        (0x09, fields("a@example.test", "山田 太郎", "b@example.test", "c@example.test", "日本語の件名です、長い長い件名が続きます" * 3,
                      "X-Tag: 監視", "Priority: urgent", "Reply-To Name <r@example.test>", "<id1@x>", "<id1@x> <id2@y>", "",
                      "本文です。\r\n.dot line\r\n")),
        (0x0b, fields("a@example.test", "\"Quoted, Name\"", "b@example.test", "", "=?utf-8?B?Zm9v?= looks encoded", "", "", "", "", "",
                      "<p>html</p>", "text\r\n")),
        (0x05, fields("a@example.test", "", "b@example.test", "", "x" * 200, "X-Long: " + "y" * 1200, "", "", "", "", "", "z" * 3000)),
        (0x01, fields("a@example.test", "Evil\r\nBcc: victim@example.org", "b@example.test", "", "subj\r\nBcc: v@example.org",
                      "X-A: b\r\nBcc: v@example.org", "Bcc: v@example.org", "", "", "", "", "body")),
        (0x45, fields("a@b\xc3\xbccher.example", "Ünïcode", "\xc3\xa4@example.test", "", "Grüße", "", "", "", "", "", "", "äöü\n")),
        (0x11, fields("a@example.test", "", "b@example.test", "", "Привет", "", "", "", "", "", "", "Привет, мир\n")),
    ]
    for i, (flag, data) in enumerate(S):
        save("fuzz_compose", "compose-%d" % i, bytes([flag]) + data)


def addr_seeds():
    A = ["alice@example.test", "", "\"quoted local\"@example.test", "a.b+tag@sub.example.test",
         "user%other.test@example.org", "@example.org:user@other.test", "user@[127.0.0.1]",
         "a@b\xc3\xbccher.example", "\xe5\xb1\xb1\xe7\x94\xb0@example.jp", "Name <addr@example.test>",
         "\"Doe, John\" <j@example.test>", "a@x.test, b@y.test,,c@z.test", "a@b.example>\r\nRCPT TO:<c@d.example",
         "a@b.example> SIZE=1", "<>", "a@" + "b" * 250 + ".example", "x@xn--bcher-kva.example"]
    for i, a in enumerate(A):
        save("fuzz_addr", "addr-%02d" % i, a)


def codec_seeds():
    C = [b"", b"hello", b"\x00\x01\xfe\xff" * 20, "日本語テキスト\r\n".encode(), b"=3D=\r\nsoft", b"line\r\n.\r\nend",
         b"a\nb\rc\r\n", b"SGVsbG8gd29ybGQ=", b"x" * 200]
    for i, c in enumerate(C):
        save("fuzz_codec", "codec-%02d" % i, c)


# ---- configurations and password files -------------------------------------------------
def man_examples(page):
    text = open(os.path.join(TOP, "man", page), encoding="utf-8").read()
    out = []
    for m in re.finditer(r"^\.nf\n(.*?)^\.fi", text, re.M | re.S):
        block = re.sub(r"\\f[BIRP]", "", m.group(1)).replace("\\-", "-").replace("\\e", "\\")
        out.append("\n".join(ln for ln in block.splitlines() if not ln.startswith(".")) + "\n")
    return out


def config_seeds():
    for i, ex in enumerate(man_examples("clsmtpc.conf.5")):
        save("fuzz_config", "man-%02d" % i, ex)
    prov = os.path.join(TOP, "data", "providers.conf")
    if os.path.exists(prov):
        save("fuzz_config", "providers", open(prov, "rb").read())
    save("fuzz_config", "msmtprc", "defaults\nauth on\ntls on\ntls_trust_file /etc/ssl/certs/ca-certificates.crt\n\n"
         "account gmail\nhost smtp.gmail.com\nport 587\nfrom me@gmail.com\nuser me@gmail.com\npassword \"very secret\"\n\n"
         "account work : gmail\nhost mail.example.com\npasswordeval \"pass show work\"\n\naccount default : gmail\n")
    for i, ex in enumerate(man_examples("clsmtpd.conf.5")):
        save("fuzz_server_conf", "man-%02d" % i, ex)
    save("fuzz_server_conf", "test-config", open(os.path.join(TOP, "tests", "integration", "server_lib.sh"),
                                                 encoding="utf-8").read().split("<<CONF\n", 1)[1].split("\nCONF", 1)[0]
         .replace("$SRV_DIR", "/tmp/srv").replace("$FIXTURE_CERT", "/tmp/c.pem").replace("$FIXTURE_KEY", "/tmp/k.pem")
         .replace("$SRV_PORT_PLAIN", "2525").replace("$SRV_PORT_SUB", "2587").replace("$SRV_PORT_TLS", "2465")
         .replace("${1:-}", "") + "\n")


def password_seeds():
    save("fuzz_passwords", "passfile", b"\x01# user:server:password\nalice:mx.example.test:pass:with:colons\r\n"
         b"bob:other.example:Secret-Pw-1\n\nmalformed line without colons\n")
    save("fuzz_passwords", "passfile-nomatch", b"\x01carol:mx.example.test:pw\nalice:other:Secret-Pw-22\n")
    save("fuzz_passwords", "users", b"\x00# clsmtpd users\nalice scram=4096,c2FsdHNhbHRzYWx0c2FsdA==,"
         b"Yk6Z0q3c1o8xI8tVvBwOQ9m1Zqk=,VsBwLtXkX4bXt2sUuP7KkQZ9X8Q=,"
         b"6y3hR9nqk3o1x1l7VY8b3H7c3q0M1lQ0nK5Zb5oV3aE=,m4cQm1lQ0nK5Zb5oV3aE6y3hR9nqk3o1x1l7VY8b3H7=\n"
         b"bob scram=4096,c2FsdA==,a,b,c,d plain=Ym9iLVB3LTI=\n")
    clsmtpd = os.path.join(TOP, "build", "clsmtpd")
    if os.access(clsmtpd, os.X_OK):
        tmp = os.path.join(BUILD, "seed-users")
        if os.path.exists(tmp):
            os.unlink(tmp)
        for user, pw, extra in (("alice", "alice-Pw-1", []), ("bob", "bob-Pw-2", ["--plaintext"])):
            subprocess.run([clsmtpd, "passwd", "-u", tmp, "add", user] + extra, input=(pw + "\n").encode(),
                           capture_output=True)
        if os.path.exists(tmp):
            save("fuzz_passwords", "users-real", b"\x00" + open(tmp, "rb").read())


# ---- spool files -------------------------------------------------------------
SPOOL_QID = "0123456789ABCDEF0123"  # FUZZ_QID in fuzz_spool_env.c


def spool_seeds():
    """msg/QID files as clsmtpd writes them (docs/spool.md), each followed
    by the journal records the agents write (the harness reads the bytes
    after "data" as the journal)."""
    head = ("clsmtpd-spool 1\nid\t%s\ntime\t1764892800\nclient\t192.0.2.7\n"
            "helo\tlaptop.example\nauth\talice\n" % SPOOL_QID)
    one = head + ("from\talice@example.org\t-\n"
                  "rcpt\t0\tlocal\tbob@example.org\t/var/mail/bob/Maildir\t-\t-\ndata\n")
    two = head + ("from\talice@example.org\tBODY=8BITMIME RET=HDRS ENVID=QQ+2B1\n"
                  "rcpt\t0\trelay\tcarol@remote.example\t-\tSUCCESS,FAILURE\t"
                  "rfc822;carol+2Bx@remote.example\n"
                  "rcpt\t1\trelay\tdave@remote.example\t-\t-\t-\ndata\n")
    null = head.replace("auth\talice", "auth\t-") + (
        "from\t\t-\nrcpt\t0\tlocal\talice@example.org\t/srv/alice\t-\t-\ndata\n")
    utf8 = head + ("from\tjos\u00e9@example.org\tSMTPUTF8\n"
                   "rcpt\t0\trelay\t\u00fc@b\u00fccher.example\t-\tNEVER\t-\ndata\n")
    body = "Received: by mail.example (clsmtpd)\r\nSubject: hi\r\n\r\nhello\r\n"
    save("fuzz_spool_env", "local-delivered", one + "D\t0\t1764892801\t0\tdelivered to maildir\n")
    save("fuzz_spool_env", "relay-journal", two +
         "T\t0\t1764892801\t1764893101\thost smarthost.isp.example said: 451 4.3.0 try "
         "later (in reply to RCPT TO)\n"
         "F\t1\t1764892801\t0\thost smarthost.isp.example said: 550 5.1.1 <dave@remote."
         "example>: User unknown (in reply to RCPT TO)\n"
         "B\t1\t1764892802\t0\tfailure notice queued as 0123456789ABCDEF0124\n"
         "F\t0\t1765324801\t0\tdelivery time expired after 5d (31 attempts); last error: "
         "host smarthost.isp.example said: 451 4.3.0 try later (in reply to RCPT TO)\n"
         "B\t0\t1765324802\t0\tno failure notice: the recipient asked for none (NOTIFY)\n"
         "T\t0\t17653")
    save("fuzz_spool_env", "null-sender", null + body +
         "B\t0\t1764892801\t0\tno failure notice: the sender is <> (never a notice about "
         "a notice)\n")
    save("fuzz_spool_env", "utf8", utf8 + "F\t0\t1764892801\t0\t5.1.2 no such domain: "
         "b\u00fccher.example\n")
    save("fuzz_spool_env", "relay-journal-fields", two +
         "T\t0\t1764892801\t1764893101\t4.3.0\tRCPT TO\t451\tsmarthost.isp.example\t"
         "451 4.3.0 try later\t\t\n"
         "F\t1\t1764892801\t0\t5.7.1\tMAIL FROM\t554\tsmarthost.isp.example\t554 5.7.1 "
         "not owned by user\t\t\n"
         "B\t1\t1764892802\t0\t\t\t0\t\t\tfailure notice queued as 0123456789ABCDEF0124\t\n"
         "F\t0\t1765324801\t0\t4.4.7\tRCPT TO\t451\tsmarthost.isp.example\t451 4.3.0 try "
         "later\t\tdelivery time expired after 5d (31 attempts)\n"
         "T\t0\t1765324802\t1765325000\t5.1.2\t\t0\t\t\t5.1.2 DNS: the domain x does not "
         "exist\t\n")
    save("fuzz_spool_env", "envelope-only", two)
    save("fuzz_spool_env", "damaged-cut", one[:-8])


def main():
    ts = transcripts()
    reply_seeds(ts)
    cmd_seeds(ts)
    session_seeds(ts)
    compose_seeds()
    addr_seeds()
    codec_seeds()
    config_seeds()
    password_seeds()
    spool_seeds()
    if os.access(os.path.join(BUILD, "fuzz_sasl_client"), os.X_OK):
        sasl_client_seeds()
        sasl_server_seeds()
    else:
        print("seeds.py: %s/fuzz_sasl_* not built: SASL seeds skipped" % BUILD, file=sys.stderr)
    for d in sorted(os.listdir(OUT)):
        print("%-22s %4d seeds" % (d, len(os.listdir(os.path.join(OUT, d)))))


if __name__ == "__main__":
    main()
