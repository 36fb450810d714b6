"""Admission control (issue 10, item 9): a daemon refuses creates past
--max-sandboxes, and past --memory-overcommit x the host's MemTotal summed
over the sandboxes' memory limits, with a 503 naming the limit. Private
daemons with small limits; nothing is allocated for real (limits are
limits: an idle sandbox uses a few MiB whatever its limit)."""
import subprocess

from conftest import shutdown_daemon
from hbtest import BUILD, Daemon

MIB = 1 << 20
RATIO = 0.1   # the smallest ratio the daemon takes


def mem_total():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no MemTotal")


def create(c, **spec):
    return c.post("/api/v1/hiveboxes", json=spec, timeout=180)


def refused(r, flag):
    assert r.status_code == 503, r.text
    assert flag in r.json()["error"], r.text


def test_memory_overcommit_and_max_sandboxes(e2e_tmp):
    allowed = RATIO * mem_total()
    # Two fit under the allowance, a third does not.
    each = max(16, int(allowed / 2.5) // MIB)
    d = Daemon(e2e_tmp / "admission", name="daemon",
               extra_args=["--memory-overcommit", str(RATIO)],
               extra_env={"HIVEBOX_MAX_SANDBOXES": "3"})
    d.start()
    try:
        c = d.client()
        a = create(c, memory=f"{each}m")
        b = create(c, memory=f"{each}m")
        assert a.status_code == 201 and b.status_code == 201, (a.text, b.text)
        r = create(c, memory=f"{each}m")
        refused(r, "--memory-overcommit")
        assert "GiB" in r.json()["error"]
        assert len(c.list()["sandboxes"]) == 2, "a refused create leaves nothing behind"
        small = create(c, memory="16m")
        assert small.status_code == 201, small.text
        refused(create(c, memory="16m"), "--max-sandboxes")
        # Capacity comes back with a destroy.
        c.destroy(a.json()["id"])
        again = create(c, memory="16m")
        assert again.status_code == 201, again.text
        c.close()
    finally:
        shutdown_daemon(d)


def test_bad_limits_are_refused_at_start():
    for args, flag in ((["--max-sandboxes", "0"], "--max-sandboxes"),
                       (["--memory-overcommit", "abc"], "--memory-overcommit"),
                       (["--exec-output-budget", "12q"], "--exec-output-budget")):
        p = subprocess.run([str(BUILD / "hivebox"), "daemon", *args], capture_output=True,
                           text=True, timeout=30)
        assert p.returncode == 2, (args, p.returncode, p.stderr)
        assert f"hivebox daemon: {flag}: " in p.stderr, p.stderr   # named, with the range
