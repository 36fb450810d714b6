"""The warm pool (issue 19, docs/pool.md): `--pool base:none=2` keeps two
ready sandboxes aside; a create that matches takes one and gets exactly
what a fresh create gets (id, hostname, limits, /proc view, env, expiry,
events), the pool refills, its sandboxes are nobody's (never listed, found
or reported), and a shutdown, a restart, memory pressure or the user's own
creates take them away without leaving anything behind.

Each test runs its own daemon (a module one for the read-mostly tests)."""
import difflib
import errno
import ipaddress
import json
import os
import secrets
import shutil
import signal
import subprocess
import time

import pytest
import requests

import hbtest
from conftest import shutdown_daemon
from hbtest import Daemon
import test_processes as tp
from test_init_proc import Init
from test_e2b import e2b_key
from test_events_sse import Stream, mine

API = "/api/v1/hiveboxes"
POOL = ["--pool", "base:none=2"]
MIB = 1 << 20
QUOTA_ERRORS = ("Disk quota exceeded", "No space left on device")
# The same /dev/shm size as the pool's 512m (a quarter, 4 KiB pages), yet a
# memory limit of its own: adoption must write it.
MEMORY = "524300k"
MEMORY_BYTES = 524300 * 1024


@pytest.fixture(scope="module")
def pooled(e2e_tmp):
    # The pool reads MemAvailable from a file of ours (fresh_create empties it).
    root = e2e_tmp / ("pool-" + secrets.token_hex(3))
    root.mkdir()
    meminfo = root / "meminfo"
    write_meminfo(meminfo, 64 << 10)
    d = Daemon(root / "d", extra_args=POOL,
               extra_env={"HIVEBOX_POOL_MEMINFO": str(meminfo),
                          "HIVEBOX_POOL_PSI": str(root / "no-psi")})
    d.meminfo = meminfo
    d.start()
    yield d
    shutdown_daemon(d)
    d.assert_no_sanitizer_reports()


def write_meminfo(path, avail_mib):
    path.write_text(f"MemTotal:       {128 << 20} kB\nMemFree:        {avail_mib << 10} kB\n"
                    f"MemAvailable:   {avail_mib << 10} kB\n")


def fresh_create(d, c, **spec):
    """A create by the full path, to compare with a pooled one: memory made
    short (the pool's meminfo file) empties the pool for it."""
    write_meminfo(d.meminfo, 512)
    try:
        hbtest.wait_until(lambda: slot(c)["ready"] == 0 and slot(c)["starting"] == 0, 30, 0.1,
                          "the pool to empty")
        empty = slot(c)["empty"]
        sb = c.create(**spec)
        assert slot(c)["empty"] == empty + 1, "the create was served from the pool"
        return sb
    finally:
        write_meminfo(d.meminfo, 64 << 10)


def pool_of(c):
    return c.expect(c.get("/api/v1/analytics"), 200).json()["pool"]


def slot(c, network="none"):
    return next(e for e in pool_of(c)["entries"] if e["network"] == network)


def wait_ready(c, n, timeout=90):
    def settled():
        s = slot(c)
        return s if s["ready"] == n and s["starting"] == 0 else None
    return hbtest.wait_until(settled, timeout, 0.2, f"{n} pooled sandbox(es) ready")


def on_disk(d):
    top = d.data_dir / "sandboxes"
    return {p for p in os.listdir(top) if not p.startswith(".")} if top.is_dir() else set()


def hidden(d, c):
    """The sandboxes on disk that the API does not list: the pool's."""
    return on_disk(d) - {s["id"] for s in c.list()["sandboxes"]}


def gone(d, sid):
    """Nothing of sandbox sid is left: state dir, cgroups, uid slot, mounts."""
    return (not d.sandbox_dir(sid).exists() and not hbtest.cgroup_dirs(sid)
            and not hbtest.uid_slots_owned_by(d.data_dir, [sid])
            and not [m for m in hbtest.mounts_under(d.data_dir) if sid in m])


def metric(c, name):
    for line in c.expect(c.get("/metrics"), 200).text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not in /metrics")


