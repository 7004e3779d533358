#!/usr/bin/python3
"""Measure the outage a user sees: a steady UDP stream and its echoes.

Sends one datagram every --interval-ms to an echo server (udpecho.py) from a
single socket, so the flow keeps one source port the whole time (as one NAT
mapping would), and receives the echoes in the same loop. Each payload is
8-byte seq + 8-byte send time (CLOCK_MONOTONIC ns, big-endian).

At the end it prints one JSON object on stdout:
  sent, received (distinct seqs echoed), lost, duplicates, send_errors,
  longest_gap_ms        longest time without an echo, by receive time, from
                        the first echo (the start if none came) to the end of
                        sending (so an outage that never recovers still
                        counts, up to the end); the wait for the first echo,
                        one round trip, is no outage
  first_echo_ms         when the first echo came, relative to the start
  start_unix            the start, in seconds since the epoch (to line the
                        gaps up with other events)
  longest_gap_start_ms  where that gap began, relative to the start
  max_send_gap_ms       longest pause of the sender itself (a stalled sender
                        would show up as a false outage)
  rtt_ms_median, rtt_ms_max, duration_s, src

usage: udpstream.py HOST PORT [--duration S] [--interval-ms MS]
                    [--until-file PATH] [--bind ADDR[:PORT]] [--drain-ms MS]
With --until-file it stops when PATH exists; --duration (default 10 s, or
600 s with --until-file) stays an upper bound.
"""
import argparse
import json
import os
import select
import socket
import struct
import sys
import time

PAYLOAD = struct.Struct("!QQ")


def parse_args():
    ap = argparse.ArgumentParser(description="UDP stream with echo gap measurement")
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("--duration", type=float, default=None, help="seconds (default 10)")
    ap.add_argument("--interval-ms", type=float, default=1.0)
    ap.add_argument("--until-file", help="stop when this file exists")
    ap.add_argument("--bind", default="", help="source ADDR or ADDR:PORT")
    ap.add_argument("--drain-ms", type=float, default=300.0,
                    help="wait this long for late echoes after the last send")
    args = ap.parse_args()
    if args.duration is None:
        args.duration = 600.0 if args.until_file else 10.0
    return args


def main():
    args = parse_args()
    interval = int(args.interval_ms * 1e6)
    bind_ip, _, bind_port = args.bind.partition(":")
    target = (args.host, args.port)

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    # Bound once, explicitly: the source port must not change during the run.
    sock.bind((bind_ip, int(bind_port or 0)))
    sock.setblocking(False)
    src = "%s:%d" % sock.getsockname()

    seen = bytearray()          # seen[seq] = 1 once echoed
    recv_times = []             # ns since start, of each new echo
    rtts = []
    sent = dup = send_errors = 0
    max_send_gap = 0
    last_send = None

    start = time.monotonic_ns()
    start_unix = time.time()
    end_send = start + int(args.duration * 1e9)
    next_send = start
    checked_file = start

    def receive():
        nonlocal dup
        while True:
            try:
                data, peer = sock.recvfrom(2048)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                continue    # a queued ICMP error: not an echo
            now = time.monotonic_ns()
            if peer != target or len(data) < PAYLOAD.size:
                continue
            seq, t_sent = PAYLOAD.unpack_from(data)
            if seq >= len(seen):
                continue
            if seen[seq]:
                dup += 1
                continue
            seen[seq] = 1
            recv_times.append(now - start)
            rtts.append(now - t_sent)

    stopped = start
    while True:
        now = time.monotonic_ns()
        if now >= end_send:
            break
        if args.until_file and now - checked_file >= 10_000_000:
            checked_file = now
            if os.path.exists(args.until_file):
                break
        if now >= next_send:
            seen.append(0)
            try:
                sock.sendto(PAYLOAD.pack(sent, now), target)
            except OSError:
                # No route / dropped by the local stack during a failover:
                # the datagram is lost, like a user's packet would be.
                send_errors += 1
            sent += 1
            if last_send is not None:
                max_send_gap = max(max_send_gap, now - last_send)
            last_send = now
            next_send += interval
            # After a long stall, resume the pace instead of sending a burst.
            if now - next_send > 100 * interval:
                next_send = now + interval
        timeout = max(0, next_send - time.monotonic_ns()) / 1e9
        r, _, _ = select.select([sock], [], [], timeout)
        if r:
            receive()
    stopped = time.monotonic_ns()

    drain_end = stopped + int(args.drain_ms * 1e6)
    while True:
        left = drain_end - time.monotonic_ns()
        if left <= 0:
            break
        r, _, _ = select.select([sock], [], [], left / 1e9)
        if r:
            receive()

    # Gaps between consecutive echoes, plus last->end of sending, so a
    # stream that dies and never comes back is still measured. Not
    # start->first echo: that is the path's round trip (40 ms on an
    # emulated 5G link), not an outage; unless no echo came at all.
    send_span = stopped - start
    recv_sorted = sorted(recv_times)
    marks = (recv_sorted or [0]) + [send_span]
    gap, gap_start = 0, 0
    for a, b in zip(marks, marks[1:]):
        if b - a > gap:
            gap, gap_start = b - a, a

    rtts.sort()
    received = len(recv_times)
    out = {
        "sent": sent,
        "received": received,
        "lost": sent - received,
        "duplicates": dup,
        "send_errors": send_errors,
        "longest_gap_ms": round(gap / 1e6, 3),
        "longest_gap_start_ms": round(gap_start / 1e6, 3),
        "first_echo_ms": round(recv_sorted[0] / 1e6, 3) if recv_sorted else None,
        "start_unix": round(start_unix, 6),
        "max_send_gap_ms": round(max_send_gap / 1e6, 3),
        "rtt_ms_median": round(rtts[len(rtts) // 2] / 1e6, 3) if rtts else None,
        "rtt_ms_max": round(rtts[-1] / 1e6, 3) if rtts else None,
        "duration_s": round(send_span / 1e9, 3),
        "src": src,
    }
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
