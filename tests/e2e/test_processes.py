"""Background processes over the REST API (issue 13): POST .../processes
starts one that init keeps (it outlives the request, every follower and a
daemon SIGKILL + restart); GET lists it; its output is a replayable,
followable SSE stream with offsets and `dropped` past the ring; stdin,
signals, PTY resize and DELETE act on it; bad input is a 4xx naming the
field; streams per sandbox are capped (429); destroying the sandbox ends
every follower cleanly; process.started / process.exited reach the event
feed; the CLI's ps / logs / kill / exec --background drive the same API."""
import base64
import os
import secrets
import signal
import subprocess
import threading
import time

import msgpack
import pytest
import requests
import zmq

import hbtest
from hbtest import BUILD

API = "/api/v1/hiveboxes"
HIVEBOX = str(BUILD / "hivebox")
RING = 2 * 1024 * 1024


# ---- helpers ----

def purl(sid, sel=None, tail=""):
    return f"{API}/{sid}/processes" + (f"/{sel}" if sel is not None else "") + tail


def start(c, sid, status=201, **body):
    r = c.post(purl(sid), json=body)
    assert r.status_code == status, r.text
    return r.json()


def get(c, sid, sel):
    r = c.get(purl(sid, sel))
    assert r.status_code == 200, r.text
    return r.json()


def wait_exited(c, sid, sel, timeout=20):
    box = {}

    def done():
        box["p"] = get(c, sid, sel)
        return box["p"]["state"] == "exited"

    hbtest.wait_until(done, timeout, 0.05, f"process {sel} to exit")
    return box["p"]


def sse(resp, chunk_size=1):
    """(event, data) for each server-sent event; comments are skipped."""
    return ((name, data) for name, data, _ in hbtest.sse_events(resp, chunk_size))


def open_output(daemon, sid, sel, offset=0, follow=False, timeout=60):
    params = {"offset": str(offset)}
    if follow:
        params["follow"] = "1"
    return requests.get(daemon.url + purl(sid, sel, "/output"), params=params, stream=True,
                        headers={"Authorization": f"Bearer {daemon.key}"}, timeout=timeout)


def read_output(daemon, sid, sel, offset=0, follow=False, timeout=60):
    with open_output(daemon, sid, sel, offset, follow, timeout) as r:
        assert r.status_code == 200, r.text
        assert r.headers["Content-Type"].startswith("text/event-stream")
        return list(sse(r, 65536))   # the whole answer: no need to see each event arrive


def rss(pid):
    return int(hbtest.proc_status(pid)["VmRSS"].split()[0]) * 1024


def data_of(d):
    return base64.b64decode(d["data"]) if d["encoding"] == "base64" else d["data"].encode()


def joined(evs, names=("stdout", "stderr")):
    return b"".join(data_of(d) for e, d in evs if e in names)


@pytest.fixture(scope="module")
def sb(module_sandbox):
    return module_sandbox(pids=256)


# ---- start, list, get ----

def test_start_list_get_and_the_process_object(client, sb):
    tag = "web-" + secrets.token_hex(3)
    p = start(client, sb.id, command="echo hi; sleep 60", tag=tag, env={"A": "1"})
    assert isinstance(p["pid"], int) and p["pid"] > 1
    assert p["tag"] == tag and p["command"] == "echo hi; sleep 60"
    assert p["user"] == "root" and p["state"] == "running"
    assert p["exit_code"] is None and p["signal"] is None and p["timed_out"] is False
    assert hbtest.parse_rfc3339(p["started_at"]) and p["ended_at"] is None
    assert p["pty"] is None and p["stdin"] is False
    assert set(p["output"]) == {"first", "end"}
    # It outlived the request that started it.
    time.sleep(0.5)
    listed = client.get(purl(sb.id)).json()["processes"]
    assert p["pid"] in [q["pid"] for q in listed]
    by_pid, by_tag = get(client, sb.id, p["pid"]), get(client, sb.id, tag)
    assert by_pid["pid"] == by_tag["pid"] == p["pid"] and by_pid["state"] == "running"
    assert by_pid["output"]["end"] == 3          # "hi\n"
    # It runs inside the sandbox, as a process of its own.
    assert sb.exec(f"kill -0 {p['pid']}")["exit_code"] == 0
    r = client.delete(purl(sb.id, tag))
    assert r.status_code == 200 and r.json()["pid"] == p["pid"], r.text
    assert client.get(purl(sb.id, tag)).status_code == 404
    hbtest.wait_until(lambda: sb.exec(f"kill -0 {p['pid']}")["exit_code"] != 0, 10, 0.1,
                      "the forgotten process to be killed")


