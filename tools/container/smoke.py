#!/usr/bin/python3
"""The REST smoke test.sh runs against a HiveBox container.

  smoke.py before URL KEY STATE   create one sandbox per network mode, exec,
                                  files up and down, MCP initialize +
                                  tools/list, destroy one; write the kept
                                  sandboxes to STATE (JSON)
  smoke.py after URL KEY STATE    after a restart: the key still opens the
                                  API, the kept sandboxes are still listed
  smoke.py destroy URL KEY STATE  destroy them; none is left
  smoke.py env URL KEY STATE      on a container started with
                                  HIVEBOX_OPENCODE=false: no agent URL

Prints one line per step with its duration; exits non-zero on the first
failure, saying what was expected.
"""
import json
import os
import sys
import time

import requests

MODES = ("none", "isolated", "shared")
MCP_HDRS = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}


class Api:
    def __init__(self, url, key):
        self.url = url.rstrip("/")
        self.h = {"Authorization": f"Bearer {key}"}

    def call(self, method, path, want=200, **kw):
        r = requests.request(method, self.url + path, headers={**self.h, **kw.pop("headers", {})},
                             timeout=kw.pop("timeout", 120), **kw)
        if want is not None and r.status_code != want:
            sys.exit(f"FAIL: {method} {path}: want {want}, got {r.status_code}: {r.text[:400]}")
        return r


def step(name, fn, *args):
    t = time.monotonic()
    out = fn(*args)
    print(f"  ok {name} ({(time.monotonic() - t) * 1000:.0f} ms)", flush=True)
    return out


def check(cond, what):
    if not cond:
        sys.exit(f"FAIL: {what}")


def create(api, mode):
    # 503 while the default image is still being built (a volume test.sh
    # could not pre-seed): wait for it, up to 15 minutes.
    spec = {"network": mode, "memory": "256m"}
    deadline = time.monotonic() + 900
    r = api.call("POST", "/api/v1/hiveboxes", want=None, json=spec)
    while r.status_code == 503 and "being built" in r.text and time.monotonic() < deadline:
        time.sleep(float(r.headers.get("Retry-After", "10")))
        r = api.call("POST", "/api/v1/hiveboxes", want=None, json=spec)
    check(r.status_code == 201, f"create {mode}: want 201, got {r.status_code}: {r.text[:400]}")
    sb = r.json()
    check(sb.get("status") == "running", f"create {mode}: status {sb.get('status')!r}")
    net = sb.get("network") or {}
    check(net.get("mode") == mode, f"create {mode}: network {net!r}")
    if mode != "none":
        check(net.get("ip"), f"create {mode}: no ip in {sb}")
    return sb


def exec_ok(api, sid, mode):
    out = api.call("POST", f"/api/v1/hiveboxes/{sid}/exec",
                   json={"command": "python3 -c 'print(6*7)'; cat /etc/debian_version; ip -brief addr",
                         "timeout": 60}).json()
    check(out["exit_code"] == 0 and out["stdout"].startswith("42\n"), f"exec: {out}")
    if mode != "none":
        check("eth0" in out["stdout"] or "UP" in out["stdout"], f"exec {mode}: no interface: {out}")


def files_ok(api, sid):
    body = os.urandom(300_000)
    api.call("PUT", f"/api/v1/hiveboxes/{sid}/files?path=/root/blob.bin", data=body)
    got = api.call("GET", f"/api/v1/hiveboxes/{sid}/files?path=/root/blob.bin").content
    check(got == body, "files: the downloaded bytes differ from the uploaded ones")
    api.call("PUT", f"/api/v1/hiveboxes/{sid}/files?path=/root/keep.txt", data=b"survives\n")


