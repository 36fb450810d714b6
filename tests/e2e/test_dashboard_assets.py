"""GET /dashboard: the browser dashboard's files, served by the daemon with no
key (every API call the page makes needs one). The session daemon serves the
copy embedded at build time; one test starts a daemon with --webui-dir to
check the from-disk mode a UI developer uses.

Checked: Content-Types, strong ETags and 304, gzip round trips, the CSP and
the other security headers, traversal and unknown names (404), methods other
than GET/HEAD (405), every file index.html and the JavaScript modules it
loads reference, and the API still refusing a request without the key."""
import gzip
import http.client
import re
import secrets
import shutil
import signal
import subprocess
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import requests

from hbtest import BUILD, Daemon

REPO = Path(__file__).resolve().parents[2]
WEBUI = REPO / "webui"

CSP_DIRECTIVES = {
    "default-src": "'self'", "script-src": "'self'", "connect-src": "'self'",
    "frame-ancestors": "'none'", "base-uri": "'none'", "object-src": "'none'",
    "form-action": "'self'",
}
TYPES = {".html": "text/html", ".js": "text/javascript", ".mjs": "text/javascript",
         ".css": "text/css", ".svg": "image/svg+xml", ".png": "image/png",
         ".woff2": "font/woff2", ".json": "application/json"}


def vendor_names():
    names = []
    for line in (WEBUI / "vendor.txt").read_text().splitlines():
        parts = line.split()
        if parts and not parts[0].startswith("#"):
            names.append(parts[0])
    return names


def src_names():
    return sorted(str(p.relative_to(WEBUI / "src")) for p in (WEBUI / "src").rglob("*")
                  if p.is_file() and not p.name.startswith("."))


def get(daemon, path, **kw):
    kw.setdefault("timeout", 10)
    return requests.get(daemon.url + path, **kw)


def raw_get(daemon, path, method="GET", headers=None):
    """A request with the path sent byte for byte (no client-side
    normalisation); (status, headers, body)."""
    u = urlsplit(daemon.url)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    try:
        c.putrequest(method, path, skip_accept_encoding=True)
        for k, v in (headers or {}).items():
            c.putheader(k, v)
        c.endheaders()
        r = c.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        c.close()


def csp_of(headers):
    out = {}
    for part in headers["Content-Security-Policy"].split(";"):
        words = part.split()
        if words:
            out[words[0]] = " ".join(words[1:])
    return out


def check_security_headers(h, where):
    csp = csp_of(h)
    for k, v in CSP_DIRECTIVES.items():
        assert csp.get(k) == v, f"{where}: CSP {k} is {csp.get(k)!r}, want {v!r}"
    assert "'unsafe-inline'" not in csp["script-src"] and "unsafe-eval" not in h[
        "Content-Security-Policy"], where
    assert h.get("X-Content-Type-Options") == "nosniff", where
    assert h.get("Referrer-Policy") == "no-referrer", where


# ---------------------------------------------------------------- embedded

def test_index_with_no_key_and_its_headers(daemon):
    for path in ("/dashboard", "/dashboard/", "/dashboard/index.html"):
        r = get(daemon, path)
        assert r.status_code == 200, path
        assert r.headers["Content-Type"] == "text/html; charset=utf-8"
        assert "<html" in r.text and 'type="module"' in r.text
        assert r.headers["Cache-Control"] == "no-cache"
        assert re.fullmatch(r'"[0-9a-f]{16,}(-gz)?"', r.headers["ETag"]), r.headers["ETag"]
        check_security_headers(r.headers, path)
    assert get(daemon, "/dashboard").content == get(daemon, "/dashboard/index.html").content


def test_every_file_is_served_with_its_type(daemon):
    names = src_names() + ["vendor/" + n for n in vendor_names()]
    assert "index.html" in names and "vendor/xterm.mjs" in names
    for name in names:
        r = get(daemon, "/dashboard/" + name, headers={"Accept-Encoding": "identity"})
        assert r.status_code == 200, name
        ext = Path(name).suffix
        assert r.headers["Content-Type"].split(";")[0] == TYPES[ext], name
        if not name.startswith("vendor/"):
            assert r.content == (WEBUI / "src" / name).read_bytes(), f"{name}: not the source's bytes"
        check_security_headers(r.headers, name)


def _refs(base_url, text, is_html):
    pats = ([r'\b(?:src|href)="([^"]+)"'] if is_html else
            [r'(?:^|;)\s*(?:import|export)\s[^\'";]*?\bfrom\s*[\'"]([^\'"]+)[\'"]',
             r'\bimport\s*\(\s*[\'"]([^\'"]+)[\'"]\s*\)',
             r'^\s*import\s*[\'"]([^\'"]+)[\'"]'])
    out = set()
    for p in pats:
        for m in re.finditer(p, text, re.M):
            ref = m.group(1)
            if ref.startswith(("data:", "#", "mailto:")):
                continue
            out.add(urlsplit(urljoin(base_url, ref)).path)
    return out


