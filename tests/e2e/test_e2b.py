"""E2B compatibility (docs/e2b.md): the official E2B JS SDK (npm `e2b`,
pinned in tests/e2e/e2b/package.json) drives this run's daemon, configured
only as a user would: E2B_API_URL and E2B_SANDBOX_URL point at the daemon,
E2B_API_KEY is its E2B key. Every tests/e2e/e2b/*.test.mjs is one pytest
test, run by node's own test runner (`-k commands` runs commands.test.mjs).

The Python SDK (`e2b` on PyPI) is not tested: PyPI is not reachable from
these machines and Debian does not package it."""
import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent / "e2b"
FILES = sorted(HERE.glob("*.test.mjs"))
FILE_TIMEOUT_S = 600


def e2b_key(admin_key):
    """The E2B API key a daemon without --e2b-api-key accepts (e2b_token.c)."""
    digest = hashlib.sha256(("hivebox e2b api key\n" + admin_key).encode()).hexdigest()
    return "e2b_" + digest[:40]


def sdk_env(daemon, **extra):
    env = dict(os.environ)
    env.update(E2B_API_URL=daemon.url, E2B_SANDBOX_URL=daemon.url,
               E2B_API_KEY=e2b_key(daemon.key), HIVEBOX_URL=daemon.url,
               HIVEBOX_KEY=daemon.key, HIVEBOX_PID=str(daemon.pid))
    env.update(extra)
    return env


def _preflight():
    if not shutil.which("node"):
        pytest.fail("node is missing (the machine's Node.js)")
    if not (HERE / "node_modules" / "e2b").is_dir():
        pytest.fail(f"the E2B SDK is missing: npm ci --prefix {HERE} "
                    "(tools/install-deps.sh does it)")


@pytest.mark.parametrize("path", FILES, ids=[p.name.split(".")[0] for p in FILES])
def test_e2b_sdk(daemon, path):
    _preflight()
    proc = subprocess.run(["node", "--test", "--test-reporter=spec", str(path)],
                          cwd=HERE, env=sdk_env(daemon), capture_output=True, text=True,
                          timeout=FILE_TIMEOUT_S)
    out = proc.stdout + proc.stderr
    print(out)
    assert proc.returncode == 0, f"{path.name} failed:\n{out[-12000:]}"
