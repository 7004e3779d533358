#!/usr/bin/python3
"""Stand in for systemd's notification socket ($NOTIFY_SOCKET).

  notifylisten.py PATH --log FILE [--ready FILE]

Binds a Unix datagram socket at PATH (removed first if it exists) and
appends one line per datagram to FILE:

  <CLOCK_MONOTONIC seconds> <payload, its newlines shown as " | ">

e.g. "12345.678901 READY=1 | STATUS=forwarding, 3 uplink(s), active fiber".
With --ready it touches that file once bound, so a test knows it may start
the daemon. Runs until killed (SIGTERM), then removes PATH.
"""
import argparse
import os
import signal
import socket
import sys
import time


def main():
    ap = argparse.ArgumentParser(description="sd_notify datagram listener")
    ap.add_argument("path")
    ap.add_argument("--log", required=True)
    ap.add_argument("--ready")
    args = ap.parse_args()

    try:
        os.unlink(args.path)
    except FileNotFoundError:
        pass
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(args.path)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    log = open(args.log, "a", buffering=1)
    if args.ready:
        open(args.ready, "a").close()
    try:
        while True:
            data = sock.recv(65536)
            text = data.decode("utf-8", "replace").strip("\n").replace("\n", " | ")
            log.write("%.6f %s\n" % (time.monotonic(), text))
    finally:
        try:
            os.unlink(args.path)
        except OSError:
            pass


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
