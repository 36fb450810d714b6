"""PTY terminals over WebSocket (issue 13, "Interactive processes"):
GET /:id/terminal opens a login shell on a PTY, /:id/processes/:sel/ws
attaches to a running process (replaying its output from ?offset=). Binary
frames carry the terminal's bytes both ways; text frames are JSON control
(resize, signal; hello, exit, error). A newer attach takes over (close code
4001). Auth is the Authorization header or a single-use ?ticket=, never
the API key in a URL. A real WebSocket client (python3-websockets) against
the real daemon and sandboxes; `hivebox shell` is driven inside tmux."""
import asyncio
import json
import os
import re
import secrets
import shutil
import subprocess
import time

import pytest
import requests
import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatusCode

from hbtest import BUILD, read_head, wait_until


def ws_url(daemon, path):
    return daemon.url.replace("http://", "ws://", 1) + path


def run(coro):
    return asyncio.run(coro)


async def connect(daemon, path, auth=True):
    headers = {"Authorization": f"Bearer {daemon.key}"} if auth else {}
    return await websockets.connect(ws_url(daemon, path), extra_headers=headers, max_size=None,
                                    open_timeout=60, close_timeout=5)


async def hello(ws):
    msg = json.loads(await asyncio.wait_for(ws.recv(), 30))
    assert msg["type"] == "hello", msg
    return msg


async def read_until(ws, needle, timeout=30):
    """Terminal bytes until needle (bytes or a compiled regex) shows; the
    bytes and the control messages seen meanwhile."""
    buf, texts = b"", []
    deadline = time.monotonic() + timeout
    while not (needle.search(buf) if isinstance(needle, re.Pattern) else needle in buf):
        left = deadline - time.monotonic()
        assert left > 0, f"{needle!r} did not show within {timeout}s; got {buf[-2000:]!r} {texts}"
        msg = await asyncio.wait_for(ws.recv(), left)
        if isinstance(msg, bytes):
            buf += msg
        else:
            texts.append(json.loads(msg))
    return buf, texts


async def status_of(daemon, path, auth=True):
    """The HTTP status a WebSocket upgrade got refused with (101: opened)."""
    try:
        ws = await connect(daemon, path, auth)
    except InvalidStatusCode as exc:
        return exc.status_code
    await ws.close()
    return 101


def ticket(client, sid, what="terminal"):
    r = client.post(f"/api/v1/hiveboxes/{sid}/{what}/ticket")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["expires_in"] == 30 and len(body["ticket"]) >= 32, body
    return body["ticket"]


# ------------------------------------------------------------------ the terminal

def test_terminal_is_bash_on_a_pty_of_the_asked_size(daemon, shared_sb):
    async def go():
        ws = await connect(daemon, f"/api/v1/hiveboxes/{shared_sb.id}/terminal?cols=100&rows=30")
        h = await hello(ws)
        assert h["pid"] > 0 and h["cols"] == 100 and h["rows"] == 30 and h["offset"] == 0, h
        await ws.send(b"stty size; echo \"B=${BASH_VERSION:+yes} T=$TERM TTY=$(tty)\"\n")
        buf, _ = await read_until(ws, re.compile(rb"B=yes T=xterm-256color TTY=/dev/pts/\d+"))
        assert b"30 100" in buf, buf
        await ws.send(b"exit 5\n")
        _, texts = await read_until_closed(ws)
        return texts
    texts = run(go())
    exits = [t for t in texts if t["type"] == "exit"]
    assert exits and exits[0]["exit_code"] == 5, texts


async def read_until_closed(ws, timeout=30):
    buf, texts = b"", []
    try:
        while True:
            msg = await asyncio.wait_for(ws.recv(), timeout)
            if isinstance(msg, bytes):
                buf += msg
            else:
                texts.append(json.loads(msg))
    except ConnectionClosed:
        pass
    return buf, texts


