"""The `hivebox` CLI against the real session daemon: every subcommand, the
exit codes it promises, its one-line errors, and the image commands on a
data dir."""
import hashlib
import json
import os
import secrets
import shutil
import subprocess

import pytest

from hbtest import BASE_IMAGE, BUILD

HIVEBOX = str(BUILD / "hivebox")


def cli(daemon, *args, key=None, stdin=None, env_extra=None, timeout=180):
    env = {k: v for k, v in os.environ.items() if not k.startswith("HIVEBOX_")}
    env["HIVEBOX_API_URL"] = daemon.url
    env["HIVEBOX_API_KEY"] = daemon.key if key is None else key
    env.update(env_extra or {})
    return subprocess.run([HIVEBOX, *args], input=stdin, capture_output=True, env=env,
                          timeout=timeout)


def out(r):
    return r.stdout.decode(errors="replace")


def err(r):
    return r.stderr.decode(errors="replace")


@pytest.fixture
def cli_sb(daemon, client):
    """A sandbox created through the CLI; destroyed through the API after."""
    made = []

    def make(*flags):
        name = "cli-" + secrets.token_hex(4)
        r = cli(daemon, "create", "--name", name, *flags)
        assert r.returncode == 0, err(r)
        assert out(r).strip() == name
        made.append(name)
        return name

    yield make
    for sid in made:
        client.destroy(sid, missing_ok=True)


def test_create_prints_id_and_flags_reach_the_daemon(daemon, client, cli_sb):
    sid = cli_sb("--memory", "256m", "--cpus", "0.5", "--pids", "64", "--timeout", "600",
                 "--disk", "1g")
    info = client.info(sid)
    assert info["limits"]["memory"] == "256m"
    assert info["limits"]["disk"] == "1g"
    assert info["limits"]["cpus"] == 0.5
    assert info["limits"]["pids"] == 64
    assert info["ttl_seconds"] <= 600


def test_list_prints_the_table(daemon, cli_sb):
    sid = cli_sb()
    r = cli(daemon, "list")
    assert r.returncode == 0, err(r)
    lines = out(r).splitlines()
    assert lines[0].split() == ["ID", "STATUS", "UPTIME", "TTL", "CMDS", "NETWORK"]
    row = next(line for line in lines[1:] if line.split()[0] == sid)
    assert row.split()[1] == "running"
    assert row.split()[5] == "none"
    r = cli(daemon, "ls", "--json")
    assert sid in [s["id"] for s in json.loads(out(r))["sandboxes"]]


def test_get_shows_the_sandbox(daemon, cli_sb):
    sid = cli_sb()
    r = cli(daemon, "get", sid)
    assert r.returncode == 0, err(r)
    assert json.loads(out(r))["id"] == sid


def test_exec_streams_and_exit_code(daemon, cli_sb):
    sid = cli_sb()
    r = cli(daemon, "exec", sid, "--", "echo out; echo err >&2; exit 7")
    assert r.returncode == 7
    assert out(r) == "out\n"
    assert err(r) == "err\n"


def test_exec_several_words_are_an_argument_vector(daemon, cli_sb):
    # The README's own example: the user's quoting survives (issue: it gave
    # `sh: Syntax error: "(" unexpected`).
    sid = cli_sb()
    r = cli(daemon, "exec", sid, "--", "python3", "-c", "print(6*7)")
    assert r.returncode == 0, err(r)
    assert out(r) == "42\n"
    r = cli(daemon, "exec", sid, "--", "printf", "[%s]", "a b", "$HOME", "it's", "")
    assert r.returncode == 0, err(r)
    assert out(r) == "[a b][$HOME][it's][]"


def test_exec_one_word_is_a_shell_command_line(daemon, cli_sb):
    sid = cli_sb()
    r = cli(daemon, "exec", sid, "--", "echo $HOME | wc -c")
    assert r.returncode == 0, err(r)
    assert out(r) == "6\n"          # "/root\n"


def test_global_options_before_the_command(daemon, cli_sb):
    sid = cli_sb()
    r = cli(daemon, "--api-url", daemon.url, "--json", "get", sid, env_extra={"HIVEBOX_API_URL": "http://127.0.0.1:9"})
    assert r.returncode == 0, err(r)
    assert json.loads(out(r))["id"] == sid
    r = cli(daemon, "--api-key=wrong", "list")
    assert r.returncode == 1 and "401" in err(r)
    r = cli(daemon, "--json")
    assert r.returncode == 2 and "missing command" in err(r)


def test_exec_cwd_env_and_json(daemon, cli_sb):
    sid = cli_sb()
    r = cli(daemon, "exec", sid, "--cwd", "/tmp", "-e", "HB_X=hello world", "--",
            'echo "$PWD $HB_X"')
    assert r.returncode == 0, err(r)
    assert out(r) == "/tmp hello world\n"
    r = cli(daemon, "exec", sid, "--json", "--", "echo hi; exit 3")
    assert r.returncode == 3
    doc = json.loads(out(r))
    assert doc["exit_code"] == 3 and doc["stdout"] == "hi\n"


