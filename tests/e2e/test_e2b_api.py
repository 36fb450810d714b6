"""E2B's control plane over raw HTTP (docs/e2b.md): the exact statuses the
Python SDK's generated client parses (201 create, 200 get/list/connect, 204
kill/timeout), E2B's error shape {"code", "message"} with the same status,
the key check, and a 400 naming the field for every bad input. The SDK's
own view is tests/e2e/e2b/sandbox.test.mjs."""
import os
import re
import secrets
import subprocess
import time
from urllib.parse import quote, urlencode

import pytest
import requests

import hbtest
from test_e2b import e2b_key

HEX40 = re.compile(r"^[0-9a-f]{40}$")


def h(daemon, key=None):
    return {"X-API-KEY": key or e2b_key(daemon.key)}


def call(daemon, method, path, key=None, **kw):
    headers = kw.pop("headers", None) or h(daemon, key)
    return requests.request(method, daemon.url + path, headers=headers, timeout=120, **kw)


def error_of(r, status):
    assert r.status_code == status, (r.status_code, r.text[:300])
    assert r.headers.get("Content-Type", "").startswith("application/json"), r.headers
    body = r.json()
    assert body.get("code") == status and isinstance(body.get("message"), str), body
    assert body["message"], body
    return body["message"]


def create(daemon, **body):
    body.setdefault("templateID", "base")
    r = call(daemon, "POST", "/v2/sandboxes", json=body)
    assert r.status_code == 201, r.text
    return r.json()


@pytest.fixture
def made(daemon):
    ids = []
    yield ids
    for sid in ids:
        call(daemon, "DELETE", f"/sandboxes/{sid}")


# ---------------------------------------------------------------- the key

@pytest.mark.parametrize("headers", [
    {}, {"X-API-KEY": "e2b_" + "0" * 40}, {"X-API-KEY": ""},
    {"Authorization": "Bearer e2b_" + "1" * 40}, {"X-API-KEY": "wrong"},
])
def test_wrong_key_is_401_in_e2b_shape(daemon, headers):
    for method, path in (("GET", "/v2/sandboxes"), ("POST", "/v2/sandboxes"),
                         ("POST", "/sandboxes"), ("GET", "/sandboxes/nope"),
                         ("DELETE", "/sandboxes/nope"), ("POST", "/sandboxes/nope/timeout"),
                         ("GET", "/sandboxes")):
        r = requests.request(method, daemon.url + path, headers=headers, json={}, timeout=30)
        error_of(r, 401)


def test_the_admin_key_and_the_e2b_key_both_work(daemon):
    for headers in (h(daemon), {"X-API-KEY": daemon.key},
                    {"Authorization": f"Bearer {daemon.key}"}):
        r = requests.get(daemon.url + "/v2/sandboxes", headers=headers, timeout=30)
        assert r.status_code == 200, (headers, r.text)
        assert isinstance(r.json(), list)


# ---------------------------------------------------------------- one sandbox's life

def test_create_get_connect_kill_status_codes(daemon, client, made):
    sb = create(daemon, timeout=120, metadata={"who": "e2e"})
    made.append(sb["sandboxID"])
    sid = sb["sandboxID"]
    assert sb["templateID"] == "base" and sb["clientID"] and sb["envdVersion"]
    assert HEX40.match(sb["envdAccessToken"]), sb
    assert sb["domain"] is None and sb["trafficAccessToken"] is None
    # an ordinary HiveBox sandbox, in HiveBox's own list
    assert sid in [s["id"] for s in client.list()["sandboxes"]]

    r = call(daemon, "GET", f"/sandboxes/{sid}")
    assert r.status_code == 200, r.text
    d = r.json()
    for k in ("templateID", "sandboxID", "clientID", "startedAt", "endAt", "envdVersion",
              "cpuCount", "memoryMB", "diskSizeMB", "state"):
        assert k in d, (k, d)
    assert d["state"] == "running" and d["sandboxID"] == sid
    assert d["envdAccessToken"] == sb["envdAccessToken"]
    assert d["cpuCount"] >= 1 and d["memoryMB"] >= 128 and d["diskSizeMB"] > 0
    assert d["metadata"] == {"who": "e2e"}
    # HiveBox's default network decides (allow_internet_access false forces "none")
    assert d["allowInternetAccess"] is (client.info(sid)["network"]["mode"] != "none")

    for path in (f"/sandboxes/{sid}/connect", f"/v2/sandboxes/{sid}/connect"):
        r = call(daemon, "POST", path, json={"timeout": 60})
        assert r.status_code == 200, r.text
        assert r.json()["sandboxID"] == sid
        assert r.json()["envdAccessToken"] == sb["envdAccessToken"]

    r = call(daemon, "DELETE", f"/sandboxes/{sid}")
    assert r.status_code == 204 and r.content == b"", (r.status_code, r.text)
    error_of(call(daemon, "DELETE", f"/sandboxes/{sid}"), 404)
    error_of(call(daemon, "GET", f"/sandboxes/{sid}"), 404)
    assert sid not in [s["id"] for s in client.list()["sandboxes"]]


