"""The sample application: nginx mirrored into ECR, 3 replicas on Fargate, and a deploy that waits until all are ready."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_cdk import Duration
from constructs import Construct

from ..blocks.workload import Workload
from ..settings import MirroredImage, WorkloadSettings, key_of
from ..settings.checks import check_repository_name
from .operations import VerifyTarget

if TYPE_CHECKING:
    from ..blocks.cluster import PrivateCluster

NAME = "sample-app"
REPLICAS = 3
#: the Service's port; the pods listen on CONTAINER_PORT (the unprivileged image cannot bind ports below 1024)
PORT = 80
CONTAINER_PORT = 8080
#: nginx-unprivileged's user and group (the image's USER): runAsUser makes it explicit for runAsNonRoot
NGINX_UID = 101
#: The only paths the unprivileged image writes to (its nginx.conf puts the pid file and every temp path under /tmp;
#: /var/cache/nginx is the compiled-in cache path); the rest of the root filesystem is read-only.
WRITABLE_PATHS = {"tmp": "/tmp", "cache": "/var/cache/nginx"}


def manifests(*, image: str, namespace: str) -> list[dict[str, Any]]:
    """The Deployment and its ClusterIP Service; the pods meet Pod Security "restricted"."""
    labels = {"app": NAME}
    probe = {"httpGet": {"path": "/", "port": "http"}}
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": NAME, "namespace": namespace, "labels": labels},
        "spec": {
            "replicas": REPLICAS,
            "selector": {"matchLabels": labels},
            # maxUnavailable 0: a rollout keeps all 3 old replicas serving until new ones are ready
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "automountServiceAccountToken": False,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": NGINX_UID,
                        "runAsGroup": NGINX_UID,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "containers": [
                        {
                            "name": "nginx",
                            "image": image,
                            "ports": [{"name": "http", "containerPort": CONTAINER_PORT, "protocol": "TCP"}],
                            # on Fargate the requests size the pod (0.25 vCPU, 0.5 GB with Fargate's overhead)
                            "resources": {"requests": {"cpu": "250m", "memory": "256Mi"}, "limits": {"memory": "256Mi"}},
                            "readinessProbe": {**probe, "initialDelaySeconds": 2, "periodSeconds": 5},
                            # restarts a wedged nginx; generous, so a slow start is not killed
                            "livenessProbe": {**probe, "initialDelaySeconds": 10, "periodSeconds": 10, "failureThreshold": 3},
                            "securityContext": {
                                "privileged": False,
                                "allowPrivilegeEscalation": False,
                                "readOnlyRootFilesystem": True,
                                "capabilities": {"drop": ["ALL"]},
                            },
                            "volumeMounts": [{"name": name, "mountPath": path} for name, path in WRITABLE_PATHS.items()],
                        }
                    ],
                    "volumes": [{"name": name, "emptyDir": {}} for name in WRITABLE_PATHS],
                },
            },
        },
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": NAME, "namespace": namespace, "labels": labels},
        "spec": {"type": "ClusterIP", "selector": labels, "ports": [{"name": "http", "port": PORT, "targetPort": "http"}]},
    }
    return [deployment, service]


class SampleApp(Workload):
    """The seed's nginx as a workload: image mirrored, Deployment and Service applied, 3 ready replicas awaited."""

    def __init__(self, scope: Construct, construct_id: str, *, cluster: PrivateCluster, settings: WorkloadSettings) -> None:
        """
        :param cluster: the cluster the sample application runs on
        :param settings: its namespace, upstream image, ECR repository and readiness timeout
        """
        # named after the cluster by default: two stages in one account and region never share a repository
        repository = settings.sample_repository or f"{cluster.cluster_name.lower()}/{NAME}"
        check_repository_name(key_of(WorkloadSettings, "sample_repository"), repository)
        image = MirroredImage(source=settings.sample_image, repository=repository)
        super().__init__(
            scope,
            construct_id,
            cluster=cluster,
            namespace=settings.sample_namespace,
            images=[image],
            ready_timeout=Duration.minutes(settings.ready_timeout_minutes),
        )
        self.manifest = self.add_manifests(
            "Manifest", *manifests(image=self.image_uri(image.repository), namespace=settings.sample_namespace)
        )
        self.ready = self.wait_until_available(NAME, "Ready")

    @property
    def verify_target(self) -> VerifyTarget:
        """What the bastion's verify command checks: this Deployment, all replicas ready, probe in its namespace."""
        return VerifyTarget(namespace=self.namespace, deployment=NAME, replicas=REPLICAS)
