"""Issue 20: a cluster of three HiveBox nodes coordinated by a real 3-member
etcd cluster, all on loopback ports this module picks (free_port), with
its own data dirs, bridges and subnets (test_network.free_subnet), so an
etcd the package may run on :2379 and other engineers' daemons never
collide with it. The lease TTL is 3 s to keep the module short.

The tests run in file order on one module-scoped cluster: placement and
forwarding first, then node B killed and restarted, then etcd members
stopped, and last the check that etcd keeps no key of a destroyed sandbox.
"""
import asyncio
import hashlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from conftest import shutdown_daemon
from hbtest import Daemon, free_port, remember_secret, sse_events, wait_until
from test_network import free_subnet, remove_network
from test_terminal import connect, hello, read_until, run, ticket

pytestmark = pytest.mark.once("a cluster of 3 etcd members and 3 daemons: its time goes to "
                              "etcd, daemon starts and the lease TTL")

TTL = 3
ETCD = shutil.which("etcd") or "/usr/bin/etcd"
ETCDCTL = shutil.which("etcdctl") or "/usr/bin/etcdctl"
MCP_HDRS = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
STATE = {}   # what one test leaves the next (they run in file order)
PV_SVC = 8000   # tests/e2e/preview_service.py
PV_TOKEN_HDR = "X-HiveBox-Preview-Token"
MCP_INIT = {"protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": {"name": "e2e-cluster", "version": "1"}}


class Etcd:
    """A 3-member etcd cluster on loopback ports of its own."""

    def __init__(self, root):
        self.root = root
        self.members = [{"name": f"m{i}", "client": free_port(), "peer": free_port(),
                         "proc": None} for i in range(3)]
        self.token = "hb-e2e-" + secrets.token_hex(4)

    @property
    def urls(self):
        return ",".join(f"http://127.0.0.1:{m['client']}" for m in self.members)

    def start(self, i):
        m = self.members[i]
        initial = ",".join(f"{x['name']}=http://127.0.0.1:{x['peer']}" for x in self.members)
        argv = [ETCD, "--name", m["name"], "--data-dir", str(self.root / m["name"]),
                "--listen-client-urls", f"http://127.0.0.1:{m['client']}",
                "--advertise-client-urls", f"http://127.0.0.1:{m['client']}",
                "--listen-peer-urls", f"http://127.0.0.1:{m['peer']}",
                "--initial-advertise-peer-urls", f"http://127.0.0.1:{m['peer']}",
                "--initial-cluster", initial, "--initial-cluster-token", self.token,
                "--initial-cluster-state", "new", "--heartbeat-interval", "50",
                "--election-timeout", "500"]
        env = {k: v for k, v in os.environ.items() if not k.startswith("ETCD")}
        log = open(self.root / f"{m['name']}.log", "ab")
        m["proc"] = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env,
                                     start_new_session=True)
        log.close()

    def stop(self, i):
        p = self.members[i]["proc"]
        if p and p.poll() is None:
            p.send_signal(signal.SIGKILL)
            p.wait(10)

    def ctl(self, *args):
        r = subprocess.run([ETCDCTL, "--endpoints", self.urls, "--command-timeout=3s", *args],
                           capture_output=True, text=True, env={"ETCDCTL_API": "3",
                                                               "PATH": os.environ["PATH"]})
        return r.returncode, r.stdout

    def healthy(self):
        return self.ctl("put", "/e2e/probe", "1")[0] == 0

    def keys(self, prefix):
        rc, out = self.ctl("get", "--prefix", "--keys-only", prefix)
        assert rc == 0, "etcdctl get failed"
        return [k for k in out.splitlines() if k.strip()]


