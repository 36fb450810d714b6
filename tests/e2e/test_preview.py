"""Preview ports (issue 16): a sandbox's TCP port through the daemon, in the
path form /api/v1/hiveboxes/:id/ports/:port/... and the host form
http://{port}-{id}.{--preview-domain}/... (the Host header sent to
127.0.0.1: no DNS). The services run inside real sandboxes
(preview_service.py, python3 -m http.server); everything stays on this
machine."""
import base64
import hashlib
import json
import os
import secrets
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest
import requests

import hbtest
from conftest import shutdown_daemon
from hbtest import Daemon, wait_until
from test_network import free_subnet, remove_network

DOMAIN = "preview.test"
SVC = 8000        # preview_service.py
STATIC = 8001     # python3 -m http.server
TOKEN_HDR = "X-HiveBox-Preview-Token"
SERVICE = (Path(__file__).parent / "preview_service.py").read_bytes()


def own_net():
    """A bridge and subnet of this daemon's own (tests run beside others)."""
    return {"HIVEBOX_BRIDGE": "hbpv" + secrets.token_hex(3), "HIVEBOX_SUBNET": str(free_subnet())}


@pytest.fixture(scope="module")
def pvd(e2e_tmp):
    net = own_net()
    d = Daemon(e2e_tmp / ("preview-" + secrets.token_hex(3)),
               extra_args=["--preview-domain", DOMAIN], extra_env=net)
    d.start()
    yield d
    shutdown_daemon(d)
    remove_network(net["HIVEBOX_BRIDGE"])
    d.assert_no_sanitizer_reports()


@pytest.fixture(scope="module")
def pvc(pvd):
    c = pvd.client()
    made = []
    c.made = made
    yield c
    for sid in made:
        c.destroy(sid, missing_ok=True)
    c.close()


def ports_url(d, sid, port=None, tail=""):
    base = f"{d.url}/api/v1/hiveboxes/{sid}/ports"
    return base if port is None else f"{base}/{port}{tail}"


def start_services(c, sid):
    c.upload(sid, "/opt/preview_service.py", SERVICE)
    for cmd in (f"python3 /opt/preview_service.py {SVC}",
                f"cd /tmp && echo static-ok > hello.txt && python3 -m http.server {STATIC} "
                "--bind 127.0.0.1"):
        r = c.post(f"/api/v1/hiveboxes/{sid}/processes", json={"command": cmd})
        assert r.status_code == 201, r.text

    def listening():
        ports = [p["port"] for p in c.get(ports_url_rel(sid)).json()["ports"]]
        return SVC in ports and STATIC in ports
    wait_until(listening, 30, what="both services listening")


def ports_url_rel(sid):
    return f"/api/v1/hiveboxes/{sid}/ports"


def new_sandbox(c, network):
    info = c.create(network=network)
    hbtest.remember_secret(info.get("preview_token"))
    c.made.append(info["id"])
    start_services(c, info["id"])
    return info


@pytest.fixture(scope="module")
def box(pvc):
    """A sandbox in network `none` with both services up."""
    return new_sandbox(pvc, "none")


def admin(d):
    return {"Authorization": "Bearer " + d.key}


def host_get(d, sid, port, path, **kw):
    headers = dict(kw.pop("headers", {}))
    headers["Host"] = f"{port}-{sid}.{DOMAIN}"
    return requests.get(d.url + path, headers=headers, timeout=30, **kw)


# ---------------------------------------------------------------- both forms, every mode

