"""Images from OCI archives (issue 17): the test writes its own archives with
tarfile/json/hashlib (no network, no registry): an OCI image layout
(`podman save --format oci-archive`, `skopeo copy oci-archive:`) and a
docker-archive (`docker save`). Layer 1 is a static busybox with files, a
hard link, owners and a dir; layer 2 deletes a file with a whiteout, makes a
dir opaque and adds a file; the config has Env, WorkingDir and User. They
are imported through REST and the CLI, and a sandbox made from each checks
what it sees. Hostile archives are each a 400 naming the problem, and leave
nothing in <data>/images."""
import gzip
import hashlib
import io
import json
import os
import secrets
import subprocess
import tarfile
import time

import pytest
import requests

from conftest import shutdown_daemon
from hbtest import BUILD, Daemon

BUSYBOX = "/bin/busybox"
APPLETS = ["sh", "ls", "cat", "id", "pwd", "env", "stat", "echo", "test", "readlink"]
CAP = 16 * 1024 * 1024   # --max-image-import of this module's daemon
MT_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_LAYER_GZ = "application/vnd.oci.image.layer.v1.tar+gzip"
MT_LAYER = "application/vnd.oci.image.layer.v1.tar"


# ---- writing archives ----

def sha(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def entry(name, data=b"", mode=0o644, kind=tarfile.REGTYPE, link="", uid=0, gid=0):
    ti = tarfile.TarInfo(name)
    ti.type, ti.mode, ti.uid, ti.gid, ti.linkname = kind, mode, uid, gid, link
    ti.size = len(data) if kind == tarfile.REGTYPE else 0
    ti.mtime = 1700000000
    return ti, data


def tar_of(entries):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as t:
        for ti, data in entries:
            t.addfile(ti, io.BytesIO(data) if ti.isreg() else None)
    return buf.getvalue()


def layer1():
    with open(BUSYBOX, "rb") as f:
        bb = f.read()
    e = [entry("bin/", kind=tarfile.DIRTYPE, mode=0o755),
         entry("bin/busybox", bb, mode=0o755)]
    e += [entry(f"bin/{a}", kind=tarfile.SYMTYPE, link="busybox") for a in APPLETS]
    e += [entry("etc/", kind=tarfile.DIRTYPE, mode=0o755),
          entry("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n"
                              b"app:x:1234:1234:app:/home/app:/bin/sh\n"),
          entry("etc/group", b"root:x:0:\napp:x:1234:\n"),
          entry("root/", kind=tarfile.DIRTYPE, mode=0o700),
          entry("tmp/", kind=tarfile.DIRTYPE, mode=0o1777),
          entry("home/app/", kind=tarfile.DIRTYPE, mode=0o755, uid=1234, gid=1234),
          entry("srv/app/", kind=tarfile.DIRTYPE, mode=0o750, uid=1234, gid=1234),
          entry("data/", kind=tarfile.DIRTYPE, mode=0o755),
          entry("data/keep.txt", b"kept\n"),
          entry("data/gone.txt", b"deleted by layer 2\n"),
          entry("data/owned.txt", b"mine\n", mode=0o640, uid=1234, gid=1234),
          entry("data/hard", kind=tarfile.LNKTYPE, link="data/keep.txt"),
          entry("data/suid", b"#!/bin/sh\n", mode=0o4755),
          entry("opaque/", kind=tarfile.DIRTYPE, mode=0o755),
          entry("opaque/old.txt", b"lower\n"),
          entry("opaque/sub/", kind=tarfile.DIRTYPE, mode=0o755),
          entry("opaque/sub/deep.txt", b"lower\n")]
    return tar_of(e)


def layer2():
    return tar_of([entry("data/", kind=tarfile.DIRTYPE, mode=0o755),
                   entry("data/.wh.gone.txt"),
                   entry("data/added.txt", b"layer 2\n"),
                   entry("opaque/", kind=tarfile.DIRTYPE, mode=0o755),
                   entry("opaque/.wh..wh..opq"),
                   entry("opaque/new.txt", b"upper\n")])


CONFIG = {"Env": ["PATH=/bin", "OCI_VAR=from-image", "SHADOW=image"],
          "WorkingDir": "/srv/app", "User": "app"}


def config_of(layers, cfg=None):
    return json.dumps({"architecture": "amd64", "os": "linux",
                       "config": CONFIG if cfg is None else cfg,
                       "rootfs": {"type": "layers", "diff_ids": [sha(t) for t in layers]}}).encode()


def oci_archive(layers=None, gz=(True, False), cfg=None, mutate=None, index=None):
    """An OCI image layout as a tar. mutate(blobs, manifest) may spoil it."""
    layers = layers if layers is not None else [layer1(), layer2()]
    blobs = {}
    descs = []
    for tar, z in zip(layers, gz):
        data = gzip.compress(tar, mtime=0) if z else tar
        blobs[sha(data)] = data
        descs.append({"mediaType": MT_LAYER_GZ if z else MT_LAYER, "digest": sha(data),
                      "size": len(data)})
    config = config_of(layers, cfg)
    blobs[sha(config)] = config
    manifest = {"schemaVersion": 2, "mediaType": MT_MANIFEST,
                "config": {"mediaType": MT_CONFIG, "digest": sha(config), "size": len(config)},
                "layers": descs}
    if mutate:
        mutate(blobs, manifest)
    mtext = json.dumps(manifest).encode()
    blobs[sha(mtext)] = mtext
    idx = index if index is not None else json.dumps({
        "schemaVersion": 2, "manifests": [
            {"mediaType": MT_MANIFEST, "digest": sha(mtext), "size": len(mtext),
             "platform": {"os": "linux", "architecture": "amd64"}}]}).encode()
    files = [entry("oci-layout", b'{"imageLayoutVersion": "1.0.0"}'),
             entry("index.json", idx)]
    files += [entry("blobs/sha256/" + d[7:], data) for d, data in blobs.items()]
    return tar_of(files)


def docker_archive():
    layers = [layer1(), layer2()]
    config = config_of(layers)
    cname = hashlib.sha256(config).hexdigest() + ".json"
    files = [entry(cname, config)]
    paths = []
    for tar in layers:
        d = hashlib.sha256(tar).hexdigest()
        files.append(entry(f"{d}/layer.tar", tar))
        paths.append(f"{d}/layer.tar")
    files.append(entry("manifest.json", json.dumps(
        [{"Config": cname, "RepoTags": ["t:latest"], "Layers": paths}]).encode()))
    return tar_of(files)


def raw_entry(ti, data):
    """One entry's header and data, no end blocks."""
    return ti.tobuf(format=tarfile.GNU_FORMAT) + data + b"\0" * (-len(data) % 512)


def claim_10g(name):
    """A tar header saying 10 GB follow, and nothing after it."""
    ti = tarfile.TarInfo(name)
    ti.size = 10 * 1024 ** 3
    return ti.tobuf(format=tarfile.GNU_FORMAT)


# ---- the daemon ----

@pytest.fixture(scope="module")
def oci_daemon(e2e_tmp):
    d = Daemon(e2e_tmp / ("oci-" + secrets.token_hex(3)), name="daemon",
               extra_args=["--max-image-import", str(CAP)])
    d.start()
    yield d
    shutdown_daemon(d)
    d.assert_no_sanitizer_reports()


@pytest.fixture(scope="module")
def oci_client(oci_daemon):
    c = oci_daemon.client()
    yield c
    c.close()


def upload(client, name, body, ctype="application/x-tar"):
    t0 = time.monotonic()
    r = client.post("/api/v1/images", params={"name": name}, data=body,
                    headers={"Content-Type": ctype}, timeout=120)
    print(f"\nimport {name}: {r.status_code} in {time.monotonic() - t0:.2f}s")
    return r


def images_dir(daemon):
    return sorted(os.listdir(daemon.data_dir / "images"))


def check_sandbox(client, image):
    sb = client.create(image=image, env={"SHADOW": "create"})
    try:
        def sh(cmd, **kw):
            r = client.exec(sb["id"], cmd, **kw)
            assert r["exit_code"] == 0, (cmd, r)
            return r["stdout"]
        # the image's User and WorkingDir are the defaults; Env under the sandbox's
        assert sh("id -u; id -g; pwd").split() == ["1234", "1234", "/srv/app"]
        assert sh("echo $OCI_VAR $SHADOW").strip() == "from-image create"
        assert sh("echo $SHADOW", env={"SHADOW": "request"}).strip() == "request"
        assert sh("id -u; pwd", user="root", cwd="/").split() == ["0", "/"]
        # layers, whiteouts, the opaque dir
        assert sh("ls -A /data", user="root").split() == \
            ["added.txt", "hard", "keep.txt", "owned.txt", "suid"]
        assert sh("ls -A /opaque", user="root").split() == ["new.txt"]
        # owners, modes (set-id kept), hard links
        assert sh("stat -c '%u:%g %a' /data/owned.txt /srv/app /data/suid",
                  user="root").split("\n")[:3] == ["1234:1234 640", "1234:1234 750", "0:0 4755"]
        assert sh("stat -c %h /data/keep.txt; cat /data/hard", user="root").split() == \
            ["2", "kept"]
    finally:
        client.destroy(sb["id"], missing_ok=True)


# ---- tests ----

def test_oci_layout_through_rest(oci_client, oci_daemon):
    r = upload(oci_client, "oci-rest", oci_archive())
    assert r.status_code == 201, r.text
    img = r.json()
    assert img["name"] == "oci-rest" and img["ready"] is True and img["kind"] == "oci"
    listed = {i["name"]: i for i in oci_client.get("/api/v1/images").json()["images"]}
    assert listed["oci-rest"]["ready"] is True
    meta = json.loads((oci_daemon.data_dir / "images/oci-rest/image.json").read_text())
    assert meta["kind"] == "oci" and meta["parent"] is None and meta["created_at"] > 0
    assert meta["config"] == {"env": CONFIG["Env"], "workdir": "/srv/app", "user": "app"}
    assert "os" in meta and "tools" in meta
    check_sandbox(oci_client, "oci-rest")
    # the name is taken now
    r = upload(oci_client, "oci-rest", oci_archive())
    assert r.status_code == 409, r.text


def test_docker_archive_through_rest(oci_client):
    r = upload(oci_client, "docker-rest", docker_archive(), "application/octet-stream")
    assert r.status_code == 201, r.text
    check_sandbox(oci_client, "docker-rest")


@pytest.mark.parametrize("kind", ["oci", "docker"])
def test_cli_import(oci_client, oci_daemon, e2e_tmp, kind):
    path = e2e_tmp / f"{kind}-{secrets.token_hex(3)}.tar"
    path.write_bytes(oci_archive() if kind == "oci" else docker_archive())
    name = f"{kind}-cli"
    t0 = time.monotonic()
    p = subprocess.run([str(BUILD / "hivebox"), "image", "import", name, str(path),
                        "--data-dir", str(oci_daemon.data_dir)],
                       capture_output=True, text=True, timeout=120)
    print(f"\ncli import {name}: {time.monotonic() - t0:.2f}s")
    assert p.returncode == 0, p.stderr
    check_sandbox(oci_client, name)


def test_workdir_made_when_no_layer_has_it(oci_client):
    r = upload(oci_client, "oci-wd", oci_archive(cfg=dict(CONFIG, WorkingDir="/made/at/import",
                                                          User="1234")))
    assert r.status_code == 201, r.text
    sb = oci_client.create(image="oci-wd")
    try:
        out = oci_client.exec(sb["id"], "pwd; id -u; stat -c %u /made/at/import")
        assert out["exit_code"] == 0, out
        assert out["stdout"].split() == ["/made/at/import", "1234", "0"]
    finally:
        oci_client.destroy(sb["id"], missing_ok=True)


def test_import_needs_key_and_name(oci_daemon, oci_client):
    r = requests.post(oci_daemon.url + "/api/v1/images", params={"name": "x"}, data=b"",
                      headers={"Content-Type": "application/x-tar"}, timeout=10)
    assert r.status_code == 401
    for params in ({}, {"name": "../x"}, {"name": ""}):
        r = oci_client.post("/api/v1/images", params=params, data=b"x",
                            headers={"Content-Type": "application/x-tar"})
        assert r.status_code == 400 and "name" in r.json()["error"], (params, r.text)
    r = oci_client.post("/api/v1/images", params={"name": "x"}, data=b"x",
                        headers={"Content-Type": "text/plain"})
    assert r.status_code == 415, r.text


def test_import_over_the_cap_is_413(oci_client, oci_daemon):
    before = images_dir(oci_daemon)
    r = upload(oci_client, "too-big", b"\0" * (CAP + 1))
    assert r.status_code == 413, r.text
    assert images_dir(oci_daemon) == before


def _spoil_layer(blobs, manifest):
    d = manifest["layers"][1]["digest"]
    blobs[d] = blobs[d][:-1024] + b"x" * 1024   # same size, other bytes


def _missing_blob(blobs, manifest):
    del blobs[manifest["layers"][0]["digest"]]


def _zstd(blobs, manifest):
    manifest["layers"][1]["mediaType"] = "application/vnd.oci.image.layer.v1.tar+zstd"


def _one_layer(*extra):
    return oci_archive(layers=[layer1(), tar_of(list(extra))], gz=(True, False))


def _cut_layer():
    tar = layer1()
    cut = claim_10g("data/huge")   # a layer whose last entry claims 10 GB: nothing follows
    return oci_archive(layers=[tar, cut], gz=(True, True))


HOSTILE = {
    "dotdot": (lambda: _one_layer(entry("../evil", b"x")), "'..'"),
    "dotdot-inside": (lambda: _one_layer(entry("data/../../evil", b"x")), "'..'"),
    "absolute": (lambda: _one_layer(entry("/etc/evil", b"x")), "absolute"),
    "symlink-out": (lambda: _one_layer(entry("esc", kind=tarfile.SYMTYPE, link="/etc"),
                                       entry("esc/evil", b"x")), "symbolic link"),
    "symlink-up": (lambda: _one_layer(entry("up", kind=tarfile.SYMTYPE, link="../../.."),
                                      entry("up/evil", b"x")), "symbolic link"),
    "device": (lambda: _one_layer(entry("dev/null", kind=tarfile.CHRTYPE)), "device"),
    "fifo": (lambda: _one_layer(entry("pipe", kind=tarfile.FIFOTYPE)), "fifo"),
    "sparse-10g-outer": (lambda: raw_entry(*entry("oci-layout", b"{}")) +
                         claim_10g("blobs/sha256/" + "0" * 64), "truncated"),
    "sparse-10g-layer": (_cut_layer, "truncated"),
    "digest": (lambda: oci_archive(mutate=_spoil_layer), "digest mismatch"),
    "missing-blob": (lambda: oci_archive(mutate=_missing_blob), "missing"),
    "zstd": (lambda: oci_archive(mutate=_zstd), "zstd"),
    "nesting-bomb": (lambda: oci_archive(index=b"[" * 100000 + b"]" * 100000), "nested"),
    "not-an-archive": (lambda: b"hello" * 1000, "archive"),
    "no-manifest": (lambda: tar_of([entry("hello.txt", b"hi")]), "no index.json"),
    "unknown-user": (lambda: oci_archive(cfg=dict(CONFIG, User="nobody-here")), "User"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_archive_is_400_and_leaves_nothing(oci_client, oci_daemon, case):
    make, words = HOSTILE[case]
    before = images_dir(oci_daemon)
    t0 = time.monotonic()
    r = upload(oci_client, "bad-" + case, make())
    took = time.monotonic() - t0
    assert r.status_code == 400, (case, r.status_code, r.text)
    assert words in r.json()["error"], (case, r.json()["error"])
    assert images_dir(oci_daemon) == before, case
    assert not os.path.exists("/etc/evil")
    if "sparse" in case:
        assert took < 10, f"a 10 GB claim took {took:.1f}s to refuse"


def _stalled_upload(daemon, name):
    """A POST whose body never comes: its request thread waits in the import."""
    import socket
    s = socket.create_connection(("127.0.0.1", daemon.port), timeout=10)
    s.sendall((f"POST /api/v1/images?name={name} HTTP/1.1\r\nHost: x\r\n"
               f"Authorization: Bearer {daemon.key}\r\nContent-Type: application/x-tar\r\n"
               f"Content-Length: 1000000\r\n\r\n").encode() + b"\0" * 1024)
    return s


def test_two_imports_at_once_then_429(oci_client, oci_daemon):
    before = images_dir(oci_daemon)
    socks = [_stalled_upload(oci_daemon, f"stall{i}") for i in range(2)]
    try:
        # both are spooling once their temp files exist
        deadline = time.monotonic() + 10
        while sum(n.startswith(".upload.tmp-") for n in images_dir(oci_daemon)) < 2:
            assert time.monotonic() < deadline, images_dir(oci_daemon)
            time.sleep(0.05)
        r = upload(oci_client, "third", oci_archive())
        assert r.status_code == 429, r.text
    finally:
        for s in socks:
            s.close()
    deadline = time.monotonic() + 10
    while images_dir(oci_daemon) != before:   # the cut uploads are removed
        assert time.monotonic() < deadline, images_dir(oci_daemon)
        time.sleep(0.05)


def test_crash_leftovers_removed_at_start(oci_daemon):
    """A half import and an upload whose process is gone go at the next start."""
    dead = subprocess.Popen(["true"])
    dead.wait()
    images = oci_daemon.data_dir / "images"
    half = images / f".half.tmp-{dead.pid}-0"
    (half / "rootfs" / "etc").mkdir(parents=True)
    (images / f".upload.tmp-{dead.pid}-1").write_bytes(b"x")
    shutdown_daemon(oci_daemon)
    oci_daemon.start()
    left = [n for n in images_dir(oci_daemon) if str(dead.pid) in n]
    assert left == [], left