class Cluster:
    def __init__(self, root):
        self.root = root
        self.etcd = Etcd(root)
        self.key = "e2e-" + secrets.token_hex(16)
        self.token = "cl-" + secrets.token_hex(16)
        remember_secret(self.token)
        self.nodes = {}
        self.bridges = []

    def add(self, name, zone):
        bridge = "hbc" + secrets.token_hex(3)
        self.bridges.append(bridge)
        env = {"HIVEBOX_BRIDGE": bridge, "HIVEBOX_SUBNET": str(free_subnet()),
               "HIVEBOX_CLUSTER_TOKEN": self.token}
        d = Daemon(self.root / f"node-{name}", name=f"node-{name}", key=self.key,
                   extra_env=env)
        d.extra_args = ["--cluster", self.etcd.urls, "--node-name", name,
                        "--advertise", d.url, "--node-label", f"zone={zone}",
                        "--cluster-ttl", str(TTL)]
        self.nodes[name] = d
        return d

    def client(self, name):
        return self.nodes[name].client()


def nodes_seen(c):
    r = c.get("/api/v1/nodes")
    return r.status_code == 200 and sorted(n["name"] for n in r.json()["nodes"])


def row(c, sid):
    for s in c.list()["sandboxes"]:
        if s["id"] == sid:
            return s
    return None


@pytest.fixture(scope="module")
def cl(e2e_tmp):
    if not os.path.exists(ETCD):
        pytest.fail("etcd is not installed: apt-get install etcd-server etcd-client "
                    "(tools/deps.txt)")
    root = e2e_tmp / ("cluster-" + secrets.token_hex(3))
    root.mkdir()
    k = Cluster(root)
    for i in range(3):
        k.etcd.start(i)
    try:
        wait_until(k.etcd.healthy, 30, 0.2, "the etcd cluster")
        for name, zone in (("a", "z1"), ("b", "z2"), ("c", "z3")):
            k.add(name, zone).start()
        for name in k.nodes:
            wait_until(lambda: nodes_seen(k.client(name)) == ["a", "b", "c"], 20, 0.2,
                       f"node {name} to see the three nodes")
        yield k
    finally:
        for d in k.nodes.values():   # each node's own, while the others still answer
            for s in d.client().list().get("sandboxes", []) if d.alive() else []:
                if s.get("node") == d.name[5:]:
                    d.client().delete(f"/api/v1/hiveboxes/{s['id']}")
        for d in k.nodes.values():
            if d.alive():
                shutdown_daemon(d)
        for i in range(3):
            k.etcd.stop(i)
        for b in k.bridges:
            remove_network(b)
    reports = [r for d in k.nodes.values() for r in d.sanitizer_reports()]
    assert not reports, "sanitizer reports in the nodes' logs:\n" + "\n".join(reports[:20])


def create(c, **spec):
    r = c.post("/api/v1/hiveboxes", json=spec, timeout=180)
    assert r.status_code == 201, r.text
    remember_secret(r.json().get("mcp_token"))
    return r.json()


def test_nodes_list_capacity_and_labels(cl):
    body = cl.client("a").get("/api/v1/nodes").json()
    assert body["node"] == "a"
    by = {n["name"]: n for n in body["nodes"]}
    assert set(by) == {"a", "b", "c"}
    for name, zone in (("a", "z1"), ("b", "z2"), ("c", "z3")):
        n = by[name]
        assert n["labels"] == {"zone": zone}
        assert n["url"] == cl.nodes[name].url
        assert n["memory_free"] > 0 and n["memory_total"] > 0
    assert body["totals"]["nodes"] == 3
    an = cl.client("b").get("/api/v1/analytics").json()
    assert an["cluster"]["totals"]["nodes"] == 3 and an["cluster"]["node"] == "b"
    assert body["totals"]["memory_total"] == sum(n["memory_total"] for n in by.values())
    # the node-to-node credential is not an API key, and a wrong one is no credential
    r = requests.get(cl.nodes["a"].url + "/api/v1/nodes",
                     headers={"Authorization": f"Bearer {cl.token}"}, timeout=10)
    assert r.status_code == 401
    r = requests.get(cl.nodes["a"].url + "/api/v1/hiveboxes",
                     headers={"X-HiveBox-Cluster-Token": cl.token[:-1] + "x"}, timeout=10)
    assert r.status_code == 401


