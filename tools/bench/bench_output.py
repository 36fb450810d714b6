"""Load held: exec output (issue 10, item 5). Sixteen concurrent execs each
print 20 MB of NUL bytes (six bytes each once JSON-escaped) in one sandbox;
the daemon buffers at most the per-stream cap of each under one global
budget and streams the JSON. Reported: the run's wall time, the daemon's
RSS before, its peak during the run (sampled every 20 ms: VmHWM would
include the earlier sections) and after. Figures only, never asserted."""

import threading
import time

from bench_client import Client, create_ok, destroy_ok, expect, parallel
from bench_common import BenchError, log
from bench_host import proc_status

EXECS = 16
COMMAND = "head -c 20000000 /dev/zero"


def rss(d):
    return proc_status(d.pid()).get("rss_bytes")


def bench_output(args, d, res, notes):
    c = Client(d)
    _, sid = create_ok(c, {"network": "none", "memory": "256m"})
    try:
        time.sleep(args.settle)
        before, peak, done = rss(d), [0], threading.Event()

        def sample():
            while not done.is_set():
                peak[0] = max(peak[0], rss(d) or 0)
                time.sleep(0.02)

        t = threading.Thread(target=sample)
        t.start()
        t0 = time.perf_counter()
        try:
            sizes = parallel(d, lambda cl, _: one(cl, sid), range(EXECS), EXECS)
        finally:
            done.set()
            t.join()
        wall = time.perf_counter() - t0
        time.sleep(args.settle)
        res["output_load"] = {"execs": EXECS, "command": COMMAND, "wall_s": wall,
                              "rss_before_bytes": before, "rss_peak_bytes": peak[0],
                              "rss_after_bytes": rss(d), "stdout_bytes": sizes}
        log(f"{EXECS} NUL floods: {wall:.1f} s, daemon RSS {before / 2**20:.0f} -> peak "
            f"{peak[0] / 2**20:.0f} -> {res['output_load']['rss_after_bytes'] / 2**20:.0f} MiB")
    finally:
        destroy_ok(c, sid)


def one(c, sid):
    _, r = c.exec(sid, COMMAND)
    expect(r, 200, "NUL flood exec")
    out = r.json().get("stdout", "")
    if out.count("\0") != len(out):
        raise BenchError("NUL flood exec: stdout is not NULs only")
    return len(out)
