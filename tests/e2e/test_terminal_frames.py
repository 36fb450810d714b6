"""Hostile WebSocket clients of the terminals (issue 13, hardened as in
DESIGN 13: sizes bounded before parsing). The gateway frames terminals
itself (gateway/ws_frame.c): civetweb 1.15 collected each incoming frame
whole, as long as its header declared, so one client could make the daemon
hold gigabytes. Raw sockets here, since a WebSocket library will not send
what these tests send."""
import base64
import json
import os
import signal
import socket
import time
import weakref
import zlib
from urllib.parse import quote

import pytest

from hbtest import read_head
from test_terminal import rss_of


def request_upgrade(d, path, key=None, ext=None):
    """A raw socket that asked to upgrade path (offering the extensions
    ext): (socket, the answer's head and what followed)."""
    s = socket.create_connection(("127.0.0.1", d.port), timeout=60)
    key = key or base64.b64encode(os.urandom(16)).decode()
    offer = f"Sec-WebSocket-Extensions: {ext}\r\n" if ext else ""
    s.sendall((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n{offer}"
               f"Sec-WebSocket-Version: 13\r\nAuthorization: Bearer {d.key}\r\n\r\n").encode())
    return s, read_head(s)


def upgrade(d, path, ext=None):
    """A raw socket whose upgrade to path got 101: (socket, bytes after the head)."""
    s, got = request_upgrade(d, path, ext=ext)
    assert got.startswith(b"HTTP/1.1 101"), got[:300]
    return s, got[got.index(b"\r\n\r\n") + 4:]


def masked(b0, payload):
    """A client frame (first byte b0) carrying payload, masked."""
    mask = os.urandom(4)
    n = len(payload)
    size = (bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + n.to_bytes(2, "big")
            if n < 65536 else bytes([0x80 | 127]) + n.to_bytes(8, "big"))
    return bytes([b0]) + size + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def next_frame(buf):
    """The first whole server frame in buf and the rest: ((opcode, payload),
    rest), or None; the opcode of a compressed message has RSV1 (0x40) set."""
    if len(buf) < 2:
        return None
    n, at = buf[1] & 0x7f, 2
    if n >= 126:
        at = 4 if n == 126 else 10
        n = int.from_bytes(buf[2:at], "big")
    if len(buf) < at + n:
        return None
    return (buf[0] & 0x4f, buf[at:at + n]), buf[at + n:]


# What a socket sent past the frame that ended read_frames' last call: the
# next call starts with it, so no frame is lost between two calls.
_left = weakref.WeakKeyDictionary()


def read_frames(s, buf, until, timeout=60):
    """Server frames (opcode, payload) from buf and the socket until
    until(frames) is true, checked after every frame."""
    frames, deadline = [], time.monotonic() + timeout
    buf = _left.pop(s, b"") + buf
    while not until(frames):
        got = next_frame(buf)
        if got:
            frames.append(got[0])
            buf = got[1]
            continue
        assert time.monotonic() < deadline, f"not seen in {timeout}s: {frames[-5:]}"
        part = s.recv(65536)
        assert part, f"closed before it was seen: {frames[-5:]}"
        buf += part
    _left[s] = buf
    return frames


def close_code(frames):
    op, payload = frames[-1]
    assert op == 0x8, frames[-3:]
    return int.from_bytes(payload[:2], "big"), payload[2:].decode()


def test_a_frame_of_any_declared_length_streams_through_without_growing_the_daemon(
        private_daemon):
    """One binary frame that declares 1 GiB: its first 64 MiB reach the
    process (`wc -c` counts them) while the daemon's RSS stays within 16
    MiB of where it was. Before, civetweb allocated the declared length and
    held every byte until the frame was complete: the process got nothing
    and the daemon grew by what was sent."""
    d = private_daemon()
    c = d.client()
    sid = c.create()["id"]
    try:
        cmd = quote("stty raw -echo; echo ready; head -c 67108864 | wc -c; sleep 30")
        s, rest = upgrade(d, f"/api/v1/hiveboxes/{sid}/terminal?cmd={cmd}")
        read_frames(s, rest, lambda f: any(b"ready" in p for op, p in f if op == 2))
        time.sleep(0.5)
        rss_before = peak = rss_of(d.pid)
        mask = os.urandom(4)
        chunk = bytes(0x61 ^ mask[i % 4] for i in range(1 << 20))
        s.sendall(bytes([0x82, 0x80 | 127]) + (1 << 30).to_bytes(8, "big") + mask)
        for _ in range(64):
            s.sendall(chunk)
            peak = max(peak, rss_of(d.pid))
        frames = read_frames(s, b"", lambda f: any(b"67108864" in p for op, p in f if op == 2))
        peak = max(peak, rss_of(d.pid))
        assert frames
        assert peak - rss_before < 16 << 20, (rss_before, peak)
        s.close()
    finally:
        c.destroy(sid, missing_ok=True)
        c.close()


