"""Compatibility suite: what agents routinely run inside a sandbox must work
(offline: nothing here touches the network)."""
import os

import pytest

from hbtest import BASE_IMAGE, UID_BASE, uid_map_of, sha256_file

pytestmark = pytest.mark.once("its time goes to pip, compilers and Python inside a sandbox: the kernel's and "
                              "their work; the exec and file paths they use run under ASan in the API suites")


@pytest.fixture(scope="module")
def csb(module_sandbox):
    return module_sandbox(memory="1g", pids=256)


def test_pip_version(csb):
    lines = csb.sh("pip --version; python3 -m pip --version").splitlines()
    assert len(lines) == 2, lines
    for line in lines:
        assert line.startswith("pip ") and "(python 3." in line, line


WHEEL_BUILDER = r'''
import base64, hashlib, os, sys, zipfile
name, ver = "hbtiny", "0.1"
files = {
    "hbtiny/__init__.py": b"VALUE = 42\n",
    f"{name}-{ver}.dist-info/METADATA":
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {ver}\n".encode(),
    f"{name}-{ver}.dist-info/WHEEL":
        b"Wheel-Version: 1.0\nGenerator: hb-e2e\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
}
def rec(data):
    d = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={d},{len(data)}"
record = "".join(f"{p},{rec(d)}\n" for p, d in files.items())
record += f"{name}-{ver}.dist-info/RECORD,,\n"
files[f"{name}-{ver}.dist-info/RECORD"] = record.encode()
os.makedirs(sys.argv[1], exist_ok=True)
out = os.path.join(sys.argv[1], f"{name}-{ver}-py3-none-any.whl")
with zipfile.ZipFile(out, "w") as z:
    for p, d in files.items():
        z.writestr(p, d)
print(out)
'''

SETUP_PY = '''from setuptools import setup
setup(name="hbsrc", version="0.2", py_modules=["hbsrc"])
'''


def test_venv_and_offline_pip_install(csb):
    csb.sh("rm -rf /root/venv /root/dist /root/hbsrc && python3 -m venv /root/venv", timeout=180)
    assert csb.sh("/root/venv/bin/python -c 'import sys; print(sys.prefix)'").strip() == \
        "/root/venv"
    csb.put("/root/build_wheel.py", WHEEL_BUILDER)
    whl = csb.sh("python3 /root/build_wheel.py /root/dist").strip()
    res = csb.exec(f"/root/venv/bin/pip install --no-index {whl}", timeout=180)
    assert res["exit_code"] == 0, res
    assert csb.sh("/root/venv/bin/python -c 'import hbtiny; print(hbtiny.VALUE)'").strip() == "42"
    # A source tree built inside the sandbox, installed without any index.
    csb.put("/root/hbsrc/setup.py", SETUP_PY)
    csb.put("/root/hbsrc/hbsrc.py", "WHO = 'built-inside'\n")
    res = csb.exec("cd /root/hbsrc && /root/venv/bin/pip install --no-index "
                   "--no-build-isolation .", timeout=300)
    assert res["exit_code"] == 0, res
    assert csb.sh("/root/venv/bin/python -c 'import hbsrc; print(hbsrc.WHO)'").strip() == \
        "built-inside"
    listed = csb.sh("/root/venv/bin/pip list --format=freeze")
    assert "hbtiny==0.1" in listed and "hbsrc==0.2" in listed, listed
    # The system interpreter is untouched by the venv.
    assert csb.exec("python3 -c 'import hbtiny'")["exit_code"] != 0


THREADS = r'''
import threading, concurrent.futures
total = 0
lock = threading.Lock()
def work(n):
    global total
    for _ in range(n):
        with lock:
            total += 1
ts = [threading.Thread(target=work, args=(10000,)) for _ in range(16)]
[t.start() for t in ts]
[t.join() for t in ts]
with concurrent.futures.ThreadPoolExecutor(8) as ex:
    squares = sum(ex.map(lambda x: x * x, range(100)))
print(total, squares)
'''

MULTIPROC = r'''
import multiprocessing as mp
from multiprocessing import shared_memory
def sq(x):
    return x * x
if __name__ == "__main__":
    with mp.Pool(4) as p:
        a = sum(p.map(sq, range(1000)))
    q = mp.Queue()
    pr = mp.Process(target=q.put, args=("from-child",))
    pr.start(); msg = q.get(timeout=30); pr.join()
    sm = shared_memory.SharedMemory(create=True, size=4096)
    sm.buf[:5] = b"hello"
    other = shared_memory.SharedMemory(name=sm.name)
    got = bytes(other.buf[:5])
    other.close(); sm.close(); sm.unlink()
    lk = mp.Lock()
    with lk:
        pass
    print(a, msg, got.decode())
'''


def test_python_threads(csb):
    csb.put("/root/threads.py", THREADS)
    assert csb.sh("python3 /root/threads.py").split() == ["160000", "328350"]