def test_unknown_pid_or_tag_is_404(client, sb):
    for sel in ("999999", "no-such-tag", "2147483648"):
        for method, tail in (("GET", ""), ("DELETE", ""), ("GET", "/output"),
                             ("POST", "/signal"), ("POST", "/stdin")):
            r = client.request(method, purl(sb.id, sel, tail), json={"signal": "TERM"})
            assert r.status_code == 404, (sel, method, tail, r.text)
            assert "error" in r.json()


def test_exit_codes_timeout_and_user(daemon, client, sb):
    p = start(client, sb.id, command="exit 42")
    done = wait_exited(client, sb.id, p["pid"])
    assert done["exit_code"] == 42 and done["signal"] is None
    assert done["ended_at"] is not None and done["timed_out"] is False
    p = start(client, sb.id, command="sleep 30", timeout=1)
    done = wait_exited(client, sb.id, p["pid"], timeout=15)
    assert done["timed_out"] is True and done["exit_code"] != 0
    p = start(client, sb.id, command="id -u", user="nobody")
    assert p["user"] == "nobody"
    wait_exited(client, sb.id, p["pid"])
    evs = read_output(daemon, sb.id, p["pid"])
    assert joined(evs).strip() == b"65534"


# ---- output ----

def test_output_replay_offsets_and_exit(daemon, client, sb):
    p = start(client, sb.id, command="printf 'ab\\n'; sleep 0.2; printf 'err\\n' >&2; sleep 0.2; "
                  "printf 'cd\\n'; exit 3")
    wait_exited(client, sb.id, p["pid"])
    evs = read_output(daemon, sb.id, p["pid"])
    outs = [(e, d["offset"], data_of(d)) for e, d in evs if e in ("stdout", "stderr")]
    assert b"".join(x for _, _, x in outs) == b"ab\nerr\ncd\n", evs
    assert outs[0][1] == 0
    for (_, off, x), (_, nxt, _) in zip(outs, outs[1:]):
        assert off + len(x) == nxt, outs          # contiguous offsets
    assert joined(evs, ("stderr",)) == b"err\n"
    assert evs[-1][0] == "exit", evs
    assert evs[-1][1] == {"exit_code": 3, "signal": None, "timed_out": False, "offset": 10}
    # Replay from an offset: only what follows it.
    evs = read_output(daemon, sb.id, p["pid"], offset=7)
    assert joined(evs) == b"cd\n"
    assert [d["offset"] for e, d in evs if e == "stdout"][0] == 7
    assert evs[-1][0] == "exit" and evs[-1][1]["offset"] == 10
    assert not [e for e, _ in evs if e == "dropped"]


def test_follow_sees_lines_as_printed_then_exit(daemon, client, sb):
    p = start(client, sb.id, command="for i in 1 2 3; do echo $i; sleep 0.5; done")
    t0 = time.monotonic()
    stamps = []
    with open_output(daemon, sb.id, p["pid"], follow=True) as r:
        assert r.status_code == 200, r.text
        for e, d in sse(r):
            stamps.append((e, d, time.monotonic() - t0))
    lines = [d["data"] for e, d, _ in stamps if e == "stdout"]
    assert "".join(lines) == "1\n2\n3\n", stamps
    first = [t for e, _, t in stamps if e == "stdout"][0]
    assert first < 0.8, stamps
    assert stamps[-1][0] == "exit" and stamps[-1][2] > 0.9, stamps


def test_not_following_a_running_process_ends_with_end(daemon, client, sb):
    p = start(client, sb.id, command="echo one; sleep 60")
    hbtest.wait_until(lambda: get(client, sb.id, p["pid"])["output"]["end"] == 4, 10, 0.05)
    evs = read_output(daemon, sb.id, p["pid"])
    assert joined(evs) == b"one\n"
    assert evs[-1] == ("end", {"offset": 4}), evs
    client.delete(purl(sb.id, p["pid"]))


