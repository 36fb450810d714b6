"""The README's shell examples, run as written, so a broken snippet fails CI.

Every ```sh block of README.md runs, in order within the block, under
`bash -euo pipefail`, with curl made to fail on an HTTP error
(--fail-with-body), `hivebox` on PATH from HIVEBOX_BUILD, in a temp dir
holding the local files the examples name (hello.py, data.csv, project/).
What a reader's machine would differ in is substituted: the daemon's URL
for http://localhost:7070 and a file holding its key for
/var/lib/hivebox/api_key. A block preceded by `<!-- e2e: skip: why -->` is
not run (quick start: it installs and builds); `<!-- e2e: opencode -->`
runs against a daemon whose agents talk to the scripted model."""
import os
import re
import secrets
import signal
import subprocess
from pathlib import Path

import pytest

from fake_llm import FakeLLM
from hbtest import BUILD, Daemon, wait_until

README = Path(__file__).resolve().parents[2] / "README.md"
BLOCK = re.compile(r"(?:<!-- e2e: (?P<mark>[^>]*?) -->\n)?```sh\n(?P<body>.*?)```", re.S)
PRELUDE = 'curl() { command curl --fail-with-body -sS "$@"; }\n'


def blocks():
    """(first line, mark, body) of every sh block of the README."""
    text = README.read_text()
    return [(m.group("body").splitlines()[0], m.group("mark") or "", m.group("body"))
            for m in BLOCK.finditer(text)]


def marked(mark):
    return [b for b in blocks() if b[1] == mark]


def workdir(tmp_path, daemon):
    (tmp_path / "hello.py").write_text('print("hello")\n')
    (tmp_path / "data.csv").write_text("a,b\n1,2\n3,4\n")
    (tmp_path / "project" / "src").mkdir(parents=True)
    (tmp_path / "project" / "src" / "main.py").write_text("print(6 * 7)\n")
    (tmp_path / "project" / "README").write_text("a project\n")
    key_file = tmp_path / "api_key"
    key_file.write_text(daemon.key + "\n")
    return key_file


def run_block(body, daemon, tmp_path, key_file, timeout=600):
    script = body.replace("http://localhost:7070", daemon.url)
    script = script.replace("/var/lib/hivebox/api_key", str(key_file))
    env = {k: v for k, v in os.environ.items() if not k.startswith("HIVEBOX_")}
    env.update(PATH=f"{BUILD}:{env.get('PATH', '/usr/bin:/bin')}", HIVEBOX_API_URL=daemon.url,
               HIVEBOX_API_KEY=daemon.key, KEY=daemon.key)
    out = tmp_path / "out.log"
    # Output to a file: a block may leave a background job (curl -N ... &)
    # holding its stdout; the whole session is killed afterwards.
    with open(out, "wb") as f:
        p = subprocess.Popen(["bash", "-euo", "pipefail", "-c", PRELUDE + script], cwd=tmp_path,
                             env=env, stdin=subprocess.DEVNULL, stdout=f,
                             stderr=subprocess.STDOUT, start_new_session=True)
        try:
            rc = p.wait(timeout)
        finally:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    return rc, out.read_text(errors="replace")


def test_every_sh_block_is_run_or_says_why_not():
    found = blocks()
    assert len(found) >= 4, found
    for first, mark, _ in found:
        assert mark in ("", "opencode") or mark.startswith("skip: "), (first, mark)
    assert any("curl" in body for _, mark, body in found if mark == "")
    assert any("hivebox cp" in body for _, mark, body in found if mark == "")


@pytest.mark.once("the README's shell blocks are checked for truth once; the CLI and API they "
                  "drive run under ASan in test_cli.py, test_api.py and test_archive.py")
@pytest.mark.parametrize("first", [b[0] for b in marked("")])
def test_readme_block_runs(daemon, client, tmp_path, first):
    body = next(b for f, m, b in marked("") if f == first)
    key_file = workdir(tmp_path, daemon)
    made = ("my-sandbox", "dev", "proc-demo")
    try:
        rc, out = run_block(body, daemon, tmp_path, key_file)
        assert rc == 0, f"README block starting {first!r} failed ({rc}):\n{out[-4000:]}"
    finally:
        for sid in made:
            client.destroy(sid, missing_ok=True)
    if "curl" in first:   # the API examples: what they print says they worked
        assert out.startswith("ok") and '"stdout":"2\\n"' in out, out[-3000:]
        assert "project/src/main.py" in out, "the archive listing"
    if first.startswith("hivebox create"):
        assert "42\n" in out and (tmp_path / "lines.txt").read_text() == "3\n"
        assert (tmp_path / "project-copy" / "src" / "main.py").read_text() == "print(6 * 7)\n"


@pytest.mark.once("its time goes to OpenCode (node); test_opencode.py covers the proxy under ASan")
def test_readme_opencode_block_runs(e2e_tmp, tmp_path):
    llm = FakeLLM().start()
    d = Daemon(e2e_tmp / ("readme-oc-" + secrets.token_hex(3)), name="daemon",
               extra_env={"HIVEBOX_OPENCODE_BASE_URL": llm.base_url,
                          "HIVEBOX_OPENCODE_MODEL": "scripted-model",
                          "HIVEBOX_OPENCODE_IDLE": "30"})
    d.start()
    c = d.client()
    try:
        (_, _, body), = marked("opencode")
        llm.script({"tool": "write_file", "args": {"path": "/root/hello.py",
                                                   "content": "print('hello')\n"}},
                   {"tool": "exec", "args": {"command": "python3 /root/hello.py"}},
                   {"text": "Done: it printed hello."})
        rc, out = run_block(body, d, tmp_path, workdir(tmp_path, d))
        assert rc == 0, out[-4000:]
        sid = c.list()["sandboxes"][0]["id"]
        wait_until(lambda: c.download(sid, "/root/hello.py").status_code == 200, 180, 1,
                   "the agent to write hello.py")
        assert '"type":"server.connected"' in out or "data:" in out, "the event stream"
    finally:
        c.close()
        from conftest import shutdown_daemon
        shutdown_daemon(d)
        llm.stop()
