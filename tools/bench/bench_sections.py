"""The measured sections: create/destroy, exec, files, concurrency, density."""

import os
import subprocess
import sys
import tempfile
import time

import requests

from bench_baseline import bwrap_idle_cost
from bench_client import Client, create_ok, destroy_ok, exec_ok, expect, parallel, quiet_destroy
from bench_dashboard import rows_at
from bench_density import density_extra
from bench_common import HTTP_TIMEOUT, MIB, BenchError, dist, log, timed
from bench_warm import bench_warm_exec
from bench_host import (cgroup_instance, cgroup_memory, idle_cpu_percent, mem_available,
                        meminfo, pss_bytes)

# ---- HiveBox sections ----------------------------------------------------

def bench_create_destroy(args, d, res, notes):
    c = Client(d)
    # Warm-up (not measured): first create pays cold caches.
    for _ in range(2):
        _, sid = create_ok(c, {"network": "none"})
        exec_ok(c, sid, "true")
        destroy_ok(c, sid)
    times, ids = [], []
    for _ in range(args.n):
        args.baseline.sample()
        t, sid = create_ok(c, {"network": "none"})
        times.append(t)
        ids.append(sid)
    res["create_none"] = dist(times)
    res["destroy"] = dist([destroy_ok(c, sid) for sid in ids])
    log(f"create p50 {res['create_none']['p50']:.1f} ms, destroy p50 {res['destroy']['p50']:.1f} ms")

    t, r = c.create({"network": "isolated"})
    if r.status_code == 400:
        notes.append(f"network isolated: not measured, the daemon answered 400: {r.text[:200]}")
        return
    if r.status_code != 201:
        notes.append(f"network isolated: not measured, HTTP {r.status_code}: {r.text[:200]}")
        return
    destroy_ok(c, r.json()["id"])
    times, ids = [], []
    for _ in range(args.n):
        t, sid = create_ok(c, {"network": "isolated"}, "create isolated")
        times.append(t)
        ids.append(sid)
    res["create_isolated"] = dist(times)
    res["destroy_isolated"] = dist([destroy_ok(c, sid) for sid in ids])


