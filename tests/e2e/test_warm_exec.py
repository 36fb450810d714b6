"""Warm exec (issue 19): after a plain exec has answered, init keeps one
pre-forked, already hardened worker (comm "hb-warm") in its own cgroup,
not the user's; the next plain root exec without a terminal execs in it,
and the worker is replaced after each use.

The probe prints what a command could inherit from the one before it: the
shell's fd table, environment, cwd, umask, signal mask and dispositions,
rlimits, process group and session (the shell reads its own status with
builtins: dash blocks every signal while it vforks a command, until the
child has exec'd, so a child reading the shell's status on a busy host can
catch that mask). The first exec of a sandbox takes the
cold path (agent_spawn), so its probe is the reference every warm one must
match, also after a command that changed all it could, after exec_as and
after a PTY process.

The idle worker is not the user's: kill-all neither kills nor counts it,
the user cgroup's pids count leaves it out, init keeps no thread for it,
and a kill -9 -1 from inside that kills it leaves the next exec working.

Warm exec is opt-in (`--warm-exec`): this module's daemon runs with it; a
daemon without it never arms a worker (the last test)."""
import os
import time

import pytest

import hbtest
from conftest import module_daemon_and_client
from hbtest import wait_until


@pytest.fixture(scope="module")
def warm_daemon(e2e_tmp):
    """Its own daemon and client, started with --warm-exec (off by default)."""
    yield from module_daemon_and_client(e2e_tmp / "warm-exec", extra_args=["--warm-exec"])


@pytest.fixture(scope="module")
def daemon(warm_daemon):
    return warm_daemon[0]


@pytest.fixture(scope="module")
def client(warm_daemon):
    return warm_daemon[1]


PROBE = r"""
(cd /proc/$$/fd && echo *)
env | grep -v '^PWD=' | sort
pwd
umask
while IFS= read -r l; do case $l in
  SigPnd:*|ShdPnd:*|SigBlk:*|SigIgn:*|SigCgt:*|NoNewPrivs:*|Seccomp:*|Cap???:*) echo "$l";;
esac; done < /proc/$$/status
cat /proc/$$/limits
read -r pid comm state ppid pgrp sess rest < /proc/$$/stat
[ "$pgrp" = "$$" ] && [ "$sess" = "$$" ] && echo own-session
"""

# Changes everything a command can change in itself and leaves behind
# what it can: fds without CLOEXEC, exported env, cwd, umask, ignored and
# blocked signals (the shell passes SIG_IGN on to children), lowered
# rlimits, a background child in a new group holding fds.
DIRTY = r"""
exec 7>/tmp/warm-leak 8</etc/hostname 9<>/tmp/warm-leak
export WARM_LEAK=1 PATH=/nowhere
cd /tmp
umask 077
trap '' HUP INT USR1 TERM
ulimit -n 64; ulimit -s 1024; ulimit -c 0
setsid sleep 30 >/dev/null 2>&1 &
true
"""


API = "/api/v1/hiveboxes"


def warm_workers(sid, where=""):
    """(host pid, sandbox pid) of the live processes named hb-warm in the
    sandbox's own pids cgroup (where="user": its user cgroup): the idle
    worker, if one is ready."""
    procs = hbtest.cgroup_dir("pids", sid) / where / "cgroup.procs"
    found = []
    for line in procs.read_text().split():
        try:
            with open(f"/proc/{line}/comm") as f:
                if f.read().strip() != "hb-warm":
                    continue
            st = hbtest.proc_status(int(line))
        except OSError:
            continue
        if st.get("State", "Z").startswith("Z"):
            continue
        found.append((int(line), int(st["NSpid"].split()[-1])))
    return found


def one_worker(sid):
    got = []

    def ready():
        got[:] = warm_workers(sid)
        return len(got) == 1
    wait_until(ready, 10, what="one warm worker in the sandbox")
    return got[0]


def probe(sb):
    return sb.sh(PROBE)


