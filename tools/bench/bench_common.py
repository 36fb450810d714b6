"""Shared by the benchmark modules: constants, errors, timing and statistics."""

import os
import sys
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEFAULT_IMAGE = "/var/lib/hivebox/images/base"
BWRAP_ARGS = ["--unshare-all", "--die-with-parent", "--ro-bind", "/", "/",
              "--proc", "/proc", "--dev", "/dev"]
MIB = 1024 * 1024
HTTP_TIMEOUT = 120


class BenchError(Exception):
    """The harness cannot go on (as opposed to a slow figure)."""


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ---- statistics ---------------------------------------------------------

def pct(sorted_ms, p):
    """Nearest-rank percentile of an ascending list."""
    if not sorted_ms:
        return None
    k = max(0, min(len(sorted_ms) - 1, -(-p * len(sorted_ms) // 100) - 1))
    return sorted_ms[int(k)]


def dist(samples_ms):
    s = sorted(samples_ms)
    return {"n": len(s), "p50": pct(s, 50), "p90": pct(s, 90), "p99": pct(s, 99),
            "min": s[0] if s else None, "max": s[-1] if s else None,
            "mean": sum(s) / len(s) if s else None, "samples_ms": [round(x, 3) for x in samples_ms]}


def timed(fn, *a, **kw):
    t0 = time.perf_counter_ns()
    r = fn(*a, **kw)
    return (time.perf_counter_ns() - t0) / 1e6, r
