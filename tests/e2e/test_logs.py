"""Request ids, the access log and JSON logs (issue 15), against a real daemon.

Every HTTP answer carries X-Request-Id: the client's own when sane (at most
128 of [A-Za-z0-9._:-]), else a fresh 32-hex one; the daemon's access line
for the request (one per request, info level; /healthz at debug) carries the
same id, the route template (never the raw path or its query string), the
status, duration_ms, bytes and the remote address. --log-format json makes
every stderr line one JSON object. That no key or token reaches any daemon
log of the whole run is checked at the end of the session (conftest.py)."""
import json
import re
import secrets
import socket
import subprocess
import time

import pytest
import requests

import hbtest
from hbtest import BUILD, RFC3339_Z, wait_until

API = "/api/v1/hiveboxes"
GENERATED = re.compile(r"^[0-9a-f]{32}$")


def new_id():
    return "e2e-" + secrets.token_hex(8)


def access_line(daemon, rid, timeout=10):
    """The daemon's access line for request rid (written once the answer is
    out, so wait for it)."""
    def find():
        for line in daemon.log_text().splitlines():
            if f"request_id={rid}" in line and " http: " in line:
                return line
        return None
    return wait_until(find, timeout, what=f"the access line of {rid}")


def raw_http(daemon, payload):
    """What the daemon answers a hand-made request (bytes), head only."""
    with socket.create_connection(("127.0.0.1", daemon.port), timeout=10) as s:
        s.sendall(payload)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    return data.decode("latin-1")


def test_a_sent_id_comes_back_and_is_in_the_access_line(daemon, client):
    rid = new_id()
    r = client.get(API, headers={"X-Request-Id": rid})
    assert r.status_code == 200
    assert r.headers["X-Request-Id"] == rid
    line = access_line(daemon, rid)
    assert " info: " in line, line
    for part in ("method=GET", f"route={API}", "status=200", "duration_ms=", "bytes=",
                 "remote=127.0.0.1"):
        assert part in line, (part, line)


def test_absent_or_insane_ids_are_replaced_by_distinct_new_ones(daemon, client):
    sent = [None, "", "has space", "x" * 129, "semi;colon", "quote\"d", "caf\xe9"]
    got = []
    for value in sent:
        headers = {} if value is None else {"X-Request-Id": value}
        r = client.get(API, headers=headers)
        assert r.status_code == 200
        rid = r.headers["X-Request-Id"]
        assert GENERATED.match(rid), (value, rid)
        got.append(rid)
    assert len(set(got)) == len(sent), got
    longest = "a-Z_0.9:" * 16   # 128 characters, every kind allowed
    assert client.get(API, headers={"X-Request-Id": longest}).headers["X-Request-Id"] == longest


def test_every_kind_of_answer_carries_the_id(daemon, client, shared_sb):
    e2b_key = hbtest.e2b_key_of(daemon.key)
    u = daemon.url
    cases = [
        ("GET", "/healthz", {}, 200),
        ("GET", API, {"Authorization": "Bearer wrong"}, 401),
        ("GET", f"{API}/no-such-sandbox-{secrets.token_hex(3)}", None, 404),
        ("GET", "/no/such/endpoint", None, 404),
        ("PATCH", API, None, 405),
        ("GET", "/dashboard/", {}, 200),
        ("GET", "/sandboxes", {"X-API-KEY": "wrong"}, 401),              # E2B errors
        ("GET", "/sandboxes/no-such-sandbox", {"X-API-KEY": e2b_key}, 404),
        ("GET", "/health", {"E2b-Sandbox-Id": "not a name"}, 502),       # envd's proxy error
    ]
    for method, path, headers, want in cases:
        rid = new_id()
        h = dict(client.s.headers) if headers is None else dict(headers)
        h["X-Request-Id"] = rid
        r = requests.request(method, u + path, headers=h, timeout=30)
        assert r.status_code == want, (method, path, r.status_code, r.text[:200])
        assert r.headers.get("X-Request-Id") == rid, (method, path, dict(r.headers))
    # a streamed answer (server-sent events) carries it in its head
    rid = new_id()
    with requests.post(f"{u}{API}/{shared_sb.id}/exec", stream=True, timeout=60,
                       headers={**client.s.headers, "X-Request-Id": rid},
                       json={"command": "echo streamed", "stream": True}) as r:
        assert r.status_code == 200
        assert r.headers["Content-Type"].startswith("text/event-stream")
        assert r.headers["X-Request-Id"] == rid
        body = r.content.decode()
    assert "streamed" in body
    line = access_line(daemon, rid)
    assert f"route={API}/:id/exec" in line and f"sandbox={shared_sb.id}" in line, line
    # civetweb's own answer to a malformed request gets one too
    head = raw_http(daemon, b"NOT-HTTP\r\n\r\n")
    assert head.startswith("HTTP/1.") and " 400 " in head.split("\r\n")[0], head
    assert re.search(r"\r\nX-Request-Id: [0-9a-f]{32}\r\n", head), head