def test_worker_is_ready_used_once_and_replaced(sandbox):
    sb = sandbox()
    assert warm_workers(sb.id) == [], "no worker before the first exec (armed lazily)"
    sb.sh("true")
    _, w1 = one_worker(sb.id)
    assert sb.sh("echo $$").strip() == str(w1), "the command ran in the warm worker"
    _, w2 = one_worker(sb.id)
    assert w2 != w1, "a fresh worker replaced the used one"
    assert sb.sh("echo $$").strip() == str(w2)


def test_consecutive_commands_see_no_trace_of_each_other(sandbox):
    sb = sandbox()
    cold = probe(sb)                       # the first exec: today's path
    assert "own-session" in cold and "NoNewPrivs:\t1" in cold, cold
    _, w = one_worker(sb.id)
    assert sb.exec(DIRTY)["exit_code"] == 0
    one_worker(sb.id)
    res = sb.exec(PROBE + "echo pid=$$")
    assert res["exit_code"] == 0, res
    assert res["stdout"].rsplit("pid=", 1)[0] == cold
    assert int(res["stdout"].rsplit("pid=", 1)[1]) != w
    assert sb.exec(PROBE)["stdout"] == cold


def test_no_trace_after_exec_as_and_a_pty_process(sandbox, client):
    sb = sandbox()
    cold = probe(sb)
    one_worker(sb.id)
    res = sb.exec("umask 077; cd /tmp; export X=1; exec 5>/tmp/as; id -u", user="user")
    assert res["exit_code"] == 0 and res["stdout"].strip() == "1000", res
    one_worker(sb.id)
    assert probe(sb) == cold
    r = client.post(f"/api/v1/hiveboxes/{sb.id}/processes",
                    json={"command": "umask 077; trap '' INT; exec 6>/tmp/pty; stty size",
                          "pty": {"cols": 80, "rows": 24}})
    assert r.status_code == 201, r.text
    one_worker(sb.id)
    assert probe(sb) == cold


def test_stdin_exit_codes_signals_timeout_and_cap_on_the_warm_path(sandbox):
    sb = sandbox()
    sb.sh("true")
    one_worker(sb.id)
    res = sb.exec("cat; echo err >&2", stdin="from stdin\n")
    assert res["stdout"] == "from stdin\n" and res["stderr"] == "err\n" and res["exit_code"] == 0
    one_worker(sb.id)
    assert sb.exec("exit 42")["exit_code"] == 42
    one_worker(sb.id)
    res = sb.exec("kill -TERM $$")
    assert res["exit_code"] == 128 + 15, res
    one_worker(sb.id)
    t0 = time.monotonic()
    res = sb.exec("sleep 30", timeout=1)
    assert res.get("timed_out") is True and time.monotonic() - t0 < 20, res
    one_worker(sb.id)
    res = sb.exec("yes | head -c 5000000")
    assert res.get("stdout_truncated") is True and len(res["stdout"]) == 4 * 1024 * 1024
    one_worker(sb.id)
    res = sb.exec("pwd; echo $FOO", cwd="/etc", env=["FOO=bar"])
    assert res["stdout"] == "/etc\nbar\n", res


def test_killed_or_stopped_worker_falls_back_never_fails(sandbox):
    """Root in the sandbox may kill or stop the idle worker (here the host
    does it, as root there could): the exec still runs (cold path after a
    kill; SIGCONT from the request thread after a stop)."""
    sb = sandbox()
    sb.sh("true")
    host, w = one_worker(sb.id)
    os.kill(host, 9)
    wait_until(lambda: hbtest.proc_status(host).get("State", "Z").startswith("Z"), 10,
               what="the worker dead")
    res = sb.exec("echo $$")
    assert res["exit_code"] == 0 and res["stdout"].strip() != str(w), res
    host, w = one_worker(sb.id)
    os.kill(host, 19)                      # SIGSTOP
    res = sb.exec("echo $$")
    assert res["exit_code"] == 0 and res["stdout"].strip() == str(w), res


# What of process $1 a sandbox process can open: the same checks as
# test_escape.py's init probe, in sh so that it runs from a background process.
OPAQUE = r"""
w=$1
ls /proc/$w/fd >/dev/null 2>&1 && echo fd
head -c1 /proc/$w/environ >/dev/null 2>&1 && echo environ
(exec 3</proc/$w/mem) 2>/dev/null && echo mem
readlink /proc/$w/exe >/dev/null 2>&1 && echo exe
echo end
"""


