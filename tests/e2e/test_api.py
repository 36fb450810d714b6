"""The REST API, point by point against the seed contract
(/work/shared/seed/hivebox-api.txt) and the daemon issue's additions."""
import hashlib
import json
import os
import re
import secrets
import threading
import time

import msgpack
import pytest
import requests
import zmq

import hbtest
from hbtest import RFC3339_Z, parse_rfc3339

API = "/api/v1/hiveboxes"


def error_of(r):
    assert r.headers.get("Content-Type", "").startswith("application/json"), \
        f"error without a JSON content type: {r.headers.get('Content-Type')} {r.text[:200]}"
    body = r.json()
    assert isinstance(body, dict) and isinstance(body.get("error"), str) and body["error"], body
    return body["error"]


# ---------------------------------------------------------------- health and auth

def test_healthz_needs_no_key(daemon):
    r = requests.get(daemon.url + "/healthz", timeout=10)
    assert r.status_code == 200
    assert r.text.strip() == "ok"


def test_dashboard_needs_no_key(daemon):
    r = requests.get(daemon.url + "/dashboard", timeout=10)
    assert r.status_code in (200, 404), r.status_code  # the dashboard is a later issue


@pytest.mark.parametrize("auth", [None, "Bearer wrong-key", "Basic Zm9vOmJhcg==", "Bearer ",
                                  "bearer", "KEY"])
def test_api_requires_the_key(daemon, client, auth):
    headers = {} if auth is None else {"Authorization": auth.replace("KEY", daemon.key)}
    before = client.list()["total"]
    for method, path, body in (("GET", API, None), ("POST", API, {}),
                               ("GET", "/api/v1/analytics", None),
                               ("DELETE", f"{API}/nope", None)):
        r = requests.request(method, daemon.url + path, headers=headers, json=body, timeout=30)
        assert r.status_code == 401, (method, path, auth, r.status_code)
        assert r.headers.get("WWW-Authenticate", "").startswith("Bearer"), r.headers
        error_of(r)
    assert client.list()["total"] == before, "an unauthenticated request created something"


def test_wrong_key_of_same_length_refused(daemon):
    wrong = daemon.key[:-1] + ("0" if daemon.key[-1] != "0" else "1")
    r = requests.get(daemon.url + API, headers={"Authorization": f"Bearer {wrong}"}, timeout=10)
    assert r.status_code == 401


# ---------------------------------------------------------------- create

CREATE_KEYS = {"id", "status", "image", "created_at", "network", "limits", "expires_at"}


