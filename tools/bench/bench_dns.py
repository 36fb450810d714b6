"""DNS forwarder (issue 16): the lookup latency a sandbox sees through the
daemon's forwarder beside the same lookup sent straight to the upstream,
in the same run, alternating, timed inside the sandbox (perf_counter around
one UDP query and its answer). Three figures: direct to the upstream, via
the forwarder for a sandbox without a policy (a pure relay), and via the
forwarder for a sandbox with allow_out (the name checked against the policy
and the answer's address put into the sandbox's nftables set first).

The upstream is a dnsmasq answering a test zone from memory, in a network
namespace this section makes (a 198.18.0.0/15 /29 on a veth, the route
checked before any packet): no packet leaves the machine. The section runs
its own daemon (its own bridge) started with --dns-upstream at it, and
removes the namespace, the bridge and the firewall tables afterwards.
Figures only, never asserted."""

import argparse
import ipaddress
import json
import secrets
import subprocess
import time

from bench_client import Client, create_ok, destroy_ok, expect
from bench_common import BenchError, dist, log
from bench_daemon import Daemon, cleanup

LOOKUPS_SRC = r"""
import json, socket, struct, sys, time
direct, gw, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
def one(server, name):
    q = struct.pack(">HHHHHH", 7, 0x0100, 1, 0, 0, 0)
    q += b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0\0\1\0\1"
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(2)
    t0 = time.perf_counter(); s.sendto(q, (server, 53)); a = s.recv(4096)
    ms = (time.perf_counter() - t0) * 1000; s.close()
    if a[3] & 15: raise SystemExit("rcode %d from %s" % (a[3] & 15, server))
    return ms
out = {"direct": [], "forwarder": []}
for i in range(n):
    name = "h%d.bench.test" % i
    if direct != "-": out["direct"].append(one(direct, name))
    out["forwarder"].append(one(gw, name))
print(json.dumps(out))
"""


def sh(cmd):
    return subprocess.run(cmd, shell=True, check=True, capture_output=True, text=True).stdout


def make_upstream():
    used = [ipaddress.ip_network(t, strict=False) for line in
            sh("ip -4 route show table all").splitlines() for t in line.split()
            if t[0].isdigit() and "/" in t]
    for _ in range(100):
        net = ipaddress.ip_network(f"198.19.{secrets.randbelow(256)}.{8 * secrets.randbelow(32)}/29")
        if not any(net.overlaps(u) for u in used):
            break
    else:
        raise BenchError("dns: no free 198.19.x.y/29 for the test upstream")
    ns, hv = "hbbd" + secrets.token_hex(3), "hbbd" + secrets.token_hex(3)
    up = {"ns": ns, "hv": hv, "addr": str(net[2]), "proc": None}
    sh(f"ip netns add {ns}")
    try:
        sh(f"ip link add {hv} type veth peer name eth0 netns {ns}; ip addr add {net[1]}/29 dev {hv}; "
           f"ip link set {hv} up; ip -n {ns} addr add {net[2]}/29 dev eth0; "
           f"ip -n {ns} link set eth0 up; ip -n {ns} link set lo up; "
           f"ip -n {ns} route add default via {net[1]}")
        if f"dev {hv}" not in sh(f"ip -4 route get {net[2]}"):
            raise BenchError("dns: the route to the test upstream is not ours")
        up["proc"] = subprocess.Popen(
            ["ip", "netns", "exec", ns, "dnsmasq", "--keep-in-foreground", "--no-resolv",
             "--no-hosts", "--port=53", f"--listen-address={net[2]}", "--bind-interfaces",
             "--pid-file=", f"--address=/bench.test/{net[3]}", "--cache-size=0"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while f"{net[2]}:53" not in sh(f"ip netns exec {ns} ss -lnu"):
            if time.monotonic() > deadline:
                raise BenchError("dns: dnsmasq did not start (apt-get install dnsmasq-base)")
            time.sleep(0.05)
        return up
    except Exception:
        drop_upstream(up)
        raise


def drop_upstream(up):
    if up.get("proc"):
        up["proc"].kill()
        up["proc"].wait()
    subprocess.run(f"ip link del {up['hv']}; ip netns del {up['ns']}", shell=True,
                   capture_output=True)


def lookups(c, sid, direct, gw, n):
    _, r = c.exec(sid, f"python3 -c '{LOOKUPS_SRC}' {direct} {gw} {n}")
    expect(r, 200, "dns lookups")
    body = r.json()
    if body.get("exit_code") != 0:
        raise BenchError(f"dns lookups failed: {body.get('stderr', '')[-300:]}")
    return json.loads(body["stdout"])


def bench_dns(args, d, res, notes):
    up = make_upstream()
    bridge = "hbbdns" + secrets.token_hex(2)
    sub = argparse.Namespace(**vars(args))
    sub.bridge, sub.subnet, sub.data_dir = bridge, None, None
    sub.daemon_env = list(args.daemon_env) + [f"HIVEBOX_DNS_UPSTREAM={up['addr']}"]
    d2 = None
    try:
        d2 = Daemon(sub)
        d2.start()
        c = Client(d2)
        gw = str(ipaddress.ip_network(d2.subnet)[1])
        _, plain = create_ok(c, {"network": "isolated"})
        _, pol = create_ok(c, {"network": "isolated", "allow_out": ["*.bench.test"]})
        try:
            n = max(args.n, 20)
            a = lookups(c, plain, up["addr"], gw, n)
            b = lookups(c, pol, "-", gw, n)
            res["dns_direct"], res["dns_forwarder"] = dist(a["direct"]), dist(a["forwarder"])
            res["dns_forwarder_policy"] = dist(b["forwarder"])
            log(f"dns lookup p50: direct {res['dns_direct']['p50']:.3f} ms, forwarder "
                f"{res['dns_forwarder']['p50']:.3f} ms, forwarder with a policy "
                f"{res['dns_forwarder_policy']['p50']:.3f} ms")
        finally:
            destroy_ok(c, plain)
            destroy_ok(c, pol)
    finally:
        if d2:
            cleanup(d2, sub)
        subprocess.run(f"ip link del {bridge}; nft delete table bridge {bridge}; "
                       f"nft delete table inet {bridge}", shell=True, capture_output=True)
        drop_upstream(up)


def dns_rows(res, rows, ms):
    base = res.get("dns_direct")
    for key, name in (("dns_direct", "DNS lookup, straight to the upstream"),
                      ("dns_forwarder", "DNS lookup via the forwarder (no policy)"),
                      ("dns_forwarder_policy", "DNS lookup via the forwarder (allow_out)")):
        d = res.get(key)
        if not d:
            continue
        for p in ("p50", "p99"):
            added = "" if key == "dns_direct" or not base else \
                f"direct {p} {ms(base[p])}, added {ms(d[p] - base[p])}"
            rows.append((f"{name} {p}", ms(d[p]), d[p], added,
                         d[p] / base[p] if base and base[p] and key != "dns_direct" else None,
                         None, None))
