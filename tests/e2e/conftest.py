"""Fixtures for the end-to-end suites: one real `hivebox daemon` per session
(root, loopback, a throw-away data dir whose images/base points at the image
CI built once), an API client, a sandbox factory that always cleans up, and
a private daemon for the restart and storm tests.

Nothing is skipped silently: not root, no binary or no base image fails the
whole run with a message saying what to do."""
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import requests

import hbtest
import openapi_check
from hbtest import BASE_IMAGE, BUILD, Daemon, Sandbox

TMP_PARENT = os.environ.get("HIVEBOX_E2E_TMP", "/var/tmp")
KEEP = os.environ.get("HIVEBOX_E2E_KEEP") == "1"


def _wait_for_image():
    """CI builds the default image in the background while the unit tests
    run; it names a file where that build writes its exit status
    (HIVEBOX_E2E_IMAGE_WAIT) and its log (HIVEBOX_E2E_IMAGE_LOG)."""
    status = os.environ.get("HIVEBOX_E2E_IMAGE_WAIT")
    if not status:
        return
    deadline = time.monotonic() + 40 * 60
    while time.monotonic() < deadline:
        try:
            rc = Path(status).read_text().strip()
        except FileNotFoundError:
            rc = ""
        if rc:
            break
        time.sleep(2)
    else:
        pytest.exit(f"the default image's build did not end in 40 minutes ({status})", returncode=3)
    log = os.environ.get("HIVEBOX_E2E_IMAGE_LOG")
    tail = Path(log).read_text(errors="replace")[-4000:] if log and os.path.exists(log) else ""
    if rc != "0":
        pytest.exit(f"the default image did not build (exit {rc}):\n{tail}", returncode=3)


def _preflight():
    problems = []
    if os.geteuid() != 0:
        problems.append("the end-to-end tests must run as root (sandboxes need it)")
    for b in ("hivebox", "hivebox-init"):
        if not os.access(BUILD / b, os.X_OK):
            problems.append(f"{BUILD / b} is missing: run `make` (HIVEBOX_BUILD={BUILD})")
    if not (BASE_IMAGE / "rootfs").is_dir():
        problems.append(f"the base image {BASE_IMAGE}/rootfs is missing: build it once with "
                        f"`{BUILD}/hivebox image build` (or set HIVEBOX_E2E_BASE_IMAGE)")
    if problems:
        pytest.exit("hivebox e2e cannot run:\n  " + "\n  ".join(problems), returncode=3)


def _kill_leftovers(daemon):
    """Last-resort cleanup of sandboxes our own daemon left behind (it died,
    or a test failed mid-way): kill the processes of their cgroups."""
    sdir = daemon.data_dir / "sandboxes"
    if not sdir.is_dir():
        return
    for sid in os.listdir(sdir):
        dirs = hbtest.cgroup_dirs(sid)
        dirs = [d / "user" for d in dirs if (d / "user").is_dir()] + dirs   # children first
        for d in dirs:
            procs = d / "cgroup.procs"
            try:
                for pid in procs.read_text().split():
                    try:
                        os.kill(int(pid), signal.SIGKILL)
                    except ProcessLookupError:
                        pass
            except OSError:
                pass
        time.sleep(0.2)
        for d in dirs:
            try:
                os.rmdir(d)
            except OSError:
                pass


def _unmount_pool(daemon):
    """A daemon that died with sandboxes left its disk pool mounted (a clean
    exit with none left unmounts it): with their processes killed above,
    unmount it so the data dir can go (the loop device frees itself)."""
    pool = daemon.data_dir / "sandboxes"
    if os.path.ismount(pool):
        subprocess.run(["umount", "-l", str(pool)], check=False)


def _remove_tree(root):
    if KEEP:
        print(f"\nhivebox e2e: keeping {root}")
        return
    if hbtest.mounts_under(root):
        print(f"\nhivebox e2e: not removing {root}: mounts still present")
        return
    shutil.rmtree(root, ignore_errors=True)


def shutdown_daemon(d):
    """Destroy every sandbox through the API, then SIGTERM the daemon."""
    if d.alive():
        c = d.client()
        try:
            for sb in c.list().get("sandboxes", []):
                c.destroy(sb["id"], missing_ok=True)
        except Exception as exc:  # keep tearing down
            print(f"\nhivebox e2e: cleanup through the API failed: {exc}")
        c.close()
        d.stop(signal.SIGTERM)
    _kill_leftovers(d)
    _unmount_pool(d)


LOG_KEEP = Path(os.environ.get("HIVEBOX_E2E_LOGS") or (BUILD / "e2e-logs"))


def _keep_logs_and_check_secrets(root):
    """Copy every daemon log of the run to LOG_KEEP (greppable after the tree
    is gone), then fail naming file and line if one holds a key or token."""
    shutil.rmtree(LOG_KEEP, ignore_errors=True)
    LOG_KEEP.mkdir(parents=True, exist_ok=True)
    logs = sorted(set(hbtest.DAEMON_LOGS) | set(root.glob("*/*.log")))
    found = []
    for log in logs:
        if not log.is_file():
            continue
        rel = log.relative_to(root) if log.is_relative_to(root) else log
        keep = LOG_KEEP / str(rel).replace("/", "--")
        shutil.copyfile(log, keep)
        found += hbtest.secrets_in_log(keep)
    print(f"\nhivebox e2e: {len(logs)} daemon log(s) kept in {LOG_KEEP}; "
          f"{len(hbtest.SECRETS)} secret(s) looked for")
    assert not found, "keys or tokens in daemon logs:\n  " + "\n  ".join(found[:20])


