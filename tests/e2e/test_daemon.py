"""Daemon-level behaviour that needs a daemon of its own: a generated key,
the upload size cap, draining on SIGTERM, and one stuck sandbox not
blocking the others."""
import os
import re
import signal
import socket
import stat
import threading
import time

import requests

import hbtest

API = "/api/v1/hiveboxes"


def commands_in(sid, cmdline):
    """Host pids of the sandbox's processes whose argv is cmdline (bytes,
    NUL-separated as in /proc/PID/cmdline)."""
    found = []
    for pid in hbtest.all_pids():
        if hbtest.hivebox_cgroup_of(pid) == sid:
            try:
                if open(f"/proc/{pid}/cmdline", "rb").read() == cmdline:
                    found.append(pid)
            except OSError:
                pass
    return found


def test_no_key_given_generates_and_keeps_one(private_daemon):
    d = private_daemon(pass_key=False)
    keyfile = d.data_dir / "api_key"
    st = os.stat(keyfile)
    assert stat.S_IMODE(st.st_mode) == 0o600, oct(st.st_mode)
    key = d.key
    assert len(key) >= 16
    # Auth is on: no key -> 401, the generated key works.
    assert requests.get(d.url + API, timeout=10).status_code == 401
    c = d.client()
    assert c.list()["total"] == 0
    c.close()
    # The key is printed once (so the operator can see it) ...
    assert key in d.log_text()
    # ... and reused by the next start.
    d.stop(signal.SIGTERM)
    d.start()
    assert (d.data_dir / "api_key").read_text().strip() == key
    assert d.key == key
    r = requests.get(d.url + API, headers={"Authorization": f"Bearer {key}"}, timeout=10)
    assert r.status_code == 200


def test_upload_cap_is_413_and_leaves_nothing(private_daemon):
    d = private_daemon(extra_env={"HIVEBOX_MAX_FILE_SIZE": str(1 << 20)})
    c = d.client()
    try:
        sid = c.create(memory="64m")["id"]
        c.upload(sid, "/root/keep.bin", b"old")
        big = os.urandom((1 << 20) + 1)
        r = c.put(f"{API}/{sid}/files", params={"path": "/root/big.bin"}, data=big)
        assert r.status_code == 413, r.status_code
        assert "error" in r.json()
        # Also without a Content-Length (chunked): the cap still bites.
        r = c.put(f"{API}/{sid}/files", params={"path": "/root/keep.bin"},
                  data=iter([big[:600_000], big[600_000:]]))
        assert r.status_code == 413, r.status_code
        assert c.exec(sid, "ls /root/big.bin")["exit_code"] != 0, "a refused upload left a file"
        assert c.download(sid, "/root/keep.bin").content == b"old", "refused upload replaced a file"
        assert c.upload(sid, "/root/ok.bin", big[:1 << 20])["size"] == 1 << 20
    finally:
        c.close()


def test_json_body_too_large_is_413(client):
    before = client.list()["total"]
    r = client.post(API, data=b'{"name": "' + b"a" * (5 << 20) + b'"}',
                    headers={"Content-Type": "application/json"})
    assert r.status_code == 413, r.status_code
    assert client.list()["total"] == before


def exec_in_background(d, sid, command, timeout):
    """Start an exec on its own thread and connection: (the thread, the dict
    that gets the answer's status and body, or the exception)."""
    result = {}

    def run():
        cc = d.client()
        try:
            r = cc.post(f"{API}/{sid}/exec", json={"command": command, "timeout": timeout},
                        timeout=timeout + 60)
            result["status"], result["body"] = r.status_code, r.json()
        except Exception as exc:
            result["exc"] = repr(exc)
        finally:
            cc.close()

    th = threading.Thread(target=run)
    th.start()
    return th, result


