#!/usr/bin/python3
"""Where an idle sandbox's memory goes (issue 19): a daemon of its own, idle
sandboxes created in levels (each answers one exec `true`, as the density
bench does), and at each level a snapshot of the host's /proc/meminfo,
/proc/slabinfo, /proc/cgroups, the sandboxes' memory cgroup (user + kernel
charge), mounts and processes per sandbox. Prints per-sandbox deltas
between levels, and writes every snapshot as JSON.

  /usr/bin/python3 tools/bench/bench_memsplit.py --levels 250,1000,2000

Root only; destroys every sandbox it made and stops its daemon at the end.
"""

import argparse
import json
import os
import sys
import time
import types

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_client import create_ok, exec_ok, parallel, quiet_destroy  # noqa: E402
from bench_common import MIB, log  # noqa: E402
from bench_daemon import Daemon, cleanup  # noqa: E402
from bench_host import cgroup_instance_dirs, pss_bytes  # noqa: E402
from bench_host import meminfo as host_meminfo  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MEMINFO = ("MemAvailable", "MemFree", "Cached", "Shmem", "Slab", "SReclaimable", "SUnreclaim",
           "KernelStack", "PageTables", "Percpu", "AnonPages", "VmallocUsed", "Buffers",
           "Mapped")
SAMPLE = 40   # sandboxes whose processes and mounts are counted one by one


def meminfo():
    out = host_meminfo()
    return {k: out.get(k, 0) for k in MEMINFO}


def slabinfo():
    """cache -> bytes held in its slabs (num_slabs x pages per slab)."""
    out = {}
    with open("/proc/slabinfo") as f:
        for line in f:
            if line.startswith(("slabinfo", "#")):
                continue
            p = line.split()
            # name active_objs num_objs objsize objperslab pagesperslab : tunables ... : slabdata active num shared
            out[p[0]] = int(p[-3]) * int(p[5]) * 4096
    return out


def num_cgroups():
    out = {}
    with open("/proc/cgroups") as f:
        for line in f:
            if not line.startswith("#"):
                p = line.split()
                out[p[0]] = int(p[2])
    return out


def read_int(path):
    try:
        with open(path) as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def memcg(data_dir):
    dirs = cgroup_instance_dirs(data_dir)
    if not dirs or "/memory/" not in dirs[0]:
        return {}
    d = dirs[0]
    out = {"usage": read_int(f"{d}/memory.usage_in_bytes"),
           "kmem": read_int(f"{d}/memory.kmem.usage_in_bytes")}
    with open(f"{d}/memory.stat") as f:
        for line in f:
            k, v = line.split()
            if k in ("total_cache", "total_rss", "total_shmem", "total_mapped_file"):
                out[k] = int(v)
    return out


