"""Signed webhooks (issue 15; docs/observability.md "Webhooks"): a daemon
started with --webhook URLs POSTs every lifecycle event to them, signed
with HMAC-SHA256 over "<t>.<body>". The receivers are real HTTP servers
on the loopback, started here: one that answers, one that accepts
connections and never answers, one whose port opens only later."""
import base64
import hashlib
import hmac
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

import hbtest
from conftest import shutdown_daemon
from hbtest import BUILD, Daemon

API = "/api/v1/hiveboxes"
SECRET = "whsec-e2e-" + os.urandom(8).hex()
TOKEN = "tok" + os.urandom(6).hex()   # in a URL's query: must never reach a log line
LIFECYCLE = {"sandbox.created", "sandbox.destroyed", "sandbox.expired", "sandbox.oom",
             "sandbox.failed", "process.exited"}


# ---------------------------------------------------------------- receivers

class Receiver:
    """An HTTP server on 127.0.0.1 recording each POST (path, headers, raw
    body, arrival time); answers 204. start() may come after the port was
    handed out (a receiver that is down, then up)."""

    def __init__(self, port=None):
        self.port = port or hbtest.free_port()
        self.got = []
        self.lock = threading.Lock()
        self.server = None

    def start(self):
        rec = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):   # noqa: N802 - http.server's name
                n = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(n)
                with rec.lock:
                    rec.got.append({"path": self.path, "headers": dict(self.headers),
                                    "raw": raw, "at": time.time()})
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()

    def url(self, query=""):
        return f"http://127.0.0.1:{self.port}/hook{query}"

    def events(self):
        with self.lock:
            return [dict(r, body=json.loads(r["raw"])) for r in self.got]

    def wait_for(self, pred, timeout, what):
        box = {}

        def seen():
            box["e"] = [e for e in self.events() if pred(e["body"])]
            return box["e"]

        hbtest.wait_until(seen, timeout, 0.1, what)
        return box["e"]