def test_ring_overflow_is_reported_as_dropped(daemon, client, sb):
    total = RING + 500_000
    p = start(client, sb.id, command=f"head -c {total} /dev/zero | tr '\\0' a; printf END")
    done = wait_exited(client, sb.id, p["pid"], timeout=60)
    end = total + 3
    assert done["output"]["end"] == end
    first = done["output"]["first"]
    assert 0 < first <= end - RING + 65536, done["output"]
    evs = read_output(daemon, sb.id, p["pid"], offset=0)
    assert evs[0][0] == "dropped", evs[:2]
    assert evs[0][1] == {"from": 0, "to": first}
    body = joined(evs)
    assert len(body) == end - first and body.endswith(b"aaaEND")
    assert evs[-1][0] == "exit" and evs[-1][1]["offset"] == end


def test_non_utf8_output_is_base64(daemon, client, sb):
    p = start(client, sb.id, command="printf '\\377\\376\\000x'")
    wait_exited(client, sb.id, p["pid"])
    evs = read_output(daemon, sb.id, p["pid"])
    outs = [d for e, d in evs if e == "stdout"]
    assert outs and outs[0]["encoding"] == "base64"
    assert joined(evs) == b"\xff\xfe\x00x"


# ---- stdin, signals, pty ----

def test_stdin_round_trip_with_cat(daemon, client, sb):
    p = start(client, sb.id, command="cat", stdin=True)
    assert p["stdin"] is True
    got = []

    def follow():
        with open_output(daemon, sb.id, p["pid"], follow=True) as r:
            got.extend(sse(r))

    t = threading.Thread(target=follow)
    t.start()
    r = client.post(purl(sb.id, p["pid"], "/stdin"), data=b"hello\n")
    assert r.status_code == 200 and r.json() == {"written": 6}, r.text
    r = client.post(purl(sb.id, p["pid"], "/stdin"), data=b"\x00\xffbin\n")
    assert r.status_code == 200 and r.json() == {"written": 6}, r.text
    r = client.post(purl(sb.id, p["pid"], "/stdin/close"))
    assert r.status_code == 200, r.text
    t.join(20)
    assert not t.is_alive(), "the follower did not end after cat exited"
    assert joined(got) == b"hello\n\x00\xffbin\n", got
    assert got[-1][0] == "exit" and got[-1][1]["exit_code"] == 0
    # Closed: more stdin is a conflict, as is stdin to one started without it.
    r = client.post(purl(sb.id, p["pid"], "/stdin"), data=b"late")
    assert r.status_code == 409 and "stdin" in r.json()["error"], r.text
    q = start(client, sb.id, command="sleep 30")
    r = client.post(purl(sb.id, q["pid"], "/stdin"), data=b"x")
    assert r.status_code == 409 and "stdin" in r.json()["error"], r.text
    client.delete(purl(sb.id, q["pid"]))


def test_stdin_over_1mib_is_413(client, sb):
    p = start(client, sb.id, command="cat >/dev/null", stdin=True)
    r = client.post(purl(sb.id, p["pid"], "/stdin"), data=b"x" * (1024 * 1024 + 1))
    assert r.status_code == 413, r.text
    client.delete(purl(sb.id, p["pid"]))


def test_signals_by_name_and_number(daemon, client, sb):
    p = start(client, sb.id,
              command="trap 'echo got-term; exit 7' TERM; echo ready; while :; do sleep 0.1; done")
    hbtest.wait_until(lambda: get(client, sb.id, p["pid"])["output"]["end"] >= 6, 10, 0.05)
    r = client.post(purl(sb.id, p["pid"], "/signal"), json={"signal": "TERM"})
    assert r.status_code == 200, r.text
    done = wait_exited(client, sb.id, p["pid"])
    assert done["exit_code"] == 7
    assert b"got-term" in joined(read_output(daemon, sb.id, p["pid"]))
    q = start(client, sb.id, command="sleep 60")
    r = client.post(purl(sb.id, q["pid"], "/signal"), json={"signal": 9})
    assert r.status_code == 200, r.text
    done = wait_exited(client, sb.id, q["pid"])
    assert done["signal"] == 9 and done["exit_code"] == 137
    evs = read_output(daemon, sb.id, q["pid"])
    assert evs[-1][0] == "exit" and evs[-1][1]["signal"] == 9
    for bad in ("FOO", "", 0, 65, "SIG", None, [1]):
        r = client.post(purl(sb.id, q["pid"], "/signal"), json={"signal": bad})
        assert r.status_code == 400 and r.json()["error"].startswith("signal"), (bad, r.text)
    r = client.post(purl(sb.id, q["pid"], "/signal"), json={})
    assert r.status_code == 400 and "signal" in r.json()["error"]


