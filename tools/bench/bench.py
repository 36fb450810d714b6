#!/usr/bin/python3
"""HiveBox benchmark: the daemon measured through its HTTP API, beside a
bubblewrap baseline taken in the same run on the same machine.

    make bench                      # full run (N=100, density 100 and 1,000)
    make bench-quick                # tiny N, density 10: keeps the harness working
    /usr/bin/python3 tools/bench/bench.py --help

The harness starts its own daemon (build/hivebox daemon) on free loopback
ports with a random API key and a throw-away data dir whose images/base is a
symlink to an existing image (no image is ever built here), waits for
/healthz, then measures as a client would, with keep-alive sessions:

  create (network none; isolated when the daemon accepts it), exec `true`
  and a 1 MiB print, upload/download of a large file, destroy, creates per
  second with 8 concurrent clients, and the idle cost of 100 and 1,000 live
  sandboxes (MemAvailable and the daemon's RSS), each still answering exec.

Baselines, timed the same way (wall clock around one call, perf_counter):
  bwrap --unshare-all --die-with-parent --ro-bind / / --proc /proc --dev /dev true
  plain fork+exec of `true`
and for density, N idle `bwrap ... sleep` processes.

Timings are reported, never asserted: the exit status is non-zero only when
the harness itself could not run (no daemon, no image, an API error).
Only the Python standard library and python3-requests are used.
"""

import argparse
import concurrent.futures as cf
import json
import os
import platform
import resource
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback

try:
    import requests
except ImportError:  # pragma: no cover - a clear message beats a traceback
    sys.exit("bench: python3-requests is missing (apt-get install python3-requests)")

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEFAULT_IMAGE = "/var/lib/hivebox/images/base"
BWRAP_ARGS = ["--unshare-all", "--die-with-parent", "--ro-bind", "/", "/",
              "--proc", "/proc", "--dev", "/dev"]
MIB = 1024 * 1024
HTTP_TIMEOUT = 120


class BenchError(Exception):
    """The harness cannot go on (as opposed to a slow figure)."""


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ---- statistics ---------------------------------------------------------