@pytest.mark.parametrize("frame, why", [
    (bytes([0x82, 0x03]) + b"abc", "masked"),                    # a client frame unmasked
    (bytes([0x89, 0x80 | 126, 0, 200]) + b"\0" * 204, "125"),   # a ping of 200 bytes
    (bytes([0x80, 0x80]) + b"\0" * 4, "continuation"),           # a continuation of nothing
    (bytes([0xc2, 0x80]) + b"\0" * 4, "reserved"),               # an extension nobody agreed
])
def test_a_protocol_error_closes_with_1002_naming_it(daemon, shared_sb, frame, why):
    s, rest = upgrade(daemon, f"/api/v1/hiveboxes/{shared_sb.id}/terminal?cmd=sleep%2030")
    read_frames(s, rest, lambda f: any(op == 1 and b'"hello"' in p for op, p in f))
    s.sendall(frame)
    code, reason = close_code(read_frames(s, b"", lambda f: f and f[-1][0] == 0x8))
    assert code == 1002 and why in reason, (code, reason)
    s.settimeout(10)
    assert s.recv(100) == b"", "the connection stays open after a protocol error"
    s.close()


def test_a_bad_key_is_refused_before_the_upgrade(daemon, shared_sb):
    s, got = request_upgrade(daemon, f"/api/v1/hiveboxes/{shared_sb.id}/terminal", key="k" * 65)
    while b"Sec-WebSocket-Key:" not in got.split(b"\r\n\r\n", 1)[1]:
        part = s.recv(4096)
        if not part:
            break
        got += part
    s.close()
    assert got.startswith(b"HTTP/1.1 400") and b"Sec-WebSocket-Key: a base64" in got, got[:400]


def test_fragmented_input_arrives_whole_and_fragmented_control_is_refused(daemon, shared_sb):
    """A binary message cut in three frames, a ping between two of them,
    reaches the shell as one command; a JSON control message cut in two is
    answered with an error and the session goes on."""
    s, rest = upgrade(daemon, f"/api/v1/hiveboxes/{shared_sb.id}/terminal?cmd=sh")
    read_frames(s, rest, lambda f: any(op == 1 and b'"hello"' in p for op, p in f))
    s.sendall(masked(0x02, b"echo frag") + masked(0x89, b"p") + masked(0x00, b"ments$((") +
              masked(0x80, b"6*7))\n"))
    frames = read_frames(s, b"", lambda f: any(b"fragments42" in p for op, p in f if op == 2))
    assert (0xa, b"p") in frames, frames
    s.sendall(masked(0x01, b'{"type":"resize",') + masked(0x80, b'"cols":90,"rows":30}'))
    frames = read_frames(s, b"", lambda f: any(op == 1 and b"error" in p for op, p in f))
    assert any(b"must not be fragmented" in p for op, p in frames if op == 1), frames
    s.sendall(masked(0x82, b"echo still$((40+2))\n"))
    read_frames(s, b"", lambda f: any(b"still42" in p for op, p in f if op == 2))
    s.close()


def test_a_ping_is_answered_and_a_daemon_stop_says_going_away(own_daemon):
    """A ping gets its pong with the same payload; at SIGTERM an attached
    terminal gets a close frame 1001 (it used to see the socket drop: 1006),
    the daemon exits 0, and the shell lives on in the sandbox."""
    c = own_daemon.client()
    sid = c.create()["id"]
    try:
        s, rest = upgrade(own_daemon, f"/api/v1/hiveboxes/{sid}/terminal?cmd=sleep%20600")
        read_frames(s, rest, lambda f: any(op == 1 and b'"hello"' in p for op, p in f))
        s.sendall(masked(0x89, b"hb-42"))
        frames = read_frames(s, b"", lambda f: any(op == 0xa for op, _ in f))
        assert (0xa, b"hb-42") in frames, frames
        own_daemon.proc.send_signal(signal.SIGTERM)
        code, reason = close_code(read_frames(s, b"", lambda f: f and f[-1][0] == 0x8))
        assert code == 1001 and "stopping" in reason, (code, reason)
        assert own_daemon.proc.wait(40) == 0
        s.close()
        own_daemon.start()
        c.close()
        c = own_daemon.client()
        procs = c.get(f"/api/v1/hiveboxes/{sid}/processes").json()["processes"]
        assert any("sleep 600" in p["command"] and p["state"] == "running" for p in procs), procs
    finally:
        c.destroy(sid, missing_ok=True)
        c.close()



