"""Settings and their validation: the lowest layer, imported by everything above it."""

from .catalog import Setting, key_of, setting
from .errors import ConfigError
from .model import (
    SECTIONS,
    AppSettings,
    ClusterSettings,
    ComplianceSettings,
    EndpointSettings,
    ExistingVpcSettings,
    FargateProfileSpec,
    MirroredImage,
    NetworkSettings,
    OperationsSettings,
    PlatformSettings,
    WorkloadSettings,
)
from .pipeline import PipelineSettings
from .versions import DEFAULT_KUBERNETES_VERSION, RELEASES, KubernetesRelease, resolve_release

__all__ = [
    "SECTIONS",
    "AppSettings",
    "ClusterSettings",
    "ComplianceSettings",
    "ConfigError",
    "DEFAULT_KUBERNETES_VERSION",
    "EndpointSettings",
    "ExistingVpcSettings",
    "FargateProfileSpec",
    "KubernetesRelease",
    "MirroredImage",
    "NetworkSettings",
    "OperationsSettings",
    "PipelineSettings",
    "PlatformSettings",
    "RELEASES",
    "Setting",
    "WorkloadSettings",
    "key_of",
    "resolve_release",
    "setting",
]
