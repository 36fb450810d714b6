"""Load held (issue 10): what hostile HTTP clients cost everyone else.

- the authenticated list, p50/p99, on a fresh connection each time (what a
  new client meets), first with no idle connections, then while N idle
  connections (slowloris: half a request head, or nothing, then silence)
  are held open from 20 loopback addresses, under the per-address cap so
  the daemon really holds them; the daemon's RSS beside both;
- a body nested NEST levels deep sent to create: status and time, and
  whether the daemon is still there.

Timings are reported, never asserted."""

import socket
import time

import requests

from bench_client import Client
from bench_common import HTTP_TIMEOUT, BenchError, dist, log, timed

HEADS = (b"", b"GET /api/v1/hiveboxes HTTP/1.1\r\n",
         b"POST /api/v1/hiveboxes HTTP/1.1\r\nHost: x\r\n")
SOURCES = [f"127.0.0.{i}" for i in range(2, 22)]


def hold_idle(port, n):
    """n connections spread over SOURCES, each sending a partial head."""
    socks = []
    try:
        for i in range(n):
            s = socket.socket()
            s.bind((SOURCES[i % len(SOURCES)], 0))
            s.settimeout(10)
            s.connect(("127.0.0.1", port))
            if HEADS[i % len(HEADS)]:
                s.send(HEADS[i % len(HEADS)])
            socks.append(s)
    except OSError as ex:
        for s in socks:
            s.close()
        raise BenchError(f"could not hold {n} idle connections ({len(socks)} opened): {ex}")
    return socks


def held_by_daemon(port):
    """Server-side ESTABLISHED connections on port (the kernel's table)."""
    n = 0
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            n += fields[3] == "01" and int(fields[1].split(":")[1], 16) == port
    return n


def fresh_lists(d, n):
    """n authenticated lists, each on a new connection."""
    h = {"Authorization": f"Bearer {d.key}"}
    out = []
    for _ in range(n):
        t, r = timed(requests.get, d.url + "/api/v1/hiveboxes", headers=h, timeout=HTTP_TIMEOUT)
        if r.status_code != 200:
            raise BenchError(f"list under load: HTTP {r.status_code}: {r.text[:200]}")
        out.append(t)
    return out


def bench_hostile(args, d, res, notes):
    Client(d).list_ids()   # warm
    rss0 = d.status().get("rss_bytes")
    res["load_list_quiet"] = dist(fresh_lists(d, args.n))
    socks = hold_idle(d.port, args.idle)
    try:
        time.sleep(0.5)
        held = held_by_daemon(d.port)
        res["load_list_idle"] = dict(dist(fresh_lists(d, args.n)), idle=args.idle, held=held,
                                     rss_quiet_bytes=rss0,
                                     rss_idle_bytes=d.status().get("rss_bytes"))
    finally:
        for s in socks:
            s.close()
    log(f"list p50 {res['load_list_quiet']['p50']:.2f} ms quiet, "
        f"{res['load_list_idle']['p50']:.2f} ms with {held} idle connections held")

    body = '{"skills":' + "[" * args.nest + "]" * args.nest + "}"
    times, status = [], None
    for _ in range(max(3, args.n // 10)):
        try:
            t, r = timed(requests.post, d.url + "/api/v1/hiveboxes", data=body,
                         timeout=HTTP_TIMEOUT, headers={"Authorization": f"Bearer {d.key}",
                                                        "Content-Type": "application/json"})
        except requests.RequestException as ex:
            status = f"no answer ({type(ex).__name__})"
            break
        times.append(t)
        status = r.status_code
    res["load_nested"] = dict(dist(times), levels=args.nest, status=status, alive=d.alive())
    if not d.alive():
        notes.append(f"the daemon died on a body nested {args.nest} levels deep")
