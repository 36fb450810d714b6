"""Directory trees in and out of a sandbox: GET/PUT/HEAD
/api/v1/hiveboxes/:id/files/archive?path= (a tar stream, gzip on request),
made and unpacked by the sandbox's init. Archives are built and read here
with Python's tarfile (and checked with the host's GNU tar), never with
our own code, so a format mistake on either side shows."""
import gzip
import hashlib
import io
import os
import secrets
import subprocess
import tarfile

import pytest

from hbtest import Daemon, wait_until

LONG = "l" * 150                       # a name past ustar's 100 bytes
DEEP = "/".join(["deep"] * 30)         # a path past 100 bytes made of short names


def arch_url(sid):
    return f"/api/v1/hiveboxes/{sid}/files/archive"


RANDOM = os.urandom(300_000)


def tree_files():
    """name -> bytes of the regular files of the test tree."""
    return {
        "top.txt": b"hello\n",
        "a/b/c/nested.bin": bytes(range(256)) * 64,
        "a/random.bin": RANDOM,
        f"a/{LONG}": b"long name\n",
        f"{DEEP}/f": b"deep\n",
        "a/zero": b"",
    }


def make_tar(entries, fmt=tarfile.GNU_FORMAT, top="tree"):
    """entries: list of (name, kind, payload): kind file (bytes), dir, symlink
    (target), hardlink (target). Names are put under top/ unless absolute
    or top is None."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as t:
        for name, kind, payload in entries:
            full = name if top is None else f"{top}/{name}"
            ti = tarfile.TarInfo(full)
            ti.mtime = 1_700_000_000
            if kind == "file":
                ti.size = len(payload)
                ti.mode = 0o640
                t.addfile(ti, io.BytesIO(payload))
                continue
            if kind == "dir":
                ti.type, ti.mode = tarfile.DIRTYPE, 0o755
            elif kind == "symlink":
                ti.type, ti.linkname = tarfile.SYMTYPE, payload
            elif kind == "hardlink":
                ti.type, ti.linkname = tarfile.LNKTYPE, payload
            t.addfile(ti)
    return buf.getvalue()


def tree_tar(fmt=tarfile.GNU_FORMAT):
    entries = [("", "dir", None), ("a", "dir", None), ("empty", "dir", None)]
    entries += [(n, "file", d) for n, d in tree_files().items()]
    entries += [("a/link", "symlink", "../top.txt"), ("dangling", "symlink", "/nowhere/at/all")]
    return make_tar(entries, fmt)


def put(client, sid, path, body, **headers):
    return client.put(arch_url(sid), params={"path": path}, data=body, headers=headers)


def members(data):
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as t:
        out = {}
        for m in t.getmembers():
            out[m.name.rstrip("/")] = (m, t.extractfile(m).read() if m.isfile() else None)
        return out


def sha(b):
    return hashlib.sha256(b).hexdigest()


# ---------------------------------------------------------------- round trip

@pytest.mark.parametrize("fmt", [tarfile.GNU_FORMAT, tarfile.PAX_FORMAT], ids=["gnu", "pax"])
def test_tree_round_trip(shared_sb, fmt):
    sb = shared_sb
    dst = f"/root/rt-{secrets.token_hex(3)}"
    r = put(sb.client, sb.id, dst, tree_tar(fmt), **{"Content-Type": "application/x-tar"})
    assert r.status_code == 200, r.text
    assert r.json()["path"] == dst and r.json()["size"] > 300_000
    # what the sandbox itself sees, through exec
    for name, data in tree_files().items():
        got = sb.sh(f"sha256sum '{dst}/tree/{name}' | cut -d' ' -f1").strip()
        assert got == sha(data), name
    assert sb.sh(f"readlink {dst}/tree/a/link").strip() == "../top.txt"
    assert sb.sh(f"cat {dst}/tree/a/link") == "hello\n"
    assert sb.sh(f"readlink {dst}/tree/dangling").strip() == "/nowhere/at/all"
    assert sb.sh(f"test -d {dst}/tree/empty && ls -A {dst}/tree/empty | wc -l").strip() == "0"
    assert sb.sh(f"stat -c %a {dst}/tree/top.txt").strip() == "640"
    assert sb.sh(f"stat -c %Y {dst}/tree/top.txt").strip() == "1700000000"

    # and back out: gzip when asked for, plain tar otherwise
    r = sb.client.get(arch_url(sb.id), params={"path": f"{dst}/tree"},
                      headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200, r.text
    assert r.headers.get("Content-Encoding") == "gzip"
    assert r.headers["Content-Type"] == "application/x-tar"
    got = members(r.content)   # requests has gunzipped it
    raw = sb.client.get(arch_url(sb.id), params={"path": f"{dst}/tree"},
                        headers={"Accept-Encoding": "identity"})
    assert raw.status_code == 200 and "Content-Encoding" not in raw.headers
    assert members(raw.content).keys() == got.keys()
    for name, data in tree_files().items():
        m, content = got[f"tree/{name}"]
        assert m.isfile() and content == data, name
    assert got["tree/a/link"][0].issym() and got["tree/a/link"][0].linkname == "../top.txt"
    assert got["tree/dangling"][0].linkname == "/nowhere/at/all"
    assert got["tree/empty"][0].isdir()
    assert got[f"tree/a/{LONG}"][1] == b"long name\n"
    # the host's GNU tar reads it too
    listing = subprocess.run(["tar", "-tvf", "-"], input=raw.content, capture_output=True)
    assert listing.returncode == 0, listing.stderr
    assert f"tree/{DEEP}/f" in listing.stdout.decode()


def test_gzip_upload_and_single_file(shared_sb):
    sb = shared_sb
    dst = f"/root/gz-{secrets.token_hex(3)}"
    r = put(sb.client, sb.id, dst, gzip.compress(tree_tar()), **{"Content-Encoding": "gzip"})
    assert r.status_code == 200, r.text
    assert sb.sh(f"cat {dst}/tree/top.txt") == "hello\n"
    # a single file comes out as a one-entry archive named after it
    r = sb.client.get(arch_url(sb.id), params={"path": f"{dst}/tree/top.txt"})
    assert r.status_code == 200
    assert {k: v[1] for k, v in members(r.content).items()} == {"top.txt": b"hello\n"}
    # not gzip at all, or an encoding we do not take
    r = put(sb.client, sb.id, dst, b"certainly not gzip" * 10, **{"Content-Encoding": "gzip"})
    assert r.status_code == 400 and "gzip" in r.json()["error"], r.text
    r = put(sb.client, sb.id, dst, tree_tar(), **{"Content-Encoding": "br"})
    assert r.status_code == 415 and "gzip" in r.json()["error"]


def test_errors_and_head(shared_sb):
    sb = shared_sb
    r = sb.client.get(arch_url(sb.id), params={"path": "/no/such/dir"})
    assert r.status_code == 404 and "error" in r.json()
    r = sb.client.get(arch_url(sb.id), params={"path": "relative"})
    assert r.status_code == 400 and "path" in r.json()["error"]
    r = put(sb.client, sb.id, "/etc/hostname/x", tree_tar())
    assert r.status_code == 400, r.text
    r = put(sb.client, sb.id, "/root/notatar", b"x" * 2048)
    assert r.status_code == 400 and "archive" in r.json()["error"], r.text
    cut = tree_tar()[:5000]
    r = put(sb.client, sb.id, "/root/cut", cut)
    assert r.status_code == 400 and "cut short" in r.json()["error"], r.text
    for path, want in (("/etc", "directory"), ("/etc/hostname", "file"), ("/no/such", None)):
        r = sb.client.request("HEAD", arch_url(sb.id), params={"path": path})
        assert r.status_code == (200 if want else 404), (path, r.status_code)
        assert r.headers.get("X-Hivebox-Path-Type") == want
        assert r.content == b""
    r = sb.client.post(arch_url(sb.id), params={"path": "/root"})
    assert r.status_code == 405


# ---------------------------------------------------------------- hostile archives

HOSTILE = {
    "dotdot": ([("../../escaped-dotdot", "file", b"x")], None, "'..'"),
    "absolute": ([("/etc/escaped-absolute", "file", b"x")], None, "absolute"),
    "link-then-file": ([("l", "symlink", "/etc"), ("l/escaped-link", "file", b"x")], None,
                       "symbolic link"),
    "link-up": ([("up", "symlink", ".."), ("up/escaped-up", "file", b"x")], None,
                "symbolic link"),
    "link-dir-then-file": ([("d", "symlink", "/root"), ("d/sub/escaped-deep", "file", b"x")],
                           None, "symbolic link"),
    "hardlink": ([("h", "hardlink", "/etc/shadow")], None, "not supported"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_archive_cannot_write_outside_the_target(shared_sb, case):
    sb = shared_sb
    entries, top, needle = HOSTILE[case]
    target = f"/root/hostile-{secrets.token_hex(3)}/inside"
    r = put(sb.client, sb.id, target, make_tar(entries, top=top))
    assert r.status_code == 400, r.text
    msg = r.json()["error"]
    assert msg.startswith("archive: entry '") and needle in msg, msg
    found = sb.sh("find / -xdev -name 'escaped-*' 2>/dev/null | head -5")
    assert found == "", f"written outside the target: {found}"


def test_magic_links_do_not_lead_out(shared_sb):
    """init's worker makes the archive; its /proc/self/exe is the host's
    hivebox-init binary, and its descriptors may be host files. Archiving
    through such a magic link would read the host: refused."""
    sb = shared_sb
    for path in ("/proc/self/exe", "/proc/self/cwd", "/proc/self/root", "/proc/self/fd/2",
                 "/proc/1/exe"):
        r = sb.client.get(arch_url(sb.id), params={"path": path})
        assert r.status_code in (400, 404), (path, r.status_code, r.content[:300])


def test_an_existing_link_in_the_sandbox_is_not_followed(shared_sb):
    sb = shared_sb
    base = f"/root/oldlink-{secrets.token_hex(3)}"
    sb.sh(f"mkdir -p {base}/target {base}/outside && ln -s {base}/outside {base}/target/l")
    r = put(sb.client, sb.id, f"{base}/target", make_tar([("l/x", "file", b"x")], top=None))
    assert r.status_code == 400 and "symbolic link" in r.json()["error"], r.text
    assert sb.sh(f"ls -A {base}/outside") == ""


# ---------------------------------------------------------------- limits

@pytest.fixture(scope="module")
def small_daemon(e2e_tmp):
    from conftest import shutdown_daemon
    d = Daemon(e2e_tmp / ("arch-" + secrets.token_hex(3)), name="daemon",
               extra_args=["--max-file-size", str(1 << 20)])
    d.start()
    yield d
    shutdown_daemon(d)


def test_size_limit_is_enforced_while_streaming(small_daemon):
    c = small_daemon.client()
    try:
        sid = c.create()["id"]
        big = make_tar([("big", "file", os.urandom(3 << 20))])
        r = put(c, sid, "/root/lim", big)
        assert r.status_code == 413, r.text
        # chunked (no Content-Length): refused once the bytes pass the cap
        r = put(c, sid, "/root/lim", (big[i:i + 65536] for i in range(0, len(big), 65536)))
        assert r.status_code == 413, r.text
        # a small gzip body that inflates past the cap
        bomb = gzip.compress(make_tar([("zeros", "file", bytes(8 << 20))]))
        assert len(bomb) < (1 << 20)
        r = put(c, sid, "/root/lim", bomb, **{"Content-Encoding": "gzip"})
        assert r.status_code == 413, r.text
        # no half-written file left (init removes it when the upload breaks off)
        wait_until(lambda: c.exec(sid, "find /root/lim -type f | wc -l")["stdout"].strip() == "0",
                   30, 0.5, "the partial file to be removed")
        # under the cap it works
        r = put(c, sid, "/root/lim", make_tar([("ok", "file", b"fine")]))
        assert r.status_code == 200, r.text
    finally:
        c.close()
