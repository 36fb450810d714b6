"""Network modes none / isolated / shared[:group] against a real daemon.

The module runs its own daemon on its own bridge and subnet (HIVEBOX_BRIDGE,
HIVEBOX_SUBNET), listening on 0.0.0.0 so that its port is really reachable on
every host address: a refused connection from a sandbox is the firewall's
doing, never "nothing listens there". Every refusal below has a control that
shows the same target answering the host.

Traffic stays on this machine: sandbox to sandbox, sandbox to the host's own
addresses, and a test host in a network namespace of our own for NAT, private
ranges and the metadata range (a 169.254/16 address lives on that test host).
"""
import ipaddress
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import threading

import pytest

from conftest import shutdown_daemon
from hbtest import Daemon, Sandbox, wait_until

PROBE_TIMEOUT = 2.0

# Runs inside a sandbox: connect to every target at once, report what happened.
PROBE_SRC = r"""
import json, socket, sys, threading
targets = json.loads(sys.argv[1]); out = {}
def one(h, p):
    s = socket.socket(); s.settimeout(%s)
    try:
        s.connect((h, p))
        try: data = s.recv(200).decode(errors="replace").strip()
        except Exception: data = ""
        out["%%s:%%d" %% (h, p)] = "OPEN " + data
    except Exception as e:
        out["%%s:%%d" %% (h, p)] = "FAIL " + type(e).__name__
    finally: s.close()
ts = [threading.Thread(target=one, args=(h, p)) for h, p in targets]
[t.start() for t in ts]; [t.join() for t in ts]
print(json.dumps(out))
""" % PROBE_TIMEOUT

# Runs in the test host's namespace: tell each client the address it came from.
ECHO_PEER_SRC = r"""
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1]))); s.listen(64)
print("ready", flush=True)
while True:
    c, a = s.accept()
    try: c.sendall((a[0] + "\n").encode())
    except OSError: pass
    c.close()
"""


def sh(cmd):
    return subprocess.run(cmd, shell=True, check=True, capture_output=True, text=True).stdout


def sh_ok(cmd):
    return subprocess.run(cmd, shell=True, capture_output=True, text=True).returncode == 0


def host_probe(targets):
    """The same probe from the host itself (the controls)."""
    out = {}

    def one(h, p):
        try:
            with socket.create_connection((h, p), timeout=PROBE_TIMEOUT) as s:
                s.settimeout(1)
                try:
                    data = s.recv(200).decode(errors="replace").strip()
                except OSError:
                    data = ""
                out[f"{h}:{p}"] = "OPEN " + data
        except OSError as e:
            out[f"{h}:{p}"] = "FAIL " + type(e).__name__

    ts = [threading.Thread(target=one, args=t) for t in targets]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return out


def probe(sb, targets):
    res = sb.exec(f"python3 -c '{PROBE_SRC}' '{json.dumps(targets)}'", timeout=30)
    assert res["exit_code"] == 0, res
    return json.loads(res["stdout"])


def is_open(result):
    return result.startswith("OPEN")


def routed_networks():
    used = []
    for line in sh("ip -4 route show table all").splitlines():
        for t in line.split():
            try:
                net = ipaddress.ip_network(t, strict=False)
            except ValueError:
                continue
            if net.prefixlen > 0:
                used.append(net)
    return used


def free_network(pick):
    """A network from pick() that no route of this host touches (other runs
    of this suite may be creating theirs at the same time)."""
    used = routed_networks()
    for _ in range(200):
        net = pick()
        if not any(net.overlaps(u) for u in used):
            return net
    raise AssertionError("no free test network")


def free_subnet():
    return free_network(lambda: ipaddress.ip_network(f"10.{200 + secrets.randbelow(50)}.0.0/16"))


def remove_network(bridge):
    """The bridge and the firewall outlive a daemon on purpose; drop ours."""
    subprocess.run(f"ip link del {bridge}", shell=True, capture_output=True)
    subprocess.run(f"nft delete table bridge {bridge}; nft delete table inet {bridge}",
                   shell=True, capture_output=True)
    try:
        os.unlink(f"/run/hivebox/{bridge}.lock")
    except OSError:
        pass