def test_v1_create_and_offline_network(daemon, client, made):
    r = call(daemon, "POST", "/sandboxes",
             json={"templateID": "base", "timeout": 60, "allow_internet_access": False,
                   "secure": True, "network": {}, "mcp": None, "autoPause": False})
    assert r.status_code == 201, r.text
    sid = r.json()["sandboxID"]
    made.append(sid)
    assert client.info(sid)["network"]["mode"] == "none"
    assert call(daemon, "GET", f"/sandboxes/{sid}").json()["allowInternetAccess"] is False


def test_set_timeout_is_204_and_moves_expiry(daemon, client, made):
    sid = create(daemon, timeout=3000)["sandboxID"]
    made.append(sid)
    r = call(daemon, "POST", f"/sandboxes/{sid}/timeout", json={"timeout": 100})
    assert r.status_code == 204 and r.content == b"", r.text
    end = call(daemon, "GET", f"/sandboxes/{sid}").json()["endAt"]
    ttl = client.info(sid)["ttl_seconds"]
    assert 80 <= ttl <= 100, (ttl, end)
    # connect only extends: a shorter timeout leaves it alone, a longer one moves it
    assert call(daemon, "POST", f"/sandboxes/{sid}/connect", json={"timeout": 10}).status_code == 200
    assert client.info(sid)["ttl_seconds"] >= 80
    assert call(daemon, "POST", f"/sandboxes/{sid}/connect", json={"timeout": 500}).status_code == 200
    assert client.info(sid)["ttl_seconds"] > 400


# ---------------------------------------------------------------- bad input

@pytest.mark.parametrize("body,field", [
    ({}, "templateID"),
    ({"templateID": 7}, "templateID"),
    ({"templateID": ""}, "templateID"),
    ({"templateID": "base", "timeout": -1}, "timeout"),
    ({"templateID": "base", "timeout": "60"}, "timeout"),
    ({"templateID": "base", "timeout": 86401}, "timeout"),
    ({"templateID": "base", "metadata": []}, "metadata"),
    ({"templateID": "base", "metadata": {"k": 1}}, "metadata"),
    ({"templateID": "base", "envVars": "A=1"}, "envVars"),
    ({"templateID": "base", "envVars": {"A": 1}}, "envVars"),
    ({"templateID": "base", "envVars": {"1BAD": "x"}}, "envVars"),
    ({"templateID": "base", "allow_internet_access": "no"}, "allow_internet_access"),
    ({"templateID": "base", "secure": 1}, "secure"),
    ({"templateID": "base", "autoPause": "yes"}, "autoPause"),
    ({"templateID": "base", "autoPause": True, "autoPauseMemory": False}, "autoPauseMemory"),
    ({"templateID": "base", "autoResume": {"enabled": "yes"}}, "autoResume"),
    ({"templateID": "base", "mcp": {"github": {}}}, "mcp"),
    ({"templateID": "base", "network": {"denyOut": ["0.0.0.0/0"]}}, "network"),
    ({"templateID": "base", "volumeMounts": [{"name": "v", "path": "/v"}]}, "volumeMounts"),
    ({"templateID": "no such template!"}, "templateID"),
])
def test_create_bad_field_is_400_naming_it(daemon, client, body, field):
    before = client.list()["total"]
    msg = error_of(call(daemon, "POST", "/v2/sandboxes", json=body), 400)
    assert msg.startswith(field), (field, msg)
    assert client.list()["total"] == before


def test_create_unknown_template_is_400_naming_it(daemon):
    name = "nosuch-" + secrets.token_hex(3)
    msg = error_of(call(daemon, "POST", "/sandboxes", json={"templateID": name}), 400)
    assert msg.startswith("templateID") and name in msg, msg


def test_create_body_not_json(daemon):
    for data in (b"{", b"[]", b"", b"null"):
        r = call(daemon, "POST", "/v2/sandboxes", data=data,
                 headers={**h(daemon), "Content-Type": "application/json"})
        error_of(r, 400)


