"""The HTTP client side: one keep-alive connection per thread, checked calls."""

import concurrent.futures as cf
import http.client
import json
import select
import threading
import time
import urllib.parse

import requests

from bench_common import HTTP_TIMEOUT, BenchError, timed

KEEPALIVE_REUSE_S = 4.0   # the daemon closes keep-alive connections idle for 5 s

# ---- the client -----------------------------------------------------------

class Reply:
    """What the checks read of an answer (the names requests uses)."""

    def __init__(self, status, content):
        self.status_code, self.content = status, content

    @property
    def text(self):
        return self.content.decode(errors="replace")

    def json(self):
        return json.loads(self.content)


class Thin:
    """One keep-alive http.client connection for the timed calls: the
    `requests` library adds 0.5-1 ms of its own to every call on this VM
    (the api_get_sandbox_requests figure beside api_get_sandbox shows how
    much), which is the client's time, not the daemon's."""

    def __init__(self, url, key):
        u = urllib.parse.urlsplit(url)
        self.host, self.port = u.hostname, u.port
        self.headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        self.conn = None
        self.last = 0.0

    def _usable(self):
        """A connection the daemon has not closed meanwhile (an idle one it
        dropped reads as EOF) and will not close as the request goes out (it
        closes them at 5 s idle: README "Hostile clients"): a request is
        never sent twice."""
        if self.conn is None or self.conn.sock is None:
            return False
        if time.monotonic() - self.last > KEEPALIVE_REUSE_S:
            return False
        readable, _, _ = select.select([self.conn.sock], [], [], 0)
        return not readable

    def call(self, method, path, body=None):
        if not self._usable():
            if self.conn is not None:
                self.conn.close()
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=HTTP_TIMEOUT)
        data = None if body is None else json.dumps(body).encode()
        try:
            self.conn.request(method, path, body=data, headers=self.headers)
            r = self.conn.getresponse()
            reply = Reply(r.status, r.read())
            self.last = time.monotonic()
            return reply
        except (http.client.HTTPException, OSError) as ex:
            self.conn.close()
            self.conn = None
            raise requests.ConnectionError(f"{method} {path}: {ex}") from ex


class Client:
    """One keep-alive connection for the timed calls and a requests session
    for the rest; not shared between threads."""

    def __init__(self, d):
        self.base = d.url + "/api/v1"
        self.s = requests.Session()
        self.s.headers["Authorization"] = f"Bearer {d.key}"
        self.thin = Thin(d.url, d.key)
        self.path = urllib.parse.urlsplit(self.base).path

    def create(self, body):
        return timed(self.thin.call, "POST", self.path + "/hiveboxes", body)

    def destroy(self, sid):
        return timed(self.thin.call, "DELETE", f"{self.path}/hiveboxes/{sid}")

    def exec(self, sid, command):
        return timed(self.thin.call, "POST", f"{self.path}/hiveboxes/{sid}/exec",
                     {"command": command})

    def get(self, path):
        """GET of an API path (under /api/v1) over the timed connection."""
        return timed(self.thin.call, "GET", self.path + path)

    def list_ids(self):
        r = self.s.get(self.base + "/hiveboxes", timeout=HTTP_TIMEOUT)
        r.raise_for_status()
        return [sb["id"] for sb in r.json().get("sandboxes", [])]


def expect(r, status, what):
    if r.status_code != status:
        raise BenchError(f"{what}: HTTP {r.status_code}: {r.text[:300]}")
    return r


def create_ok(c, body, what="create"):
    t, r = c.create(body)
    expect(r, 201, what)
    return t, r.json()["id"]


def destroy_ok(c, sid):
    t, r = c.destroy(sid)
    expect(r, 200, f"destroy {sid}")
    return t


def exec_ok(c, sid, command, want_len=None, durations=None):
    """Round-trip ms; durations (a list) also gets the daemon's duration_ms."""
    t, r = c.exec(sid, command)
    expect(r, 200, f"exec {command[:40]!r} in {sid}")
    j = r.json()
    if j.get("exit_code") != 0:
        raise BenchError(f"exec {command[:40]!r} in {sid}: exit {j.get('exit_code')}: "
                         f"{j.get('stderr', '')[:200]}")
    if want_len is not None and len(j.get("stdout", "")) != want_len:
        raise BenchError(f"exec in {sid}: {len(j.get('stdout', ''))} bytes of stdout, "
                         f"expected {want_len}")
    if durations is not None and isinstance(j.get("duration_ms"), (int, float)):
        durations.append(float(j["duration_ms"]))
    return t


def parallel(d, fn, items, workers):
    """fn(client, item) over items with `workers` threads, one keep-alive
    client each; results in order."""
    local = threading.local()

    def run(item):
        if not hasattr(local, "c"):
            local.c = Client(d)
        return fn(local.c, item)

    with cf.ThreadPoolExecutor(max_workers=workers) as ex:
        return list(ex.map(run, items))


def quiet_destroy(c, sid):
    """Destroy, tolerating a dead daemon: cleanup() restarts it and retries."""
    try:
        return c.destroy(sid)
    except requests.RequestException:
        return None
