"""The OpenCode agent per sandbox, proxied at /api/v1/hiveboxes/:id/opencode/.

Real daemon, real sandboxes, the real `opencode-ai` package (installed by
tools/setup.sh under build/opencode); the one double is the scripted
OpenAI-compatible model in fake_llm.py, since these machines reach no model
API. The scripted model decides which tools the agent calls, so each test
knows exactly what should happen inside the sandbox and on the host.
"""
import json
import os
import secrets
import signal
import threading
import time
from pathlib import Path

import pytest
import requests

import hbtest
from fake_llm import FakeLLM
from hbtest import BUILD, Daemon, wait_until

OPENCODE_BIN = BUILD / "opencode" / "node_modules" / ".bin" / "opencode"
OC_UID_BASE = 0x3F000000
GLOBAL_KEY = "sk-global-" + secrets.token_hex(8)
OPERATOR_LINE = "Sign every answer with the word HIVEBOX-OPERATOR-" + secrets.token_hex(3)
GLOBAL_MCPS = {"everywhere": {"type": "remote", "url": "http://127.0.0.1:9/global"},
               "extra": {"type": "remote", "url": "http://127.0.0.1:9/global-extra"}}
START_S = 120   # a cold OpenCode start on a busy 2-core machine


def _require_opencode():
    if not os.access(OPENCODE_BIN, os.X_OK):
        pytest.fail(f"OpenCode is not installed at {OPENCODE_BIN}: run tools/setup.sh "
                    f"(npm install --prefix {BUILD}/opencode opencode-ai@<pinned>)")


# ---------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def llm():
    srv = FakeLLM().start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def llm2():
    """A second model server, for a sandbox's own llm_base_url."""
    srv = FakeLLM().start()
    yield srv
    srv.stop()


def _oc_daemon(root, llm, **env):
    base = {"HIVEBOX_OPENCODE_BASE_URL": llm.base_url, "HIVEBOX_OPENCODE_MODEL": "scripted-model",
            "HIVEBOX_OPENCODE_API_KEY": GLOBAL_KEY, "HIVEBOX_OPENCODE_IDLE": "20"}
    base.update(env)
    d = Daemon(root, name="daemon", extra_env=base)
    d.start()
    return d


def _shutdown(d):
    from conftest import shutdown_daemon
    if not d.alive():
        d.start()
    shutdown_daemon(d)
    d.assert_no_sanitizer_reports()


@pytest.fixture(scope="module")
def ocd(e2e_tmp, llm):
    """A daemon whose sandboxes' agents talk to the scripted model."""
    _require_opencode()
    d = _oc_daemon(e2e_tmp / ("opencode-" + secrets.token_hex(3)), llm,
                   HIVEBOX_OPENCODE_MCPS=json.dumps(GLOBAL_MCPS),
                   HIVEBOX_OPENCODE_INSTRUCTIONS="Be brief.\n" + OPERATOR_LINE)
    yield d
    _shutdown(d)


@pytest.fixture(scope="module")
def occ(ocd):
    c = ocd.client()
    yield c
    c.close()


@pytest.fixture
def box(occ):
    """Factory of sandboxes on the OpenCode daemon, destroyed after the test."""
    made = []

    def make(**spec):
        info = occ.create(**spec)
        made.append(info["id"])
        return info

    yield make
    for sid in made:
        occ.destroy(sid, missing_ok=True)


# ---------------------------------------------------------------- helpers

def oc(sid):
    return f"/api/v1/hiveboxes/{sid}/opencode"


class Events:
    """The proxied /event stream, read on a thread as it arrives."""

    def __init__(self, daemon, sid):
        self.items = []          # (monotonic time, event dict)
        self.lock = threading.Lock()
        self.first_at = None
        self.resp = requests.get(daemon.url + oc(sid) + "/event", stream=True, timeout=(10, None),
                                 headers={"Authorization": f"Bearer {daemon.key}",
                                          "Accept": "text/event-stream"})
        assert self.resp.status_code == 200, self.resp.text[:500]
        assert self.resp.headers.get("Content-Type", "").startswith("text/event-stream")
        self.open = True
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        try:
            for line in self.resp.iter_lines(chunk_size=1):
                if not line or not line.startswith(b"data:"):
                    continue
                ev = json.loads(line[5:])
                with self.lock:
                    if self.first_at is None:
                        self.first_at = time.monotonic()
                    self.items.append((time.monotonic(), ev))
        except (requests.RequestException, ValueError, AttributeError):
            pass
        finally:
            self.open = False

    def types(self, session=None):
        with self.lock:
            return [e["type"] for _, e in self.items
                    if session is None or _session_of(e) == session]

    def wait_idle(self, session, timeout=180):
        def idle():
            with self.lock:
                for _, e in self.items:
                    if _session_of(e) != session:
                        continue
                    if e["type"] == "session.idle":
                        return True
                    if e["type"] == "session.status" and \
                            e["properties"].get("status", {}).get("type") == "idle":
                        return True
            return False
        wait_until(idle, timeout, interval=0.2, what=f"session {session} to go idle")

    def close(self):
        self.resp.close()


