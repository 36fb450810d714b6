"""Density at the largest level (issue 19): what 10,000 idle sandboxes cost the
daemon and the API. Called by bench_density (bench_sections.py) with every
live sandbox, before they are destroyed:

- idle daemon CPU over --idle-window seconds (utime+stime from /proc/<pid>/stat);
- kernel memory: Slab growth per sandbox beside MemAvailable and the cgroups;
- list, analytics, GET and a page of E2B's list p50/p99 with every sandbox
  alive;
- restart: SIGTERM, start on the same data dir, time until the list shows
  every sandbox running again, then every one (or --density-check of them)
  answering an exec.
"""

import time

import requests

from bench_client import Client, expect
from bench_common import HTTP_TIMEOUT, MIB, dist, log, timed
from bench_host import idle_cpu_percent, meminfo

REPS = 10


def api_times(c, path, reps, url=None, headers=None):
    out = []
    for _ in range(reps):
        t, r = timed(c.s.get, url or c.base + path, headers=headers, timeout=HTTP_TIMEOUT)
        expect(r, 200, f"GET {path}")
        out.append(t)
    return dist(out)


def running_count(c):
    try:
        r = c.s.get(c.base + "/hiveboxes", timeout=HTTP_TIMEOUT)
    except requests.RequestException:
        return -1
    if r.status_code != 200:
        return -1
    return sum(1 for sb in r.json().get("sandboxes", []) if sb.get("status") == "running")


def restart(args, d, n):
    """Seconds from SIGTERM to stopped, and from start to all n listed running."""
    t0 = time.monotonic()
    d.stop()
    stop_s = time.monotonic() - t0
    t0 = time.monotonic()
    d.start(timeout=600)   # /healthz answers once every sandbox is re-attached
    c = Client(d)
    seen = running_count(c)
    while seen < n and time.monotonic() - t0 < 300:
        time.sleep(0.1)
        seen = running_count(c)
    return {"stop_s": stop_s, "reattach_s": time.monotonic() - t0, "running_after": seen}


def density_extra(args, d, res, ids, check_exec):
    n = len(ids)
    out = {"sandboxes": n}
    res["density_top"] = out
    if not n or not d.alive():
        return
    before = res["density"].get("meminfo_before", {})
    now = meminfo()
    if before:
        out["slab_per_sandbox_bytes"] = (now["Slab"] - before["Slab"]) / n
    out["idle_window_s"] = args.idle_window
    out["idle_cpu_percent"] = idle_cpu_percent(d.pid(), args.idle_window)
    out["daemon"] = d.status()
    c = Client(d)
    out["list"] = api_times(c, "/hiveboxes", REPS)
    out["analytics"] = api_times(c, "/analytics", REPS)
    out["get"] = api_times(c, f"/hiveboxes/{ids[n // 2]}", REPS)
    # E2B's paged list, first page: the SDKs' Sandbox.list() asks for it
    out["e2b_list"] = api_times(c, "", REPS, url=d.url + "/v2/sandboxes?limit=100",
                                headers={"X-API-KEY": d.key})
    log(f"@{n}: idle CPU {out['idle_cpu_percent']:.2f} % over {args.idle_window:.0f} s, "
        f"list p50 {out['list']['p50']:.1f} ms, analytics p50 {out['analytics']['p50']:.1f} ms")
    out["restart"] = restart(args, d, n)
    answering, checked = check_exec(d, ids, args)
    out["restart"].update({"exec_answered": answering, "exec_checked": checked})
    out["daemon_after_restart"] = d.status()
    log(f"restart: stopped in {out['restart']['stop_s']:.1f} s, all {n} running again after "
        f"{out['restart']['reattach_s']:.1f} s, exec {answering}/{checked}")


def density_top_rows(res, rows):
    """Rows for the table (bench_report.build_rows)."""
    top = res.get("density_top")
    if not top or "list" not in top:
        return
    n = top["sandboxes"]
    cpu = top.get("idle_cpu_percent")
    if cpu is not None:
        rows.append((f"daemon idle CPU @{n} over {top['idle_window_s']:.0f} s", f"{cpu:.2f} %",
                     cpu, "", None, "< 5 % of a core", cpu < 5))
    slab = top.get("slab_per_sandbox_bytes")
    if slab is not None:
        rows.append((f"kernel slab growth per sandbox @{n}", f"{slab / MIB:.2f} MiB", slab, "",
                     None, None, None))
    st = top.get("daemon", {})
    rows.append((f"daemon threads / fds @{n}", f"{st.get('threads')} / {st.get('fds')}",
                 st.get("threads"), "", None, None, None))
    for key, name, goal in (("list", "GET /hiveboxes", 50), ("analytics", "GET /analytics", None),
                            ("get", "GET /hiveboxes/:id", None),
                            ("e2b_list", "E2B GET /v2/sandboxes?limit=100", None)):
        if key not in top:
            continue
        p50 = top[key]["p50"]
        rows.append((f"{name} @{n} p50", f"{p50:.2f} ms", p50, "", None,
                     f"<= {goal} ms" if goal else None, p50 <= goal if goal else None))
    r = top.get("restart", {})
    if r:
        rows.append((f"restart @{n}: stop", f"{r['stop_s']:.1f} s", r["stop_s"], "", None, None,
                     None))
        ok = r["running_after"] >= n
        rows.append((f"restart @{n}: start -> all running", f"{r['reattach_s']:.1f} s",
                     r["reattach_s"], "", None, "<= 10 s", ok and r["reattach_s"] <= 10))
        rows.append((f"answering exec after restart @{n}",
                     f"{r['exec_answered']}/{r['exec_checked']}", r["exec_answered"], "", None,
                     "all", r["exec_answered"] == r["exec_checked"]))
    dst = res.get("density", {}).get("destroy_all_s")
    if dst:
        rows.append((f"destroy all {n}", f"{n / dst:.1f} /s", n / dst, f"{dst:.1f} s", None,
                     None, None))
