"""Kubernetes versions the platform can create, each mapped to its kubectl layer package and its CoreDNS add-on
version (one table), and the one-minor-version-at-a-time rule of EKS upgrades."""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from aws_cdk import aws_eks_v2 as eks

from .errors import ConfigError

DEFAULT_KUBERNETES_VERSION = "1.36"


@dataclass(frozen=True)
class KubernetesRelease:
    version: str
    #: where the version stands in the EKS support calendar (DESIGN-NOTES §3), for the docs and review
    support: str
    #: the CoreDNS EKS add-on version installed with this Kubernetes version (source: COREDNS_SOURCES)
    coredns: str
    #: its standard support has ended: EKS runs it in extended support only (the EXTENDED upgrade policy, extra charge)
    extended_support_only: bool = False

    @property
    def _suffix(self) -> str:
        return "v" + self.version.split(".")[1]

    @property
    def layer_package(self) -> str:
        """The pip package whose layer carries a kubectl of this minor version (kubectl supports +/-1)."""
        return f"aws-cdk.lambda-layer-kubectl-{self._suffix}"

    @property
    def layer_module(self) -> str:
        return f"aws_cdk.lambda_layer_kubectl_{self._suffix}"

    @property
    def layer_class(self) -> str:
        return f"Kubectl{self._suffix.upper()}Layer"

    @property
    def eks_version(self) -> eks.KubernetesVersion:
        from aws_cdk import aws_eks_v2 as eks  # loads jsii: only when a cluster is built

        return eks.KubernetesVersion.of(self.version)


#: Versions EKS still creates (DESIGN-NOTES §3) that aws-cdk-lib 2.275 knows. Newest last.
RELEASES: dict[str, KubernetesRelease] = {
    r.version: r
    for r in (
        KubernetesRelease("1.32", support="extended support (extra charge) until 2027-03-23", coredns="v1.11.4-eksbuild.33",
                          extended_support_only=True),
        KubernetesRelease("1.33", support="extended support (extra charge); standard ended 2026-07-29", coredns="v1.13.2-eksbuild.4",
                          extended_support_only=True),
        KubernetesRelease("1.34", support="extended support (extra charge); standard ended 2026-12-02", coredns="v1.13.2-eksbuild.4",
                          extended_support_only=True),
        KubernetesRelease("1.35", support="standard support until 2027-03-27", coredns="v1.13.2-eksbuild.4"),
        KubernetesRelease("1.36", support="standard support; newest in aws-cdk-lib 2.275", coredns="v1.14.3-eksbuild.14"),
    )
}

#: Where each CoreDNS add-on version comes from. Before moving a version, check what EKS offers in your region:
#: aws eks describe-addon-versions --addon-name coredns --kubernetes-version 1.NN \
#:   --query "addons[].addonVersions[?compatibilities[?defaultVersion]].addonVersion"
COREDNS_SOURCES = {
    "1.32": "EKS user guide, 'Manage CoreDNS', CoreDNS versions table (docs snapshot 2026)",
    "1.33": "EKS user guide, 'Manage CoreDNS', CoreDNS versions table (docs snapshot 2026)",
    "1.34": "EKS user guide, 'Manage CoreDNS', CoreDNS versions table (docs snapshot 2026)",
    "1.35": "EKS user guide, 'Manage CoreDNS', CoreDNS versions table (docs snapshot 2026)",
    "1.36": "not yet in that table: the default `aws eks describe-addon-versions --kubernetes-version 1.36` reported "
    "in 2026-09, as recorded in public Terraform configurations; unverified here",
}

#: Versions EKS no longer creates clusters on, with the date their extended support ended.
RETIRED: dict[str, str] = {
    "1.29": "2026-03-23",
    "1.30": "2026-07-23",
    "1.31": "2026-11-26",
}

def resolve_release(
    version: str, *, setting: str, module_available: Callable[[str], bool] | None = None
) -> KubernetesRelease:
    """Return the release for `version`, or raise ConfigError naming `setting`, what is allowed or what to install."""
    allowed = ", ".join(RELEASES)
    if version in RETIRED:
        raise ConfigError(
            setting,
            f"{version!r} is past EKS extended support (ended {RETIRED[version]}) and EKS no longer "
            f"creates clusters on it; allowed: {allowed}",
        )
    release = RELEASES.get(version)
    if release is None:
        raise ConfigError(setting, f"{version!r} is not a version this platform can create; allowed: {allowed}")
    available = module_available or (lambda name: importlib.util.find_spec(name) is not None)
    if not available(release.layer_module):
        raise ConfigError(
            setting,
            f"{version!r} needs its kubectl layer: pip install {release.layer_package} "
            f"(the package is not installed)",
        )
    return release


def check_upgrade(version: str, deployed: str | None, *, setting: str) -> None:
    """Raise ConfigError unless going from the `deployed` version to `version` is one EKS does: the same version,
    or exactly one minor version newer (EKS neither skips nor downgrades)."""
    if deployed is None or deployed == version:
        return
    minor = lambda v: int(v.split(".")[1])  # noqa: E731
    if minor(version) < minor(deployed):
        raise ConfigError(setting, f"{version!r} is older than the deployed {deployed!r}; EKS cannot downgrade a cluster")
    if minor(version) > minor(deployed) + 1:
        step = f"1.{minor(deployed) + 1}"
        raise ConfigError(
            setting,
            f"{version!r} skips {step}: EKS upgrades one minor version at a time; deploy {step} first "
            f"(the deployed version is {deployed})",
        )


def allowed_versions() -> str:
    """The versions this platform creates, as the docs and errors say it."""
    versions = list(RELEASES)
    return f"{versions[0]} to {versions[-1]}"