def parse_frames(buf):
    """Every whole server frame in buf, in order: [(opcode, payload)]."""
    frames = []
    while got := next_frame(buf):
        frames.append(got[0])
        buf = got[1]
    return frames



def test_nothing_follows_the_close_frame_while_output_streams(daemon, client, shared_sb):
    """A client closes a terminal whose process writes without pause: the
    daemon answers with its close frame and sends nothing after it (RFC 6455
    5.5.1; a browser fails the connection on a data frame after the close).
    The answer to the client's close and the output pump used to race: a
    chunk of output or the exit message could follow the close frame (about
    one close in eight here). Twenty closes."""
    late = []
    for _ in range(20):
        s, buf = upgrade(daemon, f"/api/v1/hiveboxes/{shared_sb.id}/terminal?cmd=yes%20hivebox")
        s.settimeout(30)
        while len(buf) < 256 << 10:
            buf += s.recv(65536)
        s.sendall(masked(0x88, (1000).to_bytes(2, "big")))
        while part := s.recv(65536):
            buf += part
        s.close()
        frames = parse_frames(buf)
        pid = json.loads(frames[0][1])["pid"]
        assert client.delete(f"/api/v1/hiveboxes/{shared_sb.id}/processes/{pid}").status_code == 200
        ops = [op for op, _ in frames]
        assert 0x8 in ops, "no close frame came back"
        late += ops[ops.index(0x8) + 1:]
    assert late == [], f"{len(late)} frames after a close frame: {late[:10]}"


@pytest.mark.once("its time is the daemon's 30 s of silence before a ping (a clock)")
def test_a_silent_client_is_pinged_and_its_pong_keeps_the_session(daemon, shared_sb):
    """A client that sends nothing gets a ping after 30 s of silence (not
    before); its pong counts as hearing from it, and the session goes on."""
    s, rest = upgrade(daemon, f"/api/v1/hiveboxes/{shared_sb.id}/terminal?cmd=sh")
    read_frames(s, rest, lambda f: any(op == 1 and b'"hello"' in p for op, p in f))
    t0 = time.monotonic()
    frames = read_frames(s, b"", lambda f: any(op == 0x9 for op, _ in f), timeout=60)
    waited = time.monotonic() - t0
    assert waited > 29, f"pinged after {waited:.1f} s of silence"
    ping = next(p for op, p in frames if op == 0x9)
    s.sendall(masked(0x8a, ping) + masked(0x82, b"echo alive$((6*7))\n"))
    read_frames(s, b"", lambda f: any(b"alive42" in p for op, p in f if op == 2))
    s.close()


# ---- permessage-deflate (RFC 7692; gateway/ws_deflate.c) ----

OFFER = "permessage-deflate; client_max_window_bits"   # what Chrome and websockets send
AGREED = (b"Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; "
          b"client_no_context_takeover\r\n")


def deflated(payload, level=6):
    """A message's payload compressed as RFC 7692 says (the flush's tail left off)."""
    c = zlib.compressobj(level, zlib.DEFLATED, -15)
    return (c.compress(payload) + c.flush(zlib.Z_SYNC_FLUSH))[:-4]


def output_of(frames):
    """The process's output in binary frames, inflated where compressed:
    (the bytes, the bytes on the wire)."""
    out, wire = b"", 0
    for op, p in frames:
        if op & 0x0f == 2:
            wire += len(p)
            out += zlib.decompressobj(-15).decompress(p + b"\0\0\xff\xff") if op & 0x40 else p
    return out, wire


def compressed_session(d, sid, cmd="sh"):
    s, got = request_upgrade(d, f"/api/v1/hiveboxes/{sid}/terminal?cmd={cmd}", ext=OFFER)
    head, rest = got.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 101") and AGREED in head + b"\r\n", head
    read_frames(s, rest, lambda f: any(op == 1 and b'"hello"' in p for op, p in f))
    return s