def _session_of(ev):
    p = ev.get("properties") or {}
    return p.get("sessionID") or (p.get("info") or {}).get("sessionID") or \
        (p.get("part") or {}).get("sessionID")


def new_session(c, sid):
    r = c.post(oc(sid) + "/session", json={}, timeout=START_S + 30)
    assert r.status_code == 200, r.text[:500]
    return r.json()["id"]


def prompt(c, sid, session, text):
    r = c.post(oc(sid) + f"/session/{session}/prompt_async",
               json={"parts": [{"type": "text", "text": text}]}, timeout=60)
    assert r.status_code in (200, 204), r.text[:500]


def tool_parts(c, sid, session):
    r = c.get(oc(sid) + f"/session/{session}/message")
    assert r.status_code == 200, r.text[:500]
    return [p for m in r.json() for p in m.get("parts", []) if p.get("type") == "tool"]


def server_record(daemon, sid):
    p = daemon.sandbox_dir(sid) / "opencode" / "server"
    try:
        return dict(line.split("=", 1) for line in p.read_text().split())
    except OSError:
        return None


def server_pid(daemon, sid):
    rec = server_record(daemon, sid)
    return int(rec["pid"]) if rec else None


def alive(pid):
    """Running (not a zombie) and an OpenCode server."""
    try:
        st = Path(f"/proc/{pid}/stat").read_text()
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return st.rsplit(")", 1)[1].split()[0] != "Z" and b"opencode" in cmd


def health(c, sid):
    return c.get(oc(sid) + "/global/health", timeout=START_S + 30)


# ---------------------------------------------------------------- the agent at work

def test_agent_writes_and_runs_a_file_through_mcp(ocd, occ, box, llm):
    info = box()
    sid = info["id"]
    assert info["opencode_url"] == f"/api/v1/hiveboxes/{sid}/opencode/"
    assert occ.info(sid)["opencode_url"] == info["opencode_url"]
    listed = [s for s in occ.list()["sandboxes"] if s["id"] == sid]
    assert listed and listed[0]["opencode_url"] == info["opencode_url"]

    ev = Events(ocd, sid)   # the first request starts the server
    try:
        session = new_session(occ, sid)
        llm.reset()
        llm.script({"tool": "write_file",
                    "args": {"path": "/root/agent.py", "content": "print(6 * 7)\n"}},
                   {"tool": "exec", "args": {"command": "python3 /root/agent.py > /root/agent.out"}},
                   {"text": "The script ran and printed its answer."})
        prompt(occ, sid, session, "write a python script and run it")
        ev.wait_idle(session)
        # it streamed while it happened: the stream was open and delivering
        # long before it was done
        assert ev.open, "the proxied event stream ended"
        types = ev.types(session)
        assert "message.part.delta" in types, types
        assert ev.first_at is not None
    finally:
        ev.close()

    # the files exist in the sandbox (seen through the REST API, not the agent)
    r = occ.download(sid, "/root/agent.py")
    assert r.status_code == 200 and r.content == b"print(6 * 7)\n"
    r = occ.download(sid, "/root/agent.out")
    assert r.status_code == 200 and r.content == b"42\n"
    # the agent went through the hivebox MCP tools, and only those
    names = {p["tool"] for p in tool_parts(occ, sid, session)}
    assert names == {"hivebox_write_file", "hivebox_exec"}, names
    offered = {t["function"]["name"] for r in llm.agent_requests() for t in r["body"]["tools"]}
    assert "hivebox_exec" in offered
    for host_tool in ("bash", "read", "write", "edit", "list", "glob", "grep", "webfetch", "task"):
        assert host_tool not in offered, f"OpenCode offered its host tool {host_tool}"
    # its instructions: where it is, what it has, and the operator's lines
    system = " ".join(m.get("content") or "" for m in llm.agent_requests()[0]["body"]["messages"]
                      if m["role"] == "system")
    assert f'HiveBox sandbox "{sid}"' in system and "hivebox_exec" in system
    assert OPERATOR_LINE in system and "Be brief." in system
    # the global settings reached the model: base URL, model, key
    for r in llm.chat_requests():
        assert r["headers"].get("authorization") == f"Bearer {GLOBAL_KEY}"
        assert r["body"]["model"] == "scripted-model"


