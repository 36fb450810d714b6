"""Restarts that lose nothing, and a parallel storm followed by a leak count.
Each test runs its own daemon (own data dir) so it can stop and restart it."""
import os
import random
import secrets
import signal
import threading
import time

import pytest

import hbtest
from hbtest import Client, UID_BASE, UID_RANGE

API = "/api/v1/hiveboxes"


def _same(a, b, keys):
    return {k: a.get(k) for k in keys} == {k: b.get(k) for k in keys}


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_restart_keeps_live_and_keeps_dead_as_failed(own_daemon, sig):
    d = own_daemon
    c = d.client()
    live = c.create(name="keep-" + secrets.token_hex(3), memory="128m", cpus=0.5, pids=64,
                    timeout=1800)
    dead = c.create(name="dies-" + secrets.token_hex(3), memory="64m")
    lid, did = live["id"], dead["id"]
    payload = os.urandom(4096)
    c.upload(lid, "/root/before.bin", payload)
    c.upload(did, "/root/work.bin", payload)
    res = c.exec(lid, "sleep 1000 & echo $! > /root/bg.pid")
    assert res["exit_code"] == 0, res
    bg = c.exec(lid, "cat /root/bg.pid")["stdout"].strip()
    assert c.exec(lid, f"kill -0 {bg}")["exit_code"] == 0
    before = c.info(lid)
    dead_init = hbtest.init_host_pid(did)
    assert dead_init, "init of the second sandbox not found"
    c.close()

    status = d.stop(sig)
    if sig == signal.SIGTERM:
        assert status == 0, f"daemon exit status {status} after SIGTERM\n{d.log_tail()}"
    # Sandboxes outlive the daemon.
    assert hbtest.init_host_pid(lid), "the live sandbox died with the daemon"
    os.kill(dead_init, signal.SIGKILL)
    hbtest.wait_until(lambda: not hbtest.pid_alive(dead_init), 10, 0.05, "the killed init to go")

    d.start()
    c = d.client()
    try:
        ids = [s["id"] for s in c.list()["sandboxes"]]
        assert lid in ids, f"live sandbox lost after {sig.name}: {ids}"
        after = c.info(lid)
        assert _same(before, after, ("id", "created_at", "expires_at", "limits", "image",
                                     "network")), (before, after)
        assert after["status"] == "running"
        r = c.download(lid, "/root/before.bin")
        assert r.status_code == 200 and r.content == payload
        assert c.exec(lid, f"kill -0 {bg} && cat /proc/{bg}/cmdline | tr '\\0' ' '")[
            "stdout"].strip() == "sleep 1000", "the background process did not survive"
        assert c.exec(lid, "echo works")["stdout"] == "works\n"
        # The sandbox whose init died while the daemon was down is kept as
        # failed, its files on disk, until it is deleted.
        failed = [s for s in c.list()["sandboxes"] if s["id"] == did]
        assert failed and failed[0]["status"] == "failed", failed
        info = c.info(did)
        assert info["status"] == "failed" and "daemon start" in info["failure_reason"], info
        upper = d.sandbox_dir(did) / "upper" / "root" / "work.bin"
        assert upper.read_bytes() == payload
        assert '"failure"' in (d.sandbox_dir(did) / "sandbox.json").read_text()
        assert c.post(f"{API}/{did}/exec", json={"command": "true"}).status_code == 409
        hbtest.wait_until(lambda: not hbtest.cgroup_dirs(did), 10, 0.2, "dead sandbox cgroups")
        assert not [m for m in hbtest.mounts_under(d.data_dir) if did in m]
        # Still failed after one more restart, its uid range claimed again if
        # the pool lost it (/run is emptied at a reboot); DELETE removes it all.
        slots = hbtest.uid_slots_owned_by(d.data_dir, [did])
        assert len(slots) == 1, slots
        d.stop(signal.SIGTERM)
        (hbtest.UIDSLOT_DIR / slots[0][0]).unlink()
        d.start()
        c.close()
        c = d.client()
        assert c.info(did)["status"] == "failed"
        assert hbtest.uid_slots_owned_by(d.data_dir, [did]) == slots
        assert upper.read_bytes() == payload
        assert c.delete(f"{API}/{did}").status_code == 200
        assert not d.sandbox_dir(did).exists()
        assert not hbtest.uid_slots_owned_by(d.data_dir, [did]), \
            "uid slot of the deleted sandbox still claimed"
        # The restarted daemon can still destroy the re-attached sandbox fully.
        live_init = hbtest.init_host_pid(lid)
        assert live_init
        c.destroy(lid)
        hbtest.wait_until(lambda: not hbtest.cgroup_dirs(lid), 10, 0.2, "cgroups after destroy")
        hbtest.wait_until(lambda: not hbtest.pid_alive(live_init), 10, 0.1, "re-attached init gone")
    finally:
        c.close()


def test_restart_twice_in_a_row_keeps_state(own_daemon):
    d = own_daemon
    c = d.client()
    sb = c.create(memory="64m")
    c.close()
    for sig in (signal.SIGTERM, signal.SIGKILL):
        d.stop(sig)
        d.start()
    c = d.client()
    try:
        assert c.info(sb["id"])["created_at"] == sb["created_at"]
        assert c.exec(sb["id"], "echo again")["stdout"] == "again\n"
    finally:
        c.close()


