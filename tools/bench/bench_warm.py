"""Warm exec (issue 19): exec `true` through init's pre-forked worker beside
today's path and the bwrap and fork+exec baselines, all sampled in one loop.
Today's path is taken with `"user": "root"` (exec_as never uses the worker;
it adds a lookup in the sandbox's /etc/passwd, a few microseconds)."""

import time

from bench_client import expect
from bench_common import HTTP_TIMEOUT, BenchError, dist, log, timed

# After a warm exec init forks the next worker; without a pause that fork
# runs during the today's-path exec timed next and slows it.
REFILL_PAUSE = 0.05


def exec_timed(c, sid, body):
    t, r = timed(c.s.post, f"{c.base}/hiveboxes/{sid}/exec", json=body, timeout=HTTP_TIMEOUT)
    expect(r, 200, f"exec {body} in {sid}")
    if r.json().get("exit_code") != 0:
        raise BenchError(f"exec {body} in {sid}: {r.text[:200]}")
    return t


def bench_warm_exec(args, c, sid, res):
    warm, cold = [], []
    for _ in range(args.n):
        args.baseline.sample(fork_exec=True)
        warm.append(exec_timed(c, sid, {"command": "true"}))
        time.sleep(REFILL_PAUSE)
        cold.append(exec_timed(c, sid, {"command": "true", "user": "root"}))
    res["exec_true_warm"], res["exec_true_cold"] = dist(warm), dist(cold)
    log(f"exec true warm p50 {res['exec_true_warm']['p50']:.2f} ms, today's path p50 "
        f"{res['exec_true_cold']['p50']:.2f} ms")


def warm_rows(res, rows, ms, ratio):
    w, cold = res.get("exec_true_warm"), res.get("exec_true_cold")
    b, f = res.get("bwrap", {}), res.get("fork_exec_true", {})
    if not w:
        return
    for p in ("p50", "p99"):
        r = ratio(w[p], b.get(p))
        rows.append((f"exec true, warm worker {p}", ms(w[p]), w[p], f"bwrap {p} {ms(b.get(p))}", r,
                     *(("<= 0.5x bwrap p50", r is not None and r <= 0.5) if p == "p50" else (None, None))))
        r = ratio(w[p], f.get(p))
        rows.append((f"exec true, warm worker vs fork+exec {p}", ms(w[p]), w[p],
                     f"fork+exec {p} {ms(f.get(p))}", r,
                     *(("<= 2x fork+exec p50", r is not None and r <= 2) if p == "p50" else (None, None))))
        rows.append((f"exec true, today's path (exec_as root) {p}", ms(cold[p]), cold[p],
                     f"bwrap {p} {ms(b.get(p))}", ratio(cold[p], b.get(p)), None, None))
