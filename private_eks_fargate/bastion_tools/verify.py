"""Cross-check a deployed private EKS-on-Fargate cluster from inside its VPC: one PASS/FAIL line per check.

    private-eks-verify --namespace NS [--probe-labels k=v,...] [--deployment NAME --replicas N]
    private-eks-verify --no-probe [--deployment NAME --replicas N --namespace NS]
    python -m private_eks_fargate.bastion_tools.verify ...

The bastion's output ``VerifyCommand`` gives the arguments for what the platform applied: the sample application's
namespace and Deployment, or, without it, the namespace of an application Fargate profile for the probe pod.

Exit status 1 if any check fails. The checks are pure functions over ``kubectl ... -o json`` output; kubectl,
DNS and the clock are passed in, so they are tested offline on recorded JSON. Standard library only and
Python 3.9 compatible: the bastion runs this file as is with Amazon Linux 2023's python3.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence
from urllib.parse import urlparse

COMPUTE_TYPE_LABEL = "eks.amazonaws.com/compute-type"
COREDNS_LABEL = "k8s-app=kube-dns"
PULL_FAILURES = ("ErrImagePull", "ImagePullBackOff")
PROBE_POD = "verify-dockerhub-pull"
PROBE_IMAGE = "docker.io/library/busybox:latest"


class KubectlError(Exception):
    """kubectl exited non-zero; the message is its stderr."""


class NotFound(KubectlError):
    """The object asked for does not exist."""


#: kubectl(args, stdin) -> stdout; raises KubectlError / NotFound
Kubectl = Callable[[Sequence[str], Optional[str]], str]
#: resolve(host) -> IP addresses
Resolver = Callable[[str], List[str]]


@dataclass(frozen=True)
class Result:
    check: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{'PASS' if self.ok else 'FAIL'} {self.check}: {self.detail}"


def _name(obj: dict) -> str:
    return obj.get("metadata", {}).get("name", "<unnamed>")


def is_fargate_node(node: dict) -> bool:
    return node.get("metadata", {}).get("labels", {}).get(COMPUTE_TYPE_LABEL) == "fargate"


def check_nodes(nodes: dict) -> Result:
    """Every node is a Fargate node (label eks.amazonaws.com/compute-type=fargate, named fargate-…)."""
    items = nodes.get("items", [])
    if not items:
        return Result("fargate-nodes", False, "no nodes registered: no pod has been scheduled on Fargate")
    others = [_name(n) for n in items if not is_fargate_node(n)]
    if others:
        return Result("fargate-nodes", False, f"not Fargate nodes: {', '.join(others)}")
    return Result("fargate-nodes", True, f"{len(items)} node(s), all Fargate")


def check_deployment(deployment: Optional[dict], namespace: str, name: str, replicas: int) -> Result:
    """The deployment exists and has exactly `replicas` ready pods out of `replicas`."""
    check = f"deployment {namespace}/{name}"
    if deployment is None:
        return Result(check, False, "not found")
    wanted = deployment.get("spec", {}).get("replicas", 1)
    ready = deployment.get("status", {}).get("readyReplicas", 0)
    if wanted != replicas or ready != replicas:
        return Result(check, False, f"{ready}/{wanted} ready, expected {replicas}/{replicas}")
    return Result(check, True, f"{ready}/{wanted} ready")


def check_coredns(pods: dict, nodes: dict) -> Result:
    """CoreDNS pods exist, are Running, and run on Fargate nodes."""
    fargate = {_name(n) for n in nodes.get("items", []) if is_fargate_node(n)}
    items = pods.get("items", [])
    if not items:
        return Result("coredns", False, f"no pods labelled {COREDNS_LABEL} in kube-system")
    problems = []
    for pod in items:
        phase = pod.get("status", {}).get("phase", "Unknown")
        node = pod.get("spec", {}).get("nodeName")
        if phase != "Running":
            problems.append(f"{_name(pod)} is {phase}")
        elif node not in fargate:
            problems.append(f"{_name(pod)} runs on {node}, not a Fargate node")
    if problems:
        return Result("coredns", False, "; ".join(problems))
    return Result("coredns", True, f"{len(items)} pod(s) Running on Fargate")


def api_server(kubeconfig: dict) -> str:
    """The server URL of the current context (``kubectl config view --minify -o json``)."""
    return kubeconfig["clusters"][0]["cluster"]["server"]


def check_private_endpoint(server: str, addresses: Sequence[str]) -> Result:
    """The API server's name resolves, and only to private addresses."""
    host = urlparse(server).hostname or server
    if not addresses:
        return Result("private-endpoint", False, f"{host} does not resolve")
    public = sorted(a for a in set(addresses) if not ipaddress.ip_address(a).is_private)
    if public:
        return Result("private-endpoint", False, f"{host} resolves to public address(es) {', '.join(public)}")
    return Result("private-endpoint", True, f"{host} resolves to private {', '.join(sorted(set(addresses)))}")


