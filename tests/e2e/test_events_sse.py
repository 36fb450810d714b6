"""GET /api/v1/events: the event feed as server-sent events. Checked against
a real ZeroMQ SUB socket on the same daemon (same events, same fields), and
for what a stream must not do: grow the daemon for a client that does not
read, or hold more than 64 workers."""
import json
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import msgpack
import pytest
import requests
import zmq

import hbtest

MAX_STREAMS = 64


class Stream:
    """An open /api/v1/events response read by a thread into .events."""

    def __init__(self, daemon, topics=None):
        params = {"topics": topics} if topics is not None else None
        self.resp = requests.get(daemon.url + "/api/v1/events", params=params, stream=True,
                                 headers={"Authorization": f"Bearer {daemon.key}"},
                                 timeout=(10, 60))
        assert self.resp.status_code == 200, self.resp.text
        assert self.resp.headers["Content-Type"].startswith("text/event-stream")
        self.events = []
        self.t = threading.Thread(target=self._read, daemon=True)
        self.t.start()

    def _read(self):
        try:
            for name, data, _ in hbtest.sse_events(self.resp):
                self.events.append((name, data))
        except (requests.RequestException, ValueError, AttributeError):
            pass   # closed by the test

    def close(self):
        # A reader thread blocked in recv() keeps the socket open through
        # resp.close() until the next keep-alive comment; shut it down so the
        # daemon sees the client leave now.
        try:
            self.resp.raw._fp.fp.raw._sock.shutdown(socket.SHUT_RDWR)
        except (AttributeError, OSError):
            pass
        self.resp.close()


def zmq_sub(daemon):
    s = zmq.Context.instance().socket(zmq.SUB)
    s.setsockopt(zmq.LINGER, 0)
    s.setsockopt_string(zmq.SUBSCRIBE, "")
    s.connect(daemon.events)
    return s


def zmq_drain(sock, timeout):
    got, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sock.poll(100):
            topic, body = sock.recv_multipart()
            got.append((topic.decode(), msgpack.unpackb(body, raw=False)))
    return got


def mine(events, sid):
    return [(t, b) for t, b in events if isinstance(b, dict) and b.get("id") == sid]


def test_lifecycle_same_as_the_zeromq_feed(client, daemon):
    sub = zmq_sub(daemon)
    every = Stream(daemon)
    only_exec = Stream(daemon, topics="exec.")
    time.sleep(1.0)   # slow joiners: the test's SUB and the gateway's relay
    try:
        sid = client.create(memory="64m")["id"]
        assert client.exec(sid, "echo hi; exit 3")["exit_code"] == 3
        r = client.post(f"/api/v1/hiveboxes/{sid}/processes", json={"command": "exit 4"})
        assert r.status_code in (200, 201), r.text
        hbtest.wait_until(lambda: any(t == "process.exited" for t, _ in mine(every.events, sid)),
                          20, what="process.exited over SSE")
        client.destroy(sid)
        hbtest.wait_until(lambda: any(t == "sandbox.destroyed" for t, _ in
                                      mine(every.events, sid)), 20,
                          what="sandbox.destroyed over SSE")
        fed = mine(zmq_drain(sub, 1.0), sid)
        got = mine(every.events, sid)
        # The same events, in the same order, with the same keys and values.
        assert got == fed, f"SSE: {got}\nZeroMQ: {fed}"
        topics = [t for t, _ in got]
        for t in ("sandbox.created", "exec.finished", "process.started", "process.exited",
                  "sandbox.destroyed"):
            assert t in topics, topics
        assert topics[0] == "sandbox.created" and topics[-1] == "sandbox.destroyed", topics
        assert topics.index("exec.finished") < topics.index("process.started")
        ex = dict(got)["exec.finished"]
        assert ex["t"] == "exec.finished" and ex["exit_code"] == 3 and ex["oom_killed"] is False
        assert dict(got)["sandbox.created"]["memory"] == "64m"
        # The filtered stream saw this sandbox's exec and nothing of another topic.
        assert [t for t, _ in mine(only_exec.events, sid)] == ["exec.finished"]
        assert only_exec.events and all(t.startswith("exec.") for t, _ in only_exec.events)
    finally:
        every.close()
        only_exec.close()
        sub.close()


def test_a_process_that_ends_at_once_still_has_its_started_event(client, daemon):
    # Init answered proc_start with the process's latest event: one that had
    # already exited by then gave its exit's number, and the supervisor's watch
    # (from that number - 1) published process.exited without process.started.
    # That needs init's answering thread to be late (a loaded host, as in CI):
    # here every one of 20 such processes must have both events.
    sub = zmq_sub(daemon)
    time.sleep(1.0)   # slow joiner
    sid = client.create(memory="64m")["id"]
    try:
        pids = []
        for _ in range(20):
            r = client.post(f"/api/v1/hiveboxes/{sid}/processes", json={"command": "exit 0"})
            assert r.status_code in (200, 201), r.text
            pids.append(r.json()["pid"])
        seen = []

        def both():
            seen.extend(mine(zmq_drain(sub, 0.2), sid))
            ended = {b["pid"] for t, b in seen if t == "process.exited"}
            return set(pids) <= ended
        hbtest.wait_until(both, 30, what="20 process.exited events")
        started = [b["pid"] for t, b in seen if t == "process.started"]
        assert sorted(started) == sorted(pids), seen
    finally:
        client.destroy(sid)
        sub.close()


def test_metrics_samples_come_without_a_filter(daemon):
    s = Stream(daemon)
    try:
        hbtest.wait_until(lambda: any(t == "metrics.sample" for t, _ in s.events), 25,
                          what="a metrics.sample over SSE")
        sample = [b for t, b in s.events if t == "metrics.sample"][0]
        assert {"timestamp", "sandbox_count", "sandboxes", "host_cpu_percent"} <= set(sample)
    finally:
        s.close()