@pytest.mark.once("its time goes to OpenCode (node) starting and stopping; the proxy's C paths run under ASan in the tests kept")
def test_bash_tool_is_refused_and_runs_nothing_on_the_host(ocd, occ, box, llm, e2e_tmp):
    sid = box()["id"]
    marker = e2e_tmp / ("host-marker-" + secrets.token_hex(4))
    ev = Events(ocd, sid)
    try:
        session = new_session(occ, sid)
        llm.reset()
        llm.script({"tool_exact": "bash", "args": {"command": f"touch {marker}",
                                                   "description": "make a marker"}},
                   {"tool_exact": "write", "args": {"filePath": str(marker), "content": "x"}},
                   {"text": "I could not do that."})
        prompt(occ, sid, session, f"touch {marker}")
        ev.wait_idle(session)
    finally:
        ev.close()
    time.sleep(1)
    assert not marker.exists(), "OpenCode ran a host command for the agent"
    parts = tool_parts(occ, sid, session)
    assert parts, "the scripted tool calls never reached OpenCode"
    for p in parts:
        assert p["state"]["status"] == "error", p
    # the model was told so (it saw an error result, not output)
    results = [m for r in llm.agent_requests() for m in r["body"]["messages"] if m["role"] == "tool"]
    assert results and all("unavailable" in (m.get("content") or "") or "invalid" in
                           (m.get("content") or "").lower() for m in results), results


def test_host_reaching_routes_are_refused(ocd, occ, box, e2e_tmp):
    sid = box()["id"]
    session = new_session(occ, sid)
    marker = e2e_tmp / ("shell-marker-" + secrets.token_hex(4))
    r = occ.post(oc(sid) + f"/session/{session}/shell",
                 json={"agent": "build", "command": f"touch {marker}"})
    assert r.status_code == 403 and "error" in r.json(), r.text
    # encoded characters that end the path once it is a URL again
    for tail in ("%73hell", "shell%3F", "shell%3Fx=1", "shell%23x", "shell%252F", "x/..%2Fshell"):
        r = occ.post(oc(sid) + f"/session/{session}/{tail}",
                     json={"agent": "build", "command": f"touch {marker}"})
        assert r.status_code == 403, f"{tail}: {r.status_code} {r.text[:200]}"
    r = occ.post(oc(sid) + "/pty%3F", json={})
    assert r.status_code == 403, r.text
    # a harmless encoded path is forwarded in the form that was checked
    assert occ.get(oc(sid) + "/global/%68ealth").status_code == 200
    for method, path, body in (("GET", "/file/content?path=/etc/hostname", None),
                               ("GET", "/find/file?query=passwd", None),
                               ("POST", "/pty", {}),
                               ("PATCH", "/config", {"permission": {"bash": "allow"}}),
                               ("POST", "/mcp", {"name": "x", "config": {"type": "local",
                                                                         "command": ["true"]}})):
        r = occ.request(method, oc(sid) + path, json=body)
        assert r.status_code == 403, f"{method} {path}: {r.status_code} {r.text[:200]}"
    # nor can a request switch OpenCode's host tools back on for the model
    for path, body in ((f"/session/{session}/prompt_async",
                        {"parts": [{"type": "text", "text": "hi"}], "tools": {"*": True}}),
                       (f"/session/{session}/message",
                        {"parts": [{"type": "text", "text": "hi"}], "tools": {"bash": True}}),
                       ("/session", {"permission": [{"permission": "bash", "pattern": "*",
                                                     "action": "allow"}]}),
                       (f"/session/{session}/prompt_async",
                        b'{"parts":[],"tools":{"*":true},"n":1e400}')):
        kw = {"data": body} if isinstance(body, bytes) else {"json": body}
        r = occ.post(oc(sid) + path, **kw)
        assert r.status_code == 403, f"{path}: {r.status_code} {r.text[:200]}"
    time.sleep(1)
    assert not marker.exists()
    # the agent's own routes still work
    assert occ.get(oc(sid) + "/config").status_code == 200