@pytest.mark.parametrize("query,field", [
    ("limit=0", "limit"), ("limit=101", "limit"), ("limit=x", "limit"),
    ("state=sleeping", "state"), ("state=running,zzz", "state"),
    ("nextToken=garbage", "nextToken"), ("nextToken=12:bad%2Fid", "nextToken"),
    ("order=up", "order"), ("startedAfter=yesterday", "startedAfter"),
    ("metadata=novalue", "metadata"), ("metadata=%25zz%3D1", "metadata"),
])
def test_list_bad_query_is_400_naming_it(daemon, query, field):
    msg = error_of(call(daemon, "GET", "/v2/sandboxes?" + query), 400)
    assert msg.startswith(field), (field, msg)


def test_unknown_sandbox_is_404_everywhere(daemon):
    for method, path, body in (("GET", "/sandboxes/nope-x", None),
                               ("DELETE", "/sandboxes/nope-x", None),
                               ("POST", "/sandboxes/nope-x/timeout", {"timeout": 10}),
                               ("POST", "/sandboxes/nope-x/connect", {"timeout": 10}),
                               ("POST", "/v2/sandboxes/nope-x/connect", {"timeout": 10}),
                               ("GET", "/sandboxes/nope-x/metrics", None),
                               ("GET", "/sandboxes/not..a%20name", None)):
        error_of(call(daemon, method, path, json=body), 404)


def test_timeout_and_connect_bad_bodies(daemon, made):
    sid = create(daemon, timeout=120)["sandboxID"]
    made.append(sid)
    for body in ({}, {"timeout": -5}, {"timeout": "1"}, {"timeout": 86401}):
        assert error_of(call(daemon, "POST", f"/sandboxes/{sid}/timeout", json=body),
                        400).startswith("timeout")
    assert error_of(call(daemon, "POST", f"/sandboxes/{sid}/connect", json={"timeout": "x"}),
                    400).startswith("timeout")
    error_of(call(daemon, "POST", f"/sandboxes/{sid}/timeout", data=b"[1]"), 400)


def test_pause_resume_connect_in_e2b_shape(daemon, made, client):
    """E2B's pause (204; 409 when paused already), resume (201) and connect
    (201 when it resumed a paused sandbox, else 200) on HiveBox's (issue 17);
    autoPause / autoResume at create are on_timeout pause / auto_resume."""
    sid = create(daemon, timeout=60, autoPause=True, autoResume={"enabled": True})["sandboxID"]
    made.append(sid)
    info = client.info(sid)
    assert info["on_timeout"] == "pause" and info["auto_resume"] is True, info
    assert call(daemon, "POST", f"/sandboxes/{sid}/pause", json={}).status_code == 204
    assert client.info(sid)["status"] == "paused"
    error_of(call(daemon, "POST", f"/sandboxes/{sid}/pause", json={}), 409)
    for state in ("paused", None):   # E2B lists running and paused ones by default
        got = call(daemon, "GET", "/v2/sandboxes", params={"state": state} if state else {}).json()
        assert [s["state"] for s in got if s["sandboxID"] == sid] == ["paused"], got
    got = call(daemon, "GET", "/v2/sandboxes", params={"state": "running"}).json()
    assert sid not in [s["sandboxID"] for s in got]
    assert call(daemon, "GET", f"/sandboxes/{sid}").json()["state"] == "paused"
    r = call(daemon, "POST", f"/sandboxes/{sid}/connect", json={"timeout": 120})
    assert r.status_code == 201, r.text
    assert client.info(sid)["status"] == "running"
    r = call(daemon, "POST", f"/sandboxes/{sid}/connect", json={"timeout": 120})
    assert r.status_code == 200, r.text
    call(daemon, "POST", f"/sandboxes/{sid}/pause", json={})
    r = call(daemon, "POST", f"/sandboxes/{sid}/resume", json={"timeout": 60})
    assert r.status_code == 201 and r.json()["sandboxID"] == sid, r.text
    assert client.info(sid)["status"] == "running"
    error_of(call(daemon, "PUT", f"/sandboxes/{sid}", json={}), 405)
    error_of(call(daemon, "GET", f"/sandboxes/{sid}/nothing-here"), 404)


# ---------------------------------------------------------------- list, filters, paging

