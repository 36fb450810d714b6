#!/usr/bin/python3
"""HiveBox benchmark: the daemon measured through its HTTP API, beside a
bubblewrap baseline taken in the same run on the same machine.

    make bench                      # full run (N=100, density 100 and 1,000)
    make bench-quick                # tiny N, density 10: keeps the harness working
    /usr/bin/python3 tools/bench/bench.py --help

The harness starts its own daemon (build/hivebox daemon) on free loopback
ports with a random API key and a throw-away data dir whose images/base is a
symlink to an existing image (no image is ever built here), waits for
/healthz, then measures as a client would, with keep-alive sessions:

  create (network none; isolated when the daemon accepts it), exec `true`
  and a 1 MiB print, a streamed exec's first byte beside a batch `true` and
  the streamed throughput of `head -c 1G /dev/zero` (bench_stream), upload/download of a large file, destroy, creates per
  second with 8 concurrent clients, and the idle cost of 100 and 1,000 live
  sandboxes (MemAvailable and the daemon's RSS), each still answering exec.
  Load held: 16 concurrent execs printing 20 MB of NULs each (time, the
  daemon's peak RSS; bench_output).
  "Load held" (bench_hostile): the authenticated list while 1,000 idle
  slowloris connections are held open, beside the same without, and a body
  nested 100,000 levels deep sent to create.
  Terminals (bench_terminal): keystroke echo p50/p99 through the WebSocket,
  and 200 attached idle terminals (the daemon's RSS, CPU and threads).
  Dashboard (bench_dashboard, in chromium): bytes of a first load of
  /dashboard, and the time until its table shows the 1,000 live sandboxes
  of the density section.
  E2B (bench_e2b, node + the pinned E2B JS SDK): Sandbox.create() +
  commands.run('true') + kill() p50/p99 beside REST create + exec + delete
  in the same rounds (the overhead in %), and files.write/read MB/s beside
  REST PUT/GET files; skipped with a note when the E2B routes answer 404.
  DNS forwarder (bench_dns, issue 16): lookup latency from a sandbox through
  the daemon's forwarder beside the same lookup straight to the upstream.
  Preview ports (bench_preview): a small GET's p50/p99 and requests/s, and
  the MB/s of a large download, through the proxy beside the same from
  inside the sandbox straight to the port (issue 16).
  Warm pool (bench_pool, issue 19): create from the pool and without it
  beside bwrap in the same loop, creates/s from 8 clients for
  --pool-duration seconds with the pool on and off.

Baselines, timed the same way (wall clock around one call, perf_counter):
  bwrap --unshare-all --die-with-parent --ro-bind / / --proc /proc --dev /dev true
  plain fork+exec of `true`
and for density, 100 idle `bwrap ... sleep` processes. The bwrap and fork+exec
figures behind the ratios are sampled interleaved with the create and exec
loops, so that a busy shared machine moves both sides alike.

Profiling: --daemon-wrapper prefixes the daemon's command line, e.g.
  --daemon-wrapper "strace -c -f -o /tmp/st.txt"
  --daemon-wrapper "perf record -e cpu-clock -g -o /tmp/p.data --"
docs/performance.md has the latest results and where the time goes.

Timings are reported, never asserted: the exit status is non-zero only when
the run itself failed (no daemon or image, an API error, the daemon died).
Only the Python standard library and python3-requests are used.

Beside this file: bench_daemon (the daemon under test and the cleanup),
bench_client (HTTP calls), bench_sections (what is measured), bench_baseline
(bwrap, fork+exec), bench_host (/proc, cgroups, machine facts), bench_report
(the table) and bench_common (constants, timing, percentiles).
"""

import argparse
import importlib.util
import json
import os
import sys
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

if importlib.util.find_spec("requests") is None:  # a clear message beats a traceback
    sys.exit("bench: python3-requests is missing (apt-get install python3-requests)")

from bench_baseline import Interleave, bench_baseline
from bench_common import DEFAULT_IMAGE, REPO, BenchError, dist, log
from bench_daemon import Daemon, cleanup
from bench_hostile import bench_hostile
from bench_host import machine_info, vm_costs
from bench_output import bench_output
from bench_preview import bench_preview
from bench_report import build_rows, markdown_table, print_table
from bench_stream import bench_stream
from bench_terminal import bench_terminal
from bench_dashboard import bench_dashboard
from bench_e2b import bench_e2b
from bench_lifecycle import bench_lifecycle
from bench_dns import bench_dns
from bench_pool import bench_pool
from bench_sections import (bench_concurrent, bench_create_destroy, bench_density, bench_exec,
                            bench_files)


# ---- main --------------------------------------------------------------------

SECTIONS = ("baseline", "create", "exec", "stream", "files", "concurrent", "output", "density",
            "hostile", "terminal", "dashboard", "e2b", "lifecycle", "dns", "preview", "pool")


