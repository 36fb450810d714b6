"""Issue 17's figures: pause and resume, snapshots by size of the writable
layer, a fork of 10, and a create from a 3-deep image chain beside a create
from base taken in the same loop (interleaved, so both see the same load)."""

import requests

from bench_client import Client, create_ok, destroy_ok, exec_ok, expect, quiet_destroy
from bench_common import HTTP_TIMEOUT, dist, log, timed

SNAP_SIZES_MIB = (1, 100, 1000)
SNAP_SIZES_QUICK_MIB = (1, 8)
FORK_COUNT = 10
CHAIN_DEPTH = 3


def _post(c, path, body=None):
    return timed(c.s.post, c.base + path, json=body or {}, timeout=HTTP_TIMEOUT)


def _delete_image(c, name):
    try:
        c.s.delete(f"{c.base}/images/{name}", timeout=HTTP_TIMEOUT)
    except requests.RequestException:
        pass


def _snapshot(c, sid, name):
    t, r = _post(c, f"/hiveboxes/{sid}/snapshots", {"name": name})
    expect(r, 201, f"snapshot {sid} -> {name}")
    return t, r.json()


def bench_pause(args, d, res, c):
    _, sid = create_ok(c, {"network": "none"})
    try:
        pause, resume = [], []
        for _ in range(args.n):
            t, r = _post(c, f"/hiveboxes/{sid}/pause")
            expect(r, 200, "pause")
            pause.append(t)
            t, r = _post(c, f"/hiveboxes/{sid}/resume")
            expect(r, 200, "resume")
            resume.append(t)
        exec_ok(c, sid, "true")
        res["pause"], res["resume"] = dist(pause), dist(resume)
        log(f"pause p50 {res['pause']['p50']:.2f} ms, resume p50 {res['resume']['p50']:.2f} ms")
    finally:
        destroy_ok(c, sid)


def bench_snapshot_sizes(args, res, c):
    sizes = SNAP_SIZES_QUICK_MIB if args.quick else SNAP_SIZES_MIB
    out = {}
    for mib in sizes:
        _, sid = create_ok(c, {"network": "none", "disk": f"{mib + 512}m"})
        name = f"bench-snap-{mib}m"
        try:
            exec_ok(c, sid, f"head -c {mib}M /dev/urandom > /root/blob && sync")
            t, img = _snapshot(c, sid, name)
            out[str(mib)] = {"ms": t, "frozen_ms": img.get("frozen_ms")}
            log(f"snapshot with {mib} MiB written: {t:.1f} ms")
        finally:
            destroy_ok(c, sid)
            _delete_image(c, name)
    res["snapshot_by_mib"] = out


def bench_fork(args, res, c):
    _, sid = create_ok(c, {"network": "none"})
    forks = []
    try:
        exec_ok(c, sid, "head -c 10M /dev/urandom > /root/blob")
        t, r = _post(c, f"/hiveboxes/{sid}/fork", {"count": FORK_COUNT})
        expect(r, 201, f"fork of {FORK_COUNT}")
        body = r.json()
        forks = [s["id"] for s in body.get("sandboxes", [])]
        res["fork10_ms"] = t
        log(f"fork of {FORK_COUNT}: {t:.1f} ms")
    finally:
        for f in forks:
            quiet_destroy(c, f)
        destroy_ok(c, sid)


def _build_chain(c):
    """base -> chain-1 -> ... -> chain-N, each a snapshot of a sandbox made
    from the one before; returns the image names, top last."""
    names, image = [], "base"
    for i in range(1, CHAIN_DEPTH + 1):
        _, sid = create_ok(c, {"network": "none", "image": image})
        try:
            exec_ok(c, sid, f"echo {i} > /root/layer-{i}")
            image = f"bench-chain-{i}"
            _snapshot(c, sid, image)
            names.append(image)
        finally:
            destroy_ok(c, sid)
    return names


def bench_chain_create(args, res, c):
    names = []
    try:
        names = _build_chain(c)
        top = names[-1]
        from_base, from_chain = [], []
        for _ in range(args.n):
            t, sid = create_ok(c, {"network": "none"})
            from_base.append(t)
            destroy_ok(c, sid)
            t, sid = create_ok(c, {"network": "none", "image": top}, "create from chain")
            from_chain.append(t)
            destroy_ok(c, sid)
        res["create_from_base"] = dist(from_base)
        res["create_from_chain3"] = dist(from_chain)
        log(f"create from a {CHAIN_DEPTH}-deep chain p50 {res['create_from_chain3']['p50']:.2f} ms"
            f", from base {res['create_from_base']['p50']:.2f} ms")
    finally:
        for name in reversed(names):
            _delete_image(c, name)


def bench_lifecycle(args, d, res, notes):
    c = Client(d)
    for name, fn in (("pause", lambda: bench_pause(args, d, res, c)),
                     ("snapshot", lambda: bench_snapshot_sizes(args, res, c)),
                     ("fork", lambda: bench_fork(args, res, c)),
                     ("chain", lambda: bench_chain_create(args, res, c))):
        try:
            fn()
        except Exception as ex:  # one figure missing is a note, not the end of the run
            notes.append(f"lifecycle {name}: not measured: {ex}")


def lifecycle_rows(res, rows, ms):
    for key, name in (("pause", "pause"), ("resume", "resume")):
        d = res.get(key)
        if d:
            for p in ("p50", "p99"):
                rows.append((f"{name} {p}", ms(d[p]), d[p], "", None, None, None))
    for mib, v in (res.get("snapshot_by_mib") or {}).items():
        frozen = v.get("frozen_ms")
        rows.append((f"snapshot, {mib} MiB written", ms(v["ms"]), v["ms"],
                     "" if frozen is None else f"frozen {ms(frozen)}", None,
                     "< 1 s at 100 MiB" if mib == "100" else None,
                     v["ms"] < 1000 if mib == "100" else None))
    if "fork10_ms" in res:
        rows.append((f"fork of {FORK_COUNT}", ms(res["fork10_ms"]), res["fork10_ms"], "", None,
                     None, None))
    chain, base = res.get("create_from_chain3"), res.get("create_from_base")
    if chain and base:
        r = chain["p50"] / base["p50"] if base["p50"] else None
        rows.append((f"create from a {CHAIN_DEPTH}-deep image chain p50", ms(chain["p50"]),
                     chain["p50"], f"from base p50 {ms(base['p50'])}", r, "<= 1.2x base",
                     r is not None and r <= 1.2))