@pytest.mark.parametrize("network", ["none", "isolated", "shared"])
def test_http_server_in_every_network_mode_both_forms(pvd, pvc, box, network):
    info = box if network == "none" else new_sandbox(pvc, network)
    sid, tok = info["id"], {TOKEN_HDR: info["preview_token"]}
    r = requests.get(ports_url(pvd, sid, STATIC, "/hello.txt"), headers=tok, timeout=30)
    assert r.status_code == 200 and r.text == "static-ok\n", r.text
    r = host_get(pvd, sid, STATIC, "/hello.txt", headers=tok)
    assert r.status_code == 200 and r.text == "static-ok\n", r.text
    # A directory listing: the service's own HTML, links and all.
    r = host_get(pvd, sid, STATIC, "/", headers=tok)
    assert r.status_code == 200 and "hello.txt" in r.text
    # The path form shares the API's origin: its pages get an opaque one.
    r = requests.get(ports_url(pvd, sid, STATIC, "/"), headers=tok, timeout=30)
    csp = r.headers["Content-Security-Policy"]
    assert csp.startswith("sandbox ") and "allow-same-origin" not in csp
    assert "Content-Security-Policy" not in host_get(pvd, sid, STATIC, "/", headers=tok).headers


def test_port_without_its_slash_redirects_to_it(pvd, box):
    r = requests.get(ports_url(pvd, box["id"], STATIC, "?a=1"), headers=admin(pvd),
                     allow_redirects=False, timeout=10)
    assert r.status_code == 308
    assert r.headers["Location"] == f"/api/v1/hiveboxes/{box['id']}/ports/{STATIC}/?a=1"


def test_ports_lists_what_listens_with_urls_and_access(pvd, pvc, box):
    j = pvc.get(ports_url_rel(box["id"])).json()
    by = {p["port"]: p for p in j["ports"]}
    assert {SVC, STATIC} <= set(by)
    assert by[SVC]["access"] == "private"
    assert by[SVC]["host_url"] == f"http://{SVC}-{box['id']}.{DOMAIN}/"
    assert by[SVC]["path_url"].endswith(f"/api/v1/hiveboxes/{box['id']}/ports/{SVC}/")
    assert j["preview_token"] == box["preview_token"]
    assert requests.get(ports_url(pvd, box["id"]), timeout=10).status_code == 401


# ---------------------------------------------------------------- access

def test_private_port_needs_credentials(pvd, box):
    url = ports_url(pvd, box["id"], SVC, "/echo")
    r = requests.get(url, timeout=10)
    assert r.status_code == 401 and "private" in r.json()["error"]
    assert requests.get(url, headers={TOKEN_HDR: "0" * 40}, timeout=10).status_code == 401
    assert requests.get(url, headers={"Authorization": "Bearer nope"}, timeout=10).status_code == 401
    assert requests.get(url, headers={TOKEN_HDR: box["preview_token"]}, timeout=10).status_code == 200
    assert requests.get(url, headers=admin(pvd), timeout=10).status_code == 200
    r = host_get(pvd, box["id"], SVC, "/echo")
    assert r.status_code == 401


def test_token_of_one_sandbox_does_not_open_another(pvd, pvc, box):
    other = pvc.create(network="none")
    pvc.made.append(other["id"])
    hbtest.remember_secret(other["preview_token"])
    assert other["preview_token"] != box["preview_token"]
    r = requests.get(ports_url(pvd, box["id"], SVC, "/echo"),
                     headers={TOKEN_HDR: other["preview_token"]}, timeout=10)
    assert r.status_code == 401


def test_signed_url_becomes_a_cookie_and_our_parameters_never_reach_the_service(pvd, pvc, box):
    sid = box["id"]
    r = pvc.post(ports_url_rel(sid) + f"/{SVC}/url", json={"expires_in": 600})
    assert r.status_code == 200, r.text
    j = r.json()
    assert j["expires_at"] - time.time() == pytest.approx(600, abs=5)
    assert j["url"] == j["host_url"] and "hb_sig=" in j["url"]
    path_url = j["path_url"].replace("/?", "/echo?keep=1&")
    s = requests.Session()
    r = s.get(path_url, allow_redirects=False, timeout=10)
    assert r.status_code == 303
    assert r.headers["Location"] == f"/api/v1/hiveboxes/{sid}/ports/{SVC}/echo?keep=1"
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert f"Path=/api/v1/hiveboxes/{sid}/ports/{SVC}/" in cookie
    r = s.get(path_url, timeout=10)   # follows the redirect with the cookie
    assert r.status_code == 200, r.text
    seen = r.json()
    assert seen["query"] == "keep=1"
    names = {k.lower() for k, _ in seen["headers"]}
    assert "cookie" not in names   # ours was the only one
    # Host form: the cookie is for that host; the link works without the query.
    q = j["host_url"].split("?", 1)[1]
    r = host_get(pvd, sid, SVC, "/echo?" + q, allow_redirects=False)
    assert r.status_code == 303 and r.headers["Location"] == "/echo"
    ck = r.headers["Set-Cookie"].split(";", 1)[0]
    assert "Path=/;" in r.headers["Set-Cookie"]
    r = host_get(pvd, sid, SVC, "/echo", headers={"Cookie": ck + "; theirs=1"})
    assert r.status_code == 200
    hdrs = dict((k.lower(), v) for k, v in r.json()["headers"])
    assert hdrs["cookie"] == "theirs=1"