def test_exec_sends_stdin_with_i(daemon, cli_sb):
    sid = cli_sb()
    r = cli(daemon, "exec", sid, "-i", "--", "tr a-z A-Z", stdin=b"hello\n")
    assert r.returncode == 0, err(r)
    assert out(r) == "HELLO\n"


def test_exec_timeout_is_reported(daemon, cli_sb):
    sid = cli_sb()
    r = cli(daemon, "exec", sid, "--timeout", "1", "--", "sleep 30")
    assert r.returncode != 0
    assert "timed out" in err(r)


def test_run_creates_execs_and_destroys(daemon, client):
    before = {s["id"] for s in client.list()["sandboxes"]}
    r = cli(daemon, "run", "--memory", "256m", "--", "cat /etc/debian_version; exit 5")
    assert r.returncode == 5, err(r)
    assert out(r).strip().startswith("12")
    after = {s["id"] for s in client.list()["sandboxes"]}
    assert after == before, "run left a sandbox behind"


def test_run_destroys_even_when_the_command_fails_to_finish(daemon, client):
    name = "cli-run-" + secrets.token_hex(3)
    r = cli(daemon, "run", "--name", name, "--timeout", "1", "--", "sleep 30")
    assert r.returncode != 0
    assert name not in {s["id"] for s in client.list()["sandboxes"]}


def test_cp_round_trip_binary(daemon, cli_sb, tmp_path):
    sid = cli_sb()
    data = os.urandom(3 * 1024 * 1024 + 17)
    src = tmp_path / "blob.bin"
    src.write_bytes(data)
    r = cli(daemon, "cp", str(src), f"{sid}:/root/dir/blob.bin")
    assert r.returncode == 0, err(r)
    r = cli(daemon, "exec", sid, "--", "sha256sum /root/dir/blob.bin")
    assert out(r).split()[0] == hashlib.sha256(data).hexdigest()
    back = tmp_path / "back.bin"
    r = cli(daemon, "cp", f"{sid}:/root/dir/blob.bin", str(back))
    assert r.returncode == 0, err(r)
    assert back.read_bytes() == data
    # into a directory: the remote name is kept; '-' is stdout
    r = cli(daemon, "cp", f"{sid}:/root/dir/blob.bin", str(tmp_path))
    assert r.returncode == 0 and (tmp_path / "blob.bin").read_bytes() == data
    r = cli(daemon, "cp", "-", f"{sid}:/root/in.txt", stdin=b"from stdin\n")
    assert r.returncode == 0, err(r)
    r = cli(daemon, "cp", f"{sid}:/root/in.txt", "-")
    assert r.stdout == b"from stdin\n"


