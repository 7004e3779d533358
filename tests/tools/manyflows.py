#!/usr/bin/python3
"""Many UDP flows from many LAN hosts, for the load suite (tests/load.sh).

For each --host ADDR:N, opens N UDP sockets bound to ADDR (ephemeral
ports) and connected to DST:PORT, a `udpecho.py --tell` that appends to
each answer the address and port it saw (the NAT's: which uplink carried
the flow, on which port). Every flow sends one datagram per INTERVAL
seconds, the flows spread evenly over it. Twice a second STATUS is written
whole (then renamed) as JSON: "t" (CLOCK_MONOTONIC, s) and "flows", one row
per flow:

  [host, port, sent, answered, last answer t, seen address, seen port,
   t the seen address last changed]

(t values are CLOCK_MONOTONIC seconds, 0 for never). Runs until SIGTERM.

usage: manyflows.py DST PORT STATUS [--interval S] --host ADDR:N [...]
"""
import argparse
import json
import os
import resource
import selectors
import signal
import socket
import struct
import time


def main():
    ap = argparse.ArgumentParser(description="many UDP flows from many hosts")
    ap.add_argument("dst")
    ap.add_argument("port", type=int)
    ap.add_argument("status")
    ap.add_argument("--interval", type=float, default=1.0)
    ap.add_argument("--host", action="append", required=True, help="ADDR:N")
    args = ap.parse_args()

    want = [(h.rsplit(":", 1)[0], int(h.rsplit(":", 1)[1])) for h in args.host]
    total = sum(n for _, n in want)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < total + 64:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, total + 1024), hard))

    sel = selectors.DefaultSelector()
    flows = []  # [sock, host, port, sent, answered, last, seen_ip, seen_port, changed]
    for host, n in want:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind((host, 0))
            s.connect((args.dst, args.port))
            s.setblocking(False)
            i = len(flows)
            flows.append([s, host, s.getsockname()[1], 0, 0, 0.0, "", 0, 0.0])
            sel.register(s, selectors.EVENT_READ, i)

    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    batch = max(1, total // 100)  # 100 batches per interval
    step = args.interval / (total / batch)
    nxt, cur, wrote = time.monotonic(), 0, 0.0
    while not stop:
        now = time.monotonic()
        while now >= nxt and not stop:
            for f in flows[cur:cur + batch]:
                try:
                    f[0].send(struct.pack("!II", cur, f[3]) + b"\0" * 24)
                    f[3] += 1
                except OSError:
                    pass  # no route, a full queue: counted as not answered
                cur += 1
            if cur >= total:
                cur = 0
            nxt += step
        for key, _ in sel.select(timeout=max(0.0, min(nxt - time.monotonic(), 0.1))):
            f = flows[key.data]
            while True:
                try:
                    d = f[0].recv(2048)
                except OSError:
                    break
                if len(d) < 6:
                    continue
                t = time.monotonic()
                ip, port = socket.inet_ntoa(d[-6:-2]), struct.unpack("!H", d[-2:])[0]
                if ip != f[6]:
                    f[8] = t
                f[4] += 1
                f[5], f[6], f[7] = t, ip, port
        now = time.monotonic()
        if now - wrote >= 0.5:
            wrote = now
            tmp = args.status + ".tmp"
            with open(tmp, "w") as o:
                json.dump({"t": now, "flows": [f[1:] for f in flows]}, o)
            os.rename(tmp, args.status)


if __name__ == "__main__":
    main()
