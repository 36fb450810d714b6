"""Pooled supervisors (issue 19): every sandbox's supervisor is a unit on one
of a few host threads (actors/supervisor/sup_host.h). What that must not
cost: a sandbox waits for nothing its neighbours on the same host do (a
long command, a paused sandbox, a destroy with a command in flight), and a
sandbox holds at most the descriptors fdbudget.h budgets (3 per 2), with no
thread of its own. Daemons here run with --supervisor-threads 1, so every
sandbox shares the one host.
"""
import concurrent.futures as cf
import time

import pytest

import hbtest

API = "/api/v1/hiveboxes"


def _one_host(private_daemon, *extra):
    return private_daemon(extra_args=["--supervisor-threads", "1", *extra])


def test_a_neighbours_long_command_pause_and_destroy_stall_nothing(private_daemon):
    d = _one_host(private_daemon)
    c, c2 = d.client(), d.client()
    try:
        a = c.create(network="none", memory="64m")["id"]
        b = c.create(network="none", memory="64m")["id"]
        with cf.ThreadPoolExecutor(1) as ex:
            # a runs a command until a file appears; b answers meanwhile
            slow = ex.submit(c2.exec, a, "while [ ! -e /tmp/go ]; do sleep 0.05; done; echo a")
            hbtest.wait_until(lambda: "sleep" in c.exec(a, "ps -eo comm")["stdout"], 20, 0.1,
                              "a's command to run")
            for _ in range(5):
                assert c.exec(b, "echo b")["stdout"] == "b\n"
                assert c.info(b)["status"] == "running"
            assert not slow.done(), "a's command ended before b's answers came"
            c.exec(a, "touch /tmp/go")
            assert slow.result()["stdout"] == "a\n"

        # a paused (every process frozen): b and a's own GET still answer
        c.expect(c.post(f"{API}/{a}/pause"), 200)
        assert c.exec(b, "echo b")["stdout"] == "b\n"
        assert c.info(a)["status"] == "paused"
        c.expect(c.post(f"{API}/{a}/resume"), 200)

        # a destroyed with a command in flight: b keeps answering, a's caller
        # hears it was destroyed
        with cf.ThreadPoolExecutor(1) as ex:
            inflight = ex.submit(c2.post, f"{API}/{a}/exec",
                                 json={"command": "sleep 60", "timeout": 90}, timeout=120)
            hbtest.wait_until(lambda: "sleep" in c.exec(a, "ps -eo comm")["stdout"], 20, 0.1,
                              "a's sleep to run")
            c.destroy(a)
            r = inflight.result()
            assert r.status_code in (404, 410), (r.status_code, r.text)
        assert c.exec(b, "echo b")["stdout"] == "b\n"
        assert c.get(f"{API}/{a}").status_code == 404
        c.destroy(b)
    finally:
        c.close()
        c2.close()


def _settled(read, tries=20):
    """The lowest of a few readings: sockets made for a request close
    within a moment of its answer."""
    low = read()
    for _ in range(tries):
        time.sleep(0.1)
        low = min(low, read())
    return low


@pytest.mark.once("creates 100 sandboxes: kernel namespace and cgroup work, not our C code")
def test_100_sandboxes_cost_no_thread_and_at_most_the_fd_budget(private_daemon):
    d = _one_host(private_daemon)
    c = d.client()
    ids = []
    try:
        c.create(network="none", memory="64m")   # the first create's one-time costs
        ids.append(c.list()["sandboxes"][0]["id"])
        fds0, threads0 = _settled(d.fd_count), _settled(d.thread_count)
        for _ in range(100):
            ids.append(c.create(network="none", memory="64m")["id"])
        for sid in ids[-100:]:
            assert c.exec(sid, "echo ok")["stdout"] == "ok\n"
        fds, threads = _settled(d.fd_count), _settled(d.thread_count)
        # fdbudget.h: 3 descriptors per 2 sandboxes budgeted, 1 each measured
        assert fds - fds0 <= 150, f"{fds - fds0} more descriptors for 100 sandboxes"
        assert threads - threads0 <= 4, f"{threads - threads0} more threads for 100 sandboxes"
    finally:
        for sid in ids:
            c.destroy(sid, missing_ok=True)
        c.close()
