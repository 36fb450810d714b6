#!/usr/bin/python3
"""Create latency and init's own cost, two builds alternated (issue 19).

One daemon on its own data dir, restarted from build A and build B in turn
(ROUNDS rounds, the order flipped every round so both see the same load).
Each round creates N sandboxes one at a time (network none); SETTLE seconds
after each reply it reads the init's CPU time (schedstat of every thread:
nanoseconds, where /proc/PID/stat has 10 ms ticks) and its Rss/Pss/Anonymous
(smaps_rollup), then destroys it. Prints the medians per build.

    /usr/bin/python3 tools/bench/bench_init_ab.py --build-a /work/main/build --build-b build
"""

import argparse
import os
import secrets
import statistics
import subprocess
import sys
import time
import types

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_client import Client, create_ok, destroy_ok  # noqa: E402
from bench_common import log  # noqa: E402
from bench_daemon import Daemon, cleanup  # noqa: E402

SETTLE = 0.4


def parse():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--build-a", required=True, help="the baseline build dir")
    p.add_argument("--build-b", required=True, help="the build under test")
    p.add_argument("--rounds", type=int, default=6)
    p.add_argument("--n", type=int, default=10, help="creates per build per round")
    p.add_argument("--image", default="/var/lib/hivebox/images/base")
    return p.parse_args()


def cpu_ms(pid):
    tot = 0
    for t in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{t}/schedstat") as f:
                tot += int(f.read().split()[0])
        except OSError:
            pass    # a thread that just ended
    return tot / 1e6


def mem_kib(pid):
    out = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("Rss", "Pss", "Anonymous"):
                out[k] = int(v.split()[0])
    return out


def one(d, c):
    t, sid = create_ok(c, {"network": "none"})
    time.sleep(SETTLE)
    pid = next(p for s, p, _ in d.init_pids() if s == sid)
    row = {"create": t, "cpu": cpu_ms(pid), **mem_kib(pid)}
    destroy_ok(c, sid)
    return row


def main():
    a = parse()
    dargs = types.SimpleNamespace(
        build=a.build_b, image=a.image, data_dir=None, daemon_wrapper="", opencode=False,
        nofile=20000, bridge="hbia" + secrets.token_hex(3), daemon_env=[], subnet=None,
        concurrent_total=8, density=[a.n], concurrency=4, keep_data_dir=False)
    d = Daemon(dargs)
    res = {"A": [], "B": []}
    builds = [("A", a.build_a), ("B", a.build_b)]
    try:
        for r in range(a.rounds):
            for name, build in builds if r % 2 == 0 else builds[::-1]:
                if d.proc:
                    d.stop()
                d.binary, d.init_bin = (os.path.join(build, b) for b in ("hivebox", "hivebox-init"))
                d.start(timeout=120)
                c = Client(d)
                res[name] += [one(d, c) for _ in range(a.n)]
                log(f"round {r} {name}: load {os.getloadavg()[0]:.1f}")
    finally:
        cleanup(d, dargs)
        subprocess.run(["ip", "link", "del", d.bridge], stderr=subprocess.DEVNULL, check=False)
    print("build n create_p50_ms init_cpu_ms rss_kib pss_kib anon_kib")
    for name, rows in res.items():
        med = {k: statistics.median(x[k] for x in rows) for k in rows[0]}
        print(f"{name} {len(rows)} {med['create']:.1f} {med['cpu']:.2f} {med['Rss']:.0f} "
              f"{med['Pss']:.0f} {med['Anonymous']:.0f}")


if __name__ == "__main__":
    main()