def test_bad_signatures_are_refused(pvd, pvc, box):
    sid = box["id"]
    j = pvc.post(ports_url_rel(sid) + f"/{SVC}/url", json={}).json()
    exp = j["path_url"].split("hb_exp=")[1].split("&")[0]
    sig = j["path_url"].split("hb_sig=")[1]
    base = ports_url(pvd, sid, SVC, "/echo")
    for q in (f"hb_exp={exp}&hb_sig={'0' * 64}", f"hb_exp={int(exp) + 1}&hb_sig={sig}",
              f"hb_sig={sig}", f"hb_exp={exp}"):
        assert requests.get(f"{base}?{q}", timeout=10).status_code == 401, q
    # The signature is for that port only.
    r = requests.get(ports_url(pvd, sid, STATIC, f"/?hb_exp={exp}&hb_sig={sig}"), timeout=10)
    assert r.status_code == 401
    # A junk cookie opens nothing.
    r = requests.get(base, headers={"Cookie": f"hb_preview={exp}.{'1' * 64}"}, timeout=10)
    assert r.status_code == 401


@pytest.mark.once("its time is the clock: a signed URL of 1 s, used 2 s later")
def test_expired_signed_url_is_401(pvd, pvc, box):
    j = pvc.post(ports_url_rel(box["id"]) + f"/{SVC}/url", json={"expires_in": 1}).json()
    time.sleep(2.2)
    r = requests.get(j["path_url"], allow_redirects=False, timeout=10)
    assert r.status_code == 401 and "expired" in r.json()["error"]


def test_public_port_opens_without_credentials_and_back(pvd, pvc, box):
    sid = box["id"]
    r = pvc.put(ports_url_rel(sid) + f"/{STATIC}", json={"public": True})
    assert r.status_code == 200 and r.json()["access"] == "public"
    assert requests.get(ports_url(pvd, sid, STATIC, "/hello.txt"), timeout=10).status_code == 200
    assert host_get(pvd, sid, STATIC, "/hello.txt").status_code == 200
    # Only that port.
    assert requests.get(ports_url(pvd, sid, SVC, "/echo"), timeout=10).status_code == 401
    by = {p["port"]: p for p in pvc.get(ports_url_rel(sid)).json()["ports"]}
    assert by[STATIC]["access"] == "public"
    assert requests.put(ports_url(pvd, sid, STATIC), json={"public": False},
                        timeout=10).status_code == 401   # the admin's call
    # A stale link on a public port is ignored, and its parameters still stripped.
    r = requests.get(ports_url(pvd, sid, STATIC, f"/hello.txt?hb_exp=1&hb_sig={'0' * 64}"),
                     timeout=10)
    assert r.status_code == 200
    r = pvc.put(ports_url_rel(sid) + f"/{STATIC}", json={"public": False})
    assert r.status_code == 200 and r.json()["access"] == "private"
    assert requests.get(ports_url(pvd, sid, STATIC, "/hello.txt"), timeout=10).status_code == 401


