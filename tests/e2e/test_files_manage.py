"""File management routes: list one level with metadata, mkdir, move,
delete (recursive too), their errors, and that none of them is a command
(they go to the sandbox's init, not through exec)."""
import secrets
import stat
import threading
import time

import pytest
import requests

API = "/api/v1/hiveboxes"


def error_of(r):
    body = r.json()
    assert isinstance(body.get("error"), str) and body["error"], body
    return body["error"]


@pytest.fixture(scope="module")
def sb(module_sandbox):
    return module_sandbox()


def url(sb, tail=""):
    return f"{API}/{sb.id}/files{tail}"


def fresh(sb):
    d = "/root/fm-" + secrets.token_hex(4)
    sb.sh(f"mkdir -p {d}")
    return d


def commands_run(sb):
    """The sandbox's command count once it has settled: an exec is counted
    when the supervisor hears it ended, which can be just after its reply."""
    last = sb.client.info(sb.id)["commands_executed"]
    for _ in range(20):
        time.sleep(0.5)
        now = sb.client.info(sb.id)["commands_executed"]
        if now == last:
            break
        last = now
    return last


def listing(sb, path, recursive=None):
    params = {"path": path}
    if recursive is not None:
        params["recursive"] = recursive
    r = sb.client.get(url(sb, "/list"), params=params)
    assert r.status_code == 200, r.text
    return r.json()


def exists(sb, path):
    return sb.exec(f"test -e {path} || test -L {path}")["exit_code"] == 0


# ---------------------------------------------------------------- list

def test_list_one_level_with_metadata(sb):
    d = fresh(sb)
    sb.sh(f"mkdir -p {d}/sub/deeper && printf 12345 > {d}/f && chmod 0640 {d}/f && "
          f"chown 1234:2345 {d}/f && touch -d @1700000000 {d}/f && ln -s /etc {d}/ln")
    body = listing(sb, d, "false")
    ents = {e["name"]: e for e in body["entries"]}
    assert set(ents) == {"f", "sub", "ln"}, ents      # not sub/deeper: one level
    assert body["total"] == 3
    f = ents["f"]
    assert f["entry_type"] == "file" and f["size"] == 5
    assert f["mode"] == stat.S_IFREG | 0o640, oct(f["mode"])
    assert (f["uid"], f["gid"], f["mtime"]) == (1234, 2345, 1700000000)
    assert stat.S_ISDIR(ents["sub"]["mode"]) and ents["sub"]["entry_type"] == "directory"
    assert stat.S_ISLNK(ents["ln"]["mode"]) and ents["ln"]["entry_type"] == "symlink"
    # The default stays recursive (the seed's behaviour), with the same fields.
    deep = {e["path"]: e for e in listing(sb, d)["entries"]}
    assert f"{d}/sub/deeper" in deep and "mode" in deep[f"{d}/sub/deeper"]
    assert {e["path"] for e in listing(sb, d, "true")["entries"]} == set(deep)


def test_list_recursive_must_be_a_boolean(sb):
    r = sb.client.get(url(sb, "/list"), params={"path": "/root", "recursive": "maybe"})
    assert r.status_code == 400 and "recursive" in error_of(r)


# ---------------------------------------------------------------- mkdir

def test_mkdir(sb):
    d = fresh(sb)
    r = sb.client.post(url(sb, "/mkdir"), params={"path": f"{d}/new"})
    assert r.status_code == 201, r.text
    assert r.json() == {"path": f"{d}/new"}
    assert sb.sh(f"stat -c %F {d}/new").strip() == "directory"
    # exists: 409, with or without parents
    for params in ({"path": f"{d}/new"}, {"path": f"{d}/new", "parents": "true"}):
        r = sb.client.post(url(sb, "/mkdir"), params=params)
        assert r.status_code == 409, r.text
        assert "exists" in error_of(r)
    # a missing parent: 404 naming parents=true; with it, made
    r = sb.client.post(url(sb, "/mkdir"), params={"path": f"{d}/a/b/c"})
    assert r.status_code == 404 and "parents" in error_of(r)
    r = sb.client.post(url(sb, "/mkdir"), params={"path": f"{d}/a/b/c", "parents": "true"})
    assert r.status_code == 201, r.text
    assert exists(sb, f"{d}/a/b/c")


@pytest.mark.parametrize("params,field", [({}, "path"), ({"path": "rel"}, "path"),
                                          ({"path": "/"}, "path"), ({"path": "/./"}, "path"),
                                          ({"path": "/root/x", "parents": "yes"}, "parents")])
def test_mkdir_bad_input(sb, params, field):
    r = sb.client.post(url(sb, "/mkdir"), params=params)
    assert r.status_code == 400, r.text
    assert error_of(r).startswith(field), error_of(r)