def test_cp_missing_file_is_one_line_error_and_no_local_file(daemon, cli_sb, tmp_path):
    sid = cli_sb()
    dest = tmp_path / "nothing"
    r = cli(daemon, "cp", f"{sid}:/no/such/file", str(dest))
    assert r.returncode == 1
    assert err(r).startswith("hivebox: ") and "(HTTP 404)" in err(r)
    assert len(err(r).strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == [], "a failed download left a file"


def _tree(root):
    """A local tree: nested dirs, an empty dir, a symlink, a long name, binary data."""
    (root / "a" / "b").mkdir(parents=True)
    (root / "empty").mkdir()
    (root / "a" / "b" / "data.bin").write_bytes(bytes(range(256)) * 300)
    (root / "a" / ("n" * 140)).write_text("long\n")
    (root / "top.txt").write_text("top\n")
    os.symlink("../top.txt", root / "a" / "link")
    return {"a/b/data.bin": bytes(range(256)) * 300, "a/" + "n" * 140: b"long\n",
            "top.txt": b"top\n"}


def _same_tree(left, right):
    r = subprocess.run(["diff", "-r", "--no-dereference", str(left), str(right)],
                       capture_output=True)
    assert r.returncode == 0, r.stdout.decode() + r.stderr.decode()


def test_cp_directories_both_ways_like_docker_cp(daemon, cli_sb, tmp_path):
    sid = cli_sb()
    src = tmp_path / "proj"
    files = _tree(src)
    # remote path missing: the directory becomes it
    r = cli(daemon, "cp", str(src), f"{sid}:/root/copy")
    assert r.returncode == 0, err(r)
    for name, data in files.items():
        r = cli(daemon, "exec", sid, "--", f"sha256sum '/root/copy/{name}'")
        assert out(r).split()[0] == hashlib.sha256(data).hexdigest(), name
    r = cli(daemon, "exec", sid, "--", "readlink /root/copy/a/link; test -d /root/copy/empty")
    assert r.returncode == 0 and out(r).strip() == "../top.txt"
    # remote directory exists: the directory goes in under its own name; -r is accepted
    r = cli(daemon, "cp", "-r", str(src), f"{sid}:/root/copy")
    assert r.returncode == 0, err(r)
    r = cli(daemon, "exec", sid, "--", "cat /root/copy/proj/top.txt")
    assert out(r) == "top\n"
    # and back: a new local name, then into an existing directory
    r = cli(daemon, "cp", f"{sid}:/root/copy/proj", str(tmp_path / "back"))
    assert r.returncode == 0, err(r)
    _same_tree(src, tmp_path / "back")
    (tmp_path / "into").mkdir()
    r = cli(daemon, "cp", "-r", f"{sid}:/root/copy/proj", str(tmp_path / "into"))
    assert r.returncode == 0, err(r)
    _same_tree(src, tmp_path / "into" / "proj")
    assert os.readlink(tmp_path / "into" / "proj" / "a" / "link") == "../top.txt"
    # a directory onto a remote file is refused, in one line
    r = cli(daemon, "cp", str(src), f"{sid}:/root/copy/top.txt")
    assert r.returncode == 1 and "not a directory" in err(r), err(r)
    assert len(err(r).strip().splitlines()) == 1


def test_cp_download_cannot_escape_the_local_target(daemon, cli_sb, tmp_path):
    """A sandbox controls what it sends: a symlink to a host path then a file
    through it must not write on the host."""
    sid = cli_sb()
    victim = tmp_path / "victim"
    victim.mkdir()
    r = cli(daemon, "exec", sid, "--",
            f"mkdir -p /root/evil && ln -s {victim} /root/evil/out && echo x > /root/evil/f")
    assert r.returncode == 0, err(r)
    dest = tmp_path / "dest"
    r = cli(daemon, "cp", f"{sid}:/root/evil", str(dest))
    assert r.returncode == 0, err(r)
    assert os.readlink(dest / "out") == str(victim)   # stored as a link, never followed
    assert list(victim.iterdir()) == []


def test_destroy_then_get_is_404(daemon, cli_sb):
    sid = cli_sb()
    r = cli(daemon, "destroy", sid)
    assert r.returncode == 0, err(r)
    assert sid in out(r)
    r = cli(daemon, "get", sid)
    assert r.returncode == 1
    assert err(r).startswith("hivebox: ") and err(r).rstrip().endswith("(HTTP 404)")


def test_exec_in_missing_sandbox_is_125(daemon):
    r = cli(daemon, "exec", "cli-missing-" + secrets.token_hex(3), "--", "true")
    assert r.returncode == 125
    assert "(HTTP 404)" in err(r)


def test_wrong_key_is_401_line(daemon):
    r = cli(daemon, "list", key="wrong-key")
    assert r.returncode == 1
    assert "(HTTP 401)" in err(r)
    assert len(err(r).strip().splitlines()) == 1


def test_key_from_the_data_dir_key_file(daemon, tmp_path):
    (tmp_path / "api_key").write_text(daemon.key + "\n")
    r = cli(daemon, "list", "--data-dir", str(tmp_path), key="")
    assert r.returncode == 0, err(r)
    assert out(r).startswith("ID")


def test_unreachable_daemon_and_usage_errors(daemon):
    r = cli(daemon, "list", env_extra={"HIVEBOX_API_URL": "http://127.0.0.1:1"})
    assert r.returncode == 1 and "cannot reach the daemon" in err(r)
    assert cli(daemon, "exec", "x").returncode == 2          # no "-- CMD"
    assert cli(daemon, "create", "--cpus", "many").returncode == 2
    assert cli(daemon, "frobnicate").returncode == 2
    assert cli(daemon, "get", "../etc").returncode == 2


def test_image_list_and_import_then_use(daemon, client, tmp_path):
    r = cli(daemon, "image", "list", "--data-dir", str(daemon.data_dir))
    assert r.returncode == 0, err(r)
    assert "base" in out(r).split()
    name = "cli-img-" + secrets.token_hex(3)
    r = cli(daemon, "image", "import", name, str(BASE_IMAGE / "rootfs"),
            "--data-dir", str(daemon.data_dir), timeout=600)
    assert r.returncode == 0, err(r)
    img = daemon.data_dir / "images" / name
    try:
        assert (img / "rootfs" / "etc" / "debian_version").is_file()
        assert not [p for p in (daemon.data_dir / "images").iterdir()
                    if p.name.startswith(f".{name}.tmp")], "temp dir left behind"
        again = cli(daemon, "image", "import", name, str(BASE_IMAGE / "rootfs"),
                    "--data-dir", str(daemon.data_dir))
        assert again.returncode == 1 and "already exists" in err(again)
        r = cli(daemon, "run", "--image", name, "--", "cat /etc/debian_version")
        assert r.returncode == 0, err(r)
        assert out(r).strip().startswith("12")
    finally:
        shutil.rmtree(img, ignore_errors=True)


def test_image_import_rejects_a_non_rootfs(daemon, tmp_path):
    (tmp_path / "etc").mkdir()
    r = cli(daemon, "image", "import", "cli-bad-" + secrets.token_hex(3), str(tmp_path),
            "--data-dir", str(daemon.data_dir))
    assert r.returncode == 1 and "not a root filesystem" in err(r)
    bad_tar = tmp_path / "bad.tar"
    bad_tar.write_bytes(b"not a tarball")
    r = cli(daemon, "image", "import", "cli-bad-" + secrets.token_hex(3), str(bad_tar),
            "--data-dir", str(daemon.data_dir))
    assert r.returncode == 1 and "tar" in err(r)