def test_sigterm_finishes_in_flight_requests(private_daemon):
    d = private_daemon()
    c = d.client()
    sid = c.create(memory="64m")["id"]
    c.close()
    th, result = exec_in_background(d, sid, "sleep 2; echo finished", 30)

    # SIGTERM only once the command is really running inside.
    hbtest.wait_until(lambda: commands_in(sid, b"sleep\x002\x00"), 30, 0.05,
                      "the slow command to start")
    d.proc.send_signal(signal.SIGTERM)
    th.join(60)
    assert result.get("status") == 200, result
    assert result["body"]["stdout"] == "finished\n"
    assert d.proc.wait(30) == 0
    # The sandbox outlived the daemon; a new one adopts it.
    assert hbtest.init_host_pid(sid)
    d.start()
    c = d.client()
    assert c.exec(sid, "echo back")["stdout"] == "back\n"
    c.close()


def test_sigterm_with_a_command_past_the_drain_answers_503_and_keeps_the_sandbox(
        private_daemon):
    """A command that would outlast the drain: its caller gets 503, the
    daemon exits 0 within a bound with the operation still running (its
    unit counted as abandoned, the exit skips the teardown), the command
    dies with the daemon's connection to init, and the sandbox lives on
    into the next daemon."""
    d = private_daemon()
    c = d.client()
    sid = c.create(memory="64m")["id"]
    c.close()

    def sleepers():
        return commands_in(sid, b"sleep\x00300\x00")

    th, result = exec_in_background(d, sid, "sleep 300; echo finished", 600)
    hbtest.wait_until(sleepers, 30, 0.05, "the long command to start")
    t0 = time.monotonic()
    rc = d.stop(signal.SIGTERM, timeout=60)
    took = time.monotonic() - t0
    th.join(60)
    print(f"daemon exited {rc} {took:.1f} s after SIGTERM; the caller got {result}")
    assert rc == 0 and took < 40, (rc, took, d.log_tail())
    assert result.get("status") == 503, result
    assert "shutting down" in result["body"]["error"], result
    assert "1 operation(s) still running" in d.log_text(), d.log_tail()
    hbtest.wait_until(lambda: not sleepers(), 10, 0.1, "the command to die with the daemon")
    assert hbtest.init_host_pid(sid)
    d.start()
    c = d.client()
    assert c.info(sid)["status"] == "running"
    assert c.exec(sid, "echo back")["stdout"] == "back\n"
    c.close()


def test_sigterm_closes_idle_connections_without_an_answer(private_daemon):
    """At SIGTERM the daemon closes the connections that wait for a request
    (one between keep-alive requests, one that never sent a byte) at once,
    as any server may close an idle connection: with no answer, so a
    client never reads an unasked-for 408, and with no log line."""
    d = private_daemon()
    keep = socket.create_connection(("127.0.0.1", d.port), timeout=30)
    keep.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    head = hbtest.read_head(keep)
    assert head.startswith(b"HTTP/1.1 200"), head[:100]
    hdrs, body = head.split(b"\r\n\r\n", 1)
    length = int(re.search(rb"(?i)\r\ncontent-length: *(\d+)", hdrs).group(1))
    while len(body) < length:
        body += keep.recv(4096)
    silent = socket.create_connection(("127.0.0.1", d.port), timeout=30)
    time.sleep(0.5)   # both idle in their workers
    lines_before = d.log_text().count(" http: ")
    t0 = time.monotonic()
    assert d.stop(signal.SIGTERM, timeout=60) == 0
    print(f"daemon exited {time.monotonic() - t0:.2f} s after SIGTERM")
    for name, s in (("keep-alive", keep), ("silent", silent)):
        left = s.recv(4096)
        assert left == b"", f"the {name} connection got {left[:200]!r} at the stop"
        s.close()
    assert d.log_text().count(" http: ") == lines_before, [l for l in d.log_text().splitlines() if " http: " in l]


