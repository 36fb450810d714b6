"""Issue 19's warm-pool figures, on a second daemon started with
`--pool base:none=N` (its own data dir and bridge):

  create p50/p99 from the pool (each measured create waits until the pool
  is full again, so every one is a hit, checked on the pool's own counter)
  and without it (a create with another memory limit: its /dev/shm size
  is fixed at launch, so the pool cannot serve it: the full path on the
  same daemon under the same load), each beside `bwrap --unshare-all
  true` sampled interleaved in the same loop, and a GET of the new sandbox
  (the API's own round trip, the floor under any create);
  creates per second from 8 clients, each looping create + destroy for
  --pool-duration seconds (60 in `make bench`), with the pool on (this
  daemon) and off (the main daemon, no pool), with the pool's hit ratio.
"""

import copy
import threading
import time

from bench_baseline import bwrap_once
from bench_client import Client, create_ok, destroy_ok, expect
from bench_common import HTTP_TIMEOUT, BenchError, dist, log
from bench_daemon import Daemon, cleanup

POOL_SIZE = 8


class PoolDaemon(Daemon):
    """The benchmark's daemon with a warm pool; its own data dir and bridge."""

    def __init__(self, args):
        own = copy.copy(args)
        own.data_dir, own.daemon_wrapper = None, ""
        own.bridge, own.subnet = (args.bridge + "p")[:15], None
        super().__init__(own)

    def argv(self):
        return super().argv() + ["--pool", f"base:none={POOL_SIZE}"]


def pool_state(c):
    r = expect(c.s.get(c.base + "/analytics", timeout=HTTP_TIMEOUT), 200, "analytics")
    return r.json()["pool"]["entries"][0]


def wait_full(c, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        s = pool_state(c)
        if s["ready"] == POOL_SIZE and s["starting"] == 0:
            return s
        time.sleep(0.02)
    raise BenchError(f"the pool did not refill to {POOL_SIZE} within {timeout} s")


def sequential(args, pd, out):
    c = Client(pd)
    wait_full(c)
    for _ in range(2):   # warm-up, not measured
        destroy_ok(c, create_ok(c, {"network": "none"})[1])
        wait_full(c)
    hit, miss, bwrap, floor = [], [], [], []
    hits0 = pool_state(c)["hits"]
    for _ in range(args.n):
        bwrap.append(bwrap_once())
        t, sid = create_ok(c, {"network": "none"}, "create from the pool")
        hit.append(t)
        t, r = c.get(f"/hiveboxes/{sid}")
        expect(r, 200, "get")
        floor.append(t)
        destroy_ok(c, sid)
        bwrap.append(bwrap_once())
        t, sid = create_ok(c, {"network": "none", "memory": "256m"}, "create without the pool")
        miss.append(t)
        destroy_ok(c, sid)
        wait_full(c)
    hits = pool_state(c)["hits"] - hits0
    if hits != args.n:
        raise BenchError(f"{args.n} creates meant for the pool, {hits} served by it")
    out["create_from_pool"], out["create_without_pool"] = dist(hit), dist(miss)
    out["bwrap"], out["api_get_sandbox"] = dist(bwrap), dist(floor)
    log(f"create from the pool p50 {out['create_from_pool']['p50']:.2f} ms, without "
        f"{out['create_without_pool']['p50']:.2f} ms, bwrap {out['bwrap']['p50']:.2f} ms, "
        f"GET of a sandbox {out['api_get_sandbox']['p50']:.2f} ms")


def sustained(d, seconds, clients):
    """clients threads looping create + destroy for `seconds`: creates/s."""
    stop = time.monotonic() + seconds
    counts, errors, lat = [0] * clients, [], []
    lock = threading.Lock()

    def loop(i):
        c = Client(d)
        while time.monotonic() < stop and not errors:
            try:
                t, sid = create_ok(c, {"network": "none"})
                with lock:
                    lat.append(t)
                counts[i] += 1
                destroy_ok(c, sid)
            except Exception as ex:  # the first error ends the run, reported below
                errors.append(str(ex))

    t0 = time.perf_counter()
    threads = [threading.Thread(target=loop, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    if errors:
        raise BenchError(f"sustained creates: {errors[0]}")
    return {"creates": sum(counts), "clients": clients, "seconds": round(wall, 2),
            "per_s": sum(counts) / wall, "latency": dist(lat)}


def bench_pool(args, d, res, notes):
    out = res["pool"] = {"size": POOL_SIZE, "duration_s": args.pool_duration}
    pd = PoolDaemon(args)
    try:
        pd.start()
        sequential(args, pd, out)
        c = Client(pd)
        wait_full(c)
        before = pool_state(c)
        out["concurrent_on"] = sustained(pd, args.pool_duration, args.concurrency)
        after = pool_state(c)
        served = after["hits"] - before["hits"]
        out["concurrent_on"]["from_pool"] = served
        out["concurrent_off"] = sustained(d, args.pool_duration, args.concurrency)
        log(f"{args.concurrency} clients for {args.pool_duration} s: pool on "
            f"{out['concurrent_on']['per_s']:.1f} creates/s ({served} of "
            f"{out['concurrent_on']['creates']} from the pool), off "
            f"{out['concurrent_off']['per_s']:.1f} creates/s")
    finally:
        if pd.proc:
            cleanup(pd, args)


def pool_rows(res, rows, ms):
    p = res.get("pool") or {}
    b = (p.get("bwrap") or {}).get("p50")
    for key, name, target, limit in (("create_from_pool", "create from the warm pool", "<= 0.2x "
                                      "bwrap and <= 2 ms", 0.2),
                                     ("create_without_pool", "create the pool cannot serve",
                                      "<= 1x bwrap", 1.0)):
        d = p.get(key)
        if not d:
            continue
        r = d["p50"] / b if b else None
        met = r is not None and r <= limit and (limit == 1.0 or d["p50"] <= 2.0)
        rows.append((f"{name} p50", ms(d["p50"]), d["p50"], f"bwrap p50 {ms(b)} (same loop)", r,
                     target, met))
        rows.append((f"{name} p99", ms(d["p99"]), d["p99"], "", None, None, None))
    g = p.get("api_get_sandbox")
    if g:
        rows.append(("API floor in the pool's loop: GET /hiveboxes/:id p50", ms(g["p50"]),
                     g["p50"], "", None, None, None))
    on, off = p.get("concurrent_on"), p.get("concurrent_off")
    if on and off:
        rows.append((f"creates/s, {on['clients']} clients, {p['duration_s']} s, pool on",
                     f"{on['per_s']:.1f} /s", on["per_s"],
                     f"pool off {off['per_s']:.1f} /s; {on['from_pool']} of {on['creates']} "
                     "from the pool", on["per_s"] / off["per_s"] if off["per_s"] else None,
                     None, None))
