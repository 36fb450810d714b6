"""The HTTP client side: one keep-alive session per thread, checked calls."""

import concurrent.futures as cf
import threading

import requests

from bench_common import HTTP_TIMEOUT, BenchError, timed

# ---- the client -----------------------------------------------------------

class Client:
    """One keep-alive session; not shared between threads."""

    def __init__(self, d):
        self.base = d.url + "/api/v1"
        self.s = requests.Session()
        self.s.headers["Authorization"] = f"Bearer {d.key}"

    def create(self, body):
        t, r = timed(self.s.post, self.base + "/hiveboxes", json=body, timeout=HTTP_TIMEOUT)
        return t, r

    def destroy(self, sid):
        return timed(self.s.delete, f"{self.base}/hiveboxes/{sid}", timeout=HTTP_TIMEOUT)

    def exec(self, sid, command):
        return timed(self.s.post, f"{self.base}/hiveboxes/{sid}/exec",
                     json={"command": command}, timeout=HTTP_TIMEOUT)

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