def test_public_port_survives_a_daemon_restart(own_daemon):
    d = own_daemon
    c = d.client()
    info = c.create(network="none")
    hbtest.remember_secret(info["preview_token"])
    sid = info["id"]
    try:
        # Started by a plain exec, detached, not as a background process of
        # the API: the restart is about the preview state, and a process
        # watch left running at SIGTERM is the supervisor's business.
        c.exec(sid, f"cd /tmp && echo kept > k.txt && (setsid python3 -m http.server {STATIC} "
                    "--bind 127.0.0.1 >/dev/null 2>&1 &)")
        assert c.put(ports_url_rel(sid) + f"/{STATIC}", json={"public": True}).status_code == 200
        url = ports_url(d, sid, STATIC, "/k.txt")
        wait_until(lambda: requests.get(url, timeout=5).status_code == 200, 30, what="served")
        signed = c.post(ports_url_rel(sid) + f"/{SVC}/url", json={"expires_in": 600}).json()
        secret = d.data_dir / "preview_secret"
        assert secret.stat().st_mode & 0o777 == 0o600
        d.stop()
        d.start()
        r = requests.get(url, timeout=10)
        assert r.status_code == 200 and r.text == "kept\n"
        # A link minted before the restart still opens (its port: nothing listens -> 502,
        # not 401), and a forged one does not.
        r = requests.get(signed["path_url"], allow_redirects=False, timeout=10)
        assert r.status_code == 303, r.text
        bad = signed["path_url"][:-4] + "0000"
        assert requests.get(bad, allow_redirects=False, timeout=10).status_code == 401
        # The token too is the same after the restart.
        r = requests.get(url, headers={TOKEN_HDR: info["preview_token"]}, timeout=10)
        assert r.status_code == 200
    finally:
        c = d.client()
        c.destroy(sid, missing_ok=True)


# ---------------------------------------------------------------- what reaches the service

def test_our_key_token_cookie_and_parameters_never_reach_the_service(pvd, box):
    r = requests.get(ports_url(pvd, box["id"], SVC, "/echo?keep=1&x=%2F"), headers={
        **admin(pvd), TOKEN_HDR: box["preview_token"],
        "Cookie": "hb_preview=123.abc; session=s1", "X-Custom": "yes"}, timeout=10)
    assert r.status_code == 200, r.text
    seen = r.json()
    hdrs = {k.lower(): v for k, v in seen["headers"]}
    assert "authorization" not in hdrs
    assert TOKEN_HDR.lower() not in hdrs
    assert "transfer-encoding" not in hdrs and "content-length" not in hdrs   # a GET: no body
    assert hdrs["connection"] == "close"
    assert hdrs["cookie"] == "session=s1"
    assert hdrs["x-custom"] == "yes"
    assert hdrs["x-forwarded-for"] == "127.0.0.1"
    assert seen["query"] == "keep=1&x=%2F"
    assert seen["path"] == "/echo"
    assert pvd.key not in r.text and box["preview_token"] not in r.text


def test_our_names_in_a_value_are_not_a_signed_url_and_cluster_headers_are_dropped(pvd, box):
    """hb_sig/hb_exp are ours only as parameter names: in a value they are
    the service's. The cluster's headers never reach a service, whoever
    sends them."""
    r = requests.get(ports_url(pvd, box["id"], SVC, "/echo?q=hb_exp&r=hb_sig"), headers={
        TOKEN_HDR: box["preview_token"], "X-HiveBox-Cluster-Token": "c" * 32,
        "X-HiveBox-Forwarded": "1"}, timeout=10)
    assert r.status_code == 200, r.text
    seen = r.json()
    assert seen["query"] == "q=hb_exp&r=hb_sig"
    names = {k.lower() for k, _ in seen["headers"]}
    assert not names & {"x-hivebox-cluster-token", "x-hivebox-forwarded"}, names


def test_the_services_own_authorization_passes(pvd, box):
    r = requests.get(ports_url(pvd, box["id"], SVC, "/echo"),
                     headers={TOKEN_HDR: box["preview_token"], "Authorization": "Basic dTpw"},
                     timeout=10)
    hdrs = {k.lower(): v for k, v in r.json()["headers"]}
    assert hdrs["authorization"] == "Basic dTpw"