def test_needs_the_key(daemon):
    r = requests.get(daemon.url + "/api/v1/events", timeout=10)
    assert r.status_code == 401 and "error" in r.json()
    r = requests.get(daemon.url + "/api/v1/events", headers={"Authorization": "Bearer nope"},
                     timeout=10)
    assert r.status_code == 401


@pytest.mark.parametrize("topics", ["", "sandbox.,", ",exec.", "a,,b",
                                    ",".join(f"t{i}." for i in range(17)), "x" * 65,
                                    "sandbox created", "exec.\x00"])
def test_bad_topics_is_400_naming_topics(client, topics):
    r = client.get("/api/v1/events", params={"topics": topics}, stream=True)
    try:
        assert r.status_code == 400, r.status_code
        assert r.json()["error"].startswith("topics:"), r.text
    finally:
        r.close()


def test_post_is_405(client):
    assert client.post("/api/v1/events").status_code == 405


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def raw_stream(daemon, topics):
    """A stream over a socket with a tiny receive buffer that the test does not read."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", daemon.port))
    s.sendall((f"GET /api/v1/events?topics={topics} HTTP/1.1\r\nHost: x\r\n"
               f"Authorization: Bearer {daemon.key}\r\n\r\n").encode())
    return s


# init cuts a process event's command to about 1 KB. The kernel's socket
# buffers took 2.4 MB of a stalled stream in a trial (tcp_wmem allows up to
# 4 MB): 3,000 processes, 6,000 events (~7 MB), outgrow them and the queue.
PROCESSES = 3000
BIG_COMMAND = "exit 0 # " + "x" * 4000


def test_a_client_that_does_not_read_costs_a_bounded_queue(private_daemon):
    # A stalled write must outlast the burst here, so the daemon waits longer
    # than its default 10 s for a write that makes no progress.
    d = private_daemon(extra_args=["--header-timeout", "300"],
                        extra_env=hbtest.asan_quarantine_env(0))
    c = d.client()
    sids = [c.create(memory="64m")["id"] for _ in range(4)]
    for sid in sids:   # warm up: the first processes allocate what later ones reuse
        for _ in range(5):
            r = c.post(f"/api/v1/hiveboxes/{sid}/processes", json={"command": "exit 0 # warm"})
            assert c.delete(f"/api/v1/hiveboxes/{sid}/processes/{r.json()['pid']}").status_code \
                == 200
    s = raw_stream(d, "process.")
    time.sleep(1.0)
    before = rss_kb(d.pid)

    def burst(i):
        cl = d.client()
        sid = sids[i % len(sids)]
        try:
            for _ in range(PROCESSES // 16 + (1 if i < PROCESSES % 16 else 0)):
                r = cl.post(f"/api/v1/hiveboxes/{sid}/processes", json={"command": BIG_COMMAND})
                assert r.status_code in (200, 201), r.text
                # forgotten at once: init keeps 64 per sandbox
                r = cl.delete(f"/api/v1/hiveboxes/{sid}/processes/{r.json()['pid']}")
                assert r.status_code == 200, r.text
        finally:
            cl.close()

    with ThreadPoolExecutor(16) as ex:
        list(ex.map(burst, range(16)))   # 2 events a process
    time.sleep(2.0)   # the last process.exited events reach the queue
    after = rss_kb(d.pid)
    # The queue keeps 256 events (~300 KB here); the bound is generous.
    assert after - before < 32 * 1024, f"RSS grew from {before} to {after} KiB"
    # Now it reads: every event of the burst was received or counted in a
    # `dropped` event, and some were dropped.
    s.settimeout(20)
    buf, deadline = b"", time.monotonic() + 60
    got = lost = 0
    while got + lost < 2 * PROCESSES and time.monotonic() < deadline:
        chunk = s.recv(1 << 20)
        if not chunk:
            break
        buf += chunk
        text = buf.decode(errors="replace")
        got = sum(1 for ev in text.split("\n\n") if "event: process." in ev and "xxxxxxxx" in ev)
        lost = sum(json.loads(line[6:])["count"] for ev in text.split("event: dropped\n")[1:]
                   for line in ev.split("\n")[:1] if line.startswith("data: "))
    assert got + lost == 2 * PROCESSES, f"{got} received, {lost} reported dropped"
    assert lost > 0, f"all {got} events fitted in the socket buffers and the queue"
    s.close()
    for sid in sids:
        c.destroy(sid)
    c.close()


@pytest.mark.once("its time is the 15 s keep-alive tick that finds a closed client")
def test_stream_limit_and_a_closed_stream_frees_its_slot(daemon):
    streams = []
    try:
        for _ in range(MAX_STREAMS):
            streams.append(Stream(daemon, topics="sandbox."))
        r = requests.get(daemon.url + "/api/v1/events", timeout=10,
                         headers={"Authorization": f"Bearer {daemon.key}"})
        assert r.status_code == 429, r.status_code
        assert "event streams" in r.json()["error"]
        streams.pop().close()

        def reopened():
            try:
                streams.append(Stream(daemon, topics="sandbox."))
                return True
            except AssertionError:
                return False
        # The worker finds its client gone at its next write: a tick (15 s) at most.
        hbtest.wait_until(reopened, 25, 0.5, "the closed stream's slot to be free")
    finally:
        for s in streams:
            s.close()
    # Every slot comes back once the clients are gone.
    def one_free():
        r = requests.get(daemon.url + "/api/v1/events", timeout=10, stream=True,
                         headers={"Authorization": f"Bearer {daemon.key}"})
        r.close()
        return r.status_code == 200
    hbtest.wait_until(one_free, 25, 0.5, "a free slot")