def test_expiry_kept_across_restart(own_daemon):
    d = own_daemon
    c = d.client()
    soon = c.create(memory="64m", timeout=4)
    later = c.create(memory="64m", timeout=9)
    c.close()
    d.stop(signal.SIGKILL)
    # `soon` expires while no daemon runs; `later` after the new one is up.
    time.sleep(max(0, hbtest.parse_rfc3339(soon["expires_at"]) - time.time()) + 1)
    d.start()
    c = d.client()
    try:
        hbtest.wait_until(lambda: c.get(f"{API}/{soon['id']}").status_code == 404, 20, 0.1,
                          "the sandbox that expired while the daemon was down to go")
        info = c.info(later["id"])
        assert info["expires_at"] == later["expires_at"]
        hbtest.wait_until(lambda: c.get(f"{API}/{later['id']}").status_code == 404,
                          hbtest.parse_rfc3339(later["expires_at"]) - time.time() + 15, 0.1,
                          "the re-attached sandbox to expire on time")
        assert time.time() >= hbtest.parse_rfc3339(later["expires_at"]) - 1, "expired early"
        for sid in (soon["id"], later["id"]):
            hbtest.wait_until(lambda: not hbtest.cgroup_dirs(sid), 20, 0.1, f"{sid} cgroups")
            hbtest.wait_until(lambda: not d.sandbox_dir(sid).exists(), 20, 0.1, f"{sid} state")
    finally:
        c.close()


# ---------------------------------------------------------------- the storm

THREADS = 8
ROUNDS = 3


def _storm_worker(d, n, errors, seen):
    c = Client(d.url, d.key)
    rnd = random.Random(n)
    try:
        for i in range(ROUNDS):
            info = c.create(memory="64m", pids=32)
            sid = info["id"]
            m = hbtest.uid_map_of(c.exec(sid, "cat /proc/self/uid_map")["stdout"])
            seen.append((sid, m[0][1]))
            data = rnd.randbytes(rnd.randint(0, 200_000))
            c.upload(sid, f"/root/s{n}-{i}.bin", data)
            res = c.exec(sid, f"wc -c < /root/s{n}-{i}.bin; sleep 0.{rnd.randint(0, 3)} &")
            assert res["stdout"].strip() == str(len(data)), res
            r = c.download(sid, f"/root/s{n}-{i}.bin")
            assert r.status_code == 200 and r.content == data
            c.destroy(sid)
    except Exception as exc:  # reported by the main thread
        errors.append(f"worker {n}: {exc!r}")
    finally:
        c.close()


def _leaked_processes(storm_ids, bases):
    """Processes left by the storm: in a destroyed sandbox's cgroup, or with a
    uid from one of the storm's ranges outside every live sandbox. (Only the
    storm's own ranges: other daemons on this host may be running sandboxes.)"""
    leaks = []
    for pid in hbtest.all_pids():
        uid = hbtest.proc_uid(pid)
        owner = hbtest.hivebox_cgroup_of(pid)
        if owner in storm_ids:
            leaks.append((pid, uid, owner, "in a destroyed sandbox's cgroup"))
            continue
        if uid is None or not any(b <= uid < b + UID_RANGE for b in bases):
            continue
        if owner is None or not hbtest.cgroup_dirs(owner):
            st = hbtest.proc_status(pid) or {}
            leaks.append((pid, uid, owner, st.get("Name"), st.get("State"),
                          "storm uid outside any live sandbox"))
    return leaks


def test_parallel_storm_leaves_nothing_behind(own_daemon):
    d = own_daemon
    time.sleep(1)
    base_threads = d.thread_count()
    base_fds = d.fd_count()
    errors, seen = [], []
    workers = [threading.Thread(target=_storm_worker, args=(d, n, errors, seen))
               for n in range(THREADS)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(600)
    assert not any(w.is_alive() for w in workers), "storm workers hung"
    assert not errors, "\n".join(errors)
    assert len(seen) == THREADS * ROUNDS
    storm_ids = {sid for sid, _ in seen}
    assert len(storm_ids) == THREADS * ROUNDS

    c = d.client()
    assert c.list()["total"] == 0
    c.close()
    # No mounts, cgroups, state dirs, uid slots, processes.
    assert not hbtest.sandbox_mounts(d.data_dir), hbtest.sandbox_mounts(d.data_dir)
    left_cg = {sid: hbtest.cgroup_dirs(sid) for sid in storm_ids if hbtest.cgroup_dirs(sid)}
    assert not left_cg, left_cg
    sdir = d.data_dir / "sandboxes"
    assert not sdir.exists() or not os.listdir(sdir), os.listdir(sdir)
    left_slots = hbtest.uid_slots_owned_by(d.data_dir, storm_ids)
    assert not left_slots, left_slots
    bases = {base for _, base in seen}
    assert all(b >= UID_BASE and (b - UID_BASE) % UID_RANGE == 0 for b in bases), bases
    # Give processes that are exiting right now a moment, then require none.
    try:
        hbtest.wait_until(lambda: not _leaked_processes(storm_ids, bases), 20, 0.5, "no leaks")
    except AssertionError:
        pass
    leaks = _leaked_processes(storm_ids, bases)
    assert not leaks, leaks
    # The daemon's threads and fds come back near their baseline.
    hbtest.wait_until(lambda: d.thread_count() <= base_threads + 2, 15, 0.5,
                      f"daemon threads back to ~{base_threads}")
    hbtest.wait_until(lambda: d.fd_count() <= base_fds + 8, 15, 0.5,
                      f"daemon fds back to ~{base_fds}")
    assert hbtest.pid_alive(d.pid)
