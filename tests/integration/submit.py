#!/usr/bin/python3
"""submit.py - one SMTP submission for the integration tests (Debian's
python3, standard library only): EHLO, MAIL with options, RCPT for each
--to (options after a '|': "a@b.example|NOTIFY=NEVER"), DATA with a small
message, QUIT. Prints the queue ID from the data reply; a refusal exits 1
with the reply, or prints "refused:CODE" with --refused-ok. SMTPUTF8 is
asked for when an address is not ASCII.
    submit.py --port N [--host 127.0.0.1] [--source 127.0.0.2] [--from A]
              --to B [--to C...] [--mail-opts "RET=HDRS ENVID=x"]
              [--subject S] [--ehlo NAME] [--body-extra TEXT] [--refused-ok]
              [--message FILE] [--starttls] [--auth USER:PASSWORD]
--message sends FILE's bytes as the message, its line ends made CRLF
(smtplib dot-stuffs); --starttls trusts $FIXTURE_CA; --auth is AUTH PLAIN.
"""
import argparse
import os
import smtplib
import ssl
import sys

ap = argparse.ArgumentParser()
ap.add_argument("--port", type=int, required=True)
ap.add_argument("--host", default="127.0.0.1")
ap.add_argument("--source", default="127.0.0.2")
ap.add_argument("--from", dest="frm", default="alice@example.org")
ap.add_argument("--to", action="append", required=True)
ap.add_argument("--mail-opts", default="")
ap.add_argument("--mail-opt", action="append", default=[])
ap.add_argument("--rcpt-opt", action="append", default=[])
ap.add_argument("--subject", default="relay test")
ap.add_argument("--ehlo", default="relay-test.example")
ap.add_argument("--body-extra", default="")
ap.add_argument("--refused-ok", action="store_true")
ap.add_argument("--message")
ap.add_argument("--starttls", action="store_true")
ap.add_argument("--auth")
a = ap.parse_args()
extra = a.body_extra.replace("\r\n", "\n").replace("\n", "\r\n")

rcpts = [(t.split("|", 1) + [""])[:2] for t in a.to]
mopts = a.mail_opts.split() + a.mail_opt
if not all(x.isascii() for x in [a.frm] + [r for r, _ in rcpts]) and "SMTPUTF8" not in mopts:
    mopts.append("SMTPUTF8")


def refused(what, code, reply):
    if a.refused_ok:
        print("refused:%d" % code)
        sys.exit(0)
    sys.exit("%s: %d %s" % (what, code, reply))


s = smtplib.SMTP(a.host, a.port, source_address=(a.source, 0), timeout=10)
s.ehlo(a.ehlo)
if a.starttls:
    s.starttls(context=ssl.create_default_context(cafile=os.environ["FIXTURE_CA"]))
    s.ehlo(a.ehlo)
if a.auth:
    user, password = a.auth.split(":", 1)
    s.login(user, password)
code, r = s.mail(a.frm, mopts)
if code != 250:
    refused("MAIL", code, r)
for addr, opts in rcpts:
    code, r = s.rcpt(addr, opts.split() + a.rcpt_opt)
    if code != 250:
        refused("RCPT %s" % addr, code, r)
msg = ("From: <%s>\r\nTo: <%s>\r\nSubject: %s\r\nMessage-ID: <%s@relay-test>\r\n\r\n"
       "body of %s\r\n%s" % (a.frm or "mailer-daemon@example.org", rcpts[0][0], a.subject,
                             a.subject, a.subject, extra))
data = msg.encode()
if a.message:
    data = open(a.message, "rb").read().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
code, r = s.data(data)
if code != 250:
    refused("DATA", code, r)
print(r.decode().split()[-1])
s.quit()
