#!/usr/bin/python3
"""A VoIP provider's SIP server, as far as a drill can tell: answers every
SIP OPTIONS request over UDP with "200 OK", copying the headers a response
must carry (Via, From, To, Call-ID, CSeq) and adding a To tag (RFC 3261
8.2.6).  Other methods get "405 Method Not Allowed".  One line per request
goes to --log, so a test can see which address asked.  --drop-first N
ignores the first N requests (logged as DROPPED), as a lossy link would.

usage: sipresponder.py ADDR PORT [--log FILE] [--drop-first N]
"""
import argparse
import socket
import sys

COPY = ("via", "v", "from", "f", "to", "t", "call-id", "i", "cseq")


def answer(req):
    lines = req.split("\r\n")
    method = lines[0].split(" ", 1)[0]
    code = "200 OK" if method == "OPTIONS" else "405 Method Not Allowed"
    out = ["SIP/2.0 " + code]
    for line in lines[1:]:
        name = line.split(":", 1)[0].strip().lower()
        if name in COPY:
            if name in ("to", "t") and ";tag=" not in line:
                line += ";tag=lab1"
            out.append(line)
    out += ["Allow: INVITE, ACK, CANCEL, OPTIONS, BYE", "Content-Length: 0", "", ""]
    return method, "\r\n".join(out)


def main():
    ap = argparse.ArgumentParser(description="SIP OPTIONS responder")
    ap.add_argument("addr")
    ap.add_argument("port", type=int)
    ap.add_argument("--log")
    ap.add_argument("--drop-first", type=int, default=0)
    args = ap.parse_args()
    drop = args.drop_first
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((args.addr, args.port))
    log = open(args.log, "a", buffering=1) if args.log else None
    while True:
        data, peer = sock.recvfrom(4096)
        if drop > 0:
            drop -= 1
            if log:
                log.write("DROPPED %s:%d\n" % peer)
            continue
        try:
            method, resp = answer(data.decode("utf-8", "replace"))
        except Exception as e:  # a malformed datagram must not stop the server
            print("bad request from %s: %s" % (peer, e), file=sys.stderr)
            continue
        sock.sendto(resp.encode(), peer)
        if log:
            log.write("%s %s:%d\n" % (method, peer[0], peer[1]))


if __name__ == "__main__":
    main()
