"""Helpers for the HiveBox end-to-end tests: a real daemon process, a small
API client, sandbox handles, and host-side inspection (cgroups, /proc,
mounts) used by the escape, restart and leak checks.

Nothing here mocks anything: every helper talks to the real daemon over HTTP
or reads the real kernel state of this host.
"""
import base64
import hashlib
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("HIVEBOX_BUILD") or (REPO / "build")).resolve()
# `make check` builds into build-san (ASan+UBSan).
SANITIZED = BUILD.name.endswith("-san")
# The image CI builds once with `build/hivebox image build` (default data dir).
BASE_IMAGE = Path(os.environ.get("HIVEBOX_E2E_BASE_IMAGE", "/var/lib/hivebox/images/base"))

UID_BASE = 0x40000000
UID_RANGE = 65536
CG_ROOT = Path("/sys/fs/cgroup")
CG_V1_CONTROLLERS = ("memory", "cpu", "cpuacct", "pids", "freezer")

# Docker's default capability set minus NET_RAW (see test_escape).
CAP_BITS = (0, 1, 3, 4, 5, 6, 7, 8, 10, 18, 27, 29, 31)
EXPECTED_CAPS = sum(1 << b for b in CAP_BITS)

RFC3339_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")

# Daemons currently running, so a failing test can show their logs.
LIVE_DAEMONS = []

# ---------------------------------------------------------------- secrets in logs
# Every key and token the suite hands a daemon, and every daemon log it
# wrote: at the end of the run (conftest.py) no log line may hold a secret.
SECRETS = set()
DAEMON_LOGS = []
SECRET_FLAGS = ("--api-key", "--e2b-api-key", "--metrics-token", "--webhook-secret")
SECRET_ENV = ("HIVEBOX_API_KEY", "HIVEBOX_E2B_API_KEY", "HIVEBOX_METRICS_TOKEN",
              "HIVEBOX_WEBHOOK_SECRET", "HIVEBOX_OPENCODE_API_KEY")
ANNOUNCE = "hivebox: generated an API key"   # tools/daemon.c prints a new key once, by design


def remember_secret(value):
    if isinstance(value, str) and len(value) >= 8:
        SECRETS.add(value)


def e2b_key_of(admin_key):
    """The E2B key a daemon derives from its admin key (e2b_token.c)."""
    digest = hashlib.sha256(("hivebox e2b api key\n" + admin_key).encode()).hexdigest()
    return "e2b_" + digest[:40]


def redact_argv(argv):
    out = list(argv)
    for i, a in enumerate(out[:-1]):
        if a in SECRET_FLAGS:
            out[i + 1] = "<redacted>"
    return out


def secrets_in_log(path, secrets=None):
    """'path:line: what' for each line of a log that holds a secret (the
    one-time announcement of a generated key excepted)."""
    secrets = sorted(SECRETS if secrets is None else secrets)
    try:
        lines = Path(path).read_text(errors="replace").splitlines()
    except OSError:
        return []
    found = []
    for i, line in enumerate(lines):
        for sec in secrets:
            if sec in line:
                if i > 0 and lines[i - 1].startswith(ANNOUNCE) and line.strip() == sec:
                    continue
                found.append(f"{path}:{i + 1}: holds a secret ({sec[:4]}...): {line[:160]}")
    return found


_PORTS_GIVEN = set()


def free_port():
    """A free loopback port never handed out before in this process: two
    calls in a row (a daemon's HTTP and events ports) may otherwise get the
    same one back from the kernel, as neither is bound yet."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _PORTS_GIVEN:
            _PORTS_GIVEN.add(port)
            return port


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def parse_rfc3339(ts):
    assert isinstance(ts, str) and RFC3339_Z.match(ts), f"not an RFC 3339 UTC timestamp: {ts!r}"
    import calendar
    return calendar.timegm(time.strptime(ts[:19], "%Y-%m-%dT%H:%M:%S"))


def sse_events(resp, chunk_size=1):
    """(event, data, arrival time) for each server-sent event of a streamed
    answer (requests, stream=True); comment lines are skipped. Byte by byte
    by default, so that an event is seen when it arrives; a reader that only
    wants the whole answer passes a large chunk_size (byte by byte, Python
    takes a minute for 2 MiB)."""
    name, data = None, []
    for raw in resp.iter_lines(chunk_size=chunk_size, decode_unicode=False):
        line = raw.decode()
        if line.startswith(":"):
            continue
        if line == "":
            if name is not None:
                yield name, json.loads("\n".join(data)), time.monotonic()
            name, data = None, []
        elif line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: "):
            data.append(line[6:])


def wait_until(pred, timeout, interval=0.1, what="condition"):
    """Poll pred() until it is truthy; return its value or raise AssertionError."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = pred()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")
        time.sleep(interval)