def test_the_access_line_holds_the_template_not_the_path_or_query(daemon, client, shared_sb):
    marker = "qs" + secrets.token_hex(8)
    rid = new_id()
    r = client.get(f"{API}/{shared_sb.id}/files/list?path=/tmp&ticket={marker}",
                   headers={"X-Request-Id": rid})
    assert r.status_code == 200, r.text[:200]
    line = access_line(daemon, rid)
    assert f"route={API}/:id/files/list" in line, line
    assert f"sandbox={shared_sb.id}" in line, line
    assert marker not in daemon.log_text()
    assert "?" not in line.split("route=")[1].split()[0]


def test_healthz_polling_stays_out_of_the_info_log(daemon, client):
    quiet = new_id()
    assert requests.get(daemon.url + "/healthz", headers={"X-Request-Id": quiet},
                        timeout=10).status_code == 200
    loud = new_id()
    client.get(API, headers={"X-Request-Id": loud})
    access_line(daemon, loud)   # written after the healthz one, on any worker
    time.sleep(0.2)
    assert quiet not in daemon.log_text()


def test_json_logs_parse_and_the_create_line_says_it_all(private_daemon):
    d = private_daemon(extra_args=["--log-format", "json"])
    c = d.client()
    rid = new_id()
    r = c.post(API, json={}, headers={"X-Request-Id": rid}, timeout=180)
    assert r.status_code == 201, r.text[:300]
    sid = r.json()["id"]
    hbtest.remember_secret(r.json().get("mcp_token"))
    xid = new_id()
    r = c.post(f"{API}/{sid}/exec", json={"command": "printf 'a\\nb\"c'"},
               headers={"X-Request-Id": xid}, timeout=60)
    assert r.status_code == 200
    c.get(f"{API}/no-such\x01thing")   # a control byte in a path: still one line
    c.destroy(sid)
    c.close()
    assert d.stop() == 0
    lines = [ln for ln in d.log_text().splitlines() if ln and not ln.startswith("===== e2e:")]
    assert len(lines) > 5
    objs = []
    for ln in lines:
        try:
            o = json.loads(ln)
        except ValueError:
            pytest.fail(f"not a JSON line: {ln!r}")
        assert {"time", "level", "msg"} <= o.keys(), o
        assert RFC3339_Z.match(o["time"]) and len(o["time"]) == 24, o["time"]
        assert o["level"] in ("debug", "info", "warn", "error"), o
        objs.append(o)
    created = [o for o in objs if o.get("request_id") == rid and "route" in o]
    assert len(created) == 1, created
    o = created[0]
    assert (o["method"], o["route"], o["status"], o["sandbox"]) == ("POST", API, 201, sid), o
    assert isinstance(o["duration_ms"], int) and o["duration_ms"] >= 0, o
    assert isinstance(o["bytes"], int) and o["bytes"] > 0, o
    assert o["remote"] == "127.0.0.1" and o["level"] == "info", o
    ran = [o for o in objs if o.get("request_id") == xid and "route" in o]
    assert len(ran) == 1 and ran[0]["route"] == f"{API}/:id/exec" and ran[0]["sandbox"] == sid
    print(f"\njson log: {len(objs)} lines; create took {o['duration_ms']} ms")


def test_an_unknown_log_format_stops_the_daemon_naming_the_flag(tmp_path):
    out = subprocess.run([str(BUILD / "hivebox"), "daemon", "--log-format", "xml",
                          "--data-dir", str(tmp_path), "--port", str(hbtest.free_port())],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode != 0
    assert "--log-format" in out.stderr, out.stderr


def _metric(text, series):
    for line in text.splitlines():
        if line.startswith(series + " "):
            return float(line.split()[-1])
    return 0.0


def test_http_metrics_count_requests_by_route_template(daemon, client):
    r = client.get("/metrics")
    assert r.status_code == 200, r.text
    series = ('hivebox_http_requests_total{method="GET",route="/api/v1/hiveboxes/:id",'
              'code="404"}')
    before = _metric(r.text, series)
    for _ in range(3):
        assert client.get(f"{API}/gone-{secrets.token_hex(3)}").status_code == 404
    after = _metric(client.get("/metrics").text, series)
    assert after - before == 3, (before, after)
    assert "/gone-" not in client.get("/metrics").text
