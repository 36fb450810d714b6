"""Terminals (issue 13): PTY WebSockets, measured as a browser would use
them (python3-websockets, one asyncio loop).

  keystroke echo: one byte sent as a binary frame to a login shell (bash,
  readline echoes it) until the frame carrying it back arrives; N samples,
  p50/p99 of the round trip.
  idle terminals: --terminals WebSockets attached to login shells, spread
  over sandboxes (16 streams per sandbox at most), all idle: the daemon's
  RSS and CPU use (over --settle*5 s, at least 10 s) before and with them,
  its threads, and that every terminal still echoes afterwards.
Figures only, never asserted."""

import asyncio
import json
import time

from bench_client import Client, create_ok, destroy_ok
from bench_common import BenchError, dist, log
from bench_host import idle_cpu_percent, proc_status

PER_SANDBOX = 16   # gw_streams.h: HB_STREAMS_PER_SANDBOX


def ws_url(d, sid, query=""):
    return d.url.replace("http://", "ws://", 1) + f"/api/v1/hiveboxes/{sid}/terminal{query}"


async def open_terminal(websockets, d, sid):
    ws = await websockets.connect(ws_url(d, sid), max_size=None, open_timeout=120,
                                  extra_headers={"Authorization": f"Bearer {d.key}"})
    hello = json.loads(await asyncio.wait_for(ws.recv(), 60))
    if hello.get("type") != "hello":
        raise BenchError(f"terminal: expected hello, got {hello}")
    return ws


async def until(ws, needle, timeout=60):
    buf = b""
    while needle not in buf:
        msg = await asyncio.wait_for(ws.recv(), timeout)
        if isinstance(msg, bytes):
            buf += msg


async def echo_samples(websockets, d, sid, n):
    ws = await open_terminal(websockets, d, sid)
    try:
        await ws.send(b"stty -echoctl; echo rea''dy\n")
        await until(ws, b"ready")
        await asyncio.sleep(0.5)
        out = []
        for i in range(n):
            key = b"abcdefghijklmnopqrstuvwxyz"[i % 26:i % 26 + 1]
            t0 = time.perf_counter_ns()
            await ws.send(key)
            await until(ws, key)
            out.append((time.perf_counter_ns() - t0) / 1e6)
            if i % 26 == 25:
                await ws.send(b"\x15")          # ^U: clear the line
                await asyncio.sleep(0.05)
        await ws.send(b"\x15exit\n")
        return out
    finally:
        await ws.close()


async def hold_terminals(websockets, d, sids, count, settle):
    before = proc_status(d.pid())
    window = max(10.0, settle * 5)
    cpu_before = await asyncio.get_running_loop().run_in_executor(
        None, idle_cpu_percent, d.pid(), window)
    socks = []
    try:
        for i in range(count):
            socks.append(await open_terminal(websockets, d, sids[i // PER_SANDBOX]))
        await asyncio.sleep(settle)
        held = proc_status(d.pid())
        cpu = await asyncio.get_running_loop().run_in_executor(
            None, idle_cpu_percent, d.pid(), window)
        alive = 0
        for ws in socks:                       # each still echoes a keystroke
            await ws.send(b"#")
            try:
                await until(ws, b"#", 30)
                alive += 1
            except (asyncio.TimeoutError, Exception):  # noqa: BLE001 - counted, not fatal
                pass
        return {"terminals": count, "sandboxes": len(sids), "alive": alive,
                "rss_before_bytes": before.get("rss_bytes"), "rss_held_bytes": held.get("rss_bytes"),
                "threads_before": before.get("threads"), "threads_held": held.get("threads"),
                "idle_cpu_percent": cpu, "idle_cpu_percent_before": cpu_before}
    finally:
        for ws in socks:
            await ws.close()


def bench_terminal(args, d, res, notes):
    try:
        import websockets  # Debian's python3-websockets (tools/deps.txt)
    except ImportError:
        notes.append("terminal: python3-websockets is missing; terminal figures skipped")
        return
    c = Client(d)
    count = args.terminals
    sids = []
    try:
        for _ in range(-(-count // PER_SANDBOX)):
            sids.append(create_ok(c, {"network": "none", "memory": "256m"})[1])
        log(f"keystroke echo through the WebSocket, {args.n} samples")
        res["terminal_echo"] = dist(asyncio.run(echo_samples(websockets, d, sids[0], args.n)))
        log(f"{count} idle terminals over {len(sids)} sandboxes")
        idle = asyncio.run(hold_terminals(websockets, d, sids, count, args.settle))
        res["terminal_idle"] = idle
        log(f"{count} terminals: daemon RSS {idle['rss_before_bytes'] / 2**20:.1f} -> "
            f"{idle['rss_held_bytes'] / 2**20:.1f} MiB, idle CPU {idle['idle_cpu_percent']:.2f} %, "
            f"{idle['alive']}/{count} echo")
    finally:
        for sid in sids:
            destroy_ok(c, sid)


def terminal_rows(res, rows, ms, mib):
    echo, idle = res.get("terminal_echo"), res.get("terminal_idle")
    if echo:
        for p in ("p50", "p99"):
            rows.append((f"terminal: keystroke echo {p} (WebSocket, bash)", ms(echo[p]), echo[p],
                         "", None, None, None))
    if idle:
        n = idle["terminals"]
        rows.append((f"terminal: daemon RSS with {n} idle terminals",
                     f"{idle['rss_held_bytes'] / mib:.1f} MiB", idle["rss_held_bytes"],
                     f"none {idle['rss_before_bytes'] / mib:.1f} MiB", None, None, None))
        rows.append((f"terminal: daemon CPU with {n} idle terminals",
                     f"{idle['idle_cpu_percent']:.2f} %", idle["idle_cpu_percent"],
                     f"none {idle['idle_cpu_percent_before']:.2f} %", None, None, None))
        rows.append((f"terminal: of {n} idle terminals, still echoing", f"{idle['alive']}/{n}",
                     idle["alive"], "", None, None, None))
