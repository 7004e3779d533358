#!/usr/bin/python3
"""UDP echo server for the lab's inet namespace.

Sends every datagram back to its sender unchanged. With --log FILE it also
appends one line per datagram, "<seq> <srcip>:<srcport>", where seq is the
payload's first 8 bytes as a big-endian uint64 (udpstream.py puts its
sequence number there), or "-" for shorter payloads. Tests read that log to
see which source address and port (i.e. which uplink's NAT) each datagram
arrived from. With --tell, each answer is the datagram followed by the
sender's address and port as seen here (4 + 2 bytes, network order), so
the sender itself sees which uplink's NAT carried it (manyflows.py).

usage: udpecho.py ADDR PORT [--log FILE] [--tell]
"""
import argparse
import socket
import struct
import sys


def main():
    ap = argparse.ArgumentParser(description="UDP echo server")
    ap.add_argument("addr")
    ap.add_argument("port", type=int)
    ap.add_argument("--log", help="append '<seq> <ip>:<port>' per datagram")
    ap.add_argument("--tell", action="store_true",
                    help="append the sender's address and port to each answer")
    args = ap.parse_args()

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # A deep receive queue so a 1 kHz stream is not dropped here while
    # the log write is slow.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    sock.bind((args.addr, args.port))

    # Line-buffered so a test can read the log while the server still runs.
    log = open(args.log, "a", buffering=1) if args.log else None
    while True:
        data, peer = sock.recvfrom(65535)
        try:
            if args.tell:
                sock.sendto(data + socket.inet_aton(peer[0]) + struct.pack("!H", peer[1]), peer)
            else:
                sock.sendto(data, peer)
        except OSError:
            # No route back (a fault is being injected): keep serving.
            pass
        if log:
            seq = struct.unpack_from("!Q", data)[0] if len(data) >= 8 else "-"
            log.write(f"{seq} {peer[0]}:{peer[1]}\n")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