def test_pty_process_and_resize(daemon, client, sb):
    p = start(client, sb.id, command="stty size; read x; stty size", pty={"cols": 80, "rows": 24})
    assert p["pty"] == {"cols": 80, "rows": 24} and p["stdin"] is True
    hbtest.wait_until(lambda: b"24 80" in joined(read_output(daemon, sb.id, p["pid"])), 10, 0.1,
                      "stty's first answer")
    r = client.post(purl(sb.id, p["pid"], "/resize"), json={"cols": 100, "rows": 30})
    assert r.status_code == 200, r.text
    assert client.post(purl(sb.id, p["pid"], "/stdin"), data=b"\n").status_code == 200
    done = wait_exited(client, sb.id, p["pid"])
    assert done["exit_code"] == 0
    out = joined(read_output(daemon, sb.id, p["pid"]))
    assert b"30 100" in out, out
    for body, field in (({"cols": 0, "rows": 10}, "cols"), ({"cols": 10, "rows": 1001}, "rows"),
                        ({"cols": "80", "rows": 24}, "cols"), ({}, "cols")):
        r = client.post(purl(sb.id, p["pid"], "/resize"), json=body)
        assert r.status_code == 400 and r.json()["error"].startswith(field), (body, r.text)
    q = start(client, sb.id, command="sleep 30")
    r = client.post(purl(sb.id, q["pid"], "/resize"), json={"cols": 80, "rows": 24})
    assert r.status_code == 409, r.text
    client.delete(purl(sb.id, q["pid"]))


# ---- bad input, limits ----

@pytest.mark.parametrize("body,field", [
    ({}, "command"),
    ({"command": ""}, "command"),
    ({"command": 5}, "command"),
    ({"command": "true", "tag": "bad tag"}, "tag"),
    ({"command": "true", "tag": "123"}, "tag"),
    ({"command": "true", "tag": "kill-all"}, "tag"),
    ({"command": "true", "tag": "x" * 65}, "tag"),
    ({"command": "true", "pty": {"cols": 0, "rows": 10}}, "pty.cols"),
    ({"command": "true", "pty": {"cols": 10, "rows": 5000}}, "pty.rows"),
    ({"command": "true", "pty": {"cols": 10}}, "pty.rows"),
    ({"command": "true", "pty": 5}, "pty"),
    ({"command": "true", "timeout": -1}, "timeout"),
    ({"command": "true", "timeout": 86401}, "timeout"),
    ({"command": "true", "env": "A=1"}, "env"),
    ({"command": "true", "stdin": "text"}, "stdin"),
    ({"command": "true", "cwd": "relative"}, "cwd"),
    ({"command": "true", "user": "Bad User"}, "user"),
    ({"command": "true", "stream": True}, "stream"),
    ({"command": "true", "bogus": 1}, "bogus"),
])
def test_bad_start_input_names_the_field(client, sb, body, field):
    before = len(client.get(purl(sb.id)).json()["processes"])
    r = client.post(purl(sb.id), json=body)
    assert r.status_code == 400, (body, r.text)
    assert r.json()["error"].startswith(field), (body, r.text)
    assert len(client.get(purl(sb.id)).json()["processes"]) == before   # nothing left behind


def test_bad_query_tag_in_use_and_missing_cwd(daemon, client, sb):
    p = start(client, sb.id, command="sleep 30", tag="dup")
    r = client.post(purl(sb.id), json={"command": "true", "tag": "dup"})
    assert r.status_code == 409 and "tag" in r.json()["error"].lower() or "dup" in r.text, r.text
    for q, field in (("offset=abc", "offset"), ("offset=-1", "offset"), ("follow=maybe", "follow")):
        r = client.get(purl(sb.id, "dup", "/output?" + q))
        assert r.status_code == 400 and r.json()["error"].startswith(field), (q, r.text)
    r = client.post(purl(sb.id), json={"command": "true", "cwd": "/no/such/dir"})
    assert r.status_code == 400, r.text
    assert client.post(purl(sb.id), data="{not json").status_code == 400
    assert client.put(purl(sb.id), json={}).status_code == 405
    assert client.get(purl(sb.id, "dup", "/nonsense")).status_code == 404
    client.delete(purl(sb.id, p["pid"]))