class Silent:
    """Accepts connections and never reads or answers (a hung receiver)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.held = []
        self.stopped = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stopped:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)

    def url(self):
        return f"http://127.0.0.1:{self.port}/never?token={TOKEN}"

    def stop(self):
        self.stopped = True
        self.sock.close()
        for c in self.held:
            c.close()


def expected_signature(secret, t, raw):
    return hmac.new(secret.encode(), f"{t}.".encode() + raw, hashlib.sha256).hexdigest()


def check_signed(ev, secret=SECRET):
    """The request is what docs/observability.md says, and its signature
    verifies with the secret (and would not with another)."""
    h = {k.lower(): v for k, v in ev["headers"].items()}
    body = ev["body"]
    assert h["content-type"] == "application/json", h
    assert h["user-agent"].startswith("HiveBox/"), h
    assert h["x-hivebox-event"] == body["type"], (h, body)
    assert h["x-hivebox-delivery"] == body["id"] and body["id"].startswith("evt_"), (h, body)
    assert set(body) == {"id", "type", "timestamp", "data"}, body
    assert isinstance(body["timestamp"], int) and abs(body["timestamp"] - time.time()) < 600
    parts = dict(p.split("=", 1) for p in h["x-hivebox-signature"].split(","))
    assert set(parts) == {"t", "v1"}, parts
    t = int(parts["t"])
    assert abs(ev["at"] - t) < 60, f"signature time {t} vs arrival {ev['at']}"
    assert hmac.compare_digest(parts["v1"], expected_signature(secret, t, ev["raw"])), ev
    assert not hmac.compare_digest(parts["v1"], expected_signature(secret + "x", t, ev["raw"]))
    assert not hmac.compare_digest(parts["v1"],
                                   expected_signature(secret, t, ev["raw"] + b" "))


def of(sid, topic):
    return lambda b: b["type"] == topic and b["data"].get("id") == sid


def daemon_lines(d):
    """The daemon's own log (without the test's "starting <argv>" lines)."""
    return "\n".join(l for l in d.log_text().splitlines() if not l.startswith("===== e2e:"))


def hook_daemon(e2e_tmp, name, urls):
    d = Daemon(e2e_tmp / name, name="daemon",
               extra_args=[a for u in urls for a in ("--webhook", u)] +
               ["--webhook-secret", SECRET])
    d.start()
    return d


# ---------------------------------------------------------------- one daemon, two receivers

@pytest.fixture(scope="module")
def hooked(e2e_tmp):
    """A daemon posting to a live receiver and to a hung one."""
    live, hung = Receiver().start(), Silent()
    d = hook_daemon(e2e_tmp, "hooks", [live.url(f"?token={TOKEN}"), hung.url()])
    yield d, live, hung
    shutdown_daemon(d)
    live.stop()
    hung.stop()
    d.assert_no_sanitizer_reports()


def test_lifecycle_events_arrive_signed(hooked):
    d, live, hung = hooked
    c = d.client()
    t0 = time.monotonic()
    sid = c.create(memory="64m")["id"]
    created = live.wait_for(of(sid, "sandbox.created"), 10, "sandbox.created")
    print(f"\nsandbox.created delivered {time.monotonic() - t0:.2f}s after the create began "
          f"(a hung receiver beside it)")
    r = c.post(f"{API}/{sid}/processes", json={"command": "exit 7"})
    assert r.status_code == 201, r.text
    exited = live.wait_for(of(sid, "process.exited"), 20, "process.exited")
    assert exited[0]["body"]["data"]["exit_code"] == 7, exited[0]["body"]
    c.destroy(sid)
    destroyed = live.wait_for(of(sid, "sandbox.destroyed"), 10, "sandbox.destroyed")
    assert destroyed[0]["body"]["data"]["reason"] == "deleted"

    # expiry: sandbox.expired, then destroyed with reason expired
    eid = c.create(memory="64m", timeout=2)["id"]
    live.wait_for(of(eid, "sandbox.expired"), 30, "sandbox.expired")
    gone = live.wait_for(of(eid, "sandbox.destroyed"), 30, "sandbox.destroyed after expiry")
    assert gone[0]["body"]["data"]["reason"] == "expired"

    # an OOM kill in a small sandbox
    oid = c.create(memory="64m")["id"]
    res = c.exec(oid, "python3 -c \"x = b'a' * (300 << 20)\"", timeout=120)
    assert res.get("oom_killed") is True, res
    oom = live.wait_for(of(oid, "sandbox.oom"), 20, "sandbox.oom")
    assert oom[0]["body"]["data"]["oom_kills"] >= 1

    # init killed from the host: sandbox.failed
    os.kill(hbtest.init_host_pid(oid), signal.SIGKILL)
    live.wait_for(of(oid, "sandbox.failed"), 20, "sandbox.failed")
    c.destroy(oid)
    live.wait_for(of(oid, "sandbox.destroyed"), 20, "sandbox.destroyed of the failed one")
    c.close()

    evs = live.events()
    for ev in evs:
        check_signed(ev)
        assert ev["path"] == f"/hook?token={TOKEN}", ev["path"]   # the URL as given
    types = {e["body"]["type"] for e in evs}
    assert types == LIFECYCLE, types   # and no exec.finished, process.started, metrics.sample
    ids = [e["body"]["id"] for e in evs]
    assert len(ids) == len(set(ids)), "an event came twice to a receiver that answered 204"
    mine = [e["body"]["type"] for e in evs if e["body"]["data"].get("id") == sid]
    assert mine == ["sandbox.created", "process.exited", "sandbox.destroyed"], mine
    # The hung receiver was tried; its failures are logged without its query.
    hbtest.wait_until(lambda: hung.held, 15, 0.1, "a connection to the hung receiver")
    hbtest.wait_until(lambda: f"webhook http://127.0.0.1:{hung.port}: " in daemon_lines(d), 30,
                      0.2, "a logged failure for the hung receiver")
    assert TOKEN not in daemon_lines(d), "a webhook URL's query reached the log"
    assert SECRET not in daemon_lines(d), "the webhook secret reached the log"
    print(f"{len(evs)} events delivered; the hung receiver got {len(hung.held)} connections")


def doc_blocks():
    """The Python and Node verification code of docs/observability.md."""
    doc = (Path(__file__).resolve().parents[2] / "docs" / "observability.md").read_text()
    section = doc.split("## Webhooks", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```(python|js)\n(.*?)```", section, re.S)
    return {lang: code for lang, code in blocks}


def test_the_documented_verification_code_works(hooked):
    d, live, _ = hooked
    c = d.client()
    sid = c.create(memory="64m")["id"]
    c.destroy(sid)
    c.close()
    ev = live.wait_for(of(sid, "sandbox.destroyed"), 10, "sandbox.destroyed")[0]
    header = {k.lower(): v for k, v in ev["headers"].items()}["x-hivebox-signature"]
    code = doc_blocks()
    assert set(code) == {"python", "js"}, code.keys()
    ns = {}
    exec(code["python"], ns)   # noqa: S102 - our own documentation
    assert ns["verify"](SECRET, ev["raw"], header) is True
    assert ns["verify"](SECRET + "x", ev["raw"], header) is False
    assert ns["verify"](SECRET, ev["raw"] + b" ", header) is False
    t = int(header.split(",")[0][2:])
    old = header.replace(f"t={t}", f"t={t - 600}")
    assert ns["verify"](SECRET, ev["raw"], old) is False, "an old t must not verify"
    js = code["js"] + """
