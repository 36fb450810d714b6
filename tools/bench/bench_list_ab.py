#!/usr/bin/python3
"""List, analytics and get at scale, two builds side by side (issue 19).

One data dir, one set of idle sandboxes (network none): at each level the
daemon is started from build A (the baseline), then from build B on the
same sandboxes (re-attached), and GET /hiveboxes, GET /analytics and
GET /hiveboxes/:id are timed REPS times each, after the same number of
metrics samples (--samples). Alternating builds on the same sandboxes in
one run keeps the host's load the same for both, as far as a shared host
allows. Everything is destroyed at the end.

    /usr/bin/python3 tools/bench/bench_list_ab.py --build-a /work/main/build \\
        --build-b build --levels 1000,2000
"""

import argparse
import os
import secrets
import subprocess
import sys
import time
import types

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_client import Client, create_ok, parallel  # noqa: E402
from bench_common import HTTP_TIMEOUT, log  # noqa: E402
from bench_daemon import Daemon, cleanup  # noqa: E402
from bench_density import api_times, running_count  # noqa: E402

REPS = 10
SAMPLE_S = 10


def parse():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--build-a", required=True, help="the baseline build dir")
    p.add_argument("--build-b", required=True, help="the build under test")
    p.add_argument("--levels", default="1000,2000")
    p.add_argument("--samples", type=int, default=3,
                   help="metrics samples in the history when analytics is timed")
    p.add_argument("--image", default="/var/lib/hivebox/images/base")
    p.add_argument("--concurrency", type=int, default=8)
    a = p.parse_args()
    a.levels = sorted(int(x) for x in a.levels.split(","))
    return a


def daemon_args(a):
    # A bridge name of our own (no network is used, but the daemon makes it).
    return types.SimpleNamespace(
        build=a.build_b, image=a.image, data_dir=None, daemon_wrapper="", opencode=False,
        nofile=20000, bridge="hbab" + secrets.token_hex(3), daemon_env=[], subnet=None,
        concurrent_total=8, density=a.levels, concurrency=a.concurrency, keep_data_dir=False)


def switch_to(d, build, n):
    d.stop()
    d.binary = os.path.join(build, "hivebox")
    d.init_bin = os.path.join(build, "hivebox-init")
    d.start(timeout=600)
    c = Client(d)
    t0 = time.monotonic()
    while running_count(c) < n and time.monotonic() - t0 < 300:
        time.sleep(0.5)
    return c


def samples_in(c):
    r = c.s.get(c.base + "/analytics", timeout=HTTP_TIMEOUT)
    body = r.json()
    return len(body["samples"]), sum(len(s["sandboxes"]) for s in body["samples"]), len(r.content)


def measure(c, ids, want_samples):
    while samples_in(c)[0] < want_samples:
        time.sleep(1)
    n_samples, rows, size = samples_in(c)
    out = {"list": api_times(c, "/hiveboxes", REPS),
           "analytics": api_times(c, "/analytics", REPS),
           "get": api_times(c, f"/hiveboxes/{ids[len(ids) // 2]}", REPS),
           "samples": n_samples, "rows": rows, "analytics_bytes": size,
           "list_bytes": len(c.s.get(c.base + "/hiveboxes", timeout=HTTP_TIMEOUT).content)}
    return out


def main():
    a = parse()
    dargs = daemon_args(a)
    d = Daemon(dargs)
    d.start()
    ids, results = [], []
    try:
        for level in a.levels:
            made = parallel(d, lambda cl, _: create_ok(cl, {"network": "none"})[1],
                            range(level - len(ids)), a.concurrency)
            ids += made
            for name, build in (("A", a.build_a), ("B", a.build_b)):
                c = switch_to(d, build, len(ids))
                m = measure(c, ids, a.samples)
                m.update(level=len(ids), build=name, load=os.getloadavg()[0])
                results.append(m)
                log(f"@{len(ids)} {name}: list p50 {m['list']['p50']:.1f} p99 "
                    f"{m['list']['p99']:.1f} ms ({m['list_bytes']} B), analytics p50 "
                    f"{m['analytics']['p50']:.1f} p99 {m['analytics']['p99']:.1f} ms "
                    f"({m['samples']} samples, {m['rows']} rows, {m['analytics_bytes']} B), "
                    f"get p50 {m['get']['p50']:.1f} p99 {m['get']['p99']:.1f} ms, "
                    f"load {m['load']:.1f}")
    finally:
        cleanup(d, dargs)
        subprocess.run(["ip", "link", "del", d.bridge], stderr=subprocess.DEVNULL, check=False)
    print("level build list_p50 list_p99 analytics_p50 analytics_p99 get_p50 get_p99 samples "
          "rows load")
    for m in results:
        print(f"{m['level']} {m['build']} {m['list']['p50']:.1f} {m['list']['p99']:.1f} "
              f"{m['analytics']['p50']:.1f} {m['analytics']['p99']:.1f} {m['get']['p50']:.1f} "
              f"{m['get']['p99']:.1f} {m['samples']} {m['rows']} {m['load']:.1f}")


if __name__ == "__main__":
    main()