def test_mkdir_wrong_method(sb):
    assert sb.client.get(url(sb, "/mkdir"), params={"path": "/root/x"}).status_code == 405


# ---------------------------------------------------------------- move

def move(sb, body):
    return sb.client.post(url(sb, "/move"), json=body)


def test_move_file_and_directory(sb):
    d = fresh(sb)
    sb.sh(f"printf abc > {d}/a && mkdir -p {d}/dir/in && printf x > {d}/dir/in/f")
    r = move(sb, {"from": f"{d}/a", "to": f"{d}/b"})
    assert r.status_code == 200, r.text
    assert r.json() == {"path": f"{d}/b"}
    assert not exists(sb, f"{d}/a") and sb.sh(f"cat {d}/b") == "abc"
    r = move(sb, {"from": f"{d}/dir", "to": f"{d}/moved"})
    assert r.status_code == 200, r.text
    assert sb.sh(f"cat {d}/moved/in/f") == "x"


def test_move_conflicts_and_overwrite(sb):
    d = fresh(sb)
    sb.sh(f"printf one > {d}/a && printf two > {d}/b")
    r = move(sb, {"from": f"{d}/a", "to": f"{d}/b"})
    assert r.status_code == 409 and error_of(r).startswith("to"), r.text
    r = move(sb, {"from": f"{d}/a", "to": f"{d}/b", "overwrite": False})
    assert r.status_code == 409
    assert sb.sh(f"cat {d}/b") == "two"
    r = move(sb, {"from": f"{d}/a", "to": f"{d}/b", "overwrite": True})
    assert r.status_code == 200, r.text
    assert sb.sh(f"cat {d}/b") == "one" and not exists(sb, f"{d}/a")


def test_move_missing_from_is_404(sb):
    d = fresh(sb)
    r = move(sb, {"from": f"{d}/nope", "to": f"{d}/x"})
    assert r.status_code == 404 and error_of(r).startswith("from"), r.text


@pytest.mark.parametrize("body,field", [
    ({"to": "/root/x"}, "from"),
    ({"from": "/root/x"}, "to"),
    ({"from": 3, "to": "/root/x"}, "from"),
    ({"from": "rel", "to": "/root/x"}, "from"),
    ({"from": "/root/x", "to": ""}, "to"),
    ({"from": "/", "to": "/root/x"}, "from"),
    ({"from": "/root/x", "to": "/root/x/y"}, "to"),
    ({"from": "/root/x", "to": "/root/x/"}, "to"),
    ({"from": "/root/x", "to": "/root/y", "overwrite": "yes"}, "overwrite"),
    ({"from": "/root/x", "to": "/root/y", "force": True}, "force"),
])
def test_move_bad_input(sb, body, field):
    r = move(sb, body)
    assert r.status_code == 400, r.text
    assert error_of(r).startswith(field), error_of(r)


def test_move_body_not_json(sb):
    r = sb.client.post(url(sb, "/move"), data=b"{nope", headers={"Content-Type": "application/json"})
    assert r.status_code == 400


# ---------------------------------------------------------------- delete

def delete(sb, path, **params):
    return sb.client.delete(url(sb), params=dict(path=path, **params))


def test_delete_file_and_empty_dir(sb):
    d = fresh(sb)
    sb.sh(f"printf x > {d}/f && mkdir {d}/empty")
    r = delete(sb, f"{d}/f")
    assert r.status_code == 204 and r.content == b""
    r = delete(sb, f"{d}/empty")
    assert r.status_code == 204
    assert not exists(sb, f"{d}/f") and not exists(sb, f"{d}/empty")
    r = delete(sb, f"{d}/f")
    assert r.status_code == 404 and error_of(r).startswith("path")


def test_delete_non_empty_needs_recursive(sb):
    d = fresh(sb)
    sb.sh(f"mkdir -p {d}/t/a/b && printf x > {d}/t/a/b/f && printf y > {d}/t/g")
    r = delete(sb, f"{d}/t")
    assert r.status_code == 409 and "recursive" in error_of(r), r.text
    assert exists(sb, f"{d}/t/a/b/f")
    r = delete(sb, f"{d}/t", recursive="true")
    assert r.status_code == 204, r.text
    assert not exists(sb, f"{d}/t")


@pytest.mark.parametrize("params,field", [({}, "path"), ({"path": "/"}, "path"),
                                          ({"path": "/root/.."}, "path"),
                                          ({"path": "/", "recursive": "true"}, "path"),
                                          ({"path": "/root/x", "recursive": "2"}, "recursive")])