def parse_args(argv):
    p = argparse.ArgumentParser(description="HiveBox benchmark beside a bubblewrap baseline "
                                "(timings are reported, never asserted)")
    p.add_argument("--n", type=int, default=100, help="runs per latency figure (default 100)")
    p.add_argument("--quick", action="store_true",
                   help="tiny run for CI: N=5, density 10, 8 MiB file, 8 concurrent creates")
    p.add_argument("--json", default=None, help="write results here (default build/bench.json)")
    p.add_argument("--markdown", default=None, help="also write the table as Markdown here")
    p.add_argument("--build", default=os.path.join(REPO, "build"),
                   help="where hivebox and hivebox-init are (default build/)")
    p.add_argument("--image", default=DEFAULT_IMAGE,
                   help=f"image dir holding rootfs/, linked as images/base (default {DEFAULT_IMAGE})")
    p.add_argument("--data-dir", default=None,
                   help="daemon data dir (default: a fresh /var/tmp/hivebox-bench-*, removed after)")
    p.add_argument("--keep-data-dir", action="store_true")
    p.add_argument("--skip-density", action="store_true")
    p.add_argument("--density", default="100,1000",
                   help="comma-separated live-sandbox counts (default 100,1000)")
    p.add_argument("--idle-window", type=float, default=20.0,
                   help="seconds the daemon's idle CPU is measured over at the largest density "
                        "level (default 20; 60 for the 10,000 run)")
    p.add_argument("--density-check", type=int, default=0,
                   help="exec-check this many sandboxes per level (default 0: all)")
    p.add_argument("--file-mib", type=int, default=100, help="upload/download size (default 100)")
    p.add_argument("--file-reps", type=int, default=3)
    p.add_argument("--e2b-file-mib", type=int, default=16,
                   help="size of the E2B SDK files.write/read figures (default 16)")
    p.add_argument("--concurrency", type=int, default=8, help="concurrent clients (default 8)")
    p.add_argument("--concurrent-total", type=int, default=48,
                   help="creates issued by the concurrent clients (default 48)")
    p.add_argument("--idle", type=int, default=1000,
                   help="idle (slowloris) connections held for the load-held figures")
    p.add_argument("--nest", type=int, default=100000,
                   help="nesting depth of the hostile JSON body (default 100000)")
    p.add_argument("--terminals", type=int, default=200,
                   help="idle terminals held for the terminal figures (default 200)")
    p.add_argument("--only", default=",".join(SECTIONS),
                   help=f"sections to run, comma-separated from {','.join(SECTIONS)}")
    p.add_argument("--settle", type=float, default=2.0,
                   help="seconds to let memory settle before reading it (default 2)")
    p.add_argument("--daemon-wrapper", default="",
                   help="prefix for the daemon command, e.g. 'strace -c -f -o /tmp/st.txt'")
    p.add_argument("--opencode", action="store_true",
                   help="leave OpenCode on (default: HIVEBOX_OPENCODE=false)")
    p.add_argument("--nofile", type=int, default=65536, help="RLIMIT_NOFILE of the daemon")
    p.add_argument("--daemon-env", action="append", default=[], metavar="KEY=VALUE",
                   help="extra environment for the daemon (repeatable)")
    p.add_argument("--bridge", default="hbbench0",
                   help="HIVEBOX_BRIDGE of the benchmark's daemon (default hbbench0)")
    p.add_argument("--pool-duration", type=int, default=60,
                   help="seconds of the warm pool's sustained creates, pool on and off "
                        "(default 60; --quick: 5)")
    p.add_argument("--subnet", default=None,
                   help="HIVEBOX_SUBNET (default: the bridge's, else a free 10.x.0.0/16)")
    a = p.parse_args(argv)
    if a.quick:
        a.idle_window = 2.0
        a.n = min(a.n, 5)
        a.density = "10"
        a.file_mib = min(a.file_mib, 8)
        a.e2b_file_mib = min(a.e2b_file_mib, 4)
        a.file_reps = 1
        a.concurrent_total = min(a.concurrent_total, 8)
        a.settle = min(a.settle, 0.5)
        a.idle = min(a.idle, 50)
        a.nest = min(a.nest, 2000)
        a.terminals = min(a.terminals, 20)
        a.pool_duration = min(a.pool_duration, 5)
    a.density = [int(x) for x in a.density.split(",") if x.strip()]
    a.only = set(x.strip() for x in a.only.split(",") if x.strip())
    bad = a.only - set(SECTIONS)
    if bad:
        p.error(f"unknown sections: {', '.join(sorted(bad))}")
    if a.skip_density:
        a.only.discard("density")
    if a.json is None:
        a.json = os.path.join(a.build, "bench.json")
    if a.n < 1:
        p.error("--n must be at least 1")
    a.baseline = Interleave("baseline" in a.only)
    return a


