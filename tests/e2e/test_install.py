"""Installing HiveBox the ways an operator does (issue 18): `make install`
and `make uninstall` (DESTDIR and PREFIX), the systemd unit checked by
`systemd-analyze verify`, the man page rendered by `man -l`, the bash
completion loaded by bash, an installed daemon that finds its hivebox-init,
and tools/setup.sh run twice: the second run changes nothing.

Everything runs against the real programs; only files under a temp dir and
one daemon of our own (own data dir and ports) are touched."""
import hashlib
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

import hbtest
from hbtest import BUILD, Daemon, free_port

pytestmark = pytest.mark.once("it checks the Makefile, the unit file and shell scripts; "
                              "the daemon it installs is the same code make test ran")

REPO = Path(__file__).resolve().parents[2]
UNIT = REPO / "tools" / "systemd" / "hivebox.service"
DEFAULT_ENV = REPO / "tools" / "systemd" / "hivebox.env"

# What `make install` puts under DESTDIR (PREFIX /usr/local), with modes;
# README "Run it" and the unit name the same paths.
INSTALLED = {
    "usr/local/bin/hivebox": 0o755,
    "usr/local/lib/hivebox/hivebox-init": 0o755,
    "usr/local/lib/systemd/system/hivebox.service": 0o644,
    "usr/local/share/man/man1/hivebox.1": 0o644,
    "usr/local/share/bash-completion/completions/hivebox": 0o644,
    "etc/hivebox/env": 0o600,
}


def make(*args, timeout=600):
    """`make` in the repo for the binaries under test (build or build-san)."""
    rel = os.path.relpath(BUILD, REPO)
    build = ["SAN=1"] if rel == "build-san" else [f"BUILD={BUILD if rel.startswith('..') else rel}"]
    r = subprocess.run(["make", "-s", *build, *args], cwd=REPO, capture_output=True, text=True,
                       timeout=timeout)
    assert r.returncode == 0, f"make {' '.join(args)} failed:\n{r.stdout}\n{r.stderr}"
    return r.stdout + r.stderr


def files_under(root):
    return {str(p.relative_to(root)): p.stat().st_mode & 0o7777
            for p in Path(root).rglob("*") if p.is_file() or p.is_symlink()}


@pytest.fixture
def destdir(tmp_path):
    d = tmp_path / "dest"
    d.mkdir()
    return d


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """One DESTDIR install shared by the tests that only read it."""
    d = tmp_path_factory.mktemp("installed")
    make("install", f"DESTDIR={d}")
    return d


# ---- make install / uninstall ----------------------------------------

def test_destdir_install_puts_every_file_in_place_with_its_mode(destdir):
    t0 = time.monotonic()
    make("install", f"DESTDIR={destdir}")
    assert files_under(destdir) == INSTALLED
    unit = (destdir / "usr/local/lib/systemd/system/hivebox.service").read_text()
    # The unit names the installed binary and the installed env file.
    exec_start = re.search(r"^ExecStart=(\S+)", unit, re.M).group(1)
    assert (destdir / exec_start.lstrip("/")).is_file()
    assert re.search(r"^EnvironmentFile=-/etc/hivebox/env$", unit, re.M)
    assert (destdir / "etc/hivebox/env").read_text() == DEFAULT_ENV.read_text()
    print(f"\nmake install (DESTDIR): {time.monotonic() - t0:.1f} s")


def test_reinstall_keeps_an_edited_env_and_uninstall_removes_the_rest(destdir):
    make("install", f"DESTDIR={destdir}")
    env = destdir / "etc/hivebox/env"
    env.write_text(env.read_text() + "HIVEBOX_API_KEY=operator-set\n")
    out = make("install", f"DESTDIR={destdir}")
    assert "kept" in out
    assert env.read_text().endswith("HIVEBOX_API_KEY=operator-set\n")
    assert env.stat().st_mode & 0o777 == 0o600
    # A data dir under DESTDIR stands for /var/lib/hivebox: never touched.
    data = destdir / "var/lib/hivebox"
    data.mkdir(parents=True)
    (data / "api_key").write_text("k\n")
    out = make("uninstall", f"DESTDIR={destdir}")
    assert "edited" in out
    assert files_under(destdir) == {"etc/hivebox/env": 0o600, "var/lib/hivebox/api_key": 0o644}