def test_input_crossing_the_exit_still_gets_the_exit_code(daemon, shared_sb):
    """A client that keeps typing and resizing while its command ends: what
    it sends after init has closed the process's connection is dropped,
    and the session still ends with the exit frame and a normal close. It
    once ended 1011 without the exit (`hivebox shell -- 'exit 4'` returned
    1); then, in 4 of 8 runs by hand, 1006: the daemon closed the socket on
    input it had not read, the kernel reset the connection, and the client
    lost the exit and close frames it had not read yet. Repeated, with
    input flooding, so the crossing happens."""
    path = f"/api/v1/hiveboxes/{shared_sb.id}/terminal?cmd=sleep%200.05%3B%20exit%204"

    async def flood(ws):
        try:
            while True:
                await ws.send(b"x" * 512)
                await ws.send(json.dumps({"type": "resize", "cols": 81, "rows": 25}))
                await asyncio.sleep(0)
        except ConnectionClosed:
            pass

    async def once():
        ws = await connect(daemon, path)
        await hello(ws)
        sender = asyncio.ensure_future(flood(ws))
        try:
            _, texts = await read_until_closed(ws)
        finally:
            sender.cancel()
        return [t for t in texts if t["type"] in ("exit", "error")], ws.close_code

    async def go():
        return [await once() for _ in range(25)]
    for ends, code in run(go()):
        assert ends and ends[-1]["type"] == "exit" and ends[-1]["exit_code"] == 4, ends
        assert code == 1000, (code, ends)


def test_a_client_that_floods_past_our_close_is_dropped(daemon, shared_sb):
    """After its close frame the session reads and drops what the client
    sends, waiting for its answer, but only for HB_WS_CLOSE_WAIT_MS (5 s):
    a raw client that never answers and keeps sending is cut off (an
    unbounded wait would hold the worker as long as it floods). It still
    got the exit frame first."""
    import base64
    import socket
    key = base64.b64encode(os.urandom(16)).decode()
    s = socket.create_connection(("127.0.0.1", daemon.port), timeout=10)
    s.sendall((f"GET /api/v1/hiveboxes/{shared_sb.id}/terminal?cmd=exit%203 HTTP/1.1\r\n"
               f"Host: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
               f"Authorization: Bearer {daemon.key}\r\n\r\n").encode())
    got = read_head(s)
    assert got.startswith(b"HTTP/1.1 101"), got[:200]
    mask = os.urandom(4)
    payload = bytes(b ^ mask[i % 4] for i, b in enumerate(b"x" * 512))
    frame = bytes([0x82, 0x80 | 126]) + (512).to_bytes(2, "big") + mask + payload
    s.settimeout(0.0)
    start, ended, out = time.monotonic(), None, b""
    while ended is None and time.monotonic() - start < 60:
        try:
            out = out or frame                    # whole frames: a short send keeps the rest
            out = out[s.send(out):]
        except BlockingIOError:
            time.sleep(0.01)
        except OSError:
            ended = time.monotonic() - start      # reset or closed under us
        try:
            part = s.recv(65536)
            if part == b"":
                ended = time.monotonic() - start
            got += part
        except BlockingIOError:
            pass
        except OSError:
            ended = time.monotonic() - start
    s.close()
    assert re.search(rb'"type":\s*"exit",\s*"exit_code":\s*3', got), got[-300:]
    assert ended is not None, "the daemon kept reading a flood past its close for 60 s"


def test_resize_reaches_the_pty_and_bad_control_frames_are_answered(daemon, shared_sb):
    async def go():
        ws = await connect(daemon, f"/api/v1/hiveboxes/{shared_sb.id}/terminal")
        h = await hello(ws)
        assert (h["cols"], h["rows"]) == (80, 24), h
        await ws.send(json.dumps({"type": "resize", "cols": 132, "rows": 43}))
        await ws.send(b"stty size\n")
        buf, _ = await read_until(ws, b"43 132")
        await ws.send(json.dumps({"type": "resize", "cols": 0, "rows": 43}))
        await ws.send("not json")
        await ws.send(json.dumps({"type": "dance"}))
        await ws.send(json.dumps({"type": "signal", "signal": "NOPE"}))
        # past the control frame's bound: refused unparsed, the session goes on
        await ws.send(json.dumps({"type": "resize", "pad": "x" * 5000}))
        errors = []
        while len(errors) < 5:
            msg = await asyncio.wait_for(ws.recv(), 20)
            if isinstance(msg, str):
                errors.append(json.loads(msg))
        # the session goes on after bad frames
        await ws.send(b"echo still$((40+2))\n")
        await read_until(ws, b"still42")
        await ws.close()
        return errors
    errors = run(go())
    assert all(e["type"] == "error" for e in errors), errors
    text = " ".join(e["error"] for e in errors)
    for field in ("cols", "JSON", "type", "signal", "longer than 4096"):
        assert field in text, (field, errors)


