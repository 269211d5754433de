"""A workload: its images mirrored into ECR, its manifests applied after namespace, profile and images, then waited for."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from aws_cdk import Duration, Fn
from aws_cdk import aws_eks_v2 as eks
from constructs import Construct

from ..pod_security import pod_templates, violations
from ..settings import MirroredImage
from ..settings.checks import check_namespace, check_ready_timeout
from ..settings.errors import ConfigError
from .coredns import PROFILE_LABEL
from .endpoints import IMAGE_COPY
from .image_mirror import ImageMirror
from .image_guard import check_manifests, describe
from .rollout import rollout_wait

if TYPE_CHECKING:
    from .cluster import PrivateCluster

DEFAULT_READY_MINUTES = 10
#: Kinds whose pods are pinned to their Fargate profile: their pod template may change (a Job's may not), and a change
#: rolls the pods over.
PINNED_KINDS = ("Deployment", "StatefulSet")


class Workload(Construct):
    """Images, manifests and a readiness wait for one namespace, ordered for a cluster without internet.

    - each image in ``images`` gets an ECR repository and a deploy-time copy (``ImageMirror``);
    - the namespace is created and a Fargate profile selecting it is ensured (reused when the cluster has one);
    - ``add_manifests`` checks every container image with the image guard, pins the pods of every Deployment and
      StatefulSet to the Fargate profile that selects them, then applies the manifests after the namespace, the
      profiles and every image copy;
    - ``wait_until_available`` makes every deploy that changes a Deployment wait until its rollout is complete, and
      fail otherwise.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        cluster: PrivateCluster,
        namespace: str,
        images: Sequence[MirroredImage] = (),
        ready_timeout: Duration | None = None,
    ) -> None:
        """
        :param cluster: the cluster the workload runs on
        :param namespace: the workload's namespace (not ``default`` or ``kube-system``)
        :param images: upstream images to copy into this account's ECR. default: none
        :param ready_timeout: how long ``wait_until_available`` waits, 1 to 14 minutes. default: 10 minutes
        """
        ready_timeout = ready_timeout or Duration.minutes(DEFAULT_READY_MINUTES)
        minutes = ready_timeout.to_seconds() / 60
        check_ready_timeout("ready_timeout", int(minutes) if minutes.is_integer() else minutes)
        check_namespace("namespace", namespace)
        for index, image in enumerate(images):
            image.validate(f"images[{index}]")
        if len({image.repository for image in images}) != len(images):
            raise ConfigError("images", "two images name the same repository; give each image its own repository")
        super().__init__(scope, construct_id)
        self.cluster = cluster
        self.namespace = namespace
        self.ready_timeout = ready_timeout
        self.policy = cluster.image_policy
        self.namespace_manifest = cluster.ensure_namespace(namespace)
        self.profile = cluster.ensure_profile(namespace)
        self.mirrors = {
            image.repository: ImageMirror(
                self, f"Image{index}", image=image, vpc=cluster.cluster.vpc, subnets=cluster.subnets,
                log_retention_days=cluster.log_retention_days,
            )
            for index, image in enumerate(images)
        }
        for mirror in self.mirrors.values():
            # a copy that fails (after its retries) fails the stack before the cluster is started, not while EKS builds
            # it (CloudFormation would wait for the cluster, then delete it); it calls CodeBuild through the endpoints
            cluster.build_after(mirror.copy)
            if cluster.endpoint_dependencies:
                mirror.copy.node.add_dependency(*cluster.endpoint_dependencies)
        if images:
            cluster.uses_endpoints_for(IMAGE_COPY)
        self._deployments: dict[str, tuple[Mapping[str, Any], eks.KubernetesManifest]] = {}

    def image_uri(self, repository: str) -> str:
        """The mirrored image of `repository` in this account's ECR, for a container's ``image``."""
        if repository not in self.mirrors:
            raise ConfigError("repository", f"{repository!r} is not one of this workload's images ({', '.join(self.mirrors)})")
        return self.mirrors[repository].image_uri

    def add_manifests(self, construct_id: str, *manifests: Mapping[str, Any]) -> eks.KubernetesManifest:
        """Apply `manifests` (Python dicts, `apiVersion` spelled as in YAML) after namespace, profile and images.

        Raises ConfigError naming the manifest, container and image when an image is not pullable (image_guard.py),
        and naming the manifest and every control when its namespace's Pod Security level would refuse its pods.
        """
        where = f"{self.node.path}/{construct_id}"
        check_manifests(self, where, manifests, self.policy)
        for item in manifests:
            self._check_pod_security(where, item)
        manifests, pinned = self._pinned(manifests)
        manifest = eks.KubernetesManifest(self, construct_id, cluster=self.cluster.cluster, manifest=list(manifests))
        # a manifest naming an image by digest already waits for its copy (Fn::GetAtt); the others wait explicitly
        text = json.dumps(manifests, default=str)
        copies = [m.copy for m in self.mirrors.values() if m.digest not in text]
        manifest.node.add_dependency(self.namespace_manifest, self.profile, *pinned, *copies)
        self.cluster.starts_pods(manifest)
        for item in manifests:
            if item.get("kind") == "Deployment":
                self._deployments[item["metadata"]["name"]] = (item, manifest)
        return manifest

    def _pinned(self, manifests: Sequence[Mapping[str, Any]]) -> tuple[list[Mapping[str, Any]], list[Any]]:
        """Copies of `manifests` whose Deployments and StatefulSets carry the name of the profile that schedules their
        pods (``PrivateCluster.pinned_profile``) in a pod-template label, and those profiles.

        A change that replaces the profile changes the label, so the pods roll onto the new profile (the old ones keep
        serving as the rollout strategy says) while CloudFormation still holds both, and the rollout wait runs again;
        CloudFormation deletes the old profile only in its clean-up, when no pod of these uses it. Other kinds (a Job's
        template cannot change) are applied as given: their pods restart when their profile goes."""
        copied, profiles = [], []
        for item in manifests:
            template = (item.get("spec") or {}).get("template") if item.get("kind") in PINNED_KINDS else None
            namespace = (item.get("metadata") or {}).get("namespace") or self.namespace
            labels = dict((template or {}).get("metadata", {}).get("labels") or {})
            pinned = self.cluster.pinned_profile(namespace, labels) if isinstance(template, Mapping) else None
            if pinned is not None:
                # new dicts along the way to the label; the caller's manifest and everything else are shared, not copied
                metadata = {**template.get("metadata", {}), "labels": {**labels, PROFILE_LABEL: pinned[0]}}
                item = {**item, "spec": {**item["spec"], "template": {**template, "metadata": metadata}}}
                profiles.append(pinned[1])
            copied.append(item)
        return copied, profiles

    def _check_pod_security(self, where: str, manifest: Mapping[str, Any]) -> None:
        namespace = (manifest.get("metadata") or {}).get("namespace") or self.namespace
        if namespace not in self.cluster.namespaces:
            return  # not a namespace this cluster labels: its Pod Security level is not ours to know
        level = self.cluster.pod_security_level(namespace)
        for metadata, spec in pod_templates(manifest):
            refused = violations(spec, level=level, version=self.cluster.pod_security_version, metadata=metadata)
            if refused:
                raise ConfigError(
                    f"manifest {where} ({describe(manifest)})",
                    f"namespace {namespace} enforces Pod Security {level!r} ({self.cluster.pod_security_version}), "
                    f"which would refuse its pods: {'; '.join(refused)}; change the pod spec, or relax the namespace "
                    "with cluster.pod_security_levels",
                )

    def wait_until_available(self, deployment: str, construct_id: str | None = None) -> eks.KubernetesObjectValue:
        """Make every deploy that changes `deployment` (added with ``add_manifests``) wait until its rollout is
        complete: the new generation observed, every replica updated and available, no old replica left. A rollout
        that does not complete within ``ready_timeout`` fails the deploy, which rolls back."""
        if deployment not in self._deployments:
            raise ConfigError("deployment", f"{deployment!r} is not a Deployment added to this workload with add_manifests")
        spec, manifest = self._deployments[deployment]
        # an image named by digest is a deploy-time value: its hex joins the revision, so a new copy re-runs the wait
        text = json.dumps(spec, default=str)
        digests = [Fn.select(1, Fn.split(":", m.digest)) for m in self.mirrors.values() if m.digest in text]
        wait = rollout_wait(
            self,
            construct_id or f"{deployment}-Ready",
            cluster=self.cluster.cluster,
            namespace=self.namespace,
            deployment=deployment,
            applied=spec,
            timeout=self.ready_timeout,
            deploy_time=digests,
        )
        wait.node.add_dependency(manifest)
        return wait
