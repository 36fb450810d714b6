"""Streaming exec (issue 13, "Streaming exec"): POST /:id/exec with
"stream": true, or Accept: text/event-stream, answers 200 text/event-stream
at once and sends stdout/stderr events as output arrives, then one exit
event. The exec options cwd, env and stdin work in both forms and a bad value
of each is a 400 naming it. A client that leaves kills the command; a slow
reader slows the command down instead of growing the daemon."""
import base64
import json
import os
import socket
import subprocess
import time

import pytest
import requests

import hbtest
from hbtest import BUILD

# Under ASan (make check) freed memory sits in quarantine for a while.
RSS_GROWTH_BOUND = (192 if hbtest.SANITIZED else 64) * (1 << 20)

MIB = 1 << 20


def exec_url(daemon, sid):
    return f"{daemon.url}/api/v1/hiveboxes/{sid}/exec"


def auth(daemon, **extra):
    h = {"Authorization": f"Bearer {daemon.key}"}
    h.update(extra)
    return h


events = hbtest.sse_events


def stream(daemon, sid, body, accept=False, **kw):
    body = dict(body)
    headers = auth(daemon)
    if accept:
        headers["Accept"] = "text/event-stream"
    else:
        body["stream"] = True
    return requests.post(exec_url(daemon, sid), headers=headers, json=body, stream=True,
                         timeout=kw.get("timeout", 120))


def run(daemon, sid, body, accept=False):
    """All events of a streamed exec: (list of (event, data, t), t0)."""
    t0 = time.monotonic()
    with stream(daemon, sid, body, accept) as r:
        assert r.status_code == 200, r.text
        assert r.headers["Content-Type"].startswith("text/event-stream")
        return list(events(r)), t0


def output(evs, name):
    out = b""
    for ev, data, _ in evs:
        if ev == name:
            out += (base64.b64decode(data["data"]) if data["encoding"] == "base64"
                    else data["data"].encode())
    return out


@pytest.fixture(scope="module")
def sb(module_sandbox):
    return module_sandbox()


def gated_lines(tag, n, stderr=False):
    """A command that prints line i, then waits (up to 60 s) for the file
    /tmp/<tag>-<i> before going on, and says "late-<i>" if it never came. The
    test makes that file only once it has read line i: so every line must
    reach the client while the command still runs, whatever the host's load
    (a buffered stream would show the late lines, with no clock involved)."""
    err = ' echo "e$i" >&2;' if stderr else ""
    return (f'for i in $(seq {n}); do echo "$i";{err} t=0; '
            f'while [ ! -e /tmp/{tag}-$i ] && [ $t -lt 600 ]; do sleep 0.1; t=$((t+1)); done; '
            f'[ -e /tmp/{tag}-$i ] || echo "late-$i"; done')


def test_lines_arrive_as_printed(daemon, sb):
    tag = f"gate-{os.urandom(4).hex()}"
    evs = []
    with stream(daemon, sb.id, {"command": gated_lines(tag, 3)}) as r:
        assert r.status_code == 200, r.text
        assert r.headers["Content-Type"].startswith("text/event-stream")
        for ev in events(r):
            evs.append(ev)
            if ev[0] == "stdout" and ev[1]["data"].strip().isdigit():
                assert sb.exec(f"touch /tmp/{tag}-{ev[1]['data'].strip()}")["exit_code"] == 0
    outs = [d["data"] for ev, d, _ in evs if ev == "stdout"]
    assert outs == ["1\n", "2\n", "3\n"], evs
    assert all(d["encoding"] == "utf-8" for ev, d, _ in evs if ev == "stdout")
    assert evs[-1][0] == "exit" and [e for e, _, _ in evs].count("exit") == 1
    ex = evs[-1][1]
    assert ex["exit_code"] == 0 and ex["timed_out"] is False and ex["oom_killed"] is False


def test_accept_header_stderr_and_exit_code(daemon, sb):
    evs, _ = run(daemon, sb.id, {"command": "echo out; echo err >&2; exit 3"}, accept=True)
    assert output(evs, "stdout") == b"out\n"
    assert output(evs, "stderr") == b"err\n"
    assert evs[-1][0] == "exit" and evs[-1][1]["exit_code"] == 3


def test_timeout_in_a_stream(daemon, sb):
    evs, _ = run(daemon, sb.id, {"command": "echo start; sleep 30", "timeout": 1})
    assert output(evs, "stdout") == b"start\n"
    assert evs[-1][0] == "exit" and evs[-1][1]["timed_out"] is True