def test_everything_index_html_loads_is_served(daemon):
    """index.html's links and scripts, then every module those scripts
    import, transitively: each must be served (a typo here is a blank page)."""
    seen, todo = set(), ["/dashboard/"]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        r = get(daemon, path)
        assert r.status_code == 200, f"{path} is referenced but answers {r.status_code}"
        ctype = r.headers["Content-Type"]
        if path.startswith("/dashboard/vendor/"):
            continue   # third-party bundles: self-contained (checked when pinned)
        if ctype.startswith("text/html") or ctype.startswith("text/javascript"):
            for ref in _refs(daemon.url + path, r.text, ctype.startswith("text/html")):
                assert ref.startswith("/dashboard/"), f"{path} loads {ref}: not from /dashboard/"
                todo.append(ref)
    assert "/dashboard/js/main.js" in seen and "/dashboard/js/api.js" in seen


def test_etag_and_304(daemon):
    for accept in ("identity", "gzip"):
        r = get(daemon, "/dashboard/js/api.js", headers={"Accept-Encoding": accept})
        tag = r.headers["ETag"]
        again = get(daemon, "/dashboard/js/api.js", headers={"Accept-Encoding": accept,
                                                              "If-None-Match": tag})
        assert again.status_code == 304 and again.content == b""
        assert again.headers["ETag"] == tag
        listed = get(daemon, "/dashboard/js/api.js", headers={
            "Accept-Encoding": accept, "If-None-Match": f'"nope", {tag}'})
        assert listed.status_code == 304
        other = get(daemon, "/dashboard/js/api.js", headers={"Accept-Encoding": accept,
                                                              "If-None-Match": '"stale"'})
        assert other.status_code == 200 and other.content == r.content
    # The two representations have different strong tags; index.html another.
    ident = get(daemon, "/dashboard/js/api.js", headers={"Accept-Encoding": "identity"})
    gz = get(daemon, "/dashboard/js/api.js", headers={"Accept-Encoding": "gzip"})
    assert ident.headers["ETag"] != gz.headers["ETag"]
    assert ident.headers["ETag"] != get(daemon, "/dashboard/").headers["ETag"]


def test_gzip_round_trip(daemon):
    for name in ["js/api.js", "vendor/xterm.mjs", "vendor/xterm.css"]:
        st, h, plain = raw_get(daemon, "/dashboard/" + name, headers={"Accept-Encoding": "identity"})
        assert st == 200 and "content-encoding" not in h
        assert h["vary"] == "Accept-Encoding"
        st, h, packed = raw_get(daemon, "/dashboard/" + name,
                                headers={"Accept-Encoding": "br;q=1.0, gzip;q=0.8"})
        assert st == 200 and h["content-encoding"] == "gzip", name
        assert h["vary"] == "Accept-Encoding"
        assert int(h["content-length"]) == len(packed) < len(plain)
        assert gzip.decompress(packed) == plain, name
    # q=0 refuses it.
    st, h, _ = raw_get(daemon, "/dashboard/js/api.js", headers={"Accept-Encoding": "gzip;q=0"})
    assert st == 200 and "content-encoding" not in h


def test_head(daemon):
    st, h, body = raw_get(daemon, "/dashboard/vendor/xterm.mjs", method="HEAD")
    full = get(daemon, "/dashboard/vendor/xterm.mjs", headers={"Accept-Encoding": "identity"})
    assert st == 200 and body == b""
    assert int(h["content-length"]) == len(full.content)
    assert h["etag"] == full.headers["ETag"]


@pytest.mark.parametrize("path", [
    "/dashboard/nope.js", "/dashboard/js/nope.js", "/dashboard/vendor/nope.mjs",
    "/dashboard/vendor/", "/dashboard/js", "/dashboard/js/", "/dashboard/index.html/",
    "/dashboard/%2e%2e/%2e%2e/etc/passwd", "/dashboard/js/..%2f..%2f..%2fetc%2fpasswd",
    "/dashboard/..%5c..%5cetc%5cpasswd", "/dashboard/vendor/..%2f..%2fpackage.json",
    "/dashboard/vendor/../../../etc/passwd", "/dashboard/vendor/xterm.mjs/x",
    "/dashboard/.hidden", "/dashboard/%0a",
])
def test_unknown_and_traversal_are_404(daemon, path):
    st, h, body = raw_get(daemon, path)
    # civetweb decodes and folds dot segments first: what lands outside
    # /dashboard is the API's (401) or nothing's (404, JSON).
    assert st in (404, 401), f"{path}: {st}"
    assert b"root:" not in body and b"dependencies" not in body
    if h["content-type"].startswith("text/plain"):   # the dashboard's own 404
        assert h.get("x-content-type-options") == "nosniff"


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
def test_other_methods_are_405(daemon, method):
    r = requests.request(method, daemon.url + "/dashboard/index.html", timeout=10, data=b"x")
    assert r.status_code == 405
    assert r.headers["Allow"] == "GET, HEAD"