# ---------------------------------------------------------------- daemon

START_MARK = "===== e2e: starting"
PORT_TAKEN = "Address already in use"


class PortTaken(RuntimeError):
    """The daemon exited at start-up because one of its ports was taken."""


class Daemon:
    """One `hivebox daemon` process on its own data dir, ports and key.

    The data dir gets images/base -> the CI-built image, so no test ever
    rebuilds it. stderr goes to a log file (appended across restarts)."""

    def __init__(self, root, name="daemon", key=None, extra_env=None, pass_key=True,
                 extra_args=()):
        self.root = Path(root)
        # pass_key=False starts it with no key at all (no flag, no env): the
        # daemon must generate one and keep it in <data>/api_key.
        self.pass_key = pass_key
        self.extra_args = list(extra_args)
        self.name = name
        self.data_dir = self.root / "data"
        self.log_path = self.root / f"{name}.log"
        self.key = key or ("e2e-" + secrets.token_hex(16))
        self._remember_secrets(extra_args, extra_env)
        DAEMON_LOGS.append(self.log_path)
        # A secret that must never show up inside a sandbox.
        self.env_canary = "HBE2E-" + secrets.token_hex(12)
        self.port = free_port()
        self.events_port = free_port()
        self.proc = None
        self.extra_env = dict(extra_env or {})
        self._prepare()

    def _remember_secrets(self, extra_args, extra_env):
        remember_secret(self.key)
        remember_secret(e2b_key_of(self.key))
        args = list(extra_args)
        for flag, value in zip(args, args[1:]):
            if flag in SECRET_FLAGS:
                remember_secret(value)
        for name in SECRET_ENV:
            remember_secret((extra_env or {}).get(name))

    def _prepare(self):
        self.root.mkdir(parents=True, exist_ok=True)
        os.chmod(self.root, 0o755)
        images = self.data_dir / "images"
        images.mkdir(parents=True, exist_ok=True)
        os.chmod(self.data_dir, 0o755)
        link = images / "base"
        if not link.is_symlink():
            link.symlink_to(BASE_IMAGE)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    @property
    def events(self):
        return f"tcp://127.0.0.1:{self.events_port}"

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def argv(self):
        key = ["--api-key", self.key] if self.pass_key else []
        return [str(BUILD / "hivebox"), "daemon", "--port", str(self.port),
                "--host", "127.0.0.1", *key,
                "--data-dir", str(self.data_dir), "--events", self.events, *self.extra_args]

    def start(self, timeout=60):
        """Start the daemon and wait for /healthz. A first start whose port
        was taken between free_port() and the daemon's bind (another suite
        runs beside this one in CI and picks ports the same way) starts again
        on new ports; a restart keeps its ports, which its clients know."""
        first = self.proc is None
        for attempt in range(3):
            try:
                return self._start_once(timeout)
            except PortTaken:
                if not first or attempt == 2:
                    raise
                self._take_new_ports()

    def _take_new_ports(self):
        old = (f"127.0.0.1:{self.port}", f"127.0.0.1:{self.events_port}")
        self.port, self.events_port = free_port(), free_port()
        new = (f"127.0.0.1:{self.port}", f"127.0.0.1:{self.events_port}")
        # A cluster node advertises its own URL in its arguments.
        for o, n in zip(old, new):
            self.extra_args = [a.replace(o, n) for a in self.extra_args]

    def _start_once(self, timeout):
        env = dict(os.environ)
        env.pop("HIVEBOX_API_KEY", None)
        if self.pass_key:
            env["HIVEBOX_API_KEY"] = self.key
        env["HIVEBOX_E2E_SECRET"] = self.env_canary
        # The daemon's default warm pool (base:none=2) keeps two sandboxes that the
        # suites' leak checks would count; a test that wants a pool asks for one
        # (test_pool.py, which also checks the default).
        env["HIVEBOX_POOL"] = "0"
        env.update(self.extra_env)
        log = open(self.log_path, "ab")
        log.write(f"\n{START_MARK} {' '.join(redact_argv(self.argv()))}\n".encode())
        log.flush()
        self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL, stdout=log,
                                     stderr=subprocess.STDOUT, env=env, start_new_session=True)
        log.close()
        if self not in LIVE_DAEMONS:
            LIVE_DAEMONS.append(self)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                exc = PortTaken if PORT_TAKEN in self.this_start_log() else RuntimeError
                raise exc(f"hivebox daemon exited with {self.proc.returncode} during "
                          f"start-up\n{self.log_tail()}")
            try:
                r = requests.get(self.url + "/healthz", timeout=2)
                if r.status_code == 200:
                    if not self.pass_key:
                        self.key = (self.data_dir / "api_key").read_text().strip()
                        remember_secret(self.key)
                        remember_secret(e2b_key_of(self.key))
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.stop(signal.SIGKILL)
        raise RuntimeError(f"hivebox daemon did not answer /healthz within {timeout}s\n"
                           f"{self.log_tail()}")

    def stop(self, sig=signal.SIGTERM, timeout=30):
        """Signal the daemon and wait for it; returns its exit status."""
        if not self.proc or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
            raise AssertionError(f"daemon ignored {signal.Signals(sig).name} for {timeout}s\n"
                                 f"{self.log_tail()}")
        finally:
            if self.proc.poll() is not None and self in LIVE_DAEMONS:
                LIVE_DAEMONS.remove(self)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log_text(self):
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def this_start_log(self):
        """The log since the last start's marker."""
        text = self.log_text()
        return text[text.rfind(START_MARK):]

    def log_tail(self, n=60):
        lines = self.log_text().splitlines()
        return f"--- {self.log_path} (last {n} lines) ---\n" + "\n".join(lines[-n:])

    def sanitizer_reports(self):
        """Each sanitizer report's lines, from its first line through its
        SUMMARY (at most 60 lines each): a CI log then shows where."""
        pats = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                "ERROR: UndefinedBehaviorSanitizer")
        lines = self.log_text().splitlines()
        out = []
        for i, line in enumerate(lines):
            if not any(p in line for p in pats):
                continue
            out.append(line)
            for more in lines[i + 1:i + 60]:
                if any(p in more for p in pats) or START_MARK in more:
                    break
                out.append(more)
                if "SUMMARY:" in more:
                    break
        return out

    def assert_no_sanitizer_reports(self):
        reports = self.sanitizer_reports()
        assert not reports, "sanitizer reports in the daemon's log:\n" + "\n".join(reports[:200])

    def client(self):
        return Client(self.url, self.key)

    def thread_count(self):
        return len(os.listdir(f"/proc/{self.pid}/task"))

    def fd_count(self):
        return len(os.listdir(f"/proc/{self.pid}/fd"))

    def sandbox_dir(self, sid):
        return self.data_dir / "sandboxes" / sid


