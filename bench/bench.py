#!/usr/bin/python3
# bench.py - round trips and CPU per message for clsmtpc, msmtp, swaks and curl,
# side by side in one run, against the test Postfix (tests/fixtures) reached
# through bench/delayproxy (a fixed RTT on loopback). Called by bench/run.sh,
# which starts the fixtures and builds the proxy; prints a table and writes
# docs/performance.md. Every run is checked: exit 0 and the message in the Maildir.
import argparse
import datetime
import email.parser
import email.policy
import json
import os
import platform
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import time

SENDER = "bench@example.test"
RCPT = "rcpt@example.test"
BODY = "Round-trip benchmark message from bench/bench.py.\n"

# Scenarios: (key, title, fixture port variable, what the server offers)
SCENARIOS = [
    ("starttls", "STARTTLS + AUTH PLAIN", "POSTFIX_SUBMISSION_PORT", "PIPELINING, CHUNKING"),
    ("smtps", "implicit TLS + AUTH PLAIN", "POSTFIX_SMTPS_NOCHUNK_PORT", "PIPELINING, no CHUNKING"),
]
TOOLS = ["clsmtpc", "msmtp", "swaks", "curl"]
# The theoretical floor (docs/performance.md derives it).
FLOOR = {"starttls": 5.5, "smtps": 5.0}
# The reference figures ("measured here the same way").
REFERENCE = {"msmtp": (8.9, 7.4), "swaks": (9.7, 8.2), "curl": (11.9, 10.4)}


def env(name):
    v = os.environ.get(name)
    if not v:
        sys.exit("bench.py: %s is not set (run through bench/run.sh)" % name)
    return v


def message_text(subject):
    """The whole message for the tools that take one (msmtp, curl)."""
    now = datetime.datetime.now(datetime.timezone.utc).astimezone()
    hdr = [
        "From: %s" % SENDER,
        "To: %s" % RCPT,
        "Subject: %s" % subject,
        "Date: %s" % now.strftime("%a, %d %b %Y %H:%M:%S %z"),
        "Message-ID: <%s@example.test>" % secrets.token_hex(12),
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=US-ASCII",
        "Content-Transfer-Encoding: 7bit",
    ]
    return ("\r\n".join(hdr) + "\r\n\r\n" + BODY.replace("\n", "\r\n")).encode()