const [secret, b64, header] = process.argv.slice(1);   // node -e: no script path
const body = Buffer.from(b64, "base64");
const ok = verify(secret, body, header);
const bad = verify(secret + "x", body, header) || verify(secret, Buffer.concat([body, Buffer.from(" ")]), header);
process.exit(ok && !bad ? 0 : 1);
"""
    r = subprocess.run(["node", "-e", js, "--", SECRET, base64.b64encode(ev["raw"]).decode(),
                        header], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, (r.stdout, r.stderr)


def test_metrics_count_the_deliveries(hooked):
    d, live, _ = hooked
    c = d.client()

    def page():
        r = c.get("/metrics")
        assert r.status_code == 200, r.text
        return r.text

    def value(text, series):
        m = re.search(r"^" + re.escape(series) + r" (\S+)$", text, re.M)
        assert m, f"no {series} in /metrics"
        return float(m.group(1))

    n = len(live.events())
    assert n >= 1
    def counted():   # the hung receiver's first attempt times out after 10 s, then a retry
        t = page()
        done = value(t, 'hivebox_webhook_deliveries_total{outcome="delivered"}') >= n
        return t if done and value(t, "hivebox_webhook_retries_total") >= 1 else None

    text = hbtest.wait_until(counted, 20, 0.2, "the delivered count and a retry")
    assert "# TYPE hivebox_webhook_deliveries_total counter" in text
    assert "# TYPE hivebox_webhook_retries_total counter" in text
    assert "# TYPE hivebox_webhook_queue_length gauge" in text
    assert value(text, "hivebox_webhook_endpoints") == 2
    assert value(text, "hivebox_webhook_retries_total") >= 1, "the hung receiver was retried"
    assert value(text, "hivebox_webhook_queue_length") >= 1, "the hung receiver's queue"
    c.close()


def create_p50(c, n):
    times = []
    for _ in range(n):
        t0 = time.monotonic()
        sid = c.create(memory="64m")["id"]
        times.append(time.monotonic() - t0)
        c.destroy(sid)
    return statistics.median(times)


def test_a_hung_receiver_does_not_slow_creates(hooked, client):
    """Creates on the daemon whose webhooks include a receiver that never
    answers vs the session's daemon without webhooks, alternated. The bound
    is generous (2x + 100 ms): the point is that creates never wait for a
    delivery, which would cost seconds (the attempt timeout is 10 s)."""
    d, live, hung = hooked
    c = d.client()
    create_p50(c, 1)   # warm both
    create_p50(client, 1)
    with_hook, without = [], []
    for _ in range(3):
        with_hook.append(create_p50(c, 2))
        without.append(create_p50(client, 2))
    c.close()
    a, b = statistics.median(with_hook), statistics.median(without)
    print(f"\ncreate p50: {a * 1000:.0f} ms with a hung webhook receiver, "
          f"{b * 1000:.0f} ms without webhooks")
    assert a < 2 * b + 0.1, f"creates slowed by a hung receiver: {a:.3f}s vs {b:.3f}s"
    assert len(hung.held) >= 1


# ---------------------------------------------------------------- down, then up

def test_a_receiver_down_then_up_still_gets_the_events(e2e_tmp):
    rec = Receiver()           # its port is handed out but nothing listens yet
    d = hook_daemon(e2e_tmp, "hooks-down", [rec.url()])
    try:
        c = d.client()
        sid = c.create(memory="64m")["id"]
        c.destroy(sid)
        time.sleep(3)          # the first attempts are refused
        assert not rec.got
        t_up = time.monotonic()
        rec.start()
        evs = rec.wait_for(lambda b: b["data"].get("id") == sid and
                           b["type"] == "sandbox.destroyed", 30, "the events after the port opened")
        print(f"\ndelivered {time.monotonic() - t_up:.2f}s after the receiver came up")
        mine = [e["body"]["type"] for e in rec.events() if e["body"]["data"].get("id") == sid]
        assert mine == ["sandbox.created", "sandbox.destroyed"], mine   # in order, once each
        for ev in rec.events():
            check_signed(ev)
        assert f"webhook http://127.0.0.1:{rec.port}: sandbox.created" in daemon_lines(d)
        c.close()
    finally:
        shutdown_daemon(d)
        rec.stop()
    d.assert_no_sanitizer_reports()


# ---------------------------------------------------------------- bad settings

def run_daemon(e2e_tmp, args, env=None):
    """The daemon must refuse to start. Should it start anyway (the test
    failing), it runs on a bridge of its own and is stopped with SIGTERM, so
    it leaves nothing behind."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("HIVEBOX_")}
    full_env.update({"HIVEBOX_BRIDGE": "hbwhbad"}, **(env or {}))
    argv = [str(BUILD / "hivebox"), "daemon", "--port", str(hbtest.free_port()), "--host",
            "127.0.0.1", "--data-dir", str(e2e_tmp / "hooks-bad"), "--api-key", "k" * 32,
            "--events", f"tcp://127.0.0.1:{hbtest.free_port()}", *args]
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=full_env)
    try:
        out, err = p.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=30)
        pytest.fail(f"the daemon started with {args}: {err[-2000:]}")
    return subprocess.CompletedProcess(argv, p.returncode, out, err)


