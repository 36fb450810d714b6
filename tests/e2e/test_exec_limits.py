"""Exec under attack (issue 10, items 5 and 10).

Output: each exec may buffer its per-stream cap (4 MiB) in the daemon until
its answer is written, and a JSON answer escapes NUL as six bytes. Sixteen
concurrent commands printing NULs past the cap took the old daemon to 4 GB
of peak RSS, never returned. Now every buffered byte is charged to one
global budget (--exec-output-budget, 256 MiB by default), the JSON answer is
streamed from the buffers, and freed buffers go back to the system.

Destroy during exec: the caller used to get a 500 "init connection:
Connection reset by peer"; now 410 "destroyed while the command ran".

The daemon's memory is read from /proc/<pid>/status: VmHWM (peak resident
set since start) and VmRSS (now)."""
import concurrent.futures as cf
import json
import os
import threading
import time

import pytest
import requests

from conftest import shutdown_daemon
from hbtest import SANITIZED, Daemon, asan_quarantine_env, wait_until

MIB = 1 << 20
CAP = 4 * MIB                 # the default per-stream cap
NUL_CMD = "head -c 20000000 /dev/zero"
N_EXECS = 16
# The bound the issue asks us to state. Budget-wise the 16 answers need
# 16 x 4 MiB = 64 MiB of buffers; the rest is the daemon itself (tens of
# MiB), 16 init connections' frame buffers (256 KiB each) and the JSON
# writers' 64 KiB pieces. The old daemon peaked at about 4 GB here.
PEAK_RSS_BOUND = 256 * MIB
# Under ASan (make check) the idle daemon alone is ~180 MiB (shadow memory
# and per-thread state of ~1,150 gateway workers), so there the bound is on
# the growth the storm causes; the old daemon grew by about 1.9 GB.
PEAK_GROWTH_BOUND = 192 * MIB
# After the answers: the buffers are unmapped, so the daemon is back within
# this much of where it started.
SETTLED_SLACK = 48 * MIB
# Under ASan "where it started" is not a stable reference: the idle
# sanitized daemon measured 190 MiB here and 157 MiB on a CI machine, and
# ASan keeps ~25 MiB of per-thread allocator caches for the 16 request
# threads. There the check is that the 16 answers' buffers (16 x 4 MiB)
# went back: the RSS falls at least that far below the peak.
SAN_GIVEN_BACK = N_EXECS * CAP