def test_non_utf8_is_base64(daemon, sb):
    evs, _ = run(daemon, sb.id, {"command": "printf 'caf\\303\\251 '; sleep 0.3; printf '\\377\\376\\000x'"})
    outs = [d for ev, d, _ in evs if ev == "stdout"]
    assert outs[0] == {"data": "café ", "encoding": "utf-8"}, outs
    assert outs[-1]["encoding"] == "base64"
    assert output(evs, "stdout") == "café ".encode() + b"\xff\xfe\x00x"


def test_nul_bytes_are_base64_not_escaped(daemon, sb):
    # Valid UTF-8, but binary: JSON would spend six bytes on every NUL.
    evs, _ = run(daemon, sb.id, {"command": "printf 'a\\000b'"})
    outs = [d for ev, d, _ in evs if ev == "stdout"]
    assert [o["encoding"] for o in outs] == ["base64"], outs
    assert output(evs, "stdout") == b"a\x00b"


@pytest.mark.parametrize("accept", [None, "text/event-stream"])
def test_plain_answer_unchanged(daemon, sb, accept):
    """"stream": false is the plain answer, whatever Accept says."""
    headers = auth(daemon, **({"Accept": accept} if accept else {}))
    r = requests.post(exec_url(daemon, sb.id), headers=headers,
                      json={"command": "echo hi", "stream": False}, timeout=60)
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/json"
    j = r.json()
    assert j["stdout"] == "hi\n" and j["exit_code"] == 0 and set(j) == {
        "exit_code", "stdout", "stderr", "duration_ms"}


OPTS = {"command": "pwd; echo \"$FOO:$BAR\"; cat", "cwd": "/tmp",
        "env": {"FOO": "f o o", "BAR": "b=r"}, "stdin": "in put\n"}
OPTS_OUT = b"/tmp\nf o o:b=r\nin put\n"


def test_options_plain(daemon, sb):
    r = requests.post(exec_url(daemon, sb.id), headers=auth(daemon), json=OPTS, timeout=60)
    assert r.status_code == 200, r.text
    assert r.json()["stdout"].encode() == OPTS_OUT


def test_options_stream(daemon, sb):
    evs, _ = run(daemon, sb.id, OPTS)
    assert output(evs, "stdout") == OPTS_OUT
    assert evs[-1][1]["exit_code"] == 0


USER_CMD = "echo $(id -u):$(id -g):$USER:$HOME:$(pwd); grep CapEff /proc/self/status; touch /root/x"


@pytest.mark.parametrize("streamed", [False, True])
@pytest.mark.parametrize("user,want", [
    ("nobody", "65534:65534:nobody:/nonexistent:/"),
    # a uid with no passwd entry (the base image's `user` is 1000)
    (4242, "4242:4242::/:/"),
    ("4242", "4242:4242::/:/"),
    ("root", "0:0:root:/root:/root"),
    ("0", "0:0:root:/root:/root"),
])
def test_user(daemon, sb, user, want, streamed):
    body = {"command": USER_CMD, "user": user}
    if streamed:
        evs, _ = run(daemon, sb.id, body)
        out, code = output(evs, "stdout").decode(), evs[-1][1]["exit_code"]
    else:
        r = requests.post(exec_url(daemon, sb.id), headers=auth(daemon), json=body, timeout=60)
        assert r.status_code == 200, r.text
        out, code = r.json()["stdout"], r.json()["exit_code"]
    lines = out.splitlines()
    if want.startswith("0:"):
        assert lines[0] == want and code == 0, out
        assert lines[1].split()[1] != "0000000000000000"
    else:
        # USER is unset without a passwd name: the field is empty
        assert lines[0] == want, out
        assert lines[1].split()[1] == "0000000000000000", out   # no capabilities
        assert code != 0                                        # /root is not theirs


def test_user_with_cwd_and_default_is_root(daemon, sb):
    r = requests.post(exec_url(daemon, sb.id), headers=auth(daemon), timeout=60,
                      json={"command": "id -un; pwd", "user": "nobody", "cwd": "/tmp"})
    assert r.json()["stdout"] == "nobody\n/tmp\n", r.text
    r = requests.post(exec_url(daemon, sb.id), headers=auth(daemon), timeout=60,
                      json={"command": "id -u; pwd"})
    assert r.json()["stdout"] == "0\n/root\n", r.text


