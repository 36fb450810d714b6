"""Warm exec (issue 19, opt-in: `--warm-exec`): exec `true` through init's
pre-forked worker, in a daemon of its own started with the flag, beside
today's path and the bwrap and fork+exec baselines, all sampled in one
loop. Today's path is timed twice: in the same --warm-exec sandbox with
`"user": "root"` (exec_as never uses the worker; it adds a lookup in the
sandbox's /etc/passwd, a few microseconds), and as a plain exec in the
default daemon's sandbox (no worker: the default). The three take turns
going first in each loop."""

import time

from bench_client import Client, create_ok, destroy_ok, expect
from bench_common import BenchError, dist, log, timed
from bench_daemon import SideDaemon, cleanup

# After a warm exec init forks the next worker; without a pause that fork
# runs during the today's-path exec timed next and slows it.
REFILL_PAUSE = 0.05


def exec_timed(c, sid, body):
    t, r = timed(c.thin.call, "POST", f"{c.path}/hiveboxes/{sid}/exec", body)
    expect(r, 200, f"exec {body} in {sid}")
    if r.json().get("exit_code") != 0:
        raise BenchError(f"exec {body} in {sid}: {r.text[:200]}")
    return t


def _sample(args, c, sid, wc, wsid):
    """The three execs of each loop in a rotating order: the first after the
    baseline's bwrap pays for its teardown (measured: ~30-60 ms p50 under
    load), so a fixed order would favour whichever comes later."""
    got = {"warm": [], "cold": [], "default": []}
    runs = (("warm", wc, wsid, {"command": "true"}),
            ("cold", wc, wsid, {"command": "true", "user": "root"}),
            ("default", c, sid, {"command": "true"}))
    for i in range(args.n):
        args.baseline.sample(fork_exec=True)
        for k in range(3):
            name, cl, s, body = runs[(i + k) % 3]
            got[name].append(exec_timed(cl, s, body))
            if name == "warm":
                time.sleep(REFILL_PAUSE)
    return got["warm"], got["cold"], got["default"]


def bench_warm_exec(args, c, sid, res):
    """c, sid: the default daemon's client and a sandbox of it."""
    wd = SideDaemon(args, "w", ["--warm-exec"])
    try:
        wd.start()
        wc = Client(wd)
        _, wsid = create_ok(wc, {"network": "none"})
        exec_timed(wc, wsid, {"command": "true"})   # the first exec arms the worker
        time.sleep(REFILL_PAUSE)
        warm, cold, default = _sample(args, c, sid, wc, wsid)
        destroy_ok(wc, wsid)
    finally:
        if wd.proc:
            cleanup(wd, args)
    res["exec_true_warm"], res["exec_true_cold"] = dist(warm), dist(cold)
    res["exec_true_default"] = dist(default)
    log(f"exec true warm p50 {res['exec_true_warm']['p50']:.2f} ms, today's path p50 "
        f"{res['exec_true_cold']['p50']:.2f} ms (exec_as root), "
        f"{res['exec_true_default']['p50']:.2f} ms (default daemon)")


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
        d = res.get("exec_true_default")
        if d:
            rows.append((f"exec true, default daemon (no --warm-exec) {p}", ms(d[p]), d[p],
                         f"warm worker {p} {ms(w[p])}", ratio(d[p], w[p]), None, None))