def bench_exec(args, d, res, notes):
    c = Client(d)
    _, sid = create_ok(c, {"network": "none"})
    try:
        for _ in range(5):
            exec_ok(c, sid, "true")
        # Floors of the API path: civetweb alone, then gateway -> actors -> reply.
        res["api_healthz"] = dist([timed(c.thin.call, "GET", "/healthz")[0]
                                   for _ in range(args.n)])
        res["api_get_sandbox"] = dist([c.get(f"/hiveboxes/{sid}")[0] for _ in range(args.n)])
        res["api_get_sandbox_requests"] = dist([timed(c.s.get, f"{c.base}/hiveboxes/{sid}")[0]
                                                for _ in range(args.n)])
        times, inside = [], []
        for _ in range(args.n):
            args.baseline.sample(fork_exec=True)
            times.append(exec_ok(c, sid, "true", durations=inside))
        res["exec_true"] = dist(times)
        res["exec_true_duration_ms"] = dist(inside)
        big = "head -c 1048576 /dev/zero | tr '\\000' a"
        exec_ok(c, sid, big, MIB)
        inside = []
        res["exec_1mib"] = dist([exec_ok(c, sid, big, MIB, durations=inside)
                                 for _ in range(max(5, args.n // 4))])
        res["exec_1mib_duration_ms"] = dist(inside)
        log(f"exec true p50 {res['exec_true']['p50']:.2f} ms, 1 MiB p50 "
            f"{res['exec_1mib']['p50']:.2f} ms")
        bench_warm_exec(args, c, sid, res)
    finally:
        destroy_ok(c, sid)


class FileRoundTrip(BenchError):
    """The server refused the upload (e.g. 413): reported, not fatal."""


def file_round_trips(session, url, params, payload, reps):
    """Upload then download payload reps times; MB/s (10^6 bytes/s) of each."""
    size = len(payload)
    up, down = [], []
    for _ in range(reps):
        t, r = timed(session.put, url, params=params, data=payload, timeout=HTTP_TIMEOUT,
                     headers={"Content-Type": "application/octet-stream"})
        if r.status_code == 413:
            raise FileRoundTrip(f"upload of {size // MIB} MiB refused with 413: {r.text[:200]}")
        expect(r, 200, "upload")
        up.append(size / (t / 1000) / 1e6)

        # Compared chunk by chunk as it arrives (startswith: a memcmp, no copy):
        # keeping 100 MiB of fresh chunks would time page faults, not the server.
        t0 = time.perf_counter_ns()
        r = session.get(url, params=params, stream=True, timeout=HTTP_TIMEOUT)
        expect(r, 200, "download")
        got, same = 0, True
        for chunk in r.iter_content(MIB):
            same = same and payload.startswith(chunk, got)
            got += len(chunk)
        t = (time.perf_counter_ns() - t0) / 1e6
        if got != size or not same:
            raise BenchError(f"download differs from what was uploaded ({got} of {size} bytes)")
        down.append(size / (t / 1000) / 1e6)
    return up, down


def throughput(up, down, size):
    def one(v):
        return {"bytes": size, "reps": len(v), "mb_s": sorted(v)[len(v) // 2], "all_mb_s": v}
    return one(up), one(down)


# A loopback server in its own process: it discards uploads and answers
# downloads with sendfile(2), so it is never the bottleneck and shows what
# this Python client can move at most.
CEILING_SERVER = r"""
import os, socket, sys
path = sys.argv[1]
size = os.path.getsize(path)
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(1)
print(srv.getsockname()[1], flush=True)
c, _ = srv.accept()
c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
f = c.makefile("rb")
buf = memoryview(bytearray(1 << 20))
while True:
    head = [f.readline()]
    if not head[0]:
        break
    while head[-1] not in (b"\r\n", b""):
        head.append(f.readline())
    if head[0].startswith(b"PUT"):
        left = [int(h.split(b":")[1]) for h in head if h.lower().startswith(b"content-length")][0]
        while left:
            left -= f.readinto(buf[:min(left, len(buf))])
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
    else:
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size)
        with open(path, "rb") as src:
            c.sendfile(src)
"""


def client_ceiling(payload, reps):
    with tempfile.NamedTemporaryFile(dir="/var/tmp", prefix="hivebox-bench-") as tf:
        tf.write(payload)
        tf.flush()
        srv = subprocess.Popen([sys.executable, "-c", CEILING_SERVER, tf.name],
                               stdout=subprocess.PIPE, text=True)
        try:
            port = int(srv.stdout.readline())
            with requests.Session() as s:
                return file_round_trips(s, f"http://127.0.0.1:{port}/x", {}, payload, reps)
        finally:
            srv.kill()
            srv.wait()


def bench_files(args, d, res, notes):
    c = Client(d)
    size = args.file_mib * MIB
    payload = os.urandom(size)
    up, down = client_ceiling(payload, args.file_reps)
    res["client_ceiling_upload"], res["client_ceiling_download"] = throughput(up, down, size)
    _, sid = create_ok(c, {"network": "none"})
    res["files_daemon_before"] = d.status()
    try:
        up, down = file_round_trips(c.s, f"{c.base}/hiveboxes/{sid}/files",
                                    {"path": "/root/bench.bin"}, payload, args.file_reps)
        res["upload"], res["download"] = throughput(up, down, size)
        log(f"upload {res['upload']['mb_s']:.0f} MB/s, download {res['download']['mb_s']:.0f} "
            f"MB/s (client ceiling {res['client_ceiling_upload']['mb_s']:.0f} / "
            f"{res['client_ceiling_download']['mb_s']:.0f})")
    except FileRoundTrip as ex:
        notes.append(str(ex))
    finally:
        res["files_daemon_after"] = d.status()
        destroy_ok(c, sid)


def bench_concurrent(args, d, res, notes):
    total, workers = args.concurrent_total, args.concurrency
    t0 = time.perf_counter()
    out = parallel(d, lambda c, _: create_ok(c, {"network": "none"}), range(total), workers)
    wall = time.perf_counter() - t0
    ids = [sid for _, sid in out]
    t0 = time.perf_counter()
    dts = parallel(d, destroy_ok, ids, workers)
    dwall = time.perf_counter() - t0
    res["create_concurrent"] = {"creates": total, "clients": workers, "per_s": total / wall,
                                "latency": dist([t for t, _ in out])}
    res["destroy_concurrent"] = {"destroys": total, "clients": workers, "per_s": total / dwall,
                                 "latency": dist(dts)}
    log(f"{workers} clients: {total / wall:.1f} creates/s, {total / dwall:.1f} destroys/s")


def check_exec(d, ids, args):
    """How many of ids answer `true` (all, or a spread-out sample)."""
    if args.density_check and args.density_check < len(ids):
        step = len(ids) / args.density_check
        ids = [ids[int(i * step)] for i in range(args.density_check)]

    def one(c, sid):
        try:
            exec_ok(c, sid, "true")
            return True
        except (BenchError, requests.RequestException):
            return False

    ok = parallel(d, one, ids, args.concurrency)
    return sum(ok), len(ok)


def bench_density(args, d, res, notes):
    levels = sorted(args.density)
    c = Client(d)
    leftover = c.list_ids()
    if leftover:
        raise BenchError(f"density needs an empty daemon; {len(leftover)} sandboxes are alive")
    res["bwrap_idle"] = bwrap_idle_cost(min(100, levels[0]), args.settle)
    time.sleep(args.settle)
    mem0, st0 = mem_available(), d.status()
    out = {"mem_available_before": mem0, "daemon_before": st0, "levels": []}
    out["meminfo_before"] = meminfo()
    res["density"] = out
    ids = []
    try:
        for level in levels:
            need = level - len(ids)
            t0 = time.perf_counter()

            def mk(cl, _):
                try:
                    return create_ok(cl, {"network": "none"})[1]
                except (BenchError, requests.RequestException) as ex:
                    return ex

            made = parallel(d, mk, range(need), args.concurrency)
            wall = time.perf_counter() - t0
            errs = [m for m in made if not isinstance(m, str)]
            ids += [m for m in made if isinstance(m, str)]
            time.sleep(args.settle)
            answering, checked = check_exec(d, ids, args)
            idle_cpu = (idle_cpu_percent(d.pid(), max(3.0, args.settle)) if d.alive()
                        else None)
            mem1, st = mem_available(), d.status()
            pss = [pss_bytes(pid) for _, pid, _ in d.init_pids()]
            pss = [p for p in pss if p is not None]
            cgm = cgroup_memory(cgroup_instance(d.data_dir))
            row = {"target": level, "alive": len(ids), "create_errors": len(errs),
                   "first_error": str(errs[0])[:300] if errs else None,
                   "creates_per_s": need / wall if wall else None,
                   "exec_checked": checked, "exec_answered": answering,
                   "mem_available": mem1,
                   "idle_cost_per_sandbox_bytes": (mem0 - mem1) / len(ids) if ids else None,
                   "daemon": st, "daemon_idle_cpu_percent": idle_cpu,
                   "init_pss_mean_bytes": sum(pss) / len(pss) if pss else None,
                   "cgroup_charged_per_sandbox_bytes": cgm / len(ids) if cgm and ids else None}
            # Noise-free on a shared host: what the kernel charged to the
            # sandboxes' cgroups plus what the daemon grew by, per sandbox.
            if row["cgroup_charged_per_sandbox_bytes"] and st.get("rss_bytes") and ids:
                row["accounted_cost_per_sandbox_bytes"] = (
                    row["cgroup_charged_per_sandbox_bytes"] +
                    (st["rss_bytes"] - st0.get("rss_bytes", 0)) / len(ids))
            out["levels"].append(row)
            log(f"{len(ids)} alive ({len(errs)} create errors): "
                f"{(mem0 - mem1) / max(1, len(ids)) / MIB:.2f} MiB each, daemon RSS "
                f"{st.get('rss_bytes', 0) / MIB:.1f} MiB, exec {answering}/{checked}")
            if errs:
                notes.append(f"density stopped at {len(ids)} sandboxes: {str(errs[0])[:200]}")
                break
        density_extra(args, d, res, ids, check_exec)
        if "dashboard" in args.only and ids:
            rows_at(args, d, res, notes, len(ids))
    finally:
        t0 = time.perf_counter()
        parallel(d, quiet_destroy, ids, args.concurrency)
        out["destroy_all_s"] = time.perf_counter() - t0
        time.sleep(args.settle)
        out["mem_available_after_destroy"] = mem_available()
        out["daemon_after_destroy"] = d.status()
