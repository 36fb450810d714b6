"""Pause and resume (issue 17): the cgroup freezer stops every process of a
sandbox (no CPU, memory kept), requests that need its processes answer 409
or resume it (auto_resume), its expiry destroys or pauses it (on_timeout),
DELETE of a paused sandbox is prompt and leaves no cgroup, and a daemon
restart keeps it paused. One private daemon for the module (it is
restarted by one test)."""
import json
import secrets
import statistics
import time

import pytest
import requests

import hbtest
from conftest import shutdown_daemon
from hbtest import Daemon
from test_events_sse import Stream

JSON_HDRS = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}


@pytest.fixture(scope="module")
def pd(e2e_tmp):
    d = Daemon(e2e_tmp / ("pause-" + secrets.token_hex(3)), name="daemon")
    d.start()
    yield d
    if not d.alive():
        d.start()
    shutdown_daemon(d)
    d.assert_no_sanitizer_reports()


@pytest.fixture(scope="module")
def api(pd):
    c = pd.client()
    yield c
    c.close()


@pytest.fixture
def sbx(api):
    made = []

    def make(**spec):
        spec.setdefault("name", "pz-" + secrets.token_hex(3))
        info = api.create(**spec)
        made.append(info["id"])
        return info

    yield make
    for sid in made:
        api.destroy(sid, missing_ok=True)


def pause(api, sid, status=200, **body):
    r = api.post(f"/api/v1/hiveboxes/{sid}/pause", json=body if body else None)
    return api.expect(r, status).json()


def resume(api, sid, status=200):
    return api.expect(api.post(f"/api/v1/hiveboxes/{sid}/resume"), status).json()


def cpu_ns(api, sid):
    return api.info(sid)["usage"]["cpu_usage_ns"]


def freezer_state(sid):
    return hbtest.cgroup_file("freezer", sid, "freezer.state")


def start_busy(api, sid):
    r = api.expect(api.post(f"/api/v1/hiveboxes/{sid}/processes",
                            json={"command": "while :; do :; done", "tag": "busy"}), 201)
    return r.json()["pid"]


def test_pause_stops_cpu_keeps_memory(api, sbx):
    sid = sbx()["id"]
    api.exec(sid, "echo kept > /dev/shm/mark")
    busy = start_busy(api, sid)
    hbtest.wait_until(lambda: cpu_ns(api, sid) > 50_000_000, 10, what="the busy loop's CPU")
    info = pause(api, sid)
    assert info["status"] == "paused" and "paused_at" in info, info
    assert freezer_state(sid) == "FROZEN"
    assert api.info(sid)["status"] == "paused"
    row = [s for s in api.list()["sandboxes"] if s["id"] == sid][0]
    assert row["status"] == "paused" and row["paused_at"], row
    a = cpu_ns(api, sid)
    time.sleep(0.5)
    b = cpu_ns(api, sid)
    print(f"\npause: CPU used while paused for 0.5 s: {(b - a) / 1e6:.2f} ms")
    assert b - a < 20_000_000, f"CPU grew by {(b - a) / 1e6:.1f} ms while paused"
    info = resume(api, sid)
    assert info["status"] == "running" and "paused_at" not in info, info
    c = cpu_ns(api, sid)
    hbtest.wait_until(lambda: cpu_ns(api, sid) > c + 100_000_000, 10,
                      what="the busy loop's CPU after resume")
    assert freezer_state(sid) == "THAWED"
    # memory and processes kept: the same busy pid, the file in /dev/shm
    out = api.exec(sid, f"cat /dev/shm/mark; kill -0 {busy} && echo alive")
    assert out["stdout"].split() == ["kept", "alive"], out


def test_pause_resume_latency_and_idempotence(api, sbx):
    sid = sbx()["id"]
    start_busy(api, sid)
    tp, tr = [], []
    for _ in range(10):
        t0 = time.monotonic()
        pause(api, sid)
        tp.append(time.monotonic() - t0)
        t0 = time.monotonic()
        resume(api, sid)
        tr.append(time.monotonic() - t0)
    print(f"\npause latency p50 {statistics.median(tp) * 1000:.1f} ms "
          f"(max {max(tp) * 1000:.1f}); resume p50 {statistics.median(tr) * 1000:.1f} ms "
          f"(max {max(tr) * 1000:.1f}) over 10, HTTP round trip included")
    # idempotent: resume of a running one, pause of a paused one
    assert resume(api, sid)["status"] == "running"
    assert pause(api, sid)["status"] == "paused"
    assert pause(api, sid)["status"] == "paused"
    assert resume(api, sid)["status"] == "running"


