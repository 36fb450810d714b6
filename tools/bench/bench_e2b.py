"""The E2B layer (docs/e2b.md): what the official E2B JS SDK costs beside
HiveBox's own REST API, measured in the same run by e2b_probe.mjs (one node
process, the same fetch for both sides, rounds interleaved).

Figures: Sandbox.create() + commands.run('true') + kill() per round, p50 and
p99, beside REST create + exec `true` + DELETE, and the overhead in percent
(the issue's goal: <= 20 %); since the SDK runs `/bin/bash -l -c true` (a
login shell, tens of ms alone), its run step also beside REST exec of that
very command line, which isolates the E2B layer's own share; SDK files.write / files.read of --e2b-file-mib
MiB in MB/s beside REST PUT / GET files. Never asserted: a build without the
E2B routes (404), a missing node or SDK is a note, not a failure."""
import hashlib
import json
import os
import shutil
import subprocess

from bench_common import MIB, REPO, BenchError, dist, log

PROBE = os.path.join(REPO, "tools", "bench", "e2b_probe.mjs")
SDK = os.path.join(REPO, "tests", "e2e", "e2b", "node_modules", "e2b")
STEPS = ("create", "run", "kill")


def e2b_key(admin_key):
    """The E2B API key of a daemon started without --e2b-api-key: derived
    from its admin key (gateway/e2b/e2b_token.c; tests/e2e/test_e2b.py)."""
    digest = hashlib.sha256(("hivebox e2b api key\n" + admin_key).encode()).hexdigest()
    return "e2b_" + digest[:40]


def _missing():
    if not shutil.which("node"):
        return "node is not installed"
    if not os.path.isdir(SDK):
        return "the E2B SDK is missing (npm ci --prefix tests/e2e/e2b)"
    return None


def probe(args, d):
    env = dict(os.environ, E2B_API_URL=d.url, E2B_SANDBOX_URL=d.url, E2B_API_KEY=e2b_key(d.key),
               HIVEBOX_URL=d.url, HIVEBOX_KEY=d.key)
    argv = ["node", PROBE, str(args.n), str(args.e2b_file_mib), str(args.file_reps)]
    r = subprocess.run(argv, capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL,
                       timeout=120 + 30 * args.n)
    try:
        return json.loads(r.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise BenchError(f"e2b probe: exit {r.returncode}: {(r.stderr or r.stdout)[-600:]}")


def _mb_s(size, ms_list):
    best = sorted(ms_list)[len(ms_list) // 2]   # the median rep
    return {"bytes": size, "reps": len(ms_list), "ms": ms_list, "mb_s": size / 1e6 / (best / 1e3)}


def bench_e2b(args, d, res, notes):
    why = _missing()
    if why:
        notes.append(f"e2b: skipped: {why}")
        return
    try:
        out = probe(args, d)
    except (BenchError, subprocess.TimeoutExpired) as ex:
        notes.append(f"e2b: {ex}")
        return
    if out.get("skip"):
        notes.append(f"e2b: skipped: {out['skip']}")
        log(f"e2b: skipped: {out['skip']}")
        return
    if out.get("error"):
        # A failed call, not a timing: reported like any broken section.
        raise BenchError(f"e2b probe: {out['error'][:600]}")
    for side in ("sdk", "rest"):
        rounds = out[side]
        res[f"e2b_{side}_round"] = dist([sum(r[s] for s in STEPS) for r in rounds])
        for s in STEPS:
            res[f"e2b_{side}_{s}"] = dist([r[s] for r in rounds])
    res["e2b_rest_run_login"] = dist([r["run_login"] for r in out["rest"]])
    f = out.get("files")
    for side in ("sdk", "rest") if f else ():
        res[f"e2b_{side}_upload"] = _mb_s(f["bytes"], f[side]["up"])
        res[f"e2b_{side}_download"] = _mb_s(f["bytes"], f[side]["down"])
    if out.get("files_error"):
        notes.append(f"e2b: files figures: {out['files_error']}")
    res["e2b_run_opts"] = out.get("run_opts", {})
    notes.extend(f"e2b: {n}" for n in out.get("notes", []))
    s, r = res["e2b_sdk_round"], res["e2b_rest_round"]
    log(f"e2b: SDK round p50 {s['p50']:.1f} ms beside REST {r['p50']:.1f} ms "
        f"({overhead(s['p50'], r['p50']):+.0f} %)")
    if f:
        log(f"e2b: files.write {res['e2b_sdk_upload']['mb_s']:.0f} MB/s, files.read "
            f"{res['e2b_sdk_download']['mb_s']:.0f} MB/s (REST PUT "
            f"{res['e2b_rest_upload']['mb_s']:.0f}, GET {res['e2b_rest_download']['mb_s']:.0f})")


def overhead(v, base):
    return 100.0 * (v - base) / base if base else float("nan")


def e2b_rows(res, rows, ms):
    """The report's rows (bench_report.build_rows)."""
    s, r = res.get("e2b_sdk_round"), res.get("e2b_rest_round")
    if not s or not r:
        return
    for p in ("p50", "p99"):
        o = overhead(s[p], r[p])
        goal = p == "p50"
        rows.append((f"E2B SDK create + run `true` + kill {p}", ms(s[p]), s[p],
                     f"REST create + exec + delete {p} {ms(r[p])} (overhead {o:+.0f} %)",
                     s[p] / r[p] if r[p] else None, "<= 1.2x REST" if goal else None,
                     s[p] <= 1.2 * r[p] if goal else None))
    for step in STEPS:
        a, b = res[f"e2b_sdk_{step}"], res[f"e2b_rest_{step}"]
        rows.append((f"E2B SDK {step} step p50", ms(a["p50"]), a["p50"],
                     f"REST p50 {ms(b['p50'])}", a["p50"] / b["p50"] if b["p50"] else None,
                     None, None))
    a, b = res["e2b_sdk_run"], res.get("e2b_rest_run_login")
    if b:   # the SDK's command line is a login bash: the layer's share beside it
        rows.append(("E2B SDK run step p50, beside REST exec of its own command line",
                     ms(a["p50"]), a["p50"], f"REST `/bin/bash -l -c true` p50 {ms(b['p50'])}",
                     a["p50"] / b["p50"] if b["p50"] else None, None, None))
    for key, what, rest_what in (("upload", "files.write", "PUT files"),
                                 ("download", "files.read", "GET files")):
        a, b = res.get(f"e2b_sdk_{key}"), res.get(f"e2b_rest_{key}")
        if not a or not b:
            continue
        rows.append((f"E2B SDK {what} {a['bytes'] // MIB} MiB", f"{a['mb_s']:.0f} MB/s",
                     a["mb_s"], f"REST {rest_what} {b['mb_s']:.0f} MB/s",
                     a["mb_s"] / b["mb_s"] if b["mb_s"] else None, None, None))
