"""The verify command, offline: kubectl JSON fixtures of a healthy cluster and of broken ones (tests/fixtures/verify).

Each scenario directory holds only what differs from `healthy/`. `probe-pod.json` lists the probe pod's states in
the order successive `kubectl get pod` calls return them; `errors.json` maps a kubectl command line to its stderr.
"""

from __future__ import annotations

import ast
import json
import shlex
import subprocess
import sys

import pytest
from private_eks_fargate.bastion_tools import verify
from private_eks_fargate.pod_security import violations

from conftest import FIXTURES, ROOT

SCENARIOS = FIXTURES / "verify"


CHECKS = ["fargate-nodes", "deployment custom-space/sample-app", "coredns", "private-endpoint", "no-internet-images"]


PROBE_DELETE = ("delete", "pod", verify.PROBE_POD, "-n", "custom-space", "--ignore-not-found", "--wait=false")


def fixture(scenario: str, name: str):
    for directory in (SCENARIOS / scenario, SCENARIOS / "healthy"):
        if (directory / name).exists():
            return json.loads((directory / name).read_text())
    return None


class RecordedCluster:
    """Answers kubectl calls from a scenario's recorded JSON and records every call."""

    ROUTES = {
        "get nodes -o json": "nodes.json",
        "get deployment sample-app -n custom-space -o json": "deployment.json",
        f"get pods -n kube-system -l {verify.COREDNS_LABEL} -o json": "coredns-pods.json",
        "config view --minify -o json": "kubeconfig.json",
    }

    def __init__(self, scenario: str):
        self.scenario = scenario
        self.errors = fixture(scenario, "errors.json") or {}
        self.probe_states = fixture(scenario, "probe-pod.json")
        self.calls: list[tuple[tuple[str, ...], str | None]] = []
        self.created: list[dict] = []
        self.now = 0.0

    def kubectl(self, args, stdin):
        self.calls.append((tuple(args), stdin))
        line = " ".join(args)
        if line in self.errors:
            raise verify.KubectlError(self.errors[line])
        if args[0] == "delete":
            return ""
        if args[:3] == ["create", "-f", "-"]:
            self.created.append(json.loads(stdin))
            return f"pod/{verify.PROBE_POD} created\n"
        if line == f"get pod {verify.PROBE_POD} -n custom-space -o json":
            state = self.probe_states[0] if len(self.probe_states) == 1 else self.probe_states.pop(0)
            return json.dumps(state)
        document = fixture(self.scenario, self.ROUTES[line])
        if document is None:
            raise verify.NotFound(f'Error from server (NotFound): deployments.apps "{args[2]}" not found')
        return json.dumps(document)

    def resolve(self, host):
        assert host == "0a1b2c3d4e5f60718293a4b5c6d7e8f9.gr7.eu-west-1.eks.amazonaws.com"
        return fixture(self.scenario, "resolve.json")

    def sleep(self, seconds):
        self.now += seconds

    def clock(self):
        return self.now


#: what the bastion's VerifyCommand asks for in the default app (tests/test_operations.py checks the output)
SAMPLE_APP_TARGET = {"namespace": "custom-space", "deployment": "sample-app", "replicas": 3}


SAMPLE_APP_ARGS = ["--namespace", "custom-space", "--deployment", "sample-app", "--replicas", "3"]


def run(scenario: str) -> tuple[dict[str, verify.Result], RecordedCluster]:
    cluster = RecordedCluster(scenario)
    results = verify.run_checks(
        cluster.kubectl, cluster.resolve, **SAMPLE_APP_TARGET,
        pull_timeout=300, interval=5, sleep=cluster.sleep, clock=cluster.clock,
    )
    assert [r.check for r in results] == CHECKS
    return {r.check: r for r in results}, cluster


def failures(results: dict[str, verify.Result]) -> dict[str, str]:
    return {check: r.line() for check, r in results.items() if not r.ok}


def test_healthy_cluster_passes_every_check():
    results, cluster = run("healthy")
    assert failures(results) == {}
    assert [r.line() for r in results.values()] == [
        "PASS fargate-nodes: 5 node(s), all Fargate",
        "PASS deployment custom-space/sample-app: 3/3 ready",
        "PASS coredns: 2 pod(s) Running on Fargate",
        "PASS private-endpoint: 0a1b2c3d4e5f60718293a4b5c6d7e8f9.gr7.eu-west-1.eks.amazonaws.com resolves to private "
        "10.0.27.12, 10.0.5.241",
        "PASS no-internet-images: docker.io/library/busybox:latest cannot be pulled (ErrImagePull)",
    ]


