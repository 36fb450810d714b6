"""The bubblewrap and fork+exec baselines, timed like the daemon."""

import concurrent.futures as cf
import shutil
import subprocess
import time

from bench_common import BWRAP_ARGS, BenchError, dist, log, timed
from bench_host import mem_available

# ---- baselines -----------------------------------------------------------

def bwrap_argv(cmd):
    return ["bwrap"] + BWRAP_ARGS + cmd


def run_checked(argv):
    subprocess.run(argv, check=True, stdin=subprocess.DEVNULL)


def bwrap_once():
    return timed(run_checked, bwrap_argv([shutil.which("true")]))[0]


def fork_exec_once():
    return timed(run_checked, [shutil.which("true")])[0]


class Interleave:
    """Baseline samples taken between the measured HiveBox calls, so both see
    the same machine load; a no-op when the baseline section is off."""

    def __init__(self, on):
        self.on, self.bwrap, self.fork_exec = on, [], []

    def sample(self, fork_exec=False):
        if self.on:
            self.bwrap.append(bwrap_once())
            if fork_exec:
                self.fork_exec.append(fork_exec_once())


def bench_baseline(args, res):
    if not shutil.which("bwrap"):
        raise BenchError("bwrap is missing (apt-get install bubblewrap): no baseline")
    true_bin = shutil.which("true")
    for _ in range(3):
        run_checked(bwrap_argv([true_bin]))
    res["bwrap_alone"] = dist([bwrap_once() for _ in range(args.n)])
    res["fork_exec_true_alone"] = dist([fork_exec_once() for _ in range(args.n)])
    res["bwrap"], res["fork_exec_true"] = res["bwrap_alone"], res["fork_exec_true_alone"]
    total = args.concurrent_total
    t0 = time.perf_counter()
    with cf.ThreadPoolExecutor(max_workers=args.concurrency) as ex:
        list(ex.map(lambda _: run_checked(bwrap_argv([true_bin])), range(total)))
    res["bwrap_concurrent"] = {"runs": total, "clients": args.concurrency,
                               "per_s": total / (time.perf_counter() - t0)}
    log(f"bwrap alone p50 {res['bwrap']['p50']:.2f} ms, fork+exec p50 "
        f"{res['fork_exec_true']['p50']:.2f} ms")


def bwrap_idle_cost(count, settle):
    """MemAvailable drop per idle `bwrap ... sleep` sandbox."""
    before = mem_available()
    procs = [subprocess.Popen(bwrap_argv(["sleep", "100000"]), stdin=subprocess.DEVNULL)
             for _ in range(count)]
    time.sleep(settle)
    after = mem_available()
    for p in procs:
        p.kill()
    for p in procs:
        p.wait()
    return {"count": count, "per_sandbox_bytes": (before - after) / count}
