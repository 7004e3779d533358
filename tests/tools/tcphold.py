#!/usr/bin/python3
"""A long-lived TCP flow, to see what a failover does to existing connections.

  tcphold.py server ADDR PORT
      Accepts connections; sends 100 bytes every 50 ms to each, forever
      (one thread per connection).

  tcphold.py client ADDR PORT --timeout S --mark FILE [--idle S]
      Connects and reads. Touches FILE once connected and the first bytes
      have arrived, so a test knows the flow is established before it
      injects a fault. When the connection ends prints one JSON line,
      {"result": ..., "t_end": <CLOCK_REALTIME float>, "bytes": N, ...},
      and exits 0. result is:
        "reset"    the connection was reset (RST received)
        "eof"      the peer closed it (FIN)
        "timeout"  still alive after --timeout seconds from connecting
        "idle"     no data for --idle seconds (only with --idle)
        "error"    another socket error (errno in "error")
      If the connection cannot be made at all, result is "connect_failed"
      and the exit code is 2.
"""
import argparse
import errno
import json
import socket
import sys
import threading
import time

CHUNK = b"x" * 100
PERIOD = 0.05


def serve_one(conn):
    with conn:
        try:
            while True:
                conn.sendall(CHUNK)
                time.sleep(PERIOD)
        except OSError:
            pass


def server(addr, port):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, port))
    ls.listen(128)
    while True:
        conn, _ = ls.accept()
        threading.Thread(target=serve_one, args=(conn,), daemon=True).start()


def report(result, t_connect, nbytes, code=0, **extra):
    out = {"result": result, "t_end": time.time(), "bytes": nbytes,
           "held_s": round(time.monotonic() - t_connect, 3) if t_connect else 0.0}
    out.update(extra)
    print(json.dumps(out), flush=True)
    sys.exit(code)


def client(addr, port, timeout, mark, idle):
    try:
        sock = socket.create_connection((addr, port), timeout=timeout)
    except OSError as e:
        report("connect_failed", None, 0, code=2,
               error=errno.errorcode.get(e.errno, str(e)) if e.errno else str(e))
    t_connect = time.monotonic()
    deadline = t_connect + timeout
    nbytes = 0
    marked = False
    while True:
        now = time.monotonic()
        if now >= deadline:
            report("timeout", t_connect, nbytes)
        wait = deadline - now
        if idle:
            wait = min(wait, idle)
        sock.settimeout(wait)
        try:
            data = sock.recv(65536)
        except socket.timeout:
            if idle and time.monotonic() < deadline:
                report("idle", t_connect, nbytes)
            continue
        except ConnectionResetError:
            report("reset", t_connect, nbytes)
        except OSError as e:
            report("error", t_connect, nbytes,
                   error=errno.errorcode.get(e.errno, str(e)) if e.errno else str(e))
        if not data:
            report("eof", t_connect, nbytes)
        nbytes += len(data)
        if not marked and mark:
            open(mark, "a").close()
            marked = True


def main():
    ap = argparse.ArgumentParser(description="long-lived TCP flow server/client")
    sub = ap.add_subparsers(dest="mode", required=True)
    s = sub.add_parser("server")
    s.add_argument("addr")
    s.add_argument("port", type=int)
    c = sub.add_parser("client")
    c.add_argument("addr")
    c.add_argument("port", type=int)
    c.add_argument("--timeout", type=float, required=True,
                   help="seconds to hold the connection before reporting timeout")
    c.add_argument("--mark", help="file to touch once data flows")
    c.add_argument("--idle", type=float, default=0.0,
                   help="report 'idle' after this many seconds without data")
    args = ap.parse_args()
    if args.mode == "server":
        server(args.addr, args.port)
    else:
        client(args.addr, args.port, args.timeout, args.mark, args.idle)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)