def test_a_sandbox_process_cannot_reach_into_the_worker(sandbox, client):
    """The idle worker is a copy of init's memory: as opaque as init
    (test_escape.py::test_init_processes_are_opaque), and already as
    confined as the command it will become. The probe runs as a background
    process (today's path), so the worker stays idle while it looks."""
    sb = sandbox()
    sb.put("/root/opaque.sh", OPAQUE)
    # the probe can see: on a process of its own, all four open
    assert sb.sh("sh /root/opaque.sh $$").split() == ["fd", "environ", "mem", "exe", "end"]
    mine = sb.sh("grep -E '^(CapEff|CapBnd|NoNewPrivs|Seccomp):' /proc/self/status")
    _, w = one_worker(sb.id)
    cmd = (f"sh /root/opaque.sh {w} > /root/o.tmp; grep -E '^(CapEff|CapBnd|NoNewPrivs|Seccomp):' "
           f"/proc/{w}/status >> /root/o.tmp; mv /root/o.tmp /root/o.txt")
    r = client.post(f"/api/v1/hiveboxes/{sb.id}/processes", json={"command": cmd})
    assert r.status_code == 201, r.text
    got = {}

    def done():
        d = client.download(sb.id, "/root/o.txt")
        got["t"] = d.text if d.status_code == 200 else None
        return got["t"] is not None
    wait_until(done, 20, what="the probe's answer")
    first, st = got["t"].split("end\n", 1)
    assert first == "", f"the idle worker's {first.split()} opened from inside"
    assert st == mine and "NoNewPrivs:\t1" in st and "Seccomp:\t2" in st, (st, mine)
    assert warm_workers(sb.id)[0][1] == w, "the probe did not use the worker"


def test_a_failing_cwd_answers_as_today_and_the_worker_is_replaced(sandbox, client):
    """The worker reports the failed chdir; the request falls back to
    today's path, which answers the error it always gave."""
    fresh = sandbox()
    r_cold = client.post(f"/api/v1/hiveboxes/{fresh.id}/exec", json={"command": "true", "cwd": "/nope"})
    sb = sandbox()
    sb.sh("true")
    _, w = one_worker(sb.id)
    r = client.post(f"/api/v1/hiveboxes/{sb.id}/exec", json={"command": "true", "cwd": "/nope"})
    assert (r.status_code, r.json()) == (r_cold.status_code, r_cold.json())
    assert r.status_code != 200 and "cwd" in r.json()["error"], r.text
    _, w2 = one_worker(sb.id)
    assert w2 != w


def _user_pids(sid):
    return int((hbtest.cgroup_dir("pids", sid) / "user" / "pids.current").read_text())


def test_idle_worker_is_not_the_users(sandbox, client):
    """The checks of test_hostile_init.py, with a worker ready: it is not in
    the user cgroup, kill-all neither counts nor kills it, and init has no
    thread for it (the request thread that answered forked it and ended)."""
    sb = sandbox(memory="64m")
    init = hbtest.init_host_pid(sb.id)
    sb.sh("true")
    host, w = one_worker(sb.id)
    assert warm_workers(sb.id, "user") == [] and _user_pids(sb.id) == 0
    hbtest.wait_until(lambda: len(os.listdir(f"/proc/{init}/task")) == 1, 10, 0.05,
                      "init's request threads to end")
    r = client.post(f"{API}/{sb.id}/processes/kill-all")
    assert r.status_code == 200 and r.json()["killed"] == 0, r.text
    assert warm_workers(sb.id) == [(host, w)], "kill-all took the idle worker"
    sb.sh("sleep 1000 > /dev/null 2>&1 &")
    one_worker(sb.id)
    r = client.post(f"{API}/{sb.id}/processes/kill-all")
    assert r.status_code == 200 and r.json()["killed"] == 1, r.text
    hbtest.wait_until(lambda: _user_pids(sb.id) == 0, 5, 0.05, "the sleep to go")
    # The same worker runs the next command, moved into the user cgroups.
    _, w = one_worker(sb.id)
    out = sb.sh("echo $$; grep pids /proc/self/cgroup").split()
    assert out[0] == str(w) and out[1].endswith("/user"), out