def cgroup_limits(sid):
    user = {k: hbtest.cgroup_dir(k, sid) / "user" for k in ("memory", "pids")}
    return {"user_mem": int((user["memory"] / "memory.limit_in_bytes").read_text()),
            "user_pids": (user["pids"] / "pids.max").read_text().strip(),
            "mem": int(hbtest.cgroup_file("memory", sid, "memory.limit_in_bytes")),
            "pids": hbtest.cgroup_file("pids", sid, "pids.max"),
            "quota": int(hbtest.cgroup_file("cpu", sid, "cpu.cfs_quota_us")),
            "period": int(hbtest.cgroup_file("cpu", sid, "cpu.cfs_period_us"))}


def tree(root):
    """Every path under root, relative (a sandbox's writable layer)."""
    out = set()
    for dirpath, dirs, files in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        out.update(os.path.normpath(os.path.join(rel, n)) for n in dirs + files)
    return out


# What a command sees of its sandbox; the id replaced so two can be compared.
PROBE = ("hostname; cat /proc/sys/kernel/hostname; echo \"$POOL_T\"; env | sort; "
         "ps -eo pid,ppid,comm; cat /proc/self/cgroup; ls -A /root /tmp /run /dev/shm; "
         "tr '\\0' ' ' < /proc/1/cmdline; echo; ulimit -a; df -k /dev/shm | tail -1 | "
         "awk '{print $2}'; sed 's/ - .*//; s/^[0-9]* [0-9]* //' /proc/self/mountinfo | "
         "awk '{print $3}' | sort; cat /proc/1/status | grep -E '^(Sig|Cap|NoNewPrivs|Seccomp)'")


def test_pooled_create_is_a_fresh_create(pooled):
    d, c = pooled, pooled.client()
    wait_ready(c, 2)
    spare = hidden(d, c)
    assert len(spare) == 2, spare
    hits, made = slot(c)["hits"], metric(c, "hivebox_sandbox_creations_total")
    events = Stream(d)
    time.sleep(1.0)   # the stream's subscription is in place
    spec = dict(memory=MEMORY, cpus=0.5, pids=64, disk="64m", timeout=120,
                env={"POOL_T": "x1"}, metadata={"k": "v"})
    t0 = time.time()
    sb = c.create(**spec)
    # The fresh one's name as long as a pooled id: init blanks its argv in
    # place, so /proc/1/cmdline ends in as many spaces as its state dir path.
    fresh = fresh_create(d, c, name="fresh" + secrets.token_hex(3), **spec)
    try:
        # Served from the pool (the fresh one by the full path, the pool emptied).
        assert sb["id"] in spare and fresh["id"] not in spare
        assert slot(c)["hits"] == hits + 1
        # The answer: what a fresh create answers, expiry from the request.
        for k in ("status", "image", "network", "limits", "metadata", "env_names",
                  "auto_resume", "on_timeout"):
            assert sb[k] == fresh[k], (k, sb[k], fresh[k])
        created = hbtest.parse_rfc3339(sb["created_at"])
        assert t0 - 1 <= created <= time.time() + 1, (sb["created_at"], t0)
        assert hbtest.parse_rfc3339(sb["expires_at"]) - created == 120
        assert sb["limits"] == {"memory": MEMORY, "cpus": 0.5, "pids": 64, "disk": "64m"}
        # Inside: hostname = id, the request's env, the same processes,
        # mounts, limits, signals and capabilities as the fresh one.
        a, b = c.exec(sb["id"], PROBE), c.exec(fresh["id"], PROBE)
        assert a["exit_code"] == 0 and b["exit_code"] == 0, (a, b)
        assert a["stdout"].splitlines()[:3] == [sb["id"], sb["id"], "x1"]
        x, y = a["stdout"].replace(sb["id"], "ID"), b["stdout"].replace(fresh["id"], "ID")
        assert x == y, "\n".join(difflib.unified_diff(y.splitlines(), x.splitlines(), lineterm=""))
        # The cgroups carry the request's limits, exactly as the fresh one's.
        mine_cg, theirs = cgroup_limits(sb["id"]), cgroup_limits(fresh["id"])
        assert mine_cg == theirs, (mine_cg, theirs)
        assert mine_cg["user_mem"] == MEMORY_BYTES and mine_cg["user_pids"] == "64"
        assert mine_cg["quota"] * 2 == mine_cg["period"]
        # No file of the pool: the writable layers and state dirs hold the same names.
        assert tree(d.sandbox_dir(sb["id"]) / "upper") == tree(d.sandbox_dir(fresh["id"]) / "upper")
        # The supervisor saves daemon-counters after it hears of an exec, which
        # may be just after the exec's reply: wait for both to settle (a file the
        # pool left would stay different).
        def state_files(sid):
            return set(os.listdir(d.sandbox_dir(sid)))
        deadline = time.monotonic() + 10
        while state_files(sb["id"]) != state_files(fresh["id"]) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert state_files(sb["id"]) == state_files(fresh["id"]), \
            (state_files(sb["id"]), state_files(fresh["id"]))
        # The disk quota is the request's.
        res = c.exec(sb["id"], "dd if=/dev/zero of=/root/big bs=1M count=200 && sync",
                     timeout=120)
        assert res["exit_code"] != 0 and any(m in res["stderr"] for m in QUOTA_ERRORS), res
        assert int(c.exec(sb["id"], "stat -c %s /root/big")["stdout"]) <= 64 * MIB
        # Events and metrics: a normal sandbox.created, nothing of the pool.
        hbtest.wait_until(lambda: mine(events.events, sb["id"]), 20, 0.1, "sandbox.created")
        got = dict(mine(events.events, sb["id"]))["sandbox.created"]
        assert got["memory"] == MEMORY and got["network"] == "none", got
        assert metric(c, "hivebox_sandbox_creations_total") == made + 2
        wait_ready(c, 2)
        for sid in hidden(d, c):
            assert not mine(events.events, sid), f"an event about pool sandbox {sid}"
    finally:
        events.close()
        c.destroy(sb["id"])
        c.destroy(fresh["id"])
    assert gone(d, sb["id"])


