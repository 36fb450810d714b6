"""Host users and a sandbox's files (issue 10, item 6): root in a sandbox can
make a setuid program in its writable layer. No other host user may reach
that layer, and the filesystem holding it is mounted nosuid,nodev, so even a
program handed over by fd runs with the caller's own uid.

The unprivileged side runs in a forked child that drops to `nobody` with
setgroups/setgid/setuid (no capability survives), not via setpriv, which
keeps root's capabilities until its exec."""
import json
import os
import stat

NOBODY = 65534


def as_nobody(fn, *args):
    """Run fn(*args) in a child process as nobody; return its JSON result."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        out = {"error": "child died"}
        try:
            os.close(r)
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            out = fn(*args)
        except BaseException as exc:  # report anything to the parent
            out = {"error": repr(exc)}
        finally:
            os.write(w, json.dumps(out).encode())
            os._exit(0)
    os.close(w)
    data = b""
    while chunk := os.read(r, 65536):
        data += chunk
    os.close(r)
    os.waitpid(pid, 0)
    return json.loads(data)


def _try(op, *a):
    try:
        return {"ok": repr(op(*a))}
    except OSError as exc:
        return {"errno": exc.errno}


def _walk_and_run(upper, prog):
    import subprocess
    out = {"listdir": _try(os.listdir, upper), "stat": _try(os.stat, prog)}
    try:
        p = subprocess.run([prog, "-u"], capture_output=True, text=True, timeout=10)
        out["exec"] = {"ok": p.stdout.strip()}
    except OSError as exc:
        out["exec"] = {"errno": exc.errno}
    return out


def _exec_fd(fd):
    """exec the program open as fd, stdout to a pipe; its output."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.dup2(w, 1)
        try:
            os.execve(fd, ["hb-id", "-u"], {})
        finally:
            os._exit(127)
    os.close(w)
    data = os.read(r, 4096)
    os.waitpid(pid, 0)
    return {"euid": data.decode().strip()}


def test_nobody_cannot_reach_or_run_a_sandbox_setuid_program(sandbox, daemon):
    sb = sandbox()
    # A setuid-root shell and id (a shell drops privileges; id shows the
    # effective uid), with /root opened up, as root inside may well do.
    sb.sh("cp /bin/sh /root/hb-sh && cp /usr/bin/id /root/hb-id && "
          "chmod 4755 /root/hb-sh /root/hb-id && chmod 755 /root")
    host = daemon.sandbox_dir(sb.id)
    upper = host / "upper"
    prog = upper / "root" / "hb-id"
    st = os.stat(prog)   # host root sees it: the attack material exists
    assert st.st_mode & stat.S_ISUID and st.st_uid != 0, oct(st.st_mode)

    got = as_nobody(_walk_and_run, str(upper), str(upper / "root" / "hb-sh"))
    assert got.get("listdir", {}).get("errno") == 13, got
    assert got.get("stat", {}).get("errno") == 13, got
    assert got.get("exec", {}).get("errno") == 13, got

    # The layer's filesystem is nosuid: a program handed over by fd does not
    # give nobody the sandbox's uid.
    assert os.statvfs(prog).f_flag & os.ST_NOSUID, "the writable layer is not on a nosuid mount"
    assert os.statvfs(prog).f_flag & os.ST_NODEV, "the writable layer is not on a nodev mount"
    fd = os.open(prog, os.O_PATH)
    os.set_inheritable(fd, True)
    try:
        got = as_nobody(_exec_fd, fd)
    finally:
        os.close(fd)
    assert got.get("euid") == str(NOBODY), got
    # The sandbox itself still runs its own files.
    assert sb.sh("/root/hb-id -u").strip() == "0"


def test_nobody_cannot_reach_the_images(daemon):
    """An image holds set-id-root programs owned by host root (an imported
    tarball may hold a setuid shell): the images dir is closed to other host
    users, even on a data dir made before it was."""
    images = daemon.data_dir / "images"
    assert stat.S_IMODE(os.stat(images).st_mode) == 0o700, oct(os.stat(images).st_mode)
    got = as_nobody(_try, os.listdir, str(images))
    assert got.get("errno") == 13, got
    got = as_nobody(_try, os.stat, str(images / "base" / "rootfs" / "usr" / "bin" / "su"))
    assert got.get("errno") == 13, got