@pytest.mark.parametrize("form", ["plain", "stream", "accept"])
@pytest.mark.parametrize("field,value", [
    ("user", "no-such-user"),
    ("user", "Bad User"),
    ("user", ""),
    ("user", -5),
    ("user", "99999999999"),
    ("user", 4000000),         # not mapped in the sandbox's user namespace
    ("user", {"name": "x"}),
    ("cwd", "relative/dir"),
    ("cwd", 5),
    ("cwd", "/no/such/dir"),
    ("env", "FOO=1"),
    ("env", {"A=B": "1"}),
    ("env", {"A": 1}),
    ("stdin", 7),
    ("stream", "yes"),
    ("timeout", -1),
    ("command", ""),
])
def test_bad_values_are_json_400_naming_the_field(daemon, sb, field, value, form):
    body = {"command": "true", field: value}
    headers = auth(daemon)
    if form == "accept":
        headers["Accept"] = "text/event-stream"
    elif form == "stream" and field != "stream":
        body["stream"] = True
    r = requests.post(exec_url(daemon, sb.id), headers=headers, json=body, timeout=60)
    assert r.status_code == 400, r.text
    assert r.headers["Content-Type"] == "application/json"
    assert field in r.json()["error"], r.text


def test_unknown_sandbox_is_json_404(daemon):
    r = requests.post(exec_url(daemon, "no-such-sandbox"), headers=auth(daemon),
                      json={"command": "true", "stream": True}, timeout=60)
    assert r.status_code == 404 and r.headers["Content-Type"] == "application/json"


def procs(sb, pattern):
    out = sb.exec(f"ps -eo args | grep -c '[{pattern[0]}]{pattern[1:]}' || true")["stdout"]
    return int(out.strip() or 0)