def main(argv):
    args = parse_args(argv)
    if os.geteuid() != 0:
        sys.exit("bench: run as root (the daemon needs it)")
    res, notes = {}, []
    report = {"machine": machine_info(), "config": {
        "n": args.n, "quick": args.quick, "sections": sorted(args.only),
        "density": args.density, "file_mib": args.file_mib, "concurrency": args.concurrency,
        "concurrent_total": args.concurrent_total, "opencode": args.opencode,
        "daemon_env": args.daemon_env,
        "timing": "wall clock (time.perf_counter_ns) around one HTTP request on a keep-alive "
                  "http.client connection (create, exec, destroy and the API floors; the rest "
                  "on a requests.Session, whose own cost api_get_sandbox_requests shows), or "
                  "around one subprocess.run for the baselines; "
                  "percentiles are nearest-rank. The bwrap and fork+exec figures used for the "
                  "ratios are sampled interleaved with the create and exec loops (one baseline "
                  "run before each measured call), so both see the same load; *_alone are the "
                  "same taken back to back before the daemon starts"}, "results": res, "notes": notes}
    failed = None
    d = None
    log("measuring this machine's page fault, system call and spawn costs")
    report["machine"]["costs"] = vm_costs(args.build)
    try:
        d = Daemon(args)
        if "baseline" in args.only:
            bench_baseline(args, res)
        d.start()
        shown = d.argv()
        shown[shown.index("--api-key") + 1] = "<random>"
        report["daemon"] = {"argv": shown, "started": d.status()}
        steps = [("create", bench_create_destroy), ("exec", bench_exec), ("stream", bench_stream),
                 ("files", bench_files),
                 ("concurrent", bench_concurrent), ("output", bench_output),
                 ("dashboard", bench_dashboard),
                 ("density", bench_density), ("hostile", bench_hostile),
                 ("terminal", bench_terminal), ("e2b", bench_e2b),
                 ("lifecycle", bench_lifecycle), ("dns", bench_dns),
                 ("preview", bench_preview), ("pool", bench_pool)]
        for name, fn in steps:
            if name in args.only:
                log(f"section {name}")
                fn(args, d, res, notes)
        if args.baseline.bwrap:
            res["bwrap"] = dist(args.baseline.bwrap)
        if args.baseline.fork_exec:
            res["fork_exec_true"] = dist(args.baseline.fork_exec)
    except BenchError as ex:
        failed = str(ex)
        notes.append(f"harness stopped: {failed}")
    except KeyboardInterrupt:
        failed = "interrupted"
    except Exception as ex:  # report what we have, then the bug
        failed = f"harness error: {ex!r}"
        traceback.print_exc()
    finally:
        if d and d.proc:
            report.setdefault("daemon", {})["log_tail"] = d.log_tail(20)
            if not d.alive():
                last = (d.log_tail(1) or "").strip()
                notes.append(f"the daemon died during the run (exit {d.proc.returncode}); "
                             f"its last log line: {last[:300]}")
                # Not a timing: a crash fails the run (and CI's bench-quick).
                failed = failed or f"the daemon died during the run (exit {d.proc.returncode})"
            cleanup(d, args)
    rows = build_rows(res)
    report["table"] = [{"figure": r[0], "value": r[2], "text": r[1], "baseline": r[3],
                        "ratio": r[4], "target": r[5], "met": r[6]} for r in rows]
    m = report["machine"]
    m["loadavg_end"] = os.getloadavg()
    # At the end the load average includes the benchmark's own work.
    busy = m["loadavg_start"][0]
    if busy > 0.5 * (m["nproc"] or 1):
        notes.append(f"the machine was busy before the run (load average {busy:.1f} on "
                     f"{m['nproc']} CPUs): the figures are noisy, compare ratios taken in the "
                     "same run")
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, "w") as f:
        json.dump(report, f, indent=1)
    print(f"\nHiveBox {m['hivebox_rev']} on {m['nproc']} CPUs, "
          f"{m['mem_total_bytes'] / 2**30:.1f} GiB, kernel {m['kernel']}, cgroup {m['cgroup']}, "
          f"{m['bwrap']}; N={args.n}")
    c = m.get("costs", {})
    if "page_fault_us" in c:
        print(f"machine costs: page fault {c['page_fault_us']:.1f} us, copy-on-write fault "
              f"{c['cow_fault_us']:.1f} us, system call {c['syscall_us']:.2f} us, spawn static "
              f"{c['spawn_static_ms']:.2f} ms / dynamic {c['spawn_dynamic_ms']:.2f} ms")
    print_table(rows)
    for n in notes:
        print(f"note: {n}")
    print(f"results: {args.json}")
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(markdown_table(rows))
    if failed:
        print(f"bench: {failed}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
