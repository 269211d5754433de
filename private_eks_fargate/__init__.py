"""A fully private Amazon EKS cluster on AWS Fargate, as CDK constructs, stacks and a stage.

Building blocks: PrivateNetwork, PrivateEndpoints, PrivateCluster, CoreDnsOnFargate.
Composite: PrivateEksFargate (everything in one stack). App: PrivateEksFargateStage (three stacks).
"""

from .cluster import PrivateCluster
from .compliance import PrivateEksChecks, acknowledge, enable_compliance_checks
from .config import (
    ClusterSettings,
    ComplianceSettings,
    EndpointSettings,
    ExistingVpcSettings,
    FargateProfileSpec,
    NetworkSettings,
    PlatformSettings,
)
from .context import settings_from_context, stage_from_context
from .coredns import CoreDnsOnFargate
from .endpoints import ENDPOINT_CATALOG, EndpointNeed, PrivateEndpoints, required_endpoints
from .errors import ConfigError
from .network import PrivateNetwork
from .platform import PrivateEksFargate
from .stacks import ClusterStack, EndpointsStack, NetworkStack, PrivateEksFargateStage
from .versions import DEFAULT_KUBERNETES_VERSION, RELEASES

__all__ = [
    "ClusterSettings",
    "ClusterStack",
    "ComplianceSettings",
    "ConfigError",
    "CoreDnsOnFargate",
    "DEFAULT_KUBERNETES_VERSION",
    "ENDPOINT_CATALOG",
    "EndpointNeed",
    "EndpointSettings",
    "EndpointsStack",
    "ExistingVpcSettings",
    "FargateProfileSpec",
    "NetworkSettings",
    "NetworkStack",
    "PlatformSettings",
    "PrivateCluster",
    "PrivateEksChecks",
    "PrivateEksFargate",
    "PrivateEksFargateStage",
    "PrivateEndpoints",
    "PrivateNetwork",
    "RELEASES",
    "acknowledge",
    "enable_compliance_checks",
    "required_endpoints",
    "settings_from_context",
    "stage_from_context",
]
