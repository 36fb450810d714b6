"""A sandbox's metadata, env and timeout (what E2B's metadata, envVars and
setTimeout map onto): metadata given at create comes back from create, GET
and list and filters the list (E2B's ?metadata= format); env given at
create is seen by exec, a background process and a PTY process, and loses
to the request's own env; both survive a daemon restart; env values are
never shown; POST /:id/timeout sets (not adds) the expiry, which the reaper
honours. Bad input is a 400 naming the field."""
import base64
import secrets
import signal
import time
import urllib.parse

import pytest

import hbtest

API = "/api/v1/hiveboxes"


def tag():
    return secrets.token_hex(4)


def proc_output(c, sid, pid):
    """The whole output of an exited background process."""
    def exited():
        r = c.get(f"{API}/{sid}/processes/{pid}")
        assert r.status_code == 200, r.text
        return r.json()["state"] == "exited"

    hbtest.wait_until(exited, 20, 0.05, f"process {pid} to exit")
    r = c.get(f"{API}/{sid}/processes/{pid}/output")
    assert r.status_code == 200, r.text
    out = b""
    for name, data, _ in hbtest.sse_events(r):
        if name in ("stdout", "stderr"):
            out += (base64.b64decode(data["data"]) if data["encoding"] == "base64"
                    else data["data"].encode())
    return out.decode()


def listed(c, query=None):
    r = c.get(API + (f"?{query}" if query is not None else ""))
    assert r.status_code == 200, r.text
    return {s["id"]: s for s in r.json()["sandboxes"]}


def e2b_filter(pairs):
    """The query E2B's SDK sends: metadata=<urlencoded k=v&k2=v2>."""
    return urllib.parse.urlencode({"metadata": urllib.parse.urlencode(pairs)})


# ---- metadata ----

def test_metadata_round_trip_and_list_filter(client, sandbox):
    run = tag()
    meta = {"run": run, "owner": "alice & bob=ok", "note": "é ünïcode 🐝", "empty": ""}
    a = sandbox(memory="64m", metadata=meta)
    b = sandbox(memory="64m", metadata={"run": run, "owner": "carol"})
    plain = sandbox(memory="64m")
    assert a.info["metadata"] == meta
    assert client.info(a.id)["metadata"] == meta
    assert client.info(plain.id)["metadata"] == {} and plain.info["env_names"] == []
    rows = listed(client)
    assert rows[a.id]["metadata"] == meta and rows[plain.id]["metadata"] == {}

    both = listed(client, e2b_filter({"run": run}))
    assert set(both) == {a.id, b.id}
    only_a = listed(client, e2b_filter({"run": run, "owner": "alice & bob=ok"}))
    assert set(only_a) == {a.id}
    assert listed(client, e2b_filter({"run": run, "owner": "nobody"})) == {}
    assert set(listed(client, e2b_filter({"note": "é ünïcode 🐝", "run": run}))) == {a.id}
    assert plain.id in listed(client, "metadata=")   # an empty filter keeps everything


@pytest.mark.parametrize("query", [
    "metadata=novalue",                    # no '='
    "metadata=%3Dv",                       # "=v": empty key
    "metadata=k%3D%25zz",                  # "k=%zz": a bad inner escape
    "metadata=%zz",                        # a bad outer escape
])
def test_bad_metadata_filter_is_400(client, query):
    r = client.get(f"{API}?{query}")
    assert r.status_code == 400, r.text
    assert r.json()["error"].startswith("metadata"), r.text


@pytest.mark.parametrize("meta,field", [
    ("x", "metadata"),
    (["a"], "metadata"),
    ({"k": 1}, "metadata.k"),
    ({"k": None}, "metadata.k"),
    ({"a=b": "v"}, "metadata.a=b"),
    ({"a&b": "v"}, "metadata.a&b"),
    ({"": "v"}, "metadata."),
    ({"tab\there": "v"}, "metadata.tab"),
    ({"k" * 129: "v"}, "metadata.kkkk"),
    ({"k": "v" * 1025}, "metadata.k"),
    ({"k": "a\u0000b"}, "metadata.k"),
    ({f"k{i}": "v" for i in range(65)}, "metadata"),
])
def test_bad_metadata_names_the_field(client, meta, field):
    r = client.post(API, json={"memory": "64m", "metadata": meta})
    assert r.status_code == 400, r.text
    assert r.json()["error"].startswith(field), r.text


def test_metadata_at_the_bounds_is_accepted(client, sandbox):
    meta = {f"k{i:03d}" + "x" * 124: "v" * 1024 for i in range(64)}
    sb = sandbox(memory="64m", metadata=meta)
    assert client.info(sb.id)["metadata"] == meta


# ---- env ----

@pytest.mark.parametrize("env,field", [
    ("A=1", "env"),
    (["A=1"], "env"),
    ({"1A": "x"}, "env.1A"),
    ({"A-B": "x"}, "env.A-B"),
    ({"A=B": "x"}, "env.A=B"),
    ({"": "x"}, "env."),
    ({"A": 1}, "env.A"),
    ({"A": "a\u0000b"}, "env.A"),
    ({"A": "x" * 40000}, "env.A"),
    ({f"V{i}": "x" for i in range(129)}, "env"),
])
def test_bad_env_names_the_field(client, env, field):
    r = client.post(API, json={"memory": "64m", "env": env})
    assert r.status_code == 400, r.text
    assert r.json()["error"].startswith(field), r.text


