"""Images from build steps (issue 17, "Build steps"): POST /api/v1/images
with a JSON body runs the steps in a temporary sandbox `build-<name>-<hex4>`
(network none here: nothing leaves this machine), with live output as
server-sent events or one JSON answer at the end, snapshots it as the image
(SB_SNAPSHOT, kind "build") and destroys the sandbox on every path. The
build log is kept and served by GET /api/v1/images/:name/log.

Tests marked NEEDS_SNAPSHOT need SB_SNAPSHOT (the layers part): without it
the build fails at the snapshot, after every step ran; they check all that
comes before it first."""
import os
import secrets
import signal
import subprocess
import threading
import time

import pytest
import requests

import hbtest
from conftest import shutdown_daemon
from hbtest import BUILD, Daemon

IMAGES = "/api/v1/images"


@pytest.fixture(scope="module")
def daemon(e2e_tmp):
    """Its own daemon: the images built here stay out of the others' lists."""
    d = Daemon(e2e_tmp / "image-build", name="daemon")
    d.start()
    yield d
    shutdown_daemon(d)
    d.assert_no_sanitizer_reports()


@pytest.fixture(scope="module")
def client(daemon):
    c = daemon.client()
    yield c
    c.close()


def auth(daemon, **extra):
    h = {"Authorization": f"Bearer {daemon.key}"}
    h.update(extra)
    return h


def new_name(prefix="img"):
    return f"{prefix}-{secrets.token_hex(3)}"


def post_build(daemon, body, sse=False, **kw):
    headers = auth(daemon, **({"Accept": "text/event-stream"} if sse else {}))
    return requests.post(daemon.url + IMAGES, headers=headers, json=body,
                         timeout=kw.pop("timeout", 180), stream=sse, **kw)


def build_sandboxes(client, name=None):
    ids = [s["id"] for s in client.list()["sandboxes"]]
    return [i for i in ids if i.startswith(f"build-{name}-" if name else "build-")]


def image_names(client):
    return [i["name"] for i in client.expect(client.get(IMAGES), 200).json()["images"]]


def assert_no_trace(client, name):
    """No image, and the build sandbox is gone (destroyed before the answer)."""
    assert name not in image_names(client)
    assert build_sandboxes(client, name) == []


TOOL = "printf '#!/bin/sh\\necho tool-ok\\n' > /usr/local/bin/tool && chmod +x /usr/local/bin/tool"
STEPS = ["mkdir -p /opt/t && echo hi > /opt/t/x", TOOL,
         "echo first; sleep 2; echo second >&2"]
FILES = {"/etc/app.conf": "answer=42\n", "/opt/t/deep/dir/notes.txt": "from files\n"}


# ---------------------------------------------------------------- bad input

@pytest.mark.parametrize("body,field", [
    ({"run": ["true"]}, "name"),
    ({"name": "-bad", "run": ["true"]}, "name"),
    ({"name": "x" * 64, "run": ["true"]}, "name"),
    ({"name": "ok"}, "run"),
    ({"name": "ok", "run": []}, "run"),
    ({"name": "ok", "run": "true"}, "run"),
    ({"name": "ok", "run": [5]}, "run[0]"),
    ({"name": "ok", "run": ["true", ""]}, "run[1]"),
    ({"name": "ok", "run": ["true"] * 65}, "run"),
    ({"name": "ok", "run": ["x" * (16 * 1024 + 1)]}, "run[0]"),
    ({"name": "ok", "run": ["true"], "from": "../base"}, "from"),
    ({"name": "ok", "run": ["true"], "files": {"etc/x": "a"}}, "files"),
    ({"name": "ok", "run": ["true"], "files": {"/etc/x": 5}}, "files"),
    ({"name": "ok", "run": ["true"], "files": ["/etc/x"]}, "files"),
    ({"name": "ok", "run": ["true"], "files": {f"/f{i}": "" for i in range(65)}}, "files"),
    ({"name": "ok", "run": ["true"], "files": {"/a": "x" * (5 << 20), "/b": "y" * (4 << 20)}},
     "files"),
    ({"name": "ok", "run": ["true"], "network": "bogus"}, "network"),
    ({"name": "ok", "run": ["true"], "timeout": 0}, "timeout"),
    ({"name": "ok", "run": ["true"], "timeout": "5"}, "timeout"),
    ({"name": "ok", "run": ["true"], "memory": "lots"}, "memory"),
    ({"name": "ok", "run": ["true"], "cpus": "two"}, "cpus"),
    ({"name": "ok", "run": ["true"], "env": {"A=B": "1"}}, "env"),
    ({"name": "ok", "run": ["true"], "dockerfile": "FROM x"}, "dockerfile"),
])
def test_bad_input_names_the_field(daemon, client, body, field):
    r = post_build(daemon, body)
    assert r.status_code == 400, r.text
    assert r.json()["error"].startswith(field), r.text
    assert_no_trace(client, body.get("name", "ok"))


