"""Streamed exec (issue 13): how soon the first output byte of a streamed
exec reaches the client, beside a batch exec of `true` timed in the same
loop (one of each per round, so a busy machine moves both alike), and the
streamed throughput of `head -c 1G /dev/zero` (1 GiB of command output;
chunks holding NULs go out as base64, so the wire carries about 1.33 GiB).
Figures only, never asserted."""

import json
import time

from bench_client import Client, create_ok, destroy_ok, exec_ok
from bench_common import HTTP_TIMEOUT, MIB, BenchError, dist, log

GIB = 1024 * MIB


def _stream(c, sid, command):
    return c.s.post(f"{c.base}/hiveboxes/{sid}/exec", json={"command": command, "stream": True},
                    stream=True, timeout=HTTP_TIMEOUT)


def first_byte(c, sid):
    """ms from sending the request to the first stdout event's bytes, and to
    the end of the stream."""
    t0 = time.perf_counter_ns()
    with _stream(c, sid, "echo x") as r:
        if r.status_code != 200:
            raise BenchError(f"streamed exec: HTTP {r.status_code}: {r.text[:300]}")
        first, seen = None, b""
        for chunk in r.iter_content(chunk_size=None):
            seen += chunk
            if first is None and b"event: stdout" in seen:
                first = (time.perf_counter_ns() - t0) / 1e6
        end = (time.perf_counter_ns() - t0) / 1e6
    if first is None or b"event: exit" not in seen:
        raise BenchError(f"streamed exec: no stdout or no exit event: {seen[-300:]!r}")
    return first, end


def throughput(c, sid, size):
    """(seconds, wire bytes) for a streamed `head -c size /dev/zero`."""
    t0 = time.perf_counter()
    wire, tail = 0, b""
    with _stream(c, sid, f"head -c {size} /dev/zero") as r:
        if r.status_code != 200:
            raise BenchError(f"streamed flood: HTTP {r.status_code}: {r.text[:300]}")
        for chunk in r.iter_content(chunk_size=1 << 20):
            wire += len(chunk)
            tail = (tail + chunk)[-512:]
    secs = time.perf_counter() - t0
    i = tail.rfind(b"event: exit\ndata: ")
    ex = json.loads(tail[i + 18:].split(b"\n", 1)[0]) if i >= 0 else {}
    if ex.get("exit_code") != 0:
        raise BenchError(f"streamed flood: no clean exit event: {tail[-300:]!r}")
    if wire < size * 4 // 3:   # NULs travel as base64 (sse_out.c)
        raise BenchError(f"streamed flood: {wire} bytes on the wire for {size} NULs")
    return secs, wire


def bench_stream(args, d, res, notes):
    c = Client(d)
    _, sid = create_ok(c, {"network": "none"})
    try:
        for _ in range(3):
            exec_ok(c, sid, "true")
            first_byte(c, sid)
        ttfb, whole, batch = [], [], []
        for _ in range(args.n):
            f, e = first_byte(c, sid)
            ttfb.append(f)
            whole.append(e)
            batch.append(exec_ok(c, sid, "true"))
        res["stream_first_byte"] = dist(ttfb)
        res["stream_echo_whole"] = dist(whole)
        res["stream_batch_true"] = dist(batch)
        size = 64 * MIB if args.quick else GIB
        reps = 1 if args.quick else 3
        runs = [throughput(c, sid, size) for _ in range(reps)]
        rates = sorted(size / MIB / s for s, _ in runs)
        res["stream_flood"] = {"bytes": size, "reps": reps, "wire_bytes": runs[0][1],
                               "mb_s": rates, "p50_mb_s": rates[(len(rates) - 1) // 2],
                               "min_mb_s": rates[0], "seconds": [s for s, _ in runs]}
        log(f"streamed exec first byte p50 {res['stream_first_byte']['p50']:.2f} ms (batch true "
            f"{res['stream_batch_true']['p50']:.2f} ms); {size // MIB} MiB streamed at "
            f"{res['stream_flood']['p50_mb_s']:.0f} MiB/s")
    finally:
        destroy_ok(c, sid)
