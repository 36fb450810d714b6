"""The daemon under test: started on loopback with its own data dir, key,
ports and bridge; stopped and cleaned up after the run."""

import copy
import json
import os
import resource
import secrets
import shlex
import shutil
import signal
import subprocess
import tempfile
import time

import requests

from bench_client import Client, parallel, quiet_destroy
from bench_common import BenchError, log
from bench_host import cgroup_instance_dirs, cmd_out, free_ports, proc_starttime, proc_status

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
        self.port, events_port = free_ports(2)
        self.events = f"tcp://127.0.0.1:{events_port}"
        self.url = f"http://127.0.0.1:{self.port}"
        self.wrapper = shlex.split(args.daemon_wrapper) if args.daemon_wrapper else []
        self.opencode = args.opencode
        self.nofile = args.nofile
        self.bridge = args.bridge
        self.extra_env = args.daemon_env
        self.subnet = args.subnet or bench_subnet(args.bridge)
        self.max_sandboxes = max([1000, args.concurrent_total] + list(args.density)) + 16
        self.proc = None
        self.logf = None

    def argv(self):
        # Density keeps 1,000 idle sandboxes of 512 MiB limits: far past
        # --memory-overcommit's 1.5 x RAM default, which counts limits.
        return self.wrapper + [self.binary, "daemon", "--port", str(self.port), "--host",
                               "127.0.0.1", "--api-key", self.key, "--data-dir", self.data_dir,
                               "--events", self.events, "--memory-overcommit", "1000",
                               "--max-sandboxes", str(self.max_sandboxes)]

    def _limits(self):
        # Runs in the child before exec: 1,000 sandboxes need more fds than
        # a login shell's default 1,024.
        hard = max(self.nofile, resource.getrlimit(resource.RLIMIT_NOFILE)[1])
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (self.nofile, hard))
        except (ValueError, OSError):
            pass

    def start(self, timeout=60):
        env = {k: v for k, v in os.environ.items() if not k.startswith("HIVEBOX_")}
        if not self.opencode:
            env["HIVEBOX_OPENCODE"] = "false"  # measure the sandbox, not the agent
        # Its own bridge: another daemon on this host may own hivebox0.
        env["HIVEBOX_BRIDGE"], env["HIVEBOX_SUBNET"] = self.bridge, self.subnet
        # No default warm pool: "create" measures the full path, and the pool
        # section asks for its own (--pool, which wins over this).
        env["HIVEBOX_POOL"] = "0"
        for kv in self.extra_env:
            k, _, v = kv.partition("=")
            env[k] = v
        self.logf = open(os.path.join(self.data_dir, "daemon.log"), "ab")
        log(f"starting daemon on {self.url} (data dir {self.data_dir})")
        self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL, stdout=self.logf,
                                     stderr=subprocess.STDOUT, env=env, preexec_fn=self._limits)
        deadline = time.monotonic() + timeout
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
        raise BenchError(f"daemon not healthy after {timeout} s:\n{self.log_tail()}")

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


# ---- cleanup ---------------------------------------------------------------

class SideDaemon(Daemon):
    """A second daemon beside the benchmark's, with extra flags: its own
    data dir and bridge (the benchmark's name plus suffix), no wrapper."""

    def __init__(self, args, suffix, flags):
        own = copy.copy(args)
        own.data_dir, own.daemon_wrapper = None, ""
        own.bridge, own.subnet = (args.bridge + suffix)[:15], None
        super().__init__(own)
        self.flags = list(flags)

    def argv(self):
        return super().argv() + self.flags


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
        # The daemon leaves its (now empty) instance cgroups behind: one
        # throw-away data dir per run would leave 5 dirs per run.
        for cg in cgroup_instance_dirs(d.data_dir):
            try:
                os.rmdir(cg)
            except OSError:
                pass
        shutil.rmtree(d.data_dir, ignore_errors=True)
    else:
        log(f"data dir kept: {d.data_dir}")
