"""The real KubernetesObjectValue handler (aws-cdk-lib's aws-eks-v2 kubectl-handler/get, read from the installed
package) with the real kubectl of the layer, against a minimal read-only Kubernetes API server that serves one
Deployment: just enough discovery and GET/LIST for `kubectl get deployment`."""

from __future__ import annotations

import glob
import importlib.util
import json
import tarfile
import threading
from pathlib import Path
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

API_VERSIONS = {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]}
GROUPS = {
    "kind": "APIGroupList",
    "apiVersion": "v1",
    "groups": [{"name": "apps", "versions": [{"groupVersion": "apps/v1", "version": "v1"}], "preferredVersion": {"groupVersion": "apps/v1", "version": "v1"}}],
}
CORE = {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": "v1", "resources": []}
APPS = {
    "kind": "APIResourceList",
    "apiVersion": "v1",
    "groupVersion": "apps/v1",
    "resources": [
        {"name": "deployments", "singularName": "deployment", "namespaced": True, "kind": "Deployment",
         "verbs": ["get", "list"], "shortNames": ["deploy"], "categories": ["all"]},
    ],
}


class FakeApi:
    """Serves `objects` ({(namespace, name): deployment dict}); records request paths in `requests`."""

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], dict] = {}
        self.requests: list[str] = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _send(self, code: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):  # noqa: N802
                url = urlparse(self.path)
                api.requests.append(self.path)
                parts = [p for p in url.path.split("/") if p]
                static = {"/api": API_VERSIONS, "/apis": GROUPS, "/api/v1": CORE, "/apis/apps/v1": APPS}
                if url.path in static:
                    return self._send(200, static[url.path])
                if parts[:4] == ["apis", "apps", "v1", "namespaces"] and len(parts) >= 6 and parts[5] == "deployments":
                    ns = parts[4]
                    if len(parts) == 7:
                        obj = api.objects.get((ns, parts[6]))
                        if obj is not None:
                            return self._send(200, obj)
                        return self._send(404, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound", "code": 404,
                                                "message": f'deployments.apps "{parts[6]}" not found',
                                                "details": {"name": parts[6], "group": "apps", "kind": "deployments"}})
                    selector = parse_qs(url.query).get("fieldSelector", [""])[0]
                    items = [o for (n, name), o in api.objects.items() if n == ns and selector in ("", f"metadata.name={name}")]
                    return self._send(200, {"kind": "DeploymentList", "apiVersion": "apps/v1", "metadata": {"resourceVersion": "1"}, "items": items})
                return self._send(404, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound", "code": 404})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def kubeconfig(self) -> str:
        return json.dumps({
            "apiVersion": "v1", "kind": "Config", "current-context": "fake",
            "clusters": [{"name": "fake", "cluster": {"server": self.url}}],
            "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "fake"}}],
            "users": [{"name": "fake", "user": {"token": "x"}}],
        })

    def __enter__(self) -> "FakeApi":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


HANDLER_MEMBER = "package/custom-resource-handlers/dist/aws-eks-v2/kubectl-handler/get/__init__.py"

#: stands in for `aws eks update-kubeconfig --name X --kubeconfig PATH`: writes the fake API server's kubeconfig
FAKE_AWS = """#!/bin/sh
while [ $# -gt 0 ]; do if [ "$1" = "--kubeconfig" ]; then cp "$FAKE_KUBECONFIG" "$2"; fi; shift; done
"""


def load_handler(workdir: Path):
    """The handler module exactly as aws-cdk-lib ships it (the Lambda's code)."""
    import aws_cdk

    (tgz,) = glob.glob(str(Path(aws_cdk.__file__).parent / "_jsii" / "aws-cdk-lib@*.jsii.tgz"))
    source = workdir / "get_handler.py"
    with tarfile.open(tgz) as archive:
        source.write_bytes(archive.extractfile(HANDLER_MEMBER).read())
    spec = importlib.util.spec_from_file_location("kubectl_get_handler", source)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class StopPolling(BaseException):
    """Raised from the handler's time.sleep: it polled once and would poll again in 10 s."""


class Clock:
    """`time` for the handler module: real time(), sleep() replaceable per test."""

    def __init__(self) -> None:
        import time

        self.time = time.time
        self.sleep = self.stop

    @staticmethod
    def stop(_seconds):
        raise StopPolling()


def event(json_path: str, request_type: str = "Update", timeout: int = 600, target=("deployment/web", "deployment/web")) -> dict:
    """The event CloudFormation sends for a KubernetesObjectValue; `target` is (ObjectType, ObjectName)."""
    object_type, object_name = target
    return {"RequestType": request_type, "ResourceType": "Custom::AWSCDK-EKS-KubernetesObjectValue", "ResourceProperties": {
        "ClusterName": "c", "ObjectType": object_type, "ObjectName": object_name, "ObjectNamespace": "custom-space",
        "JsonPath": json_path, "TimeoutSeconds": str(timeout)}}