class Bench:
    def __init__(self, args):
        self.args = args
        self.build = os.path.abspath(args.build)
        self.work = args.work
        self.rtt_ms = args.rtt
        self.ca = env("FIXTURE_CA")
        self.user = env("SASL_USER")
        self.password = env("SASL_PASSWORD")
        self.maildir = env("POSTFIX_MAILDIR")
        self.ports = {k: int(env(var)) for k, _, var, _ in SCENARIOS}
        self.nonce = secrets.token_hex(4)
        self.proxies = {}
        self.proxy_stats = {}
        # msmtp takes no password on its command line; without -C it finds it
        # in ~/.netrc (no shell fork as passwordeval would add to its CPU).
        self.home = os.path.join(self.work, "home")
        os.makedirs(self.home, exist_ok=True)
        netrc = os.path.join(self.home, ".netrc")
        with open(os.open(netrc, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            f.write("machine localhost login %s password %s\n" % (self.user, self.password))
        self.msgdir = os.path.join(self.work, "msg")
        os.makedirs(self.msgdir, exist_ok=True)
        self.logdir = os.path.join(self.work, "logs")
        os.makedirs(self.logdir, exist_ok=True)

    # --- tools -----------------------------------------------------------
    def available(self):
        found, notes = [], []
        for t in TOOLS:
            if t == "clsmtpc":
                p = os.path.join(self.build, "clsmtpc")
                if os.access(p, os.X_OK):
                    found.append(t)
                else:
                    notes.append("clsmtpc skipped: %s is not built yet" % p)
            elif shutil.which(t):
                found.append(t)
            else:
                notes.append("%s skipped: not installed (scripts/install-deps.sh)" % t)
        return found, notes

    def version(self, tool):
        cmd = {
            "clsmtpc": [os.path.join(self.build, "clsmtpc"), "--version"],
            "msmtp": ["msmtp", "--version"],
            "swaks": ["swaks", "--version"],
            "curl": ["curl", "--version"],
        }[tool]
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout
        except (OSError, subprocess.TimeoutExpired):
            return "?"
        lines = [l.strip() for l in out.splitlines() if l.strip()]
        if not lines:
            return "?"
        first = lines[0].replace(" version ", " ", 1)
        if tool == "msmtp":
            tls = [l for l in lines if l.startswith("TLS/SSL library")]
            return first + (" (" + tls[0].split(":", 1)[1].strip() + ")" if tls else "")
        if tool == "curl":
            m = re.match(r"curl (\S+) .*?(OpenSSL/\S+|GnuTLS/\S+)", lines[0])
            return "curl %s (%s)" % (m.group(1), m.group(2)) if m else first
        return first

    def command(self, tool, scen, port, subject):
        """argv, stdin file (or None) and extra environment for one send."""
        host = "localhost"
        if tool == "clsmtpc":
            return [os.path.join(self.build, "clsmtpc"), "-M", host, "-P", str(port),
                    "-Z", "tls" if scen == "starttls" else "smtps", "-A", "plain",
                    "-U", self.user, "-r", self.password, "--tls-trust-file", self.ca,
                    "-F", SENDER, "-T", RCPT, "-s", subject, BODY], None, {}
        msgfile = os.path.join(self.msgdir, secrets.token_hex(6) + ".eml")
        with open(msgfile, "wb") as f:
            f.write(message_text(subject))
        if tool == "msmtp":
            return ["msmtp", "--host=" + host, "--port=%d" % port, "--tls=on",
                    "--tls-starttls=" + ("on" if scen == "starttls" else "off"),
                    "--tls-trust-file=" + self.ca, "--auth=plain", "--user=" + self.user,
                    "--from=" + SENDER, "--", RCPT], msgfile, {"HOME": self.home}
        if tool == "swaks":
            os.unlink(msgfile)
            return ["swaks", "--server", host, "--port", str(port),
                    "--tls" if scen == "starttls" else "--tlsc", "--tls-verify",
                    "--tls-ca-path", self.ca, "--auth", "PLAIN", "--auth-user", self.user,
                    "--auth-password", self.password, "--from", SENDER, "--to", RCPT,
                    "--header", "Subject: " + subject, "--body", BODY, "--pipeline",
                    "--silent", "2"], None, {}
        if tool == "curl":
            url = ("smtp://%s:%d" if scen == "starttls" else "smtps://%s:%d") % (host, port)
            argv = ["curl", "-sS", "--url", url]
            if scen == "starttls":
                argv.append("--ssl-reqd")
            return argv + ["--cacert", self.ca, "--user", "%s:%s" % (self.user, self.password),
                           "--login-options", "AUTH=PLAIN", "--mail-from", SENDER,
                           "--mail-rcpt", RCPT, "--upload-file", msgfile], None, {}
        raise ValueError(tool)

    def run_one(self, tool, scen, mode, i, port=None):
        """One send; returns a dict with wall ms, cpu ms, exit status, subject."""
        if port is None:
            port = self.proxies[scen][1] if mode == "rtt" else self.ports[scen]
        subject = "clsmtpc-bench %s %s %s %d %s" % (tool, scen, mode, i, self.nonce)
        argv, stdin_file, extra = self.command(tool, scen, port, subject)
        e = dict(os.environ)
        e.update(extra)
        log = os.path.join(self.logdir, "%s-%s-%s-%d.log" % (tool, scen, mode, i))
        with open(log, "wb") as out, open(stdin_file or os.devnull, "rb") as inp:
            t0 = time.perf_counter()
            p = subprocess.Popen(argv, stdin=inp, stdout=out, stderr=subprocess.STDOUT, env=e)
            _, status, ru = os.wait4(p.pid, 0)
            wall = (time.perf_counter() - t0) * 1e3
        p.returncode = os.waitstatus_to_exitcode(status)
        if stdin_file:
            os.unlink(stdin_file)
        return {"tool": tool, "scen": scen, "mode": mode, "i": i, "subject": subject,
                "wall_ms": wall, "cpu_ms": (ru.ru_utime + ru.ru_stime) * 1e3,
                "rc": p.returncode, "log": log, "delivered": False}

    # --- proxies ---------------------------------------------------------
    def start_proxies(self):
        for scen, port in self.ports.items():
            p = subprocess.Popen([self.args.proxy, "-t", "127.0.0.1:%d" % port,
                                  "-d", "%g" % (self.rtt_ms / 2), "-L", "900", "-s"],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            line = p.stdout.readline()
            if not line.strip().isdigit():
                p.kill()
                sys.exit("bench.py: delayproxy did not start: " + p.stderr.read())
            self.proxies[scen] = (p, int(line))

    def stop_proxies(self):
        for scen, (p, _) in self.proxies.items():
            p.send_signal(signal.SIGTERM)
            try:
                _, err = p.communicate(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
                _, err = p.communicate()
            self.proxy_stats[scen] = err.strip().splitlines()[-1] if err.strip() else ""

    # --- flights ---------------------------------------------------------
    def trace_one(self, tool, scen):
        """One send through a fresh proxy that logs every read (-x): the
        sequence of flights, i.e. where the client waited for the server."""
        p = subprocess.Popen([self.args.proxy, "-t", "127.0.0.1:%d" % self.ports[scen],
                              "-d", "%g" % (self.rtt_ms / 2), "-L", "120", "-x"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        port = int(p.stdout.readline())
        r = self.run_one(tool, scen, "trace", 0, port=port)
        # The proxy may still be forwarding the last close: let it finish.
        time.sleep(self.rtt_ms / 1e3)
        p.send_signal(signal.SIGTERM)
        _, err = p.communicate(timeout=5)
        events = []
        for line in err.splitlines():
            m = re.match(r"delayproxy:\s+([\d.]+) ms (c>s|s>c) (\d+) bytes", line)
            if m:
                events.append((float(m.group(1)), m.group(2), int(m.group(3))))
        r["flights"] = flights(events, self.rtt_ms)
        return r

    # --- delivery check --------------------------------------------------
    def delivered_subjects(self):
        found = set()
        parser = email.parser.BytesHeaderParser(policy=email.policy.compat32)
        for sub in ("new", "cur"):
            d = os.path.join(self.maildir, sub)
            if not os.path.isdir(d):
                continue
            for name in os.listdir(d):
                try:
                    with open(os.path.join(d, name), "rb") as f:
                        h = parser.parse(f)
                except OSError:
                    continue
                s = h.get("Subject")
                if s and self.nonce in s:
                    found.add(" ".join(str(s).split()))
        return found

    def check_delivery(self, results, timeout=30):
        want = {r["subject"] for r in results if r["rc"] == 0}
        deadline = time.monotonic() + timeout
        while True:
            got = self.delivered_subjects()
            if want <= got or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        for r in results:
            r["delivered"] = r["rc"] == 0 and r["subject"] in got

    # --- the run ---------------------------------------------------------
    def run(self):
        tools, notes = self.available()
        for n in notes:
            print("bench: " + n)
        self.start_proxies()
        results = []
        try:
            # Round robin over runs, so that a slow moment of the machine
            # touches every tool alike. Direct runs (no proxy) give CPU time
            # without idle waiting and the local cost of each tool.
            for i in range(self.args.runs):
                for mode in ("rtt", "direct"):
                    for scen, _, _, _ in SCENARIOS:
                        for tool in tools:
                            r = self.run_one(tool, scen, mode, i)
                            results.append(r)
                            if self.args.verbose:
                                print("  %-8s %-8s %-6s #%d rc=%d %.1f ms cpu %.1f ms"
                                      % (tool, scen, mode, i, r["rc"], r["wall_ms"], r["cpu_ms"]))
        finally:
            self.stop_proxies()
        for scen, _, _, _ in SCENARIOS:
            for tool in tools:
                results.append(self.trace_one(tool, scen))
        self.check_delivery(results)
        return tools, notes, results


def flights(events, rtt_ms):
    """Group the proxy's reads into flights (runs of one direction) and count
    the client's waits: the server's first flight (greeting) is half a round
    trip, and every client flight answered by a server flight is one more. The
    client's last flight (close_notify after the 221) waits for nothing."""
    groups = []
    for t, d, n in events:
        if groups and groups[-1]["dir"] == d:
            groups[-1]["sizes"].append(n)
        else:
            groups.append({"dir": d, "t": t, "sizes": [n]})
    rt = 0.0
    for k, g in enumerate(groups):
        if g["dir"] == "s>c":
            rt += 0.5 if k == 0 else 1.0
    # Writes beyond the first in a client flight: each would wait for an ACK
    # under Nagle's algorithm on a real path (the proxy ACKs locally).
    split = sum(len(g["sizes"]) - 1 for g in groups if g["dir"] == "c>s")
    pattern = " ".join(("C" if g["dir"] == "c>s" else "S") + "(" + "+".join(map(str, g["sizes"])) + ")"
                       for g in groups)
    return {"rt": rt, "split": split, "pattern": pattern}


def summarise(tools, results, rtt_ms):
    rows = {}
    for tool in tools:
        for scen, _, _, _ in SCENARIOS:
            rt = [r for r in results if r["tool"] == tool and r["scen"] == scen and r["mode"] == "rtt"]
            di = [r for r in results if r["tool"] == tool and r["scen"] == scen and r["mode"] == "direct"]
            ok_rt = [r for r in rt if r["delivered"]]
            ok_di = [r for r in di if r["delivered"]]
            row = {"runs": len(rt), "ok": len(ok_rt), "direct_runs": len(di), "direct_ok": len(ok_di)}
            if ok_rt:
                walls = [r["wall_ms"] for r in ok_rt]
                row["rt"] = statistics.median(walls) / rtt_ms
                row["rt_min"] = min(walls) / rtt_ms
                row["rt_max"] = max(walls) / rtt_ms
            if ok_di:
                row["cpu_ms"] = statistics.median(r["cpu_ms"] for r in ok_di)
                row["direct_ms"] = statistics.median(r["wall_ms"] for r in ok_di)
            tr = [r for r in results if r["tool"] == tool and r["scen"] == scen and r["mode"] == "trace"]
            if tr and tr[0]["delivered"]:
                row["flights"] = tr[0]["flights"]
            bad = [r for r in rt + di + tr if not r["delivered"]]
            if bad:
                b = bad[0]
                try:
                    with open(b["log"], errors="replace") as f:
                        tail = " ".join(f.read().split())[-200:]
                except OSError:
                    tail = ""
                row["failure"] = "exit %d%s: %s" % (
                    b["rc"], "" if b["rc"] else " but not in the Maildir", tail)
            rows[(tool, scen)] = row
    return rows


def fmt(v, digits=1):
    return "-" if v is None else ("%.*f" % (digits, v))


def ratio(v, base):
    if v is None or not base:
        return "-"
    return "%.2f" % (v / base)


def table(tools, rows):
    """The main table as markdown lines."""
    head = ["client"]
    for scen, title, _, _ in SCENARIOS:
        head += ["%s: round trips" % title, "x clsmtpc"]
    for scen, title, _, _ in SCENARIOS:
        head += ["CPU ms/msg (%s)" % ("STARTTLS" if scen == "starttls" else "implicit TLS"),
                 "x clsmtpc"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for tool in tools:
        cells = [tool]
        for scen, _, _, _ in SCENARIOS:
            r = rows[(tool, scen)]
            base = rows.get(("clsmtpc", scen), {}).get("rt")
            v = r.get("rt")
            cells += [fmt(v) if r["ok"] == r["runs"] else "%s (%d/%d ok)" % (fmt(v), r["ok"], r["runs"]),
                      ratio(v, base)]
        for scen, _, _, _ in SCENARIOS:
            r = rows[(tool, scen)]
            base = rows.get(("clsmtpc", scen), {}).get("cpu_ms")
            v = r.get("cpu_ms")
            cells += [fmt(v), ratio(v, base)]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def detail_table(tools, rows, rtt_ms):
    head = ["client", "scenario", "round trips (median)", "min", "max", "floor",
            "issue's reference", "wall ms without proxy", "delivered"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for tool in tools:
        for k, (scen, title, _, offers) in enumerate(SCENARIOS):
            r = rows[(tool, scen)]
            ref = REFERENCE.get(tool)
            lines.append("| " + " | ".join([
                tool, "%s (%s)" % (title, offers), fmt(r.get("rt")), fmt(r.get("rt_min")),
                fmt(r.get("rt_max")), fmt(FLOOR[scen]), fmt(ref[k]) if ref else "-",
                fmt(r.get("direct_ms")),
                "%d/%d + %d/%d" % (r["ok"], r["runs"], r["direct_ok"], r["direct_runs"]),
            ]) + " |")
    return lines


def flights_table(tools, rows, rtt_ms):
    head = ["client", "scenario", "round trips counted", "local ms",
            "writes split off a flight", "flights (C client, S server; bytes per read)"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for tool in tools:
        for scen, title, _, _ in SCENARIOS:
            r = rows[(tool, scen)]
            f = r.get("flights")
            local = r["rt"] * rtt_ms - f["rt"] * rtt_ms if f and "rt" in r else None
            lines.append("| " + " | ".join([
                tool, title, fmt(f["rt"]) if f else "-", fmt(local, 0),
                str(f["split"]) if f else "-",
                "`%s`" % f["pattern"] if f else "-"]) + " |")
    return lines


def machine():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for l in f:
                if l.startswith("model name"):
                    cpu = l.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    deb = "?"
    try:
        with open("/etc/debian_version") as f:
            deb = f.read().strip()
    except OSError:
        pass
    return "%s, %d CPUs, Linux %s, Debian %s" % (cpu, os.cpu_count() or 0, platform.release(), deb)


def postfix_version():
    try:
        out = subprocess.run(["postconf", "-c", os.environ.get("POSTFIX_CONFIG", "/etc/postfix"),
                              "-h", "mail_version"], capture_output=True, text=True, timeout=10)
        return "Postfix " + out.stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return "Postfix ?"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.environ.get("BUILD", "build"))
    ap.add_argument("--proxy", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--rtt", type=float, default=100.0, help="round-trip time, ms")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--calibration", help="proxycheck.py --json output to report")
    ap.add_argument("--doc", help="write docs/performance.md here")
    ap.add_argument("--template", help="docs template with @@MARKERS@@")
    ap.add_argument("--json", help="write every raw result here")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()

    b = Bench(args)
    t0 = time.monotonic()
    tools, notes, results = b.run()
    rows = summarise(tools, results, args.rtt)
    elapsed = time.monotonic() - t0

    main_table = table(tools, rows)
    details = detail_table(tools, rows, args.rtt)
    flight_lines = flights_table(tools, rows, args.rtt)
    print()
    print("Round trips per message through a %g ms RTT path (median of %d), CPU per message"
          " without the proxy (median, user+sys):" % (args.rtt, args.runs))
    print("\n".join(main_table))
    print()
    print("\n".join(details))
    print()
    print("\n".join(flight_lines))
    failures = [(k, r["failure"]) for k, r in rows.items() if "failure" in r]
    for (tool, scen), f in failures:
        print("bench: FAILED %s %s: %s" % (tool, scen, f))
    for n in notes:
        print("bench: note: " + n)
    print("bench: %d sends in %.0f s" % (len(results), elapsed))

    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rows": {"%s/%s" % k: v for k, v in rows.items()}, "results": results}, f,
                      indent=1)

    if args.doc and args.template:
        cal = {}
        if args.calibration and os.path.exists(args.calibration):
            with open(args.calibration) as f:
                cal = json.load(f)
        versions = ["- " + b.version(t) for t in tools] + ["- " + postfix_version() + " (the server)",
                                                           "- " + ssl_version()]
        subst = {
            "DATE": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "MACHINE": machine(),
            "RTT": "%g" % args.rtt,
            "RUNS": "%d" % args.runs,
            "VERSIONS": "\n".join(versions),
            "TABLE": "\n".join(main_table),
            "DETAILS": "\n".join(details),
            "FLIGHTS": "\n".join(flight_lines),
            "NOTES": "\n".join("- " + n for n in notes + ["FAILED %s %s: %s" % (t, s, f)
                                                          for (t, s), f in failures]) or "- none",
            "CALIBRATION": calibration_text(cal, b.proxy_stats),
            "ELAPSED": "%d sends in %.0f s" % (len(results), elapsed),
        }
        with open(args.template) as f:
            section = f.read()
        for k, v in subst.items():
            section = section.replace("@@%s@@" % k, v)
        write_section(args.doc, section)
        print("bench: wrote " + args.doc)
    return 1 if failures else 0


BEGIN = "<!-- bench:client begin"
END = "<!-- bench:client end -->"
DOC_HEAD = """# Performance

Measured figures of clsmtpc against the tools it replaces. Each section is written by the
benchmark named in it; rerun that benchmark rather than editing its figures by hand.

"""


def write_section(path, section):
    """Replace this benchmark's section of the document (between its markers),
    keeping whatever other benchmarks wrote; create the document if needed."""
    try:
        with open(path) as f:
            doc = f.read()
    except FileNotFoundError:
        doc = DOC_HEAD
    a, b = doc.find(BEGIN), doc.find(END)
    if a >= 0 and b > a:
        doc = doc[:a] + section.rstrip("\n") + doc[b + len(END):]
    else:
        doc = doc.rstrip("\n") + "\n\n" + section
    if not doc.endswith("\n"):
        doc += "\n"
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(doc)
    os.replace(tmp, path)


def ssl_version():
    try:
        out = subprocess.run(["openssl", "version"], capture_output=True, text=True, timeout=10)
        return " ".join(out.stdout.split()[:2]) + " (clsmtpc, curl, swaks and Postfix; msmtp uses GnuTLS)"
    except (OSError, subprocess.TimeoutExpired):
        return "OpenSSL ?"


def calibration_text(cal, stats):
    out = []
    if cal:
        out.append("- Echo check through the proxy at %g ms one-way (%d ping-pongs): direct loopback"
                   " RTT %.3f ms; proxied RTT median %.3f ms (min %.3f, max %.3f) against %.3f ms"
                   " intended: **added error %.3f ms per hop (median), %.3f ms at worst**."
                   % (cal["delay_ms"], cal["exchanges"], cal["direct_rtt_median_ms"],
                      cal["proxied_rtt_median_ms"], cal["proxied_rtt_min_ms"],
                      cal["proxied_rtt_max_ms"], 2 * cal["delay_ms"], cal["hop_error_median_ms"],
                      cal["hop_error_max_ms"]))
        out.append("- Connect through the proxy: %.3f ms at most; a half-close (FIN) came back"
                   " after %.3f ms (one RTT, as data does)."
                   % (cal["connect_max_ms"], cal["fin_rtt_median_ms"]))
    for scen, s in sorted(stats.items()):
        if s:
            out.append("- Proxy for the %s port during the benchmark: `%s`" % (scen, s))
    return "\n".join(out) if out else "- (no calibration figures)"


if __name__ == "__main__":
    sys.exit(main())
