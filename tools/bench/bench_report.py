"""The table (text and Markdown) built from the results."""

import sys

from bench_common import MIB
from bench_dashboard import dashboard_rows
from bench_density import density_top_rows
from bench_e2b import e2b_rows
from bench_lifecycle import lifecycle_rows
from bench_dns import dns_rows
from bench_preview import preview_rows
from bench_pool import pool_rows
from bench_terminal import terminal_rows
from bench_warm import warm_rows

# ---- the report ------------------------------------------------------------

def ms(x):
    return "-" if x is None else f"{x:.2f} ms"


def ratio(a, b):
    return None if a is None or not b or b <= 0 else a / b


def build_rows(res):
    """(figure, value text, value, baseline text, ratio, target text, met) rows."""
    b = res.get("bwrap", {})
    rows = []

    def timing(name, key, target=None):
        d = res.get(key)
        if not d:
            return
        for p in ("p50", "p90", "p99"):
            tgt, met = None, None
            if target and p == "p50":
                tgt, met = target(d[p])
            rows.append((f"{name} {p}", ms(d[p]), d[p], f"bwrap {p} {ms(b.get(p))}",
                         ratio(d[p], b.get(p)), tgt, met))

    for p in ("p50", "p90", "p99"):
        rows.append((f"baseline bwrap true {p}", ms(b.get(p)), b.get(p), "", 1.0 if b else None,
                     None, None))
    f = res.get("fork_exec_true")
    if f:
        rows.append(("baseline fork+exec true p50", ms(f["p50"]), f["p50"],
                     f"bwrap p50 {ms(b.get('p50'))}", ratio(f["p50"], b.get("p50")), None, None))
    timing("create (network none)", "create_none",
           lambda v: ("<= 2x bwrap p50", ratio(v, b.get("p50")) is not None and
                      ratio(v, b.get("p50")) <= 2))
    timing("create (network isolated)", "create_isolated")
    timing("API floor: GET /healthz", "api_healthz")
    timing("API floor: GET /hiveboxes/:id", "api_get_sandbox")
    timing("the same GET through the requests library", "api_get_sandbox_requests")
    timing("exec true", "exec_true",
           lambda v: ("<= 1x bwrap p50", ratio(v, b.get("p50")) is not None and
                      ratio(v, b.get("p50")) <= 1))
    timing("exec true: duration_ms reported", "exec_true_duration_ms")
    timing("exec printing 1 MiB", "exec_1mib")
    timing("exec printing 1 MiB: duration_ms reported", "exec_1mib_duration_ms")
    stream_rows(res, rows)
    timing("destroy", "destroy", lambda v: ("<= 10 ms", v <= 10))
    timing("destroy (isolated)", "destroy_isolated")
    for key in ("upload", "download"):
        if key in res:
            v = res[key]["mb_s"]
            ceil = res.get(f"client_ceiling_{key}", {}).get("mb_s")
            rows.append((f"{key} {res[key]['bytes'] // MIB} MiB", f"{v:.0f} MB/s", v,
                         f"client ceiling {ceil:.0f} MB/s" if ceil else "", ratio(v, ceil),
                         # The target is for 100 MiB; smaller files only
                         # keep the harness working (--quick).
                         *((">= 200 MB/s", v >= 200) if res[key]["bytes"] >= 100 * MIB
                           else (None, None))))
    cc, bc = res.get("create_concurrent"), res.get("bwrap_concurrent")
    if cc:
        rows.append((f"creates/s, {cc['clients']} clients", f"{cc['per_s']:.1f} /s", cc["per_s"],
                     f"bwrap {bc['per_s']:.1f} /s" if bc else "",
                     ratio(cc["per_s"], bc["per_s"] if bc else None), None, None))
        dc = res["destroy_concurrent"]
        rows.append((f"destroys/s, {dc['clients']} clients", f"{dc['per_s']:.1f} /s",
                     dc["per_s"], "", None, None, None))
    out = res.get("output_load")
    if out:
        mib = lambda b: f"{b / MIB:.0f} MiB" if b else "-"  # noqa: E731
        rows.append((f"load held: {out['execs']} execs printing 20 MB of NULs, wall",
                     f"{out['wall_s']:.1f} s", out["wall_s"], "", None, None, None))
        rows.append(("load held: daemon peak RSS during them", mib(out["rss_peak_bytes"]),
                     out["rss_peak_bytes"], f"before {mib(out['rss_before_bytes'])}", None,
                     None, None))
        rows.append(("load held: daemon RSS after them", mib(out["rss_after_bytes"]),
                     out["rss_after_bytes"], f"before {mib(out['rss_before_bytes'])}", None,
                     None, None))
    den, bi = res.get("density"), res.get("bwrap_idle")
    for lv in (den or {}).get("levels", []):
        n = lv["alive"]
        cost = lv["idle_cost_per_sandbox_bytes"]
        bcost = bi["per_sandbox_bytes"] if bi else None
        thousand = lv["target"] >= 1000
        rows.append((f"idle cost per sandbox @{n}", f"{cost / MIB:.2f} MiB" if cost else "-",
                     cost, f"bwrap {bcost / MIB:.2f} MiB" if bcost else "", ratio(cost, bcost),
                     "<= 3 MiB" if thousand else None,
                     (cost is not None and cost <= 3 * MIB and n >= 1000) if thousand else None))
        cg, pss = lv.get("cgroup_charged_per_sandbox_bytes"), lv.get("init_pss_mean_bytes")
        acc = lv.get("accounted_cost_per_sandbox_bytes")
        if acc:
            rows.append((f"accounted cost per sandbox @{n} (cgroup + daemon growth)",
                         f"{acc / MIB:.2f} MiB", acc, "", None, "<= 3 MiB" if thousand else None,
                         (acc <= 3 * MIB and n >= 1000) if thousand else None))
        if cg:
            rows.append((f"cgroup-charged memory per sandbox @{n}", f"{cg / MIB:.2f} MiB", cg,
                         "", None, None, None))
        if pss:
            rows.append((f"init PSS per sandbox @{n}", f"{pss / MIB:.2f} MiB", pss, "", None,
                         None, None))
        rss = lv["daemon"].get("rss_bytes")
        rows.append((f"daemon RSS @{n}", f"{rss / MIB:.1f} MiB" if rss else "-", rss, "", None,
                     "< 200 MiB" if thousand else None,
                     (rss is not None and rss < 200 * MIB) if thousand else None))
        cpu = lv.get("daemon_idle_cpu_percent")
        if cpu is not None:
            rows.append((f"daemon idle CPU @{n}", f"{cpu:.1f} %", cpu, "", None, None, None))
        ok = lv["exec_answered"] == lv["exec_checked"] and lv["alive"] >= lv["target"]
        rows.append((f"answering exec @{n}", f"{lv['exec_answered']}/{lv['exec_checked']}",
                     lv["exec_answered"], "", None, f"all of {lv['target']}" if thousand else None,
                     ok if thousand else None))
    density_top_rows(res, rows)
    hostile_rows(res, rows)
    terminal_rows(res, rows, ms, MIB)
    dashboard_rows(res, rows)
    e2b_rows(res, rows, ms)
    lifecycle_rows(res, rows, ms)
    dns_rows(res, rows, ms)
    preview_rows(res, rows, ms)
    warm_rows(res, rows, ms, ratio)
    pool_rows(res, rows, ms)
    return rows