def test_probe_pod_is_a_docker_hub_image_and_is_cleaned_up():
    _, cluster = run("healthy")
    (created,) = cluster.created
    assert created["metadata"] == {
        "name": verify.PROBE_POD, "namespace": "custom-space", "labels": {"app.kubernetes.io/name": verify.PROBE_POD}
    }
    assert created["spec"]["containers"][0]["image"].startswith("docker.io/")
    # the namespaces enforce Pod Security "restricted": a probe it refused would never reach the image pull
    assert violations(created["spec"], level="restricted", version="v1.36") == []
    commands = [args for args, _ in cluster.calls]
    create_at = commands.index(("create", "-f", "-"))
    # a leftover probe is removed first, and the probe is deleted after the verdict
    assert commands[create_at - 1] == PROBE_DELETE
    assert commands[-1] == PROBE_DELETE
    assert cluster.now == 10  # two polls of 5 s before ErrImagePull showed up


@pytest.mark.parametrize(
    ("scenario", "expected"),
    [
        ("ec2-node", {"fargate-nodes": "FAIL fargate-nodes: not Fargate nodes: ip-10-0-3-4.eu-west-1.compute.internal"}),
        (
            "sample-app-degraded",
            {"deployment custom-space/sample-app": "FAIL deployment custom-space/sample-app: 2/3 ready, expected 3/3"},
        ),
        ("sample-app-missing", {"deployment custom-space/sample-app": "FAIL deployment custom-space/sample-app: not found"}),
        (
            "coredns-pending",
            {"coredns": "FAIL coredns: coredns-6d9f7c8b5-4xkqz is Pending; coredns-6d9f7c8b5-t8wnv is Pending"},
        ),
        (
            "coredns-on-ec2",
            {
                "fargate-nodes": "FAIL fargate-nodes: not Fargate nodes: ip-10-0-3-4.eu-west-1.compute.internal",
                "coredns": "FAIL coredns: coredns-6d9f7c8b5-4xkqz runs on ip-10-0-3-4.eu-west-1.compute.internal, "
                "not a Fargate node",
            },
        ),
        (
            "public-endpoint",
            {
                "private-endpoint": "FAIL private-endpoint: 0a1b2c3d4e5f60718293a4b5c6d7e8f9.gr7.eu-west-1.eks.amazonaws.com "
                "resolves to public address(es) 54.217.10.20"
            },
        ),
        (
            "dockerhub-reachable",
            {
                "no-internet-images": "FAIL no-internet-images: docker.io/library/busybox:latest was pulled: the pods have "
                "a path to Docker Hub"
            },
        ),
        (
            "probe-never-scheduled",
            {
                "no-internet-images": "FAIL no-internet-images: no ErrImagePull/ImagePullBackOff within 300s (probe pod "
                "Pending): the experiment did not run"
            },
        ),
    ],
)
def test_each_broken_cluster_fails_exactly_the_check_that_names_it(scenario, expected):
    results, cluster = run(scenario)
    assert failures(results) == expected
    assert [args for args, _ in cluster.calls][-1] == PROBE_DELETE  # cleaned up whatever the verdict


def test_a_kubectl_error_fails_its_checks_and_the_others_still_run():
    results, _ = run("nodes-forbidden")
    failed = failures(results)
    assert set(failed) == {"fargate-nodes", "coredns"}  # both read the node list
    assert failed["fargate-nodes"].startswith("FAIL fargate-nodes: kubectl failed: Error from server (Forbidden)")
    assert results["no-internet-images"].ok


def test_the_probe_is_deleted_even_if_creating_it_fails():
    cluster = RecordedCluster("healthy")
    cluster.errors = {"create -f -": 'Error from server (Forbidden): pods is forbidden: cannot create resource "pods"'}
    with pytest.raises(verify.KubectlError, match="Forbidden"):
        verify.run_probe(
            cluster.kubectl, namespace="custom-space", image=verify.PROBE_IMAGE, timeout=60, interval=5,
            sleep=cluster.sleep, clock=cluster.clock,
        )
    assert [args for args, _ in cluster.calls][-1] == PROBE_DELETE


class UndeletableProbe(RecordedCluster):
    """The probe pod, once created, cannot be deleted."""

    def kubectl(self, args, stdin):
        if args[0] == "delete" and self.created:
            raise verify.KubectlError("etcdserver: request timed out")
        return super().kubectl(args, stdin)