# What a named sandbox's id shows besides PROBE: the image's /etc/hostname
# and /etc/hosts (a fresh create writes neither: they are the image's).
NAMED_PROBE = PROBE + "; echo \"HOSTNAME=$HOSTNAME\"; cat /etc/hostname /etc/hosts 2>&1; true"


def pool_name():
    """As long as a pooled id (hb- and 8 hex digits): init's blanked argv
    in /proc/1/cmdline keeps the length of the state dir path it was
    launched with (docs/pool.md, "Not built")."""
    return "n" + secrets.token_hex(5)


def host_view(d, sid):
    """What the host keys by the id: state dir files, record id, cgroups,
    uid slot."""
    sbdir = d.sandbox_dir(sid)
    record = json.loads((sbdir / "sandbox.json").read_text())
    return {"files": sorted(os.listdir(sbdir)), "record_id": record["id"],
            "cgroups": len(hbtest.cgroup_dirs(sid)),
            "uid_slots": len(hbtest.uid_slots_owned_by(d.data_dir, [sid]))}


def test_a_named_create_from_the_pool_is_a_fresh_named_create(pooled):
    d, c = pooled, pooled.client()
    wait_ready(c, 2)
    spare, hits = hidden(d, c), slot(c)["hits"]
    spec = dict(memory=MEMORY, cpus=0.5, pids=64, timeout=120, env={"POOL_T": "x2"})
    name, other = pool_name(), pool_name()
    sb = c.create(name=name, **spec)
    taken = spare - on_disk(d)   # the pooled id it had is gone everywhere
    fresh = fresh_create(d, c, name=other, **spec)
    try:
        assert sb["id"] == name and fresh["id"] == other
        assert slot(c)["hits"] == hits + 1
        assert len(taken) == 1, (spare, taken)
        old = taken.pop()
        assert gone(d, old) and not (d.data_dir / "sandboxes" / old).exists()
        assert not hbtest.cgroup_dirs(old)
        for k in ("status", "image", "network", "limits", "env_names"):
            assert sb[k] == fresh[k], (k, sb[k], fresh[k])
        assert c.get(f"{API}/{name}").json()["id"] == name
        assert name in {s["id"] for s in c.list()["sandboxes"]}
        # Inside: the UTS hostname, HOSTNAME, and all else as the fresh one's.
        a, b = c.exec(name, NAMED_PROBE), c.exec(other, NAMED_PROBE)
        assert a["exit_code"] == 0 and b["exit_code"] == 0, (a, b)
        assert a["stdout"].splitlines()[:3] == [name, name, "x2"]
        assert f"HOSTNAME={name}\n" in a["stdout"] and old not in a["stdout"]
        x, y = a["stdout"].replace(name, "ID"), b["stdout"].replace(other, "ID")
        assert x == y, "\n".join(difflib.unified_diff(y.splitlines(), x.splitlines(), lineterm=""))
        # A background process gets the name too (init's other spawn path).
        p = tp.start(c, name, command="echo $HOSTNAME; hostname")
        tp.wait_exited(c, name, p["pid"])
        out = tp.joined(tp.read_output(d, name, p["pid"]))
        assert out == f"{name}\n{name}\n".encode(), out
        # The host side: state dir, record, cgroups (limits too), uid slot.
        assert host_view(d, name) == dict(host_view(d, other), record_id=name)
        assert hbtest.init_host_pid(name), "its init is not in the renamed cgroup"
        assert cgroup_limits(name) == cgroup_limits(other)
        # set_hostname once a command ran: refused (EBUSY), as is a name that
        # is not a sandbox name (EINVAL); and no command can rename it.
        for host, err in ((other, errno.EBUSY), ("../x", errno.EINVAL), ("a" * 64, errno.EINVAL)):
            conn = Init(d.sandbox_dir(name) / "run" / "init.sock")
            try:
                conn.send({"op": "set_hostname", "hostname": host})
                ans = conn.read()
            finally:
                conn.close()
            assert ans["t"] == "err" and ans["errno"] == err, (host, ans)
        res = c.exec(name, "hostname evil; echo $?; hostname")
        assert res["stdout"].splitlines()[-1] == name, res
        # A taken name is refused as before, and the pool keeps its sandboxes.
        wait_ready(c, 2)
        before = hidden(d, c)
        r = c.post(API, json={"name": name})
        assert r.status_code == 409 and "name" in r.json()["error"], r.text
        assert hidden(d, c) == before and slot(c)["hits"] == hits + 1
    finally:
        c.destroy(name)
        c.destroy(other)
    assert gone(d, name) and gone(d, other)