def assert_paused_409(r, sid):
    assert r.status_code == 409, (r.status_code, r.text[:300])
    err = r.json()["error"]
    assert f"sandbox {sid} is paused" in err and f"/api/v1/hiveboxes/{sid}/resume" in err, err


def mcp_init(pd, sid, key=None):
    return requests.post(f"{pd.url}/api/v1/hiveboxes/{sid}/mcp",
                         headers={**JSON_HDRS, "Authorization": f"Bearer {key or pd.key}"},
                         json={"jsonrpc": "2.0", "id": 1, "method": "initialize",
                               "params": {"protocolVersion": "2025-03-26", "capabilities": {},
                                          "clientInfo": {"name": "t", "version": "1"}}},
                         timeout=30)


def test_requests_to_paused_sandbox(pd, api, sbx):
    info = sbx()
    sid = info["id"]
    api.upload(sid, "/tmp/f.txt", b"hello")
    ev = Stream(pd, topics="sandbox.")
    try:
        pause(api, sid)
        base = f"/api/v1/hiveboxes/{sid}"
        assert_paused_409(api.post(base + "/exec", json={"command": "true"}), sid)
        assert_paused_409(api.download(sid, "/tmp/f.txt"), sid)
        assert_paused_409(api.put(base + "/files", params={"path": "/tmp/g"}, data=b"x"), sid)
        assert_paused_409(api.listing(sid, "/tmp"), sid)
        assert_paused_409(api.get(base + "/processes"), sid)
        assert_paused_409(api.post(base + "/processes", json={"command": "true"}), sid)
        assert_paused_409(api.post(base + "/processes/kill-all"), sid)
        assert_paused_409(mcp_init(pd, sid), sid)
        assert_paused_409(mcp_init(pd, sid, key=info["mcp_token"]), sid)   # not a 401
        # what works while paused
        assert api.info(sid)["status"] == "paused"
        api.expect(api.get(base + "/stats"), 200)
        api.expect(api.post(base + "/timeout", json={"timeout": 600}), 200)
        m = api.expect(api.get("/metrics"), 200).text
        assert 'hivebox_sandboxes{state="paused"} 1' in m, \
            [l for l in m.splitlines() if l.startswith("hivebox_sandboxes{")]
        # the exec stream (a lease) is refused the same way
        r = api.post(base + "/exec", json={"command": "true"},
                     headers={"Accept": "text/event-stream"})
        assert_paused_409(r, sid)
        # auto_resume given at pause: a request resumes it and is served
        pause(api, sid, auto_resume=True)
        got = api.info(sid)   # GET reads host files only: it never resumes
        assert got["auto_resume"] is True and got["status"] == "paused", got
        assert api.exec(sid, "cat /tmp/f.txt")["stdout"] == "hello"
        assert api.info(sid)["status"] == "running"
        pause(api, sid)
        assert api.download(sid, "/tmp/f.txt").content == b"hello"
        pause(api, sid)
        assert mcp_init(pd, sid).status_code == 200
        assert api.info(sid)["status"] == "running"

        def seen():
            return [(t, b.get("reason")) for t, b in ev.events if b.get("id") == sid
                    and t in ("sandbox.paused", "sandbox.resumed")]
        # the pause that only set auto_resume changed nothing: no event
        want = [("sandbox.paused", "requested"),
                ("sandbox.resumed", "auto"), ("sandbox.paused", "requested"),
                ("sandbox.resumed", "auto"), ("sandbox.paused", "requested"),
                ("sandbox.resumed", "auto")]
        hbtest.wait_until(lambda: len(seen()) >= len(want), 10,
                          what=f"pause/resume events in {ev.events[-8:]}")
        assert seen() == want, seen()
    finally:
        ev.close()


def test_auto_resume_at_create(api, sbx):
    info = sbx(auto_resume=True)
    sid = info["id"]
    assert info["auto_resume"] is True and info["on_timeout"] == "destroy", info
    pause(api, sid)
    assert api.info(sid)["status"] == "paused"
    assert api.exec(sid, "echo hi")["stdout"] == "hi\n"
    assert api.info(sid)["status"] == "running"
    # auto_resume false at pause turns it off
    pause(api, sid, auto_resume=False)
    assert_paused_409(api.post(f"/api/v1/hiveboxes/{sid}/exec", json={"command": "true"}), sid)