def test_selector_pins_and_create_goes_to_the_most_free_node(cl):
    a, c = cl.client("a"), cl.client("c")
    big = "%dm" % (by_free(a)["a"] // 3 // (1 << 20))
    pa = create(a, memory=big, node_selector={"zone": "z1"})
    pc = create(a, memory=big, node_selector={"zone": "z3"})
    assert row(c, pa["id"]) and row(c, pa["id"])["node"] == "a"
    assert row(a, pc["id"])["node"] == "c"
    # the free memory the nodes report now leaves b the most room
    wait_until(lambda: max(by_free(a), key=by_free(a).get) == "b", 10, 0.2,
               "b to have the most free memory")
    sb = create(a, memory="128m")
    assert row(c, sb["id"])["node"] == "b"
    r = a.post("/api/v1/hiveboxes", json={"node_selector": {"zone": "mars"}})
    assert r.status_code == 503 and "node_selector" in r.json()["error"], r.text
    r = a.post("/api/v1/hiveboxes", json={"node_selector": ["zone"]})
    assert r.status_code == 400 and "node_selector" in r.json()["error"], r.text
    r = a.post("/api/v1/hiveboxes", json={"node_selector": {f"k{i}": "v" for i in range(17)}})
    assert r.status_code == 400 and "at most 16" in r.json()["error"], r.text
    r = a.post("/api/v1/hiveboxes", json={"node_selector": {"zone": "z" * 200}})
    assert r.status_code == 400 and "node_selector" in r.json()["error"], r.text
    for s in (pa, pc):
        assert a.delete(f"/api/v1/hiveboxes/{s['id']}").status_code == 200
        # gone from the cluster's list as soon as the destroy answered
        assert row(c, s["id"]) is None
    STATE["on_b"] = sb


def by_free(c):
    return {n["name"]: n["memory_free"] for n in c.get("/api/v1/nodes").json()["nodes"]}


def test_exec_files_and_mcp_through_another_node(cl):
    sb = STATE["on_b"]
    c = cl.client("c")
    out = c.exec(sb["id"], "hostname; echo forwarded")
    assert out["exit_code"] == 0 and "forwarded" in out["stdout"]
    data = os.urandom(50 << 20)
    up = c.put(f"/api/v1/hiveboxes/{sb['id']}/files", params={"path": "/tmp/big"}, data=data,
               timeout=300)
    assert up.status_code == 200, up.text
    got = hashlib.sha256()
    with c.get(f"/api/v1/hiveboxes/{sb['id']}/files", params={"path": "/tmp/big"},
               stream=True, timeout=300) as r:
        assert r.status_code == 200
        for chunk in r.iter_content(1 << 20):
            got.update(chunk)
    assert got.hexdigest() == hashlib.sha256(data).hexdigest()
    # it is really on b: b's own sandbox dir holds it, c's does not
    assert cl.nodes["b"].sandbox_dir(sb["id"]).exists()
    assert not cl.nodes["c"].sandbox_dir(sb["id"]).exists()
    # MCP with the sandbox's own token (no API key): the owner checks it
    url = f"{cl.nodes['c'].url}/api/v1/hiveboxes/{sb['id']}/mcp"
    h = {**MCP_HDRS, "Authorization": f"Bearer {sb['mcp_token']}"}
    # Without the API key c routes from its snapshot alone (no etcd look-up
    # for key-less requests, docs/scale-out.md): a sandbox created on b a
    # moment ago is reachable from the next refresh (TTL / 3 = 1 s) on.
    box = {}

    def initialized():
        box["r"] = requests.post(url, json={"jsonrpc": "2.0", "id": 0, "method": "initialize",
                                            "params": MCP_INIT}, headers=h, timeout=60)
        return box["r"].status_code != 401

    wait_until(initialized, 10, 0.2, "c's snapshot to show the sandbox")
    r = box["r"]
    assert r.status_code == 200, r.text
    h["Mcp-Session-Id"] = r.headers["Mcp-Session-Id"]
    r = requests.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
        "name": "exec", "arguments": {"command": "echo via-mcp"}}}, headers=h, timeout=60)
    assert r.status_code == 200 and "via-mcp" in r.text, r.text
    # with the API key instead, through c: c sends its cluster token, b admits it
    ha = {**MCP_HDRS, "Authorization": f"Bearer {cl.key}"}
    r = requests.post(url, json={"jsonrpc": "2.0", "id": 3, "method": "initialize",
                                 "params": MCP_INIT}, headers=ha, timeout=60)
    assert r.status_code == 200, r.text
    # a wrong token is refused by the owner, forwarded or not
    h["Authorization"] = "Bearer " + "0" * 64
    r = requests.post(url, json={"jsonrpc": "2.0", "id": 2, "method": "ping"}, headers=h,
                      timeout=60)
    assert r.status_code == 401


