"""GET /api/v1/hiveboxes from rows the manager keeps rendered (issue 19,
gateway/list_row.c): a row is rendered again only when its sandbox's
description changes, so every change a client can make or cause must reach
the list: create, exec (commands_executed), a new timeout (ttl_seconds),
pause and resume (status, paused_at), disk use (disk_bytes, from the usage
reports), the init dying (failed), destroy. Each step compares the row
with GET /:id, which is rendered fresh from the supervisor's answer."""
import os

import hbtest

API = "/api/v1/hiveboxes"

# The members a row shares with GET /:id, and the GET member they mirror.
SAME = {"id": "id", "status": "status", "image": "image", "commands_executed":
        "commands_executed", "metadata": "metadata", "env_names": "env_names",
        "auto_resume": "auto_resume", "on_timeout": "on_timeout"}


def row_of(client, sid):
    body = client.list()
    assert body["total"] == len(body["sandboxes"])
    rows = [s for s in body["sandboxes"] if s["id"] == sid]
    return rows[0] if rows else None


def assert_row_matches(client, sid):
    row, info = row_of(client, sid), client.info(sid)
    assert row, f"{sid} not listed"
    for r, g in SAME.items():
        assert row.get(r) == info.get(g), (r, row.get(r), info.get(g))
    assert row["memory"] == info["limits"]["memory"] and row["cpus"] == info["limits"]["cpus"]
    assert row["network"] == info["network"]["mode"] and row["ip"] == info["network"]["ip"]
    assert row.get("paused_at") == info.get("paused_at")
    assert row.get("failure_reason") == info.get("failure_reason")
    assert abs(row["ttl_seconds"] - info["ttl_seconds"]) <= 2
    assert abs(row["uptime_seconds"] - info["uptime_seconds"]) <= 2
    return row


def test_row_follows_every_change(client, sandbox):
    sb = sandbox(memory="64m", metadata={"who": "list \"rows\" é"}, env={"SECRET_X": "v"})
    row = assert_row_matches(client, sb.id)
    assert row["metadata"] == {"who": "list \"rows\" é"} and row["env_names"] == ["SECRET_X"]

    for _ in range(3):
        sb.exec("true")
    hbtest.wait_until(lambda: row_of(client, sb.id)["commands_executed"] == 3, 15, 0.1,
                      "commands_executed to reach 3 in the list")
    assert_row_matches(client, sb.id)

    r = client.post(f"{API}/{sb.id}/timeout", json={"timeout": 7200})
    assert r.status_code == 200, r.text
    hbtest.wait_until(lambda: row_of(client, sb.id)["ttl_seconds"] > 3600, 10, 0.1,
                      "the new expiry in the list")
    assert_row_matches(client, sb.id)

    r = client.post(f"{API}/{sb.id}/pause")
    assert r.status_code == 200, r.text
    hbtest.wait_until(lambda: row_of(client, sb.id)["status"] == "paused", 10, 0.1,
                      "paused in the list")
    assert row_of(client, sb.id)["paused_at"]
    assert_row_matches(client, sb.id)
    r = client.post(f"{API}/{sb.id}/resume")
    assert r.status_code == 200, r.text
    hbtest.wait_until(lambda: row_of(client, sb.id)["status"] == "running", 10, 0.1,
                      "running again in the list")
    assert "paused_at" not in row_of(client, sb.id)
    assert_row_matches(client, sb.id)


def test_row_shows_disk_use_from_the_usage_reports(client, sandbox):
    sb = sandbox(memory="64m")
    before = row_of(client, sb.id)["disk_bytes"]
    sb.sh("head -c 20000000 /dev/urandom > /root/blob && sync")
    # The list shows the last usage report (every 10 s while active).
    hbtest.wait_until(lambda: row_of(client, sb.id)["disk_bytes"] >= before + 16_000_000, 60, 1,
                      "the written file in the list's disk_bytes")


def test_row_of_a_failed_sandbox_then_gone(client, sandbox):
    sb = sandbox(memory="64m")
    init = hbtest.init_host_pid(sb.id)
    assert init
    os.kill(init, 9)
    hbtest.wait_until(lambda: row_of(client, sb.id)["status"] == "failed", 15, 0.1,
                      "failed in the list")
    row = assert_row_matches(client, sb.id)
    assert row["failure_reason"] and row["failed_at"]
    assert client.delete(f"{API}/{sb.id}").status_code == 200
    assert row_of(client, sb.id) is None


def test_rows_in_created_order_and_filtered(client, sandbox):
    mark = os.urandom(4).hex()
    made = [sandbox(memory="64m", metadata={"mark": mark, "n": str(i)}) for i in range(3)]
    mine = {m.id for m in made}
    want = [m.id for m in sorted(made, key=lambda m: (m.info["created_at"], m.id))]
    assert [s["id"] for s in client.list()["sandboxes"] if s["id"] in mine] == want
    r = client.get(API, params={"metadata": f"mark={mark}&n=1"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == 1 and [s["id"] for s in body["sandboxes"]] == [made[1].id]
    r = client.get(API, params={"metadata": "mark=nobody-" + mark})
    assert r.status_code == 200 and r.json() == {"sandboxes": [], "total": 0}
