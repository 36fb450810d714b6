"""The OpenAPI description: linted with Redocly's recommended rules (npm
@redocly/cli, installed by tools/install-deps.sh into tests/openapi), served
as built, and able to catch a drift: the check that conftest.py runs on
every answer of the suite is shown here to refuse answers that do not match."""
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

import openapi_check

REPO = Path(__file__).resolve().parents[2]
LINT_DIR = REPO / "tests" / "openapi"
REDOCLY = LINT_DIR / "node_modules" / ".bin" / "redocly"


def test_spec_lints_clean():
    if not os.access(REDOCLY, os.X_OK):
        pytest.fail(f"{REDOCLY} is missing: run `npm ci --prefix {LINT_DIR}` "
                    "(tools/install-deps.sh does)")
    env = dict(os.environ, REDOCLY_TELEMETRY="off", REDOCLY_SUPPRESS_UPDATE_NOTICE="true")
    r = subprocess.run([str(REDOCLY), "lint", "--config", str(LINT_DIR / "redocly.yaml"),
                        "--format=json", str(openapi_check.SPEC_PATH)],
                       capture_output=True, env=env, timeout=300)
    report = json.loads(r.stdout[r.stdout.index(b"{"):])
    problems = [f"{p['ruleId']}: {p['message']} at {p['location'][0]['pointer']}"
                for p in report.get("problems", [])]
    assert report["totals"]["errors"] == 0 and report["totals"]["warnings"] == 0, problems
    assert r.returncode == 0, r.stderr.decode()[-2000:]


def test_served_spec_is_the_file(client):
    r = client.get("/api/v1/openapi.json")
    assert r.status_code == 200
    assert r.json() == json.loads(openapi_check.SPEC_PATH.read_text())


def test_spec_has_what_clients_need():
    doc = json.loads(openapi_check.SPEC_PATH.read_text())
    assert doc["info"].get("license", {}).get("name")
    ops = [(p, m, op) for p, item in doc["paths"].items() for m, op in item.items()
           if m in openapi_check.METHODS]
    assert [f"{m} {p}" for p, m, op in ops if "operationId" not in op] == []
    assert len({op["operationId"] for _, _, op in ops}) == len(ops), "operationIds repeat"
    created = doc["paths"]["/api/v1/hiveboxes"]["post"]["responses"]["201"]["content"][
        "application/json"]["schema"]
    assert "mcp_token" in json.dumps(created) or "mcp_token" in \
        doc["components"]["schemas"]["Created"]["properties"]
    mcp = doc["paths"]["/api/v1/hiveboxes/{id}/mcp"]
    assert {"post", "delete"} <= set(mcp)
    assert {"get", "put", "head"} <= set(doc["paths"]["/api/v1/hiveboxes/{id}/files/archive"])


def test_the_check_refuses_answers_that_drift():
    s = openapi_check.spec()
    ok = {"id": "x", "status": "running", "image": "base", "created_at": "2025-01-01T00:00:00Z",
          "network": {"mode": "none", "ip": None}, "limits": {"memory": "512m", "cpus": 1.0,
                                                                "pids": 128},
          "expires_at": "2025-01-01T01:00:00Z", "mcp_token": "t", "a_new_field": 1}
    assert s.check("POST", "/api/v1/hiveboxes", 201, "application/json",
                   json.dumps(ok).encode()) is None
    no_token = {k: v for k, v in ok.items() if k != "mcp_token"}
    assert "mcp_token" in s.check("POST", "/api/v1/hiveboxes", 201, "application/json",
                                  json.dumps(no_token).encode())
    assert "not documented" in s.check("GET", "/api/v1/hiveboxes/x", 418, "application/json",
                                       b"{}")
    assert "does not match" in s.check("GET", "/api/v1/hiveboxes/x/files/list", 404,
                                       "application/json", b'{"error": 7}')
    assert s.check("GET", "/api/v1/hiveboxes/x/opencode/session/a/b", 200, "text/plain",
                   b"anything") is None
    assert s.check("GET", "/api/v1/no/such/route", 404, "application/json", b"[]") is None