def test_streamed_exec_through_another_node_is_not_buffered(cl):
    """Server-sent events from b pass through c as they come."""
    sid, c = STATE["on_b"]["id"], cl.nodes["c"]
    t0 = time.monotonic()
    with requests.post(f"{c.url}/api/v1/hiveboxes/{sid}/exec",
                       headers={"Authorization": f"Bearer {c.key}"}, stream=True, timeout=60,
                       json={"command": "echo one; sleep 2; echo two", "stream": True}) as r:
        assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/event-stream")
        outs = [(d["data"], t) for ev, d, t in sse_events(r) if ev == "stdout"]
    assert [o for o, _ in outs] == ["one\n", "two\n"], outs
    assert outs[0][1] - t0 < 1.5, outs                     # not held until the end
    assert outs[1][1] - outs[0][1] > 1.5, outs


def test_pty_through_another_node_with_the_key_and_with_a_ticket(cl):
    """A terminal WebSocket opened on c for a sandbox of b: the upgrade is
    tunnelled to b. With the API key, c sends the cluster token instead; a
    ticket minted through c is b's, and b checks it."""
    sid, c = STATE["on_b"]["id"], cl.nodes["c"]

    async def go(path, auth):
        ws = await connect(c, path, auth)
        await hello(ws)
        await ws.send(b"echo pty-$((6*7)) on $(hostname)\n")
        buf, _ = await read_until(ws, b"pty-42 on")
        await ws.close()
        return buf
    run(go(f"/api/v1/hiveboxes/{sid}/terminal", True))
    t = ticket(cl.client("c"), sid)
    run(go(f"/api/v1/hiveboxes/{sid}/terminal?ticket={t}", False))
    # used once, on b: a second use through a is refused by b
    r = requests.get(f"{cl.nodes['a'].url}/api/v1/hiveboxes/{sid}/terminal?ticket={t}",
                     headers={"Connection": "Upgrade", "Upgrade": "websocket",
                              "Sec-WebSocket-Version": "13",
                              "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}, timeout=30)
    assert r.status_code == 401, r.text


def test_preview_through_another_node_keeps_its_credentials_and_not_ours(cl):
    """A preview of b's sandbox through a. With the API key, a sends its
    cluster token instead; b checks it and nothing of the cluster reaches
    the service (echoed by preview_service.py). The preview token, a signed
    URL and the cookie it turns into go through a to b, which checks them."""
    sid, a, ca = STATE["on_b"]["id"], cl.nodes["a"], cl.client("a")
    ca.upload(sid, "/opt/preview_service.py",
              (Path(__file__).parent / "preview_service.py").read_bytes())
    r = ca.post(f"/api/v1/hiveboxes/{sid}/processes",
                json={"command": f"python3 /opt/preview_service.py {PV_SVC}"})
    assert r.status_code == 201, r.text
    ports = f"/api/v1/hiveboxes/{sid}/ports"
    wait_until(lambda: PV_SVC in [p["port"] for p in ca.get(ports).json()["ports"]], 30, 0.3,
               "the service to listen")
    tok = ca.get(ports).json()["preview_token"]
    remember_secret(tok)
    url = f"{a.url}{ports}/{PV_SVC}/echo"
    admin = {"Authorization": f"Bearer {cl.key}", "X-Custom": "yes"}
    fake = "cl-" + "f" * 32   # a client's own (wrong) cluster token: dropped by a too
    for extra in ({}, {"X-HiveBox-Cluster-Token": fake}):
        r = requests.get(url, headers={**admin, **extra}, timeout=30)
        assert r.status_code == 200, (extra, r.text)
        hdrs = {k.lower(): v for k, v in r.json()["headers"]}
        assert hdrs["x-custom"] == "yes"
        for h in ("x-hivebox-cluster-token", "x-hivebox-forwarded", "authorization"):
            assert h not in hdrs, hdrs
        assert cl.token not in r.text and cl.key not in r.text and fake not in r.text
    # the sandbox's preview token, through a: b checks it, the service never sees it
    r = requests.get(url + "?keep=1", headers={PV_TOKEN_HDR: tok}, timeout=30)
    assert r.status_code == 200, r.text
    assert r.json()["query"] == "keep=1" and tok not in r.text
    assert requests.get(url, headers={PV_TOKEN_HDR: "0" * len(tok)}, timeout=30).status_code == 401
    assert requests.get(url, timeout=30).status_code == 401
    # a signed URL minted and used through a: the redirect to the cookie, then the cookie
    j = ca.post(f"{ports}/{PV_SVC}/url", json={"expires_in": 600}).json()
    u = urlsplit(j["path_url"])
    assert "hb_sig=" in u.query
    s = requests.Session()
    r = s.get(f"{a.url}{u.path}echo?keep=1&{u.query}", allow_redirects=False, timeout=30)
    assert r.status_code == 303, r.text
    assert r.headers["Location"] == f"{ports}/{PV_SVC}/echo?keep=1"
    r = s.get(a.url + r.headers["Location"], timeout=30)
    assert r.status_code == 200, r.text
    seen = r.json()
    assert seen["query"] == "keep=1"
    assert "cookie" not in {k.lower() for k, _ in seen["headers"]}   # ours was the only one


def test_unauthenticated_requests_never_wait_on_etcd(cl):
    """With every etcd member frozen (SIGSTOP: connections are accepted, no
    answer comes), requests without a credential for an id no node knows
    are answered at once: 401 before any look-up, and a preview (whose own
    credential its owner checks) from the snapshot alone. Before, each
    waited on an etcd GET, 1.5 s per member."""
    a, unknown = cl.nodes["a"], "nosuch" + secrets.token_hex(4)
    for m in cl.etcd.members:
        m["proc"].send_signal(signal.SIGSTOP)
    try:
        t0 = time.monotonic()
        r1 = requests.get(f"{a.url}/api/v1/hiveboxes/{unknown}", timeout=30)
        r2 = requests.post(f"{a.url}/api/v1/hiveboxes/{unknown}/exec", json={"command": "true"},
                           timeout=30)
        r3 = requests.get(f"{a.url}/api/v1/hiveboxes/{unknown}/ports/{PV_SVC}/", timeout=30)
        took = time.monotonic() - t0
    finally:
        for m in cl.etcd.members:
            m["proc"].send_signal(signal.SIGCONT)
    assert r1.status_code == 401 and r2.status_code == 401, (r1.text, r2.text)
    assert r3.status_code == 404, r3.text
    # served vs stalled, not speed: one request waiting on etcd alone would
    # take 1.5 s per member, 4.5 s
    assert took < 4, f"{took:.2f} s: a request waited on etcd"
    wait_until(cl.etcd.healthy, 30, 0.2, "etcd to answer again")
    wait_until(lambda: nodes_seen(cl.client("a")) == ["a", "b", "c"], 20, 0.2,
               "a to see the three nodes again")


def test_list_through_any_node_shows_every_sandbox_with_its_node(cl):
    extra = create(cl.client("c"), node_selector={"zone": "z3"})
    want = {STATE["on_b"]["id"]: "b", extra["id"]: "c"}
    for name in ("a", "b", "c"):
        rows = {s["id"]: s for s in cl.client(name).list()["sandboxes"]}
        for sid, node in want.items():
            assert rows[sid]["node"] == node and rows[sid]["status"] == "running", rows[sid]
    STATE["on_c"] = extra


def test_same_name_created_at_once_through_two_nodes(cl):
    name = "dup-" + secrets.token_hex(3)
    got = {}

    def go(node):
        got[node] = cl.client(node).post("/api/v1/hiveboxes", json={"name": name}, timeout=180)

    ts = [threading.Thread(target=go, args=(n,)) for n in ("a", "c")]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    codes = sorted(r.status_code for r in got.values())
    assert codes == [201, 409], {n: (r.status_code, r.text) for n, r in got.items()}
    loser = next(r for r in got.values() if r.status_code == 409)
    assert name in loser.json()["error"]
    assert cl.client("a").delete(f"/api/v1/hiveboxes/{name}").status_code == 200


def test_killed_node_shows_lost_then_comes_back(cl):
    sb, a, c = STATE["on_b"], cl.client("a"), cl.client("c")
    doomed = create(a, node_selector={"zone": "z2"})
    b = cl.nodes["b"]
    b.stop(signal.SIGKILL)
    t0 = time.monotonic()
    wait_until(lambda: (row(a, sb["id"]) or {}).get("status") == "lost", TTL + 5, 0.2,
               "b's sandbox to show lost on a")
    assert time.monotonic() - t0 < TTL + 5
    assert row(c, sb["id"])["status"] == "lost" and row(c, sb["id"])["node"] == "b"
    r = c.post(f"/api/v1/hiveboxes/{sb['id']}/exec", json={"command": "true"})
    assert r.status_code == 503 and "node b" in r.json()["error"], r.text
    # destroyed while b is away: b does it when it is back
    r = a.delete(f"/api/v1/hiveboxes/{doomed['id']}")
    assert r.status_code == 202 and r.json()["status"] == "destroying", r.text
    b.start()
    wait_until(lambda: (row(a, sb["id"]) or {}).get("status") == "running", 20, 0.2,
               "b's sandbox to be back")
    out = c.exec(sb["id"], "cat /tmp/big | wc -c")
    assert out["stdout"].strip() == str(50 << 20)
    wait_until(lambda: row(a, doomed["id"]) is None, 20, 0.2, "the marked sandbox to go")
    assert not b.sandbox_dir(doomed["id"]).exists()
    assert b.client().get(f"/api/v1/hiveboxes/{doomed['id']}").status_code == 404


def test_a_second_daemon_with_a_taken_node_name_is_refused(cl):
    env = {"HIVEBOX_BRIDGE": "hbc" + secrets.token_hex(3), "HIVEBOX_SUBNET": str(free_subnet()),
           "HIVEBOX_CLUSTER_TOKEN": cl.token}
    cl.bridges.append(env["HIVEBOX_BRIDGE"])
    d = Daemon(cl.root / "node-a2", name="node-a2", key=cl.key, extra_env=env)
    d.extra_args = ["--cluster", cl.etcd.urls, "--node-name", "a", "--advertise", d.url,
                    "--cluster-ttl", str(TTL)]
    d.start()
    try:
        h = wait_until(lambda: (lambda t: "held by" in t and t)(
            requests.get(d.url + "/healthz", timeout=10).text), 15, 0.3, "the refusal")
        assert cl.nodes["a"].url in h
        r = d.client().post("/api/v1/hiveboxes", json={})
        assert r.status_code == 503, r.text
        # the real a is untouched
        assert nodes_seen(cl.client("b")) == ["a", "b", "c"]
        body = cl.client("b").get("/api/v1/nodes").json()
        assert {n["name"]: n["url"] for n in body["nodes"]}["a"] == cl.nodes["a"].url
    finally:
        shutdown_daemon(d)


def test_etcd_members_down(cl):
    a = cl.client("a")
    local = create(a, node_selector={"zone": "z1"})
    cl.etcd.stop(2)
    s1 = create(a, node_selector={"zone": "z2"})   # one member down: fine
    assert a.exec(s1["id"], "echo one-down")["stdout"].strip() == "one-down"
    cl.etcd.stop(1)
    r = wait_until(lambda: (lambda r: r.status_code == 503 and r.json())(
        a.post("/api/v1/hiveboxes", json={"node_selector": {"zone": "z1"}}, timeout=60)),
        30, 0.5, "creates to be refused")
    assert "etcd" in r["error"], r
    # a's own sandbox still answers on a, and /healthz says why
    assert a.exec(local["id"], "echo still-here")["stdout"].strip() == "still-here"
    h = wait_until(lambda: (lambda t: "creates refused" in t and t)(
        requests.get(cl.nodes["a"].url + "/healthz", timeout=10).text), 15, 0.3,
        "healthz to say etcd is unreachable")
    assert h.startswith("ok\n") and "etcd" in h.split("\n")[1], h
    assert "cannot register with etcd" in cl.nodes["a"].log_text()
    cl.etcd.start(1)
    cl.etcd.start(2)
    wait_until(cl.etcd.healthy, 30, 0.3, "etcd to have its quorum back")
    wait_until(lambda: "etcd reachable" in requests.get(cl.nodes["a"].url + "/healthz",
                                                        timeout=10).text, 20, 0.3,
               "a to reach etcd again")
    s2 = create(a)
    for s in (local, s1, s2):
        assert a.delete(f"/api/v1/hiveboxes/{s['id']}").status_code == 200


def test_no_key_of_a_destroyed_sandbox_is_left(cl):
    a = cl.client("a")
    # A sandbox destroyed on its node's return (the SIGKILL test) may still
    # be listed until that node's next sync: 404 then is "already gone".
    for s in a.list()["sandboxes"]:
        assert a.delete(f"/api/v1/hiveboxes/{s['id']}").status_code in (200, 404)
    wait_until(lambda: cl.etcd.keys("/hivebox/sandboxes/") == [], 15, 0.3,
               "etcd to hold no sandbox keys")
    assert a.list()["sandboxes"] == []
    assert sorted(json.loads(json.dumps(nodes_seen(a)))) == ["a", "b", "c"]


def test_cluster_flags_are_checked_at_start(e2e_tmp):
    """A bad --cluster-token, --cluster URL or --node-label stops the daemon at
    start with a message naming the flag (no etcd needed to find out)."""
    cases = [({"HIVEBOX_CLUSTER_TOKEN": "short"}, [], "--cluster-token"),
             ({"HIVEBOX_CLUSTER_TOKEN": "t" * 32}, ["--node-label", "nolabel"], "--node-label"),
             ({"HIVEBOX_CLUSTER_TOKEN": "t" * 32}, ["--node-name", "bad name"], "--node-name")]
    for env, extra, flag in cases:
        d = Daemon(e2e_tmp / ("flags-" + secrets.token_hex(3)), name="flags", extra_env=env)
        d.extra_args = ["--cluster", "http://127.0.0.1:9", *extra]
        with pytest.raises(RuntimeError) as exc:
            d.start(timeout=20)
        assert flag in str(exc.value), exc.value
    d = Daemon(e2e_tmp / ("flags-" + secrets.token_hex(3)), name="flags",
               extra_env={"HIVEBOX_CLUSTER_TOKEN": "t" * 32})
    d.extra_args = ["--cluster", "ftp://127.0.0.1:9"]
    with pytest.raises(RuntimeError) as exc:
        d.start(timeout=20)
    assert "--cluster" in str(exc.value)