# ---------------------------------------------------------------- client

class ApiError(AssertionError):
    pass


# The daemon closes a keep-alive connection idle for 5 s (gateway.c,
# README "Hostile clients"). A request sent on it at that moment meets the
# close and gets no answer (RemoteDisconnected), as with any HTTP/1.1 server;
# clients avoid it by not reusing a connection idle that long (Node's undici
# keeps them 4 s). So does this one.
KEEPALIVE_REUSE_S = 4.0


class Client:
    """A thin requests wrapper holding the key. Not thread-safe: one per thread."""

    def __init__(self, url, key):
        self.url = url
        self.key = key
        self.s = requests.Session()
        self.last = time.monotonic()
        if key is not None:
            self.s.headers["Authorization"] = f"Bearer {key}"

    def close(self):
        self.s.close()

    def request(self, method, path, **kw):
        kw.setdefault("timeout", 120)
        if time.monotonic() - self.last > KEEPALIVE_REUSE_S:
            self.s.close()   # drops pooled connections; the session stays usable
        try:
            return self.s.request(method, self.url + path, **kw)
        finally:
            self.last = time.monotonic()

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def put(self, path, **kw):
        return self.request("PUT", path, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    @staticmethod
    def expect(r, status):
        if r.status_code != status:
            raise ApiError(f"{r.request.method} {r.request.url} -> {r.status_code}, expected "
                           f"{status}: {r.text[:2000]}")
        return r

    # -- sandboxes
    def create(self, **spec):
        r = self.expect(self.post("/api/v1/hiveboxes", json=spec, timeout=180), 201)
        info = r.json()
        remember_secret(info.get("mcp_token"))
        remember_secret(info.get("preview_token"))   # issue 16: derived, shown at create
        return info

    def info(self, sid):
        return self.expect(self.get(f"/api/v1/hiveboxes/{sid}"), 200).json()

    def list(self):
        return self.expect(self.get("/api/v1/hiveboxes"), 200).json()

    def destroy(self, sid, missing_ok=False):
        r = self.delete(f"/api/v1/hiveboxes/{sid}", timeout=120)
        if missing_ok and r.status_code == 404:
            return None
        return self.expect(r, 200).json()

    def exec(self, sid, command, timeout=60, **extra):
        body = {"command": command, "timeout": timeout}
        body.update(extra)
        r = self.post(f"/api/v1/hiveboxes/{sid}/exec", json=body, timeout=timeout + 60)
        return self.expect(r, 200).json()

    # -- files
    def upload(self, sid, path, data):
        r = self.put(f"/api/v1/hiveboxes/{sid}/files", params={"path": path}, data=data)
        return self.expect(r, 200).json()

    def download(self, sid, path, **kw):
        return self.get(f"/api/v1/hiveboxes/{sid}/files", params={"path": path}, **kw)

    def listing(self, sid, path=None):
        params = {} if path is None else {"path": path}
        return self.get(f"/api/v1/hiveboxes/{sid}/files/list", params=params)


class Sandbox:
    """A sandbox created through the API, with shortcuts bound to its id."""

    def __init__(self, client, info, daemon=None):
        self.client = client
        self.info = info
        self.id = info["id"]
        self.daemon = daemon

    def __repr__(self):
        return f"<Sandbox {self.id}>"

    def exec(self, command, timeout=60, **extra):
        return self.client.exec(self.id, command, timeout=timeout, **extra)

    def sh(self, command, timeout=60, **extra):
        """Run command, require exit 0, return stdout."""
        res = self.exec(command, timeout=timeout, **extra)
        assert res["exit_code"] == 0, f"{command!r} failed in {self.id}: {res}"
        return res["stdout"]

    def put(self, path, data):
        if isinstance(data, str):
            data = data.encode()
        return self.client.upload(self.id, path, data)

    def read_inside(self, path):
        """The file's bytes as the sandbox itself sees them (via exec, not the files API)."""
        out = self.sh(f"base64 -w0 {path}")
        return base64.b64decode(out)

    def host_dir(self):
        return self.daemon.sandbox_dir(self.id) if self.daemon else None


def exec(sb, cmd, timeout=60, **extra):  # noqa: A001 - the brief's helper name
    return sb.exec(cmd, timeout=timeout, **extra)


# ---------------------------------------------------------------- host inspection

def proc_status(pid):
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                out[k] = v.strip()
    except OSError:
        return None
    return out


def proc_uid(pid):
    st = proc_status(pid)
    if not st or "Uid" not in st:
        return None
    return int(st["Uid"].split()[0])


def proc_cgroups(pid):
    """{controller: path} from /proc/<pid>/cgroup (v1 lines and the v2 '' line)."""
    res = {}
    try:
        with open(f"/proc/{pid}/cgroup") as f:
            for line in f:
                parts = line.rstrip("\n").split(":", 2)
                if len(parts) == 3:
                    for ctrl in parts[1].split(",") if parts[1] else [""]:
                        res[ctrl] = parts[2]
    except OSError:
        return None
    return res


def read_head(sock):
    """Read from a raw socket until an HTTP response head is complete: the
    bytes so far (the head and whatever followed it). Fails if the daemon
    closes first."""
    got = b""
    while b"\r\n\r\n" not in got:
        part = sock.recv(4096)
        assert part, f"the daemon closed before the head: {got[:200]!r}"
        got += part
    return got


def all_pids():
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


# Sandbox cgroups live at <ctrl>/hivebox/<id> or, with one level per daemon
# instance, <ctrl>/hivebox/<instance>/<id>; both are recognised.
# .../<id> holds init, .../<id>/user its commands (actors/runtime/cgroup.c).
_CG_SANDBOX = re.compile(r"^/hivebox/(?:[^/]+/)?([^/]+)(?:/user)?$")


def hivebox_cgroup_of(pid):
    """The sandbox id whose hivebox cgroup holds pid (pids controller), or None."""
    cg = proc_cgroups(pid)
    if not cg:
        return None
    for ctrl in ("pids", "memory", ""):
        m = _CG_SANDBOX.match(cg.get(ctrl, ""))
        if m:
            return m.group(1)
    return None


def _cg_candidates(top, sid):
    yield top / sid
    if top.is_dir():
        for inst in top.iterdir():
            if inst.is_dir():
                yield inst / sid


def cgroup_dirs(sid):
    """Every existing cgroup dir of a sandbox id (v1 controllers and v2)."""
    found = []
    tops = [CG_ROOT / ctrl / "hivebox" for ctrl in CG_V1_CONTROLLERS]
    tops += [CG_ROOT / "unified" / "hivebox", CG_ROOT / "hivebox"]
    for top in tops:
        for p in _cg_candidates(top, sid):
            if p.is_dir():
                found.append(p)
    return found


def cgroup_dir(ctrl, sid):
    for p in _cg_candidates(CG_ROOT / ctrl / "hivebox", sid):
        if p.is_dir():
            return p
    raise AssertionError(f"no {ctrl} cgroup for sandbox {sid}")


def cgroup_file(ctrl, sid, name):
    return (cgroup_dir(ctrl, sid) / name).read_text().strip()


def init_host_pid(sid):
    """Host pid of the sandbox's PID 1: the process in its cgroup whose
    innermost namespace pid is 1."""
    for pid in all_pids():
        if hivebox_cgroup_of(pid) != sid:
            continue
        st = proc_status(pid)
        if st and st.get("NSpid", "").split()[-1:] == ["1"]:
            return pid
    return None


def mounts_under(path):
    """Host mount namespace entries whose mount point or source lies under path."""
    path = str(path)
    hits = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            mnt = fields[4]
            sep = fields.index("-")
            source = fields[sep + 2] if len(fields) > sep + 2 else ""
            if mnt.startswith(path) or source.startswith(path) or path in line:
                hits.append(line.strip())
    return hits


def sandbox_mounts(data_dir):
    """mounts_under(data_dir) but the daemon's disk pool at <data>/sandboxes,
    which stays mounted while the daemon or any sandbox lives."""
    pool = str(Path(data_dir) / "sandboxes")
    return [m for m in mounts_under(data_dir) if m.split()[4] != pool]


def uid_map_of(text):
    """Parse a uid_map body into [(inside, outside, count)]."""
    rows = []
    for line in text.strip().splitlines():
        a, b, c = (int(x) for x in line.split())
        rows.append((a, b, c))
    return rows


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    st = proc_status(pid)
    return bool(st) and not st.get("State", "").startswith("Z")


UIDSLOT_DIR = Path(os.environ.get("HIVEBOX_E2E_UIDSLOT_DIR", "/run/hivebox/uidslots"))


def uid_slots_owned_by(data_dir, ids):
    """Slot files of the host-wide uid pool still claimed by one of these
    sandboxes of the daemon on data_dir (a claim holds the state dir path)."""
    want = {str(Path(data_dir) / "sandboxes" / sid) for sid in ids}
    left = []
    if not UIDSLOT_DIR.is_dir():
        return left
    for p in UIDSLOT_DIR.iterdir():
        try:
            owner = p.read_text().strip()
        except OSError:
            continue
        if owner in want:
            left.append((p.name, owner))
    return left


def asan_quarantine_env(mb=16):
    """Under AddressSanitizer (make check) every freed block waits in a
    256 MiB quarantine before it is reused: that is ASan's memory, not
    ours, so the measured daemons keep a small one. Ignored by a normal
    build."""
    opts = os.environ.get("ASAN_OPTIONS", "")
    return {"ASAN_OPTIONS": f"{opts}{':' if opts else ''}quarantine_size_mb={mb}"}