def mcp_ok(api, sid):
    url = f"/api/v1/hiveboxes/{sid}/mcp"
    init = {"jsonrpc": "2.0", "id": 0, "method": "initialize",
            "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                       "clientInfo": {"name": "hivebox-container-test", "version": "1"}}}
    r = api.call("POST", url, json=init, headers=MCP_HDRS)
    session = r.headers.get("Mcp-Session-Id")
    check(session and r.json()["result"]["protocolVersion"] == "2025-06-18", f"initialize: {r.text}")
    h = {**MCP_HDRS, "Mcp-Session-Id": session}
    api.call("POST", url, want=202, json={"jsonrpc": "2.0", "method": "notifications/initialized"},
             headers=h)
    tools = api.call("POST", url, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                     headers=h).json()["result"]["tools"]
    names = {t["name"] for t in tools}
    check({"exec", "read_file", "write_file", "list_skills"} <= names, f"tools/list: {sorted(names)}")
    # The skills directory given with -v ...:/skills and HIVEBOX_OPENCODE_SKILLS_PATH.
    res = api.call("POST", url, json={"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                                      "params": {"name": "list_skills", "arguments": {}}},
                   headers=h).json()["result"]
    text = json.dumps(res)
    check("container-smoke" in text, f"list_skills does not show the mounted skill: {text[:400]}")
    return len(names)


def before(api, state):
    api.call("GET", "/api/v1/hiveboxes")
    kept = {}
    for mode in MODES:
        sb = step(f"create network={mode}", create, api, mode)
        step(f"exec ({mode})", exec_ok, api, sb["id"], mode)
        kept[mode] = {"id": sb["id"], "opencode_url": sb.get("opencode_url")}
    sid = kept["isolated"]["id"]
    step("files upload + download (300 kB)", files_ok, api, sid)
    n = step("MCP initialize + tools/list + list_skills", mcp_ok, api, sid)
    print(f"  MCP tools: {n}")
    gone = kept.pop("shared")["id"]
    step("destroy", api.call, "DELETE", f"/api/v1/hiveboxes/{gone}")
    api.call("GET", f"/api/v1/hiveboxes/{gone}", want=404)
    check(kept["none"]["opencode_url"], "OpenCode is on by default, but create gave no opencode_url")
    with open(state, "w", encoding="utf-8") as f:
        json.dump(kept, f)


def after(api, state):
    with open(state, encoding="utf-8") as f:
        kept = json.load(f)
    rows = {s["id"]: s for s in api.call("GET", "/api/v1/hiveboxes").json()["sandboxes"]}
    for mode, sb in kept.items():
        check(sb["id"] in rows, f"sandbox {sb['id']} ({mode}) is gone after the restart: {list(rows)}")
        row = rows[sb["id"]]
        why = f" ({row['failure_reason']})" if row.get("failure_reason") else ""
        print(f"  ok sandbox {sb['id']} ({mode}) is still listed: status {row['status']}{why}")
        print(f"     files: /var/lib/hivebox/sandboxes/{sb['id']}/upper")


def destroy(api, state):
    with open(state, encoding="utf-8") as f:
        kept = json.load(f)
    for sb in kept.values():
        step(f"destroy {sb['id']}", api.call, "DELETE", f"/api/v1/hiveboxes/{sb['id']}")
    left = api.call("GET", "/api/v1/hiveboxes").json()["sandboxes"]
    check(not left, f"sandboxes left: {left}")


def env(api, state):
    sb = step("create (HIVEBOX_OPENCODE=false)", create, api, "none")
    check("opencode_url" not in sb, f"HIVEBOX_OPENCODE=false, yet create gave {sb.get('opencode_url')}")
    print("  ok no opencode_url with HIVEBOX_OPENCODE=false")
    step("destroy", api.call, "DELETE", f"/api/v1/hiveboxes/{sb['id']}")


def main():
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    phase, url, key, state = sys.argv[1:5]
    api = Api(url, key)
    if phase == "before":
        before(api, state)
    elif phase == "after":
        after(api, state)
    elif phase == "destroy":
        destroy(api, state)
    elif phase == "env":
        env(api, state)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
