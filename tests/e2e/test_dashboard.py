"""The dashboard's browser tests: every tests/browser/*.spec.mjs, run by
@playwright/test in Debian's chromium against one daemon of this module's own
(own data dir, ports, key, bridge and subnet), with OpenCode on but no
global model: a spec that wants the agent creates its sandbox with
`llm_base_url` = HB_FAKE_LLM (the scripted FakeLLM) and its own `llm_model`,
and one without shows the "no model" notice. One pytest test per spec file,
so `-k files` runs files.spec.mjs alone.

The specs get HIVEBOX_URL, HIVEBOX_KEY, HB_FAKE_LLM (the model's base URL),
HIVEBOX_SCREENS (screenshots, default build/webui-screens). With
HIVEBOX_WEBUI_DIR set the daemon serves that folder (--webui-dir: a
checkout's webui/src, no rebuild); without it, the assets built into the
binary, as shipped.

The browser suite runs once, in `make test`: `make check` (ASan) skips it. A
missing chromium or missing npm packages fail the run: CI installs both
(tools/install-deps.sh)."""
import os
import secrets
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import shutdown_daemon
from fake_llm import FakeLLM
from hbtest import BUILD, Daemon
from test_network import free_subnet, remove_network

REPO = Path(__file__).resolve().parents[2]
BROWSER = REPO / "tests" / "browser"
SPECS = sorted(BROWSER.glob("*.spec.mjs"))
CHROMIUM = os.environ.get("HIVEBOX_CHROMIUM", "/usr/bin/chromium")
PLAYWRIGHT = BROWSER / "node_modules" / ".bin" / "playwright"
OPENCODE_BIN = BUILD / "opencode" / "node_modules" / ".bin" / "opencode"
SPEC_TIMEOUT_S = 240

if os.environ.get("HIVEBOX_DASHBOARD_TESTS") == "skip-sanitized":
    pytest.skip("the browser suite runs once, in `make test`; under ASan (`make check`) it "
                "would only test the same JavaScript again, slower", allow_module_level=True)


def _preflight():
    problems = []
    if not os.access(CHROMIUM, os.X_OK):
        problems.append(f"{CHROMIUM} is missing: apt-get install chromium (tools/deps.txt)")
    if not os.access(PLAYWRIGHT, os.X_OK):
        problems.append(f"{PLAYWRIGHT} is missing: npm ci --prefix tests/browser "
                        "(tools/install-deps.sh does it)")
    if not shutil.which("node"):
        problems.append("node is missing: apt-get install nodejs npm")
    if not os.access(OPENCODE_BIN, os.X_OK):
        problems.append(f"OpenCode is not installed at {OPENCODE_BIN}: "
                        f"tools/install-opencode.sh {BUILD}")
    webui = os.environ.get("HIVEBOX_WEBUI_DIR")
    if webui and not (Path(webui) / "index.html").is_file():
        problems.append(f"HIVEBOX_WEBUI_DIR={webui} has no index.html")
    if problems:
        pytest.fail("the browser tests cannot run:\n  " + "\n  ".join(problems))


@pytest.fixture(scope="module")
def llm():
    srv = FakeLLM().start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def dash(e2e_tmp, llm):
    _preflight()
    tag = secrets.token_hex(3)
    bridge = "hbd" + tag
    args = []
    if os.environ.get("HIVEBOX_WEBUI_DIR"):
        args = ["--webui-dir", str(Path(os.environ["HIVEBOX_WEBUI_DIR"]).resolve())]
    env = {"HIVEBOX_BRIDGE": bridge, "HIVEBOX_SUBNET": str(free_subnet()),
           "HIVEBOX_OPENCODE": "true", "HIVEBOX_OPENCODE_IDLE": "120"}
    d = Daemon(e2e_tmp / ("dashboard-" + tag), name="daemon", extra_args=args, extra_env=env)
    try:
        with pytest.MonkeyPatch.context() as mp:   # no global model, whatever the caller set
            for k in ("HIVEBOX_OPENCODE_BASE_URL", "HIVEBOX_OPENCODE_MODEL",
                      "HIVEBOX_OPENCODE_API_KEY"):
                mp.delenv(k, raising=False)
            d.start()
        yield d
    finally:
        shutdown_daemon(d)
        remove_network(bridge)
    reports = d.sanitizer_reports()
    assert not reports, "sanitizer reports in the daemon's log:\n" + "\n".join(reports[:40])


def _spec_id(p):
    return p.name[:-len(".spec.mjs")]


@pytest.mark.parametrize("spec", SPECS, ids=[_spec_id(p) for p in SPECS])
def test_browser(spec, dash, llm, e2e_tmp):
    screens = os.environ.get("HIVEBOX_SCREENS") or str(REPO / "build" / "webui-screens")
    env = dict(os.environ)
    env.update({
        "HIVEBOX_URL": dash.url, "HIVEBOX_KEY": dash.key, "HB_FAKE_LLM": llm.base_url,
        "HIVEBOX_SCREENS": screens, "HIVEBOX_CHROMIUM": CHROMIUM,
        "HIVEBOX_PW_OUT": str(e2e_tmp / ("playwright-" + _spec_id(spec))),
        "PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD": "1", "NO_COLOR": "1", "FORCE_COLOR": "0"})
    try:
        r = subprocess.run([str(PLAYWRIGHT), "test", "--config", "playwright.config.mjs",
                            # a filter is a regular expression over the file's path
                            "/" + _spec_id(spec).replace(".", r"\.") + r"\.spec\.mjs$"],
                           cwd=BROWSER, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, timeout=SPEC_TIMEOUT_S)
    except subprocess.TimeoutExpired as exc:
        out = (exc.stdout or b"")
        out = out.decode(errors="replace") if isinstance(out, bytes) else out
        pytest.fail(f"{spec.name} ran past {SPEC_TIMEOUT_S}s\n{out[-8000:]}\n"
                    f"daemon log:\n{dash.log_tail()}")
    if r.returncode != 0:
        pytest.fail(f"{spec.name} failed (playwright exit {r.returncode}):\n"
                    f"{r.stdout[-12000:]}\n{r.stderr[-4000:]}", pytrace=False)
    # A filter that matched nothing would pass vacuously.
    assert "passed" in r.stdout, f"{spec.name}: no test ran\n{r.stdout[-4000:]}"