def test_python_multiprocessing(csb):
    csb.put("/root/mp.py", MULTIPROC)
    out = csb.sh("python3 /root/mp.py", timeout=120)
    assert out.split() == ["332833500", "from-child", "hello"], out


def test_node_basics(csb):
    assert csb.sh("node -e 'console.log(6*7)'").strip() == "42"


NODE_WORKERS = r'''
const { Worker } = require("worker_threads");
const { execSync, spawnSync } = require("child_process");
const w = new Worker("const {parentPort}=require('worker_threads'); parentPort.postMessage(2+3);",
                     { eval: true });
w.on("message", (m) => {
  const out = execSync("echo from-child").toString().trim();
  const r = spawnSync("sh", ["-c", "exit 7"]);
  console.log(`worker=${m} child=${out} status=${r.status}`);
  w.terminate();
});
w.on("error", (e) => { console.error(e); process.exit(1); });
'''


def test_node_worker_threads_and_child_process(csb):
    csb.put("/root/workers.js", NODE_WORKERS)
    out = csb.sh("node /root/workers.js", timeout=120)
    assert out.strip() == "worker=5 child=from-child status=7", out


def test_npm_version(csb):
    res = csb.exec("npm --version", timeout=120)
    assert res["exit_code"] == 0 and res["stdout"].strip()[0].isdigit(), res


def test_git_init_and_commit(csb):
    out = csb.sh(
        "rm -rf /root/repo && mkdir /root/repo && cd /root/repo && git init -q && "
        "git config user.email e2e@hivebox && git config user.name e2e && "
        "echo hello > README && git add README && git commit -qm first && "
        "echo more >> README && git commit -qam second && "
        "git log --oneline | wc -l && git status --porcelain | wc -l && git show HEAD:README",
        timeout=120)
    assert out.split() == ["2", "0", "hello", "more"], out


def test_chown_and_host_ownership(csb, daemon):
    rows = uid_map_of(csb.sh("cat /proc/self/uid_map"))
    base = rows[0][1]
    out = csb.sh("rm -f /root/owned /root/mine && echo x > /root/owned && "
                 "chown 1234:2345 /root/owned && stat -c %u:%g /root/owned && "
                 "echo y > /root/mine && stat -c %u:%g /root/mine")
    assert out.split() == ["1234:2345", "0:0"], out
    upper = daemon.sandbox_dir(csb.id) / "upper" / "root"
    st = os.stat(upper / "owned")
    assert (st.st_uid, st.st_gid) == (base + 1234, base + 2345)
    st = os.stat(upper / "mine")
    assert (st.st_uid, st.st_gid) == (base, base), "root inside must own its files outside"
    assert base >= UID_BASE


def test_su_nobody(csb):
    out = csb.sh("su nobody -s /bin/sh -c id")
    assert out.startswith("uid=65534(nobody) gid=65534(nogroup)"), out
    res = csb.exec("su nobody -s /bin/sh -c 'touch /root/nobody-was-here'")
    assert res["exit_code"] != 0, "nobody could write to /root"


def test_write_under_usr_copy_up(csb, daemon):
    lower = BASE_IMAGE / "rootfs"
    target = "usr/lib/os-release"
    victim = "usr/share/common-licenses/GPL-2"
    before = sha256_file(lower / target)
    assert (lower / victim).exists()
    out = csb.sh(f"echo HB-COPY-UP >> /{target} && tail -1 /{target} && rm /{victim} && "
                 f"echo new > /usr/local/bin/hb-new && test ! -e /{victim} && cat "
                 "/usr/local/bin/hb-new")
    assert out.split() == ["HB-COPY-UP", "new"], out
    assert sha256_file(lower / target) == before, "the image's lower layer changed"
    assert (lower / victim).exists(), "deleting inside removed the image's file"
    assert not (lower / "usr/local/bin/hb-new").exists()
    upper = daemon.sandbox_dir(csb.id) / "upper"
    assert (upper / target).read_bytes().endswith(b"HB-COPY-UP\n")


def test_dev_shm(csb):
    out = csb.sh("echo shm-data > /dev/shm/hb && cat /dev/shm/hb && "
                 "python3 -c \"import mmap, os; f=os.open('/dev/shm/m', os.O_CREAT|os.O_RDWR); "
                 "os.ftruncate(f, 4096); m=mmap.mmap(f, 4096); m[:3]=b'abc'; print(m[:3].decode())\"")
    assert out.split() == ["shm-data", "abc"], out


def test_apt_tools_and_system_users(csb):
    res = csb.exec("apt-get --version")
    assert res["exit_code"] == 0 and res["stdout"].startswith("apt "), res
    # apt drops privileges to _apt for downloads: that uid must be usable.
    out = csb.sh("su _apt -s /bin/sh -c 'id -un'")
    assert out.strip() == "_apt"
    res = csb.exec("apt-get check", timeout=120)
    assert res["exit_code"] == 0, res