@pytest.mark.parametrize("args,env,says", [
    (["--webhook", "ftp://127.0.0.1/x", "--webhook-secret", "s"], None,
     "--webhook (HIVEBOX_WEBHOOK): URL 1 of 1: the scheme must be http or https"),
    (["--webhook", "http://127.0.0.1/ok", "--webhook", "not a url", "--webhook-secret", "s"],
     None, "--webhook (HIVEBOX_WEBHOOK): URL 2 of 2: contains a blank"),
    (["--webhook", "https://", "--webhook-secret", "s"], None, "URL 1 of 1: not a URL"),
    (["--webhook", "http://127.0.0.1/" + "a" * 2100, "--webhook-secret", "s"], None,
     "longer than 2048"),
    (["--webhook", "http://127.0.0.1/x", "--webhook-secret", ""], None,
     "--webhook-secret (HIVEBOX_WEBHOOK_SECRET): empty"),
    (["--webhook", "http://127.0.0.1/x"], None,
     "--webhook-secret (HIVEBOX_WEBHOOK_SECRET): required with --webhook"),
    (["--webhook-secret", "s"], {"HIVEBOX_WEBHOOK": "http://127.0.0.1/a, gopher://x/"},
     "--webhook (HIVEBOX_WEBHOOK): URL 2 of 2: the scheme"),
    ([a for i in range(17) for a in ("--webhook", f"http://127.0.0.1/{i}")] +
     ["--webhook-secret", "s"], None, "--webhook: at most 16"),
], ids=["scheme", "blank", "no-host", "too-long", "empty-secret", "no-secret", "env-list",
        "too-many"])
def test_bad_webhook_settings_stop_the_daemon(e2e_tmp, args, env, says):
    r = run_daemon(e2e_tmp, args, env)
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert says in r.stderr, r.stderr
    assert TOKEN not in r.stderr
