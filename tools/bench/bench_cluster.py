#!/usr/bin/python3
"""Issue 20: the cluster measured (docs/performance.md, "Cluster").

    /usr/bin/python3 tools/bench/bench_cluster.py [--n 100]     (also run by `make bench`)

Starts a 3-member etcd cluster and three daemons (bench_daemon.Daemon, each
with its own bridge, subnet, data dir and loopback ports) joined to it, then
measures, interleaved so that a busy machine moves both sides alike:

  exec `true` and GET of a sandbox of node b sent to b (local) and to a
  (forwarded)
  create + destroy through a (placed on b: forwarded) and through b (local)
  creates/s with 8 concurrent clients: spread over the 3 nodes, and all on one

Timings are reported, never asserted. Results: build/bench-cluster.json and
a Markdown table on stdout.
"""

import argparse
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import requests  # noqa: E402

from bench_common import DEFAULT_IMAGE, REPO, BenchError, dist, log, timed  # noqa: E402
from bench_daemon import Daemon, cleanup  # noqa: E402
from bench_host import free_ports  # noqa: E402

ETCD = shutil.which("etcd") or "/usr/bin/etcd"


class Etcd:
    def __init__(self, root):
        ports = free_ports(6)
        self.root = root
        self.members = [(f"m{i}", ports[2 * i], ports[2 * i + 1]) for i in range(3)]
        self.procs = []

    @property
    def urls(self):
        return ",".join(f"http://127.0.0.1:{c}" for _, c, _ in self.members)

    def start(self):
        initial = ",".join(f"{n}=http://127.0.0.1:{p}" for n, _, p in self.members)
        env = {k: v for k, v in os.environ.items() if not k.startswith("ETCD")}
        for name, client, peer in self.members:
            argv = [ETCD, "--name", name, "--data-dir", os.path.join(self.root, name),
                    "--listen-client-urls", f"http://127.0.0.1:{client}",
                    "--advertise-client-urls", f"http://127.0.0.1:{client}",
                    "--listen-peer-urls", f"http://127.0.0.1:{peer}",
                    "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer}",
                    "--initial-cluster", initial, "--initial-cluster-state", "new"]
            log_f = open(os.path.join(self.root, f"{name}.log"), "ab")
            self.procs.append(subprocess.Popen(argv, stdout=log_f, stderr=subprocess.STDOUT,
                                               env=env, start_new_session=True))

    def stop(self):
        for p in self.procs:
            p.send_signal(signal.SIGKILL)
            p.wait(10)


class Node(Daemon):
    """bench_daemon's daemon, joined to the cluster."""

    def __init__(self, args, name, zone, etcd, token):
        super().__init__(args)
        self.cluster = ["--cluster", etcd.urls, "--node-name", name, "--advertise", self.url,
                        "--node-label", f"zone={zone}", "--cluster-ttl", "10"]
        self.extra_env = [f"HIVEBOX_CLUSTER_TOKEN={token}"]

    def argv(self):
        return super().argv() + self.cluster


def session(d):
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {d.key}"
    return s


def create(s, url, zone=None):
    body = {"node_selector": {"zone": zone}} if zone else {}
    r = s.post(url + "/api/v1/hiveboxes", json=body, timeout=120)
    if r.status_code != 201:
        raise BenchError(f"create: {r.status_code} {r.text}")
    return r.json()["id"]


def destroy(s, url, sid):
    r = s.delete(f"{url}/api/v1/hiveboxes/{sid}", timeout=120)
    if r.status_code != 200:
        log(f"destroy {sid} through {url}: {r.status_code} {r.text[:200]}")


def exec_true(s, url, sid):
    r = s.post(f"{url}/api/v1/hiveboxes/{sid}/exec", json={"command": "true"}, timeout=60)
    if r.status_code != 200:
        raise BenchError(f"exec: {r.status_code} {r.text}")


def get_one(s, url, sid):
    r = s.get(f"{url}/api/v1/hiveboxes/{sid}", timeout=60)
    if r.status_code != 200:
        raise BenchError(f"get: {r.status_code} {r.text}")


def local_and_forwarded(fn, a, b, n):
    """fn on a sandbox of b, sent to b and to a, interleaved."""
    sa, sb = session(a), session(b)
    sid = create(sb, b.url, "zb")
    local, fwd = [], []
    for _ in range(3):
        fn(sa, a.url, sid)   # warm both paths
        fn(sb, b.url, sid)
    for _ in range(n):
        local.append(timed(fn, sb, b.url, sid)[0])
        fwd.append(timed(fn, sa, a.url, sid)[0])
    destroy(sb, b.url, sid)
    return dist(local), dist(fwd)