def test_a_named_pooled_sandbox_is_reattached_by_name_after_a_restart(private_daemon):
    d = private_daemon(extra_args=POOL)
    c = d.client()
    wait_ready(c, 2)
    spare = hidden(d, c)
    name = pool_name()
    sb = c.create(name=name, timeout=600)
    assert sb["id"] == name and slot(c)["hits"] == 1
    old = (spare - on_disk(d)).pop()
    c.exec(name, "echo kept > /root/f")
    pid = hbtest.init_host_pid(name)
    c.close()
    d.stop(signal.SIGTERM)
    assert hbtest.init_host_pid(name) == pid, "the named sandbox died with the daemon"
    d.start()
    c = d.client()
    assert name in {s["id"] for s in c.list()["sandboxes"]}
    res = c.exec(name, "hostname; echo $HOSTNAME; cat /root/f")
    assert res["stdout"] == f"{name}\n{name}\nkept\n", res
    c.destroy(name)
    assert gone(d, name) and gone(d, old)
    assert not [p for p in os.listdir(d.data_dir / "sandboxes") if old in p or name in p]
    assert not hbtest.cgroup_dirs(name) and not hbtest.cgroup_dirs(old)


def test_a_rename_failing_halfway_leaves_the_pooled_or_a_fresh_sandbox(private_daemon):
    # The name's pids cgroup exists already (made here): the rename fails
    # after the state dir, the uid slot and the memory/cpu cgroups took the
    # name. Everything goes back to the pooled id, which is then destroyed,
    # and the create is made fresh (which fails too on that cgroup, and
    # leaves nothing either): no half-renamed sandbox, nothing of the old id.
    d = private_daemon(extra_args=["--pool", "base:none=1"])
    c = d.client()
    wait_ready(c, 1)
    old = hidden(d, c).pop()
    name = pool_name()
    stray = hbtest.cgroup_dir("pids", old).parent / name
    stray.mkdir()
    try:
        r = c.post(API, json={"name": name})
        assert r.status_code in (201, 500), r.text
        hbtest.wait_until(lambda: gone(d, old), 20, 0.2, f"pooled sandbox {old} to go")
        assert not hbtest.uid_slots_owned_by(d.data_dir, [old])
        if r.status_code == 201:   # the fresh create managed after all
            assert c.exec(name, "hostname")["stdout"] == name + "\n"
            c.destroy(name)
        assert not d.sandbox_dir(name).exists() and name not in on_disk(d)
        assert not hbtest.uid_slots_owned_by(d.data_dir, [name])
        assert [p for p in hbtest.cgroup_dirs(name) if p != stray] == []
        assert "cannot take the name" in d.log_text()
        wait_ready(c, 1)   # the pool goes on
        sb = c.create(name=pool_name())
        assert c.exec(sb["id"], "hostname")["stdout"] == sb["id"] + "\n"
        c.destroy(sb["id"])
    finally:
        if stray.exists():   # the failed fresh create's undo removes it (by name)
            stray.rmdir()


