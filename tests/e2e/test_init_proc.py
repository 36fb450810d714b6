"""Background processes at the init protocol (schemas/init-protocol.md,
"Processes"): these tests speak msgpack frames to a sandbox's init socket
directly, so they check init's side alone (the daemon's REST routes are
tested in test_processes.py)."""
import os
import signal
import socket
import struct
import threading
import time

import msgpack
import pytest

import hbtest

RING = 2 << 20
BUDGET = 32 << 20
# ASan keeps freed buffers in quarantine and adds shadow memory: init's RSS
# says nothing about its own bounds there (the bytes kept are still checked).
SANITIZED = hbtest.SANITIZED


class Init:
    """One connection to a sandbox's init: send one request, read answers."""

    def __init__(self, path, timeout=20):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(timeout)
        self.s.connect(str(path))

    def send(self, msg):
        body = msgpack.packb(msg, use_bin_type=True)
        self.s.sendall(struct.pack(">I", len(body)) + body)

    def _exact(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.s.recv(n - len(buf))
            if not chunk:
                raise EOFError("init closed the connection")
            buf += chunk
        return buf

    def read(self):
        n = struct.unpack(">I", self._exact(4))[0]
        return msgpack.unpackb(self._exact(n), raw=False)

    def close(self):
        self.s.close()


@pytest.fixture
def init(sandbox, daemon):
    """sandbox() -> (sb, call, connect): call(op, **fields) sends one request
    on a new connection and returns the answers up to the last one."""
    sb = sandbox()
    path = daemon.sandbox_dir(sb.id) / "run" / "init.sock"
    conns = []

    def connect(timeout=20):
        c = Init(path, timeout)
        conns.append(c)
        return c

    def call(op, **fields):
        c = connect()
        c.send({"op": op, **fields})
        out = []
        while True:
            a = c.read()
            out.append(a)
            if a["t"] in ("ok", "err", "end", "exit") or (op == "proc_start" and a["t"] == "proc"):
                break
        c.close()
        return out

    yield sb, call, connect
    for c in conns:
        c.close()


def start(call, cmd, **kw):
    a = call("proc_start", cmd=cmd, **kw)
    assert a[-1]["t"] == "proc", a
    return a[-1]


def output(call, pid, offset=0):
    """Replay (no follow): (proc frame, bytes by fd, last frame)."""
    a = call("proc_output", pid=pid, offset=offset, follow=False)
    assert a[0]["t"] == "proc", a
    data = {1: b"", 2: b""}
    off = None
    for f in a[1:-1]:
        assert f["t"] == "out"
        if off is not None:
            assert f["off"] == off, "out frames are contiguous"
        data[f["fd"]] += f["data"]
        off = f["off"] + len(f["data"])
    return a[0], data, a[-1]


def wait_exit(call, pid, timeout=20):
    def ended():
        a = call("proc_list", pid=pid)
        return a[0] if a[0]["t"] == "proc" and a[0]["ended_at"] else None
    return hbtest.wait_until(ended, timeout, what=f"process {pid} to exit")


# ---------------------------------------------------------------- start, list, output

def test_start_list_and_output_replay_in_order(init):
    sb, call, _ = init
    p = start(call, "echo out1; echo err1 >&2; echo out2; exit 3", tag="job-1")
    assert p["pid"] > 1 and p["tag"] == "job-1" and p["user"] == "root"
    assert p["started_at"] > 1e12 and p["ended_at"] == 0 and p["seq"] >= 1
    done = wait_exit(call, p["pid"])
    assert done["code"] == 3 and done["signal"] == 0 and not done["timed_out"]
    assert done["off"] == len(b"out1\nerr1\nout2\n") and done["first"] == 0
    head, data, last = output(call, p["pid"])
    assert data[1] == b"out1\nout2\n" and data[2] == b"err1\n"
    assert last["t"] == "exit" and last["code"] == 3 and last["off"] == done["off"]
    listed = call("proc_list")
    assert listed[-1]["t"] == "end"
    assert [x["pid"] for x in listed[:-1]] == [p["pid"]]
    by_tag = call("proc_list", tag="job-1")
    assert by_tag[0]["pid"] == p["pid"] and by_tag[1]["t"] == "end"


def test_output_from_an_offset_and_of_a_running_process(init):
    sb, call, _ = init
    p = start(call, "printf 0123456789; sleep 30")
    hbtest.wait_until(lambda: call("proc_list", pid=p["pid"])[0]["off"] == 10, 10)
    head, data, last = output(call, p["pid"], offset=4)
    assert data[1] == b"456789"
    assert last["t"] == "end", "not following a running process: end"
    call("proc_forget", pid=p["pid"])


def test_follow_streams_new_output_then_exit(init):
    sb, call, connect = init
    p = start(call, "read x; echo got $x; sleep 0.3; echo bye", keep_stdin=True)
    c = connect()
    c.send({"op": "proc_output", "pid": p["pid"], "offset": 0, "follow": True})
    assert c.read()["t"] == "proc"
    ok = call("proc_input", pid=p["pid"], stdin=b"hi\n")
    assert ok[0] == {"t": "ok", "size": 3}
    got = b""
    while True:
        f = c.read()
        if f["t"] == "exit":
            break
        assert f["t"] == "out"
        got += f["data"]
    assert got == b"got hi\nbye\n" and f["code"] == 0 and f["off"] == len(got)


def test_an_offset_beyond_the_end_waits_for_that_output(init):
    sb, call, connect = init
    p = start(call, "read x; printf abcdef", keep_stdin=True)
    c = connect()
    c.send({"op": "proc_output", "pid": p["pid"], "offset": 3, "follow": True})
    assert c.read()["off"] == 0
    call("proc_input", pid=p["pid"], stdin=b"go\n")
    f = c.read()
    assert f["t"] == "out" and f["off"] == 3 and f["data"] == b"def"
    assert c.read()["t"] == "exit"


def test_ring_overflow_keeps_the_newest_2mib(init):
    sb, call, _ = init
    total = 5 << 20
    p = start(call, f"head -c {total} /dev/zero | tr '\\0' a; printf END")
    done = wait_exit(call, p["pid"], 60)
    assert done["off"] == total + 3
    assert done["first"] == done["off"] - RING
    head, data, last = output(call, p["pid"], offset=0)
    assert head["first"] == done["first"], "the proc frame tells what was dropped"
    assert len(data[1]) == RING and data[1].endswith(b"aaaEND")
    assert last["t"] == "exit" and last["off"] == total + 3


def test_errors_name_the_problem(init):
    sb, call, _ = init
    assert call("proc_list", pid=99999)[0]["errno"] == 3           # ESRCH
    assert call("proc_output", tag="nope", offset=0, follow=False)[0]["errno"] == 3
    both = call("proc_signal", pid=5, tag="x", sig=15)[0]
    assert both["errno"] == 22 and "pid" in both["msg"]
    assert call("proc_signal", sig=15)[0]["errno"] == 22           # neither
    bad = call("proc_start", cmd="true", cols=80)[0]
    assert bad["errno"] == 22 and "rows" in bad["msg"]
    big = call("proc_start", cmd="true", cols=1001, rows=10)[0]
    assert big["t"] == "err" and big["errno"] == 22
    p = start(call, "sleep 30", tag="dup")
    assert call("proc_start", cmd="true", tag="dup")[0]["errno"] == 17  # EEXIST
    assert call("proc_input", pid=p["pid"], stdin=b"x")[0]["errno"] == 32  # EPIPE: no stdin
    assert call("proc_resize", pid=p["pid"], cols=10, rows=10)[0]["errno"] == 25  # ENOTTY
    nouser = call("proc_start", cmd="true", user="nosuchuser")[0]
    assert nouser["errno"] == 22 and "user" in nouser["msg"]
    nocwd = call("proc_start", cmd="true", cwd="/no/such/dir")[0]
    assert nocwd["t"] == "err" and "cwd" in nocwd["msg"]
    call("proc_forget", tag="dup")
    assert call("proc_list")[0]["t"] == "end", "failed starts leave nothing behind"


# ---------------------------------------------------------------- input, signal, forget, timeout

def test_input_close_and_signal(init):
    sb, call, _ = init
    p = start(call, "cat; echo eof", keep_stdin=True)
    assert p["stdin_open"]
    assert call("proc_input", pid=p["pid"], stdin=b"abc", close=True)[0]["t"] == "ok"
    done = wait_exit(call, p["pid"])
    assert not done["stdin_open"]
    assert output(call, p["pid"])[1][1] == b"abceof\n"
    q = start(call, "trap 'echo term; exit 7' TERM; while :; do sleep 0.1; done")
    time.sleep(0.3)
    assert call("proc_signal", pid=q["pid"], sig=15)[0]["t"] == "ok"
    d = wait_exit(call, q["pid"])
    assert d["code"] == 7
    assert call("proc_signal", pid=q["pid"], sig=15)[0]["errno"] == 3, "exited: ESRCH"


def test_input_to_a_process_that_never_reads_is_bounded(init):
    sb, call, _ = init
    p = start(call, "sleep 60", keep_stdin=True)
    t0 = time.monotonic()
    a = call("proc_input", pid=p["pid"], stdin=b"x" * (1 << 20))[0]
    took = time.monotonic() - t0
    assert a["errno"] == 11 and 9 < took < 30, (a, took)
    # Meanwhile and after, init answers other requests at once (served vs
    # stalled: held by that input it would take its 10 s again).
    t0 = time.monotonic()
    assert call("proc_list")[-1]["t"] == "end"
    assert time.monotonic() - t0 < 8
    call("proc_forget", pid=p["pid"])


def test_timeout_kills_the_group(init):
    sb, call, _ = init
    p = start(call, "sleep 100 & sleep 100", timeout_ms=1500)
    hbtest.wait_until(lambda: sb.sh("pgrep -x sleep | wc -l").strip() == "2", 5)
    d = wait_exit(call, p["pid"], 10)
    assert d["timed_out"] and d["signal"] == 9 and d["code"] == 137
    assert sb.sh("pgrep -x sleep || true").strip() == "", "the whole group was killed"


def test_forget_kills_and_removes(init):
    sb, call, _ = init
    p = start(call, "sleep 100", tag="gone")
    assert call("proc_forget", tag="gone")[0]["t"] == "ok"
    assert call("proc_list", tag="gone")[0]["errno"] == 3
    hbtest.wait_until(lambda: sb.sh("pgrep -x sleep || true").strip() == "", 5)
    again = start(call, "true", tag="gone")
    assert again["tag"] == "gone", "the tag is free again"


# ---------------------------------------------------------------- PTY

def test_pty_terminal_size_resize_and_input(init):
    sb, call, connect = init
    p = start(call, "tty; echo $TERM; stty size; read l; stty size; echo line=$l",
              cols=100, rows=30)
    assert p["cols"] == 100 and p["rows"] == 30 and p["stdin_open"]
    hbtest.wait_until(lambda: b"30 100" in output(call, p["pid"])[1][1], 10)
    assert call("proc_resize", pid=p["pid"], cols=120, rows=40)[0]["t"] == "ok"
    call("proc_input", pid=p["pid"], stdin=b"hello\n")
    wait_exit(call, p["pid"])
    head, data, last = output(call, p["pid"])
    text = data[1].decode()
    assert data[2] == b"", "a PTY has one stream"
    assert "/dev/pts/" in text and "xterm-256color" in text
    assert "30 100" in text and "40 120" in text and "line=hello" in text
    assert head["cols"] == 120 and head["rows"] == 40


def test_pty_as_another_user_owns_its_terminal(init):
    sb, call, _ = init
    sb.sh("id hbuser >/dev/null 2>&1 || useradd -m -u 1234 hbuser")
    p = start(call, "stat -c %u $(tty); id -u", user="hbuser", cols=80, rows=24)
    wait_exit(call, p["pid"])
    assert output(call, p["pid"])[1][1].split() == [b"1234", b"1234"]
    assert p["user"] == "hbuser"


# ---------------------------------------------------------------- attach

def test_attach_sends_input_and_a_newer_attach_takes_over(init):
    sb, call, connect = init
    p = start(call, "cat", cols=80, rows=24)
    a1 = connect()
    a1.send({"op": "proc_attach", "pid": p["pid"], "offset": 0})
    assert a1.read()["t"] == "proc"
    a1.send({"t": "data", "data": b"one\n"})
    got = b""
    while b"one\r\n" not in got:           # the terminal echoes, cat repeats
        got += a1.read()["data"]
    a2 = connect()
    a2.send({"op": "proc_attach", "pid": p["pid"], "offset": 0})
    assert a2.read()["t"] == "proc"
    while True:
        f = a1.read()
        if f["t"] != "out":
            break
    assert f["t"] == "err" and f["errno"] == 16 and "taken over" in f["msg"]
    a2.send({"t": "resize", "cols": 50, "rows": 10})
    a2.send({"t": "kill", "signal": 9})
    while True:
        f = a2.read()
        if f["t"] == "exit":
            break
    assert f["signal"] == 9
    assert call("proc_list", pid=p["pid"])[0]["cols"] == 50


# ---------------------------------------------------------------- watch

def test_watch_reports_starts_and_exits_in_seq_order(init):
    sb, call, connect = init
    first = start(call, "sleep 0.5")
    w = connect()
    w.send({"op": "proc_watch", "offset": first["seq"] - 1})
    ev = w.read()
    assert ev["t"] == "proc" and ev["pid"] == first["pid"] and ev["ended_at"] == 0
    second = start(call, "exit 4")
    seen = [ev]
    while True:
        f = w.read()
        if f["t"] == "end":
            break
        seen.append(f)
    seqs = [e["seq"] for e in seen]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    kinds = {(e["pid"], bool(e["ended_at"])) for e in seen}
    assert kinds == {(first["pid"], False), (first["pid"], True),
                     (second["pid"], False), (second["pid"], True)}
    assert [e["code"] for e in seen if e["pid"] == second["pid"] and e["ended_at"]] == [4]
    # From now with nothing running: end at once.
    assert call("proc_watch")[0]["t"] == "end"


# ---------------------------------------------------------------- limits and hostility

def test_64_running_then_eagain_and_exited_ones_make_room(init):
    sb, call, _ = init
    pids = [start(call, "sleep 60")["pid"] for _ in range(64)]
    full = call("proc_start", cmd="true")[0]
    assert full["t"] == "err" and full["errno"] == 11
    call("proc_signal", pid=pids[0], sig=9)
    wait_exit(call, pids[0])
    call("proc_signal", pid=pids[1], sig=9)
    wait_exit(call, pids[1])
    new = start(call, "true")              # evicts the oldest exited
    listed = [x["pid"] for x in call("proc_list")[:-1]]
    assert len(listed) == 64 and pids[0] not in listed and pids[1] in listed
    assert new["pid"] in listed
    for pid in listed:
        call("proc_forget", pid=pid)


def test_flood_fork_and_closed_pipes_do_not_hold_init(init, daemon):
    sb, call, _ = init
    init_pid = hbtest.init_host_pid(sb.id)
    rss0 = _rss_kib(init_pid)
    flood = [start(call, "cat /dev/zero")["pid"] for _ in range(20)]
    forks = start(call, "for i in $(seq 10); do (yes >/dev/null &); done; sleep 60")
    closed = start(call, "exec >&- 2>&- <&-; sleep 60")
    time.sleep(2)
    t0 = time.monotonic()
    assert sb.sh("echo alive").strip() == "alive"
    lst = call("proc_list")
    assert time.monotonic() - t0 < 20   # served vs held by the 60 s sleepers
    by = {x["pid"]: x for x in lst[:-1]}
    assert all(by[p]["off"] > RING for p in flood), "floods are read and counted"
    assert all(by[p]["off"] - by[p]["first"] <= RING for p in flood)
    kept = sum(x["off"] - x["first"] for x in by.values())
    assert kept <= BUDGET, f"all rings together keep {kept} bytes, over the budget"
    grown = _rss_kib(init_pid) - rss0
    assert SANITIZED or grown < (BUDGET >> 10) + 16 * 1024, f"init grew by {grown} KiB"
    hbtest.wait_until(lambda: sb.sh("pgrep -x yes | wc -l").strip() == "10", 20,
                      what="the forked writers to run")
    for p in flood + [forks["pid"], closed["pid"]]:
        assert call("proc_forget", pid=p)[0]["t"] == "ok"
    # Forget kills the whole group: the forked-off writers too.
    hbtest.wait_until(lambda: sb.sh("pgrep -x yes || true").strip() == "", 10,
                      what="the forked writers to be killed with their group")
    assert call("proc_list")[-1]["t"] == "end"


def test_a_follower_that_never_reads_does_not_stall_the_keeper(init):
    sb, call, connect = init
    p = start(call, "head -c 20000000 /dev/zero; echo done")
    slow = connect()
    slow.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    slow.send({"op": "proc_output", "pid": p["pid"], "offset": 0, "follow": True})
    d = wait_exit(call, p["pid"], 30)
    assert d["off"] == 20000005, "output kept flowing into the ring"
    slow.close()


def test_process_survives_a_daemon_sigkill_and_restart(own_daemon):
    c = own_daemon.client()
    sb = c.create()
    path = own_daemon.sandbox_dir(sb["id"]) / "run" / "init.sock"

    def call(op, **f):
        k = Init(path)
        k.send({"op": op, **f})
        out = [k.read()]
        while out[-1]["t"] not in ("ok", "err", "end", "exit", "proc") or \
                (out[-1]["t"] == "proc" and op != "proc_start"):
            out.append(k.read())
        k.close()
        return out
    p = call("proc_start", cmd="for i in 1 2 3 4 5 6; do echo $i; sleep 0.5; done", tag="live")[0]
    own_daemon.stop(signal.SIGKILL)
    own_daemon.start()
    c = own_daemon.client()
    path = own_daemon.sandbox_dir(sb["id"]) / "run" / "init.sock"
    hbtest.wait_until(lambda: call("proc_list", tag="live")[0].get("ended_at"), 20)
    got = call("proc_output", tag="live", offset=0, follow=False)
    assert got[0]["pid"] == p["pid"]
    assert b"".join(f["data"] for f in got if f["t"] == "out") == b"1\n2\n3\n4\n5\n6\n"
    c.destroy(sb["id"])


def _rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def test_ctrl_c_reaches_a_flooding_terminal(init):
    sb, call, connect = init
    p = start(call, "yes", cols=80, rows=24)
    a = connect()
    a.send({"op": "proc_attach", "pid": p["pid"], "offset": 0})
    assert a.read()["t"] == "proc"
    assert a.read()["t"] == "out"
    a.send({"t": "data", "data": b"\x03"})
    t0 = time.monotonic()
    while True:
        f = a.read()
        if f["t"] != "out":
            break
    assert f["t"] == "exit" and f["signal"] == 2, f
    assert time.monotonic() - t0 < 10


def test_watch_from_a_seq_of_an_earlier_init_means_from_now(init):
    sb, call, connect = init
    p = start(call, "sleep 0.5")
    w = connect()
    w.send({"op": "proc_watch", "offset": 10 ** 12})
    ev = w.read()
    assert ev["t"] == "proc" and ev["pid"] == p["pid"] and ev["ended_at"] > 0
    assert ev["seq"] == p["seq"] + 1
    assert w.read()["t"] == "end"


@pytest.mark.parametrize("pty", [False, True], ids=["pipes", "pty"])
def test_a_background_process_is_as_hardened_as_exec(init, pty):
    sb, call, _ = init
    size = {"cols": 80, "rows": 24} if pty else {}
    p = start(call, "cat /proc/self/status; cat /proc/self/cgroup; cat /proc/self/oom_score_adj",
              **size)
    wait_exit(call, p["pid"])
    text = output(call, p["pid"])[1][1].decode()
    st = dict(line.split(":", 1) for line in text.splitlines() if ":" in line and
              not line.startswith("0::"))
    st = {k: v.strip() for k, v in st.items()}
    assert int(st["CapEff"], 16) == hbtest.EXPECTED_CAPS
    assert int(st["CapBnd"], 16) == hbtest.EXPECTED_CAPS
    assert st["NoNewPrivs"] == "1" and st["Seccomp"] == "2"
    v1 = ":memory:/user" in text and ":pids:/user" in text
    assert v1 or "0::/user" in text, "in the user cgroups, apart from init"
    assert text.rstrip().splitlines()[-1] == "0", "oom_score_adj set back to 0"


def test_followers_per_process_are_bounded_and_given_back(init):
    sb, call, connect = init
    p = start(call, "sleep 60")
    held = []
    for _ in range(16):
        c = connect()
        c.send({"op": "proc_output", "pid": p["pid"], "offset": 0, "follow": True})
        assert c.read()["t"] == "proc"
        held.append(c)
    over = call("proc_output", pid=p["pid"], offset=0, follow=True)[0]
    assert over["t"] == "err" and over["errno"] == 11 and "followers" in over["msg"]
    held.pop().close()

    def room():
        k = connect()
        k.send({"op": "proc_output", "pid": p["pid"], "offset": 0, "follow": True})
        if k.read()["t"] == "proc":
            return k
        k.close()
        return None
    c = hbtest.wait_until(room, 5, what="a closed follower's slot to be given back")
    assert call("proc_forget", pid=p["pid"])[0]["t"] == "ok"
    for k in held + [c]:
        f = k.read()
        assert f["t"] == "err" and f["errno"] == 3, "followers of a forgotten process end"