def test_64_running_is_503_and_a_slot_frees(client, sandbox):
    box = sandbox(pids=512)
    pids = [start(client, box.id, command="sleep 300")["pid"] for _ in range(64)]
    r = client.post(purl(box.id), json={"command": "sleep 300"})
    assert r.status_code == 503, r.text
    assert client.delete(purl(box.id, pids[0])).status_code == 200
    # The slot frees once init has reaped the killed group (its keeper thread
    # counts it as running until then): within moments, not at once.
    hbtest.wait_until(lambda: client.post(purl(box.id), json={"command": "true"}).status_code
                      == 201, 5, 0.05, "a start after a DELETE freed a slot")


def test_more_than_16_streams_is_429(daemon, client, sandbox):
    box = sandbox()
    p = start(client, box.id, command="sleep 120")
    held = []
    try:
        for _ in range(16):
            r = open_output(daemon, box.id, p["pid"], follow=True)
            assert r.status_code == 200, r.text
            held.append(r)
        r = open_output(daemon, box.id, p["pid"], follow=True)
        assert r.status_code == 429 and "streams" in r.json()["error"], r.text
        # A streamed exec holds a slot too.
        r = requests.post(daemon.url + f"{API}/{box.id}/exec", json={"command": "true",
                          "stream": True}, headers={"Authorization": f"Bearer {daemon.key}"},
                          timeout=30)
        assert r.status_code == 429, r.text
        # Other sandboxes are not affected; a batch exec here is not either.
        assert box.exec("true")["exit_code"] == 0
        held.pop().close()

        def freed():
            r = open_output(daemon, box.id, p["pid"], follow=True)
            if r.status_code == 200:
                held.append(r)
                return True
            r.close()
            return False

        hbtest.wait_until(freed, 10, 0.2, "a stream slot to free after a client left")
    finally:
        for r in held:
            r.close()


def test_destroy_ends_every_follower_cleanly(daemon, client, sandbox):
    box = sandbox()
    p = start(client, box.id, command="while :; do echo tick; sleep 0.2; done")
    results = [None] * 4

    def follow(i):
        try:
            with open_output(daemon, box.id, p["pid"], follow=True, timeout=30) as r:
                results[i] = list(sse(r))
        except Exception as exc:   # a broken stream is a failure of this test
            results[i] = exc

    ts = [threading.Thread(target=follow, args=(i,)) for i in range(4)]
    for t in ts:
        t.start()
    time.sleep(1.5)
    t0 = time.monotonic()
    client.destroy(box.id)
    for t in ts:
        t.join(20)
    assert not any(t.is_alive() for t in ts), "a follower outlived the destroy"
    assert time.monotonic() - t0 < 15
    for evs in results:
        assert isinstance(evs, list), evs
        assert b"tick" in joined(evs)
        assert evs[-1][0] == "error", evs[-3:]
        assert "destroyed" in evs[-1][1]["error"] or "init" in evs[-1][1]["error"], evs[-1]


def test_a_follower_that_never_reads_costs_bounded_memory(daemon, client, sandbox):
    box = sandbox()
    p = start(client, box.id, command="yes flood")
    rss0 = rss(daemon.pid)
    r = open_output(daemon, box.id, p["pid"], follow=True)
    assert r.status_code == 200
    time.sleep(5)                      # the client reads nothing meanwhile
    rss1 = rss(daemon.pid)
    assert rss1 - rss0 < 64 * 1024 * 1024, (rss0, rss1)
    assert box.exec("echo alive")["stdout"] == "alive\n"
    r.close()
    client.delete(purl(box.id, p["pid"]))


# ---- events ----

def test_process_events_on_the_feed(daemon, client, sb):
    s = zmq.Context.instance().socket(zmq.SUB)
    s.setsockopt(zmq.LINGER, 0)
    s.setsockopt_string(zmq.SUBSCRIBE, "process.")
    s.connect(daemon.events)
    time.sleep(0.3)
    try:
        tag = "ev-" + secrets.token_hex(3)
        p = start(client, sb.id, command="sleep 0.5; exit 3", tag=tag)
        got = []
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and len(got) < 2:
            if s.poll(100):
                topic, body = s.recv_multipart()
                m = msgpack.unpackb(body, raw=False)
                if m.get("tag") == tag:
                    got.append((topic.decode(), m))
        assert [t for t, _ in got] == ["process.started", "process.exited"], got
        st, ex = got[0][1], got[1][1]
        assert st["id"] == sb.id and st["pid"] == p["pid"] and st["command"].startswith("sleep")
        assert ex["exit_code"] == 3 and ex["term_signal"] == 0 and ex["duration_ms"] >= 400
        assert ex["timestamp"] > 0
    finally:
        s.close()