def test_uninstall_removes_an_untouched_env(destdir):
    make("install", f"DESTDIR={destdir}")
    make("uninstall", f"DESTDIR={destdir}")
    assert files_under(destdir) == {}
    assert not (destdir / "etc/hivebox").exists()


def test_second_install_rewrites_nothing(destdir):
    make("install", f"DESTDIR={destdir}")
    before = {p: os.stat(destdir / p).st_mtime_ns for p in INSTALLED}
    time.sleep(0.05)
    make("install", f"DESTDIR={destdir}")
    assert {p: os.stat(destdir / p).st_mtime_ns for p in INSTALLED} == before


# ---- the systemd unit ------------------------------------------------

def verify(unit, manpath):
    env = dict(os.environ, MANPATH=str(manpath))
    return subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True,
                          text=True, env=env, timeout=60)


def test_systemd_analyze_verify_passes_on_the_installed_unit(tmp_path):
    # PREFIX (not DESTDIR) under tmp: the unit's ExecStart then names a binary
    # that exists, which verify checks; the man page it links is found too.
    prefix = tmp_path / "usr/local"
    make("install", f"PREFIX={prefix}", f"SYSCONFDIR={tmp_path / 'etc'}")
    unit = prefix / "lib/systemd/system/hivebox.service"
    t0 = time.monotonic()
    r = verify(unit, prefix / "share/man")
    print(f"\nsystemd-analyze verify: {time.monotonic() - t0:.1f} s")
    assert r.returncode == 0 and not r.stderr.strip() and not r.stdout.strip(), r.stderr
    # The check can fail: the same unit with a binary that is not there.
    broken = tmp_path / "hivebox.service"
    broken.write_text(unit.read_text().replace(str(prefix / "bin/hivebox"), "/nonexistent/hb"))
    r = verify(broken, prefix / "share/man")
    assert r.returncode != 0 and "/nonexistent/hb" in r.stderr


def unit_settings():
    out = {}
    for line in UNIT.read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            k, v = line.split("=", 1)
            out.setdefault(k.strip(), v.strip())
    return out


def test_unit_keeps_sandboxes_and_namespaces_working():
    s = unit_settings()
    assert s["Type"] == "notify"
    assert s["ExecStart"] == "/usr/local/bin/hivebox daemon $HIVEBOX_DAEMON_ARGS"
    assert s["Restart"] == "on-failure"
    assert s["RestartPreventExitStatus"] == "2"      # a bad setting: no restart loop
    assert s["KillMode"] == "process"        # a restart must not kill the sandboxes
    assert s["Delegate"] == "yes"
    assert int(s["LimitNOFILE"]) >= 10000 * 10
    assert s["TasksMax"] == "infinity"
    assert s["EnvironmentFile"] == "-/etc/hivebox/env"
    # A private mount namespace would hide the sandboxes' mounts from a
    # restarted daemon; a seccomp filter would land in every sandbox.
    for key in ("ProtectSystem", "ProtectHome", "PrivateTmp", "PrivateDevices", "ReadWritePaths",
                "ReadOnlyPaths", "InaccessiblePaths", "SystemCallFilter", "RestrictNamespaces",
                "RestrictSUIDSGID", "MemoryDenyWriteExecute", "PrivateNetwork", "PrivateUsers"):
        assert key not in s, key


# ---- man page and completion -----------------------------------------

def daemon_flags():
    out = subprocess.run([BUILD / "hivebox", "daemon", "--help"], capture_output=True, text=True,
                         check=True).stdout
    return sorted(set(re.findall(r"^  (--[a-z0-9-]+)", out, re.M)))


