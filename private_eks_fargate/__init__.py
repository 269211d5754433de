"""A fully private Amazon EKS cluster on AWS Fargate, as CDK constructs, one composition and an app stage.

Layers, imports pointing down (import-linter checks them, see pyproject.toml):

- ``settings``: typed settings, one declaration per setting, validation, Kubernetes versions;
- ``compliance``: cdk-nag packs, the project's EKS checks, acknowledgement helpers, tags;
- ``blocks``: PrivateNetwork, PrivateEndpoints, PrivateCluster, CoreDnsOnFargate, Workload, ImageMirror, the
  image guard, irsa_service_account, FargateLogging, SsmBastion;
- ``composition``: ``compose()`` and the composite PrivateEksFargate; SampleApp, ClusterOperations;
- ``app``: context parsing, PrivateEksFargateStage and the delivery pipeline that deploys its stages.

Apart: ``review`` (reads synthesized templates only) and ``bastion_tools`` (standard library only).
Names are imported on first use, so ``import private_eks_fargate.review`` does not load aws-cdk-lib.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "settings": (
        "AppSettings", "ClusterSettings", "ComplianceSettings", "ConfigError", "DEFAULT_KUBERNETES_VERSION",
        "EndpointSettings", "ExistingVpcSettings", "FargateProfileSpec", "MirroredImage", "NetworkSettings",
        "OperationsSettings", "PlatformSettings", "RELEASES", "WorkloadSettings",
    ),
    "compliance": ("PrivateEksChecks", "acknowledge", "enable_compliance_checks"),
    "blocks.network": ("PrivateNetwork",),
    "blocks.zoned_stack": ("ZonedStack",),
    "blocks.endpoints": ("ENDPOINT_CATALOG", "EndpointNeed", "PrivateEndpoints", "platform_features", "required_endpoints"),
    "blocks.cluster": ("PrivateCluster",),
    "blocks.coredns": ("CoreDnsOnFargate",),
    "blocks.workload": ("Workload",),
    "blocks.image_mirror": ("ImageMirror",),
    "blocks.image_guard": ("ImagePolicy",),
    "blocks.irsa": ("irsa_service_account",),
    "blocks.fargate_logging": ("FargateLogging",),
    "blocks.bastion": ("SsmBastion",),
    "composition.platform": ("PrivateEksFargate", "compose"),
    "composition.operations": ("ClusterOperations", "VerifyTarget"),
    "composition.sample_app": ("SampleApp",),
    "app.context": ("settings_from_context", "stage_from_context"),
    "app.stage": ("PrivateEksFargateStage",),
}
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}
__all__ = sorted(_MODULE_OF)


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