def test_signal_frame_reaches_the_process(daemon, shared_sb):
    """A signal frame goes to the process's group (as POST .../signal); on
    a terminal ^C is the byte 0x03 and the PTY signals the foreground job."""
    async def go():
        ws = await connect(daemon, f"/api/v1/hiveboxes/{shared_sb.id}/terminal?cmd=sleep%20300")
        await hello(ws)
        await ws.send(json.dumps({"type": "signal", "signal": "TERM"}))
        _, texts = await read_until_closed(ws)
        shell = await connect(daemon, f"/api/v1/hiveboxes/{shared_sb.id}/terminal")
        await hello(shell)
        await shell.send(b"sleep 300; echo after=$?\n")
        await asyncio.sleep(1)
        await shell.send(b"\x03")
        buf, _ = await read_until(shell, re.compile(rb"after=\d+|\^C"))
        await shell.send(b"echo back$((2*4))\n")
        buf2, _ = await read_until(shell, b"back8")
        await shell.send(b"exit\n")
        await read_until_closed(shell)
        return texts, buf + buf2
    texts, buf = run(go())
    ex = [t for t in texts if t["type"] == "exit"]
    assert ex and (ex[0]["signal"] == 15 or ex[0]["exit_code"] == 143), texts
    assert b"^C" in buf, buf


def test_curses_program_draws_its_screen(daemon, shared_sb):
    """top (ncurses) in full-screen mode: the PTY's size is what it lays out
    for, and its escape sequences come through untouched."""
    async def go():
        ws = await connect(daemon, f"/api/v1/hiveboxes/{shared_sb.id}/terminal"
                                   "?cols=120&rows=40&cmd=top%20-n%201")
        await hello(ws)
        return await read_until_closed(ws)
    buf, texts = run(go())
    assert b"\x1b[" in buf, buf[:400]                  # cursor addressing
    assert re.search(rb"top - \d\d:\d\d:\d\d", buf), buf[:400]
    assert b"load average" in buf and b"PID" in buf, buf[:800]
    assert [t for t in texts if t["type"] == "exit"][0]["exit_code"] == 0, texts


def test_python_curses_sees_the_terminal_size(daemon, shared_sb):
    shared_sb.put("/tmp/cur.py", "import curses\n"
                  "def main(w):\n"
                  "    y, x = w.getmaxyx()\n"
                  "    w.addstr(5, 10, 'SIZE %dx%d' % (x, y))\n"
                  "    w.refresh()\n"
                  "    w.getch()\n"
                  "curses.wrapper(main)\n")

    async def go():
        ws = await connect(daemon, f"/api/v1/hiveboxes/{shared_sb.id}/terminal"
                                   "?cols=90&rows=33&cmd=python3%20/tmp/cur.py")
        await hello(ws)
        buf, _ = await read_until(ws, b"SIZE 90x33")
        await ws.send(b"q")                            # getch returns: curses ends
        rest, texts = await read_until_closed(ws)
        return buf + rest, texts
    buf, texts = run(go())
    assert b"\x1b[6;11H" in buf, buf[-600:]            # row 5, col 10, 1-based
    assert [t for t in texts if t["type"] == "exit"][0]["exit_code"] == 0, texts


# ------------------------------------------------------------------ attach, replay, takeover