class NetDaemon(Daemon):
    """Our daemon on 0.0.0.0: its port answers on every host address."""

    def argv(self):
        argv = super().argv()
        argv[argv.index("--host") + 1] = "0.0.0.0"
        return argv


@pytest.fixture(scope="module")
def net(e2e_tmp):
    tag = secrets.token_hex(3)
    bridge = "hbt" + tag
    subnet = free_subnet()
    dns = ["198.51.100.53", "198.51.100.54"]
    d = NetDaemon(e2e_tmp / ("net-" + tag), name="daemon", extra_env={
        "HIVEBOX_BRIDGE": bridge, "HIVEBOX_SUBNET": str(subnet), "HIVEBOX_DNS": " ".join(dns)})
    try:
        d.start()
    except Exception:
        remove_network(bridge)
        raise
    info = {"daemon": d, "bridge": bridge, "subnet": subnet, "dns": dns,
            "gw": str(subnet.network_address + 1)}
    yield info
    if not d.alive():
        d.start()
    shutdown_daemon(d)
    remove_network(bridge)
    d.assert_no_sanitizer_reports()


@pytest.fixture(scope="module")
def testhost(net):
    """A host in its own namespace, wired to this host by a veth, with a
    public-looking address (198.18.0.0/15: NAT), a private one (192.168/16)
    and a link-local one (169.254/16, the cloud metadata range), each
    answering on port 9000 with the client address it saw. Random /30s, so
    that concurrent runs of this suite do not collide."""
    def slash30(prefix):
        return lambda: ipaddress.ip_network(
            f"{prefix}.{secrets.randbelow(256)}.{4 * secrets.randbelow(64)}/30")
    pub = free_network(slash30("198.18"))
    priv = free_network(slash30("192.168"))
    meta = free_network(slash30("169.254"))
    ns, hv = "hbtn" + secrets.token_hex(3), "hbtn" + secrets.token_hex(3)
    sh(f"ip netns add {ns}")
    proc = None
    try:
        sh(f"ip link add {hv} type veth peer name eth0 netns {ns}")
        for net in (pub, priv, meta):
            sh(f"ip addr add {net[1]}/30 dev {hv}; ip -n {ns} addr add {net[2]}/30 dev eth0")
        sh(f"ip link set {hv} up; ip -n {ns} link set eth0 up; ip -n {ns} link set lo up")
        proc = subprocess.Popen(["ip", "netns", "exec", ns, "/usr/bin/python3", "-c",
                                 ECHO_PEER_SRC, "9000"], stdout=subprocess.PIPE, text=True)
        assert proc.stdout.readline().strip() == "ready"
        yield {"public": str(pub[2]), "public_gw": str(pub[1]), "private": str(priv[2]),
               "metadata": str(meta[2]), "port": 9000}
    finally:
        if proc:
            proc.kill()
            proc.wait()
        subprocess.run(f"ip link del {hv}", shell=True, capture_output=True)
        subprocess.run(f"ip netns del {ns}", shell=True, capture_output=True)


@pytest.fixture(scope="module")
def client(net):
    c = net["daemon"].client()
    yield c
    c.close()


@pytest.fixture
def mk(client, net):
    made = []

    def make(**spec):
        sb = Sandbox(client, client.create(**spec), net["daemon"])
        made.append(sb)
        return sb

    yield make
    for sb in made:
        client.destroy(sb.id, missing_ok=True)


def record(net, sid):
    return json.loads((net["daemon"].sandbox_dir(sid) / "sandbox.json").read_text())


def serve(sb, port=8080):
    """A background service started by an exec; it must outlive the exec."""
    sb.sh(f"nohup python3 -m http.server {port} --bind 0.0.0.0 >/dev/null 2>&1 &")
    ip = sb.info["network"]["ip"]
    wait_until(lambda: is_open(host_probe([(ip, port)])[f"{ip}:{port}"]), 20,
               what=f"the service on {ip}:{port}")


def ports_set(net):
    return sh(f"nft list set bridge {net['bridge']} ports")


# ------------------------------------------------------------------ tests

