"""The preview benchmark's client and server (stdlib only), run both on the
host (through the daemon's proxy) and inside the sandbox (straight to the
port), so both sides of the comparison use the same code.

  preview_probe.py serve PORT
      HTTP/1.1 on 127.0.0.1:PORT: GET /small -> "ok"; GET /big?n=N -> N bytes
  preview_probe.py get URL N [HEADER:VALUE]...
      N sequential GETs, a new connection each (the proxy closes every
      preview connection): JSON {"samples_ms": [...]}
  preview_probe.py rate URL SECONDS THREADS [HEADER:VALUE]...
      as many GETs as THREADS clients manage in SECONDS: {"requests", "seconds"}
  preview_probe.py big URL BYTES [HEADER:VALUE]...
      one GET of BYTES, read and dropped: {"bytes", "seconds"}
"""
import http.client
import json
import socket
import sys
import threading
import time
import urllib.parse

CHUNK = b"\0" * (1 << 20)


def serve(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(256)
    while True:
        c, _ = s.accept()
        threading.Thread(target=answer, args=(c,), daemon=True).start()


def answer(c):
    try:
        head = b""
        while b"\r\n\r\n" not in head:
            b = c.recv(4096)
            if not b:
                return
            head += b
        target = head.split(b" ", 2)[1].decode()
        if target.startswith("/big"):
            n = int(target.split("=", 1)[1])
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % n)
            while n:
                k = min(n, len(CHUNK))
                c.sendall(CHUNK[:k])
                n -= k
        else:
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
    except OSError:
        pass
    finally:
        c.close()


def one(u, headers, sink=False):
    c = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=60)
    c.request("GET", u.path + ("?" + u.query if u.query else ""), headers=headers)
    r = c.getresponse()
    n = 0
    while True:
        b = r.read(1 << 20)
        if not b:
            break
        n += len(b)
    c.close()
    if r.status != 200:
        raise SystemExit(f"GET {u.geturl()}: HTTP {r.status}")
    return n


def main(argv):
    if argv[0] == "serve":
        serve(int(argv[1]))
    u = urllib.parse.urlsplit(argv[1])
    extra = argv[4:] if argv[0] == "rate" else argv[3:]
    headers = dict(h.split(":", 1) for h in extra)
    if argv[0] == "get":
        out = []
        for _ in range(int(argv[2])):
            t0 = time.perf_counter_ns()
            one(u, headers)
            out.append((time.perf_counter_ns() - t0) / 1e6)
        print(json.dumps({"samples_ms": out}))
    elif argv[0] == "rate":
        secs, count, stop = float(argv[2]), [0], time.monotonic() + float(argv[2])

        def loop():
            while time.monotonic() < stop:
                one(u, headers)
                count[0] += 1
        ts = [threading.Thread(target=loop) for _ in range(int(argv[3]))]
        t0 = time.monotonic()
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        print(json.dumps({"requests": count[0], "seconds": time.monotonic() - t0}))
    elif argv[0] == "big":
        t0 = time.perf_counter()
        n = one(u, headers)
        print(json.dumps({"bytes": n, "seconds": time.perf_counter() - t0}))


main(sys.argv[1:])