def test_the_api_still_needs_the_key(daemon):
    assert get(daemon, "/api/v1/hiveboxes").status_code == 401
    # A dashboard-looking Referer or path prefix grants nothing.
    assert get(daemon, "/api/v1/hiveboxes", headers={"Referer": daemon.url + "/dashboard/"}
               ).status_code == 401
    st, _, _ = raw_get(daemon, "/dashboard/../api/v1/hiveboxes")
    assert st == 401
    r = get(daemon, "/api/v1/hiveboxes", headers={"Authorization": "Bearer " + daemon.key})
    assert r.status_code == 200


# ---------------------------------------------------------------- --webui-dir

@pytest.fixture
def webui_copy(e2e_tmp):
    """A throw-away webui/: src (copied), vendor.txt, node_modules with one file."""
    root = e2e_tmp / ("webui-" + secrets.token_hex(3))
    shutil.copytree(WEBUI / "src", root / "src")
    (root / "node_modules" / "pkg").mkdir(parents=True)
    (root / "node_modules" / "pkg" / "lib.mjs").write_text("export const x = 1;\n")
    (root / "vendor.txt").write_text("# comment\nlib.mjs pkg/lib.mjs\nescape.mjs ../../outside.mjs\n")
    (root.parent / "outside.mjs").write_text("export const secret = 'outside';\n")
    (root / "outside-src.txt").write_text("not under src\n")
    (root / "src" / "leak.txt").symlink_to(root / "outside-src.txt")
    (root / "src" / "passwd.txt").symlink_to("/etc/passwd")
    yield root
    shutil.rmtree(root, ignore_errors=True)


def test_webui_dir_serves_from_disk_without_a_rebuild(private_daemon, webui_copy):
    d = private_daemon(extra_args=["--webui-dir", str(webui_copy / "src")])
    r = get(d, "/dashboard/")
    assert r.status_code == 200 and r.content == (webui_copy / "src" / "index.html").read_bytes()
    check_security_headers(r.headers, "--webui-dir index")
    tag = r.headers["ETag"]
    # An edit shows on the next request, with a new tag; the old one no longer matches.
    (webui_copy / "src" / "index.html").write_text("<!doctype html><html>edited</html>\n")
    r2 = get(d, "/dashboard/", headers={"If-None-Match": tag})
    assert r2.status_code == 200 and "edited" in r2.text and r2.headers["ETag"] != tag
    assert get(d, "/dashboard/", headers={"If-None-Match": r2.headers["ETag"]}).status_code == 304
    v = get(d, "/dashboard/vendor/lib.mjs")
    assert v.status_code == 200 and v.text == "export const x = 1;\n"
    assert v.headers["Content-Type"].startswith("text/javascript")
    big = get(d, "/dashboard/js/api.js", headers={"Accept-Encoding": "gzip"})
    assert big.headers.get("Content-Encoding") == "gzip"
    assert big.content == (webui_copy / "src" / "js" / "api.js").read_bytes()   # requests gunzips
    for path in ("/dashboard/leak.txt", "/dashboard/passwd.txt", "/dashboard/vendor/escape.mjs",
                 "/dashboard/vendor/pkg/lib.mjs", "/dashboard/vendor/nope.mjs",
                 "/dashboard/%2e%2e/outside-src.txt", "/dashboard/js"):
        st, _, body = raw_get(d, path)
        assert st in (401, 404), path
        assert b"root:" not in body and b"export const secret" not in body, path
        assert b"not under src" not in body, path
    assert requests.post(d.url + "/dashboard/", timeout=10).status_code == 405


def test_webui_dir_must_hold_an_index(e2e_tmp):
    root = e2e_tmp / ("badwebui-" + secrets.token_hex(3))
    (root / "empty").mkdir(parents=True)
    d = Daemon(root, name="daemon", extra_args=["--webui-dir", str(root / "empty")])
    with pytest.raises(RuntimeError, match="no readable index.html"):
        d.start(timeout=30)
    d.stop(signal.SIGKILL)
    subprocess.run(["umount", "-l", str(d.data_dir / "sandboxes")], capture_output=True)