def test_pool_refills_and_its_sandboxes_are_nobodys(pooled):
    d, c = pooled, pooled.client()
    wait_ready(c, 2)
    taken = [c.create(memory="512m")["id"] for _ in range(3)]
    try:
        wait_ready(c, 2)   # refilled after use
        spare = hidden(d, c)
        assert len(spare) == 2 and not spare & set(taken), (spare, taken)
        listed = {s["id"] for s in c.list()["sandboxes"]}
        assert set(taken) <= listed and not spare & listed
        e2b = requests.get(d.url + "/v2/sandboxes", headers={"X-API-KEY": e2b_key(d.key)},
                           timeout=30)
        assert e2b.status_code == 200 and not [s for s in spare if s in e2b.text], e2b.text
        for sid in spare:
            assert c.get(f"{API}/{sid}").status_code == 404
            assert c.post(f"{API}/{sid}/exec", json={"command": "id"}).status_code == 404
            assert c.delete(f"{API}/{sid}").status_code == 404
            assert hbtest.init_host_pid(sid), f"pool sandbox {sid} is not running"
        running = metric(c, 'hivebox_sandboxes{state="running"}')
        assert running == len(listed), (running, listed)
        assert metric(c, 'hivebox_pool_ready{image="base",network="none"}') == 2
        promtool = shutil.which("promtool")
        if promtool:   # the pool's section keeps the page valid
            res = subprocess.run([promtool, "check", "metrics"], capture_output=True, timeout=60,
                                 input=c.get("/metrics").content)
            assert res.returncode == 0, (res.stdout + res.stderr).decode()
    finally:
        for sid in taken:
            c.destroy(sid)


@pytest.mark.parametrize("spec", [{"skills": []}, {"memory": "256m"}],
                         ids=["a-skills-list", "other-memory"])
def test_a_create_the_pool_cannot_serve_takes_the_full_path(pooled, spec):
    d, c = pooled, pooled.client()
    wait_ready(c, 2)
    spare, before = hidden(d, c), pool_of(c)
    sb = c.create(**spec)
    try:
        assert sb["id"] not in spare
        if "memory" in spec:
            assert sb["limits"]["memory"] == "256m"
            assert int(c.exec(sb["id"], "df -k /dev/shm | tail -1 | awk '{print $2}'")[
                "stdout"]) == 64 * 1024
        assert c.exec(sb["id"], "hostname")["stdout"].strip() == sb["id"]
        after = pool_of(c)
        assert after["misses"] == before["misses"] + 1
        assert after["hits"] == before["hits"] and hidden(d, c) == spare
    finally:
        c.destroy(sb["id"])


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_restart_and_shutdown_with_a_pool_leave_nothing(private_daemon, sig):
    d = private_daemon(extra_args=POOL)
    c = d.client()
    wait_ready(c, 2)
    user = c.create(name="keep-" + secrets.token_hex(3))["id"]
    wait_ready(c, 2)   # a named create takes a pooled sandbox: refilled
    spare = hidden(d, c)
    inits = {sid: hbtest.init_host_pid(sid) for sid in spare}
    assert len(spare) == 2 and all(inits.values()), inits
    assert len(hbtest.uid_slots_owned_by(d.data_dir, spare)) == 2
    c.close()
    d.stop(sig)
    if sig == signal.SIGTERM:   # the pool goes with the daemon; the user's sandbox stays
        for sid in spare:
            assert gone(d, sid) and not hbtest.pid_alive(inits[sid]), sid
    assert hbtest.init_host_pid(user), "the user's sandbox died with the daemon"
    d.start()
    c = d.client()
    wait_ready(c, 2)
    for sid in spare:   # SIGKILL: found at start and destroyed
        assert gone(d, sid) and not hbtest.pid_alive(inits[sid]), sid
    assert [s["id"] for s in c.list()["sandboxes"]] == [user]
    fresh_spare = hidden(d, c)
    assert len(fresh_spare) == 2 and not fresh_spare & spare
    c.destroy(user)
    c.close()
    assert d.stop(signal.SIGTERM) == 0
    assert on_disk(d) == set(), on_disk(d)
    for sid in fresh_spare | {user}:
        assert gone(d, sid), sid
    assert not hbtest.sandbox_mounts(d.data_dir)


