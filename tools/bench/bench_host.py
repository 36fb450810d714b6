"""What the benchmark reads from the host: machine facts, /proc, cgroups."""

import json
import os
import platform
import socket
import subprocess
import time

import requests

from bench_common import REPO

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


def cpu_seconds(pid):
    """utime + stime of a process (all threads), seconds, or None."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def idle_cpu_percent(pid, seconds):
    """The daemon's CPU use while nothing is asked of it."""
    a, t0 = cpu_seconds(pid), time.monotonic()
    time.sleep(seconds)
    b = cpu_seconds(pid)
    return None if a is None or b is None else 100.0 * (b - a) / (time.monotonic() - t0)


def pss_bytes(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def free_ports(n):
    """n distinct free loopback ports (all bound at once, so none repeats)."""
    socks = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def cgroup_instance_dirs(data_dir):
    """Every existing cgroup dir of the daemon's instance: hivebox/<FNV-1a of
    the data dir> (actors/runtime/cgroup.c) under each v1 controller, or the
    one v2 dir. The memory controller's (or v2's) comes first."""
    out = []
    for path in dict.fromkeys((os.path.realpath(data_dir), data_dir)):
        h = 1469598103934665603
        for b in path.encode():
            h = ((h ^ b) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
        for ctrl in ("memory", "", "cpu", "cpuacct", "pids", "freezer"):
            d = os.path.join("/sys/fs/cgroup", ctrl, "hivebox", f"{h:016x}")
            if os.path.isdir(d) and d not in out:
                out.append(d)
    return out


def cgroup_instance(data_dir):
    """The cgroup holding all the daemon's sandboxes (memory), or None."""
    dirs = cgroup_instance_dirs(data_dir)
    return dirs[0] if dirs else None


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


def vm_costs(build_dir):
    """What this machine charges for a page fault, a copy-on-write fault, a
    system call and a spawn (tools/bench/vmcost.c, built here with gcc), or
    {"error": ...}. These explain why absolute figures differ between hosts."""
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "vmcost.c")
    exe = os.path.join(build_dir, "bench-vmcost")
    try:
        if not os.path.exists(exe) or os.path.getmtime(exe) < os.path.getmtime(src):
            os.makedirs(build_dir, exist_ok=True)
            subprocess.run(["gcc", "-std=gnu11", "-O2", "-static", "-o", exe, src], check=True,
                           capture_output=True, timeout=120)
        out = subprocess.run([exe], check=True, capture_output=True, text=True, timeout=120)
        return json.loads(out.stdout)
    except (OSError, subprocess.SubprocessError, ValueError) as ex:
        return {"error": str(ex)[:200]}