# ---------------------------------------------------------------- settings and keys

@pytest.mark.once("its time goes to OpenCode (node) starting and stopping; the proxy's C paths run under ASan in the tests kept")
def test_sandbox_llm_settings_reach_its_model(ocd, occ, box, llm, llm2):
    key = "sk-sandbox-" + secrets.token_hex(8)
    info = box(llm_base_url=llm2.base_url, llm_model="sandbox-model", llm_api_key=key)
    sid = info["id"]
    assert key not in json.dumps(info)
    ev = Events(ocd, sid)
    try:
        session = new_session(occ, sid)
        llm.reset()
        llm2.reset()
        llm2.script({"text": "hello from the sandbox's own model"})
        prompt(occ, sid, session, "hello")
        ev.wait_idle(session)
    finally:
        ev.close()
    reqs = llm2.chat_requests()
    assert reqs, "the sandbox's base URL was not used"
    for r in reqs:
        assert r["headers"].get("authorization") == f"Bearer {key}"
        assert r["body"]["model"] == "sandbox-model"
    assert not llm.chat_requests(), "the global model was used instead"
    # the key is never returned by a route, nor visible inside the sandbox
    details = occ.get(f"/api/v1/hiveboxes/{sid}")
    assert key not in details.text
    assert details.json()["llm"] == {"provider": "hivebox-llm", "model": "sandbox-model",
                                     "api_key_set": True}
    for path in ("/config", "/config/providers", "/provider"):
        r = occ.get(oc(sid) + path, timeout=60)
        assert r.status_code == 200 and key not in r.text, path
    kfile = ocd.sandbox_dir(sid) / "llm_api_key"
    assert kfile.stat().st_mode & 0o777 == 0o600
    out = occ.exec(sid, "cat /proc/1/environ; env; ls -la / /root")
    assert key not in out["stdout"] + out["stderr"]
    assert key not in ocd.log_text()


@pytest.mark.once("its time goes to OpenCode (node) starting and stopping; the proxy's C paths run under ASan in the tests kept")
def test_sandbox_base_url_never_gets_the_global_key(ocd, occ, box, llm2):
    sid = box(llm_base_url=llm2.base_url, llm_model="sandbox-model")["id"]
    ev = Events(ocd, sid)
    try:
        session = new_session(occ, sid)
        llm2.reset()
        llm2.script({"text": "ok"})
        prompt(occ, sid, session, "hello")
        ev.wait_idle(session)
    finally:
        ev.close()
    reqs = llm2.chat_requests()
    assert reqs
    for r in reqs:
        assert GLOBAL_KEY not in json.dumps(r["headers"]), "the operator's key leaked"


def test_local_custom_mcp_is_refused_at_create(occ):
    name = "oc-local-" + secrets.token_hex(3)
    r = occ.post("/api/v1/hiveboxes", json={
        "name": name, "custom_mcps": {"evil": {"type": "local", "command": ["touch", "/tmp/x"]}}})
    assert r.status_code == 400, r.text
    assert "custom_mcps" in r.json()["error"] and "remote" in r.json()["error"]
    assert name not in [s["id"] for s in occ.list()["sandboxes"]]
    r = occ.post("/api/v1/hiveboxes", json={"name": name, "llm_base_url": "file:///etc/passwd",
                                            "llm_model": "m"})
    assert r.status_code == 400 and "llm_base_url" in r.json()["error"], r.text


def test_path_query_and_bare_path_are_forwarded(ocd, occ, box):
    sid = box()["id"]
    state = ocd.sandbox_dir(sid) / "opencode"
    r = occ.get(oc(sid) + "/path", timeout=START_S + 30)
    assert r.status_code == 200 and r.json()["directory"] == str(state / "work")
    r = occ.get(oc(sid) + "/path", params={"directory": str(state / "tmp")})
    assert r.status_code == 200 and r.json()["directory"] == str(state / "tmp"), r.text
    for bare in (oc(sid) + "/", oc(sid)):   # OpenCode's own root, not a HiveBox 404
        r = occ.get(bare)
        assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html"), bare
    # POST with a body, and DELETE, reach it too
    s = occ.post(oc(sid) + "/session", json={"title": "forwarded body"}).json()
    assert s["title"] == "forwarded body"
    assert occ.delete(oc(sid) + f"/session/{s['id']}").status_code == 200
    assert occ.get(oc(sid) + f"/session/{s['id']}").status_code == 404