def test_memory_pressure_shrinks_the_pool_and_creates_still_work(private_daemon, tmp_path):
    # The pool reads MemAvailable from a file this test writes (the daemon's
    # HIVEBOX_POOL_MEMINFO): memory runs short without starving the host.
    meminfo = tmp_path / "meminfo"
    write_meminfo(meminfo, 64 << 10)
    d = private_daemon(extra_args=POOL + ["--pool-min-available", "1g"],
                       extra_env={"HIVEBOX_POOL_MEMINFO": str(meminfo),
                                  "HIVEBOX_POOL_PSI": str(tmp_path / "no-psi")})
    c = d.client()
    wait_ready(c, 2)
    spare = hidden(d, c)
    write_meminfo(meminfo, 512)   # below --pool-min-available
    hbtest.wait_until(lambda: slot(c)["ready"] == 0 and not hidden(d, c), 30, 0.2,
                      "the pool to shrink")
    state = pool_of(c)
    assert state["memory_pressure"] is True and state["shrunk"] == 2, state
    assert metric(c, "hivebox_pool_memory_pressure") == 1
    for sid in spare:
        hbtest.wait_until(lambda: gone(d, sid), 10, 0.2, f"pool sandbox {sid} to go")
    sb = c.create()   # the pool is empty: the full path, and it works
    assert sb["id"] not in spare
    assert c.exec(sb["id"], "echo ok")["stdout"] == "ok\n"
    time.sleep(2.5)   # still short: no refill
    assert slot(c)["ready"] == 0 and slot(c)["starting"] == 0
    write_meminfo(meminfo, 64 << 10)
    wait_ready(c, 2)
    assert pool_of(c)["memory_pressure"] is False
    c.destroy(sb["id"])


def test_the_pool_yields_to_the_users_creates(private_daemon):
    # Two sandboxes at most: the pool fills them while no user needs them,
    # and gives them up for the users' creates (never a "capacity" refusal
    # because of it).
    d = private_daemon(extra_args=POOL, extra_env={"HIVEBOX_MAX_SANDBOXES": "2"})
    c = d.client()
    wait_ready(c, 2)
    # 256m: creates the pool cannot serve (another /dev/shm size)
    a = c.create(name="a-" + secrets.token_hex(3), memory="256m")["id"]
    b = c.create(name="b-" + secrets.token_hex(3), memory="256m")["id"]
    hbtest.wait_until(lambda: not hidden(d, c), 20, 0.2, "the pool to make room")
    assert slot(c)["ready"] == 0
    r = c.post(API, json={})
    assert r.status_code == 503 and "max-sandboxes" in r.json()["error"], r.text
    c.destroy(a)
    wait_ready(c, 1)   # room for one again: the pool takes it...
    third = c.create()   # ...and hands it over
    assert slot(c)["hits"] == 1 and third["id"] not in (a, b)
    for sid in (b, third["id"]):
        c.destroy(sid)


def test_the_default_is_a_small_pool_and_zero_turns_it_off(private_daemon, tmp_path):
    # No --pool and no HIVEBOX_POOL (the suites' harness sets "0": an empty
    # variable counts as unset): the documented default, base:none=2.
    # Memory as the pool reads it is ours: a loaded host must not hold it back.
    meminfo = tmp_path / "meminfo"
    write_meminfo(meminfo, 64 << 10)
    d = private_daemon(extra_env={"HIVEBOX_POOL": "", "HIVEBOX_POOL_MEMINFO": str(meminfo),
                                  "HIVEBOX_POOL_PSI": str(tmp_path / "no-psi")})
    c = d.client()
    entries = pool_of(c)["entries"]
    assert [(e["image"], e["network"], e["target"]) for e in entries] == [("base", "none", 2)]
    wait_ready(c, 2)
    assert c.list()["sandboxes"] == [] and len(hidden(d, c)) == 2
    sb = c.create()
    assert slot(c)["hits"] == 1, pool_of(c)
    c.destroy(sb["id"])
    off = private_daemon(extra_args=["--pool", "0"], extra_env={"HIVEBOX_POOL": ""})
    assert pool_of(off.client())["entries"] == []
    assert not on_disk(off)


