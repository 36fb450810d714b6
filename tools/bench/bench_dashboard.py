"""The dashboard (issue 14): page weight of a first load and the time until
the sandbox table shows every sandbox, in Debian's chromium through
Playwright (dashboard_probe.mjs, with tests/browser's node_modules).

Figures: the bytes a first logged-in load of /dashboard transfers (gzip
bodies + headers, nothing cached; goal <= 400 KB), the gzip size of every
embedded asset (what loading every tab would add up to), and the time from
navigation to a table of all the live sandboxes (goal <= 1 s for 1,000; the
density section measures it at its largest level, or this section creates
its own). Never asserted: a missing chromium or npm package is a note."""
import json
import os
import re
import shutil
import subprocess

import requests

from bench_client import create_ok, parallel, quiet_destroy
from bench_common import BenchError, log

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROBE = os.path.join(REPO, "tools", "bench", "dashboard_probe.mjs")
PLAYWRIGHT = os.path.join(REPO, "tests", "browser", "node_modules", "playwright", "index.mjs")
CHROMIUM = os.environ.get("HIVEBOX_CHROMIUM", "/usr/bin/chromium")


def _missing():
    if not shutil.which("node"):
        return "node is not installed"
    if not os.path.exists(PLAYWRIGHT):
        return "npm ci --prefix tests/browser has not run"
    if not os.access(CHROMIUM, os.X_OK):
        return f"{CHROMIUM} is missing"
    return None


def probe(d, rows, reps):
    why = _missing()
    if why:
        raise BenchError(f"dashboard: {why}")
    r = subprocess.run(["node", PROBE, d.url, d.key, str(rows), str(reps)], capture_output=True,
                       text=True, timeout=300, stdin=subprocess.DEVNULL)
    try:
        out = json.loads(r.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise BenchError(f"dashboard probe: exit {r.returncode}: {(r.stderr or r.stdout)[-400:]}")
    if out.get("error"):
        raise BenchError(f"dashboard probe: {out['error']}")
    return out


def embedded_total(build):
    """(assets, identity bytes, bytes as served gzipped) of the embedded table."""
    path = os.path.join(build, "gen", "dashboard_assets.c")
    try:
        text = open(path).read()
    except OSError:
        return None
    n = ident = packed = 0
    for m in re.finditer(r'\{"[^"]+", "\\"[0-9a-f]+\\"", (\d+)u, (\d+)u, (\d+)u, (\d+)u\}', text):
        n += 1
        ident += int(m.group(2))
        packed += int(m.group(4)) or int(m.group(2))
    return {"assets": n, "bytes": ident, "gzip_bytes": packed}


def rows_at(args, d, res, notes, n):
    """Time to a table of the n live sandboxes (the density section calls this)."""
    try:
        out = probe(d, n, 1 if args.quick else 3)
    except (BenchError, subprocess.TimeoutExpired) as ex:
        notes.append(f"dashboard rows @{n}: {ex}")
        return
    ms = sorted(out["rows"]["ms"])
    lists = sorted((x for x in out["rows"].get("list", []) if x), key=lambda x: x["end"])
    res["dashboard_rows"] = {"rows": n, "ms": ms, "p50": ms[len(ms) // 2],
                             "list_call": lists[len(lists) // 2] if lists else None}
    lc = res["dashboard_rows"]["list_call"]
    log(f"dashboard: {n} rows shown after {ms[len(ms) // 2]:.0f} ms (median of {len(ms)})" +
        (f"; the list call ran {lc['start']:.0f}-{lc['end']:.0f} ms" if lc else ""))


def bench_dashboard(args, d, res, notes):
    total = embedded_total(args.build)
    if total:
        res["dashboard_assets"] = total
    try:
        out = probe(d, 0, 1)
    except (BenchError, subprocess.TimeoutExpired) as ex:
        notes.append(str(ex))
        return
    w = out["weight"]
    res["dashboard_first_load"] = {k: w[k] for k in ("bytes", "body_bytes", "header_bytes",
                                                     "requests")}
    res["dashboard_first_load"]["files"] = w["files"]
    bad = [f for f in w["files"] if f["status"] != 200] + w["page_errors"]
    if bad:
        notes.append(f"dashboard first load: {bad[:5]}")
    log(f"dashboard: first load {w['bytes'] / 1000:.0f} kB in {w['requests']} requests")
    if "density" in args.only:
        return   # density measures the rows at its largest level
    n = max(args.density) if args.density else 1000
    ids = []
    try:
        made = parallel(d, lambda c, _: create_ok(c, {"network": "none"})[1], range(n),
                        args.concurrency)
        ids = [m for m in made if isinstance(m, str)]
        rows_at(args, d, res, notes, len(ids))
    except (BenchError, requests.RequestException) as ex:
        notes.append(f"dashboard rows: {ex}")
    finally:
        parallel(d, quiet_destroy, ids, args.concurrency)


def dashboard_rows(res, rows):
    """The report's rows (bench_report.build_rows)."""
    fl = res.get("dashboard_first_load")
    if fl:
        rows.append((f"dashboard first load ({fl['requests']} files, gzip + headers)",
                     f"{fl['bytes'] / 1000:.0f} kB", fl["bytes"], "", None, "<= 400 KB",
                     fl["bytes"] <= 400 * 1000))
    at = res.get("dashboard_assets")
    if at:
        rows.append((f"dashboard: all {at['assets']} embedded files as served (gzip)",
                     f"{at['gzip_bytes'] / 1000:.0f} kB", at["gzip_bytes"],
                     f"{at['bytes'] / 1000:.0f} kB uncompressed", None, None, None))
    dr = res.get("dashboard_rows")
    if dr:
        big = dr["rows"] >= 1000
        lc = dr.get("list_call")
        rows.append((f"dashboard: table of {dr['rows']} sandboxes shown (median of "
                     f"{len(dr['ms'])})", f"{dr['p50']:.0f} ms", dr["p50"],
                     f"list call answered at {lc['end']:.0f} ms" if lc else "", None,
                     "<= 1 s" if big else None, dr["p50"] <= 1000 if big else None))
