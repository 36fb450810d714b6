"""The service test_preview.py runs inside a sandbox (python3, stdlib only):
one HTTP/1.1 server on 127.0.0.1:PORT whose paths each exercise a part of
the preview proxy. Raw sockets, so that it can also misbehave on purpose.

  GET  /echo            -> JSON: method, path, query, the headers it got
  GET  /sse             -> text/event-stream: "first", then "last" once
                           /tmp/sse-release exists (at most 60 s later)
  GET  /big?n=N         -> N bytes of the pattern bytes(range(256)) repeated
  POST /upload          -> reads the body (Content-Length or chunked):
                           JSON {"bytes": n, "sha256": hex}
  GET  /ws              -> WebSocket (RFC 6455): every frame echoed
  GET  /hostile/headers -> a status line, then header lines for ever
  GET  /hostile/line    -> a status line, then one header line of 1 MiB
  GET  /hostile/junk    -> bytes that are not HTTP
"""
import base64
import hashlib
import json
import os
import socket
import sys
import threading
import time

PATTERN = bytes(range(256)) * 4096   # 1 MiB
WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def read_head(f):
    line = f.readline(65536).decode("latin-1").rstrip("\r\n")
    method, target, _ = line.split(" ", 2)
    headers = []
    while True:
        h = f.readline(65536).decode("latin-1").rstrip("\r\n")
        if not h:
            break
        k, _, v = h.partition(":")
        headers.append([k.strip(), v.strip()])
    return method, target, headers


def get(headers, name):
    for k, v in headers:
        if k.lower() == name.lower():
            return v
    return None


def body_chunks(f, headers):
    if (get(headers, "Transfer-Encoding") or "").lower() == "chunked":
        while True:
            size = int(f.readline(100).split(b";")[0], 16)
            if size == 0:
                f.readline(100)
                return
            left = size
            while left:
                b = f.read(min(left, 1 << 20))
                left -= len(b)
                yield b
            f.readline(100)
    left = int(get(headers, "Content-Length") or 0)
    while left:
        b = f.read(min(left, 1 << 20))
        if not b:
            return
        left -= len(b)
        yield b


def reply(conn, status, body, ctype="application/json", extra=""):
    conn.sendall(f"HTTP/1.1 {status} X\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}"
                 f"\r\n{extra}Connection: close\r\n\r\n".encode() + body)


def ws_echo(conn, f, headers):
    key = get(headers, "Sec-WebSocket-Key")
    accept = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
    conn.sendall(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                  f"Connection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n").encode())
    while True:
        h = f.read(2)
        if len(h) < 2:
            return
        op, n = h[0] & 0x0F, h[1] & 0x7F
        if n == 126:
            n = int.from_bytes(f.read(2), "big")
        elif n == 127:
            n = int.from_bytes(f.read(8), "big")
        mask = f.read(4) if h[1] & 0x80 else b"\0\0\0\0"
        data = bytes(b ^ mask[i % 4] for i, b in enumerate(f.read(n)))
        out = bytes([0x80 | op])
        if n < 126:
            out += bytes([n])
        elif n < 65536:
            out += bytes([126]) + n.to_bytes(2, "big")
        else:
            out += bytes([127]) + n.to_bytes(8, "big")
        conn.sendall(out + data)
        if op == 8:
            return


def serve(conn):
    f = conn.makefile("rb")
    method, target, headers = read_head(f)
    path, _, query = target.partition("?")
    if path == "/echo":
        body = b"".join(body_chunks(f, headers))
        reply(conn, 200, json.dumps({"method": method, "path": path, "query": query,
                                     "headers": headers, "body_bytes": len(body)}).encode())
    elif path == "/sse":
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                     b"Cache-Control: no-cache\r\nConnection: close\r\n\r\ndata: first\n\n")
        for _ in range(600):
            if os.path.exists("/tmp/sse-release"):
                break
            time.sleep(0.1)
        conn.sendall(b"data: last\n\n")
    elif path == "/big":
        n = int(query.split("=", 1)[1])
        conn.sendall(f"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                     f"Content-Length: {n}\r\nConnection: close\r\n\r\n".encode())
        while n:
            k = min(n, len(PATTERN))
            conn.sendall(PATTERN[:k])
            n -= k
    elif path == "/upload":
        h, n = hashlib.sha256(), 0
        for b in body_chunks(f, headers):
            h.update(b)
            n += len(b)
        reply(conn, 200, json.dumps({"bytes": n, "sha256": h.hexdigest()}).encode())
    elif path == "/ws":
        ws_echo(conn, f, headers)
    elif path == "/hostile/headers":
        conn.sendall(b"HTTP/1.1 200 OK\r\n")
        while True:
            conn.sendall(b"X-Endless: " + b"a" * 100 + b"\r\n")
    elif path == "/hostile/line":
        conn.sendall(b"HTTP/1.1 200 OK\r\nX-Huge: " + b"b" * (1 << 20))
        time.sleep(5)
    elif path == "/hostile/junk":
        conn.sendall(b"\x00\x01garbage that is not HTTP\r\n\r\n")
    else:
        reply(conn, 404, b"{}")


def handle(conn):
    try:
        serve(conn)
    except OSError:
        pass
    finally:
        conn.close()


def main():
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", int(sys.argv[1])))
    s.listen(64)
    while True:
        c, _ = s.accept()
        threading.Thread(target=handle, args=(c,), daemon=True).start()


main()