def test_bad_pool_settings_stop_the_daemon_naming_the_flag(e2e_tmp):
    for value, why in (("base=2", "missing"), ("base:bogus=2", "network"),
                       ("base:none=65", "count"), ("../x:none=1", "image")):
        d = Daemon(e2e_tmp / ("poolbad-" + secrets.token_hex(3)), extra_args=["--pool", value])
        with pytest.raises(RuntimeError) as err:
            d.start(timeout=20)
        assert "--pool" in str(err.value) and why in str(err.value), str(err.value)[-600:]


def test_isolated_pool_sandbox_gets_the_network_a_fresh_one_gets(private_daemon):
    from test_network import free_subnet, remove_network
    bridge = "hbp" + secrets.token_hex(3)
    subnet = free_subnet()
    d = None
    try:
        d = private_daemon(extra_args=["--pool", "base:isolated=1"],
                           extra_env={"HIVEBOX_BRIDGE": bridge, "HIVEBOX_SUBNET": str(subnet)})
        c = d.client()
        hbtest.wait_until(lambda: slot(c, "isolated")["ready"] == 1, 90, 0.2, "a pooled sandbox")
        spare = hidden(d, c)
        # Named: the address claim is renamed with it (netaddrs/<ip> holds the id).
        sb = c.create(name=pool_name(), network="isolated")
        # skills=[]: a create the pool cannot serve, even refilled by then
        fresh = c.create(name="fresh" + secrets.token_hex(3), network="isolated", skills=[])
        assert not spare & on_disk(d) and slot(c, "isolated")["hits"] == 1
        ips = [sb["network"]["ip"], fresh["network"]["ip"]]
        assert all(ipaddress_in(ip, subnet) for ip in ips) and ips[0] != ips[1], ips
        probe = "ip -4 -o addr show | awk '{print $2, $4}'; ip -4 route"
        a, b = c.exec(sb["id"], probe)["stdout"], c.exec(fresh["id"], probe)["stdout"]
        assert a.replace(ips[0], "IP") == b.replace(ips[1], "IP"), (a, b)
        assert f"{ips[0]}/" in a
        claims = d.data_dir / "netaddrs"
        assert (claims / ips[0]).read_text() == sb["id"]
        c.destroy(sb["id"])
        c.destroy(fresh["id"])
        assert not (claims / ips[0]).exists() and gone(d, sb["id"])
    finally:
        if d:   # before its bridge goes (the fixture's own shutdown then finds it stopped)
            shutdown_daemon(d)
        remove_network(bridge)


def ipaddress_in(ip, net):
    return ip is not None and ipaddress.ip_address(ip) in net


def test_a_pooled_sandbox_that_dies_is_replaced_without_a_trace(pooled):
    d, c = pooled, pooled.client()
    wait_ready(c, 2)
    events = Stream(d)
    time.sleep(1.0)
    try:
        victim = sorted(hidden(d, c))[0]
        pid = hbtest.init_host_pid(victim)
        assert pid
        os.kill(pid, signal.SIGKILL)
        hbtest.wait_until(lambda: gone(d, victim), 20, 0.2, "the dead pooled sandbox to go")
        wait_ready(c, 2)
        assert victim not in hidden(d, c) and len(hidden(d, c)) == 2
        assert victim not in {s["id"] for s in c.list()["sandboxes"]}
        assert c.get(f"{API}/{victim}").status_code == 404
        time.sleep(0.5)
        assert not mine(events.events, victim), "events about a pooled sandbox"
        assert metric(c, 'hivebox_sandboxes{state="failed"}') == 0
    finally:
        events.close()


def test_a_skill_added_after_the_pool_filled_is_in_the_next_create(private_daemon):
    # Skills are bound at launch, every skill of the skills dir when the
    # create names none: a pooled sandbox made before a skill was added no
    # longer fits, and the create makes a fresh one (same id) instead.
    d = private_daemon(extra_args=POOL)
    c = d.client()
    wait_ready(c, 2)
    spare = hidden(d, c)
    skill = d.data_dir / "skills" / "pooltest"
    skill.mkdir(parents=True)
    (skill / "SKILL.md").write_text("# pooltest\n")
    os.chmod(d.data_dir / "skills", 0o755)
    sb = c.create()
    assert sb["id"] in spare
    assert c.exec(sb["id"], "cat /opt/skills/pooltest/SKILL.md")["stdout"] == "# pooltest\n"
    assert "no longer fits" in d.log_text()
    c.destroy(sb["id"])