def pct(sorted_ms, p):
    """Nearest-rank percentile of an ascending list."""
    if not sorted_ms:
        return None
    k = max(0, min(len(sorted_ms) - 1, -(-p * len(sorted_ms) // 100) - 1))
    return sorted_ms[int(k)]


def dist(samples_ms):
    s = sorted(samples_ms)
    return {"n": len(s), "p50": pct(s, 50), "p90": pct(s, 90), "p99": pct(s, 99),
            "min": s[0] if s else None, "max": s[-1] if s else None,
            "mean": sum(s) / len(s) if s else None, "samples_ms": [round(x, 3) for x in samples_ms]}


def timed(fn, *a, **kw):
    t0 = time.perf_counter_ns()
    r = fn(*a, **kw)
    return (time.perf_counter_ns() - t0) / 1e6, r


# ---- the machine ----------------------------------------------------------

def meminfo():
    out = {}
    with open("/proc/meminfo") as f:
        for line in f:
            k, v = line.split(":", 1)
            out[k] = int(v.split()[0]) * 1024
    return out


def mem_available():
    return meminfo()["MemAvailable"]


def cgroup_version():
    if os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
        return "v2"
    if os.path.ismount("/sys/fs/cgroup/unified"):
        return "v1 (hybrid)"
    return "v1"


def cmd_out(argv):
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def machine_info():
    model = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    rev = cmd_out(["git", "-C", REPO, "rev-parse", "--short", "HEAD"])
    dirty = cmd_out(["git", "-C", REPO, "status", "--porcelain", "--untracked-files=no"])
    return {
        "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "hostname": platform.node(),
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "mem_total_bytes": meminfo()["MemTotal"],
        "kernel": platform.release(),
        "cgroup": cgroup_version(),
        "bwrap": cmd_out(["bwrap", "--version"]),
        "python": platform.python_version(),
        "requests": requests.__version__,
        "hivebox_rev": rev + ("-dirty" if dirty else ""),
        "loadavg_start": os.getloadavg(),
    }


def proc_status(pid):
    """VmRSS (bytes), Threads and open fds of a process, or {} if gone."""
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    out["rss_bytes"] = int(line.split()[1]) * 1024
                elif line.startswith("Threads:"):
                    out["threads"] = int(line.split()[1])
        out["fds"] = len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        pass
    return out


def pss_bytes(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---- the daemon -----------------------------------------------------------

def bench_subnet(bridge):
    """The bridge's own /16 if it exists, else the first 10.x.0.0/16 no
    interface on this host uses (x from 200 up)."""
    out = cmd_out(["ip", "-4", "-o", "addr", "show"])
    used = set()
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 4 and f[2] == "inet":
            a = f[3].split("/")[0].split(".")
            if f[1] == bridge:
                return f"{a[0]}.{a[1]}.0.0/16"
            if a[0] == "10":
                used.add(int(a[1]))
    for x in range(200, 255):
        if x not in used:
            return f"10.{x}.0.0/16"
    raise BenchError("no free 10.x.0.0/16 for the benchmark's bridge: pass --subnet")


class Daemon:
    """build/hivebox daemon on loopback with its own data dir and key."""

    def __init__(self, args):
        self.binary = os.path.join(args.build, "hivebox")
        self.init_bin = os.path.join(args.build, "hivebox-init")
        for b in (self.binary, self.init_bin):
            if not os.access(b, os.X_OK):
                raise BenchError(f"{b} is missing: run `make` first")
        self.image = os.path.abspath(args.image)
        if not os.path.isdir(os.path.join(self.image, "rootfs")):
            raise BenchError(
                f"no image at {self.image} (expected {self.image}/rootfs): the benchmark never "
                "builds one. Build it once with `hivebox image build` on the default data dir, "
                "or point --image at a directory holding rootfs/")
        self.owned_dir = args.data_dir is None
        self.data_dir = args.data_dir or tempfile.mkdtemp(prefix="hivebox-bench-", dir="/var/tmp")
        # mkdtemp makes it 0700; the sandboxes' own root (an unprivileged
        # host uid) must be able to walk through it to its layers.
        os.chmod(self.data_dir, 0o755)
        os.makedirs(os.path.join(self.data_dir, "images"), exist_ok=True)
        link = os.path.join(self.data_dir, "images", "base")
        if not os.path.lexists(link):
            os.symlink(self.image, link)
        self.key = secrets.token_hex(16)
        self.port = free_port()
        self.events = f"tcp://127.0.0.1:{free_port()}"
        self.url = f"http://127.0.0.1:{self.port}"
        self.wrapper = shlex.split(args.daemon_wrapper) if args.daemon_wrapper else []
        self.opencode = args.opencode
        self.nofile = args.nofile
        self.bridge = args.bridge
        self.extra_env = args.daemon_env
        self.subnet = args.subnet or bench_subnet(args.bridge)
        self.proc = None
        self.logf = None

    def argv(self):
        return self.wrapper + [self.binary, "daemon", "--port", str(self.port), "--host",
                               "127.0.0.1", "--api-key", self.key, "--data-dir", self.data_dir,
                               "--events", self.events]

    def _limits(self):
        # Runs in the child before exec: 1,000 sandboxes need more fds than
        # a login shell's default 1,024.
        hard = max(self.nofile, resource.getrlimit(resource.RLIMIT_NOFILE)[1])
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (self.nofile, hard))
        except (ValueError, OSError):
            pass

    def start(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("HIVEBOX_")}
        if not self.opencode:
            env["HIVEBOX_OPENCODE"] = "false"  # measure the sandbox, not the agent
        # Its own bridge: another daemon on this host may own hivebox0.
        env["HIVEBOX_BRIDGE"], env["HIVEBOX_SUBNET"] = self.bridge, self.subnet
        for kv in self.extra_env:
            k, _, v = kv.partition("=")
            env[k] = v
        self.logf = open(os.path.join(self.data_dir, "daemon.log"), "ab")
        log(f"starting daemon on {self.url} (data dir {self.data_dir})")
        self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL, stdout=self.logf,
                                     stderr=subprocess.STDOUT, env=env, preexec_fn=self._limits)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(f"daemon exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                r = requests.get(self.url + "/healthz", timeout=2)
                if r.status_code == 200:
                    log(f"daemon healthy (pid {self.pid()})")
                    return
            except requests.RequestException:
                pass
            time.sleep(0.05)
        raise BenchError(f"daemon not healthy after 60 s:\n{self.log_tail()}")

    def pid(self):
        """The hivebox process itself, even under a wrapper such as strace."""
        if not self.proc:
            return None
        if not self.wrapper:
            return self.proc.pid
        todo = [self.proc.pid]
        real = os.path.realpath(self.binary)
        while todo:
            p = todo.pop()
            try:
                if os.path.realpath(f"/proc/{p}/exe") == real:
                    return p
                with open(f"/proc/{p}/task/{p}/children") as f:
                    todo += [int(c) for c in f.read().split()]
            except OSError:
                continue
        return None

    def status(self):
        pid = self.pid()
        return proc_status(pid) if pid else {}

    def log_tail(self, n=40):
        try:
            with open(os.path.join(self.data_dir, "daemon.log"), "rb") as f:
                return b"\n".join(f.read().splitlines()[-n:]).decode(errors="replace")
        except OSError:
            return ""

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        if not self.proc:
            return
        if self.proc.poll() is None:
            # The daemon itself, not a wrapper such as strace that would
            # detach and leave it running.
            try:
                os.kill(self.pid() or self.proc.pid, signal.SIGTERM)
            except OSError:
                pass
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                log("daemon ignored SIGTERM for 20 s: SIGKILL")
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        if self.logf:
            self.logf.close()
            self.logf = None

    def init_pids(self):
        """(id, init pid) of every sandbox record in the data dir."""
        out = []
        base = os.path.join(self.data_dir, "sandboxes")
        for sid in os.listdir(base) if os.path.isdir(base) else []:
            try:
                with open(os.path.join(base, sid, "sandbox.json")) as f:
                    rec = json.load(f)
                out.append((sid, int(rec["init_pid"]), int(rec.get("init_start", 0))))
            except (OSError, ValueError, KeyError):
                continue
        return out


def cgroup_instance(data_dir):
    """The daemon's cgroup for all its sandboxes: hivebox/<FNV-1a of the data
    dir> (actors/runtime/cgroup.c), or None if not found."""
    for path in (os.path.realpath(data_dir), data_dir):
        h = 1469598103934665603
        for b in path.encode():
            h = ((h ^ b) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
        for d in (f"/sys/fs/cgroup/memory/hivebox/{h:016x}", f"/sys/fs/cgroup/hivebox/{h:016x}"):
            if os.path.isdir(d):
                return d
    return None


def cgroup_memory(cg_dir):
    """Memory charged to a cgroup and its children (user + kernel), bytes."""
    for f in ("memory.usage_in_bytes", "memory.current"):
        try:
            with open(os.path.join(cg_dir, f)) as fh:
                return int(fh.read())
        except (OSError, ValueError, TypeError):
            continue
    return None


def proc_starttime(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


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


def exec_ok(c, sid, command, want_len=None):
    t, r = c.exec(sid, command)
    expect(r, 200, f"exec {command[:40]!r} in {sid}")
    j = r.json()
    if j.get("exit_code") != 0:
        raise BenchError(f"exec {command[:40]!r} in {sid}: exit {j.get('exit_code')}: "
                         f"{j.get('stderr', '')[:200]}")
    if want_len is not None and len(j.get("stdout", "")) != want_len:
        raise BenchError(f"exec in {sid}: {len(j.get('stdout', ''))} bytes of stdout, "
                         f"expected {want_len}")
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


# ---- baselines -----------------------------------------------------------

def bwrap_argv(cmd):
    return ["bwrap"] + BWRAP_ARGS + cmd


def run_checked(argv):
    subprocess.run(argv, check=True, stdin=subprocess.DEVNULL)


def bwrap_once():
    return timed(run_checked, bwrap_argv([shutil.which("true")]))[0]


def fork_exec_once():
    return timed(run_checked, [shutil.which("true")])[0]


class Interleave:
    """Baseline samples taken between the measured HiveBox calls, so both see
    the same machine load; a no-op when the baseline section is off."""

    def __init__(self, on):
        self.on, self.bwrap, self.fork_exec = on, [], []

    def sample(self, fork_exec=False):
        if self.on:
            self.bwrap.append(bwrap_once())
            if fork_exec:
                self.fork_exec.append(fork_exec_once())


def bench_baseline(args, res):
    if not shutil.which("bwrap"):
        raise BenchError("bwrap is missing (apt-get install bubblewrap): no baseline")
    true_bin = shutil.which("true")
    for _ in range(3):
        run_checked(bwrap_argv([true_bin]))
    res["bwrap_alone"] = dist([bwrap_once() for _ in range(args.n)])
    res["fork_exec_true_alone"] = dist([fork_exec_once() for _ in range(args.n)])
    res["bwrap"], res["fork_exec_true"] = res["bwrap_alone"], res["fork_exec_true_alone"]
    total = args.concurrent_total
    t0 = time.perf_counter()
    with cf.ThreadPoolExecutor(max_workers=args.concurrency) as ex:
        list(ex.map(lambda _: run_checked(bwrap_argv([true_bin])), range(total)))
    res["bwrap_concurrent"] = {"runs": total, "clients": args.concurrency,
                               "per_s": total / (time.perf_counter() - t0)}
    log(f"bwrap alone p50 {res['bwrap']['p50']:.2f} ms, fork+exec p50 "
        f"{res['fork_exec_true']['p50']:.2f} ms")


def bwrap_idle_cost(count, settle):
    """MemAvailable drop per idle `bwrap ... sleep` sandbox."""
    before = mem_available()
    procs = [subprocess.Popen(bwrap_argv(["sleep", "100000"]), stdin=subprocess.DEVNULL)
             for _ in range(count)]
    time.sleep(settle)
    after = mem_available()
    for p in procs:
        p.kill()
    for p in procs:
        p.wait()
    return {"count": count, "per_sandbox_bytes": (before - after) / count}


# ---- HiveBox sections ----------------------------------------------------

def bench_create_destroy(args, d, res, notes):
    c = Client(d)
    # Warm-up (not measured): first create pays cold caches.
    for _ in range(2):
        _, sid = create_ok(c, {"network": "none"})
        exec_ok(c, sid, "true")
        destroy_ok(c, sid)
    times, ids = [], []
    for _ in range(args.n):
        args.baseline.sample()
        t, sid = create_ok(c, {"network": "none"})
        times.append(t)
        ids.append(sid)
    res["create_none"] = dist(times)
    res["destroy"] = dist([destroy_ok(c, sid) for sid in ids])
    log(f"create p50 {res['create_none']['p50']:.1f} ms, destroy p50 {res['destroy']['p50']:.1f} ms")

    t, r = c.create({"network": "isolated"})
    if r.status_code == 400:
        notes.append(f"network isolated: not measured, the daemon answered 400: {r.text[:200]}")
        return
    if r.status_code != 201:
        notes.append(f"network isolated: not measured, HTTP {r.status_code}: {r.text[:200]}")
        return
    destroy_ok(c, r.json()["id"])
    times, ids = [], []
    for _ in range(args.n):
        t, sid = create_ok(c, {"network": "isolated"}, "create isolated")
        times.append(t)
        ids.append(sid)
    res["create_isolated"] = dist(times)
    res["destroy_isolated"] = dist([destroy_ok(c, sid) for sid in ids])


def bench_exec(args, d, res, notes):
    c = Client(d)
    _, sid = create_ok(c, {"network": "none"})
    try:
        for _ in range(5):
            exec_ok(c, sid, "true")
        times = []
        for _ in range(args.n):
            args.baseline.sample(fork_exec=True)
            times.append(exec_ok(c, sid, "true"))
        res["exec_true"] = dist(times)
        big = "head -c 1048576 /dev/zero | tr '\\000' a"
        exec_ok(c, sid, big, MIB)
        res["exec_1mib"] = dist([exec_ok(c, sid, big, MIB) for _ in range(max(5, args.n // 4))])
        log(f"exec true p50 {res['exec_true']['p50']:.2f} ms, 1 MiB p50 "
            f"{res['exec_1mib']['p50']:.2f} ms")
    finally:
        destroy_ok(c, sid)


class FileRoundTrip(BenchError):
    """The server refused the upload (e.g. 413): reported, not fatal."""


def file_round_trips(session, url, params, payload, reps):
    """Upload then download payload reps times; MB/s (10^6 bytes/s) of each."""
    size = len(payload)
    up, down = [], []
    for _ in range(reps):
        t, r = timed(session.put, url, params=params, data=payload, timeout=HTTP_TIMEOUT,
                     headers={"Content-Type": "application/octet-stream"})
        if r.status_code == 413:
            raise FileRoundTrip(f"upload of {size // MIB} MiB refused with 413: {r.text[:200]}")
        expect(r, 200, "upload")
        up.append(size / (t / 1000) / 1e6)

        # Compared chunk by chunk as it arrives (startswith: a memcmp, no copy):
        # keeping 100 MiB of fresh chunks would time page faults, not the server.
        t0 = time.perf_counter_ns()
        r = session.get(url, params=params, stream=True, timeout=HTTP_TIMEOUT)
        expect(r, 200, "download")
        got, same = 0, True
        for chunk in r.iter_content(MIB):
            same = same and payload.startswith(chunk, got)
            got += len(chunk)
        t = (time.perf_counter_ns() - t0) / 1e6
        if got != size or not same:
            raise BenchError(f"download differs from what was uploaded ({got} of {size} bytes)")
        down.append(size / (t / 1000) / 1e6)
    return up, down


def throughput(up, down, size):
    def one(v):
        return {"bytes": size, "reps": len(v), "mb_s": sorted(v)[len(v) // 2], "all_mb_s": v}
    return one(up), one(down)


# A loopback server in its own process: it discards uploads and answers
# downloads with sendfile(2), so it is never the bottleneck and shows what
# this Python client can move at most.
CEILING_SERVER = r"""
import os, socket, sys
path = sys.argv[1]
size = os.path.getsize(path)
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(1)
print(srv.getsockname()[1], flush=True)
c, _ = srv.accept()
c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
f = c.makefile("rb")
buf = memoryview(bytearray(1 << 20))
while True:
    head = [f.readline()]
    if not head[0]:
        break
    while head[-1] not in (b"\r\n", b""):
        head.append(f.readline())
    if head[0].startswith(b"PUT"):
        left = [int(h.split(b":")[1]) for h in head if h.lower().startswith(b"content-length")][0]
        while left:
            left -= f.readinto(buf[:min(left, len(buf))])
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
    else:
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size)
        with open(path, "rb") as src:
            c.sendfile(src)
"""


def client_ceiling(payload, reps):
    with tempfile.NamedTemporaryFile(dir="/var/tmp", prefix="hivebox-bench-") as tf:
        tf.write(payload)
        tf.flush()
        srv = subprocess.Popen([sys.executable, "-c", CEILING_SERVER, tf.name],
                               stdout=subprocess.PIPE, text=True)
        try:
            port = int(srv.stdout.readline())
            with requests.Session() as s:
                return file_round_trips(s, f"http://127.0.0.1:{port}/x", {}, payload, reps)
        finally:
            srv.kill()
            srv.wait()


def bench_files(args, d, res, notes):
    c = Client(d)
    size = args.file_mib * MIB
    payload = os.urandom(size)
    up, down = client_ceiling(payload, args.file_reps)
    res["client_ceiling_upload"], res["client_ceiling_download"] = throughput(up, down, size)
    _, sid = create_ok(c, {"network": "none"})
    try:
        up, down = file_round_trips(c.s, f"{c.base}/hiveboxes/{sid}/files",
                                    {"path": "/root/bench.bin"}, payload, args.file_reps)
        res["upload"], res["download"] = throughput(up, down, size)
        log(f"upload {res['upload']['mb_s']:.0f} MB/s, download {res['download']['mb_s']:.0f} "
            f"MB/s (client ceiling {res['client_ceiling_upload']['mb_s']:.0f} / "
            f"{res['client_ceiling_download']['mb_s']:.0f})")
    except FileRoundTrip as ex:
        notes.append(str(ex))
    finally:
        destroy_ok(c, sid)


def bench_concurrent(args, d, res, notes):
    total, workers = args.concurrent_total, args.concurrency
    t0 = time.perf_counter()
    out = parallel(d, lambda c, _: create_ok(c, {"network": "none"}), range(total), workers)
    wall = time.perf_counter() - t0
    ids = [sid for _, sid in out]
    t0 = time.perf_counter()
    dts = parallel(d, destroy_ok, ids, workers)
    dwall = time.perf_counter() - t0
    res["create_concurrent"] = {"creates": total, "clients": workers, "per_s": total / wall,
                                "latency": dist([t for t, _ in out])}
    res["destroy_concurrent"] = {"destroys": total, "clients": workers, "per_s": total / dwall,
                                 "latency": dist(dts)}
    log(f"{workers} clients: {total / wall:.1f} creates/s, {total / dwall:.1f} destroys/s")


def quiet_destroy(c, sid):
    """Destroy, tolerating a dead daemon: cleanup() restarts it and retries."""
    try:
        return c.destroy(sid)
    except requests.RequestException:
        return None


def check_exec(d, ids, args):
    """How many of ids answer `true` (all, or a spread-out sample)."""
    if args.density_check and args.density_check < len(ids):
        step = len(ids) / args.density_check
        ids = [ids[int(i * step)] for i in range(args.density_check)]

    def one(c, sid):
        try:
            exec_ok(c, sid, "true")
            return True
        except (BenchError, requests.RequestException):
            return False

    ok = parallel(d, one, ids, args.concurrency)
    return sum(ok), len(ok)


def bench_density(args, d, res, notes):
    levels = sorted(args.density)
    c = Client(d)
    leftover = c.list_ids()
    if leftover:
        raise BenchError(f"density needs an empty daemon; {len(leftover)} sandboxes are alive")
    res["bwrap_idle"] = bwrap_idle_cost(min(100, levels[0]), args.settle)
    time.sleep(args.settle)
    mem0, st0 = mem_available(), d.status()
    out = {"mem_available_before": mem0, "daemon_before": st0, "levels": []}
    res["density"] = out
    ids = []
    try:
        for level in levels:
            need = level - len(ids)
            t0 = time.perf_counter()

            def mk(cl, _):
                try:
                    return create_ok(cl, {"network": "none"})[1]
                except (BenchError, requests.RequestException) as ex:
                    return ex

            made = parallel(d, mk, range(need), args.concurrency)
            wall = time.perf_counter() - t0
            errs = [m for m in made if not isinstance(m, str)]
            ids += [m for m in made if isinstance(m, str)]
            time.sleep(args.settle)
            answering, checked = check_exec(d, ids, args)
            time.sleep(1)
            mem1, st = mem_available(), d.status()
            pss = [pss_bytes(pid) for _, pid, _ in d.init_pids()]
            pss = [p for p in pss if p is not None]
            cgm = cgroup_memory(cgroup_instance(d.data_dir))
            row = {"target": level, "alive": len(ids), "create_errors": len(errs),
                   "first_error": str(errs[0])[:300] if errs else None,
                   "creates_per_s": need / wall if wall else None,
                   "exec_checked": checked, "exec_answered": answering,
                   "mem_available": mem1,
                   "idle_cost_per_sandbox_bytes": (mem0 - mem1) / len(ids) if ids else None,
                   "daemon": st, "init_pss_mean_bytes": sum(pss) / len(pss) if pss else None,
                   "cgroup_charged_per_sandbox_bytes": cgm / len(ids) if cgm and ids else None}
            out["levels"].append(row)
            log(f"{len(ids)} alive ({len(errs)} create errors): "
                f"{(mem0 - mem1) / max(1, len(ids)) / MIB:.2f} MiB each, daemon RSS "
                f"{st.get('rss_bytes', 0) / MIB:.1f} MiB, exec {answering}/{checked}")
            if errs:
                notes.append(f"density stopped at {len(ids)} sandboxes: {str(errs[0])[:200]}")
                break
    finally:
        t0 = time.perf_counter()
        parallel(d, quiet_destroy, ids, args.concurrency)
        out["destroy_all_s"] = time.perf_counter() - t0
        time.sleep(args.settle)
        out["mem_available_after_destroy"] = mem_available()
        out["daemon_after_destroy"] = d.status()


# ---- cleanup ---------------------------------------------------------------

def cleanup(d, args):
    """Destroy every sandbox of this daemon: they outlive it by design."""
    try:
        if not d.alive():
            log("daemon is gone: restarting it on the same data dir to clean up")
            d.start()
        ids = Client(d).list_ids()
        if ids:
            log(f"destroying {len(ids)} leftover sandboxes")
            parallel(d, quiet_destroy, ids, args.concurrency)
    except (BenchError, requests.RequestException, OSError) as ex:
        log(f"cleanup through the API failed: {ex}")
    finally:
        d.stop()
    # Last resort: kill inits the API could not reach (pid checked against
    # its recorded start time, so a recycled pid is never hit).
    left = 0
    for sid, pid, start in d.init_pids():
        if proc_starttime(pid) == start and start:
            left += 1
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
    if left:
        log(f"WARNING: killed {left} sandbox inits by hand; their cgroups may remain "
            f"under /sys/fs/cgroup/*/hivebox. Data dir kept: {d.data_dir}")
        return
    if d.owned_dir and not args.keep_data_dir:
        shutil.rmtree(d.data_dir, ignore_errors=True)
    else:
        log(f"data dir kept: {d.data_dir}")


# ---- the report ------------------------------------------------------------

def ms(x):
    return "-" if x is None else f"{x:.2f} ms"


def ratio(a, b):
    return None if a is None or not b or b <= 0 else a / b


def build_rows(res):
    """(figure, value text, value, baseline text, ratio, target text, met) rows."""
    b = res.get("bwrap", {})
    rows = []

    def timing(name, key, target=None):
        d = res.get(key)
        if not d:
            return
        for p in ("p50", "p90", "p99"):
            tgt, met = None, None
            if target and p == "p50":
                tgt, met = target(d[p])
            rows.append((f"{name} {p}", ms(d[p]), d[p], f"bwrap {p} {ms(b.get(p))}",
                         ratio(d[p], b.get(p)), tgt, met))

    for p in ("p50", "p90", "p99"):
        rows.append((f"baseline bwrap true {p}", ms(b.get(p)), b.get(p), "", 1.0 if b else None,
                     None, None))
    f = res.get("fork_exec_true")
    if f:
        rows.append(("baseline fork+exec true p50", ms(f["p50"]), f["p50"],
                     f"bwrap p50 {ms(b.get('p50'))}", ratio(f["p50"], b.get("p50")), None, None))
    timing("create (network none)", "create_none",
           lambda v: ("<= 2x bwrap p50", ratio(v, b.get("p50")) is not None and
                      ratio(v, b.get("p50")) <= 2))
    timing("create (network isolated)", "create_isolated")
    timing("exec true", "exec_true",
           lambda v: ("<= 1x bwrap p50", ratio(v, b.get("p50")) is not None and
                      ratio(v, b.get("p50")) <= 1))
    timing("exec printing 1 MiB", "exec_1mib")
    timing("destroy", "destroy", lambda v: ("<= 10 ms", v <= 10))
    timing("destroy (isolated)", "destroy_isolated")
    for key in ("upload", "download"):
        if key in res:
            v = res[key]["mb_s"]
            ceil = res.get(f"client_ceiling_{key}", {}).get("mb_s")
            rows.append((f"{key} {res[key]['bytes'] // MIB} MiB", f"{v:.0f} MB/s", v,
                         f"client ceiling {ceil:.0f} MB/s" if ceil else "", ratio(v, ceil),
                         ">= 200 MB/s", v >= 200))
    cc, bc = res.get("create_concurrent"), res.get("bwrap_concurrent")
    if cc:
        rows.append((f"creates/s, {cc['clients']} clients", f"{cc['per_s']:.1f} /s", cc["per_s"],
                     f"bwrap {bc['per_s']:.1f} /s" if bc else "",
                     ratio(cc["per_s"], bc["per_s"] if bc else None), None, None))
        dc = res["destroy_concurrent"]
        rows.append((f"destroys/s, {dc['clients']} clients", f"{dc['per_s']:.1f} /s",
                     dc["per_s"], "", None, None, None))
    den, bi = res.get("density"), res.get("bwrap_idle")
    for lv in (den or {}).get("levels", []):
        n = lv["alive"]
        cost = lv["idle_cost_per_sandbox_bytes"]
        bcost = bi["per_sandbox_bytes"] if bi else None
        thousand = lv["target"] >= 1000
        rows.append((f"idle cost per sandbox @{n}", f"{cost / MIB:.2f} MiB" if cost else "-",
                     cost, f"bwrap {bcost / MIB:.2f} MiB" if bcost else "", ratio(cost, bcost),
                     "<= 3 MiB" if thousand else None,
                     (cost is not None and cost <= 3 * MIB and n >= 1000) if thousand else None))
        cg, pss = lv.get("cgroup_charged_per_sandbox_bytes"), lv.get("init_pss_mean_bytes")
        if cg:
            rows.append((f"cgroup-charged memory per sandbox @{n}", f"{cg / MIB:.2f} MiB", cg,
                         "", None, None, None))
        if pss:
            rows.append((f"init PSS per sandbox @{n}", f"{pss / MIB:.2f} MiB", pss, "", None,
                         None, None))
        rss = lv["daemon"].get("rss_bytes")
        rows.append((f"daemon RSS @{n}", f"{rss / MIB:.1f} MiB" if rss else "-", rss, "", None,
                     "< 200 MiB" if thousand else None,
                     (rss is not None and rss < 200 * MIB) if thousand else None))
        ok = lv["exec_answered"] == lv["exec_checked"] and lv["alive"] >= lv["target"]
        rows.append((f"answering exec @{n}", f"{lv['exec_answered']}/{lv['exec_checked']}",
                     lv["exec_answered"], "", None, f"all of {lv['target']}" if thousand else None,
                     ok if thousand else None))
    return rows


def fmt_ratio(r):
    return "-" if r is None else f"{r:.2f}x"


def fmt_met(m):
    return "" if m is None else ("met" if m else "NOT met")


def print_table(rows, out=sys.stdout):
    head = ("figure", "value", "baseline", "ratio", "target", "")
    body = [(r[0], r[1], r[3], fmt_ratio(r[4]), r[5] or "", fmt_met(r[6])) for r in rows]
    w = [max(len(str(x[i])) for x in [head] + body) for i in range(len(head))]
    for line in [head] + body:
        print("  ".join(str(x).ljust(w[i]) for i, x in enumerate(line)).rstrip(), file=out)


def markdown_table(rows):
    lines = ["| figure | value | baseline | ratio to baseline | target | status |",
             "|---|---:|---|---:|---|---|"]
    for r in rows:
        lines.append(f"| {r[0]} | {r[1]} | {r[3]} | {fmt_ratio(r[4])} | {r[5] or ''} | "
                     f"{fmt_met(r[6])} |")
    return "\n".join(lines) + "\n"


# ---- main --------------------------------------------------------------------

SECTIONS = ("baseline", "create", "exec", "files", "concurrent", "density")


def parse_args(argv):
    p = argparse.ArgumentParser(description="HiveBox benchmark beside a bubblewrap baseline "
                                "(timings are reported, never asserted)")
    p.add_argument("--n", type=int, default=100, help="runs per latency figure (default 100)")
    p.add_argument("--quick", action="store_true",
                   help="tiny run for CI: N=5, density 10, 8 MiB file, 8 concurrent creates")
    p.add_argument("--json", default=None, help="write results here (default build/bench.json)")
    p.add_argument("--markdown", default=None, help="also write the table as Markdown here")
    p.add_argument("--build", default=os.path.join(REPO, "build"),
                   help="where hivebox and hivebox-init are (default build/)")
    p.add_argument("--image", default=DEFAULT_IMAGE,
                   help=f"image dir holding rootfs/, linked as images/base (default {DEFAULT_IMAGE})")
    p.add_argument("--data-dir", default=None,
                   help="daemon data dir (default: a fresh /var/tmp/hivebox-bench-*, removed after)")
    p.add_argument("--keep-data-dir", action="store_true")
    p.add_argument("--skip-density", action="store_true")
    p.add_argument("--density", default="100,1000",
                   help="comma-separated live-sandbox counts (default 100,1000)")
    p.add_argument("--density-check", type=int, default=0,
                   help="exec-check this many sandboxes per level (default 0: all)")
    p.add_argument("--file-mib", type=int, default=100, help="upload/download size (default 100)")
    p.add_argument("--file-reps", type=int, default=3)
    p.add_argument("--concurrency", type=int, default=8, help="concurrent clients (default 8)")
    p.add_argument("--concurrent-total", type=int, default=48,
                   help="creates issued by the concurrent clients (default 48)")
    p.add_argument("--only", default=",".join(SECTIONS),
                   help=f"sections to run, comma-separated from {','.join(SECTIONS)}")
    p.add_argument("--settle", type=float, default=2.0,
                   help="seconds to let memory settle before reading it (default 2)")
    p.add_argument("--daemon-wrapper", default="",
                   help="prefix for the daemon command, e.g. 'strace -c -f -o /tmp/st.txt'")
    p.add_argument("--opencode", action="store_true",
                   help="leave OpenCode on (default: HIVEBOX_OPENCODE=false)")
    p.add_argument("--nofile", type=int, default=65536, help="RLIMIT_NOFILE of the daemon")
    p.add_argument("--daemon-env", action="append", default=[], metavar="KEY=VALUE",
                   help="extra environment for the daemon (repeatable)")
    p.add_argument("--bridge", default="hbbench0",
                   help="HIVEBOX_BRIDGE of the benchmark's daemon (default hbbench0)")
    p.add_argument("--subnet", default=None,
                   help="HIVEBOX_SUBNET (default: the bridge's, else a free 10.x.0.0/16)")
    a = p.parse_args(argv)
    if a.quick:
        a.n = min(a.n, 5)
        a.density = "10"
        a.file_mib = min(a.file_mib, 8)
        a.file_reps = 1
        a.concurrent_total = min(a.concurrent_total, 8)
        a.settle = min(a.settle, 0.5)
    a.density = [int(x) for x in a.density.split(",") if x.strip()]
    a.only = set(x.strip() for x in a.only.split(",") if x.strip())
    bad = a.only - set(SECTIONS)
    if bad:
        p.error(f"unknown sections: {', '.join(sorted(bad))}")
    if a.skip_density:
        a.only.discard("density")
    if a.json is None:
        a.json = os.path.join(a.build, "bench.json")
    if a.n < 1:
        p.error("--n must be at least 1")
    a.baseline = Interleave("baseline" in a.only)
    return a


def main(argv):
    args = parse_args(argv)
    if os.geteuid() != 0:
        sys.exit("bench: run as root (the daemon needs it)")
    res, notes = {}, []
    report = {"machine": machine_info(), "config": {
        "n": args.n, "quick": args.quick, "sections": sorted(args.only),
        "density": args.density, "file_mib": args.file_mib, "concurrency": args.concurrency,
        "concurrent_total": args.concurrent_total, "opencode": args.opencode,
        "daemon_env": args.daemon_env,
        "timing": "wall clock (time.perf_counter_ns) around one HTTP request on a keep-alive "
                  "requests.Session, or around one subprocess.run for the baselines; "
                  "percentiles are nearest-rank. The bwrap and fork+exec figures used for the "
                  "ratios are sampled interleaved with the create and exec loops (one baseline "
                  "run before each measured call), so both see the same load; *_alone are the "
                  "same taken back to back before the daemon starts"}, "results": res, "notes": notes}
    failed = None
    d = None
    try:
        d = Daemon(args)
        if "baseline" in args.only:
            bench_baseline(args, res)
        d.start()
        shown = d.argv()
        shown[shown.index("--api-key") + 1] = "<random>"
        report["daemon"] = {"argv": shown, "started": d.status()}
        steps = [("create", bench_create_destroy), ("exec", bench_exec), ("files", bench_files),
                 ("concurrent", bench_concurrent), ("density", bench_density)]
        for name, fn in steps:
            if name in args.only:
                log(f"section {name}")
                fn(args, d, res, notes)
        if args.baseline.bwrap:
            res["bwrap"] = dist(args.baseline.bwrap)
        if args.baseline.fork_exec:
            res["fork_exec_true"] = dist(args.baseline.fork_exec)
    except BenchError as ex:
        failed = str(ex)
        notes.append(f"harness stopped: {failed}")
    except KeyboardInterrupt:
        failed = "interrupted"
    except Exception as ex:  # report what we have, then the bug
        failed = f"harness error: {ex!r}"
        traceback.print_exc()
    finally:
        if d and d.proc:
            report.setdefault("daemon", {})["log_tail"] = d.log_tail(20)
            if not d.alive():
                last = (d.log_tail(1) or "").strip()
                notes.append(f"the daemon died during the run (exit {d.proc.returncode}); "
                             f"its last log line: {last[:300]}")
            cleanup(d, args)
    rows = build_rows(res)
    report["table"] = [{"figure": r[0], "value": r[2], "text": r[1], "baseline": r[3],
                        "ratio": r[4], "target": r[5], "met": r[6]} for r in rows]
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, "w") as f:
        json.dump(report, f, indent=1)
    m = report["machine"]
    m["loadavg_end"] = os.getloadavg()
    busy = max(m["loadavg_start"][0], m["loadavg_end"][0])
    if busy > 0.5 * (m["nproc"] or 1):
        notes.append(f"the machine was busy (load average up to {busy:.1f} on {m['nproc']} CPUs): "
                     "the figures are noisy, compare ratios taken in the same run")
    print(f"\nHiveBox {m['hivebox_rev']} on {m['nproc']} CPUs, "
          f"{m['mem_total_bytes'] / 2**30:.1f} GiB, kernel {m['kernel']}, cgroup {m['cgroup']}, "
          f"{m['bwrap']}; N={args.n}")
    print_table(rows)
    for n in notes:
        print(f"note: {n}")
    print(f"results: {args.json}")
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(markdown_table(rows))
    if failed:
        print(f"bench: {failed}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