def test_custom_mcps_are_merged_with_the_hivebox_server(ocd, occ, box):
    info = box(custom_mcps={"extra": {"type": "remote", "url": "http://127.0.0.1:9/mcp",
                                      "enabled": False}})
    sid = info["id"]
    r = occ.get(oc(sid) + "/config", timeout=START_S + 30)
    assert r.status_code == 200, r.text[:300]
    mcp = r.json()["mcp"]
    assert mcp["extra"]["url"] == "http://127.0.0.1:9/mcp", "the sandbox's server wins a clash"
    assert mcp["everywhere"]["url"] == GLOBAL_MCPS["everywhere"]["url"], "global servers merged"
    hb = mcp["hivebox"]
    assert hb["type"] == "remote"
    assert hb["url"] == f"http://127.0.0.1:{ocd.port}/api/v1/hiveboxes/{sid}/mcp"
    assert hb["headers"]["Authorization"] == f"Bearer {info['mcp_token']}"
    assert ocd.key not in r.text, "the admin key must never reach OpenCode"


# ---------------------------------------------------------------- lifecycle

@pytest.mark.once("its time goes to OpenCode (node) starting and stopping; the proxy's C paths run under ASan in the tests kept")
def test_lazy_start_idle_stop_and_restart(e2e_tmp, llm):
    _require_opencode()
    d = _oc_daemon(e2e_tmp / ("oc-idle-" + secrets.token_hex(3)), llm, HIVEBOX_OPENCODE_IDLE="4")
    c = d.client()
    try:
        sid = c.create()["id"]
        time.sleep(2)
        assert server_pid(d, sid) is None, "started before anyone asked (lazy is the default)"
        r = health(c, sid)   # waits for the health endpoint
        assert r.status_code == 200 and r.json()["healthy"] is True
        pid = server_pid(d, sid)
        assert pid and alive(pid)
        slot = json.loads((d.sandbox_dir(sid) / "sandbox.json").read_text())["uid_slot"]
        assert hbtest.proc_uid(pid) == OC_UID_BASE + slot, "its own uid, not root"
        # a clean environment: nothing of the daemon's, the LLM key only where OpenCode reads it
        env = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        assert not [v for v in env if d.key.encode() in v or d.env_canary.encode() in v]
        assert [v for v in env if GLOBAL_KEY.encode() in v] == \
            [b"HIVEBOX_LLM_API_KEY=" + GLOBAL_KEY.encode()]
        cfg = (d.sandbox_dir(sid) / "opencode/config/opencode/opencode.json").read_text()
        assert GLOBAL_KEY not in cfg
        # an open event stream keeps it alive past the idle time
        ev = Events(d, sid)
        time.sleep(8)
        assert alive(pid), "stopped while an event stream was open"
        ev.close()
        wait_until(lambda: not alive(pid), 60, what="the idle server to stop")
        # the next request starts it again
        r = health(c, sid)
        assert r.status_code == 200, r.text
        pid2 = server_pid(d, sid)
        assert pid2 != pid and alive(pid2)
        # a crash: restarted on the next request
        os.kill(pid2, signal.SIGKILL)
        wait_until(lambda: not alive(pid2), 10, what="the killed server to go")
        r = health(c, sid)
        assert r.status_code == 200, r.text
        pid3 = server_pid(d, sid)
        assert pid3 not in (pid, pid2) and alive(pid3)
        assert "exited; it starts again" in d.log_text()
    finally:
        c.close()
        _shutdown(d)


@pytest.mark.once("its time goes to OpenCode (node) starting and stopping; the proxy's C paths run under ASan in the tests kept")
def test_eager_start_does_not_delay_create(e2e_tmp, llm):
    _require_opencode()
    d = _oc_daemon(e2e_tmp / ("oc-eager-" + secrets.token_hex(3)), llm,
                   HIVEBOX_OPENCODE_START="eager")
    c = d.client()
    try:
        sid = c.create()["id"]
        # no request to the agent: it starts on its own
        wait_until(lambda: server_pid(d, sid) and alive(server_pid(d, sid)), 60,
                   what="the eager server")
        wait_until(lambda: "opencode %s: ready" % sid in d.log_text(), START_S,
                   what="the eager server to be ready")
        r = c.get(oc(sid) + "/global/health", timeout=10)
        assert r.status_code == 200
    finally:
        c.close()
        _shutdown(d)