def test_compressed_output_shrinks_and_compressed_input_and_control_arrive(daemon, shared_sb):
    """With permessage-deflate agreed, the output of `seq` goes out
    compressed (under half its bytes on the wire) and inflates to exactly
    what the process wrote; compressed input reaches the shell and a
    compressed resize is applied."""
    s = compressed_session(daemon, shared_sb.id)
    s.sendall(masked(0xc2, deflated(b"stty -echo; seq 1 100000; echo E$((1+1))ND\n")))
    frames = read_frames(s, b"", lambda f: b"E2ND" in output_of(f)[0])
    out, wire = output_of(frames)
    assert any(op == 0x42 for op, _ in frames), "no compressed frame came"
    numbers = out[out.index(b"1\r\n2\r\n"):out.index(b"E2ND")].split()
    assert numbers == [str(i).encode() for i in range(1, 100001)]
    assert wire < len(out) / 2, (wire, len(out))
    resize = b'{"type":"resize","cols":91,"rows":33,"note":"' + b"a" * 80 + b'"}'
    s.sendall(masked(0xc1, deflated(resize)) + masked(0xc2, deflated(b"stty size\n")))
    read_frames(s, b"", lambda f: b"33 91" in output_of(f)[0])
    s.close()


def test_a_deflate_bomb_streams_through_without_growing_the_daemon(private_daemon):
    """A 64 KiB message that inflates to 64 MiB reaches the process whole
    (`wc -c` counts it) while the daemon's RSS stays within 16 MiB; a text
    message that inflates past 4096 bytes is refused with an error and the
    session goes on."""
    d = private_daemon()
    c = d.client()
    sid = c.create()["id"]
    try:
        cmd = quote("stty raw -echo; echo ready; head -c 67108864 | wc -c; sh")
        s = compressed_session(d, sid, cmd)
        read_frames(s, b"", lambda f: b"ready" in output_of(f)[0])
        bomb = deflated(b"a" * (64 << 20), 9)
        assert len(bomb) < 70000
        time.sleep(0.5)
        rss_before = rss_of(d.pid)
        s.sendall(masked(0xc2, bomb))
        frames = read_frames(s, b"", lambda f: b"67108864" in output_of(f)[0])
        assert frames and rss_of(d.pid) - rss_before < 16 << 20
        s.sendall(masked(0xc1, deflated(b" " * (50 << 20))))
        frames = read_frames(s, b"", lambda f: any(op == 1 and b"error" in p for op, p in f))
        assert any(b"longer than 4096" in p for op, p in frames if op == 1), frames
        assert rss_of(d.pid) - rss_before < 16 << 20
        s.sendall(masked(0xc2, deflated(b"echo after$((40+2))\n")))
        read_frames(s, b"", lambda f: b"after42" in output_of(f)[0])
        s.close()
    finally:
        c.destroy(sid, missing_ok=True)
        c.close()


def test_a_corrupt_compressed_message_closes_with_1007(daemon, shared_sb):
    s = compressed_session(daemon, shared_sb.id, "sleep%2030")
    s.sendall(masked(0xc2, b"\xff\xff\xff\xff\x00\x12"))
    code, reason = close_code(read_frames(s, b"", lambda f: f and f[-1][0] == 0x8))
    assert code == 1007 and "deflate" in reason, (code, reason)
    s.close()


@pytest.mark.parametrize("offer", [
    "permessage-deflate; server_max_window_bits=8",   # zlib cannot keep to 8 bits
    "permessage-deflate; mystery_param",
    "permessage-deflate; client_max_window_bits=\"12",
    "x-webkit-deflate-frame",
])
def test_an_offer_we_cannot_honour_is_declined_and_rsv1_then_refused(daemon, shared_sb, offer):
    s, got = request_upgrade(daemon, f"/api/v1/hiveboxes/{shared_sb.id}/terminal?cmd=sleep%2030",
                             ext=offer)
    head, rest = got.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 101") and b"Sec-WebSocket-Extensions" not in head, head
    read_frames(s, rest, lambda f: any(op == 1 and b'"hello"' in p for op, p in f))
    s.sendall(masked(0xc2, deflated(b"echo hi\n")))
    code, reason = close_code(read_frames(s, b"", lambda f: f and f[-1][0] == 0x8))
    assert code == 1002 and "reserved" in reason, (code, reason)
    s.close()
