#!/usr/bin/python3
"""mime_check.py - the independent reader of clsmtpc's messages: Python's
email package with the strict default policy. Used by the unit tests
(tests/unit/core/test_mime_reader.c) and the integration tests (test_mime*.sh).

Usage: mime_check.py CASEDIR...

Each CASEDIR holds "msg" (the message as sent, or as delivered to a Maildir
with LF line ends) and
"expect.json", every key optional:
  subject, from_name, reply_to_name: the decoded text expected
  text, html: file names (in CASEDIR) of the UTF-8 text expected in the
              text/plain and text/html parts (line ends compared as LF)
  charset:    the charset parameter expected on the text parts
  cte:        the Content-Transfer-Encoding expected on the text part
  attachments: [{"name": ..., "file": ..., "type": ...}] in order: file
              name, bytes and (if given) media type
  absent:     header field names that must not occur (e.g. "Bcc")
  headers:    {name: decoded value} fields that must be there
  seven_bit:  true if every octet must be ASCII
Checked always: no defect anywhere (message, header values, parts), CRLF
line ends only, no line over 998 octets, every encoded-word at most 75
characters, every header line at most 78 columns unless one word is longer.
Prints "# CASEDIR: problem" lines and exits 1 if any case failed.
"""
import email
import email.policy
import json
import os
import re
import sys
from email.header import decode_header, make_header
from email.utils import getaddresses

TRACE = (b"received", b"return-path", b"delivered-to", b"x-original-to")
EW = re.compile(rb"=\?[^?\s]+\?[BbQq]\?[^?\s]*\?=")


def lf(s):
    return s.replace("\r\n", "\n").replace("\r", "\n")


def want_text(path):
    t = lf(open(path, "rb").read().decode("utf-8"))
    if t and not t.endswith("\n"):
        t += "\n"
    return t


def wire_problems(raw):
    errs = []
    lines = raw.split(b"\r\n")
    if any(b"\n" in l or b"\r" in l for l in lines):
        errs.append("a bare CR or LF")
    if any(len(l) > 998 for l in lines):
        errs.append("a line over 998 octets")
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
    field = b""
    for l in head:
        if l[:1] not in (b" ", b"\t"):
            field = l.split(b":", 1)[0].lower()
        for w in EW.findall(l):
            if len(w) > 75:
                errs.append("encoded-word of %d characters: %r" % (len(w), w[:40]))
        # Fields the receiving MTA adds are its business, not ours.
        if len(l) > 78 and b" " in l.strip() and field not in TRACE:
            errs.append("header line of %d columns: %r" % (len(l), l[:60]))
    return errs


def decoded_name(compat_value):
    pairs = getaddresses([str(compat_value)])
    return str(make_header(decode_header(pairs[0][0]))) if pairs else None


def check(d):
    exp = json.load(open(os.path.join(d, "expect.json"), encoding="utf-8"))
    raw = open(os.path.join(d, "msg"), "rb").read()
    if b"\r\n" not in raw:
        # A Maildir file: line ends are LF there.
        raw = raw.replace(b"\n", b"\r\n")
    errs = wire_problems(raw)
    m = email.message_from_bytes(raw, policy=email.policy.default)
    compat = email.message_from_bytes(raw, policy=email.policy.compat32)
    if exp.get("seven_bit") and any(b >= 0x80 for b in raw):
        errs.append("8-bit octets in a message that must be 7bit")
    for part in m.walk():
        if part.defects:
            errs.append("defects in %s: %r" % (part.get_content_type(), part.defects))
        for k, v in part.items():
            if getattr(v, "defects", None):
                errs.append("%s: %r" % (k, v.defects))
    if "subject" in exp and str(m["subject"]) != exp["subject"]:
        errs.append("subject %r != %r" % (str(m["subject"]), exp["subject"]))
    for field, key in (("from", "from_name"), ("reply-to", "reply_to_name")):
        if key not in exp:
            continue
        # RFC 2047 6.2 drops the space between adjacent encoded-words:
        # email.header does; the default policy (3.11) does not (compare
        # it without spaces).
        got = decoded_name(compat[field])
        if got != exp[key]:
            errs.append("%s name %r != %r" % (field, got, exp[key]))
        name = m[field].addresses[0].display_name
        if name.replace(" ", "") != exp[key].replace(" ", ""):
            errs.append("%s name (default policy) %r" % (field, name))
    for name in exp.get("absent", []):
        if name in m:
            errs.append("field %s is present" % name)
    for name, value in exp.get("headers", {}).items():
        if str(m[name]) != value:
            errs.append("field %s: %r != %r" % (name, str(m[name]), value))
    body = m.get_body(("plain",))
    if "text" in exp:
        if body is None:
            errs.append("no text/plain part")
        else:
            got, want = lf(body.get_content()), want_text(os.path.join(d, exp["text"]))
            if got != want:
                errs.append("text %r... != %r..." % (got[:60], want[:60]))
            if "charset" in exp and body.get_param("charset").upper() != exp["charset"].upper():
                errs.append("charset %r" % body.get_param("charset"))
            if "cte" in exp and body["content-transfer-encoding"] != exp["cte"]:
                errs.append("transfer encoding %r" % body["content-transfer-encoding"])
    if "html" in exp:
        h = m.get_body(("html",))
        if h is None or lf(h.get_content()) != want_text(os.path.join(d, exp["html"])):
            errs.append("html part differs or is missing")
        if h is not None and m.get_content_type() not in ("multipart/alternative",
                                                          "multipart/mixed"):
            errs.append("html without multipart/alternative")
    if "attachments" in exp:
        got = list(m.iter_attachments())
        if len(got) != len(exp["attachments"]):
            errs.append("%d attachments, want %d" % (len(got), len(exp["attachments"])))
        for a, w in zip(got, exp["attachments"]):
            data = a.get_payload(decode=True) or b""
            want = open(os.path.join(d, w["file"]), "rb").read()
            if a.get_filename() != w["name"]:
                errs.append("attachment name %r != %r" % (a.get_filename(), w["name"]))
            if data != want:
                errs.append("attachment %r: %d bytes differ from %d" % (w["name"], len(data),
                                                                        len(want)))
            if "type" in w and a.get_content_type() != w["type"]:
                errs.append("attachment %r type %s" % (w["name"], a.get_content_type()))
            if a["content-transfer-encoding"] != "base64":
                errs.append("attachment %r not base64" % w["name"])
    for e in errs:
        print("# %s: %s" % (d, e))
    return not errs


def main():
    bad = sum(0 if check(d) else 1 for d in sys.argv[1:])
    print("# python read %d messages, %d bad" % (len(sys.argv) - 1, bad))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
