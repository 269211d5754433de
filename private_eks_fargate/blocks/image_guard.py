"""Container image references and the image guard: every image a manifest names must be pullable without internet.

Pods on this cluster reach ECR only through the `ecr.api`/`ecr.dkr` endpoints of their own region, which serve
this account's private registry. Any other registry is on the internet and ends in ImagePullBackOff, so the guard
rejects it at synth, in one line naming the manifest, the container, the image and the reason.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Iterator, Mapping, Sequence

import jsii
from aws_cdk import CfnResource, Stack
from constructs import Construct, IConstruct, IValidation

from ..settings.errors import ConfigError
from ..settings.images import ImageRef

#: How a value known only at deploy time is written when a manifest is rendered for the guard.
ACCOUNT, REGION, URL_SUFFIX, UNKNOWN = "${AWS::AccountId}", "${AWS::Region}", "${AWS::URLSuffix}", "${deploy-time value}"
_PSEUDO = {"AWS::AccountId": ACCOUNT, "AWS::Region": REGION, "AWS::URLSuffix": URL_SUFFIX}
_ECR_HOST = re.compile(r"^(?P<account>[^.]+)\.dkr\.ecr(-fips)?\.(?P<region>[^.]+)\.(?P<suffix>.+)$")
_ECR_SUFFIXES = (URL_SUFFIX, "amazonaws.com", "amazonaws.com.cn")
_CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")
KUBERNETES_RESOURCE = "Custom::AWSCDK-EKS-KubernetesResource"


def render(value: Any) -> Any:
    """A resolved CloudFormation value as plain data; pseudo parameters become ${AWS::...}, other intrinsics UNKNOWN."""
    if isinstance(value, Mapping):
        if len(value) == 1:
            (key, arg), = value.items()
            if key == "Ref":
                return _PSEUDO.get(arg, UNKNOWN)
            if key == "Fn::Join":
                separator, parts = arg
                return separator.join(str(render(part)) for part in parts)
            if key.startswith("Fn::"):
                return UNKNOWN
        return {k: render(v) for k, v in value.items()}
    if isinstance(value, list):
        return [render(v) for v in value]
    return value


def containers(manifest: Any) -> Iterator[Mapping[str, Any]]:
    """Every container, init container and ephemeral container of any pod spec in the manifest (any kind)."""
    if isinstance(manifest, Mapping):
        for key, value in manifest.items():
            if key in _CONTAINER_LISTS and isinstance(value, list):
                yield from (c for c in value if isinstance(c, Mapping))
            else:
                yield from containers(value)
    elif isinstance(manifest, list):
        for item in manifest:
            yield from containers(item)


def describe(manifest: Mapping[str, Any]) -> str:
    metadata = manifest.get("metadata") or {}
    namespace = f"{metadata['namespace']}/" if metadata.get("namespace") else ""
    return f"{manifest.get('kind', '?')} {namespace}{metadata.get('name', '?')}"


@dataclass(frozen=True)
class ImagePolicy:
    """Which registries this stack's pods can pull from: its own account's ECR in its region, plus `allowed`."""

    #: the stack's account: a 12-digit id, or ACCOUNT when the stack is environment-agnostic
    account: str
    #: the stack's region, or REGION when the stack is environment-agnostic
    region: str
    #: registry hosts or host/path prefixes the user allows explicitly
    allowed: Sequence[str] = ()

    @classmethod
    def of(cls, scope: Construct, allowed: Sequence[str] = ()) -> ImagePolicy:
        stack = Stack.of(scope)
        return cls(account=render(stack.resolve(stack.account)), region=render(stack.resolve(stack.region)), allowed=tuple(allowed))

    @property
    def registry(self) -> str:
        return f"{self.account}.dkr.ecr.{self.region}.{URL_SUFFIX}"

    def problem(self, image: Any) -> str | None:
        """Why a pod of this cluster cannot pull `image`; None when it can."""
        if isinstance(image, str) and any(image == e or image.startswith(e.rstrip("/") + "/") for e in self.allowed):
            return None
        if isinstance(image, str) and image.endswith(f"@{UNKNOWN}"):
            # a digest known at deploy time (the image copy's) pins the image; it does not choose the registry
            image = image[: -len(UNKNOWN) - 1]
        if isinstance(image, str) and UNKNOWN in image:
            return "is only known at deploy time, so it cannot be checked; build it from the stack's account and region (Workload.image_uri)"
        ref = ImageRef.parse(image)
        if ref is None:
            return "is not a valid image reference"
        ecr = _ECR_HOST.match(ref.registry)
        if ecr and ecr["suffix"] in _ECR_SUFFIXES:
            if ecr["account"] != self.account:
                known = "is only known at deploy time (environment-agnostic stack)" if self.account == ACCOUNT else self.account
                return f"is in the ECR of account {ecr['account']}, not this stack's account ({known})"
            if ecr["region"] != self.region:
                known = "is only known at deploy time (environment-agnostic stack)" if self.region == REGION else self.region
                return f"is in the ECR of region {ecr['region']}, not this stack's region ({known}); pods pull through their own region's ECR endpoints"
            return None
        if not ref.registry or ref.registry in ("docker.io", "index.docker.io", "registry-1.docker.io"):
            return "is on Docker Hub, which is on the internet"
        if ref.registry == "public.ecr.aws":
            return "is on ECR Public, which is on the internet (the ecr.dkr endpoint serves private registries only)"
        return f"is on {ref.registry}, which is on the internet"

    def check(self, where: str, manifest: Mapping[str, Any]) -> None:
        """Raise ConfigError for the first container of `manifest` (rendered) whose image cannot be pulled."""
        for container in containers(manifest):
            why = self.problem(container.get("image"))
            if why is not None:
                raise ConfigError(
                    f"manifest {where} ({describe(manifest)})",
                    f"container {container.get('name')!r} image {container.get('image')!r} {why}; pods of this cluster "
                    f"pull only from this account's ECR in this region ({self.registry}) or workloads.allowed_registries: "
                    "mirror the image into ECR (PrivateCluster.add_workload)",
                )


def check_manifests(scope: Construct, where: str, manifests: Sequence[Mapping[str, Any]], policy: ImagePolicy) -> None:
    """The guard at construction time: manifests as Python dicts, their tokens resolved in `scope`'s stack."""
    stack = Stack.of(scope)
    for manifest in manifests:
        policy.check(where, render(stack.resolve(manifest)))


@jsii.implements(IValidation)
class ImageGuard:
    """The guard at synth, for every Kubernetes manifest resource under a construct, however it was added."""

    def __init__(self, scope: Construct, policy: ImagePolicy) -> None:
        self._scope = scope
        self._policy = policy

    def validate(self) -> list[str]:
        errors = []
        for node in self._scope.node.find_all():
            if isinstance(node, CfnResource) and node.cfn_resource_type == KUBERNETES_RESOURCE:
                errors.extend(self._errors(node))
        return errors

    def _errors(self, resource: IConstruct) -> list[str]:
        stack = Stack.of(resource)
        text = render(stack.resolve(resource._cfn_properties.get("Manifest")))  # noqa: SLF001 (jsii protected member)
        where = resource.node.scope.node.scope.node.path  # the KubernetesManifest, not its CustomResource/CfnResource
        try:
            manifests = json.loads(text)
        except (TypeError, json.JSONDecodeError):
            return [f"manifest {where}: its images cannot be read at synth, so the image guard cannot check them"]
        try:
            for manifest in manifests:
                self._policy.check(where, manifest)
        except ConfigError as error:
            return [str(error)]
        return []