# ---- daemon restart ----

def test_survives_daemon_sigkill_and_restart(own_daemon):
    d = own_daemon
    c = d.client()
    box = c.create(name="proc-" + secrets.token_hex(3))
    sid = box["id"]
    p = start(c, sid, command="i=0; while :; do echo line$i; i=$((i+1)); sleep 0.2; done",
              tag="counter")
    hbtest.wait_until(lambda: get(c, sid, "counter")["output"]["end"] > 20, 10, 0.1)
    c.close()
    assert d.stop(signal.SIGKILL) != 0 or True
    d.start()
    c = d.client()
    sub = zmq.Context.instance().socket(zmq.SUB)
    sub.setsockopt(zmq.LINGER, 0)
    sub.setsockopt_string(zmq.SUBSCRIBE, "process.")
    sub.connect(d.events)
    try:
        listed = c.get(purl(sid)).json()["processes"]
        assert [q["pid"] for q in listed if q["tag"] == "counter"] == [p["pid"]], listed
        assert get(c, sid, "counter")["state"] == "running"
        # Followable from the start, output from before and after the restart.
        got = b""
        with open_output(d, sid, "counter", offset=0, follow=True) as r:
            assert r.status_code == 200, r.text
            for e, data in sse(r):
                if e == "stdout":
                    got += data_of(data)
                if b"line40" in got:
                    break
        assert got.startswith(b"line0\nline1\n"), got[:100]
        # The exit of a process that outlived the old daemon is an event.
        time.sleep(0.3)
        assert c.post(purl(sid, "counter", "/signal"), json={"signal": "KILL"}).status_code == 200
        ev = None
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and ev is None:
            if sub.poll(100):
                topic, body = sub.recv_multipart()
                m = msgpack.unpackb(body, raw=False)
                if topic == b"process.exited" and m.get("pid") == p["pid"]:
                    ev = m
        assert ev and ev["term_signal"] == 9 and ev["id"] == sid, ev
    finally:
        sub.close()
        c.destroy(sid, missing_ok=True)
        c.close()


# ---- CLI ----

def cli(daemon, *args, timeout=60):
    env = {k: v for k, v in os.environ.items() if not k.startswith("HIVEBOX_")}
    env["HIVEBOX_API_URL"] = daemon.url
    env["HIVEBOX_API_KEY"] = daemon.key
    return subprocess.run([HIVEBOX, *args], capture_output=True, env=env, timeout=timeout)


def test_cli_background_ps_logs_kill(daemon, client, sb):
    r = cli(daemon, "exec", sb.id, "--background", "--tag", "clitest", "--",
            "echo hello-from-bg; sleep 60")
    assert r.returncode == 0, r.stderr
    pid = int(r.stdout.decode().strip())
    hbtest.wait_until(lambda: get(client, sb.id, pid)["output"]["end"] > 0, 10, 0.05)
    r = cli(daemon, "ps", sb.id)
    assert r.returncode == 0, r.stderr
    rows = [ln.split() for ln in r.stdout.decode().splitlines()]
    assert rows[0][:3] == ["PID", "TAG", "STATE"]
    assert [str(pid), "clitest", "running"] in [row[:3] for row in rows[1:]], rows
    r = cli(daemon, "logs", sb.id, "clitest")
    assert r.returncode == 0 and r.stdout == b"hello-from-bg\n", (r.stdout, r.stderr)
    follower = subprocess.Popen([HIVEBOX, "logs", sb.id, str(pid), "-f"], stdout=subprocess.PIPE,
                                env={"HIVEBOX_API_URL": daemon.url, "HIVEBOX_API_KEY": daemon.key,
                                     "PATH": os.environ["PATH"]})
    time.sleep(1)
    assert follower.poll() is None, "logs -f ended while the process runs"
    r = cli(daemon, "kill", sb.id, str(pid), "-s", "KILL")
    assert r.returncode == 0, r.stderr
    out, _ = follower.communicate(timeout=20)
    assert out == b"hello-from-bg\n"
    assert get(client, sb.id, pid)["signal"] == 9
    r = cli(daemon, "kill", sb.id, str(pid), "-s", "NOPE")
    assert r.returncode == 1 and b"signal" in r.stderr, r.stderr
    r = cli(daemon, "logs", sb.id, "no-such")
    assert r.returncode == 1 and b"404" in r.stderr, r.stderr
    r = cli(daemon, "exec", sb.id, "--background", "--", "cat")
    assert r.returncode == 0
