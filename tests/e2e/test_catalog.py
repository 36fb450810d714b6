"""The create form's choices: GET /api/v1/images (the manager's images and
the default image's build state) and GET /api/v1/skills (the skills dir, as
create's `skills` field sees it): auth, methods, what is listed, and that a
hostile skills dir is listed safely."""
import os
import re
import secrets
import stat

import pytest
import requests

from conftest import shutdown_daemon
from hbtest import Daemon

NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$")


@pytest.mark.parametrize("path", ["/api/v1/images", "/api/v1/skills"])
def test_catalog_needs_the_key(daemon, path):
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        r = requests.get(daemon.url + path, headers=headers, timeout=10)
        assert r.status_code == 401, (path, headers, r.status_code)
        assert r.headers.get("WWW-Authenticate", "").startswith("Bearer")


@pytest.mark.parametrize("path", ["/api/v1/images", "/api/v1/skills", "/api/v1/skills/"])
def test_catalog_is_read_only(client, path):
    # POST /api/v1/images makes an image (an archive import or a build:
    # test_oci_import.py, test_image_build.py); nothing else writes here.
    methods = ("PUT", "DELETE") if path == "/api/v1/images" else ("POST", "PUT", "DELETE")
    for method in methods:
        r = client.request(method, path, json={})
        assert r.status_code == 405, (method, path, r.status_code, r.text[:200])
        assert isinstance(r.json().get("error"), str)


def test_images_lists_base_ready(client):
    r = client.get("/api/v1/images")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["truncated"] is False
    names = [i["name"] for i in body["images"]]
    assert "base" in names, body
    base = body["images"][names.index("base")]
    assert base["ready"] is True and base["state"] == "ready", base
    assert "progress" not in base
    assert isinstance(base.get("created_at", 0), int)
    for i in body["images"]:
        assert NAME.match(i["name"]), i
    # what is listed ready is what create accepts
    assert client.get("/api/v1/images/").status_code == 200


def test_skills_missing_dir_is_an_empty_list(client):
    r = client.get("/api/v1/skills")
    assert r.status_code == 200, r.text
    body = r.json()
    # the session daemon has no skills dir (<data-dir>/skills is never made)
    assert body["skills"] == [] and body["state"] == "missing", body
    assert body["path"].endswith("/skills") and body["truncated"] is False
    assert isinstance(body["opencode"], bool)


def _make_skills(root):
    skills = root / "skills"
    (skills / "pdf").mkdir(parents=True)
    (skills / "docx").mkdir()
    (skills / "pdf" / "SKILL.md").write_text(
        "---\nname: pdf\ndescription: \"Work with PDF files (e2e)\"\n---\n# PDF\n")
    # a description with terminal escapes, a NUL-free control soup and no end
    (skills / "docx" / "SKILL.md").write_bytes(
        b"---\ndescription: Docs \x1b[31mred\x07 " + b"x" * 2000 + b"\n---\n")
    # hostile or unusable entries: none can be named by create, none is listed
    for bad in ("-dash", ".hidden", "a b", "new\nline", "semi;colon", "\u00e9t\u00e9",
                "x" * 64, "<script>"):
        (skills / bad).mkdir()
    (skills / "notes.txt").write_text("not a skill\n")
    (skills / "brokenlink").symlink_to(skills / "no-such-dir")
    for p in [skills, *skills.rglob("*")]:
        if not p.is_symlink():
            p.chmod(p.stat().st_mode | stat.S_IROTH | (stat.S_IXOTH if p.is_dir() else 0))
    return skills


@pytest.fixture(scope="module")
def skills_daemon(e2e_tmp):
    root = e2e_tmp / ("catalog-" + secrets.token_hex(3))
    root.mkdir()
    skills = _make_skills(root)
    d = Daemon(root, name="daemon", extra_env={"HIVEBOX_OPENCODE_SKILLS_PATH": str(skills)})
    d.start()
    yield d, skills
    shutdown_daemon(d)
    d.assert_no_sanitizer_reports()


def test_skills_lists_the_dir_safely(skills_daemon):
    d, skills = skills_daemon
    c = d.client()
    try:
        r = c.get("/api/v1/skills")
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["state"] == "ok" and body["path"] == str(skills), body
        assert body["truncated"] is False
        assert [s["name"] for s in body["skills"]] == ["docx", "pdf"], body
        by = {s["name"]: s for s in body["skills"]}
        assert by["pdf"]["description"] == "Work with PDF files (e2e)"
        desc = by["docx"]["description"]
        assert desc.startswith("Docs [31mred x") and len(desc) <= 300, desc
        assert all(0x20 <= ord(ch) < 0x7f for ch in desc), desc
        # the names listed are exactly what create accepts ...
        info = c.create(skills=[s["name"] for s in body["skills"]])
        try:
            r = c.get(f"/api/v1/hiveboxes/{info['id']}")
            assert r.status_code == 200
        finally:
            c.destroy(info["id"])
        # ... and what was skipped, create refuses
        for bad in ("-dash", "a b", "notes.txt", "brokenlink"):
            r = c.post("/api/v1/hiveboxes", json={"skills": [bad]})
            assert r.status_code == 400, (bad, r.status_code, r.text[:200])
    finally:
        c.close()