def test_destroy_stops_the_server_and_deletes_its_state(ocd, occ):
    sid = occ.create()["id"]
    assert health(occ, sid).status_code == 200
    pid = server_pid(ocd, sid)
    port = int(server_record(ocd, sid)["port"])
    assert alive(pid)
    occ.destroy(sid)
    wait_until(lambda: not alive(pid), 15, what="the server to stop on destroy")
    assert not (ocd.sandbox_dir(sid) / "opencode").exists()
    assert not ocd.sandbox_dir(sid).exists()
    assert occ.get(oc(sid) + "/global/health").status_code == 404
    # its port is free again
    import socket
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))


def _servers_of(sandbox_dir):
    """Live processes whose environment points into this sandbox's state."""
    found = []
    needle = str(sandbox_dir).encode()
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            if needle in (d / "environ").read_bytes() and alive(int(d.name)):
                found.append(int(d.name))
        except OSError:
            pass
    return found


def test_requests_during_destroy_start_no_server_again(ocd, occ):
    import threading
    sid = occ.create()["id"]
    assert health(occ, sid).status_code == 200
    sdir = ocd.sandbox_dir(sid)
    stop = threading.Event()
    seen = []

    def hammer():
        c = ocd.client()
        try:
            while not stop.is_set():
                seen.append(c.get(oc(sid) + "/global/health", timeout=30).status_code)
        finally:
            c.close()

    threads = [threading.Thread(target=hammer) for _ in range(3)]
    for t in threads:
        t.start()
    time.sleep(0.5)
    try:
        occ.destroy(sid)
        time.sleep(2)   # requests keep coming after the destroy answered
    finally:
        stop.set()
        for t in threads:
            t.join(60)
    assert 404 in seen, sorted(set(seen))
    assert not sdir.exists(), "the state dir came back"
    wait_until(lambda: not _servers_of(sdir), 15, what="no OpenCode server of the destroyed sandbox")


def _server_then_stop(d, c):
    """A sandbox with a running server, then the daemon stopped (SIGTERM):
    (its id, the server's pid)."""
    sid = c.create()["id"]
    assert health(c, sid).status_code == 200
    pid = server_pid(d, sid)
    c.close()
    d.stop(signal.SIGTERM)
    assert alive(pid), "the server must outlive the daemon"
    return sid, pid


@pytest.mark.once("its time goes to OpenCode (node) starting and stopping; the proxy's C paths run under ASan in the tests kept")
def test_daemon_restart_adopts_the_running_server(e2e_tmp, llm):
    _require_opencode()
    d = _oc_daemon(e2e_tmp / ("oc-adopt-" + secrets.token_hex(3)), llm)
    c = d.client()
    try:
        sid, pid = _server_then_stop(d, c)
        d.start()
        c = d.client()
        r = c.get(oc(sid) + "/global/health", timeout=30)
        assert r.status_code == 200
        assert server_pid(d, sid) == pid and alive(pid), "adopted, not restarted"
        assert "adopted the running server" in d.log_text()
    finally:
        c.close()
        _shutdown(d)


@pytest.mark.once("its time goes to OpenCode (node) starting and stopping; the proxy's C paths run under ASan in the tests kept")
def test_daemon_restart_kills_the_server_of_a_sandbox_that_died(e2e_tmp, llm):
    """A sandbox whose init died while no daemon ran is found failed at the
    next start; the server the previous daemon left for it is killed (the
    manager sends the proxy OC_KILL), and the sandbox stays as failed."""
    _require_opencode()
    d = _oc_daemon(e2e_tmp / ("oc-dead-" + secrets.token_hex(3)), llm)
    c = d.client()
    try:
        sid, pid = _server_then_stop(d, c)
        init = hbtest.init_host_pid(sid)
        os.kill(init, signal.SIGKILL)
        wait_until(lambda: not hbtest.pid_alive(init), 10, what="the killed init to go")
        d.start()
        c = d.client()
        assert c.info(sid)["status"] == "failed"
        assert not alive(pid), "the dead sandbox's server was left running"
        assert "stopping the server of dead sandbox dir" in d.log_text()
    finally:
        c.close()
        _shutdown(d)