def test_man_page_renders_without_warnings_and_lists_every_daemon_flag(installed):
    page = installed / "usr/local/share/man/man1/hivebox.1"
    r = subprocess.run(["man", "--warnings", "-l", str(page)], capture_output=True, text=True,
                       env=dict(os.environ, MANWIDTH="80", MAN_KEEP_FORMATTING="0"), timeout=60)
    assert r.returncode == 0, r.stderr
    assert "warning" not in (r.stdout + r.stderr).lower(), r.stderr
    text = re.sub(r".\x08", "", r.stdout)            # no overstrike (bold) in comparisons
    for section in ("NAME", "SYNOPSIS", "COMMANDS", "DAEMON OPTIONS", "ENVIRONMENT", "FILES"):
        assert re.search(rf"^{section}$", text, re.M), section
    flags = daemon_flags()
    assert len(flags) > 20
    for flag in flags:
        assert flag in text, flag
    assert "/usr/local/lib/hivebox/hivebox-init" in text.replace("‐\n", "").replace(" ", "")


def complete(script, *words):
    """What bash's completion function offers for `hivebox WORDS...<TAB>`."""
    words_q = " ".join(f"'{w}'" for w in ("hivebox",) + words)
    prog = (f"source '{script}'; complete -p hivebox >/dev/null; COMP_WORDS=({words_q}); "
            f"COMP_CWORD={len(words)}; _hivebox; printf '%s\\n' \"${{COMPREPLY[@]}}\"")
    r = subprocess.run(["bash", "--norc", "--noprofile", "-c", prog], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return [w for w in r.stdout.split("\n") if w]


def test_bash_completion_completes_commands_and_daemon_flags(installed):
    script = installed / "usr/local/share/bash-completion/completions/hivebox"
    assert complete(script, "cre") == ["create"]
    assert complete(script, "--api-url", "http://h:1", "--json", "cre") == ["create"]
    assert complete(script, "--api-key", "k", "image", "l") == ["list"]
    assert complete(script, "im") == ["image"]
    assert complete(script, "image", "b") == ["build"]
    assert complete(script, "daemon", "--log-l") == ["--log-level"]
    assert complete(script, "daemon", "--log-level", "") == ["debug", "info", "warn", "error"]
    assert "--memory" in complete(script, "create", "--")
    # Every daemon flag, and every command offered is one the binary knows.
    assert set(daemon_flags()) <= set(complete(script, "daemon", "--"))
    for cmd in complete(script, ""):
        if cmd.startswith("-") or cmd == "daemon":
            continue
        r = subprocess.run([BUILD / "hivebox", cmd], capture_output=True, text=True, timeout=30,
                           stdin=subprocess.DEVNULL,
                           env=dict(os.environ, HIVEBOX_API_URL="http://127.0.0.1:9"))
        assert "unknown command" not in r.stderr, cmd


def test_setup_script_and_completion_pass_shellcheck(installed):
    script = installed / "usr/local/share/bash-completion/completions/hivebox"
    r = subprocess.run(["shellcheck", "-s", "bash", str(REPO / "tools/setup.sh"), str(script)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr


# ---- an installed daemon ---------------------------------------------

def own_network():
    """A bridge and subnet of our own: hivebox0 may belong to another daemon."""
    n = secrets.randbelow(200) + 20
    return {"HIVEBOX_BRIDGE": f"hbinst{n}", "HIVEBOX_SUBNET": f"10.{n}.77.0/24"}


class InstalledDaemon(Daemon):
    """A daemon run from a DESTDIR install instead of the build dir, with
    no_new_privs as the unit's NoNewPrivileges=yes gives it."""

    def __init__(self, root, binary):
        super().__init__(root, extra_env=own_network())
        self.binary = binary

    def argv(self):
        return ["setpriv", "--no-new-privs", str(self.binary), *super().argv()[1:]]


def test_installed_daemon_finds_its_init_and_runs_a_sandbox(installed, e2e_tmp):
    d = InstalledDaemon(e2e_tmp / "installed", installed / "usr/local/bin/hivebox")
    os.environ.pop("HIVEBOX_INIT_BIN", None)
    d.start()
    try:
        c = d.client()
        # Namespaces, a network and a setuid file (apt-get makes some) all
        # work under the unit's hardening.
        sb = c.create(network="isolated")
        try:
            r = c.exec(sb["id"], "touch /x && chmod u+s /x && stat -c %A /x && echo installed")
            assert r["exit_code"] == 0 and r["stdout"] == "-rwSr--r--\ninstalled\n", r
        finally:
            c.destroy(sb["id"])
        c.close()
    finally:
        d.stop()
    d.assert_no_sanitizer_reports()


# ---- why KillMode=process ----------------------------------------------

def tracking_hierarchies():
    """Where systemd keeps a service's processes: the v2 tree on a v2 host;
    name=systemd (and the unified tree, hybrid) on v1."""
    cg = hbtest.CG_ROOT
    if (cg / "cgroup.controllers").exists():
        return [cg]
    return [p for p in (cg / "systemd", cg / "unified") if (p / "cgroup.procs").exists()]


def test_where_sandboxes_live_relative_to_the_service_cgroup(e2e_tmp):
    """The unit's KillMode=process, checked against this kernel: the daemon
    is put in a service cgroup the way systemd would, a sandbox is created,
    and its init is looked for in that cgroup. On v1/hybrid it is still
    there (the daemon moves it only in the controller hierarchies), so the
    default KillMode=control-group would kill every sandbox at stop; on v2
    it has left for /hivebox/..."""
    tops = tracking_hierarchies()
    assert tops, "no cgroup hierarchy systemd could track a service in"
    svc = [top / f"hbinst-{secrets.token_hex(4)}.service" for top in tops]
    d = Daemon(e2e_tmp / "cgroup", extra_env=own_network())
    d.start()
    try:
        for cg in svc:
            cg.mkdir()
            (cg / "cgroup.procs").write_text(str(d.pid))   # the whole process
        c = d.client()
        sb = c.create()
        try:
            mem = hbtest.cgroup_dir("memory", sb["id"]) or next(iter(hbtest.cgroup_dirs(sb["id"])))
            init = int((mem / "cgroup.procs").read_text().split()[0])
            in_service = [cg for cg in svc if str(init) in (cg / "cgroup.procs").read_text().split()]
            v2 = (hbtest.CG_ROOT / "cgroup.controllers").exists()
            print(f"\nsandbox init {init}: in the service cgroup of "
                  f"{[str(cg.parent) for cg in in_service]} (v2 host: {v2})")
            if v2:
                assert not in_service
            else:
                assert in_service == svc, "KillMode=process no longer needed? see the unit"
        finally:
            c.destroy(sb["id"])
        c.close()
    finally:
        d.stop()
        for cg in svc:
            for pid in (cg / "cgroup.procs").read_text().split() if cg.exists() else []:
                (cg.parent / "cgroup.procs").write_text(pid)   # nothing should be left
            if cg.exists():
                cg.rmdir()


# ---- Type=notify --------------------------------------------------------

def test_daemon_tells_systemd_ready_once_the_api_answers_and_stopping(e2e_tmp):
    """The unit is Type=notify: READY=1 must come after the gateway listens
    (so `systemctl start` returns to a working API), STOPPING=1 on SIGTERM.
    A datagram socket stands in for systemd's NOTIFY_SOCKET."""
    sock_path = e2e_tmp / f"notify-{secrets.token_hex(4)}.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(sock_path))
    sock.settimeout(60)
    d = Daemon(e2e_tmp / "notify", extra_env={"NOTIFY_SOCKET": str(sock_path)})
    env = dict(os.environ, HIVEBOX_API_KEY=d.key, NOTIFY_SOCKET=str(sock_path))
    t0 = time.monotonic()
    with open(d.log_path, "ab") as log:
        proc = subprocess.Popen(d.argv(), env=env, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        msg = sock.recv(4096).decode()
        ready_s = time.monotonic() - t0
        # Answers at once: no retry loop here, READY means listening.
        r = requests.get(d.url + "/healthz", timeout=5)
        assert r.status_code in (200, 503), r.text   # 503: the default image still building
        fields = dict(line.split("=", 1) for line in msg.strip().split("\n"))
        assert fields["READY"] == "1" and str(d.port) in fields["STATUS"], msg
        proc.send_signal(signal.SIGTERM)
        assert sock.recv(4096).decode().strip() == "STOPPING=1"
        assert proc.wait(30) == 0
        print(f"\nREADY=1 {ready_s:.2f} s after exec")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        sock.close()
    d.assert_no_sanitizer_reports()


# ---- tools/setup.sh, twice -------------------------------------------

def snapshot(data_dir):
    """Every file of the data dir but the log and the sandboxes' own state:
    path -> (mtime, size, sha256 of small files)."""
    out = {}
    for p in sorted(data_dir.rglob("*")):
        rel = p.relative_to(data_dir)
        if rel.parts[0] in ("sandboxes", "images") or rel.name == "daemon.log" or not p.is_file():
            continue
        st = p.stat()
        # The disk pool's image is GiBs (sparse): its mtime and size say enough.
        digest = hashlib.sha256(p.read_bytes()).hexdigest() if st.st_size < (1 << 20) else ""
        out[str(rel)] = (st.st_mtime_ns, st.st_size, digest)
    return out


def run_setup(env):
    t0 = time.monotonic()
    r = subprocess.run([str(REPO / "tools/setup.sh")], capture_output=True, text=True, env=env,
                       timeout=600, stdin=subprocess.DEVNULL)
    print(f"\nsetup.sh: {time.monotonic() - t0:.1f} s, exit {r.returncode}\n{r.stdout}{r.stderr}")
    return r


@pytest.mark.skipif(os.path.isdir("/run/systemd/system"),
                    reason="systemd is PID 1 here: setup.sh would install into /usr/local and "
                           "enable the machine's hivebox.service")
@pytest.mark.skipif(BUILD != (REPO / "build").resolve(),
                    reason="setup.sh builds and runs build/, not HIVEBOX_BUILD")
def test_setup_twice_the_second_run_changes_nothing(e2e_tmp):
    root = e2e_tmp / "setup"
    data = root / "data"
    (data / "images").mkdir(parents=True)
    os.chmod(root, 0o755)
    os.chmod(data, 0o755)
    (data / "images" / "base").symlink_to(hbtest.BASE_IMAGE)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HIVEBOX_")}
    env.update(HIVEBOX_DATA_DIR=str(data), HIVEBOX_PORT=str(port),
               HIVEBOX_EVENTS=f"tcp://127.0.0.1:{free_port()}", **own_network())
    pid = None
    try:
        first = run_setup(env)
        pid_file = data / "daemon.pid"
        if pid_file.exists():
            pid = int(pid_file.read_text())
        assert first.returncode == 0
        assert "started (pid" in first.stdout
        key = (data / "api_key").read_text()
        assert f"HIVEBOX_API_KEY={key.strip()}" in first.stdout
        before = snapshot(data)
        binary = (REPO / "build/hivebox").stat().st_mtime_ns

        second = run_setup(env)
        assert second.returncode == 0
        assert "already answers" in second.stdout and "left as it is" in second.stdout
        assert "started (pid" not in second.stdout
        assert int(pid_file.read_text()) == pid
        assert alive(pid)                                   # the same daemon, still there
        assert (data / "api_key").read_text() == key         # the same key
        assert snapshot(data) == before                     # no file written
        assert (REPO / "build/hivebox").stat().st_mtime_ns == binary   # nothing rebuilt
        r = requests.get(f"http://127.0.0.1:{port}/api/v1/hiveboxes",
                         headers={"Authorization": f"Bearer {key.strip()}"}, timeout=10)
        assert r.status_code == 200
    finally:
        if pid:
            t0 = time.monotonic()
            stop_pid(pid)
            print(f"daemon stop: {time.monotonic() - t0:.1f} s")
        pool = data / "sandboxes"
        if os.path.ismount(pool):
            subprocess.run(["umount", "-l", str(pool)], check=False)
        if not hbtest.mounts_under(root):
            shutil.rmtree(root, ignore_errors=True)


def stop_pid(pid, timeout=30):
    """SIGTERM the daemon setup.sh started for this test, and wait for it."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive(pid):
            return
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)


def alive(pid):
    """Running (not gone, not a zombie: setup.sh's daemon is not our child)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False