def stream_rows(res, rows):
    """Streamed exec (bench_stream): first byte beside a batch `true` of the same loop."""
    fb, whole, batch = (res.get(k) for k in ("stream_first_byte", "stream_echo_whole",
                                             "stream_batch_true"))
    for p in ("p50", "p99"):
        if fb:
            rows.append((f"streamed exec `echo x`: first byte {p}", ms(fb[p]), fb[p],
                         f"batch exec true {p} {ms(batch[p])}" if batch else "",
                         ratio(fb[p], batch[p] if batch else None), None, None))
        if whole:
            rows.append((f"streamed exec `echo x`: to its exit {p}", ms(whole[p]), whole[p], "",
                         None, None, None))
    fl = res.get("stream_flood")
    if fl:
        rows.append((f"streamed exec `head -c {fl['bytes'] // MIB}M /dev/zero` p50 "
                     f"(of {fl['reps']})", f"{fl['p50_mb_s']:.0f} MiB/s", fl["p50_mb_s"],
                     f"min {fl['min_mb_s']:.0f} MiB/s; {fl['wire_bytes'] / fl['bytes']:.1f} "
                     "wire bytes per byte (NULs as base64)", None, None, None))


def hostile_rows(res, rows):
    """Load held (bench_hostile): reported, no target."""
    quiet, idle, nested = res.get("load_list_quiet"), res.get("load_list_idle"), res.get("load_nested")
    for p in ("p50", "p99"):
        if quiet:
            rows.append((f"load held: list {p}, no idle connections", ms(quiet[p]), quiet[p], "",
                         None, None, None))
        if idle:
            rows.append((f"load held: list {p}, {idle['idle']} idle connections "
                         f"({idle['held']} held)", ms(idle[p]), idle[p],
                         f"no idle {ms(quiet[p])}" if quiet else "",
                         ratio(idle[p], quiet[p] if quiet else None), None, None))
    if idle and idle.get("rss_quiet_bytes") and idle.get("rss_idle_bytes"):
        rows.append((f"load held: daemon RSS with {idle['idle']} idle connections",
                     f"{idle['rss_idle_bytes'] / MIB:.1f} MiB", idle["rss_idle_bytes"],
                     f"no idle {idle['rss_quiet_bytes'] / MIB:.1f} MiB", None, None, None))
    if nested:
        rows.append((f"load held: body nested {nested['levels']} levels",
                     f"HTTP {nested['status']} in {ms(nested['p50'])}", nested["p50"],
                     "daemon alive" if nested["alive"] else "daemon DIED", None, None, None))


def fmt_ratio(r):
    return "-" if r is None else f"{r:.2f}x"


def fmt_met(m):
    return "" if m is None else ("met" if m else "NOT met")


def print_table(rows, out=sys.stdout):
    head = ("figure", "value", "baseline", "ratio", "target", "")
    body = [(r[0], r[1], r[3], fmt_ratio(r[4]), r[5] or "", fmt_met(r[6])) for r in rows]
    w = [max(len(str(x[i])) for x in [head] + body) for i in range(len(head))]
    for line in [head] + body:
        print("  ".join(str(x).ljust(w[i]) for i, x in enumerate(line)).rstrip(), file=out)


def markdown_table(rows):
    lines = ["| figure | value | baseline | ratio to baseline | target | status |",
             "|---|---:|---|---:|---|---|"]
    for r in rows:
        lines.append(f"| {r[0]} | {r[1]} | {r[3]} | {fmt_ratio(r[4])} | {r[5] or ''} | "
                     f"{fmt_met(r[6])} |")
    return "\n".join(lines) + "\n"