def vm(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise AssertionError(f"no {field} in /proc/{pid}/status")


def exec_raw(d, sid, command, timeout=120):
    return requests.post(f"{d.url}/api/v1/hiveboxes/{sid}/exec",
                         headers={"Authorization": f"Bearer {d.key}"},
                         json={"command": command, "timeout": timeout}, timeout=timeout + 60)


def mcp_session(d, sid):
    """An initialized MCP session on the sandbox: call(tool, **args) -> result."""
    url = f"{d.url}/api/v1/hiveboxes/{sid}/mcp"
    h = {"Authorization": f"Bearer {d.key}", "Accept": "application/json, text/event-stream"}
    r = requests.post(url, headers=h, timeout=60, json={
        "jsonrpc": "2.0", "id": 0, "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                   "clientInfo": {"name": "e2e", "version": "1"}}})
    assert r.status_code == 200, r.text
    h["Mcp-Session-Id"] = r.headers["Mcp-Session-Id"]

    def call(tool, **args):
        r = requests.post(url, headers=h, timeout=120, json={
            "jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": {"name": tool, "arguments": args}})
        assert r.status_code == 200, r.text
        return r.json()["result"]

    return call


def nul_storm(d, sid, n=N_EXECS):
    with cf.ThreadPoolExecutor(n) as pool:
        return list(pool.map(lambda _: exec_raw(d, sid, NUL_CMD), range(n)))


def check_nul_answer(r):
    """A 200 whose stdout is NULs only, cut at the cap and flagged so."""
    assert r.status_code == 200, r.text[:500]
    body = r.json()
    assert body["exit_code"] == 0 and body["stderr"] == "", {k: body[k] for k in body
                                                            if k != "stdout"}
    out = body["stdout"]
    assert 0 < len(out) <= CAP and out.count("\0") == len(out)
    assert body.get("stdout_truncated") is True
    assert int(r.headers["Content-Length"]) == len(r.content)
    return len(out)


@pytest.fixture
def measured_daemon(e2e_tmp):
    d = Daemon(e2e_tmp / "measured", name="daemon", extra_env=asan_quarantine_env())
    d.start()
    yield d
    shutdown_daemon(d)
    d.assert_no_sanitizer_reports()


def test_sixteen_nul_floods_keep_daemon_memory_bounded(measured_daemon):
    d = measured_daemon
    c = d.client()
    sid = c.create(memory="256m")["id"]
    c.exec(sid, "true")
    start = vm(d.pid, "VmRSS")
    peak = [0]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], vm(d.pid, "VmRSS"))
            time.sleep(0.02)

    t = threading.Thread(target=sample)
    t.start()
    t0 = time.monotonic()
    try:
        answers = nul_storm(d, sid)
    finally:
        done.set()
        t.join()
    took = time.monotonic() - t0
    hwm = vm(d.pid, "VmHWM")
    print(f"\n16 NUL floods: {took:.1f} s, daemon VmRSS {start / MIB:.0f} MiB before, "
          f"sampled peak {peak[0] / MIB:.0f} MiB, VmHWM {hwm / MIB:.0f} MiB")
    assert hwm - start < PEAK_GROWTH_BOUND, f"daemon RSS grew by {(hwm - start) / MIB:.0f} MiB"
    if not SANITIZED:
        assert hwm < PEAK_RSS_BOUND, f"daemon peak RSS {hwm / MIB:.0f} MiB"
    lengths = [check_nul_answer(r) for r in answers]
    # The default budget (256 MiB) holds all sixteen: nothing was cut short.
    assert lengths == [CAP] * N_EXECS
    target = hwm - SAN_GIVEN_BACK if SANITIZED else start + SETTLED_SLACK
    deadline = time.monotonic() + 15
    while (rss := vm(d.pid, "VmRSS")) > target and time.monotonic() < deadline:
        time.sleep(0.1)
    assert rss <= target, (f"the daemon's RSS stayed at {rss / MIB:.0f} MiB "
                           f"(start {start / MIB:.0f}, peak {hwm / MIB:.0f}, "
                           f"expected <= {target / MIB:.0f})")
    # It still answers normally.
    assert c.exec(sid, "echo ok")["stdout"] == "ok\n"
    c.close()


@pytest.fixture
def small_budget_daemon(e2e_tmp):
    """A daemon whose output budget holds one full answer (4 MiB) and less
    than one more exec's reserve (256 KiB) beside it."""
    d = Daemon(e2e_tmp / "budget", name="daemon", extra_args=["--exec-output-budget", "4352k"],
               extra_env=asan_quarantine_env())
    d.start()
    yield d
    shutdown_daemon(d)
    d.assert_no_sanitizer_reports()


def test_output_budget_is_shared_by_every_exec(small_budget_daemon):
    """One command holding 4 MiB of output (it prints, then sleeps) leaves
    less than the 256 KiB a new exec reserves in a 4.25 MiB budget: REST and
    MCP execs are refused before their command runs (503 / a tool error
    naming the setting), and served again once it is done."""
    d = small_budget_daemon
    c = d.client()
    sid = c.create(memory="128m")["id"]
    holder = {}

    def hold():
        holder["r"] = exec_raw(d, sid, f"head -c {2 * CAP} /dev/zero; sleep 6", timeout=60)

    t = threading.Thread(target=hold)
    t.start()

    mcp = mcp_session(d, sid)
    tries = [0]

    def refused():
        tries[0] += 1
        r = exec_raw(d, sid, f"touch /tmp/ran-{tries[0]}")
        return [r] if r.status_code != 200 else None   # a 503 Response is falsy

    [r] = wait_until(refused, 20, interval=0.2, what="an exec refused for want of budget")
    assert r.status_code == 503 and "--exec-output-budget" in r.json()["error"], r.text
    assert r.headers.get("Retry-After")
    result = mcp("exec", command="touch /tmp/ran-mcp")
    assert result.get("isError") is True and "--exec-output-budget" in json.dumps(result), result
    t.join()
    assert check_nul_answer(holder["r"]) == CAP
    # Refused means not run.
    left = c.exec(sid, f"ls /tmp/ran-{tries[0]} /tmp/ran-mcp 2>&1")["stdout"]
    assert left.count("No such file") == 2, left
    assert c.exec(sid, "echo again")["stdout"] == "again\n"
    c.close()


def test_nul_floods_past_the_budget_are_cut_or_refused(small_budget_daemon):
    """Sixteen floods against a 4.25 MiB budget: every answer is a valid,
    flagged, possibly shorter output, or a 503 before the command ran; the
    daemon's memory follows the budget, not the number of floods."""
    d = small_budget_daemon
    c = d.client()
    sid = c.create(memory="256m")["id"]
    # Two floods first: the peak they cause is what the budget allows. A
    # peak compared with a peak: the RSS of the moment before (the old
    # baseline) is lower whenever the kernel reclaimed idle pages.
    nul_storm(d, sid, n=2)
    start = vm(d.pid, "VmHWM")
    answers = nul_storm(d, sid)
    served = [check_nul_answer(r) for r in answers if r.status_code != 503]
    refused = [r for r in answers if r.status_code == 503]
    assert all("--exec-output-budget" in r.json()["error"] for r in refused)
    assert served, "at least one flood is served"
    hwm = vm(d.pid, "VmHWM")
    print(f"\n16 NUL floods, 4.25 MiB budget: {len(served)} served, {len(refused)} refused, "
          f"daemon VmHWM {start / MIB:.0f} MiB after 2 floods, {hwm / MIB:.0f} MiB after 16")
    assert hwm < start + 64 * MIB, f"daemon peak RSS {hwm / MIB:.0f} MiB"
    c.close()


def test_destroy_during_exec_answers_410(client, sandbox):
    sb = sandbox(memory="64m")
    got = {}

    def run():
        got["r"] = client.post(f"/api/v1/hiveboxes/{sb.id}/exec",
                               json={"command": "sleep 30", "timeout": 60}, timeout=120)

    t = threading.Thread(target=run)
    t.start()
    wait_until(lambda: "sleep 30" in sb.exec("ps -eo args")["stdout"], 20,
               what="the sleep to run")
    t0 = time.monotonic()
    client.destroy(sb.id)
    t.join(60)
    r = got["r"]
    assert r.status_code == 410, r.text
    assert f"sandbox '{sb.id}' was destroyed while the command ran" in r.json()["error"]
    assert time.monotonic() - t0 < 30, "the exec waited for its command instead of the destroy"