def test_on_timeout_pause(api, sbx):
    info = sbx(timeout=2, on_timeout="pause")
    sid = info["id"]
    assert info["on_timeout"] == "pause"
    t0 = time.monotonic()
    hbtest.wait_until(lambda: api.info(sid)["status"] == "paused", 15, interval=0.2,
                      what="the expiry to pause it")
    print(f"\non_timeout pause: paused {time.monotonic() - t0:.1f} s after create (timeout 2)")
    time.sleep(1.5)   # past its expiry it stays, paused
    got = api.info(sid)
    assert got["status"] == "paused" and got["ttl_seconds"] == 0, got
    exp = resume(api, sid)
    left = hbtest.parse_rfc3339(exp["expires_at"]) - time.time()
    assert exp["status"] == "running" and left > 0, exp   # a fresh expiry of its timeout
    # a keep-alive on top, then its expiry pauses it again after that
    api.expect(api.post(f"/api/v1/hiveboxes/{sid}/timeout", json={"timeout": 1}), 200)
    hbtest.wait_until(lambda: api.info(sid)["status"] == "paused", 15, interval=0.2,
                      what="the second expiry")


def test_expiry_destroys_a_paused_sandbox_by_default(api, sbx):
    sid = sbx(timeout=2)["id"]
    pause(api, sid)
    hbtest.wait_until(lambda: api.get(f"/api/v1/hiveboxes/{sid}").status_code == 404, 15,
                      interval=0.2, what="the expiry to destroy the paused sandbox")
    # An expired sandbox leaves the API at once; its teardown (thaw, kill,
    # cgroups) follows on its supervisor's thread, tens of ms later.
    hbtest.wait_until(lambda: hbtest.cgroup_dirs(sid) == [], 10, interval=0.1,
                      what="the expired sandbox's cgroups to go")


def test_delete_paused_is_prompt_and_clean(api, sbx):
    sid = sbx()["id"]
    start_busy(api, sid)
    api.exec(sid, "sleep 1000 >/dev/null 2>&1 &")
    pause(api, sid)
    t0 = time.monotonic()
    api.destroy(sid)
    took = time.monotonic() - t0
    print(f"\nDELETE of a paused sandbox: {took * 1000:.0f} ms")
    assert took < 10, took
    left = hbtest.cgroup_dirs(sid)
    assert left == [], left


def test_sandbox_without_freezer_cgroup(api, sbx):
    """A sandbox made before the freezer was one of its cgroups (an older
    daemon): the first pause makes it and moves the processes in."""
    sid = sbx()["id"]
    busy = start_busy(api, sid)
    cg = hbtest.cgroup_dir("freezer", sid)
    root = hbtest.CG_ROOT / "freezer"
    for d in (cg / "user", cg):
        for pid in (d / "cgroup.procs").read_text().split():
            try:
                (root / "cgroup.procs").write_text(pid)
            except ProcessLookupError:
                pass
        d.rmdir()
    assert pause(api, sid)["status"] == "paused"
    assert freezer_state(sid) == "FROZEN"
    # init in the sandbox's freezer cgroup, the busy loop in its user child
    assert (cg / "cgroup.procs").read_text().split() and \
        (cg / "user" / "cgroup.procs").read_text().split()
    a = cpu_ns(api, sid)
    time.sleep(0.3)
    assert cpu_ns(api, sid) - a < 20_000_000
    resume(api, sid)
    c = cpu_ns(api, sid)   # the busy loop runs again
    hbtest.wait_until(lambda: cpu_ns(api, sid) > c + 50_000_000, 10, what="CPU after resume")
    # (no exec here: this init still holds the removed cgroups' cgroup.procs
    # open, which an older daemon's init would not have had)
    api.destroy(sid)
    assert hbtest.cgroup_dirs(sid) == []


def test_cli(pd, api, sbx):
    import subprocess
    sid = sbx()["id"]
    env = {"PATH": "/usr/bin:/bin", "HIVEBOX_API_URL": pd.url, "HIVEBOX_API_KEY": pd.key}

    def cli(*args):
        p = subprocess.run([str(hbtest.BUILD / "hivebox"), *args], env=env, capture_output=True,
                           text=True, timeout=60)
        assert p.returncode == 0, (args, p.stdout, p.stderr)
        return p.stdout

    assert cli("pause", sid).startswith(f"{sid} paused")
    assert api.info(sid)["status"] == "paused"
    assert cli("resume", sid).startswith(f"{sid} running")
    cli("keepalive", sid, "120")
    left = hbtest.parse_rfc3339(api.info(sid)["expires_at"]) - time.time()
    assert 110 < left <= 121, left
    assert json.loads(cli("--json", "pause", sid))["status"] == "paused"


