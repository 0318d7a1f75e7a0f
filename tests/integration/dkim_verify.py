#!/usr/bin/python3
"""dkim_verify.py - verify every DKIM-Signature of a message with dkimpy
(python3-dkim), the keys from the DNS, or from zone-file lines as clsmtpd
-dkim-records prints them.

  dkim_verify.py MESSAGE [ZONEFILE]
prints one line per signature, "pass d=DOMAIN s=SELECTOR a=ALG" or
"fail ...", and exits 0 only when there is at least one signature and
every one passes."""
import re
import sys

import dkim


def zone_records(path):
    recs = {}
    text = open(path, encoding="ascii").read()
    for m in re.finditer(r"^(\S+)\s+IN\s+TXT\s+\(((?:\s*\"[^\"]*\")+)\s*\)", text, re.M):
        name = m.group(1).rstrip(".").lower()
        recs[name] = "".join(re.findall(r"\"([^\"]*)\"", m.group(2)))
    return recs


def main():
    msg = open(sys.argv[1], "rb").read()
    recs = zone_records(sys.argv[2]) if len(sys.argv) > 2 else None

    def zone_dns(name, timeout=5):
        name = name.decode() if isinstance(name, bytes) else name
        rec = recs.get(name.rstrip(".").lower())
        return rec.encode() if rec else None

    dnsfunc = zone_dns if recs is not None else dkim.dnsplug.get_txt

    d = dkim.DKIM(msg)
    sigs = [v for (k, v) in d.headers if k.lower() == b"dkim-signature"]
    if not sigs:
        print("fail no DKIM-Signature")
        return 1
    bad = 0
    for i, sig in enumerate(sigs):
        tags = dict(
            (t.split(b"=", 1)[0].strip(), t.split(b"=", 1)[1].strip())
            for t in re.sub(rb"\s+", b"", sig).split(b";")
            if b"=" in t
        )
        why = ""
        try:
            ok = dkim.DKIM(msg).verify(idx=i, dnsfunc=dnsfunc)
        except dkim.DKIMException as e:
            ok, why = False, " (%s)" % e
        bad += 0 if ok else 1
        print("%s d=%s s=%s a=%s%s" % ("pass" if ok else "fail", tags.get(b"d", b"?").decode(),
                                       tags.get(b"s", b"?").decode(),
                                       tags.get(b"a", b"?").decode(), why))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
