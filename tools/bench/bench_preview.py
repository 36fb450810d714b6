"""Preview ports (issue 16): a small GET and a large download through the
daemon's proxy (path form, API key) beside the same from inside the sandbox
straight to the port, with the same client code (preview_probe.py) on both
sides and a new connection per request on both (the proxy closes each
preview connection).

  small GET: --n sequential requests each way, p50/p99; the added p50 is
  the proxy's p50 minus the inside one (goal <= 0.3 ms);
  requests/s: 4 client threads for 3 s each way;
  large download: 1 GiB (--quick: 64 MiB) each way, best of 3 (MB/s; goal
  >= 500 MB/s through the proxy).
Figures only, never asserted."""

import json
import os
import subprocess
import time

from bench_client import Client, create_ok, destroy_ok, expect
from bench_common import HTTP_TIMEOUT, MIB, BenchError, dist, log

PORT = 8000
PROBE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "preview_probe.py")


def run_inside(c, sid, args, timeout=600):
    r = c.s.post(f"{c.base}/hiveboxes/{sid}/exec", json={
        "command": "python3 /opt/preview_probe.py " + " ".join(args), "timeout": timeout},
        timeout=timeout + 60)
    j = expect(r, 200, "exec probe").json()
    if j.get("exit_code") != 0:
        raise BenchError(f"preview probe inside: {j.get('stderr', '')[:300]}")
    return json.loads(j["stdout"])


def run_host(args):
    p = subprocess.run(["/usr/bin/python3", PROBE, *args], capture_output=True, text=True,
                       timeout=900)
    if p.returncode != 0:
        raise BenchError(f"preview probe: {p.stderr[-300:]}")
    return json.loads(p.stdout)


def start_server(c, sid):
    with open(PROBE, "rb") as f:
        expect(c.s.put(f"{c.base}/hiveboxes/{sid}/files", params={"path": "/opt/preview_probe.py"},
                       data=f.read(), timeout=HTTP_TIMEOUT), 200, "upload probe")
    expect(c.s.post(f"{c.base}/hiveboxes/{sid}/processes", json={
        "command": f"python3 /opt/preview_probe.py serve {PORT}"}, timeout=HTTP_TIMEOUT),
        201, "start probe server")
    for _ in range(100):
        r = c.s.get(f"{c.base}/hiveboxes/{sid}/ports", timeout=HTTP_TIMEOUT)
        if r.ok and any(p["port"] == PORT for p in r.json()["ports"]):
            return
        time.sleep(0.1)
    raise BenchError("preview: the probe server did not listen")


def bench_preview(args, d, res, notes):
    c = Client(d)
    _, sid = create_ok(c, {"network": "none"})
    try:
        start_server(c, sid)
        proxy = f"{d.url}/api/v1/hiveboxes/{sid}/ports/{PORT}"
        inside = f"http://127.0.0.1:{PORT}"
        auth = f"Authorization:Bearer {d.key}"
        n = str(max(20, args.n))
        run_host(["get", proxy + "/small", "5", auth])   # warm-up
        res["preview_get_proxy"] = dist(run_host(["get", proxy + "/small", n, auth])["samples_ms"])
        res["preview_get_inside"] = dist(run_inside(c, sid, ["get", inside + "/small", n])["samples_ms"])
        secs = "1" if args.quick else "3"
        res["preview_rate_proxy"] = run_host(["rate", proxy + "/small", secs, "4", auth])
        res["preview_rate_inside"] = run_inside(c, sid, ["rate", inside + "/small", secs, "4"])
        size = (64 if args.quick else 1024) * MIB
        best = {"proxy": 0.0, "inside": 0.0}
        for _ in range(1 if args.quick else 3):
            a = run_host(["big", f"{proxy}/big?n={size}", str(size), auth])
            b = run_inside(c, sid, ["big", f"{inside}/big?n={size}", str(size)])
            for k, v in (("proxy", a), ("inside", b)):
                if v["bytes"] != size:
                    raise BenchError(f"preview download {k}: {v['bytes']} of {size} bytes")
                best[k] = max(best[k], size / v["seconds"] / 1e6)
        res["preview_download"] = {"bytes": size, "proxy_mb_s": best["proxy"],
                                   "inside_mb_s": best["inside"]}
        p, i = res["preview_get_proxy"]["p50"], res["preview_get_inside"]["p50"]
        log(f"preview GET p50 {p:.2f} ms through the proxy, {i:.2f} ms inside; download "
            f"{best['proxy']:.0f} MB/s through the proxy, {best['inside']:.0f} MB/s inside")
    finally:
        destroy_ok(c, sid)


def preview_rows(res, rows, ms):
    px, ins = res.get("preview_get_proxy"), res.get("preview_get_inside")
    if px and ins:
        for p in ("p50", "p99"):
            rows.append((f"preview: small GET {p} through the proxy", ms(px[p]), px[p],
                         f"inside the sandbox {ms(ins[p])}", px[p] / ins[p] if ins[p] else None,
                         None, None))
        added = px["p50"] - ins["p50"]
        rows.append(("preview: added p50 of the proxy", ms(added), added, "", None, "<= 0.3 ms",
                     added <= 0.3))
    rp, ri = res.get("preview_rate_proxy"), res.get("preview_rate_inside")
    if rp and ri:
        a, b = rp["requests"] / rp["seconds"], ri["requests"] / ri["seconds"]
        rows.append(("preview: small GETs/s, 4 clients, through the proxy", f"{a:.0f}/s", a,
                     f"inside the sandbox {b:.0f}/s", a / b if b else None, None, None))
    dl = res.get("preview_download")
    if dl:
        rows.append((f"preview: download of {dl['bytes'] // MIB} MiB through the proxy",
                     f"{dl['proxy_mb_s']:.0f} MB/s", dl["proxy_mb_s"],
                     f"inside the sandbox {dl['inside_mb_s']:.0f} MB/s",
                     dl["proxy_mb_s"] / dl["inside_mb_s"] if dl["inside_mb_s"] else None,
                     ">= 500 MB/s", dl["proxy_mb_s"] >= 500))