@pytest.mark.parametrize("talks", [True, False])
def test_disconnect_kills_the_command(daemon, sb, talks):
    marker = "sleep 4242" if talks else "sleep 4343"
    cmd = f"while :; do echo tick; sleep 0.2; done & {marker}" if talks else marker
    host, port = daemon.url.split("//")[1].rsplit(":", 1)
    body = json.dumps({"command": cmd, "stream": True}).encode()
    s = socket.create_connection((host.strip("[]"), int(port)), timeout=30)
    s.sendall(f"POST /api/v1/hiveboxes/{sb.id}/exec HTTP/1.1\r\nHost: x\r\n"
              f"Authorization: Bearer {daemon.key}\r\nContent-Type: application/json\r\n"
              f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
    got = b""
    while b"\r\n\r\n" not in got or (talks and b"event: stdout" not in got):
        got += s.recv(4096)
    assert got.startswith(b"HTTP/1.1 200"), got
    time.sleep(0.5)
    assert procs(sb, marker) >= 1
    s.close()
    deadline = time.monotonic() + 10
    while procs(sb, marker) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert procs(sb, marker) == 0
    if talks:
        assert procs(sb, "while :; do echo tick") == 0


def rss(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def test_slow_reader_keeps_the_daemon_small(daemon, sb):
    """256 MiB through a client that reads 1 MiB at a time with pauses, and
    stops reading for 5 s midway: the command is slowed down to the
    client's pace (it is still running after the pause); the daemon holds no
    more than a few chunks for it, and every byte arrives."""
    total = 256 * MIB
    before = rss(daemon.pid)
    peak = before
    data = 0
    buf = b""
    last = None
    cmd = f"head -c {total} /dev/zero | tr '\\0' a; echo done >&2"
    with stream(daemon, sb.id, {"command": cmd}, timeout=600) as r:
        assert r.status_code == 200
        n = 0
        while True:
            chunk = r.raw.read(MIB)
            if not chunk:
                break
            n += 1
            buf += chunk
            *evs, buf = buf.split(b"\n\n")
            for ev in evs:
                if ev.startswith(b":"):
                    continue           # a tick
                name, payload = ev.split(b"\n", 1)
                if name == b"event: stdout":
                    d = json.loads(payload[6:])
                    assert d["encoding"] == "utf-8" and d["data"].count("a") == len(d["data"])
                    data += len(d["data"])
                elif name.startswith(b"event:"):
                    last = (name, json.loads(payload[6:]))
            if n % 8 == 0:
                peak = max(peak, rss(daemon.pid))
            if n <= 32:
                time.sleep(0.05)   # slow for the first part
            if n == 32:
                time.sleep(5)      # then not at all for a while
                peak = max(peak, rss(daemon.pid))
                assert procs(sb, "head -c 268435456") >= 1   # held back, not finished
    print(f"slow reader: daemon RSS {before >> 20} MiB before, {peak >> 20} MiB at most")
    assert data == total
    assert last[0] == b"event: exit" and last[1]["exit_code"] == 0, last
    assert peak - before < RSS_GROWTH_BOUND, (before, peak)


# ---------------------------------------------------------------- the CLI

def cli_env(daemon):
    env = {k: v for k, v in os.environ.items() if not k.startswith("HIVEBOX_")}
    env["HIVEBOX_API_URL"] = daemon.url
    env["HIVEBOX_API_KEY"] = daemon.key
    return env


def test_cli_exec_prints_live_and_exits_with_the_code(daemon, sb):
    """Each line reaches the CLI's stdout when it is printed, not at the end:
    the command waits for the test to have read it (gated_lines)."""
    tag = f"gate-{os.urandom(4).hex()}"
    p = subprocess.Popen([str(BUILD / "hivebox"), "exec", sb.id, "--",
                          gated_lines(tag, 3, stderr=True) + "; exit 7"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=cli_env(daemon))
    lines = []
    for _ in range(3):
        line = p.stdout.readline()
        lines.append(line)
        if line.strip().isdigit():
            assert sb.exec(f"touch /tmp/{tag}-{line.strip().decode()}")["exit_code"] == 0
    rest, err = p.communicate(timeout=60)
    assert lines == [b"1\n", b"2\n", b"3\n"] and rest == b"", (lines, rest)
    assert err == b"e1\ne2\ne3\n"
    assert p.returncode == 7


def test_cli_exec_binary_output_and_options(daemon, sb):
    r = subprocess.run([str(BUILD / "hivebox"), "exec", sb.id, "--cwd", "/etc", "-e", "X=y z",
                        "-i", "--", "printf '\\377\\000'; pwd; echo \"$X\"; cat"],
                       input=b"from stdin", capture_output=True, env=cli_env(daemon), timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"\xff\x00/etc\ny z\nfrom stdin"


def test_cli_exec_errors(daemon, sb):
    r = subprocess.run([str(BUILD / "hivebox"), "exec", sb.id, "--cwd", "/nope", "--", "true"],
                       capture_output=True, env=cli_env(daemon), timeout=60)
    assert r.returncode != 0 and b"cwd" in r.stderr, r.stderr
    r = subprocess.run([str(BUILD / "hivebox"), "exec", sb.id, "--json", "--", "echo hi"],
                       capture_output=True, env=cli_env(daemon), timeout=60)
    assert r.returncode == 0 and json.loads(r.stdout)["stdout"] == "hi\n"


def test_cli_exec_as_user(daemon, sb):
    r = subprocess.run([str(BUILD / "hivebox"), "exec", sb.id, "-u", "nobody", "--", "id -un"],
                       capture_output=True, env=cli_env(daemon), timeout=60)
    assert r.returncode == 0 and r.stdout == b"nobody\n", r.stderr
    r = subprocess.run([str(BUILD / "hivebox"), "exec", sb.id, "--user", "no-such", "--", "id"],
                       capture_output=True, env=cli_env(daemon), timeout=60)
    assert r.returncode == 125 and b"user" in r.stderr, r.stderr


def test_destroy_ends_the_stream(daemon, client, sandbox):
    """A sandbox destroyed under a streamed exec: the stream ends (exit 137 or an
    error event), nothing hangs."""
    victim = sandbox()
    with stream(daemon, victim.id, {"command": "echo up; sleep 300"}, timeout=60) as r:
        it = events(r)
        ev, data, _ = next(it)
        assert ev == "stdout" and data["data"] == "up\n"
        client.destroy(victim.id)
        rest = list(it)
    assert rest and rest[-1][0] in ("exit", "error"), rest
    if rest[-1][0] == "exit":
        assert rest[-1][1]["exit_code"] == 137


def test_user_with_a_hostile_passwd(daemon, sandbox):
    """The sandbox owns /etc/passwd: a FIFO there must not hold init."""
    sb2 = sandbox()
    assert sb2.exec("rm /etc/passwd && mkfifo /etc/passwd")["exit_code"] == 0
    t0 = time.monotonic()
    r = requests.post(exec_url(daemon, sb2.id), headers=auth(daemon), timeout=60,
                      json={"command": "id -u", "user": "nobody"})
    assert r.status_code == 400 and "user" in r.json()["error"], r.text
    assert time.monotonic() - t0 < 5
    r = requests.post(exec_url(daemon, sb2.id), headers=auth(daemon), timeout=60,
                      json={"command": "id -u", "user": 1234})
    assert r.status_code == 200 and r.json()["stdout"] == "1234\n", r.text