def test_exec_after_kill_all_from_inside_works_20_times(sandbox):
    """kill -9 -1 inside kills the idle worker when there is one (a cold
    command ran the kill) or nothing of it (the worker ran the kill): either
    way the next exec answers with its output, never 137."""
    sb = sandbox(memory="128m")
    sb.sh("true")
    for i in range(20):
        sb.exec("sleep 300 >/dev/null 2>&1 &")
        sb.client.post(f"{API}/{sb.id}/exec",
                       json={"command": "kill -9 -1", "timeout": 30})
        res = sb.exec(f"echo alive {i}")
        assert res["exit_code"] == 0 and res["stdout"] == f"alive {i}\n", (i, res)
    assert "sleep 300" not in sb.sh("ps -eo args=")


def test_exec_after_the_idle_worker_was_killed_from_inside(sandbox, client):
    """A background process (today's path) kills the idle worker with
    kill -9 -1 while no exec runs; the next exec finds it dead and takes
    today's path, 20 times in a row."""
    sb = sandbox(memory="128m")
    sb.sh("true")
    for i in range(20):
        host, _ = one_worker(sb.id)
        r = client.post(f"{API}/{sb.id}/processes", json={"command": "kill -9 -1"})
        assert r.status_code == 201, r.text
        hbtest.wait_until(lambda: hbtest.proc_status(host).get("State", "Z").startswith("Z"),
                          10, 0.02, "the worker killed from inside")
        res = sb.exec(f"echo alive {i}")
        assert res["exit_code"] == 0 and res["stdout"] == f"alive {i}\n", (i, res)


def test_kill_all_right_after_an_exec_counts_no_worker(sandbox, client):
    """The next worker is forked as the answer goes out; a kill-all sent at
    once must not catch it between its clone and its first instructions
    (it is named hb-warm from birth), 20 times in a row."""
    sb = sandbox(memory="64m")
    for i in range(20):
        sb.sh("true")
        r = client.post(f"{API}/{sb.id}/processes/kill-all")
        assert r.status_code == 200 and r.json()["killed"] == 0, (i, r.text)
    assert sb.sh("echo ok").strip() == "ok"


def test_request_past_the_workers_128_kib_takes_todays_path(sandbox):
    """Command plus environment over the worker's 128 KiB message: today's
    path runs it whole, and the idle worker stays for the next exec."""
    sb = sandbox()
    sb.sh("true")
    _, w = one_worker(sb.id)
    env = [f"BIG{i}=" + chr(ord("a") + i) * (30 * 1024) for i in range(5)]   # ~150 KiB
    res = sb.exec("echo $$; printf %s \"$BIG4\" | wc -c", env=env)
    pid, size = res["stdout"].split()
    assert res["exit_code"] == 0 and size == str(30 * 1024) and pid != str(w), res
    assert one_worker(sb.id)[1] == w, "the worker was not consumed"
    assert sb.sh("echo $$").strip() == str(w)


def test_a_daemon_without_the_flag_never_arms_a_worker(private_daemon):
    """The default (no --warm-exec): after several plain execs, each of
    which arms a worker on a --warm-exec daemon (first test), the sandbox
    holds no hb-warm process at all, idle or taken."""
    d = private_daemon()
    c = d.client()
    sid = c.create()["id"]
    try:
        pids = set()
        for _ in range(5):
            res = c.exec(sid, "echo $$")
            assert res["exit_code"] == 0, res
            pids.add(res["stdout"].strip())
        time.sleep(0.3)     # a worker is forked right after an answer, when armed
        assert warm_workers(sid) == [] and warm_workers(sid, "user") == [], \
            "no hb-warm process without --warm-exec"
        own = (hbtest.cgroup_dir("pids", sid) / "cgroup.procs").read_text().split()
        assert own, "the listing sees init: an hb-warm there would have been seen"
        assert len(pids) == 5, "each exec a fresh process"
    finally:
        c.destroy(sid, missing_ok=True)
        c.close()