def test_response_shows_mode_ip_and_group(mk, client, net):
    iso = mk(network="isolated")
    grp = mk(network="shared:team-a")
    dflt = mk(network="shared")
    none = mk()
    assert iso.info["network"]["mode"] == "isolated"
    assert ipaddress.ip_address(iso.info["network"]["ip"]) in net["subnet"]
    assert grp.info["network"] == {"mode": "shared", "ip": grp.info["network"]["ip"],
                                   "group": "team-a"}
    assert dflt.info["network"]["mode"] == "shared" and dflt.info["network"]["group"]
    assert none.info["network"]["mode"] == "none"
    assert not none.info["network"].get("ip")
    assert client.info(grp.id)["network"] == grp.info["network"]
    # The list carries the address too (one request for a whole table).
    rows = {r["id"]: r for r in client.get("/api/v1/hiveboxes").json()["sandboxes"]}
    assert rows[iso.id]["ip"] == iso.info["network"]["ip"]
    assert rows[none.id]["ip"] is None
    assert rows[iso.id]["pids"] == iso.info["limits"]["pids"]


def test_bad_network_modes_refused(client):
    for bad in ("bridge", "shared:", "shared:../x", "isolated:grp", "host"):
        r = client.post("/api/v1/hiveboxes", json={"network": bad})
        assert r.status_code == 400, (bad, r.text)
        assert "network" in r.json()["error"]


def test_addresses_configured_and_unique(mk, net):
    sbs = [mk(network="isolated"), mk(network="isolated"), mk(network="shared:u")]
    ips = [sb.info["network"]["ip"] for sb in sbs]
    assert len(set(ips)) == len(ips)
    prefix = net["subnet"].prefixlen
    for sb, ip in zip(sbs, ips):
        addr = ipaddress.ip_address(ip)
        assert addr in net["subnet"] and str(addr) != net["gw"]
        assert f"inet {ip}/{prefix} " in sb.sh("ip -4 -o addr show dev eth0")
        assert f"default via {net['gw']} dev eth0" in sb.sh("ip route show default")
        resolv = sb.sh("cat /etc/resolv.conf")
        # issue 16: the daemon's DNS forwarder on the bridge address (its upstream: dns[0])
        assert [line.split()[1] for line in resolv.splitlines()
                if line.startswith("nameserver")] == [net["gw"]]
        # The host side is a port of our bridge, named from the uid slot.
        ifname = record(net, sb.id)["network"]["if"]
        assert os.path.realpath(f"/sys/class/net/{ifname}/master").endswith("/" + net["bridge"])
        assert re.fullmatch(r"hb[0-9a-f]+v[0-9a-f]+", ifname) and sb.id not in ifname


def test_address_reused_after_destroy(mk, client):
    a = mk(network="isolated")
    ip = a.info["network"]["ip"]
    client.destroy(a.id)
    b = mk(network="isolated")
    assert b.info["network"]["ip"] == ip


def test_host_reaches_sandbox_service(mk):
    for mode in ("isolated", "shared:web"):
        sb = mk(network=mode)
        sb.sh("mkdir -p /srv && echo hello-from-" + sb.id + " > /srv/index.html")
        sb.sh("cd /srv && nohup python3 -m http.server 8080 --bind 0.0.0.0 >/dev/null 2>&1 &")
        ip = sb.info["network"]["ip"]

        def fetch():
            try:
                with socket.create_connection((ip, 8080), timeout=2) as s:
                    s.sendall(b"GET /index.html HTTP/1.0\r\n\r\n")
                    data = b""
                    while chunk := s.recv(4096):
                        data += chunk
                    return data.decode(errors="replace")
            except OSError:
                return ""

        body = wait_until(fetch, 20, what=f"http on {ip}:8080")
        assert "hello-from-" + sb.id in body


def test_isolated_sandboxes_cannot_reach_each_other(mk):
    a, b = mk(network="isolated"), mk(network="isolated")
    serve(a)
    serve(b)
    ia, ib = a.info["network"]["ip"], b.info["network"]["ip"]
    assert not is_open(probe(a, [(ib, 8080)])[f"{ib}:8080"])
    assert not is_open(probe(b, [(ia, 8080)])[f"{ia}:8080"])
    # Controls: serve() saw both answer the host; a sandbox reaches its own.
    assert is_open(probe(a, [(ia, 8080)])[f"{ia}:8080"])


