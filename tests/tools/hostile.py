#!/usr/bin/python3
"""What a hostile LAN host (or the box itself) sends, for tests/hardening.sh.

  hostile.py portpair LOCAL_IP PORT HOST HPORT [--count N] [--wait S]
      Binds LOCAL_IP:PORT (UDP), sends N datagrams to HOST:HPORT, then
      counts what comes back to that socket for S seconds (or until --until
      FILE exists), and prints {"sent": N, "received": R, "from": [...]}.
      --ready FILE is touched once the first answer arrived.

  hostile.py echosweep TARGET [--first A] [--last B]
      ICMP echo requests to TARGET with every identifier from A to B (a
      raw socket, so the identifiers are ours), as fast as the socket
      takes them; prints {"sent": N}.

  hostile.py spoof SRC DST DPORT [--count N]
      UDP datagrams with a forged source address SRC (raw socket,
      IP_HDRINCL); prints {"sent": N}.

  hostile.py idleconn HOST PORT --ready FILE --go FILE
      An HTTP connection that stays silent: connects, writes its local
      port into FILE, waits until --go exists, then sends a GET on that same
      connection and prints {"result": "ok" | "reset" | ..., "status": line}.

  hostile.py blindrst SRC SPORT DST DPORT [--count N] [--fin]
      What a blind attacker sends at a connection it does not see: TCP RSTs
      (or FINs) from SRC:SPORT to DST:DPORT with random sequence numbers;
      prints {"sent": N}.
"""
import argparse
import json
import os
import socket
import struct
import time


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def portpair(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((a.local_ip, a.port))
    for i in range(a.count):
        s.sendto(b"portpair %d from %s:%d" % (i, a.local_ip.encode(), a.port), (a.host, a.hport))
        time.sleep(0.01)
    s.settimeout(0.1)
    got, peers, ready = 0, set(), False
    end = time.monotonic() + a.wait
    while time.monotonic() < end:
        if a.until and os.path.exists(a.until):
            break
        try:
            _, peer = s.recvfrom(2048)
        except socket.timeout:
            continue
        got += 1
        peers.add("%s:%d" % peer)
        if a.ready and not ready:
            open(a.ready, "a").close()
            ready = True
    print(json.dumps({"sent": a.count, "received": got, "from": sorted(peers)}))


def echosweep(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
    sent = 0
    for ident in range(a.first, a.last + 1):
        body = b"sweep"
        hdr = struct.pack("!BBHHH", 8, 0, 0, ident, 1)
        pkt = struct.pack("!BBHHH", 8, 0, csum(hdr + body), ident, 1) + body
        while True:
            try:
                s.sendto(pkt, (a.target, 0))
                sent += 1
                break
            except BlockingIOError:
                time.sleep(0.001)
            except OSError:
                time.sleep(0.001)
    print(json.dumps({"sent": sent}))


def spoof(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
    src, dst = socket.inet_aton(a.src), socket.inet_aton(a.dst)
    sent = 0
    for i in range(a.count):
        payload = b"spoofed %d" % i
        ulen = 8 + len(payload)
        pseudo = src + dst + struct.pack("!BBH", 0, 17, ulen)
        udp = struct.pack("!HHHH", 40000 + i, a.dport, ulen, 0) + payload
        udp = udp[:6] + struct.pack("!H", csum(pseudo + udp) or 0xFFFF) + udp[8:]
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + ulen, i, 0x4000, 64, 17, 0, src, dst)
        ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
        s.sendto(ip + udp, (a.dst, 0))
        sent += 1
        time.sleep(0.002)
    print(json.dumps({"sent": sent}))


def idleconn(a):
    s = socket.create_connection((a.host, a.port), timeout=10)
    with open(a.ready + ".tmp", "w") as f:
        f.write("%d\n" % s.getsockname()[1])
    os.rename(a.ready + ".tmp", a.ready)
    while not os.path.exists(a.go):
        time.sleep(0.05)
    try:
        s.sendall(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n")
        data = s.recv(4096)
        res = {"result": "ok" if data else "eof", "status": data.split(b"\r\n")[0].decode(errors="replace")}
    except ConnectionResetError:
        res = {"result": "reset"}
    except OSError as e:
        res = {"result": "error", "error": e.errno}
    print(json.dumps(res))


def blindrst(a):
    import random
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
    src, dst = socket.inet_aton(a.src), socket.inet_aton(a.dst)
    flags = 0x11 if a.fin else 0x04  # FIN|ACK or RST
    for i in range(a.count):
        seq = random.getrandbits(32)
        ack = random.getrandbits(32) if a.fin else 0
        tcp = struct.pack("!HHIIBBHHH", a.sport, a.dport, seq, ack, 5 << 4, flags, 0, 0, 0)
        pseudo = src + dst + struct.pack("!BBH", 0, 6, len(tcp))
        tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), i, 0x4000, 64, 6, 0, src, dst)
        ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
        s.sendto(ip + tcp, (a.dst, 0))
        time.sleep(0.001)
    print(json.dumps({"sent": a.count}))


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    q = sub.add_parser("portpair")
    q.add_argument("local_ip")
    q.add_argument("port", type=int)
    q.add_argument("host")
    q.add_argument("hport", type=int)
    q.add_argument("--count", type=int, default=5)
    q.add_argument("--wait", type=float, default=2.0)
    q.add_argument("--ready")
    q.add_argument("--until")
    q = sub.add_parser("echosweep")
    q.add_argument("target")
    q.add_argument("--first", type=int, default=1)
    q.add_argument("--last", type=int, default=65535)
    q = sub.add_parser("spoof")
    q.add_argument("src")
    q.add_argument("dst")
    q.add_argument("dport", type=int)
    q.add_argument("--count", type=int, default=20)
    q = sub.add_parser("idleconn")
    q.add_argument("host")
    q.add_argument("port", type=int)
    q.add_argument("--ready", required=True)
    q.add_argument("--go", required=True)
    q = sub.add_parser("blindrst")
    q.add_argument("src")
    q.add_argument("sport", type=int)
    q.add_argument("dst")
    q.add_argument("dport", type=int)
    q.add_argument("--count", type=int, default=500)
    q.add_argument("--fin", action="store_true")
    a = p.parse_args()
    {"portpair": portpair, "echosweep": echosweep, "spoof": spoof, "idleconn": idleconn,
     "blindrst": blindrst}[a.cmd](a)


if __name__ == "__main__":
    main()
