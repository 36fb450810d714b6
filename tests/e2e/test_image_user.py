"""The default image as E2B code expects it (docs/e2b.md, "The base image"):
the user `user` (uid 1000, /home/user, bash) with a passwordless sudoers
entry, `python` -> python3, `tput`. And the promise that comes with it:
sudo cannot raise privileges inside a sandbox, since every command runs
with no_new_privs (DESIGN decision 6) -- root is asked for by `user`.

The image under test is HIVEBOX_E2E_BASE_IMAGE (CI builds a fresh one); an
image built before the default user existed fails here, naming the fix."""
import subprocess

import pytest

from hbtest import BUILD


@pytest.fixture(scope="module")
def sb(module_sandbox):
    box = module_sandbox()
    res = box.exec("grep -c '^user:' /etc/passwd || true")
    if res["stdout"].strip() != "1":
        pytest.fail("the base image has no user `user`: it predates E2B support; rebuild it "
                    "with `hivebox image build` (docs/e2b.md) or point "
                    "HIVEBOX_E2E_BASE_IMAGE at a fresh one")
    return box


def test_default_user_account(sb):
    out = sb.sh('id -u; id -g; id -un; echo "$HOME"; pwd; getent passwd user | cut -d: -f7',
                user="user")
    assert out.split("\n")[:6] == ["1000", "1000", "user", "/home/user", "/home/user",
                                   "/bin/bash"]


def test_home_belongs_to_user(sb):
    out = sb.sh("stat -c '%U %G %a' /home/user; echo hi > /home/user/mine && stat -c %U "
                "/home/user/mine; test -f /home/user/.bashrc && echo skel", user="user")
    assert out == "user user 755\nuser\nskel\n"


def test_python_is_python3_and_tput(sb):
    out = sb.sh("python --version; readlink -f \"$(command -v python)\"; "
                "tput -T xterm-256color colors", user="user")
    lines = out.split("\n")
    assert lines[0].startswith("Python 3."), out
    assert lines[1].startswith("/usr/bin/python3"), out
    assert lines[2] == "256", out


def test_sudoers_entry(sb):
    out = sb.sh("stat -c '%U %a' /etc/sudoers.d/hivebox-user; "
                "grep -v '^#' /etc/sudoers.d/hivebox-user; visudo -c -q && echo valid")
    assert out == "root 440\nuser ALL=(ALL:ALL) NOPASSWD: ALL\nvalid\n"


def test_sudo_cannot_raise_privileges(sb):
    """no_new_privs: the kernel ignores sudo's setuid bit, so `sudo` as
    user refuses (it says why) and nothing runs as root."""
    res = sb.exec("sudo -n id -u; echo rc=$?; id -u", user="user")
    assert 'The "no new privileges" flag is set' in res["stderr"], res
    assert res["stdout"] == "rc=1\n1000\n", res
    assert sb.sh("grep NoNewPrivs /proc/self/status", user="user").split() == ["NoNewPrivs:",
                                                                                  "1"]


def test_root_by_user_instead(sb):
    """What docs/e2b.md tells E2B code to do instead of sudo."""
    out = sb.sh("id -u; touch /etc/hivebox-root-check && echo wrote", user="root")
    assert out == "0\nwrote\n"
    res = sb.exec("touch /etc/hivebox-user-check", user="user")
    assert res["exit_code"] != 0 and "Permission denied" in res["stderr"], res


def _fake_image(root, passwd):
    """A data dir whose images/base is a rootfs of a shell and a passwd."""
    rootfs = root / "images" / "base" / "rootfs"
    (rootfs / "bin").mkdir(parents=True)
    (rootfs / "etc").mkdir()
    (rootfs / "bin" / "sh").write_text("")
    (rootfs / "etc" / "passwd").write_text(passwd)
    return root


@pytest.mark.parametrize("passwd,noted", [
    ("root:x:0:0:root:/root:/bin/bash\n", True),
    ("root:x:0:0:root:/root:/bin/bash\nuser:x:1000:1000::/home/user:/bin/bash\n", False),
    # a name that merely starts with "user" is not the user
    ("root:x:0:0:root:/root:/bin/bash\nusers:x:100:100::/:/bin/sh\n", True),
])
def test_image_build_notes_an_image_without_the_user(tmp_path, passwd, noted):
    """`hivebox image build` keeps an existing base; on an upgraded host it
    says when that image predates the default user, and how to rebuild."""
    data = _fake_image(tmp_path, passwd)
    r = subprocess.run([str(BUILD / "hivebox"), "image", "build", "--data-dir", str(data)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r
    assert "already exists" in r.stdout
    assert ("predates E2B's default user" in r.stderr) == noted, r.stderr
