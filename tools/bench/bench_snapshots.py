"""Issue 17: snapshot time vs the writable layer's size, fork of 10, create from
a 3-deep image chain vs from base (goal: within 1.2x), restore."""

from bench_client import Client, create_ok, destroy_ok, exec_ok, expect
from bench_common import HTTP_TIMEOUT, dist, log, timed


def _snapshot(c, sid, name):
    t, r = timed(c.s.post, f"{c.base}/hiveboxes/{sid}/snapshots", json={"name": name},
                 timeout=HTTP_TIMEOUT)
    j = expect(r, 201, f"snapshot {name}").json()
    return t, j


def _drop(c, names):
    for n in reversed(names):
        c.s.delete(f"{c.base}/images/{n}", timeout=HTTP_TIMEOUT)


def _sizes(args, c, res, images):
    for mib in (1, 100) if args.quick else (1, 100, 1000):
        _, sid = create_ok(c, {"network": "none", "disk": "4g"})
        try:
            exec_ok(c, sid, f"head -c {mib}M /dev/urandom > /root/fill")
            t, j = _snapshot(c, sid, f"bench-snap-{mib}")
            images.append(j["name"])
            res[f"snapshot_{mib}mib"] = {"total_ms": t, "daemon_ms": j["snapshot_ms"],
                                          "frozen_ms": j["frozen_ms"]}
            log(f"snapshot of {mib} MiB: {t:.1f} ms ({j['frozen_ms']} ms frozen)")
        finally:
            destroy_ok(c, sid)
        _drop(c, images[-1:])
        images.pop()


def _chain(args, c, res, images):
    image = "base"
    for i in range(3):
        _, sid = create_ok(c, {"network": "none", "image": image})
        exec_ok(c, sid, f"echo {i} > /opt/layer{i}")
        image = _snapshot(c, sid, f"bench-chain-{i}")[1]["name"]
        images.append(image)
        destroy_ok(c, sid)
    n = max(5, args.n // 2)
    for key, img in (("create_base_none", "base"), ("create_chain3_none", image)):
        times = []
        for _ in range(n):
            t, sid = create_ok(c, {"network": "none", "image": img})
            times.append(t)
            destroy_ok(c, sid)
        res[key] = dist(times)
    log(f"create p50 from base {res['create_base_none']['p50']:.1f} ms, from a 3-deep chain "
        f"{res['create_chain3_none']['p50']:.1f} ms")


def _fork_restore(args, c, res, images):
    _, sid = create_ok(c, {"network": "none"})
    try:
        exec_ok(c, sid, "echo x > /root/x")
        t, r = timed(c.s.post, f"{c.base}/hiveboxes/{sid}/fork",
                     json={"count": 10, "name_prefix": "bench-fork"}, timeout=HTTP_TIMEOUT)
        forks = expect(r, 201, "fork of 10").json()["sandboxes"]
        res["fork_10"] = {"total_ms": t}
        log(f"fork of 10: {t:.1f} ms")
        for f in forks:
            destroy_ok(c, f["id"])
        images.append(_snapshot(c, sid, "bench-restore")[1]["name"])
        times = []
        for _ in range(max(3, args.n // 4)):
            t, r = timed(c.s.post, f"{c.base}/hiveboxes/{sid}/restore",
                         json={"snapshot": "bench-restore"}, timeout=HTTP_TIMEOUT)
            expect(r, 200, "restore")
            times.append(t)
        res["restore"] = dist(times)
    finally:
        destroy_ok(c, sid)


def bench_snapshots(args, d, res, notes):
    c = Client(d)
    images = []
    try:
        _sizes(args, c, res, images)
        _chain(args, c, res, images)
        _fork_restore(args, c, res, images)
    finally:
        _drop(c, images)


def snapshot_rows(res, rows, ms, ratio):
    """Rows of the report (bench_report.build_rows)."""
    for key in sorted(k for k in res if k.startswith("snapshot_") and k.endswith("mib")):
        v = res[key]
        rows.append((f"snapshot of {key[9:-3]} MiB of changes", ms(v["total_ms"]), v["total_ms"],
                     f"frozen {v['frozen_ms']} ms", None,
                     "< 1 s" if key == "snapshot_100mib" else None,
                     v["total_ms"] < 1000 if key == "snapshot_100mib" else None))
    b, ch = res.get("create_base_none"), res.get("create_chain3_none")
    if b and ch:
        r = ratio(ch["p50"], b["p50"])
        rows.append(("create from a 3-deep chain p50", ms(ch["p50"]), ch["p50"],
                     f"from base p50 {ms(b['p50'])}", r, "<= 1.2x base",
                     r is not None and r <= 1.2))
    if "fork_10" in res:
        v = res["fork_10"]["total_ms"]
        rows.append(("fork of 10", ms(v), v, "", None, None, None))
    if "restore" in res:
        v = res["restore"]["p50"]
        rows.append(("restore p50", ms(v), v, "", None, None, None))