def bench_create(a, b, n):
    sa, sb = session(a), session(b)
    local, fwd = [], []
    for _ in range(n):
        ms, sid = timed(create, sb, b.url, "zb")
        local.append(ms)
        destroy(sb, b.url, sid)
        ms, sid = timed(create, sa, a.url, "zb")
        fwd.append(ms)
        destroy(sa, a.url, sid)
    return dist(local), dist(fwd)


def creates_per_s(nodes, total, conc, zone):
    """total creates by conc clients round-robin over nodes; then destroyed."""
    sessions = [session(d) for d in nodes]

    def one(i):
        return nodes[i % len(nodes)].url, create(sessions[i % len(nodes)], nodes[i % len(nodes)].url, zone)

    t0 = time.perf_counter()
    with ThreadPoolExecutor(conc) as ex:
        made = list(ex.map(one, range(total)))
    rate = total / (time.perf_counter() - t0)
    with ThreadPoolExecutor(conc) as ex:
        list(ex.map(lambda m: destroy(sessions[0], nodes[0].url, m[1]), made))
    return rate


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--n", type=int, default=100)
    p.add_argument("--create-n", type=int, default=20)
    p.add_argument("--total", type=int, default=48, help="creates of the creates/s figures")
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--build", default=os.path.join(REPO, "build"))
    p.add_argument("--image", default=DEFAULT_IMAGE)
    p.add_argument("--json", default=os.path.join(REPO, "build", "bench-cluster.json"))
    a = p.parse_args(argv)
    # what bench_daemon.Daemon reads
    a.data_dir, a.daemon_wrapper, a.opencode, a.nofile = None, None, False, 65536
    a.daemon_env, a.subnet, a.keep_data_dir = [], None, False
    a.concurrent_total, a.density = a.total, []
    return a


def row(name, d):
    return f"| {name} | {d['p50']:.2f} | {d['p99']:.2f} | {d['n']} |"


def main(argv):
    args = parse_args(argv)
    if not os.access(ETCD, os.X_OK):
        log("etcd is not installed (apt-get install etcd-server): cluster bench skipped")
        return 0
    root = tempfile.mkdtemp(prefix="hivebox-bench-etcd-", dir="/var/tmp")
    etcd, nodes = Etcd(root), []
    token = secrets.token_hex(16)
    try:
        etcd.start()
        for name, zone in (("a", "za"), ("b", "zb"), ("c", "zc")):
            args.bridge = "hbb" + secrets.token_hex(3)
            n = Node(args, name, zone, etcd, token)
            nodes.append(n)
            n.start()
        a, b, _ = nodes
        deadline = time.monotonic() + 30
        while len(session(a).get(a.url + "/api/v1/nodes").json().get("nodes", [])) < 3:
            if time.monotonic() > deadline:
                raise BenchError("the nodes did not all register")
            time.sleep(0.2)
        ex_local, ex_fwd = local_and_forwarded(exec_true, a, b, args.n)
        get_local, get_fwd = local_and_forwarded(get_one, a, b, args.n)
        cr_local, cr_fwd = bench_create(a, b, args.create_n)
        rate3 = creates_per_s(nodes, args.total, args.concurrency, None)
        rate1 = creates_per_s([b], args.total, args.concurrency, "zb")
        res = {"exec_local": ex_local, "exec_forwarded": ex_fwd, "create_local": cr_local,
               "create_forwarded": cr_fwd, "creates_per_s_3_nodes": rate3,
               "creates_per_s_1_node": rate1, "get_local": get_local,
               "get_forwarded": get_fwd,
               "exec_added_p50_ms": ex_fwd["p50"] - ex_local["p50"]}
        with open(args.json, "w") as f:
            json.dump(res, f, indent=1)
        print("| cluster (ms) | p50 | p99 | n |\n|---|---|---|---|")
        print(row("exec `true`, on its node (b)", ex_local))
        print(row("exec `true`, through a (forwarded to b)", ex_fwd))
        print(row("GET the sandbox, on its node (b)", get_local))
        print(row("GET the sandbox, through a (forwarded to b)", get_fwd))
        print(row("create + answer, on its node (b)", cr_local))
        print(row("create through a, placed on b", cr_fwd))
        print(f"\nforwarding adds {res['exec_added_p50_ms']:.2f} ms p50 to an exec; "
              f"creates/s with {args.concurrency} clients: {rate3:.1f} over 3 nodes, "
              f"{rate1:.1f} on one")
        return 0
    finally:
        for n in nodes:
            cleanup(n, args)
        etcd.stop()
        shutil.rmtree(root, ignore_errors=True)
        for n in nodes:
            subprocess.run(f"ip link del {n.bridge}; nft delete table bridge {n.bridge}; "
                           f"nft delete table inet {n.bridge}", shell=True, capture_output=True)


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except BenchError as e:
        log(f"error: {e}")
        sys.exit(1)