def test_host_form_passes_path_and_host(pvd, box):
    r = host_get(pvd, box["id"], SVC, "/echo?a=b", headers={TOKEN_HDR: box["preview_token"]})
    seen = r.json()
    hdrs = {k.lower(): v for k, v in seen["headers"]}
    assert seen["path"] == "/echo" and seen["query"] == "a=b"
    assert hdrs["host"] == f"{SVC}-{box['id']}.{DOMAIN}"


# ---------------------------------------------------------------- streaming

def test_sse_arrives_unbuffered(pvd, pvc, box):
    sid = box["id"]
    pvc.exec(sid, "rm -f /tmp/sse-release")
    with requests.get(ports_url(pvd, sid, SVC, "/sse"), headers=admin(pvd), stream=True,
                      timeout=30) as r:
        assert r.status_code == 200
        assert r.headers["Content-Type"] == "text/event-stream"
        lines = r.iter_lines(chunk_size=1)
        assert next(lines) == b"data: first"   # the server has not finished
        assert pvc.exec(sid, "test -e /tmp/sse-release; echo $?")["stdout"].strip() == "1"
        pvc.exec(sid, "touch /tmp/sse-release")
        rest = [x for x in lines if x]
        assert rest == [b"data: last"]


def test_websocket_echo_through_the_proxy(pvd, box):
    for host_form in (False, True):
        s = socket.create_connection(("127.0.0.1", pvd.port), timeout=15)
        key = base64.b64encode(os.urandom(16)).decode()
        path = "/ws" if host_form else f"/api/v1/hiveboxes/{box['id']}/ports/{SVC}/ws"
        host = f"{SVC}-{box['id']}.{DOMAIN}" if host_form else "127.0.0.1"
        s.sendall((f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
                   f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                   f"Sec-WebSocket-Version: 13\r\n{TOKEN_HDR}: {box['preview_token']}\r\n\r\n")
                  .encode())
        head = b""
        while b"\r\n\r\n" not in head:
            head += s.recv(1)
        assert head.startswith(b"HTTP/1.1 101"), head
        want = base64.b64encode(hashlib.sha1(
            (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest())
        assert b"Sec-WebSocket-Accept: " + want in head
        for payload in (b"hello", os.urandom(70000)):
            mask = os.urandom(4)
            n = len(payload)
            hdr = bytes([0x82]) + (bytes([0x80 | n]) if n < 126 else
                                   bytes([0x80 | 126]) + n.to_bytes(2, "big") if n < 65536 else
                                   bytes([0x80 | 127]) + n.to_bytes(8, "big"))
            s.sendall(hdr + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))
            got = b""
            need = 2 + (0 if n < 126 else 2 if n < 65536 else 8) + n
            while len(got) < need:
                chunk = s.recv(65536)
                assert chunk, "the tunnel closed"
                got += chunk
            assert got[-n:] == payload
        s.close()


def rss_kib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class RssWatch:
    """The daemon's highest VmRSS while a transfer runs."""

    def __init__(self, pid):
        self.pid, self.peak, self.stop = pid, rss_kib(pid), False
        self.base = self.peak
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        while not self.stop:
            self.peak = max(self.peak, rss_kib(self.pid))
            time.sleep(0.02)

    def done(self):
        self.stop = True
        self.t.join()
        return (self.peak - self.base) // 1024   # MiB


MIB200 = 200 << 20


@pytest.mark.once("bulk data: 200 MiB each way, through python inside the sandbox")
def test_200mib_download_and_upload_with_flat_daemon_memory(pvd, box):
    sid = box["id"]
    w = RssWatch(pvd.pid)
    h, n = hashlib.sha256(), 0
    with requests.get(ports_url(pvd, sid, SVC, f"/big?n={MIB200}"), headers=admin(pvd),
                      stream=True, timeout=120) as r:
        assert r.status_code == 200 and int(r.headers["Content-Length"]) == MIB200
        for b in r.iter_content(1 << 20):
            h.update(b)
            n += len(b)
    grew = w.done()
    pattern = bytes(range(256)) * 4096
    want = hashlib.sha256()
    for _ in range(200):
        want.update(pattern)
    assert n == MIB200 and h.hexdigest() == want.hexdigest()
    assert grew < 48, f"the daemon grew by {grew} MiB during a 200 MiB download"

    def body():
        for _ in range(200):
            yield pattern
    w = RssWatch(pvd.pid)
    r = requests.post(ports_url(pvd, sid, SVC, "/upload"), headers=admin(pvd), data=body(),
                      timeout=120)   # a generator: sent chunked
    grew = w.done()
    assert r.status_code == 200, r.text
    assert r.json() == {"bytes": MIB200, "sha256": want.hexdigest()}
    assert grew < 48, f"the daemon grew by {grew} MiB during a 200 MiB upload"


def test_upload_with_content_length(pvd, box):
    data = os.urandom(3 << 20)
    r = requests.post(ports_url(pvd, box["id"], SVC, "/upload"), headers=admin(pvd), data=data,
                      timeout=60)
    assert r.json() == {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


# ---------------------------------------------------------------- errors

def test_closed_port_is_502_naming_it(pvd, box):
    r = requests.get(ports_url(pvd, box["id"], 8999, "/"), headers=admin(pvd), timeout=10)
    assert r.status_code == 502 and "port 8999" in r.json()["error"]
    r = host_get(pvd, box["id"], 8999, "/", headers=admin(pvd))
    assert r.status_code == 502 and "port 8999" in r.json()["error"]


@pytest.mark.parametrize("port", ["0", "65536", "abc", "080", "-1", "99999999999"])
def test_bad_port_is_400_naming_port(pvd, box, port):
    r = requests.get(ports_url(pvd, box["id"], port, "/"), headers=admin(pvd), timeout=10)
    assert r.status_code == 400 and r.json()["error"].startswith("port")


def test_unknown_sandbox_is_404_in_both_forms(pvd):
    r = requests.get(ports_url(pvd, "hb-nosuch", SVC, "/"), headers=admin(pvd), timeout=10)
    assert r.status_code == 404
    r = host_get(pvd, "hb-nosuch", SVC, "/", headers=admin(pvd))
    assert r.status_code == 404
    r = requests.get(pvd.url + "/", headers={"Host": f"0-x.{DOMAIN}"}, timeout=10)
    assert r.status_code == 404 and "preview" in r.json()["error"]
    # The API stays reachable under the domain itself.
    r = requests.get(pvd.url + "/healthz", headers={"Host": DOMAIN}, timeout=10)
    assert r.status_code == 200


def test_paused_sandbox_is_409(pvd, pvc, box):
    sid = box["id"]
    assert pvc.post(f"/api/v1/hiveboxes/{sid}/pause").status_code == 200
    try:
        r = requests.get(ports_url(pvd, sid, SVC, "/echo"), headers=admin(pvd), timeout=10)
        assert r.status_code == 409, r.text
    finally:
        assert pvc.post(f"/api/v1/hiveboxes/{sid}/resume").status_code == 200


def test_auto_resume_sandbox_is_resumed_by_a_preview(pvd, pvc):
    info = pvc.create(network="none", auto_resume=True)
    pvc.made.append(info["id"])
    sid = info["id"]
    r = pvc.post(f"/api/v1/hiveboxes/{sid}/processes", json={
        "command": f"cd /tmp && echo awake > a.txt && python3 -m http.server {STATIC} --bind 127.0.0.1"})
    assert r.status_code == 201
    url = ports_url(pvd, sid, STATIC, "/a.txt")
    wait_until(lambda: requests.get(url, headers=admin(pvd), timeout=5).status_code == 200, 30,
               what="served")
    assert pvc.post(f"/api/v1/hiveboxes/{sid}/pause").json()["status"] == "paused"
    r = requests.get(url, headers=admin(pvd), timeout=30)
    assert r.status_code == 200 and r.text == "awake\n"
    assert pvc.info(sid)["status"] == "running"


def test_bad_bodies_name_the_field(pvd, pvc, box):
    base = ports_url_rel(box["id"]) + f"/{SVC}"
    for body, field in (({}, "public"), ({"public": "yes"}, "public"), ({"x": 1}, "x")):
        r = pvc.put(base, json=body)
        assert r.status_code == 400 and r.json()["error"].startswith(field), r.text
    for body, field in (({"expires_in": 0}, "expires_in"), ({"expires_in": "1"}, "expires_in"),
                        ({"expires_in": 10 ** 9}, "expires_in"), ({"y": 1}, "y")):
        r = pvc.post(base + "/url", json=body)
        assert r.status_code == 400 and r.json()["error"].startswith(field), r.text
    # POST .../url without our key is the service's own path (here a 404 of its own, or 401).
    r = requests.post(ports_url(pvd, box["id"], SVC, "/url"),
                      headers={TOKEN_HDR: box["preview_token"]}, json={}, timeout=10)
    assert r.status_code == 404 and r.json() == {}


# ---------------------------------------------------------------- hostile upstream and load

@pytest.mark.parametrize("what", ["headers", "line", "junk"])
def test_hostile_upstream_is_a_bounded_502(pvd, box, what):
    t0 = time.monotonic()
    r = requests.get(ports_url(pvd, box["id"], SVC, f"/hostile/{what}"), headers=admin(pvd),
                     timeout=60)
    assert r.status_code == 502 and f"port {SVC}" in r.json()["error"]
    assert time.monotonic() - t0 < 30
    assert requests.get(pvd.url + "/healthz", timeout=5).status_code == 200
    r = requests.get(ports_url(pvd, box["id"], STATIC, "/hello.txt"), headers=admin(pvd), timeout=10)
    assert r.status_code == 200


def capped_service(private_daemon):
    """A daemon with --preview-max-conns 2 and a sandbox running the
    service: (daemon, client, sandbox id)."""
    d = private_daemon(extra_args=["--preview-max-conns", "2"])
    c = d.client()
    info = c.create(network="none")
    hbtest.remember_secret(info["preview_token"])
    sid = info["id"]
    c.upload(sid, "/opt/preview_service.py", SERVICE)
    c.post(f"/api/v1/hiveboxes/{sid}/processes",
           json={"command": f"python3 /opt/preview_service.py {SVC}"})
    wait_until(lambda: requests.get(ports_url(d, sid, SVC, "/echo"), headers=admin(d),
                                    timeout=5).status_code == 200, 30, what="service up")
    return d, c, sid


def test_429_past_the_cap_and_the_daemon_still_answers(private_daemon):
    d, c, sid = capped_service(private_daemon)
    try:
        url = ports_url(d, sid, SVC, "/sse")
        held = [requests.get(url, headers=admin(d), stream=True, timeout=30) for _ in range(2)]
        for h in held:
            assert h.status_code == 200
            assert next(h.iter_lines(chunk_size=1)) == b"data: first"
        r = requests.get(url, headers=admin(d), timeout=10)
        assert r.status_code == 429 and "--preview-max-conns" in r.json()["error"]
        assert requests.get(d.url + "/healthz", timeout=5).status_code == 200
        assert c.get(f"/api/v1/hiveboxes/{sid}").status_code == 200
        for h in held:
            h.close()
        # The service stays silent (no release file): the proxy notices the
        # clients left by watching their sockets once the stream is quiet.
        wait_until(lambda: requests.get(ports_url(d, sid, SVC, "/echo"), headers=admin(d),
                                        timeout=5).status_code == 200, 15, what="a slot freed")
    finally:
        c.destroy(sid, missing_ok=True)


def test_clients_that_reset_at_once_free_their_slots(private_daemon):
    """A hostile client takes every slot with streams it resets as soon as
    the head arrives (before the proxy looks for a quiet stream's client):
    the slots come back while the service stays silent (it would speak
    after 60 s), not after the 600 s idle timeout."""
    d, c, sid = capped_service(private_daemon)
    path = f"/api/v1/hiveboxes/{sid}/ports/{SVC}/sse"
    try:
        for _ in range(2):
            s = socket.create_connection(("127.0.0.1", d.port), timeout=30)
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      f"Authorization: Bearer {d.key}\r\n\r\n".encode())
            got = hbtest.read_head(s)
            assert got.startswith(b"HTTP/1.1 200"), got[:200]
            # close with SO_LINGER 0: a reset, the socket unconnected at once
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
            s.close()
        # Every slot comes back: two streams open side by side again. A try
        # that finds one still taken closes what it opened (read first: a
        # clean close, seen once that stream is quiet) and tries again.
        url = ports_url(d, sid, SVC, "/sse")

        def both_slots_free():
            got = []
            try:
                for _ in range(2):
                    got.append(requests.get(url, headers=admin(d), stream=True, timeout=30))
                return [h.status_code for h in got] == [200, 200]
            finally:
                for h in got:
                    if h.status_code == 200:
                        next(h.iter_lines(chunk_size=1))
                    h.close()
        wait_until(both_slots_free, 30, 3, "both slots freed")
    finally:
        c.destroy(sid, missing_ok=True)


def test_daemon_stops_promptly_with_a_preview_stream_open(own_daemon):
    d = own_daemon
    c = d.client()
    info = c.create(network="none")
    hbtest.remember_secret(info["preview_token"])
    sid = info["id"]
    c.upload(sid, "/opt/preview_service.py", SERVICE)
    c.exec(sid, f"(setsid python3 /opt/preview_service.py {SVC} >/dev/null 2>&1 &)")
    url = ports_url(d, sid, SVC, "/sse")
    wait_until(lambda: requests.get(ports_url(d, sid, SVC, "/echo"), headers=admin(d),
                                    timeout=5).status_code == 200, 30, what="service up")
    held = requests.get(url, headers=admin(d), stream=True, timeout=30)
    assert held.status_code == 200
    t0 = time.monotonic()
    d.stop()
    took = time.monotonic() - t0
    held.close()
    assert took < 15, f"the daemon took {took:.1f} s to stop with a quiet preview open"
    d.start()
    d.client().destroy(sid, missing_ok=True)


def test_daemon_start_refuses_a_total_cap_at_or_over_the_workers(e2e_tmp):
    d = Daemon(e2e_tmp / ("pvbad-" + secrets.token_hex(3)),
               extra_args=["--threads", "8", "--preview-max-total", "8"])
    with pytest.raises(RuntimeError, match="preview-max-total"):
        d.start(timeout=20)


# ---------------------------------------------------------------- CLI

def hivebox_cli(d, *args):
    env = dict(os.environ, HIVEBOX_API_URL=d.url, HIVEBOX_API_KEY=d.key)
    return subprocess.run([str(hbtest.BUILD / "hivebox"), *args], capture_output=True,
                          text=True, env=env, timeout=60)


def test_cli_port_prints_urls_and_sets_access(pvd, pvc, box):
    sid = box["id"]
    r = hivebox_cli(pvd, "port", sid, str(STATIC))
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"http://{STATIC}-{sid}.{DOMAIN}/"
    r = hivebox_cli(pvd, "port", sid, str(STATIC), "--expires", "120")
    assert r.returncode == 0 and "hb_sig=" in r.stdout, r.stderr
    signed = r.stdout.strip().split("/?", 1)[1]
    assert host_get(pvd, sid, STATIC, "/hello.txt?" + signed).status_code == 200
    r = hivebox_cli(pvd, "port", sid, str(STATIC), "--public")
    assert r.returncode == 0, r.stderr
    try:
        assert host_get(pvd, sid, STATIC, "/hello.txt").status_code == 200
    finally:
        assert hivebox_cli(pvd, "port", sid, str(STATIC), "--private").returncode == 0
    assert host_get(pvd, sid, STATIC, "/hello.txt").status_code == 401
    r = hivebox_cli(pvd, "port", sid, "70000")
    assert r.returncode == 2 and "PORT" in r.stderr