def test_not_json_object(daemon):
    r = requests.post(daemon.url + IMAGES, headers=auth(daemon, **{
        "Content-Type": "application/json"}), data=b"[1, 2]", timeout=30)
    assert r.status_code == 400 and r.json()["error"].startswith("body"), r.text


def test_existing_name_409_unknown_from_404(daemon, client):
    r = post_build(daemon, {"name": "base", "run": ["true"], "network": "none"})
    assert r.status_code == 409 and r.json()["error"].startswith("name"), r.text
    r = post_build(daemon, {"name": new_name(), "from": "no-such-image", "run": ["true"]})
    assert r.status_code == 404 and r.json()["error"].startswith("from"), r.text
    assert build_sandboxes(client) == []


def test_log_of_image_without_one_is_404(daemon, client):
    h = auth(daemon)
    r = requests.get(f"{daemon.url}{IMAGES}/base/log", headers=h, timeout=30)
    assert r.status_code == 404, r.text
    r = requests.get(f"{daemon.url}{IMAGES}/no-such-image/log", headers=h, timeout=30)
    assert r.status_code == 404, r.text


# ---------------------------------------------------------------- failures

def test_failing_step_fails_the_build(daemon, client):
    name = new_name("fail")
    t0 = time.monotonic()
    r = post_build(daemon, {"name": name, "network": "none", "files": FILES,
                            "run": ["echo before", "echo oops; echo bad-thing >&2; exit 7",
                                    "touch /never"]})
    print(f"failed build answered in {time.monotonic() - t0:.2f} s")
    assert r.status_code == 422, r.text
    j = r.json()
    assert j["step"] == 1 and j["exit_code"] == 7, j
    assert "bad-thing" in j["output"] and "oops" in j["output"], j
    assert "run[1]" in j["error"] and "bad-thing" in j["error"], j
    assert_no_trace(client, name)


def test_failing_step_sse(daemon, client):
    name = new_name("failsse")
    with post_build(daemon, {"name": name, "network": "none",
                             "run": ["echo one", "echo two; false", "echo three"]},
                    sse=True) as r:
        assert r.status_code == 200, r.text
        assert r.headers["Content-Type"].startswith("text/event-stream")
        evs = [(ev, d) for ev, d, _ in hbtest.sse_events(r)]
    names = [ev for ev, _ in evs]
    assert names == ["step", "output", "step", "output", "error"], evs
    assert [d["index"] for ev, d in evs if ev == "step"] == [0, 1]
    assert evs[1][1] == {"stream": "stdout", "data": "one\n"}, evs
    err = evs[-1][1]
    assert err["step"] == 1 and err["exit_code"] == 1 and "two" in err["error"], err
    assert_no_trace(client, name)


def test_step_timeout_fails_the_build(daemon, client):
    name = new_name("slow")
    t0 = time.monotonic()
    r = post_build(daemon, {"name": name, "network": "none", "timeout": 1,
                            "run": ["echo started; sleep 60"]})
    took = time.monotonic() - t0
    print(f"timed-out build answered in {took:.2f} s")
    assert r.status_code == 422, r.text
    j = r.json()
    assert j["step"] == 0 and "timed out" in j["error"] and "started" in j["output"], j
    assert took < 50, took
    assert_no_trace(client, name)