def test_delete_bad_input(sb, params, field):
    r = sb.client.delete(url(sb), params=params)
    assert r.status_code == 400, r.text
    assert error_of(r).startswith(field), error_of(r)
    assert exists(sb, "/etc/hostname") and exists(sb, "/root")


def test_delete_symlink_to_etc_removes_the_link_only(sb):
    d = fresh(sb)
    # A link whose target looks like a host path: inside the sandbox /etc is
    # the sandbox's own, and it must survive both kinds of delete.
    sb.sh(f"ln -s /etc {d}/etc-link && mkdir -p {d}/tree/sub && ln -s /etc {d}/tree/sub/l "
          f"&& ln -s /etc/hostname {d}/tree/h")
    before = sb.sh("ls /etc | wc -l").strip()
    r = delete(sb, f"{d}/etc-link")
    assert r.status_code == 204, r.text
    assert not exists(sb, f"{d}/etc-link")
    r = delete(sb, f"{d}/tree", recursive="true")
    assert r.status_code == 204, r.text
    assert not exists(sb, f"{d}/tree")
    assert sb.sh("ls /etc | wc -l").strip() == before
    assert exists(sb, "/etc/hostname") and exists(sb, "/etc/passwd")
    # a link to a directory given with recursive: still only the link
    sb.sh(f"ln -s /etc {d}/again")
    assert delete(sb, f"{d}/again", recursive="true").status_code == 204
    assert exists(sb, "/etc/passwd")


@pytest.mark.once("its time goes to the shell making 10,000 files; recursive deletes run under ASan in the smaller tests")
def test_delete_10000_files_recursively_daemon_stays_responsive(sb, daemon):
    d = fresh(sb)
    sb.sh(f"cd {d} && mkdir -p big && cd big && for i in $(seq 0 99); do mkdir d$i; done && "
          "for i in $(seq 0 99); do (cd d$i && seq 0 99 | xargs touch); done && "
          "mkdir -p deep && cd deep && for i in $(seq 1 60); do mkdir n && cd n; done && touch leaf",
          timeout=300)
    assert sb.sh(f"find {d}/big -type f | wc -l").strip() == "10001"
    done = {}

    def run():
        done["r"] = delete(sb, f"{d}/big", recursive="true")

    t = threading.Thread(target=run)
    t.start()
    probes = 0
    while t.is_alive() and probes < 200:
        r = requests.get(daemon.url + "/healthz", timeout=5)
        assert r.status_code == 200
        probes += 1
        time.sleep(0.02)
    t.join(timeout=300)
    assert done["r"].status_code == 204, done["r"].text
    assert not exists(sb, f"{d}/big")
    assert requests.get(daemon.url + "/healthz", timeout=5).status_code == 200


# ---------------------------------------------------------------- not commands

def test_file_routes_are_not_commands(sb):
    d = fresh(sb)
    before = commands_run(sb)
    c = sb.client
    c.expect(c.get(url(sb, "/list"), params={"path": d, "recursive": "false"}), 200)
    c.expect(c.post(url(sb, "/mkdir"), params={"path": f"{d}/x"}), 201)
    c.expect(move(sb, {"from": f"{d}/x", "to": f"{d}/y"}), 200)
    c.expect(delete(sb, f"{d}/y"), 204)
    assert commands_run(sb) == before


# ---------------------------------------------------------------- PUT keeps mode and owner

def test_put_keeps_mode_and_owner_of_the_file_it_replaces(sb):
    d = fresh(sb)
    sb.sh(f"printf old > {d}/run.sh && chown 1000:1001 {d}/run.sh && chmod 4750 {d}/run.sh")
    r = sb.client.put(url(sb), params={"path": f"{d}/run.sh"}, data=b"new")
    assert r.status_code == 200, r.text
    assert sb.sh(f"stat -c '%a %u:%g' {d}/run.sh").strip() == "4750 1000:1001"
    assert sb.sh(f"cat {d}/run.sh") == "new"
    # a new file is 0644 and root's, as before
    sb.client.expect(sb.client.put(url(sb), params={"path": f"{d}/fresh"}, data=b"x"), 200)
    assert sb.sh(f"stat -c '%a %u:%g' {d}/fresh").strip() == "644 0:0"
    # a symlink is replaced by a file of its own (0644), its target untouched
    sb.sh(f"ln -s /etc/hostname {d}/ln")
    mode = sb.sh("stat -c %a /etc/hostname").strip()
    sb.client.expect(sb.client.put(url(sb), params={"path": f"{d}/ln"}, data=b"y"), 200)
    assert sb.sh(f"stat -c '%F %a' {d}/ln").strip() == "regular file 644"
    assert sb.sh("stat -c %a /etc/hostname").strip() == mode