def per_sandbox(d, ids):
    """Processes, threads, PSS and mounts of a sample of sandboxes (means)."""
    inits = {sid: pid for sid, pid, _ in d.init_pids()}
    sample = [s for s in ids[:: max(1, len(ids) // SAMPLE)] if s in inits][:SAMPLE]
    dirs = cgroup_instance_dirs(d.data_dir)
    pids_dir = next((x for x in dirs if "/pids/" in x), None)
    procs = threads = mounts = p_sum = 0
    for sid in sample:
        with open(f"/proc/{inits[sid]}/mountinfo") as f:
            mounts += sum(1 for _ in f)
        members = []
        for sub in ("", "/user"):
            try:
                with open(f"{pids_dir}/{sid}{sub}/cgroup.procs") as f:
                    members += [int(x) for x in f.read().split()]
            except OSError:
                pass
        procs += len(members)
        for pid in members:
            threads += len(os.listdir(f"/proc/{pid}/task")) if os.path.isdir(f"/proc/{pid}") else 0
            p_sum += pss_bytes(pid) or 0
    n = max(1, len(sample))
    return {"sampled": len(sample), "procs": procs / n, "threads": threads / n,
            "mounts": mounts / n, "pss": p_sum / n}


def host_mounts():
    with open("/proc/self/mountinfo") as f:
        return sum(1 for _ in f)


def host_sandboxes():
    """Every sandbox init on the host (other daemons' too) and the distinct
    superblocks seen by them and by us: each superblock holds a shrinker
    id, and every memory cgroup a slot for every id (mm/shrinker.c)."""
    inits, devs = 0, set()
    for pid in [p for p in os.listdir("/proc") if p.isdigit()] + ["self"]:
        try:
            if pid != "self" and "hivebox-init" not in os.readlink(f"/proc/{pid}/exe"):
                continue
            with open(f"/proc/{pid}/mountinfo") as f:
                devs.update(line.split()[2] for line in f)
            inits += pid != "self"
        except OSError:
            continue
    return {"inits": inits, "superblocks": len(devs)}


def snapshot(d, ids):
    time.sleep(3)
    snap = {"n": len(ids), "t": time.time(), "meminfo": meminfo(), "slab": slabinfo(),
            "cgroups": num_cgroups(), "memcg": memcg(d.data_dir), "host_mounts": host_mounts(),
            "daemon": d.status(), "load": os.getloadavg()[0],
            "host": host_sandboxes()}
    if ids:
        snap["sandbox"] = per_sandbox(d, ids)
    return snap


def report(a, b):
    n = b["n"] - a["n"]
    if n <= 0:
        return
    kib = lambda x: f"{x / n / 1024:8.1f}"  # noqa: E731
    print(f"\n== {a['n']} -> {b['n']} ({n} sandboxes): KiB per sandbox")
    for k in MEMINFO:
        print(f"  {k:14s} {kib(b['meminfo'][k] - a['meminfo'][k])}")
    for k in ("usage", "kmem", "total_cache", "total_rss", "total_shmem"):
        if k in b["memcg"]:
            print(f"  memcg {k:10s} {kib(b['memcg'][k] - (a['memcg'].get(k) or 0))}")
    grow = sorted(((b["slab"].get(k, 0) - a["slab"].get(k, 0), k) for k in b["slab"]),
                  reverse=True)[:15]
    print("  slab growth:", ", ".join(f"{k} {v / n / 1024:.1f}" for v, k in grow))
    cg = {k: (b["cgroups"][k] - a["cgroups"].get(k, 0)) / n for k in b["cgroups"]}
    print("  cgroups per sandbox:", ", ".join(f"{k} {v:.2f}" for k, v in cg.items() if v))
    print(f"  host mounts per sandbox {(b['host_mounts'] - a['host_mounts']) / n:.2f}; "
          f"host-wide: inits {a['host']} -> {b['host']}")
    rss = (b["daemon"].get("rss_bytes", 0) - a["daemon"].get("rss_bytes", 0)) / n
    print(f"  daemon RSS {rss / 1024:.1f} KiB per sandbox; sample {b.get('sandbox')}")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--levels", default="250,1000,2000")
    p.add_argument("--build", default=os.path.join(REPO, "build"))
    p.add_argument("--image", default="/var/lib/hivebox/images/base")
    p.add_argument("--json", default="/var/tmp/memsplit.json")
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--bridge", default="hbmem0")
    p.add_argument("--daemon-env", action="append", default=[], metavar="KEY=VALUE")
    a = p.parse_args()
    levels = sorted(int(x) for x in a.levels.split(","))
    args = types.SimpleNamespace(build=a.build, image=a.image, data_dir=None, daemon_wrapper="",
                                 opencode=False, nofile=65536, bridge=a.bridge,
                                 daemon_env=a.daemon_env, subnet="10.213.0.0/16",
                                 density=levels, concurrent_total=0, concurrency=a.concurrency,
                                 keep_data_dir=False)
    d = Daemon(args)
    d.start()
    ids, snaps = [], []
    try:
        snaps.append(snapshot(d, ids))
        for level in levels:
            def mk(c, _):
                sid = create_ok(c, {"network": "none"})[1]
                exec_ok(c, sid, "true")
                return sid
            ids += parallel(d, mk, range(level - len(ids)), a.concurrency)
            snaps.append(snapshot(d, ids))
            log(f"{len(ids)} alive: MemAvailable "
                f"{(snaps[0]['meminfo']['MemAvailable'] - snaps[-1]['meminfo']['MemAvailable']) / len(ids) / MIB:.2f} MiB each")
            report(snaps[-2], snaps[-1])
        report(snaps[0], snaps[-1])
    finally:
        parallel(d, quiet_destroy, ids, a.concurrency)
        snaps.append(snapshot(d, []))
        snaps[-1]["after_destroy"] = True
        cleanup(d, args)
        with open(a.json, "w") as f:
            json.dump(snaps, f)
        log(f"snapshots in {a.json}")


if __name__ == "__main__":
    main()
