"""Density, scaled down (issue 19): 300 idle sandboxes on one daemon keep the
path to 10,000 working. All answer an exec, the list returns them all, a
restart re-attaches every one, an init killed from the host is seen as failed
without polling, and destroying them leaves nothing (cgroups, uid slots,
state, mounts, processes, daemon threads and fds). The figures themselves are
measured by `make bench` (tools/bench/bench_density.py), never asserted here.
"""
import concurrent.futures as cf
import os
import signal

import pytest

import hbtest
from conftest import shutdown_daemon

API = "/api/v1/hiveboxes"
COUNT = 300
CLIENTS = 8


def _pool(d, fn, items):
    """fn(client, item) on CLIENTS threads, one client each."""
    clients = [d.client() for _ in range(CLIENTS)]
    try:
        with cf.ThreadPoolExecutor(CLIENTS) as ex:
            futs = [ex.submit(fn, clients[i % CLIENTS], it) for i, it in enumerate(items)]
            return [f.result() for f in futs]
    finally:
        for c in clients:
            c.close()


def _exec_says(c, sid):
    r = c.post(f"{API}/{sid}/exec", json={"command": "echo $HOSTNAME"})
    return sid if r.status_code == 200 and r.json()["stdout"] == sid + "\n" else (sid, r.text)


def _all_answer(d, ids):
    bad = [r for r in _pool(d, _exec_says, ids) if r not in ids]
    assert not bad, f"{len(bad)} of {len(ids)} did not answer: {bad[:5]}"


def _listed(d):
    c = d.client()
    try:
        body = c.list()
    finally:
        c.close()
    return {s["id"]: s["status"] for s in body["sandboxes"]}, body["total"]


@pytest.mark.once("creates 300 sandboxes: the time goes to the kernel's namespace and "
                  "cgroup work, not to our C code")
def test_300_sandboxes_answer_list_restart_and_leave_nothing(private_daemon):
    d = private_daemon(extra_args=["--max-sandboxes", str(COUNT + 16)])
    base_threads, base_fds = d.thread_count(), d.fd_count()
    made = _pool(d, lambda c, _: c.create(network="none", memory="64m", pids=32)["id"],
                 range(COUNT))
    ids = set(made)
    assert len(ids) == COUNT
    try:
        _all_answer(d, ids)
        listed, total = _listed(d)
        assert total == COUNT and set(listed) == ids, (total, len(set(listed) & ids))
        assert set(listed.values()) == {"running"}

        # An init killed from the host: seen by its pidfd, no per-second poll.
        victim = sorted(ids)[0]
        pid = hbtest.init_host_pid(victim)
        assert pid
        os.kill(pid, signal.SIGKILL)
        hbtest.wait_until(lambda: _listed(d)[0].get(victim) == "failed", 10, 0.1,
                          "the killed sandbox to be listed as failed")

        # Restart: every sandbox re-attached, still answering.
        assert d.stop(signal.SIGTERM) == 0, d.log_tail()
        d.start()
        listed, total = _listed(d)
        assert total == COUNT and set(listed) == ids
        assert listed.pop(victim) == "failed"
        assert set(listed.values()) == {"running"}, {v for v in listed.values()}
        live = ids - {victim}
        _all_answer(d, live)
    finally:
        gone = _pool(d, lambda c, sid: c.delete(f"{API}/{sid}").status_code, sorted(ids))
    assert set(gone) == {200}, sorted(set(gone))

    assert _listed(d)[1] == 0
    assert not hbtest.sandbox_mounts(d.data_dir), hbtest.sandbox_mounts(d.data_dir)[:5]
    left_cg = [sid for sid in ids if hbtest.cgroup_dirs(sid)]
    assert not left_cg, left_cg[:5]
    sdir = d.data_dir / "sandboxes"
    assert not sdir.exists() or not os.listdir(sdir), os.listdir(sdir)[:5]
    assert not hbtest.uid_slots_owned_by(d.data_dir, ids)
    left = [p for p in hbtest.all_pids() if hbtest.hivebox_cgroup_of(p) in ids]
    assert not left, left[:5]
    # A restarted daemon starts from its own baseline: near it again.
    hbtest.wait_until(lambda: d.thread_count() <= base_threads + 4, 20, 0.5,
                      f"daemon threads back to ~{base_threads}")
    hbtest.wait_until(lambda: d.fd_count() <= base_fds + 8, 20, 0.5,
                      f"daemon fds back to ~{base_fds}")


NOFILE = 2560 + 3 * 4 // 2   # fdbudget.h: the reserve, then room for 4 sandboxes (3 fds per 2)


class _LowFdDaemon(hbtest.Daemon):
    """A daemon started under a hard open-file limit it cannot lift."""

    def argv(self):
        return ["prlimit", f"--nofile={NOFILE}:{NOFILE}", "--", *super().argv()]


def test_past_the_open_file_budget_creates_are_refused_not_fatal(e2e_tmp):
    """The fd budget (issue 19): past it libzmq cannot make a socket and
    czmq aborts the daemon, taking every sandbox's API down. The daemon lowers
    --max-sandboxes to what its limit allows; creates past it are refused and
    the daemon and the sandboxes it has keep working."""
    d = _LowFdDaemon(e2e_tmp / ("fd-" + os.urandom(3).hex()), name="daemon")
    d.start()
    try:
        limits = open(f"/proc/{d.pid}/limits").read()
        soft = int([ln for ln in limits.splitlines() if "open files" in ln][0].split()[3])
        if soft != NOFILE:
            pytest.skip(f"the daemon lifted its open-file limit to {soft} (CAP_SYS_RESOURCE)")
        assert "open-file limit allows 4 sandboxes" in d.log_text(), d.log_tail()
        c = d.client()
        made = [c.create(network="none", memory="64m")["id"] for _ in range(4)]
        for _ in range(3):
            r = c.post(API, json={"network": "none", "memory": "64m"})
            assert r.status_code in (429, 503), (r.status_code, r.text)
            assert "error" in r.json()
        assert d.alive()
        for sid in made:
            assert c.exec(sid, "echo ok")["stdout"] == "ok\n"
        for sid in made:
            c.destroy(sid)
        c.close()
    finally:
        shutdown_daemon(d)
