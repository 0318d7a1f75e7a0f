#!/usr/bin/python3
# proxycheck.py - check bench/delayproxy against a local echo server: bytes
# arrive intact and in order, never early, a half-close (FIN) is forwarded after
# the data, many sequential connections work, SIGTERM ends it; and measure the
# error it adds to each one-way hop (ping-pong RTT through it minus the direct
# RTT minus 2 x delay, halved). Used by bench/smoke.sh and bench/run.sh.
import argparse
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time


def echo_server():
    """Echo server on 127.0.0.1: echoes bytes; on EOF sends b'bye\\n', closes."""
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.bind(("127.0.0.1", 0))
    ls.listen(16)

    def serve(c):
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with c:
            while True:
                b = c.recv(65536)
                if not b:
                    c.sendall(b"bye\n")
                    return
                c.sendall(b)

    def loop():
        while True:
            try:
                c, _ = ls.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(c,), daemon=True).start()

    threading.Thread(target=loop, daemon=True).start()
    return ls, ls.getsockname()[1]


def recv_exact(s, n):
    out = bytearray()
    while len(out) < n:
        b = s.recv(n - len(out))
        if not b:
            raise RuntimeError("connection closed after %d of %d bytes" % (len(out), n))
        out += b
    return bytes(out)


def recv_all(s):
    out = bytearray()
    while True:
        b = s.recv(65536)
        if not b:
            return bytes(out)
        out += b


def pingpong(port, count, size=64):
    """One connection, `count` request/response exchanges: RTTs in ms, then a
    half-close whose FIN must be answered by the server's b'bye\\n' and EOF."""
    t0 = time.perf_counter()
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    connect_ms = (time.perf_counter() - t0) * 1e3
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    rtts = []
    payload = bytes(range(size))
    for _ in range(count):
        t = time.perf_counter()
        s.sendall(payload)
        if recv_exact(s, size) != payload:
            raise RuntimeError("echo differs")
        rtts.append((time.perf_counter() - t) * 1e3)
    t = time.perf_counter()
    s.shutdown(socket.SHUT_WR)
    tail = recv_all(s)
    fin_ms = (time.perf_counter() - t) * 1e3
    s.close()
    if tail != b"bye\n":
        raise RuntimeError("after half-close expected b'bye\\n' then EOF, got %r" % tail)
    return connect_ms, rtts, fin_ms


def bulk(port, nbytes, seed):
    """Send nbytes of seeded random data while reading the echo: must be
    identical (order kept across many reads and back-pressure)."""
    rng = random.Random(seed)
    data = bytes(rng.getrandbits(8) for _ in range(nbytes))
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    got = bytearray()

    def reader():
        while True:
            try:
                b = s.recv(65536)
            except OSError:
                return
            if not b:
                return
            got.extend(b)

    th = threading.Thread(target=reader)
    th.start()
    i = 0
    while i < nbytes:
        n = 1 + rng.randrange(20000)
        s.sendall(data[i:i + n])
        i += n
    s.shutdown(socket.SHUT_WR)
    th.join(30)
    s.close()
    if bytes(got) != data + b"bye\n":
        raise RuntimeError("bulk transfer corrupted: sent %d bytes, got %d" % (nbytes + 4, len(got)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--proxy", required=True, help="path of the delayproxy binary")
    ap.add_argument("--delay", type=float, default=20.0, help="one-way delay, ms")
    ap.add_argument("--exchanges", type=int, default=20, help="ping-pongs per connection")
    ap.add_argument("--connections", type=int, default=3)
    ap.add_argument("--bulk", type=int, default=200000, help="bytes in the bulk transfer")
    ap.add_argument("--max-error-ms", type=float, default=2.0,
                    help="largest acceptable median added error per hop")
    ap.add_argument("--json", help="write the figures here")
    args = ap.parse_args()

    ls, echo_port = echo_server()
    failures = []

    # Direct loopback first: what the client and echo server cost by themselves.
    _, direct, _ = pingpong(echo_port, args.exchanges)
    direct_med = statistics.median(direct)

    proxy = subprocess.Popen(
        [args.proxy, "-t", "127.0.0.1:%d" % echo_port, "-d", "%g" % args.delay, "-L", "120", "-s"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        pport = int(proxy.stdout.readline())
        rtt_target = 2 * args.delay
        samples, connects, fins = [], [], []
        for _ in range(args.connections):
            c, r, f = pingpong(pport, args.exchanges)
            connects.append(c)
            samples += r
            fins.append(f)
        bulk(pport, args.bulk, seed=12345)
        early = [x for x in samples + fins if x < rtt_target]
        if early:
            failures.append("%d exchanges came back before one RTT (%.3f ms < %.3f ms)"
                            % (len(early), min(early), rtt_target))
    finally:
        proxy.send_signal(signal.SIGTERM)
        try:
            _, err = proxy.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            proxy.kill()
            _, err = proxy.communicate()
            failures.append("delayproxy did not exit within 5 s of SIGTERM")
        ls.close()
    if proxy.returncode != 0:
        failures.append("delayproxy exited with status %d: %s" % (proxy.returncode, err.strip()))

    med = statistics.median(samples)
    # Error per one-way hop, with the direct loopback cost taken out.
    hop_med = (med - direct_med - rtt_target) / 2
    hop_max = (max(samples) - direct_med - rtt_target) / 2
    fig = {
        "delay_ms": args.delay,
        "exchanges": len(samples),
        "direct_rtt_median_ms": round(direct_med, 4),
        "proxied_rtt_median_ms": round(med, 4),
        "proxied_rtt_min_ms": round(min(samples), 4),
        "proxied_rtt_max_ms": round(max(samples), 4),
        "hop_error_median_ms": round(hop_med, 4),
        "hop_error_max_ms": round(hop_max, 4),
        "connect_max_ms": round(max(connects), 4),
        "fin_rtt_median_ms": round(statistics.median(fins), 4),
        "proxy_stats": err.strip().splitlines()[-1] if err.strip() else "",
    }
    if hop_med > args.max_error_ms:
        failures.append("median added error per hop %.3f ms > %.3f ms" % (hop_med, args.max_error_ms))
    print("delayproxy check: delay %g ms, %d exchanges over %d connections + %d-byte bulk echo"
          % (args.delay, len(samples), args.connections, args.bulk))
    print("  direct RTT %.3f ms; proxied RTT median %.3f (min %.3f, max %.3f) ms, target %.3f"
          % (direct_med, med, min(samples), max(samples), rtt_target))
    print("  added error per hop: median %.3f ms, max %.3f ms; connect %.3f ms max; FIN round %.3f ms"
          % (hop_med, hop_max, max(connects), statistics.median(fins)))
    if fig["proxy_stats"]:
        print("  " + fig["proxy_stats"])
    if args.json:
        with open(args.json, "w") as f:
            json.dump(fig, f, indent=1)
    for m in failures:
        print("  FAIL: " + m)
    print("delayproxy check: " + ("FAILED" if failures else "ok"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