def test_client_leaving_mid_build_destroys_the_sandbox(daemon, client):
    name = new_name("gone")
    r = post_build(daemon, {"name": name, "network": "none",
                            "run": ["echo go; sleep 120", "touch /never"]}, sse=True)
    assert r.status_code == 200, r.text
    for ev, d, _ in hbtest.sse_events(r):
        if ev == "output":
            break
    assert build_sandboxes(client, name), "the build sandbox shows in the list while it runs"
    t0 = time.monotonic()
    r.close()
    hbtest.wait_until(lambda: build_sandboxes(client, name) == [], 60,
                      what="the build sandbox destroyed after the client left")
    print(f"build sandbox gone {time.monotonic() - t0:.2f} s after the client left")
    assert name not in image_names(client)


def test_concurrent_builds_are_bounded(daemon, client):
    """Two builds at once; a third answers 429 (and leaves nothing)."""
    names = [new_name("busy") for _ in range(2)]
    streams = []
    try:
        for n in names:
            r = post_build(daemon, {"name": n, "network": "none", "run": ["echo go; sleep 120"]},
                           sse=True)
            assert r.status_code == 200, r.text
            streams.append(r)
            next(ev for ev, _, _ in hbtest.sse_events(r) if ev == "output")
        third = new_name("third")
        r3 = post_build(daemon, {"name": third, "network": "none", "run": ["true"]})
        assert r3.status_code == 429, r3.text
        assert build_sandboxes(client, third) == []
    finally:
        for r in streams:
            r.close()
    hbtest.wait_until(lambda: build_sandboxes(client) == [], 60, what="build sandboxes gone")


# ---------------------------------------------------------------- the full flow (NEEDS_SNAPSHOT)

@pytest.fixture(scope="module")
def built(daemon, client):
    """One image built with SSE: (name, events with arrival times, t0)."""
    name = new_name("tools")
    t0 = time.monotonic()
    with post_build(daemon, {"name": name, "from": "base", "network": "none", "files": FILES,
                             "run": STEPS, "env": {"GREETING": "hello"}}, sse=True) as r:
        assert r.status_code == 200, r.text
        evs = list(hbtest.sse_events(r))
    print(f"build of {name}: {time.monotonic() - t0:.2f} s, {len(evs)} events")
    return name, evs, t0


def test_sse_steps_and_live_output(built, client):
    name, evs, _ = built
    names = [ev for ev, _, _ in evs]
    steps = [d for ev, d, _ in evs if ev == "step"]
    assert [s["index"] for s in steps] == [0, 1, 2] and [s["command"] for s in steps] == STEPS
    outs = [(d, t) for ev, d, t in evs if ev == "output"]
    assert [d["data"] for d, _ in outs] == ["first\n", "second\n"], outs
    assert [d["stream"] for d, _ in outs] == ["stdout", "stderr"], outs
    # Live: the first line arrives while the step still sleeps.
    gap = outs[1][1] - outs[0][1]
    print(f"first line {gap:.2f} s before the second")
    assert gap > 1.0, outs
    assert names.index("output") > names.index("step") and names[:3] == ["step", "step", "step"]
    assert build_sandboxes(client, name) == []
    # NEEDS_SNAPSHOT from here
    assert names[-1] == "done", evs[-1]
    img = evs[-1][1]["image"]
    assert img["name"] == name and img["kind"] == "build", img
    assert evs[-1][1]["log_bytes"] > 0


def test_built_image_has_files_and_tool(built, client, sandbox):
    name, evs, _ = built
    assert evs[-1][0] == "done", evs[-1]          # NEEDS_SNAPSHOT
    assert name in image_names(client)
    sb = sandbox(image=name, network="none")
    assert sb.sh("cat /opt/t/x") == "hi\n"
    assert sb.sh("tool") == "tool-ok\n"
    assert sb.sh("cat /etc/app.conf /opt/t/deep/dir/notes.txt") == "answer=42\nfrom files\n"
    # env was the build's only: a sandbox of the image does not inherit it
    assert sb.sh("echo \"[$GREETING]\"") == "[]\n"


def test_build_log_endpoint(built, daemon):
    name, evs, _ = built
    assert evs[-1][0] == "done", evs[-1]          # NEEDS_SNAPSHOT
    r = requests.get(f"{daemon.url}{IMAGES}/{name}/log", headers=auth(daemon), timeout=30)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/plain"), r.text
    log = r.text
    for cmd in STEPS:
        assert f"$ {cmd}\n" in log, log
    assert "first\n" in log and "second\n" in log and "/etc/app.conf" in log, log
    assert len(log.encode()) == evs[-1][1]["log_bytes"]