def test_stuck_sandbox_does_not_block_others(client, sandbox, daemon):
    stuck = sandbox(memory="64m")
    other = sandbox(memory="64m")
    freezer = hbtest.cgroup_dir("freezer", stuck.id) / "freezer.state"
    assert freezer.exists(), freezer
    result = {}

    def exec_stuck():
        c2 = hbtest.Client(daemon.url, daemon.key)
        try:
            result["r"] = c2.post(f"{API}/{stuck.id}/exec", json={"command": "echo late"},
                                  timeout=120)
        except Exception as exc:
            result["exc"] = repr(exc)
        finally:
            c2.close()

    # Freeze every process of the sandbox (init and its commands): its
    # requests cannot be served until it thaws.
    freezer.write_text("FROZEN")
    hbtest.wait_until(lambda: freezer.read_text().strip() == "FROZEN", 10, 0.05, "frozen")
    try:
        th = threading.Thread(target=exec_stuck)
        th.start()
        time.sleep(0.5)
        assert requests.get(daemon.url + "/healthz", timeout=10).text.strip() == "ok"
        assert other.sh("echo free", timeout=30).strip() == "free"
        assert other.put("/root/x", b"x")["size"] == 1
        assert client.list()["total"] >= 2
        assert client.info(other.id)["status"] == "running"
        assert th.is_alive(), f"the frozen sandbox answered although its init was stopped: " \
            f"{result.get('r') and (result['r'].status_code, result['r'].text[:300])} {result}"
    finally:
        freezer.write_text("THAWED")
    th.join(120)
    assert "r" in result, result
    assert result["r"].status_code == 200 and result["r"].json()["stdout"] == "late\n"


def test_many_requests_to_a_stuck_sandbox_do_not_starve_the_daemon(private_daemon):
    """More requests for a frozen sandbox than the gateway has threads: the
    daemon must still answer /healthz and other sandboxes while they wait.
    It may shed the excess at once with 503 "busy" (a sandbox gets at most a
    quarter of the gateway's threads), but no request may time out or fail
    before /healthz and the other sandbox have answered.
    (--threads 8 keeps the test small; the default 128 behaves the same with
    more requests.)"""
    d = private_daemon(extra_args=["--threads", "8"])
    c = d.client()
    stuck = c.create(memory="64m")["id"]
    other = c.create(memory="64m")["id"]
    freezer = hbtest.cgroup_dir("freezer", stuck) / "freezer.state"
    done = []

    def one():
        try:
            r = requests.post(f"{d.url}{API}/{stuck}/exec", json={"command": "true"},
                              headers={"Authorization": f"Bearer {d.key}"}, timeout=120)
            busy = r.status_code == 503 and "busy" in r.json().get("error", "")
            done.append("busy" if busy else r.status_code)
        except Exception as exc:
            done.append(repr(exc))

    freezer.write_text("FROZEN")
    hbtest.wait_until(lambda: freezer.read_text().strip() == "FROZEN", 10, 0.05, "frozen")
    ths = [threading.Thread(target=one) for _ in range(24)]
    try:
        for t in ths:
            t.start()
        time.sleep(1)
        healthz = requests.get(d.url + "/healthz", timeout=60)
        finished_before_healthz = list(done)
        res = c.exec(other, "echo free", timeout=60)
        finished_before_other = list(done)
    finally:
        freezer.write_text("THAWED")
        for t in ths:
            t.join(120)
        c.close()
    assert healthz.status_code == 200
    assert res["stdout"] == "free\n"
    # The stuck requests end only when the sandbox thaws or the daemon gives
    # up on them; /healthz and the other sandbox must not wait for either.
    waited = [x for x in finished_before_healthz if x != "busy"]
    assert not waited, f"/healthz waited for stuck requests to give up: {waited[:3]}"
    waited = [x for x in finished_before_other if x != "busy"]
    assert not waited, f"another sandbox waited for stuck requests to give up: {waited[:3]}"
    # Those admitted ran once the sandbox thawed.
    assert 200 in done, done
