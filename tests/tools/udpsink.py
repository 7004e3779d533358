#!/usr/bin/python3
"""Unsolicited-traffic probe: a UDP listener and a UDP sender.

  udpsink.py listen PORT --duration S [--ready FILE]
      Binds 0.0.0.0:PORT, counts every datagram that arrives for S seconds,
      then prints one JSON line {"received": N, "from": ["ip:port", ...]}.
      With --ready it touches FILE once bound, so a test knows it listens.

  udpsink.py send HOST PORT [--count N] [--interval-ms MS]
      Sends N small datagrams to HOST:PORT from one socket and prints
      {"sent": N, "errors": E}. Send errors (e.g. a queued ICMP port
      unreachable) are counted, not fatal.
"""
import argparse
import json
import socket
import time


def listen(port, duration, ready):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("0.0.0.0", port))
    if ready:
        open(ready, "a").close()
    end = time.monotonic() + duration
    received = 0
    peers = set()
    while True:
        left = end - time.monotonic()
        if left <= 0:
            break
        sock.settimeout(left)
        try:
            _, peer = sock.recvfrom(65535)
        except socket.timeout:
            break
        received += 1
        peers.add("%s:%d" % peer)
    print(json.dumps({"received": received, "from": sorted(peers)}), flush=True)


def send(host, port, count, interval_ms):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sent = errors = 0
    for i in range(count):
        try:
            sock.sendto(b"unsolicited %d" % i, (host, port))
            sent += 1
        except OSError:
            errors += 1
        time.sleep(interval_ms / 1000.0)
    print(json.dumps({"sent": sent, "errors": errors}), flush=True)


def main():
    ap = argparse.ArgumentParser(description="UDP listener / sender")
    sub = ap.add_subparsers(dest="mode", required=True)
    lp = sub.add_parser("listen")
    lp.add_argument("port", type=int)
    lp.add_argument("--duration", type=float, required=True)
    lp.add_argument("--ready")
    sp = sub.add_parser("send")
    sp.add_argument("host")
    sp.add_argument("port", type=int)
    sp.add_argument("--count", type=int, default=20)
    sp.add_argument("--interval-ms", type=float, default=5.0)
    args = ap.parse_args()
    if args.mode == "listen":
        listen(args.port, args.duration, args.ready)
    else:
        send(args.host, args.port, args.count, args.interval_ms)


if __name__ == "__main__":
    main()
