"""What a daemon leaves on the host when it stops (issue 10, item 12): with
a sandbox still alive, its bridge, firewall tables and cgroup parents stay
(the sandbox keeps running and the next daemon re-attaches); with none
left, they go.

The daemon runs on a bridge and subnet of its own (HIVEBOX_BRIDGE,
HIVEBOX_SUBNET): hivebox0 belongs to whichever daemon holds it on this
machine and is never touched here."""
import secrets
import signal
import subprocess

from conftest import shutdown_daemon
from hbtest import CG_ROOT, CG_V1_CONTROLLERS, Daemon, init_host_pid, pid_alive
from test_network import free_subnet, remove_network


def sh_ok(cmd):
    return subprocess.run(cmd, shell=True, capture_output=True).returncode == 0


def cg_instance(data_dir):
    """The daemon's cgroup level: FNV-1a of its data dir (cgroup.c)."""
    h = 1469598103934665603
    for b in str(data_dir).encode():
        h = ((h ^ b) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


def hivebox_tops():
    if (CG_ROOT / "cgroup.controllers").exists():
        return [CG_ROOT / "hivebox"]
    return [CG_ROOT / ctrl / "hivebox" for ctrl in CG_V1_CONTROLLERS]


def left_behind(d, bridge):
    """What of the daemon's host state exists now."""
    inst = cg_instance(d.data_dir)
    return {
        "bridge": sh_ok(f"ip link show dev {bridge}"),
        "nft inet": sh_ok(f"nft list table inet {bridge}"),
        "nft bridge": sh_ok(f"nft list table bridge {bridge}"),
        "cgroups": [str(t / inst) for t in hivebox_tops() if (t / inst).is_dir()],
    }


def test_host_state_stays_with_a_sandbox_and_goes_without(e2e_tmp):
    tag = secrets.token_hex(3)
    bridge = "hbt" + tag
    d = Daemon(e2e_tmp / ("exit-" + tag), name="daemon",
               extra_env={"HIVEBOX_BRIDGE": bridge, "HIVEBOX_SUBNET": str(free_subnet())})
    try:
        d.start()
        c = d.client()
        sid = c.create(network="isolated", memory="64m")["id"]
        c.close()
        init = init_host_pid(sid)
        assert init, "no init process for the sandbox"
        assert d.stop(signal.SIGTERM) == 0
        kept = left_behind(d, bridge)
        assert kept["bridge"] and kept["nft inet"] and kept["nft bridge"], kept
        assert len(kept["cgroups"]) == len(hivebox_tops()), kept
        assert pid_alive(init), "the sandbox must outlive the daemon"

        d.start()
        c = d.client()
        c.destroy(sid)
        c.close()
        assert d.stop(signal.SIGTERM) == 0
        gone = left_behind(d, bridge)
        assert gone == {"bridge": False, "nft inet": False, "nft bridge": False,
                        "cgroups": []}, gone
        for top in hivebox_tops():   # hivebox/ itself goes unless other daemons use it
            assert not top.exists() or any(p.is_dir() for p in top.iterdir()), top
    finally:
        if d.alive():
            shutdown_daemon(d)
        remove_network(bridge)