def test_create_defaults(sandbox, client):
    t0 = int(time.time())
    sb = sandbox()
    body = sb.info
    assert CREATE_KEYS <= set(body), body
    assert re.match(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$", body["id"]), body["id"]
    assert body["status"] == "running"
    assert body["image"] == "base"
    assert body["network"] == {"mode": "none", "ip": None}
    assert body["limits"] == {"memory": "512m", "cpus": 1.0, "pids": 128, "disk": "10g"}
    assert isinstance(body["limits"]["pids"], int)
    created = parse_rfc3339(body["created_at"])
    expires = parse_rfc3339(body["expires_at"])
    assert t0 - 5 <= created <= time.time() + 5
    assert expires - created == 3600
    assert "llm_api_key" not in body


def test_create_echoes_spec(sandbox):
    name = "e2e-spec-" + secrets.token_hex(3)
    sb = sandbox(name=name, memory="1G", cpus=0.5, pids=64, timeout=600, network="none")
    b = sb.info
    assert b["id"] == name
    assert b["limits"] == {"memory": "1g", "cpus": 0.5, "pids": 64, "disk": "10g"}
    assert parse_rfc3339(b["expires_at"]) - parse_rfc3339(b["created_at"]) == 600
    assert b["network"] == {"mode": "none", "ip": None}


def test_create_name_edges_accepted(sandbox):
    for name in ("a" * 63, "A1_b.c-" + secrets.token_hex(3), "9" + secrets.token_hex(4)):
        sb = sandbox(name=name, memory="32m")
        assert sb.id == name
        assert sb.sh("hostname").strip() == name


def test_create_accepts_agent_fields_and_hides_the_llm_key(sandbox, client):
    secret = "sk-e2e-" + secrets.token_hex(12)
    sb = sandbox(skills=[], custom_mcps={"x": {"type": "remote", "url": "http://127.0.0.1:1/mcp",
                                                    "enabled": False}},
                 llm_base_url="http://127.0.0.1:1/v1", llm_api_key=secret, llm_model="m")
    assert secret not in json.dumps(sb.info)
    assert secret not in client.get(f"{API}/{sb.id}").text
    assert secret not in client.get(API).text


def _bad(name, body, field):
    return pytest.param(body, field, id=name)


BAD_CREATES = [
    _bad("invalid-json", b'{"name": ', None),
    _bad("not-an-object", b"[1, 2]", None),
    _bad("unknown-field", {"bogus": 1}, "bogus"),
    _bad("name-type", {"name": 12}, "name"),
    _bad("name-leading-dash", {"name": "-bad"}, "name"),
    _bad("name-too-long", {"name": "a" * 64}, "name"),
    _bad("name-space", {"name": "has space"}, "name"),
    _bad("name-slash", {"name": "a/b"}, "name"),
    _bad("name-dotdot", {"name": ".."}, "name"),
    _bad("memory-type", {"memory": 512}, "memory"),
    _bad("memory-unit", {"memory": "12q"}, "memory"),
    _bad("memory-too-small", {"memory": "1m"}, "memory"),
    _bad("memory-too-big", {"memory": "100000g"}, "memory"),
    _bad("memory-negative", {"memory": "-5m"}, "memory"),
    _bad("cpus-type", {"cpus": "two"}, "cpus"),
    _bad("cpus-zero", {"cpus": 0}, "cpus"),
    _bad("cpus-under-a-hundredth", {"cpus": 0.005}, "cpus"),
    _bad("cpus-negative", {"cpus": -1}, "cpus"),
    _bad("cpus-too-many", {"cpus": 64}, "cpus"),
    _bad("pids-zero", {"pids": 0}, "pids"),
    _bad("pids-negative", {"pids": -3}, "pids"),
    _bad("pids-type", {"pids": "many"}, "pids"),
    _bad("pids-fraction", {"pids": 1.5}, "pids"),
    _bad("timeout-too-long", {"timeout": 86401}, "timeout"),
    _bad("timeout-negative", {"timeout": -1}, "timeout"),
    _bad("timeout-type", {"timeout": "soon"}, "timeout"),
    _bad("network-unknown", {"network": "bogus"}, "network"),
    _bad("network-type", {"network": 1}, "network"),
    _bad("image-type", {"image": 5}, "image"),
    _bad("skills-type", {"skills": 5}, "skills"),
]


@pytest.mark.parametrize("body,field", BAD_CREATES)
def test_create_bad_input_is_400_naming_the_field(client, body, field):
    before = client.list()["total"]
    if isinstance(body, bytes):
        r = client.post(API, data=body, headers={"Content-Type": "application/json"})
    else:
        r = client.post(API, json=body)
    assert r.status_code == 400, (body, r.status_code, r.text[:300])
    msg = error_of(r)
    if field:
        assert field in msg.lower(), f"error {msg!r} does not name {field!r}"
    assert client.list()["total"] == before, "a failed create left a sandbox"


def test_create_duplicate_name_409(sandbox, client):
    name = "e2e-dup-" + secrets.token_hex(3)
    sandbox(name=name)
    before = client.list()["total"]
    r = client.post(API, json={"name": name})
    assert r.status_code == 409, r.text
    assert name in error_of(r) or "name" in error_of(r).lower()
    assert client.list()["total"] == before


def test_create_unknown_image_fails_cleanly(client):
    before = client.list()["total"]
    r = client.post(API, json={"image": "no-such-image-" + secrets.token_hex(3)})
    assert r.status_code in (400, 404), r.status_code
    assert "image" in error_of(r).lower()
    assert client.list()["total"] == before


# ---------------------------------------------------------------- list and get

def test_list_fields(client, shared_sb):
    body = client.list()
    assert set(body) >= {"sandboxes", "total"}
    assert body["total"] == len(body["sandboxes"])
    mine = [s for s in body["sandboxes"] if s["id"] == shared_sb.id]
    assert len(mine) == 1
    s = mine[0]
    want = {"id", "status", "image", "uptime_seconds", "ttl_seconds", "memory", "cpus",
            "commands_executed", "network"}
    assert want <= set(s), set(s)
    assert s["status"] == "running" and s["image"] == "base"
    assert s["memory"] == "512m" and s["cpus"] == 1.0 and s["network"] == "none"
    assert isinstance(s["uptime_seconds"], int) and s["uptime_seconds"] >= 0
    assert isinstance(s["ttl_seconds"], int) and 0 < s["ttl_seconds"] <= 3600
    assert isinstance(s["commands_executed"], int)


def test_get_fields(client, shared_sb):
    shared_sb.sh("true")
    b = client.info(shared_sb.id)
    want = {"id", "status", "image", "created_at", "uptime_seconds", "network", "limits",
            "expires_at", "ttl_seconds", "commands_executed", "usage"}
    assert want <= set(b), set(b)
    assert b["id"] == shared_sb.id and b["status"] == "running"
    assert b["network"] == {"mode": "none", "ip": None}
    assert b["limits"] == {"memory": "512m", "cpus": 1.0, "pids": 128, "disk": "10g"}
    assert RFC3339_Z.match(b["created_at"]) and RFC3339_Z.match(b["expires_at"])
    assert b["created_at"] == shared_sb.info["created_at"]
    assert b["expires_at"] == shared_sb.info["expires_at"]
    assert b["commands_executed"] >= 1
    ttl = parse_rfc3339(b["expires_at"]) - time.time()
    assert abs(b["ttl_seconds"] - ttl) <= 5
    assert isinstance(b["usage"], dict) and b["usage"], b["usage"]


def test_commands_executed_counts(sandbox, client):
    sb = sandbox(memory="64m")
    n0 = client.info(sb.id)["commands_executed"]
    for _ in range(3):
        sb.exec("true")
    sb.exec("exit 3")
    # The counter is updated by the sandbox's supervisor after the answer goes
    # out, so allow it a moment (failed commands count too).
    hbtest.wait_until(lambda: client.info(sb.id)["commands_executed"] == n0 + 4, 15, 0.1,
                      "commands_executed to reach 4")
    listed = [s for s in client.list()["sandboxes"] if s["id"] == sb.id][0]
    assert listed["commands_executed"] == n0 + 4


def test_missing_sandbox_is_404(client):
    nope = "no-such-" + secrets.token_hex(4)
    for method, path, kw in (("GET", f"{API}/{nope}", {}), ("DELETE", f"{API}/{nope}", {}),
                             ("POST", f"{API}/{nope}/exec", {"json": {"command": "true"}}),
                             ("GET", f"{API}/{nope}/files", {"params": {"path": "/etc/hostname"}}),
                             ("PUT", f"{API}/{nope}/files", {"params": {"path": "/x"},
                                                              "data": b"x"}),
                             ("GET", f"{API}/{nope}/files/list", {"params": {"path": "/"}})):
        r = client.request(method, path, **kw)
        assert r.status_code == 404, (method, path, r.status_code)
        error_of(r)


# ---------------------------------------------------------------- exec

def test_exec_basic(shared_sb):
    res = shared_sb.exec("python3 -c 'print(1+1)'; echo err >&2")
    assert res["exit_code"] == 0
    assert res["stdout"] == "2\n"
    assert res["stderr"] == "err\n"
    assert isinstance(res["duration_ms"], int) and res["duration_ms"] >= 0
    for flag in ("timed_out", "oom_killed", "stdout_truncated", "stderr_truncated"):
        assert flag not in res, f"{flag} present although false: {res}"


def test_exec_exit_code(shared_sb):
    assert shared_sb.exec("exit 42")["exit_code"] == 42
    assert shared_sb.exec("kill -TERM $$")["exit_code"] == 128 + 15


def test_exec_timeout_kills_the_commands_children(sandbox):
    sb = sandbox(memory="64m")
    t0 = time.monotonic()
    res = sb.exec("sleep 301 & echo $! > /tmp/child.pid; sleep 302", timeout=2)
    assert time.monotonic() - t0 < 30
    assert res.get("timed_out") is True, res
    assert res["exit_code"] != 0
    child = sb.sh("cat /tmp/child.pid").strip()
    assert sb.exec(f"kill -0 {child}")["exit_code"] != 0, "the timed-out command's child lives"
    assert "sleep 30" not in sb.sh("ps -eo args=")


def test_exec_background_process_does_not_hold_the_answer(sandbox):
    sb = sandbox(memory="64m")
    t0 = time.monotonic()
    res = sb.exec("sleep 40 & echo started", timeout=60)
    took = time.monotonic() - t0
    assert res["stdout"] == "started\n" and res["exit_code"] == 0
    assert took < 20, f"exec waited {took:.1f}s for a background process"
    assert "sleep 40" in sb.sh("ps -eo args="), "the background process did not keep running"


def test_oom_attributed_to_the_exec_that_suffered_it(sandbox):
    sb = sandbox(memory="128m")
    c2 = hbtest.Client(sb.client.url, sb.client.key)
    result = {}

    def bystander():
        result["b"] = c2.exec(sb.id, "sleep 4; echo survived", timeout=60)

    th = threading.Thread(target=bystander)
    th.start()
    time.sleep(0.5)
    victim = sb.exec("python3 -c \"x = b'a' * (400 << 20)\"", timeout=60)
    th.join(60)
    c2.close()
    assert victim.get("oom_killed") is True, victim
    assert result["b"]["stdout"] == "survived\n"
    assert not result["b"].get("oom_killed"), f"OOM blamed on a bystander: {result['b']}"


def test_exec_cwd_env_stdin(shared_sb):
    res = shared_sb.exec("pwd; echo \"$FOO-$BAR\"; cat", cwd="/tmp",
                         env={"FOO": "foo", "BAR": "b a r"}, stdin="piped input\n")
    assert res["exit_code"] == 0, res
    assert res["stdout"] == "/tmp\nfoo-b a r\npiped input\n"


def test_exec_default_cwd_is_root_home(shared_sb):
    assert shared_sb.sh("pwd").strip() == "/root"


def test_exec_concurrent_in_one_sandbox(sandbox):
    sb = sandbox(memory="128m")
    c2 = hbtest.Client(sb.client.url, sb.client.key)
    flag = "/tmp/go-" + secrets.token_hex(3)
    result = {}

    def waiter():
        result["a"] = c2.exec(sb.id, f"while [ ! -e {flag} ]; do sleep 0.05; done; echo waited",
                              timeout=30)

    th = threading.Thread(target=waiter)
    th.start()
    time.sleep(0.5)
    # If execs were serialized this one would only run after the waiter timed out.
    b = sb.exec(f"touch {flag}; echo touched", timeout=30)
    th.join(60)
    c2.close()
    assert b["stdout"] == "touched\n"
    assert result["a"]["stdout"] == "waited\n" and not result["a"].get("timed_out"), result


def test_exec_output_truncated_beyond_the_cap(shared_sb):
    """Each stream keeps 4 MiB (the daemon's per-stream cap)."""
    res = shared_sb.exec("head -c 11534336 /dev/zero | tr '\\0' a; "
                         "head -c 11534336 /dev/zero | tr '\\0' b >&2; echo done >&2", timeout=120)
    assert res["exit_code"] == 0
    assert res.get("stdout_truncated") is True and res.get("stderr_truncated") is True, \
        {k: v for k, v in res.items() if k not in ("stdout", "stderr")}
    assert len(res["stdout"]) == 4 * 1024 * 1024
    assert len(res["stderr"]) == 4 * 1024 * 1024
    assert set(res["stdout"]) == {"a"}


def test_exec_just_under_the_cap_not_truncated(shared_sb):
    res = shared_sb.exec("head -c 1048576 /dev/zero | tr '\\0' a", timeout=60)
    assert len(res["stdout"]) == 1048576 and "stdout_truncated" not in res


@pytest.mark.parametrize("body,field", [
    ({}, "command"),
    ({"command": 5}, "command"),
    ({"command": "true", "timeout": "x"}, "timeout"),
    ({"command": "true", "timeout": -1}, "timeout"),
    ({"command": "true", "bogus": 1}, "bogus"),
    ({"command": "true", "cwd": 3}, "cwd"),
    ({"command": "true", "env": 3}, "env"),
])
def test_exec_bad_input(shared_sb, body, field):
    r = shared_sb.client.post(f"{API}/{shared_sb.id}/exec", json=body)
    assert r.status_code == 400, (body, r.status_code, r.text[:200])
    assert field in error_of(r).lower()


def test_exec_invalid_json(shared_sb):
    r = shared_sb.client.post(f"{API}/{shared_sb.id}/exec", data=b"{nope",
                              headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    error_of(r)


# ---------------------------------------------------------------- files

def test_files_roundtrip_binary(shared_sb):
    data = bytes(range(256)) * 64 + os.urandom(300_000) + b"\0\r\n\xff"
    path = f"/root/up-{secrets.token_hex(3)}/a/b/c.bin"
    body = shared_sb.put(path, data)
    assert body == {"path": path, "size": len(data)}
    r = shared_sb.client.download(shared_sb.id, path)
    assert r.status_code == 200
    assert r.headers.get("Content-Length") == str(len(data))
    assert r.content == data
    inside = shared_sb.sh(f"sha256sum {path}").split()[0]
    assert inside == hashlib.sha256(data).hexdigest()
    # Atomic replace: a second upload wins entirely.
    shared_sb.put(path, b"short")
    assert shared_sb.client.download(shared_sb.id, path).content == b"short"
    # Empty files too.
    assert shared_sb.put(path + ".empty", b"") == {"path": path + ".empty", "size": 0}
    r = shared_sb.client.download(shared_sb.id, path + ".empty")
    assert r.status_code == 200 and r.content == b"" and r.headers.get("Content-Length") == "0"


def test_files_upload_owned_by_sandbox_root(shared_sb):
    shared_sb.put("/root/owner-check", b"x")
    assert shared_sb.sh("stat -c %u:%g /root/owner-check").strip() == "0:0"


def test_files_missing_file_404(shared_sb):
    r = shared_sb.client.download(shared_sb.id, "/root/definitely-not-here")
    assert r.status_code == 404
    error_of(r)


@pytest.mark.parametrize("path", ["root/relative", "relative", "/root/nul\x00byte", ""])
def test_files_bad_paths_400(shared_sb, path):
    c = shared_sb.client
    r = c.download(shared_sb.id, path)
    assert r.status_code == 400, (path, r.status_code)
    assert "path" in error_of(r).lower()
    r = c.put(f"{API}/{shared_sb.id}/files", params={"path": path}, data=b"x")
    assert r.status_code == 400, (path, r.status_code)


def test_files_path_param_required(shared_sb):
    c = shared_sb.client
    r = c.get(f"{API}/{shared_sb.id}/files")
    assert r.status_code == 400
    assert "path" in error_of(r).lower()
    r = c.put(f"{API}/{shared_sb.id}/files", data=b"x")
    assert r.status_code == 400


def test_files_list_recursive(shared_sb):
    d = "/root/lt-" + secrets.token_hex(3)
    shared_sb.sh(f"mkdir -p {d}/a/b {d}/empty && printf 12345 > {d}/a/b/f1 && printf abc > {d}/f2")
    r = shared_sb.client.listing(shared_sb.id, d)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["path"] == d
    assert body["total"] == len(body["entries"])
    ents = {e["path"]: e for e in body["entries"]}
    assert set(ents) == {f"{d}/a", f"{d}/a/b", f"{d}/a/b/f1", f"{d}/f2", f"{d}/empty"}, set(ents)
    f1 = ents[f"{d}/a/b/f1"]
    assert {k: f1[k] for k in ("name", "path", "entry_type", "size")} == {
        "name": "f1", "path": f"{d}/a/b/f1", "entry_type": "file", "size": 5}
    # and its metadata (tests/e2e/test_files_manage.py checks the values)
    assert set(f1) == {"name", "path", "entry_type", "size", "mode", "mtime", "uid", "gid"}, f1
    assert ents[f"{d}/f2"]["size"] == 3
    for p in (f"{d}/a", f"{d}/a/b", f"{d}/empty"):
        assert ents[p]["entry_type"] == "directory" and "size" not in ents[p], ents[p]
        assert ents[p]["name"] == p.rsplit("/", 1)[1]


def test_files_list_default_root_skips_pseudo_fs(shared_sb):
    r = shared_sb.client.listing(shared_sb.id)
    assert r.status_code == 200
    body = r.json()
    assert body["path"] == "/"
    paths = [e["path"] for e in body["entries"]]
    assert paths
    if not body.get("truncated"):
        assert "/etc" in paths and "/usr" in paths
    bad = [p for p in paths if re.match(r"^/(proc|sys|dev)/", p)]
    assert not bad, bad[:10]
    assert body["total"] == len(body["entries"])


def test_files_list_a_file_is_500_as_the_seed_says(shared_sb, daemon):
    mark = len(daemon.log_text())
    r = shared_sb.client.listing(shared_sb.id, "/etc/hostname")
    assert r.status_code == 500
    msg = error_of(r)
    assert "not a directory" in msg.lower()
    # the caller's mistake, not a fault: the message says what to call instead
    assert f"GET /api/v1/hiveboxes/{shared_sb.id}/files?path=/etc/hostname" in msg, msg
    new_lines = daemon.log_text()[mark:].splitlines()
    level = re.compile(r"^\S+Z \S+ (\w+): ")   # "<time> hivebox <level>: ..."
    levels = [level.match(ln).group(1) for ln in new_lines if "hostname" in ln and level.match(ln)]
    assert levels and "error" not in levels, new_lines
    r = shared_sb.client.listing(shared_sb.id, "/no/such/dir")
    assert r.status_code == 404


# ---------------------------------------------------------------- delete

def test_sandbox_whose_init_died_is_not_running(client, sandbox):
    sb = sandbox(memory="64m")
    init = hbtest.init_host_pid(sb.id)
    assert init
    os.kill(init, 9)
    hbtest.wait_until(lambda: not hbtest.pid_alive(init), 10, 0.05, "init to die")

    def not_running():
        r = client.get(f"{API}/{sb.id}")
        return r.status_code == 200 and r.json()["status"] != "running"

    # A short grace for the daemon to notice; after that it says "failed"
    # (kept with its files until deleted: tests/e2e/test_hostile_init.py).
    hbtest.wait_until(not_running, 15, 0.2, "GET to stop reporting a dead sandbox as running")
    assert client.info(sb.id)["status"] == "failed"
    listed = [s for s in client.list()["sandboxes"] if s["id"] == sb.id]
    assert listed and listed[0]["status"] == "failed", listed
    r = client.post(f"{API}/{sb.id}/exec", json={"command": "true"}, timeout=60)
    assert r.status_code == 409, "exec 'worked' in a sandbox without init"
    r = client.delete(f"{API}/{sb.id}")
    assert r.status_code == 200
    hbtest.wait_until(lambda: not hbtest.cgroup_dirs(sb.id), 10, 0.1, "cgroups of the dead")


def test_delete_then_404(client, daemon):
    info = client.create(memory="64m")
    sid = info["id"]
    assert hbtest.cgroup_dirs(sid), "no cgroup for a live sandbox"
    r = client.delete(f"{API}/{sid}")
    assert r.status_code == 200
    assert r.json() == {"id": sid, "status": "destroyed"}
    assert client.get(f"{API}/{sid}").status_code == 404
    assert client.delete(f"{API}/{sid}").status_code == 404
    assert sid not in [s["id"] for s in client.list()["sandboxes"]]
    assert not hbtest.cgroup_dirs(sid), "cgroups left after destroy"
    assert not daemon.sandbox_dir(sid).exists(), "state dir left after destroy"


# ---------------------------------------------------------------- analytics, openapi

def test_analytics(client, shared_sb, daemon):
    sub = zmq.Context.instance().socket(zmq.SUB)
    sub.setsockopt(zmq.LINGER, 0)
    sub.setsockopt_string(zmq.SUBSCRIBE, "metrics.sample")
    sub.connect(daemon.events)
    t0 = time.monotonic()

    def sample_with_shared():
        body = client.get("/api/v1/analytics").json()
        for s in body.get("samples", []):
            if any(x.get("id") == shared_sb.id for x in s.get("sandboxes", [])):
                return body
        return None

    body = hbtest.wait_until(sample_with_shared, 25, 1, "a metrics sample with the shared sandbox")
    assert body["interval_secs"] == 10
    s = body["samples"][-1]
    assert {"timestamp", "sandbox_count", "sandboxes", "host_memory_total", "host_memory_used",
            "host_cpu_percent"} <= set(s)
    assert isinstance(s["timestamp"], int) and abs(s["timestamp"] - time.time()) < 60
    assert s["sandbox_count"] == len(s["sandboxes"]) >= 1
    assert 0 < s["host_memory_used"] <= s["host_memory_total"]
    x = [x for x in s["sandboxes"] if x["id"] == shared_sb.id][0]
    assert {"id", "memory_bytes", "memory_limit_bytes", "cpu_percent", "pids"} <= set(x)
    assert x["memory_limit_bytes"] == 512 << 20
    assert x["pids"] >= 1 and x["memory_bytes"] > 0
    r = client.get("/api/v1/analytics", params={"range": 300})
    assert r.status_code == 200
    assert all(time.time() - smp["timestamp"] <= 300 + 15 for smp in r.json()["samples"])
    r = client.get("/api/v1/analytics", params={"range": "abc"})
    assert r.status_code == 400 and "range" in error_of(r).lower()
    # The same sample goes out on the feed every 10 s (one interval at most,
    # counted from when we subscribed).
    try:
        got = None
        while got is None and time.monotonic() - t0 < 25:
            if sub.poll(500):
                topic, payload = sub.recv_multipart()
                got = (topic, msgpack.unpackb(payload, raw=False))
        assert got, "no metrics.sample event within 25 s"
        assert got[0] == b"metrics.sample"
        assert {"timestamp", "sandbox_count", "sandboxes", "host_memory_total",
                "host_memory_used", "host_cpu_percent"} <= set(got[1]), got[1]
    finally:
        sub.close()


def test_openapi_lists_the_routes(client):
    r = client.get("/api/v1/openapi.json")
    assert r.status_code == 200
    doc = r.json()
    assert str(doc.get("openapi", "")).startswith("3.1")
    paths = {re.sub(r"\{[^}]+\}", "{}", p): v for p, v in doc["paths"].items()}
    want = {
        "/api/v1/hiveboxes": {"get", "post"},
        "/api/v1/hiveboxes/{}": {"get", "delete"},
        "/api/v1/hiveboxes/{}/exec": {"post"},
        "/api/v1/hiveboxes/{}/files": {"get", "put", "delete"},
        "/api/v1/hiveboxes/{}/files/list": {"get"},
        "/api/v1/hiveboxes/{}/files/mkdir": {"post"},
        "/api/v1/hiveboxes/{}/files/move": {"post"},
        "/api/v1/analytics": {"get"},
        "/healthz": {"get"},
    }
    for p, methods in want.items():
        assert p in paths, f"{p} missing from openapi.json ({sorted(paths)})"
        assert methods <= set(paths[p]), (p, set(paths[p]))


# ---------------------------------------------------------------- limits

def test_limits_written_to_cgroups(sandbox, client):
    sb = sandbox(memory="256m", cpus=0.5, pids=64)
    mem = 256 << 20
    # The commands' cgroup (user/) has exactly the sandbox's limits...
    user = {c: hbtest.cgroup_dir(c, sb.id) / "user" for c in ("memory", "pids")}
    assert int((user["memory"] / "memory.limit_in_bytes").read_text()) == mem
    memsw = user["memory"] / "memory.memsw.limit_in_bytes"
    if memsw.exists():
        assert int(memsw.read_text()) == mem, "swap is not off"
    assert (user["pids"] / "pids.max").read_text().strip() == "64"
    # ...and init's cgroup above it a bounded reserve on top (its /dev/shm
    # writes, its request threads and the commands they start, and one
    # keeper thread per background process: HB_INIT_PIDS_RESERVE).
    top = int(hbtest.cgroup_file("memory", sb.id, "memory.limit_in_bytes"))
    assert mem < top <= mem + mem // 4 + (128 << 20), top
    assert 64 < int(hbtest.cgroup_file("pids", sb.id, "pids.max")) <= 64 + 2 * 60 + 64 + 8
    quota = int(hbtest.cgroup_file("cpu", sb.id, "cpu.cfs_quota_us"))
    period = int(hbtest.cgroup_file("cpu", sb.id, "cpu.cfs_period_us"))
    assert abs(quota / period - 0.5) < 0.01, (quota, period)
    # init is in the sandbox's cgroups, every command in the user ones.
    pid = hbtest.init_host_pid(sb.id)
    assert pid, "init not found in the sandbox's cgroup"
    cg = hbtest.proc_cgroups(pid)
    for ctrl in ("memory", "cpu", "pids"):
        assert cg[ctrl].startswith("/hivebox/") and cg[ctrl].endswith(f"/{sb.id}"), cg
    inside = dict(line.split(":", 2)[1:] for line in sb.sh("cat /proc/self/cgroup").splitlines())
    for ctrl in ("memory", "pids", "freezer"):
        assert inside[ctrl] == "/user", inside
    usage = client.info(sb.id)["usage"]
    if "memory_limit_bytes" in usage:
        assert usage["memory_limit_bytes"] == mem


def test_limits_256m_cannot_allocate_600MB(sandbox):
    sb = sandbox(memory="256m")
    res = sb.exec("python3 -c \"x = bytearray(600 << 20); x[::4096] = b'a' * len(x[::4096]); "
                  "print('allocated')\"", timeout=120)
    assert "allocated" not in res["stdout"], res
    assert res["exit_code"] != 0
    assert sb.sh("echo ok").strip() == "ok"


def test_limits_cpu_quota_gross_bound(sandbox):
    sb = sandbox(memory="128m", cpus=0.5)
    usage_file = hbtest.cgroup_dir("cpuacct", sb.id) / "cpuacct.usage"
    before = int(usage_file.read_text())
    t0 = time.monotonic()
    sb.exec("for i in 1 2; do timeout 3 sh -c 'while :; do :; done' & done; wait", timeout=60)
    wall = time.monotonic() - t0
    used = (int(usage_file.read_text()) - before) / 1e9
    # Two busy loops could use two cores; the 0.5 quota must keep them far below
    # one (only a gross bound: 2x the quota).
    assert used < 2 * 0.5 * wall, f"cpu {used:.2f}s over {wall:.2f}s wall with cpus=0.5"
    assert used > 0.1, "the busy loops did not run"


# ---------------------------------------------------------------- expiry

def test_expiry_destroys_and_publishes(client, daemon):
    ctx = zmq.Context.instance()
    sub = ctx.socket(zmq.SUB)
    sub.setsockopt(zmq.LINGER, 0)
    sub.setsockopt_string(zmq.SUBSCRIBE, "sandbox.expired")
    sub.connect(daemon.events)
    time.sleep(0.5)  # let the subscription reach the publisher
    try:
        info = client.create(memory="64m", timeout=2)
        sid = info["id"]
        assert parse_rfc3339(info["expires_at"]) - parse_rfc3339(info["created_at"]) == 2

        def gone():
            return client.get(f"{API}/{sid}").status_code == 404

        hbtest.wait_until(gone, 20, 0.1, "the expired sandbox to disappear")
        got = None
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and got is None:
            if sub.poll(200):
                topic, payload = sub.recv_multipart()
                body = msgpack.unpackb(payload, raw=False)
                if topic == b"sandbox.expired" and body.get("id") == sid:
                    got = body
        assert got is not None, "no sandbox.expired event"
        hbtest.wait_until(lambda: not hbtest.cgroup_dirs(sid), 20, 0.1, "cgroups of the expired")
        hbtest.wait_until(lambda: not daemon.sandbox_dir(sid).exists(), 20, 0.1, "its state dir")
    finally:
        sub.close()


# ---------------------------------------------------------------- robustness

def test_exec_storm_in_one_sandbox(sandbox):
    sb = sandbox(memory="256m")
    out = {}

    def one(i):
        c = hbtest.Client(sb.client.url, sb.client.key)
        try:
            out[i] = c.exec(sb.id, f"sleep 0.{i % 5}; echo {i}", timeout=60)
        finally:
            c.close()

    ths = [threading.Thread(target=one, args=(i,)) for i in range(16)]
    for t in ths:
        t.start()
    for t in ths:
        t.join(120)
    assert sorted(out) == list(range(16))
    for i, res in out.items():
        assert res["stdout"] == f"{i}\n" and res["exit_code"] == 0, (i, res)


def test_exec_large_stdin(shared_sb):
    data = os.urandom(512 * 1024).hex()[: 700_000]
    res = shared_sb.exec("wc -c; ", stdin=data, timeout=60)
    assert res["stdout"].strip() == str(len(data))


def test_exec_request_too_large_names_its_fields(shared_sb):
    # each part within its own limit, together more than one request carries
    body = {"command": "wc -c # " + "x" * 60_000, "stdin": "y" * (1024 * 1024)}
    r = shared_sb.client.post(f"{API}/{shared_sb.id}/exec", json=body)
    assert r.status_code == 413, r.text[:200]
    assert "stdin" in error_of(r) and "command" in error_of(r)
    r = shared_sb.client.post(f"{API}/{shared_sb.id}/exec",
                              json={"command": "true", "env": {"BIG": "v" * 40_000}})
    assert r.status_code == 413 and "env" in error_of(r), r.text[:200]
    # a timeout too small to count as milliseconds is still a timeout, not "none"
    res = shared_sb.exec("sleep 5", timeout=0.0001)
    assert res.get("timed_out") is True, res


def test_files_large_roundtrip_and_odd_names(shared_sb):
    data = os.urandom(12 * 1024 * 1024)
    path = "/root/dir with space/ünïcode file.bin"
    assert shared_sb.put(path, data)["size"] == len(data)
    r = shared_sb.client.download(shared_sb.id, path)
    assert r.status_code == 200 and hashlib.sha256(r.content).digest() == \
        hashlib.sha256(data).digest()
    listing = shared_sb.client.listing(shared_sb.id, "/root/dir with space").json()
    assert [e["name"] for e in listing["entries"]] == ["ünïcode file.bin"]
    assert listing["entries"][0]["size"] == len(data)


def test_files_upload_under_a_file_is_a_client_error(shared_sb):
    r = shared_sb.client.put(f"{API}/{shared_sb.id}/files", params={"path": "/etc/hostname/x"},
                             data=b"x")
    assert 400 <= r.status_code < 500, r.status_code
    error_of(r)


def test_exec_missing_cwd_is_not_a_server_fault(shared_sb):
    r = shared_sb.client.post(f"{API}/{shared_sb.id}/exec",
                              json={"command": "pwd", "cwd": "/no/such/dir", "timeout": 30})
    assert r.status_code != 500, r.text
    if r.status_code == 200:
        assert r.json()["exit_code"] != 0, r.json()
    else:
        assert 400 <= r.status_code < 500 and "cwd" in error_of(r).lower()


def test_destroy_during_a_running_exec(client, daemon):
    sid = client.create(memory="64m")["id"]
    result = {}

    def long_exec():
        c2 = hbtest.Client(daemon.url, daemon.key)
        try:
            result["r"] = c2.post(f"{API}/{sid}/exec", json={"command": "sleep 60",
                                                             "timeout": 120}, timeout=120)
        except Exception as exc:
            result["exc"] = repr(exc)
        finally:
            c2.close()

    th = threading.Thread(target=long_exec)
    th.start()
    time.sleep(1)
    r = client.delete(f"{API}/{sid}", timeout=60)
    assert r.status_code == 200, r.text
    th.join(60)
    assert not th.is_alive(), "the exec request hung after its sandbox was destroyed"
    assert client.get(f"{API}/{sid}").status_code == 404
    hbtest.wait_until(lambda: not hbtest.cgroup_dirs(sid), 10, 0.1, "cgroups after destroy")
    assert requests.get(daemon.url + "/healthz", timeout=10).status_code == 200


def test_name_reusable_after_destroy(client):
    name = "e2e-reuse-" + secrets.token_hex(3)
    for _ in range(2):
        info = client.create(name=name, memory="32m")
        assert info["id"] == name
        assert client.exec(name, "hostname")["stdout"].strip() == name
        client.destroy(name)
    assert client.get(f"{API}/{name}").status_code == 404


def test_exec_binary_output_stays_valid_json(shared_sb):
    r = shared_sb.client.post(f"{API}/{shared_sb.id}/exec", json={
        "command": "printf 'a\\377\\376b\\000c\\n'; printf '\\303\\251' >&2", "timeout": 30})
    assert r.status_code == 200
    body = json.loads(r.content.decode("utf-8"))  # strict UTF-8 JSON
    assert body["stdout"].startswith("a") and body["stdout"].endswith("b\x00c\n")
    assert "\ufffd" in body["stdout"]  # invalid bytes replaced, not dropped silently
    assert body["stderr"] == "é"
    res = shared_sb.exec("cat", stdin="é\x00x")
    assert res["stdout"] == "é\x00x"