def test_reconnect_replays_from_the_offset(daemon, shared_sb):
    sid = shared_sb.id

    async def first():
        ws = await connect(daemon, f"/api/v1/hiveboxes/{sid}/terminal")
        h = await hello(ws)
        await ws.send(b"echo one$((10+1))\n")
        buf, _ = await read_until(ws, b"one11")
        await ws.close()                 # the shell stays: init keeps it
        return h["pid"], buf

    async def again(pid, offset):
        ws = await connect(daemon, f"/api/v1/hiveboxes/{sid}/processes/{pid}/ws?offset={offset}")
        h = await hello(ws)
        assert h["pid"] == pid and h["offset"] == offset and (h["cols"], h["rows"]) == (80, 24), h
        got = b""
        if offset == 0:
            got, _ = await read_until(ws, b"one11")          # replayed
        await ws.send(b"echo two$((20+2))\n")
        more, _ = await read_until(ws, b"two22")
        await ws.close()
        return got + more

    pid, seen = run(first())
    replay = run(again(pid, 0))
    assert replay.startswith(seen[:len(seen) // 2]), (seen[:200], replay[:200])
    tail = run(again(pid, len(replay)))
    assert b"one11" not in tail and b"two22" in tail, tail
    assert client_delete(daemon, sid, pid) == 200


def client_delete(daemon, sid, pid):
    r = requests.delete(f"{daemon.url}/api/v1/hiveboxes/{sid}/processes/{pid}",
                        headers={"Authorization": f"Bearer {daemon.key}"}, timeout=30)
    return r.status_code


def test_a_second_client_takes_over_with_close_code_4001(daemon, shared_sb):
    sid = shared_sb.id

    async def go():
        a = await connect(daemon, f"/api/v1/hiveboxes/{sid}/terminal")
        pid = (await hello(a))["pid"]
        b = await connect(daemon, f"/api/v1/hiveboxes/{sid}/processes/{pid}/ws")
        await hello(b)
        try:
            while True:
                await asyncio.wait_for(a.recv(), 20)
        except ConnectionClosed:
            pass
        await b.send(b"echo mine$((3*3))\n")
        await read_until(b, b"mine9")
        await b.send(b"exit\n")
        await read_until_closed(b)
        return a.close_code, a.close_reason
    code, reason = run(go())
    assert code == 4001 and reason == "taken over by another client", (code, reason)


def test_idle_terminal_outlives_the_request_timeout(private_daemon, sandbox):
    """The HTTP limits close a connection whose request head is late
    (--header-timeout); an attached terminal is not one, however quiet."""
    d = private_daemon(extra_args=["--header-timeout", "2"])
    c = d.client()
    info = c.create()
    try:
        async def go():
            ws = await connect(d, f"/api/v1/hiveboxes/{info['id']}/terminal")
            await hello(ws)
            await asyncio.sleep(6)                       # three head timeouts
            await ws.send(b"echo alive$((6*7))\n")
            await read_until(ws, b"alive42")
            await ws.send(b"exit\n")
            await read_until_closed(ws)
        run(go())
    finally:
        c.destroy(info["id"], missing_ok=True)
        c.close()


# ------------------------------------------------------------------ tickets and errors

def test_tickets_are_single_use_and_bound_to_their_route(daemon, client, shared_sb):
    sid = shared_sb.id
    t = ticket(client, sid)
    assert run(status_of(daemon, f"/api/v1/hiveboxes/{sid}/terminal?cmd=true&ticket={t}",
                         auth=False)) == 101
    assert run(status_of(daemon, f"/api/v1/hiveboxes/{sid}/terminal?cmd=true&ticket={t}",
                         auth=False)) == 401                      # used up
    # a process ticket opens that process only
    r = client.post(f"/api/v1/hiveboxes/{sid}/processes",
                    json={"command": "sleep 120", "pty": {"cols": 80, "rows": 24}})
    assert r.status_code == 201, r.text
    pid = r.json()["pid"]
    t2 = ticket(client, sid, f"processes/{pid}")
    assert run(status_of(daemon, f"/api/v1/hiveboxes/{sid}/terminal?ticket={t2}",
                         auth=False)) == 401                      # wrong route; spent
    t3 = ticket(client, sid, f"processes/{pid}")
    assert run(status_of(daemon, f"/api/v1/hiveboxes/{sid}/processes/{pid}/ws?ticket={t3}",
                         auth=False)) == 101
    assert client.delete(f"/api/v1/hiveboxes/{sid}/processes/{pid}").status_code == 200
    t4 = ticket(client, sid)
    assert run(status_of(daemon, f"/api/v1/hiveboxes/no-such-box/terminal?ticket={t4}",
                         auth=False)) == 401                      # wrong sandbox


@pytest.mark.once("30 s of waiting for a ticket's expiry: a clock, not memory")
def test_ticket_expires_after_30_seconds(daemon, client, shared_sb):
    t = ticket(client, shared_sb.id)
    time.sleep(31)
    assert run(status_of(daemon, f"/api/v1/hiveboxes/{shared_sb.id}/terminal?cmd=true&ticket={t}",
                         auth=False)) == 401


def test_the_api_key_in_a_url_is_refused(daemon, shared_sb):
    sid = shared_sb.id
    for q in (f"ticket={daemon.key}", f"api_key={daemon.key}", f"key={daemon.key}",
              f"token={daemon.key}", f"access_token={daemon.key}"):
        assert run(status_of(daemon, f"/api/v1/hiveboxes/{sid}/terminal?{q}", auth=False)) == 401
    # and a ticket is no key for the REST routes
    assert requests.get(f"{daemon.url}/api/v1/hiveboxes?ticket={daemon.key}",
                        timeout=10).status_code == 401


def test_errors_are_json_naming_the_problem(daemon, client, shared_sb):
    sid = shared_sb.id
    base = f"/api/v1/hiveboxes/{sid}"
    assert run(status_of(daemon, base + "/terminal", auth=False)) == 401
    assert run(status_of(daemon, base + "/processes/999999/ws")) == 404
    assert run(status_of(daemon, base + "/processes/no-such-tag/ws")) == 404
    assert run(status_of(daemon, "/api/v1/hiveboxes/no-such-box/terminal")) == 404
    assert run(status_of(daemon, base + "/terminal?cols=0")) == 400
    assert run(status_of(daemon, base + "/terminal?rows=1001")) == 400
    assert run(status_of(daemon, base + "/processes/1/ws?offset=-1")) == 400
    assert client.post(base + "/processes/999999/ticket").status_code == 404
    assert client.post("/api/v1/hiveboxes/no-such-box/terminal/ticket").status_code == 404
    r = client.get(base + "/terminal?cols=0")                # not an upgrade
    assert r.status_code == 400 and "WebSocket" in r.json()["error"], r.text
    r = client.get(base + "/terminal?cols=0", headers={
        "Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Key": "x" * 24,
        "Sec-WebSocket-Version": "13"})
    assert r.status_code == 400 and "cols" in r.json()["error"], r.text
    assert client.get(base + "/terminal/ticket").status_code == 405


def test_attach_to_an_exited_process_replays_and_says_exit(daemon, client, shared_sb):
    """An ended process is still attachable while init keeps it: its output,
    then the exit frame, then a normal close."""
    base = f"/api/v1/hiveboxes/{shared_sb.id}"
    r = client.post(base + "/processes", json={"command": "echo done$((5+5)); exit 9"})
    assert r.status_code == 201, r.text
    pid = r.json()["pid"]
    wait_until(lambda: client.get(f"{base}/processes/{pid}").json()["state"] == "exited", 30,
               what="the process to exit")

    async def go():
        ws = await connect(daemon, f"{base}/processes/{pid}/ws")
        await hello(ws)
        buf, texts = await read_until_closed(ws)
        return buf, texts, ws.close_code
    buf, texts, code = run(go())
    assert b"done10" in buf and texts[-1]["type"] == "exit" and texts[-1]["exit_code"] == 9, \
        (buf, texts)
    assert code == 1000


def test_streams_per_sandbox_are_capped_with_429(daemon, sandbox):
    sb = sandbox()

    async def go():
        held = []
        try:
            for _ in range(16):
                ws = await connect(daemon, f"/api/v1/hiveboxes/{sb.id}/terminal?cmd=sleep%20300")
                await hello(ws)
                held.append(ws)
            extra = await status_of(daemon, f"/api/v1/hiveboxes/{sb.id}/terminal?cmd=true")
        finally:
            for ws in held:
                await ws.close()
        return extra
    assert run(go()) == 429


# ------------------------------------------------------------------ hivebox shell

def cli_env(daemon):
    env = dict(os.environ)
    env.update(HIVEBOX_API_URL=daemon.url, HIVEBOX_API_KEY=daemon.key)
    return env


def test_cli_shell_without_a_tty_runs_stdin_and_exits_with_its_code(daemon, shared_sb):
    p = subprocess.run([str(BUILD / "hivebox"), "shell", shared_sb.id],
                       input=b"echo piped$((2+3))\nexit 3\n", capture_output=True,
                       env=cli_env(daemon), timeout=60)
    assert p.returncode == 3, (p.returncode, p.stdout[-500:], p.stderr)
    assert b"piped5" in p.stdout, p.stdout
    p = subprocess.run([str(BUILD / "hivebox"), "shell", shared_sb.id, "--", "exit 4"],
                       stdin=subprocess.DEVNULL, capture_output=True, env=cli_env(daemon),
                       timeout=60)
    assert p.returncode == 4, (p.returncode, p.stdout, p.stderr)
    # A login shell on an empty stdin ends: its ^D may arrive while bash
    # is still starting (canonical mode, then readline's raw mode turns it
    # into a NUL), so the CLI repeats it; before it did, one run in three
    # hung here.
    for _ in range(5):
        p = subprocess.run([str(BUILD / "hivebox"), "shell", shared_sb.id],
                           stdin=subprocess.DEVNULL, capture_output=True, env=cli_env(daemon),
                           timeout=30)
        assert p.returncode == 0, (p.returncode, p.stdout[-500:], p.stderr)
    p = subprocess.run([str(BUILD / "hivebox"), "shell", "no-such-box"],
                       stdin=subprocess.DEVNULL, capture_output=True, env=cli_env(daemon),
                       timeout=60)
    assert p.returncode == 1 and b"not found" in p.stderr, (p.returncode, p.stderr)


@pytest.mark.skipif(not shutil.which("tmux"), reason="tmux is not installed (tools/deps.txt)")
def test_cli_shell_in_tmux_raw_mode_resize_and_restore(daemon, shared_sb, tmp_path):
    sock = "hbtest-" + secrets.token_hex(4)
    env = cli_env(daemon)
    tm = ["tmux", "-L", sock]
    cmd = (f"stty -a > {tmp_path}/before; {BUILD}/hivebox shell {shared_sb.id}; "
           f"echo EXITED:$?; stty -a > {tmp_path}/after; sleep 600")
    subprocess.run(tm + ["-f", "/dev/null", "new-session", "-d", "-x", "120", "-y", "40", cmd],
                   check=True, env=env)

    def screen():
        return subprocess.run(tm + ["capture-pane", "-p", "-J"], capture_output=True,
                              text=True, env=env).stdout

    def keys(*k):
        subprocess.run(tm + ["send-keys", *k], check=True, env=env)

    try:
        # raw mode flushes what was typed before it: wait for the remote prompt
        wait_until(lambda: "root@" in screen(), 30, what=f"the prompt; screen: {screen()!r}")
        keys("stty size; echo ok$((1+1))", "Enter")
        wait_until(lambda: "ok2" in screen() and "40 120" in screen(), 30,
                   what=f"stty size in the remote shell; screen: {screen()!r}")
        subprocess.run(tm + ["resize-window", "-x", "100", "-y", "30"], check=True, env=env)
        time.sleep(0.5)
        keys("clear; stty size", "Enter")
        wait_until(lambda: "30 100" in screen(), 30, what="the new size after SIGWINCH")
        keys("clear; sleep 100", "Enter")
        time.sleep(1)
        keys("C-c")                                   # raw mode: ^C is a byte for the shell
        wait_until(lambda: "^C" in screen(), 30, what="^C echoed by the remote PTY")
        time.sleep(0.5)                               # the PTY flushes input on ^C
        keys("echo still$((3+4))", "Enter")
        wait_until(lambda: "still7" in screen(), 30, what="the shell after ^C")
        keys("exit 6", "Enter")
        wait_until(lambda: "EXITED:6" in screen(), 30, what="hivebox shell to exit with 6")
        wait_until(lambda: (tmp_path / "after").exists() and
                   "speed" in (tmp_path / "after").read_text(), 10, what="stty after")
        def modes(name):   # the size changed on purpose; every mode must be back
            return re.sub(r"rows \d+; columns \d+;", "", (tmp_path / name).read_text())
        assert modes("before") == modes("after"), (modes("before"), modes("after"))
    finally:
        subprocess.run(tm + ["kill-server"], check=False, env=env)


def test_a_terminal_survives_a_daemon_restart(own_daemon):
    """The shell belongs to the sandbox's init, not to the daemon: after a
    SIGKILL and a restart, a reconnect replays what it printed and it still
    answers."""
    import signal
    c = own_daemon.client()
    sid = c.create()["id"]

    async def first():
        ws = await connect(own_daemon, f"/api/v1/hiveboxes/{sid}/terminal")
        pid = (await hello(ws))["pid"]
        await ws.send(b"echo before$((50+5))\n")
        await read_until(ws, b"before55")
        return pid, ws

    async def after(pid):
        ws = await connect(own_daemon, f"/api/v1/hiveboxes/{sid}/processes/{pid}/ws?offset=0")
        await hello(ws)
        await read_until(ws, b"before55")
        await ws.send(b"echo after$((60+6))\n")
        await read_until(ws, b"after66")
        await ws.send(b"exit\n")
        _, texts = await read_until_closed(ws)
        return texts

    async def kill_while_attached():
        pid, ws = await first()
        own_daemon.stop(signal.SIGKILL)
        try:
            await asyncio.wait_for(ws.recv(), 30)
        except (ConnectionClosed, asyncio.TimeoutError):
            pass
        return pid
    try:
        pid = run(kill_while_attached())
        own_daemon.start()
        c.close()
        c = own_daemon.client()
        texts = run(after(pid))
        assert [t for t in texts if t["type"] == "exit"], texts
    finally:
        c.destroy(sid, missing_ok=True)
        c.close()


def test_a_client_that_never_reads_is_dropped_without_growing_the_daemon(private_daemon):
    """A flood (`yes`) into a WebSocket whose client reads nothing: the
    daemon holds no more than a socket buffer, gives up on the write after
    --header-timeout and ends the session (its pump thread goes)."""
    import base64
    import socket
    d = private_daemon(extra_args=["--header-timeout", "2"])
    c = d.client()
    sid = c.create()["id"]
    try:
        # a running process first: the supervisor's watch of them is in the baseline
        r = c.post(f"/api/v1/hiveboxes/{sid}/processes", json={"command": "sleep 600"})
        assert r.status_code == 201, r.text
        time.sleep(1)
        threads_before = d.thread_count()
        rss_before = rss_of(d.pid)
        s = socket.create_connection(("127.0.0.1", d.port))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        key = base64.b64encode(os.urandom(16)).decode()
        s.sendall((f"GET /api/v1/hiveboxes/{sid}/terminal?cmd=yes HTTP/1.1\r\n"
                   f"Host: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                   f"Authorization: Bearer {d.key}\r\n\r\n").encode())
        wait_until(lambda: d.thread_count() > threads_before, 30, what="the session's pump")
        peak = 0
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and d.thread_count() > threads_before:
            peak = max(peak, rss_of(d.pid))
            time.sleep(0.2)
        assert d.thread_count() <= threads_before, "the never-reading session was not ended"
        assert peak - rss_before < 32 << 20, (rss_before, peak)
        s.close()
        # the stream count was given back: 16 more terminals still open
        async def sixteen():
            held = [await connect(d, f"/api/v1/hiveboxes/{sid}/terminal?cmd=sleep%2060")
                    for _ in range(16)]
            for ws in held:
                await hello(ws)
                await ws.close()
        run(sixteen())
    finally:
        c.destroy(sid, missing_ok=True)
        c.close()


def rss_of(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def test_destroying_the_sandbox_closes_its_terminals(daemon, client, sandbox):
    """An attached terminal holds the sandbox's handle (a lease): a DELETE
    still goes through at once, and the WebSocket ends."""
    sb = sandbox()

    async def go():
        ws = await connect(daemon, f"/api/v1/hiveboxes/{sb.id}/terminal")
        await hello(ws)
        t0 = time.monotonic()
        r = await asyncio.get_running_loop().run_in_executor(
            None, lambda: requests.delete(f"{daemon.url}/api/v1/hiveboxes/{sb.id}",
                                          headers={"Authorization": f"Bearer {daemon.key}"},
                                          timeout=60))
        took = time.monotonic() - t0
        _, texts = await read_until_closed(ws, timeout=30)
        return r.status_code, took, ws.close_code
    status, took, code = run(go())
    assert status == 200 and took < 20, (status, took)
    assert code is not None and code != 4001, code


def test_a_failed_sandbox_answers_409(daemon, client, sandbox):
    import signal
    from hbtest import init_host_pid
    sb = sandbox()
    os.kill(init_host_pid(sb.id), signal.SIGKILL)
    wait_until(lambda: client.info(sb.id)["status"] == "failed", 30, what="the sandbox to fail")
    assert run(status_of(daemon, f"/api/v1/hiveboxes/{sb.id}/terminal")) == 409
    r = client.post(f"/api/v1/hiveboxes/{sb.id}/terminal/ticket")
    assert r.status_code == 409 and "fail" in r.json()["error"], r.text