@pytest.mark.once("its time is connect timeouts to peers it must not reach (a clock); the bridge rules run under ASan in the other network tests")
def test_shared_group_reachable_groups_separated(mk):
    s1, s2 = mk(network="shared:g1"), mk(network="shared:g1")
    s3 = mk(network="shared:g2")
    dflt = mk(network="shared")
    iso = mk(network="isolated")
    for sb in (s1, s2, s3, dflt, iso):
        serve(sb)
    ip = {sb.id: sb.info["network"]["ip"] for sb in (s1, s2, s3, dflt, iso)}

    def reach(src, dst):
        return is_open(probe(src, [(ip[dst.id], 8080)])[f"{ip[dst.id]}:8080"])

    assert reach(s1, s2) and reach(s2, s1)
    for src, dst in ((s3, s1), (s1, s3), (dflt, s1), (s1, dflt), (iso, s1), (s1, iso),
                     (s3, iso)):
        assert not reach(src, dst), f"{src.id} ({src.info['network']}) reached {dst.id}"


def host_addresses():
    out = sh("ip -4 -o addr show")
    addrs = []
    for line in out.split("\n"):
        parts = line.split()
        if len(parts) > 3 and parts[2] == "inet" and not parts[3].startswith("127."):
            addrs.append(parts[3].split("/")[0])
    return addrs


@pytest.mark.parametrize("mode", ["none", "isolated", "shared:svc"])
def test_daemon_port_host_services_and_metadata_refused(mk, net, testhost, mode):
    port = net["daemon"].port
    # A host service of our own on every address, besides the daemon.
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("0.0.0.0", 0))
    srv.listen(64)
    hport = srv.getsockname()[1]
    try:
        targets = [(a, p) for a in host_addresses() for p in (port, hport)]
        targets.append((testhost["metadata"], testhost["port"]))
        assert any(a == net["gw"] for a, _ in targets)
        control = host_probe(targets)
        assert all(is_open(v) for v in control.values()), control
        sb = mk(network=mode)
        got = probe(sb, targets)
        opened = {k: v for k, v in got.items() if is_open(v)}
        assert not opened, f"{mode} sandbox reached host services: {opened}"
    finally:
        srv.close()


def test_nat_to_test_host_and_private_ranges_refused(mk, net, testhost):
    pub, priv, p = testhost["public"], testhost["private"], testhost["port"]
    control = host_probe([(pub, p), (priv, p)])
    assert all(is_open(v) for v in control.values()), control
    for mode in ("isolated", "shared:nat"):
        sb = mk(network=mode)
        got = probe(sb, [(pub, p), (priv, p)])
        # Masqueraded: the test host sees this host's address on its link.
        assert got[f"{pub}:{p}"] == "OPEN " + testhost["public_gw"], got
        assert not is_open(got[f"{priv}:{p}"]), got


def test_cleanup_after_destroy(mk, client, net):
    sb = mk(network="shared:clean")
    rec = record(net, sb.id)["network"]
    ifname, ip = rec["if"], rec["ip"]
    addr_file = net["daemon"].data_dir / "netaddrs" / ip
    assert os.path.exists(f"/sys/class/net/{ifname}")
    assert f'"{ifname}"' in ports_set(net)
    assert addr_file.exists()
    client.destroy(sb.id)
    assert not os.path.exists(f"/sys/class/net/{ifname}")
    assert f'"{ifname}"' not in ports_set(net)
    assert not addr_file.exists()
    assert f"{ip} " not in sh(f"ip neigh show dev {net['bridge']}") + " "