def test_a_probe_that_cannot_be_deleted_fails_the_check():
    cluster = UndeletableProbe("healthy")
    result = verify.run_probe(
        cluster.kubectl, namespace="custom-space", image=verify.PROBE_IMAGE, timeout=60, interval=5,
        sleep=cluster.sleep, clock=cluster.clock,
    )
    assert result.line() == (
        "FAIL no-internet-images: docker.io/library/busybox:latest cannot be pulled (ErrImagePull); "
        "but the probe pod could not be deleted: etcdserver: request timed out"
    )


@pytest.mark.parametrize(("scenario", "status"), [("healthy", 0), ("sample-app-degraded", 1)])
def test_main_prints_one_line_per_check_and_exits_non_zero_on_any_fail(capsys, scenario, status):
    cluster = RecordedCluster(scenario)
    cluster.probe_states = [s for s in cluster.probe_states if "containerStatuses" in s["status"]][-1:]
    assert verify.main(SAMPLE_APP_ARGS, kubectl=cluster.kubectl, resolve=cluster.resolve) == status
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines[:-1]] == [
        f"{'FAIL' if status and check.startswith('deployment') else 'PASS'} {check}" for check in CHECKS
    ]
    assert lines[-1] == f"{5 - status} of 5 checks passed"


def test_the_readme_shows_what_the_documented_command_prints_on_a_healthy_cluster(capsys):
    """The README's verify line (run on the bastion, so marked `needs AWS`) with its own arguments, on the recorded
    healthy cluster: the output the README shows after it, line for line."""
    sys.path.insert(0, str(ROOT / "scripts"))
    import doc_pages  # noqa: PLC0415  scripts/doc_pages.py

    (line,) = {c.command for c in doc_pages.command_lines(ROOT / "README.md") if c.command.startswith("private-eks-verify ")}
    cluster = RecordedCluster("healthy")
    cluster.probe_states = [s for s in cluster.probe_states if "containerStatuses" in s["status"]][-1:]
    assert verify.main(shlex.split(line)[1:], kubectl=cluster.kubectl, resolve=cluster.resolve) == 0
    shown = doc_pages.output_after(line)
    assert shown and capsys.readouterr().out.splitlines() == shown.splitlines()


FAKE_KUBECTL = r"""#!{python}
import json, sys
from pathlib import Path
args = sys.argv[1:]
with Path({log!r}).open("a") as log:
    log.write(" ".join(args) + "\n")
if args[:2] == ["get", "deployment"]:
    sys.stderr.write('Error from server (NotFound): deployments.apps "sample-app" not found\n')
    sys.exit(1)
if args[:2] == ["get", "nodes"]:
    print(Path({nodes!r}).read_text())
else:
    sys.stderr.write("error: unexpected " + " ".join(args) + "\n")
    sys.exit(1)
"""


def test_the_shipped_file_runs_standalone_with_a_real_kubectl_subprocess(tmp_path):
    """As on the bastion: verify.py alone (no package), a kubectl executable, NotFound read from its stderr."""
    log = tmp_path / "calls"
    kubectl = tmp_path / "kubectl"
    kubectl.write_text(
        FAKE_KUBECTL.format(python=sys.executable, log=str(log), nodes=str(SCENARIOS / "healthy" / "nodes.json"))
    )
    kubectl.chmod(0o755)
    script = tmp_path / "verify.py"
    script.write_text((ROOT / "private_eks_fargate" / "bastion_tools" / "verify.py").read_text())
    done = subprocess.run(
        [sys.executable, "-I", str(script), *SAMPLE_APP_ARGS, "--kubectl", str(kubectl), "--pull-timeout", "0"],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )
    assert done.returncode == 1, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "PASS fargate-nodes: 5 node(s), all Fargate"
    assert lines[1] == "FAIL deployment custom-space/sample-app: not found"
    assert lines[2].startswith("FAIL coredns: kubectl failed: error: unexpected get pods -n kube-system")
    assert lines[-1] == "1 of 5 checks passed"
    assert log.read_text().splitlines()[-1] == " ".join(PROBE_DELETE)


def test_verify_is_python_3_9_and_standard_library_only():
    """Amazon Linux 2023's python3 is 3.9 and the bastion has no pip packages."""
    source = (ROOT / "private_eks_fargate" / "bastion_tools" / "verify.py").read_text()
    tree = ast.parse(source, feature_version=(3, 9))
    imported = {
        alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
    } | {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.level == 0}
    assert imported - {"__future__"} <= sys.stdlib_module_names
    assert not [node for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.level > 0]


def test_console_script_is_declared():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["scripts"]["private-eks-verify"] == "private_eks_fargate.bastion_tools.verify:main"
