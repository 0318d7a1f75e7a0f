#!/usr/bin/python3
"""mime_sink.py - a minimal SMTP sink for bench/attach_rss.sh: one plain
connection on 127.0.0.1, EHLO with PIPELINING, 8BITMIME, SIZE and (unless
--no-chunking) CHUNKING; the message of DATA (dot-unstuffed) or BDAT is
written to --out as it arrives, never held whole. Prints its port first.
Exits after the session, or after --timeout seconds."""
import argparse
import os
import socket
import threading


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--no-chunking", action="store_true")
    ap.add_argument("--timeout", type=float, default=300)
    a = ap.parse_args()
    watchdog = threading.Timer(a.timeout, lambda: os._exit(3))
    watchdog.daemon = True
    watchdog.start()
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(1)
    print(ls.getsockname()[1], flush=True)
    c, _ = ls.accept()
    f = c.makefile("rb", buffering=1 << 20)
    out = open(a.out, "wb")
    caps = ["PIPELINING", "8BITMIME", "SIZE 2000000000"] + ([] if a.no_chunking else ["CHUNKING"])
    replies = []

    def send(s):
        replies.append(s + "\r\n")

    def flush():
        if replies:
            c.sendall("".join(replies).encode())
            replies.clear()

    send("220 sink ESMTP")
    flush()
    while True:
        line = f.readline()
        if not line:
            break
        cmd = line.decode("latin-1").strip()
        verb = cmd.split(" ", 1)[0].upper()
        if verb == "EHLO":
            send("250-sink")
            for k in caps[:-1]:
                send("250-" + k)
            send("250 " + caps[-1])
        elif verb in ("MAIL", "RCPT", "RSET", "NOOP"):
            send("250 ok")
        elif verb == "DATA":
            send("354 go")
            flush()
            while True:
                l = f.readline()
                if l in (b".\r\n", b""):
                    break
                out.write(l[1:] if l.startswith(b".") else l)
            send("250 stored")
        elif verb == "BDAT":
            n = int(cmd.split()[1])
            while n > 0:
                b = f.read(min(n, 1 << 20))
                if not b:
                    break
                out.write(b)
                n -= len(b)
            send("250 %s" % ("stored" if cmd.upper().endswith("LAST") else "chunk"))
        elif verb == "QUIT":
            send("221 bye")
            flush()
            break
        else:
            send("500 what")
        flush()
    flush()
    out.close()
    c.close()


if __name__ == "__main__":
    main()