def image_pull_result(pod: dict, image: str) -> Optional[Result]:
    """PASS once the pull failed, FAIL once the image was pulled, None while undecided."""
    for status in pod.get("status", {}).get("containerStatuses", []):
        state = status.get("state", {})
        reason = state.get("waiting", {}).get("reason")
        if reason in PULL_FAILURES:
            return Result("no-internet-images", True, f"{image} cannot be pulled ({reason})")
        if status.get("imageID") or "running" in state or "terminated" in state:
            return Result("no-internet-images", False, f"{image} was pulled: the pods have a path to Docker Hub")
    return None


def probe_pod(namespace: str, image: str, labels: Optional[Dict[str, str]] = None) -> dict:
    """The probe pod; `labels` are those its namespace's Fargate profile selects on."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": PROBE_POD,
            "namespace": namespace,
            "labels": {"app.kubernetes.io/name": PROBE_POD, **(labels or {})},
        },
        # Pod Security "restricted", which the platform's namespaces enforce: else the pod is refused, never pulled
        "spec": {
            "restartPolicy": "Never",
            "automountServiceAccountToken": False,
            "securityContext": {"runAsNonRoot": True, "runAsUser": 65534, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [
                {
                    "name": "probe",
                    "image": image,
                    "command": ["true"],
                    "securityContext": {
                        "allowPrivilegeEscalation": False,
                        "readOnlyRootFilesystem": True,
                        "capabilities": {"drop": ["ALL"]},
                    },
                }
            ],
        },
    }


def _get(kubectl: Kubectl, *args: str) -> dict:
    return json.loads(kubectl(["get", *args, "-o", "json"], None))


def run_probe(
    kubectl: Kubectl,
    *,
    namespace: str,
    image: str,
    timeout: float,
    interval: float,
    sleep: Callable[[float], None],
    clock: Callable[[], float],
    labels: Optional[Dict[str, str]] = None,
) -> Result:
    """The seed's negative experiment: a pod with a Docker Hub image must fail to pull within `timeout` seconds.

    The probe pod is deleted afterwards, whatever happened.
    """
    delete = ["delete", "pod", PROBE_POD, "-n", namespace, "--ignore-not-found", "--wait=false"]

    def verdict() -> Result:
        deadline = clock() + timeout
        while True:
            pod = _get(kubectl, "pod", PROBE_POD, "-n", namespace)
            result = image_pull_result(pod, image)
            if result is not None:
                return result
            if clock() >= deadline:
                phase = pod.get("status", {}).get("phase", "Unknown")
                return Result(
                    "no-internet-images",
                    False,
                    f"no {'/'.join(PULL_FAILURES)} within {timeout:g}s (probe pod {phase}): the experiment did not run",
                )
            sleep(interval)

    kubectl(delete, None)  # left over from an interrupted run
    try:
        kubectl(["create", "-f", "-"], json.dumps(probe_pod(namespace, image, labels)))
        result = verdict()
    except BaseException:
        try:
            kubectl(delete, None)
        except KubectlError:
            pass  # the original error is the one to report
        raise
    try:
        kubectl(delete, None)
    except KubectlError as error:
        return Result(result.check, False, f"{result.detail}; but the probe pod could not be deleted: {error}")
    return result


def run_checks(
    kubectl: Kubectl,
    resolve: Resolver,
    *,
    namespace: Optional[str],
    deployment: Optional[str] = None,
    replicas: int = 1,
    probe: bool = True,
    probe_labels: Optional[Dict[str, str]] = None,
    probe_image: str = PROBE_IMAGE,
    pull_timeout: float = 300,
    interval: float = 5,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> List[Result]:
    """All checks, in order; a kubectl failure in one check is that check's FAIL, the others still run.

    Without `deployment` the application check is left out; without `probe` the image-pull experiment is.
    """

    def guarded(check: str, run: Callable[[], Result]) -> Result:
        try:
            return run()
        except KubectlError as error:
            return Result(check, False, f"kubectl failed: {error}")

    def deployment_check() -> Result:
        try:
            found: Optional[dict] = _get(kubectl, "deployment", deployment, "-n", namespace)
        except NotFound:
            found = None
        return check_deployment(found, namespace, deployment, replicas)

    def endpoint_check() -> Result:
        server = api_server(json.loads(kubectl(["config", "view", "--minify", "-o", "json"], None)))
        return check_private_endpoint(server, resolve(urlparse(server).hostname or server))

    results = [guarded("fargate-nodes", lambda: check_nodes(_get(kubectl, "nodes")))]
    if deployment is not None:
        results.append(guarded(f"deployment {namespace}/{deployment}", deployment_check))
    results += [
        guarded(
            "coredns",
            lambda: check_coredns(_get(kubectl, "pods", "-n", "kube-system", "-l", COREDNS_LABEL), _get(kubectl, "nodes")),
        ),
        guarded("private-endpoint", endpoint_check),
    ]
    if probe:
        results.append(
            guarded(
                "no-internet-images",
                lambda: run_probe(
                    kubectl, namespace=namespace, image=probe_image, timeout=pull_timeout, interval=interval,
                    sleep=sleep, clock=clock, labels=probe_labels,
                ),
            )
        )
    return results


def subprocess_kubectl(binary: str = "kubectl") -> Kubectl:
    def run(args: Sequence[str], stdin: Optional[str]) -> str:
        done = subprocess.run([binary, *args], input=stdin, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            error = done.stderr.strip() or f"exit status {done.returncode}"
            raise (NotFound if "NotFound" in error else KubectlError)(error)
        return done.stdout

    return run


def dns_resolve(host: str) -> List[str]:
    try:
        return sorted({info[4][0] for info in socket.getaddrinfo(host, 443, proto=socket.IPPROTO_TCP)})
    except socket.gaierror:
        return []


def _labels(text: str) -> Dict[str, str]:
    pairs = [part.split("=", 1) for part in text.split(",") if part]
    if any(len(pair) != 2 or not pair[0] for pair in pairs):
        raise argparse.ArgumentTypeError(f"{text!r} is not k=v[,k2=v2]")
    return dict(pairs)


def main(argv: Optional[Sequence[str]] = None, kubectl: Optional[Kubectl] = None, resolve: Optional[Resolver] = None) -> int:
    parser = argparse.ArgumentParser(prog="private-eks-verify", description=__doc__.split("\n\n")[0])
    parser.add_argument("--namespace", help="namespace of the Deployment and of the probe pod (one a Fargate profile selects)")
    parser.add_argument("--probe-labels", type=_labels, default=None, help="labels the probe pod needs for its Fargate profile: k=v,k2=v2")
    parser.add_argument("--no-probe", action="store_true", help="leave out the image-pull experiment (no namespace for it)")
    parser.add_argument("--deployment", help="a Deployment that must be fully ready. default: none, the platform only")
    parser.add_argument("--replicas", type=int, default=1, help="ready replicas the Deployment must have. default: 1")
    parser.add_argument("--probe-image", default=PROBE_IMAGE, help="a Docker Hub image that must NOT be pullable")
    parser.add_argument("--pull-timeout", type=float, default=300, help="seconds to wait for the pull to fail")
    parser.add_argument("--kubectl", default="kubectl", help="kubectl binary")
    args = parser.parse_args(argv)
    if args.namespace is None and (args.deployment is not None or not args.no_probe):
        parser.error("--namespace is required for --deployment and for the probe (or give --no-probe)")
    results = run_checks(
        kubectl or subprocess_kubectl(args.kubectl),
        resolve or dns_resolve,
        namespace=args.namespace,
        deployment=args.deployment,
        replicas=args.replicas,
        probe=not args.no_probe,
        probe_labels=args.probe_labels,
        probe_image=args.probe_image,
        pull_timeout=args.pull_timeout,
    )
    for result in results:
        print(result.line())
    failed = [r for r in results if not r.ok]
    print(f"{len(results) - len(failed)} of {len(results)} checks passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