def test_keepalive(api, sbx):
    sid = sbx(timeout=60)["id"]
    base = f"/api/v1/hiveboxes/{sid}/timeout"
    r = api.expect(api.post(base, json={"timeout": 86400}), 200).json()
    assert abs(hbtest.parse_rfc3339(r["expires_at"]) - (time.time() + 86400)) < 5, r
    r = api.expect(api.post(base, json={"timeout": 30}), 200).json()   # may shorten
    assert abs(hbtest.parse_rfc3339(r["expires_at"]) - (time.time() + 30)) < 5, r
    for bad in (86401, 0, "10", None):
        r = api.expect(api.post(base, json={"timeout": bad}), 400)
        assert "timeout" in r.json()["error"], r.text


def test_bad_input(api, sbx):
    for body, field in (({"auto_resume": "yes"}, "auto_resume"),
                        ({"auto_resume": 1}, "auto_resume"),
                        ({"on_timeout": "sleep"}, "on_timeout"),
                        ({"on_timeout": True}, "on_timeout")):
        r = api.expect(api.post("/api/v1/hiveboxes", json=body), 400)
        assert r.json()["error"].startswith(field), (body, r.text)
    sid = sbx()["id"]
    for body, field in (({"auto_resume": "true"}, "auto_resume"), ({"x": 1}, "x")):
        r = api.expect(api.post(f"/api/v1/hiveboxes/{sid}/pause", json=body), 400)
        assert r.json()["error"].startswith(field), (body, r.text)
    assert api.info(sid)["status"] == "running"
    r = api.expect(api.post("/api/v1/hiveboxes/no-such-sb/pause"), 404)
    r = api.expect(api.post("/api/v1/hiveboxes/no-such-sb/resume"), 404)


def test_failed_sandbox_cannot_pause(api, sbx):
    import os
    import signal
    sid = sbx()["id"]
    pid = hbtest.init_host_pid(sid)
    assert pid
    os.kill(pid, signal.SIGKILL)
    hbtest.wait_until(lambda: api.info(sid)["status"] == "failed", 10, what="status failed")
    api.expect(api.post(f"/api/v1/hiveboxes/{sid}/pause"), 409)
    api.expect(api.post(f"/api/v1/hiveboxes/{sid}/resume"), 409)


def test_failed_sandbox_with_on_timeout_pause_still_expires(api, sbx):
    """A failed sandbox cannot be paused: its expiry destroys it (never left
    without an expiry, holding its disk and uid range)."""
    import os
    import signal
    sid = sbx(timeout=4, on_timeout="pause")["id"]
    os.kill(hbtest.init_host_pid(sid), signal.SIGKILL)
    hbtest.wait_until(lambda: api.info(sid)["status"] == "failed", 10, what="status failed")
    hbtest.wait_until(lambda: api.get(f"/api/v1/hiveboxes/{sid}").status_code == 404, 20,
                      interval=0.2, what="the expiry to destroy the failed sandbox")
    assert hbtest.cgroup_dirs(sid) == []


def test_restart_keeps_it_paused(pd, api, sbx):
    """Last: it restarts the module's daemon."""
    sid = sbx(auto_resume=False, on_timeout="pause", timeout=3600)["id"]
    busy = start_busy(api, sid)
    pause(api, sid)
    pd.stop()
    assert freezer_state(sid) == "FROZEN"   # the sandbox outlives the daemon, frozen
    pd.start()
    got = api.info(sid)
    assert got["status"] == "paused" and got["on_timeout"] == "pause" and got["paused_at"], got
    assert_paused_409(api.post(f"/api/v1/hiveboxes/{sid}/exec", json={"command": "true"}), sid)
    assert freezer_state(sid) == "FROZEN"
    resume(api, sid)
    out = api.exec(sid, f"kill -0 {busy} && echo alive")
    assert out["stdout"] == "alive\n", out
    # No background process at the next stop: a daemon stopped while its
    # process watch runs abandons it (a leak under ASan; not pause's, the
    # same happens without one). The watch ends once nothing runs.
    api.expect(api.post(f"/api/v1/hiveboxes/{sid}/processes/kill-all"), 200)
    hbtest.wait_until(lambda: all(p["state"] == "exited" for p in api.expect(
        api.get(f"/api/v1/hiveboxes/{sid}/processes"), 200).json()["processes"]), 10,
        what="the busy loop to exit")
    time.sleep(0.3)   # its watch's end reaching the supervisor (nothing to poll for it)
    # a sandbox left frozen without a pause (a daemon that died in a
    # snapshot's freeze) is thawed at the next start
    cg = hbtest.cgroup_dir("freezer", sid)
    pd.stop()
    (cg / "freezer.state").write_text("FROZEN")
    pd.start()
    assert api.info(sid)["status"] == "running"
    assert freezer_state(sid) == "THAWED"
    assert json.loads(json.dumps(api.exec(sid, "echo ok")))["stdout"] == "ok\n"