def test_list_filters_and_pages(daemon, made):
    tag = "p" + secrets.token_hex(4)
    for i in range(3):
        made.append(create(daemon, timeout=300,
                           metadata={"suite": tag, "n": str(i), "sp ace": "a&b=c"})["sandboxID"])
        time.sleep(1.1)   # distinct start seconds: the order is by start time
    # as the SDKs send it: each key and value encoded, then the pairs form-encoded
    meta = urlencode({quote(k, safe=""): quote(v, safe="")
                      for k, v in (("suite", tag), ("sp ace", "a&b=c"))})

    def page(**q):
        r = call(daemon, "GET", "/v2/sandboxes", params={"metadata": meta, **q})
        assert r.status_code == 200, r.text
        return r.json(), r.headers.get("X-Next-Token")

    rows, token = page(limit=2)
    assert len(rows) == 2 and token, (rows, token)
    assert [r["metadata"]["n"] for r in rows] == ["2", "1"]   # newest first
    rest, token2 = page(limit=2, nextToken=token)
    assert [r["metadata"]["n"] for r in rest] == ["0"] and token2 is None
    asc, _ = page(order="asc")
    assert [r["metadata"]["n"] for r in asc] == ["0", "1", "2"]
    assert page(state="paused")[0] == []
    assert len(page(state="running,paused")[0]) == 3
    assert page(template="nosuch")[0] == []
    assert len(page(template="base", startedAfter="2000-01-01T00:00:00Z")[0]) == 3
    assert page(startedAfter="2999-01-01T00:00:00.5+02:00")[0] == []
    for row in rows:
        for k in ("sandboxID", "templateID", "clientID", "startedAt", "endAt", "cpuCount",
                  "memoryMB", "diskSizeMB", "state", "envdVersion", "metadata"):
            assert k in row, (k, row)
    # v1: running sandboxes, same metadata filter, no paging
    r = call(daemon, "GET", "/sandboxes", params={"metadata": meta})
    assert r.status_code == 200 and len(r.json()) == 3, r.text


# ---------------------------------------------------------------- --e2b-api-key and the CLI

def test_cli_prints_the_key_the_daemon_accepts(daemon):
    env = {k: v for k, v in os.environ.items() if not k.startswith("HIVEBOX_")}
    out = subprocess.run([str(hbtest.BUILD / "hivebox"), "e2b-key", "--api-key", daemon.key],
                         capture_output=True, text=True, env=env, timeout=30)
    assert out.returncode == 0, out.stderr
    key = out.stdout.strip()
    assert re.fullmatch(r"e2b_[0-9a-f]{40}", key), key
    r = requests.get(daemon.url + "/v2/sandboxes", headers={"X-API-KEY": key}, timeout=30)
    assert r.status_code == 200, r.text
    # from the daemon's data dir, as an operator on the host runs it
    out = subprocess.run([str(hbtest.BUILD / "hivebox"), "e2b-key", "--data-dir",
                          str(daemon.data_dir)], capture_output=True, text=True,
                         env=env, timeout=30)
    if (daemon.data_dir / "api_key").exists():
        assert out.stdout.strip() == e2b_key((daemon.data_dir / "api_key").read_text().strip())
    out = subprocess.run([str(hbtest.BUILD / "hivebox"), "e2b-key"], capture_output=True,
                         text=True, env={**env, "HIVEBOX_E2B_API_KEY": "e2b_" + "ab" * 12},
                         timeout=30)
    assert out.stdout.strip() == "e2b_" + "ab" * 12, out


def test_e2b_api_key_flag(private_daemon):
    mine = "e2b_" + secrets.token_hex(20)
    d = private_daemon(extra_args=["--e2b-api-key", mine])
    ok = lambda key: requests.get(d.url + "/v2/sandboxes", headers={"X-API-KEY": key},
                                  timeout=30).status_code
    assert ok(mine) == 200
    assert ok(d.key) == 200                # the admin key still works
    assert ok(e2b_key(d.key)) == 401       # the derived one is replaced by the given one
    assert ok(mine[:-1] + ("0" if mine[-1] != "0" else "1")) == 401


@pytest.mark.parametrize("bad", ["abc", "e2b_", "e2b_" + "0" * 19, "e2b_" + "g" * 40,
                                 "E2B_" + "0" * 40])
def test_bad_e2b_api_key_flag_stops_the_daemon(tmp_path, bad):
    out = subprocess.run([str(hbtest.BUILD / "hivebox"), "daemon", "--data-dir",
                          str(tmp_path), "--e2b-api-key", bad], capture_output=True, text=True,
                         timeout=30)
    assert out.returncode == 2, (out.returncode, out.stderr)
    assert "--e2b-api-key" in out.stderr, out.stderr