# ---------------------------------------------------------------- no model configured

@pytest.mark.once("its time goes to OpenCode (node) starting and stopping; the proxy's C paths run under ASan in the tests kept")
def test_prompt_without_a_model_is_refused_at_once(e2e_tmp):
    """No HIVEBOX_OPENCODE_* model and no llm_* at create: OpenCode would fall
    back to defaults that reach no model and a prompt would hang in silence.
    Prompts are refused with the settings to set, the event stream says so
    too, and the sandbox's details show which model (none) it has."""
    _require_opencode()
    d = Daemon(e2e_tmp / ("oc-nomodel-" + secrets.token_hex(3)), name="daemon",
               extra_env={"HIVEBOX_OPENCODE_BASE_URL": "", "HIVEBOX_OPENCODE_MODEL": "",
                          "HIVEBOX_OPENCODE_API_KEY": "", "HIVEBOX_OPENCODE_IDLE": "20"})
    d.start()
    c = d.client()
    try:
        sid = c.create()["id"]
        assert c.info(sid)["llm"] == {"provider": None, "model": None, "api_key_set": False}
        ev = Events(d, sid)
        try:
            session = new_session(c, sid)
            for route in ("message", "prompt_async"):
                r = c.post(oc(sid) + f"/session/{session}/{route}", timeout=60,
                           json={"parts": [{"type": "text", "text": "hello"}]})
                assert r.status_code == 400, (route, r.status_code, r.text[:300])
                msg = r.json()["error"]
                for setting in ("HIVEBOX_OPENCODE_MODEL", "HIVEBOX_OPENCODE_BASE_URL", "llm_model"):
                    assert setting in msg, msg

            def noted():
                with ev.lock:
                    return [e for _, e in ev.items if e["type"] == "session.error" and
                            _session_of(e) == session]
            errs = wait_until(noted, 30, 0.2, "the refusal in the event stream")
            assert "HIVEBOX_OPENCODE_MODEL" in errs[0]["properties"]["error"]["data"]["message"]
            assert ev.open, "the note broke the proxied event stream"
            # a prompt that names its own model is the caller's choice: forwarded
            r = c.post(oc(sid) + f"/session/{session}/prompt_async", timeout=60,
                       json={"model": {"providerID": "nowhere", "modelID": "m"},
                             "parts": [{"type": "text", "text": "hello"}]})
            assert r.status_code in (200, 204), (r.status_code, r.text[:300])
        finally:
            ev.close()
        # a provider/model of OpenCode's own, and what details show of it
        other = c.create(llm_model="anthropic/claude-x")["id"]
        assert c.info(other)["llm"] == {"provider": "anthropic", "model": "claude-x",
                                        "api_key_set": False}
    finally:
        c.close()
        _shutdown(d)


# ---------------------------------------------------------------- disabled, absent

def test_disabled_mode(e2e_tmp, llm):
    d = _oc_daemon(e2e_tmp / ("oc-off-" + secrets.token_hex(3)), llm, HIVEBOX_OPENCODE="false")
    c = d.client()
    try:
        info = c.create()
        sid = info["id"]
        assert "opencode_url" not in info
        assert "opencode_url" not in c.info(sid)
        for path in ("/", "/global/health", "/event"):
            r = c.get(oc(sid) + path, timeout=10)
            assert r.status_code == 404, r.text
            assert "error" in r.json()
        assert server_pid(d, sid) is None
    finally:
        c.close()
        _shutdown(d)


def test_not_installed_is_503_with_how_to_install(e2e_tmp, llm):
    d = _oc_daemon(e2e_tmp / ("oc-absent-" + secrets.token_hex(3)), llm,
                   HIVEBOX_OPENCODE_BIN=str(e2e_tmp / "no-such-opencode"))
    c = d.client()
    try:
        sid = c.create()["id"]
        for _ in range(2):
            r = c.get(oc(sid) + "/global/health", timeout=10)
            assert r.status_code == 503, r.text
            assert "npm install" in r.json()["error"] and "opencode-ai" in r.json()["error"]
        assert d.log_text().count("OpenCode is not installed") == 1, "warn once, at start"
    finally:
        c.close()
        _shutdown(d)
