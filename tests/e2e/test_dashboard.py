"""The dashboard's browser tests: every tests/browser/*.spec.mjs, run by
@playwright/test in Debian's chromium against one daemon of this module's own
(own data dir, ports, key, bridge and subnet), with OpenCode on but no
global model: a spec that wants the agent creates its sandbox with
`llm_base_url` = HB_FAKE_LLM (the scripted FakeLLM) and its own `llm_model`,
and one without shows the "no model" notice. One pytest test per spec file,
so `-k files` runs files.spec.mjs alone; the selected files run in one
Playwright process (one browser start), each test reporting its file's part
(a file that does not load stops that run: then they run one by one).

The specs get HIVEBOX_URL, HIVEBOX_KEY, HB_FAKE_LLM (the model's base URL),
HIVEBOX_SCREENS (screenshots, default build/webui-screens). With
HIVEBOX_WEBUI_DIR set the daemon serves that folder (--webui-dir: a
checkout's webui/src, no rebuild); without it, the assets built into the
binary, as shipped.

The browser suite runs once, in `make test`: `make check` (ASan) skips it. A
missing chromium or missing npm packages fail the run: CI installs both
(tools/install-deps.sh)."""
import json
import os
import re
import secrets
import time
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
SUITE_TIMEOUT_S = 900
ANSI = re.compile(r"\x1b\[[0-9;]*m")

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


def _make_skills(root):
    """Two skills for the create form's checkboxes (sandboxes.spec.mjs)."""
    skills = root / "skills"
    for name, desc in (("docx", "Word documents"), ("pdf", "PDF files")):
        (skills / name).mkdir(parents=True)
        (skills / name / "SKILL.md").write_text(f"---\nname: {name}\ndescription: {desc}\n---\n")
    for p in [root, skills, *skills.rglob("*")]:
        p.chmod(0o755 if p.is_dir() else 0o644)
    return skills


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
    root = e2e_tmp / ("dashboard-" + tag)
    env = {"HIVEBOX_BRIDGE": bridge, "HIVEBOX_SUBNET": str(free_subnet()),
           "HIVEBOX_OPENCODE": "true", "HIVEBOX_OPENCODE_IDLE": "120",
           "HIVEBOX_OPENCODE_SKILLS_PATH": str(_make_skills(root))}
    d = Daemon(root, name="daemon", extra_args=args, extra_env=env)
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
    d.assert_no_sanitizer_reports()


def _spec_id(p):
    return p.name[:-len(".spec.mjs")]


def _walk(suite, out):
    """Every spec of a Playwright JSON report suite: file -> [(title, ok, errors)]."""
    for spec in suite.get("specs", []):
        errors = []
        for t in spec.get("tests", []):
            for res in t.get("results", []):
                errors += [ANSI.sub("", e.get("message", "")) for e in res.get("errors", [])]
                if res.get("error") and not res.get("errors"):
                    errors.append(ANSI.sub("", res["error"].get("message", "")))
        out.setdefault(spec.get("file") or suite.get("file"), []).append(
            (spec.get("title"), bool(spec.get("ok")), errors))
    for child in suite.get("suites", []):
        _walk(child, out)


def _run(files, env, report):
    """(output, exit status or None on timeout, results by file) of one run."""
    # A filter is a regular expression over each file's path.
    filters = ["/" + re.escape(p.name) + "$" for p in files]
    try:
        report.unlink(missing_ok=True)
        r = subprocess.run([str(PLAYWRIGHT), "test", "--config", "playwright.config.mjs",
                            "--reporter=list,json", *filters],
                           cwd=BROWSER, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, timeout=SUITE_TIMEOUT_S)
        out, code = r.stdout + r.stderr, r.returncode
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout or b""
        out = out.decode(errors="replace") if isinstance(out, bytes) else out
        code = None
    by_file = {}
    try:
        _walk({"suites": json.loads(report.read_text()).get("suites", [])}, by_file)
    except (OSError, ValueError):
        pass
    return out, code, by_file


@pytest.fixture(scope="module")
def playwright_run(request, dash, llm, e2e_tmp):
    """One Playwright run over every spec this session selected (one browser
    start, not one per file); each test_browser then reads its file's part."""
    chosen = sorted({item.callspec.params["spec"] for item in request.session.items
                     if getattr(item, "originalname", "") == "test_browser"})
    screens = os.environ.get("HIVEBOX_SCREENS") or str(REPO / "build" / "webui-screens")
    report = e2e_tmp / "playwright-report.json"
    env = dict(os.environ)
    env.update({
        "HIVEBOX_URL": dash.url, "HIVEBOX_KEY": dash.key, "HB_FAKE_LLM": llm.base_url,
        "HIVEBOX_SCREENS": screens, "HIVEBOX_CHROMIUM": CHROMIUM,
        "HIVEBOX_PW_OUT": str(e2e_tmp / "playwright-out"),
        "PLAYWRIGHT_JSON_OUTPUT_NAME": str(report),
        "PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD": "1", "NO_COLOR": "1", "FORCE_COLOR": "0"})
    started = time.monotonic()
    out, code, by_file = _run(chosen, env, report)
    if not by_file and len(chosen) > 1 and code is not None:
        # Nothing ran: a file that does not load stops Playwright before any
        # test. Run the files one by one so the others still report.
        out += "\n\n(no test ran: running the spec files one by one)\n"
        for p in chosen:
            o, _, b = _run([p], env, report)
            out += o
            by_file.update(b)
    print(f"\nplaywright: {len(chosen)} spec files in {time.monotonic() - started:.0f}s, "
          f"exit {code}\n{out[-6000:]}")
    return {"out": out, "code": code, "by_file": by_file}


@pytest.mark.parametrize("spec", SPECS, ids=[_spec_id(p) for p in SPECS])
def test_browser(spec, playwright_run, dash):
    run = playwright_run
    specs = run["by_file"].get(spec.name)
    if run["code"] is None:
        pytest.fail(f"the browser suite ran past {SUITE_TIMEOUT_S}s\n{run['out'][-8000:]}\n"
                    f"daemon log:\n{dash.log_tail()}", pytrace=False)
    # No result for the file at all: it did not load (a syntax error, a bad import).
    if not specs:
        pytest.fail(f"{spec.name}: no test ran (playwright exit {run['code']}):\n"
                    f"{run['out'][-8000:]}", pytrace=False)
    failed = [(t, errs) for t, ok, errs in specs if not ok]
    if failed:
        text = "\n\n".join(f"✘ {t}\n" + "\n".join(e[-3000:] for e in errs) for t, errs in failed)
        pytest.fail(f"{spec.name}: {len(failed)} of {len(specs)} failed:\n{text}\n\n"
                    f"daemon log:\n{dash.log_tail(30)}", pytrace=False)
