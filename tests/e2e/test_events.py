"""The monitoring feed: a real ZeroMQ SUB socket on the daemon's --events
endpoint. Messages are [topic, msgpack map] (schemas/messages.def)."""
import secrets
import threading
import time

import msgpack
import pytest
import zmq

import hbtest


def subscriber(endpoint, prefix):
    s = zmq.Context.instance().socket(zmq.SUB)
    s.setsockopt(zmq.LINGER, 0)
    s.setsockopt_string(zmq.SUBSCRIBE, prefix)
    s.connect(endpoint)
    return s


def drain(sock, until, timeout):
    """Collect (topic, map) pairs until until(list) is true or timeout passes."""
    got = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sock.poll(100):
            frames = sock.recv_multipart()
            assert len(frames) == 2, f"event with {len(frames)} frames: {frames!r}"
            topic = frames[0].decode()
            body = msgpack.unpackb(frames[1], raw=False)
            assert isinstance(body, dict), body
            got.append((topic, body))
            if until(got):
                break
    return got


@pytest.fixture
def subs(daemon):
    made = []

    def make(prefix):
        s = subscriber(daemon.events, prefix)
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()


def test_sandbox_and_exec_topics(client, subs):
    sb_sub = subs("sandbox.")
    ex_sub = subs("exec.")
    time.sleep(1.0)  # slow joiner: let both subscriptions reach the publisher
    info = client.create(memory="64m")
    sid = info["id"]
    res = client.exec(sid, "echo hi; exit 3")
    assert res["exit_code"] == 3
    client.destroy(sid)

    def have_both(got):
        topics = {(t, b.get("id")) for t, b in got}
        return ("sandbox.created", sid) in topics and ("sandbox.destroyed", sid) in topics

    got = drain(sb_sub, have_both, 10)
    assert have_both(got), f"sandbox events seen: {[(t, b.get('id')) for t, b in got]}"
    assert all(t.startswith("sandbox.") for t, _ in got), [t for t, _ in got]
    created = [b for t, b in got if t == "sandbox.created" and b["id"] == sid][0]
    assert created.get("memory") == "64m"
    assert isinstance(created.get("created_at"), int) and isinstance(created.get("expires_at"), int)
    destroyed = [b for t, b in got if t == "sandbox.destroyed" and b["id"] == sid][0]
    assert destroyed.get("reason") == "deleted", destroyed
    # Nothing of another topic arrives on the "sandbox." subscription later either.
    late = drain(sb_sub, lambda g: False, 0.5)
    assert all(t.startswith("sandbox.") for t, _ in late)

    got = drain(ex_sub, lambda g: any(b.get("id") == sid for _, b in g), 10)
    mine = [(t, b) for t, b in got if b.get("id") == sid]
    assert mine, f"no exec.finished for {sid}: {got}"
    topic, ev = mine[0]
    assert topic == "exec.finished"
    assert ev["exit_code"] == 3
    assert isinstance(ev["duration_ms"], int) and ev["duration_ms"] >= 0
    assert ev["oom_killed"] is False
    assert all(t.startswith("exec.") for t, _ in got)


def test_oom_reported_on_the_feed(client, subs, sandbox):
    ex_sub = subs("exec.finished")
    oom_sub = subs("sandbox.oom")
    time.sleep(1.0)
    sb = sandbox(memory="64m")
    res = sb.exec("python3 -c \"x = b'a' * (300 << 20)\"", timeout=120)
    assert res.get("oom_killed") is True, res
    got = drain(ex_sub, lambda g: any(b.get("id") == sb.id for _, b in g), 10)
    ev = [b for _, b in got if b.get("id") == sb.id]
    assert ev and ev[0]["oom_killed"] is True, got
    got = drain(oom_sub, lambda g: any(b.get("id") == sb.id for _, b in g), 10)
    ev = [b for _, b in got if b.get("id") == sb.id]
    assert ev, f"no sandbox.oom event: {got}"
    assert ev[0].get("oom_kills", 0) >= 1


def test_a_sandbox_s_events_come_in_order_created_first_destroyed_last(client, daemon, subs):
    """A sandbox's events reach the feed in the order they happened, also
    across actors: its sandbox.created comes before its first process's
    process.started (started as soon as the create answered), and its
    processes' exits come before its sandbox.destroyed, never after. Each
    round has a process exit just as the destroy starts, while other
    clients keep the metrics actor busy (it takes the feed's messages, and
    a backlog is where two actors' messages could cross). The supervisor
    publishes all of them; sandbox.created came from the manager before."""
    sub = subs("")
    time.sleep(1.0)   # slow joiner
    stop = threading.Event()

    def busy():
        c = hbtest.Client(daemon.url, daemon.key)
        try:
            while not stop.is_set():
                c.get("/metrics")
                c.get("/api/v1/analytics")
        finally:
            c.close()

    loaders = [threading.Thread(target=busy) for _ in range(3)]
    for t in loaders:
        t.start()
    seen_exits = 0
    try:
        for _ in range(8):
            sid = client.create(memory="64m")["id"]
            for i in range(4):
                r = client.post(f"/api/v1/hiveboxes/{sid}/processes",
                                json={"command": f"sleep 0.{i + 2}"})
                assert r.status_code == 201, r.text
            time.sleep(0.3)
            client.destroy(sid)
            got = drain(sub, lambda g: any(t == "sandbox.destroyed" and b.get("id") == sid
                                           for t, b in g), 15)
            got += drain(sub, lambda g: False, 0.5)   # anything of it that comes late
            mine = [t for t, b in got if isinstance(b, dict) and b.get("id") == sid]
            assert mine and mine[0] == "sandbox.created", mine
            assert mine.count("sandbox.created") == 1, mine
            assert "sandbox.destroyed" in mine, mine
            last = mine.index("sandbox.destroyed")
            assert not [t for t in mine[last + 1:] if t.startswith("process.")], mine
            seen_exits += mine[:last].count("process.exited")
    finally:
        stop.set()
        for t in loaders:
            t.join(30)
    assert seen_exits >= 8, f"only {seen_exits} process exits told: the test raced nothing"


def test_a_destroyed_sandbox_s_name_is_free_when_its_event_arrives(client, daemon, subs):
    """A client that acts on sandbox.destroyed (a controller making the same
    sandbox again) finds its name free: 10 rounds of a destroy on another
    connection, the event, and a create of the same name at once."""
    sub = subs("sandbox.destroyed")
    time.sleep(1.0)   # slow joiner
    name = "evname-" + secrets.token_hex(3)
    other = hbtest.Client(daemon.url, daemon.key)
    try:
        for _ in range(10):
            client.create(name=name, memory="64m")
            done = threading.Thread(target=other.destroy, args=(name,))
            done.start()
            got = drain(sub, lambda g: any(b.get("id") == name for _, b in g), 15)
            assert any(b.get("id") == name for _, b in got), got
            r = client.post("/api/v1/hiveboxes", json={"name": name, "memory": "64m"})
            done.join(30)
            assert r.status_code == 201, r.text
            client.destroy(name)
            drain(sub, lambda g: any(b.get("id") == name for _, b in g), 15)
    finally:
        other.close()