def test_env_seen_by_exec_processes_and_pty_and_overridden(client, sandbox):
    secret = "s3cr3t-" + tag()
    env = {"HB_SECRET": secret, "HB_MODE": "sandbox", "_under": "u"}
    sb = sandbox(memory="128m", env=env)
    assert sorted(sb.info["env_names"]) == sorted(env)
    # Never a value: not in create, GET or list.
    for shown in (sb.info, client.info(sb.id), listed(client)[sb.id]):
        assert secret not in str(shown) and sorted(shown["env_names"]) == sorted(env)

    res = client.exec(sb.id, 'echo "$HB_SECRET $HB_MODE $_under"')
    assert res["stdout"] == f"{secret} sandbox u\n", res
    # The request's env wins a clash; the others stay.
    res = client.exec(sb.id, 'echo "$HB_SECRET $HB_MODE $X"', env={"HB_MODE": "request", "X": "1"})
    assert res["stdout"] == f"{secret} request 1\n", res
    # As a user other than root, too (exec_as).
    res = client.exec(sb.id, 'echo "$HB_MODE"', user="nobody")
    assert res["stdout"] == "sandbox\n", res
    # Streamed exec goes through the same path.
    r = client.post(f"{API}/{sb.id}/exec", json={"command": 'echo "$HB_MODE"', "stream": True})
    assert r.status_code == 200, r.text
    assert '"sandbox\\n"' in r.text, r.text

    r = client.post(f"{API}/{sb.id}/processes", json={"command": 'echo "bg $HB_SECRET $HB_MODE"',
                                                      "env": {"HB_MODE": "proc"}})
    assert r.status_code == 201, r.text
    assert proc_output(client, sb.id, r.json()["pid"]) == f"bg {secret} proc\n"

    r = client.post(f"{API}/{sb.id}/processes", json={"command": 'echo "pty $HB_MODE $TERM"',
                                                      "pty": {"cols": 80, "rows": 24}})
    assert r.status_code == 201, r.text
    out = proc_output(client, sb.id, r.json()["pid"])
    assert out.replace("\r\n", "\n") == "pty sandbox xterm-256color\n", out


def test_env_and_request_env_together_over_the_init_limit_is_400(client, sandbox):
    sb = sandbox(memory="64m", env={f"S{i}": "x" for i in range(128)})
    res = client.exec(sb.id, "echo $S127")
    assert res["stdout"] == "x\n"
    r = client.post(f"{API}/{sb.id}/exec",
                    json={"command": "true", "env": {f"R{i}": "y" for i in range(200)}})
    assert r.status_code == 400, r.text
    assert r.json()["error"].startswith("env"), r.text


def test_env_and_metadata_survive_a_daemon_restart(own_daemon):
    d = own_daemon
    c = d.client()
    secret = "restart-" + tag()
    sb = c.create(memory="64m", metadata={"keep": "me"}, env={"HB_KEEP": secret})
    rec = (d.sandbox_dir(sb["id"]) / "sandbox.json")
    assert oct(rec.stat().st_mode & 0o777) == "0o600"
    c.close()
    d.stop(signal.SIGKILL)
    d.start()
    c = d.client()
    try:
        info = c.info(sb["id"])
        assert info["metadata"] == {"keep": "me"} and info["env_names"] == ["HB_KEEP"]
        assert set(listed(c, e2b_filter({"keep": "me"}))) == {sb["id"]}
        assert c.exec(sb["id"], "echo $HB_KEEP")["stdout"] == f"{secret}\n"
        assert secret not in d.log_text()   # never logged
    finally:
        c.close()


# ---- timeout ----

def set_timeout(c, sid, body):
    return c.post(f"{API}/{sid}/timeout", json=body)


def test_timeout_sets_and_shortens_then_the_sandbox_is_reaped(client, sandbox):
    sb = sandbox(memory="64m", timeout=60)
    r = set_timeout(client, sb.id, {"timeout": 3000})
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["id"] == sb.id and 2990 <= got["ttl_seconds"] <= 3000
    exp = hbtest.parse_rfc3339(got["expires_at"])
    assert abs(exp - (time.time() + 3000)) < 5
    assert client.info(sb.id)["expires_at"] == got["expires_at"]
    assert listed(client)[sb.id]["ttl_seconds"] > 2900
    # Set, not added: it may shorten.
    r = set_timeout(client, sb.id, {"timeout": 2})
    assert r.status_code == 200, r.text
    assert r.json()["ttl_seconds"] <= 2
    hbtest.wait_until(lambda: client.get(f"{API}/{sb.id}").status_code == 404, 15, 0.1,
                      "the sandbox to be reaped after its shortened timeout")


@pytest.mark.parametrize("body", [
    {}, {"timeout": 0}, {"timeout": 86401}, {"timeout": -5}, {"timeout": "60"},
    {"timeout": 1.5}, {"timeout": None}, {"timeout": 60, "extra": 1},
])
def test_bad_timeout_names_the_field(client, module_sandbox, body):
    sb = module_sandbox(memory="64m")
    r = set_timeout(client, sb.id, body)
    assert r.status_code == 400, r.text
    err = r.json()["error"]
    assert err.startswith("extra" if "extra" in body else "timeout"), err


def test_timeout_unknown_sandbox_and_wrong_method(client):
    r = set_timeout(client, "no-such-" + tag(), {"timeout": 60})
    assert r.status_code == 404, r.text
    r = client.get(f"{API}/no-such-{tag()}/timeout")
    assert r.status_code == 405, r.text


def test_timeout_survives_a_daemon_restart(own_daemon):
    d = own_daemon
    c = d.client()
    sb = c.create(memory="64m", timeout=5)
    r = set_timeout(c, sb["id"], {"timeout": 600})
    assert r.status_code == 200, r.text
    new_exp = r.json()["expires_at"]
    c.close()
    d.stop(signal.SIGKILL)
    time.sleep(6)   # past the create's expiry: the new one must hold
    d.start()
    c = d.client()
    try:
        time.sleep(1)
        assert c.info(sb["id"])["expires_at"] == new_exp
    finally:
        c.close()