def test_json_build_201_and_name_taken(daemon, client):
    name = new_name("plain")
    r = post_build(daemon, {"name": name, "network": "none",
                            "run": ["echo made > /made", "echo step-two"]})
    assert build_sandboxes(client, name) == []
    assert r.status_code == 201, r.text        # NEEDS_SNAPSHOT
    j = r.json()
    assert j["image"]["name"] == name and j["image"]["kind"] == "build" and j["log_bytes"] > 0
    r = post_build(daemon, {"name": name, "network": "none", "run": ["true"]})
    assert r.status_code == 409, r.text
    r = post_build(daemon, {"name": new_name("child"), "from": name, "network": "none",
                            "run": ["test -f /made && echo layered"]})
    assert r.status_code == 201, r.text


# ---------------------------------------------------------------- CLI

def cli(daemon, *args, timeout=180):
    env = {k: v for k, v in os.environ.items() if not k.startswith("HIVEBOX_")}
    env["HIVEBOX_API_URL"] = daemon.url
    env["HIVEBOX_API_KEY"] = daemon.key
    r = subprocess.run([str(BUILD / "hivebox"), *args], capture_output=True, env=env,
                       timeout=timeout)
    return r.returncode, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")


def test_cli_failing_step_exits_non_zero(daemon, client):
    name = new_name("clifail")
    code, out, err = cli(daemon, "image", "build", name, "--run", "echo from-step-one",
                         "--run", "echo to-stderr >&2; exit 3", "--run", "echo never",
                         "--network", "none")
    assert code == 1, (out, err)
    assert "from-step-one" in out and "to-stderr" in err and "never" not in out, (out, err)
    assert "build failed" in err and "exited with 3" in err, err
    assert_no_trace(client, name)


def test_cli_usage_and_bad_input(daemon, client):
    code, _, err = cli(daemon, "image", "build", "x", "--run")
    assert code == 2 and "--run needs a value" in err, err
    code, _, err = cli(daemon, "image", "build", "x", "--run", "true", "--file", "nocolon")
    assert code == 2 and "--file" in err, err
    code, _, err = cli(daemon, "image", "build", "x", "--run", "true", "--from", "no-such")
    assert code == 1 and "from" in err and "404" in err, err


def test_cli_build_with_file(daemon, client, tmp_path):
    name = new_name("cli")
    src = tmp_path / "greeting.txt"
    src.write_text("hello from a file\n")
    code, out, err = cli(daemon, "image", "build", name, "--from", "base", "--network", "none",
                         "--file", f"{src}:/opt/greeting.txt", "--run", "cat /opt/greeting.txt")
    assert "hello from a file" in out and "==> step 0: cat /opt/greeting.txt" in err, (out, err)
    assert build_sandboxes(client, name) == []
    assert code == 0, err                      # NEEDS_SNAPSHOT
    assert f"image {name} built" in out
    assert name in image_names(client)


# ---------------------------------------------------------------- daemon stop

def test_sigterm_mid_build_does_not_wait_for_the_step(private_daemon):
    """A plain (JSON) build whose step would run for minutes: SIGTERM stops
    the daemon within its grace, the step abandoned (its sandbox, kept like
    every sandbox over a restart, expires by its TTL or is destroyed later)."""
    d = private_daemon()
    c = d.client()
    name = new_name("term")
    box = {}

    def run():
        try:
            box["r"] = post_build(d, {"name": name, "network": "none",
                                      "run": ["echo go; sleep 300"], "timeout": 600})
        except requests.RequestException as exc:
            box["exc"] = exc

    t = threading.Thread(target=run, daemon=True)
    t.start()
    hbtest.wait_until(lambda: build_sandboxes(c, name), 60, what="the build sandbox")
    time.sleep(0.5)                           # the step is running (or about to)
    c.close()
    t0 = time.monotonic()
    rc = d.stop(signal.SIGTERM, timeout=60)
    took = time.monotonic() - t0
    print(f"daemon stopped {took:.2f} s after SIGTERM mid-build (exit {rc})")
    assert rc == 0 and took < 30, (rc, took, d.log_tail())
    t.join(30)
    assert not t.is_alive()
    d.start()                                 # for the fixture's cleanup
    assert name not in image_names(d.client())
