"""Issue 20: tools/k8s/, the kustomize base, checked without a Kubernetes
cluster (kubectl is not installed here): each file parses as YAML, the
kustomization lists files that exist, and the objects say what
docs/scale-out.md promises (a privileged DaemonSet with the host's cgroup
tree and a hostPath data dir, a Service, a 3-member etcd StatefulSet), with
environment variables the daemon really reads (`hivebox daemon --help`)."""
import re
import subprocess
from pathlib import Path

import yaml

from hbtest import BUILD

K8S = Path(__file__).resolve().parents[2] / "tools" / "k8s"


def docs():
    kust = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    out = []
    for f in kust["resources"]:
        assert (K8S / f).is_file(), f"kustomization lists {f}, which does not exist"
        out += [d for d in yaml.safe_load_all((K8S / f).read_text()) if d]
    return kust, out


def one(objs, kind, name):
    found = [o for o in objs if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}: {len(found)} found"
    return found[0]


def test_every_file_parses_and_is_listed():
    kust, objs = docs()
    listed = set(kust["resources"]) | {"kustomization.yaml"}
    assert {p.name for p in K8S.glob("*.yaml")} == listed
    for o in objs:
        assert o.get("apiVersion") and o.get("kind") and o["metadata"].get("name"), o


def test_daemonset_is_privileged_with_host_cgroups_and_a_host_data_dir():
    _, objs = docs()
    ds = one(objs, "DaemonSet", "hivebox")
    spec = ds["spec"]["template"]["spec"]
    c = spec["containers"][0]
    assert c["securityContext"]["privileged"] is True
    mounts = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
    vols = {v["name"]: v for v in spec["volumes"]}
    assert mounts["data"] == "/var/lib/hivebox"
    assert vols["data"]["hostPath"]["path"] == "/var/lib/hivebox"
    assert mounts["cgroup"] == "/sys/fs/cgroup" and vols["cgroup"]["hostPath"]["path"] == "/sys/fs/cgroup"
    env = {e["name"] for e in c["env"]}
    assert {"HIVEBOX_API_KEY", "HIVEBOX_CLUSTER_TOKEN"} <= env
    # the token and the key come from a Secret, never from literals here
    for e in c["env"]:
        if e["name"] in ("HIVEBOX_API_KEY", "HIVEBOX_CLUSTER_TOKEN"):
            assert "secretKeyRef" in e["valueFrom"], e
    assert any(a.startswith("--advertise=") for a in c["args"])


def test_service_and_three_etcd_members():
    kust, objs = docs()
    svc = one(objs, "Service", "hivebox")
    assert svc["spec"]["selector"] == {"app": "hivebox"}
    sts = one(objs, "StatefulSet", "etcd")
    assert sts["spec"]["replicas"] == 3
    args = sts["spec"]["template"]["spec"]["containers"][0]["args"]
    initial = next(a for a in args if a.startswith("--initial-cluster="))
    assert len(initial.split("=", 1)[1].split(",")) == 3
    lits = dict(x.split("=", 1) for x in kust["configMapGenerator"][0]["literals"])
    assert len(lits["HIVEBOX_CLUSTER"].split(",")) == 3


def test_the_variables_used_are_the_daemons():
    _, objs = docs()
    kust = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    used = {x.split("=", 1)[0] for x in kust["configMapGenerator"][0]["literals"]}
    c = one(objs, "DaemonSet", "hivebox")["spec"]["template"]["spec"]["containers"][0]
    used |= {e["name"] for e in c["env"] if e["name"].startswith("HIVEBOX_")}
    helptext = subprocess.run([str(BUILD / "hivebox"), "daemon", "--help"], capture_output=True,
                              text=True).stdout
    known = set(re.findall(r"HIVEBOX_[A-Z_]+", helptext))
    assert used <= known, f"not read by the daemon: {sorted(used - known)}"
    flags = {a.split("=", 1)[0] for a in c["args"] if a.startswith("--")}
    for f in flags:
        assert f in helptext, f"{f} is not a daemon flag"
