#!/usr/bin/python3
# syslog.py SOCKET LOGFILE: a minimal syslogd for the package test. It reads
# the datagrams that syslog(3) sends to /dev/log ("<PRI>Mmm dd hh:mm:ss
# TAG[PID]: MSG") and appends them to LOGFILE as rsyslog's traditional
# file format does ("Mmm dd hh:mm:ss HOST TAG[PID]: MSG"), the format of
# /var/log/mail.log that fail2ban's filters read. Stops on SIGTERM.
import os, re, signal, socket, sys

sock_path, log_path = sys.argv[1], sys.argv[2]
host = socket.gethostname().split(".")[0]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
if os.path.exists(sock_path):
    os.unlink(sock_path)
s.bind(sock_path)
os.chmod(sock_path, 0o666)
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
line_re = re.compile(rb"^<\d+>([A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d) (.*)$", re.S)
with open(log_path, "ab", buffering=0) as out:
    while True:
        data = s.recv(65536).rstrip(b"\n\0")
        m = line_re.match(data)
        if m:
            out.write(m.group(1) + b" " + host.encode() + b" " + m.group(2) + b"\n")