@pytest.fixture(scope="session")
def e2e_tmp():
    _preflight()
    root = Path(tempfile.mkdtemp(prefix="hivebox-e2e-", dir=TMP_PARENT))
    os.chmod(root, 0o755)
    yield root
    try:
        _keep_logs_and_check_secrets(root)
    finally:
        _remove_tree(root)


@pytest.fixture(scope="session")
def daemon(e2e_tmp):
    d = Daemon(e2e_tmp / "session", name="daemon")
    d.start()
    yield d
    shutdown_daemon(d)
    d.assert_no_sanitizer_reports()


@pytest.fixture(scope="session")
def client(daemon):
    c = daemon.client()
    yield c
    c.close()


def _factory(client, daemon):
    made = []

    def make(**spec):
        info = client.create(**spec)
        sb = Sandbox(client, info, daemon)
        made.append(sb)
        return sb

    return make, made


def _destroy_all(client, made):
    for sb in made:
        try:
            client.destroy(sb.id, missing_ok=True)
        except Exception as exc:
            print(f"\nhivebox e2e: destroy {sb.id} failed: {exc}")


@pytest.fixture
def sandbox(client, daemon):
    """Factory: sandbox(**spec) -> Sandbox; every one is destroyed after the test."""
    make, made = _factory(client, daemon)
    yield make
    _destroy_all(client, made)


@pytest.fixture(scope="module")
def module_sandbox(client, daemon):
    """The same factory, living for the whole module (for read-only tests)."""
    make, made = _factory(client, daemon)
    yield make
    _destroy_all(client, made)


@pytest.fixture(scope="session")
def shared_sb(client, daemon):
    """One default sandbox shared by tests that only read."""
    info = client.create(name="e2e-shared-" + secrets.token_hex(3))
    sb = Sandbox(client, info, daemon)
    yield sb
    client.destroy(sb.id, missing_ok=True)


@pytest.fixture
def own_daemon(e2e_tmp):
    """A private daemon (own data dir, ports and key) for restart and storm
    tests; tests may stop and restart it on the same data dir."""
    d = Daemon(e2e_tmp / ("own-" + secrets.token_hex(3)), name="daemon")
    d.start()
    yield d
    if not d.alive():
        try:
            d.start()
        except Exception as exc:
            print(f"\nhivebox e2e: could not restart the private daemon for cleanup: {exc}")
    shutdown_daemon(d)
    d.assert_no_sanitizer_reports()


@pytest.fixture
def private_daemon(e2e_tmp):
    """Factory for a daemon with special start options (Daemon's keyword
    arguments, e.g. extra_args); shut down after the test."""
    made = []

    def make(**kw):
        d = Daemon(e2e_tmp / ("priv-" + secrets.token_hex(3)), **kw)
        d.start()
        made.append(d)
        return d

    yield make
    for d in made:
        shutdown_daemon(d)
        d.assert_no_sanitizer_reports()


def module_daemon_and_client(root, **kw):
    """Generator for a module's own `daemon` fixture (Daemon's keyword
    arguments, e.g. extra_args): yields (daemon, client), then shuts the
    daemon down and fails on sanitizer reports in its log."""
    d = Daemon(root, name="daemon", **kw)
    d.start()
    c = d.client()
    yield d, c
    c.close()
    shutdown_daemon(d)
    d.assert_no_sanitizer_reports()


# ---------------------------------------------------------------- OpenAPI conformance
# Every answer a daemon gives the suite is checked against schemas/openapi.json
# (tests/e2e/openapi_check.py): after each test, and at the end for the rest.

_send = requests.Session.send


def _send_and_record(self, request, **kw):
    r = _send(self, request, **kw)
    openapi_check.record(r)
    return r


requests.Session.send = _send_and_record


@pytest.fixture(autouse=True)
def openapi_conformance():
    yield
    problems = openapi_check.check_pending()
    if problems:
        pytest.fail("answers that do not match schemas/openapi.json:\n  " +
                    "\n  ".join(problems[:20]), pytrace=False)


def pytest_sessionfinish(session, exitstatus):
    problems = openapi_check.check_pending()
    if problems:
        print("\nhivebox e2e: answers that do not match schemas/openapi.json:\n  " +
              "\n  ".join(problems[:20]))
        session.exitstatus = 1


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed and hbtest.LIVE_DAEMONS:
        for d in list(hbtest.LIVE_DAEMONS):
            rep.sections.append((f"hivebox daemon log {d.root.name}", d.log_tail(40)))


def _terminated(signum, frame):
    # A SIGTERM (CI stopping the suites) unwinds like ^C: the fixtures' teardown
    # stops the daemons this session started (they run in sessions of their own).
    raise KeyboardInterrupt(f"signal {signum}")


def pytest_configure(config):
    signal.signal(signal.SIGTERM, _terminated)
    _wait_for_image()   # before collection: some modules read the image
    config.addinivalue_line(
        "markers", "once(why): run by `make test` only, not again under ASan+UBSan (`make check`): "
        "its time goes to a clock or an external program, not to our C code")


def pytest_collection_modifyitems(config, items):
    """Under the sanitizers (make check) the tests marked `once` are skipped,
    each with its reason in the summary: CI's time goes to the C paths."""
    if not hbtest.SANITIZED:
        return
    for item in items:
        mark = item.get_closest_marker("once")
        if mark:
            item.add_marker(pytest.mark.skip(reason=f"runs once, in make test: {mark.args[0]}"))


def pytest_report_header(config):
    return [f"hivebox build: {BUILD}", f"hivebox base image: {BASE_IMAGE}"]