def test_cleanup_after_crash(mk, client, net, testhost):
    """SIGKILL the daemon, let a sandbox die meanwhile, leave a stray port on
    the bridge: the next start removes the dead one's veth, address and set
    element and the stray port, and the survivor keeps its network."""
    d = net["daemon"]
    live = mk(network="isolated")
    victim = mk(network="isolated")
    serve(live)
    lip = live.info["network"]["ip"]
    vrec = record(net, victim.id)
    vif, vip = vrec["network"]["if"], vrec["network"]["ip"]
    # a leftover of ours (our naming) goes; someone else's port on the bridge stays
    stray = "hbfffv" + secrets.token_hex(2)
    foreign = "hbx" + secrets.token_hex(3)
    for name in (stray, foreign):
        sh(f"ip link add {name} type veth peer name {name}p; "
           f"ip link set {name} master {net['bridge']}")
    try:
        d.stop(signal.SIGKILL)
        os.kill(vrec["init_pid"], signal.SIGKILL)
        wait_until(lambda: not os.path.exists(f"/proc/{vrec['init_pid']}/stat") or
                   open(f"/proc/{vrec['init_pid']}/stat").read().split(") ")[1][0] == "Z", 10)
        d.start()
        wait_until(lambda: not os.path.exists(f"/sys/class/net/{stray}"), 10, what="stray port gone")
        assert os.path.exists(f"/sys/class/net/{foreign}"), "a port not named by us was deleted"
        wait_until(lambda: not os.path.exists(f"/sys/class/net/{vif}"), 10, what="victim veth gone")
        wait_until(lambda: not (d.data_dir / "netaddrs" / vip).exists(), 10,
                   what="victim address released")
        assert f'"{vif}"' not in ports_set(net)
        assert f'{lip}' in ports_set(net)
        assert client.info(live.id)["network"] == live.info["network"]
        # The survivor: still served to the host, still NATed out.
        assert is_open(host_probe([(lip, 8080)])[f"{lip}:8080"])
        pub, p = testhost["public"], testhost["port"]
        assert probe(live, [(pub, p)])[f"{pub}:{p}"] == "OPEN " + testhost["public_gw"]
        # The freed address is handed out again.
        again = mk(network="isolated")
        assert ipaddress.ip_address(again.info["network"]["ip"]) <= ipaddress.ip_address(vip)
    finally:
        for name in (stray, foreign):
            subprocess.run(f"ip link del {name}", shell=True, capture_output=True)
        if not d.alive():
            d.start()


@pytest.mark.parametrize("case", ["same-bridge", "subnet-overlap"])
def test_no_network_with_a_reason(e2e_tmp, net, testhost, case):
    """Two daemons on one bridge would hand out the same addresses, and a
    subnet over a network the host routes would shadow it: such a daemon
    keeps mode none and refuses the others with the reason."""
    tag = secrets.token_hex(3)
    if case == "same-bridge":
        env = {"HIVEBOX_BRIDGE": net["bridge"], "HIVEBOX_SUBNET": str(net["subnet"])}
        reason = "another hivebox daemon"
    else:  # the test host's link is routed: 198.18.0.0/15 covers it
        env = {"HIVEBOX_BRIDGE": "hbt" + tag, "HIVEBOX_SUBNET": "198.18.0.0/15"}
        reason = "overlaps the host's route"
    other = Daemon(e2e_tmp / ("net2-" + tag), name="daemon", extra_env=env)
    try:
        other.start()
        c = other.client()
        r = c.post("/api/v1/hiveboxes", json={"network": "isolated"})
        assert r.status_code == 503, r.text
        assert reason in r.json()["error"]
        assert c.create()["network"]["mode"] == "none"
        c.close()
    finally:
        shutdown_daemon(other)
        if case != "same-bridge":
            remove_network("hbt" + tag)


def test_private_egress_flag(e2e_tmp, testhost):
    """HIVEBOX_ALLOW_PRIVATE_EGRESS=1 opens the private ranges, and nothing
    else: the metadata address and the host's own services stay refused."""
    tag = secrets.token_hex(3)
    bridge, subnet = "hbt" + tag, free_subnet()
    d = NetDaemon(e2e_tmp / ("netp-" + tag), name="daemon", extra_env={
        "HIVEBOX_BRIDGE": bridge, "HIVEBOX_SUBNET": str(subnet),
        "HIVEBOX_ALLOW_PRIVATE_EGRESS": "1"})
    try:
        d.start()
        c = d.client()
        sb = Sandbox(c, c.create(network="isolated"), d)
        p = testhost["port"]
        gw = str(subnet.network_address + 1)
        got = probe(sb, [(testhost["private"], p), (testhost["metadata"], p), (gw, d.port)])
        assert is_open(got[f"{testhost['private']}:{p}"]), got
        assert not is_open(got[f"{testhost['metadata']}:{p}"]), got
        assert not is_open(got[f"{gw}:{d.port}"]), got
        c.close()
    finally:
        shutdown_daemon(d)
        remove_network(bridge)
