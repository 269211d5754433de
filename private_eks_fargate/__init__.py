"""A fully private Amazon EKS cluster on AWS Fargate, as CDK constructs, stacks and a stage.

Building blocks: PrivateNetwork, PrivateEndpoints, PrivateCluster, CoreDnsOnFargate; workloads: Workload,
ImageMirror, SampleApp; operator access and observability: ClusterOperations (SsmBastion, FargateLogging, access
entries), irsa_service_account.
Composite: PrivateEksFargate (everything in one stack). App: PrivateEksFargateStage (three stacks).
"""

from .bastion import SsmBastion
from .cluster import PrivateCluster
from .compliance import PrivateEksChecks, acknowledge, enable_compliance_checks
from .config import (
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
from .context import settings_from_context, stage_from_context
from .coredns import CoreDnsOnFargate
from .endpoints import ENDPOINT_CATALOG, EndpointNeed, PrivateEndpoints, required_endpoints
from .errors import ConfigError
from .fargate_logging import FargateLogging
from .irsa import irsa_service_account
from .image_mirror import ImageMirror
from .images import ImagePolicy
from .network import PrivateNetwork
from .operations import ClusterOperations
from .platform import PrivateEksFargate
from .sample_app import SampleApp
from .stacks import ClusterStack, EndpointsStack, NetworkStack, PrivateEksFargateStage
from .versions import DEFAULT_KUBERNETES_VERSION, RELEASES
from .workload import Workload

__all__ = [
    "ClusterSettings",
    "ClusterOperations",
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
    "FargateLogging",
    "FargateProfileSpec",
    "ImageMirror",
    "ImagePolicy",
    "MirroredImage",
    "NetworkSettings",
    "NetworkStack",
    "OperationsSettings",
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
    "SsmBastion",
    "irsa_service_account",
    "SampleApp",
    "Workload",
    "WorkloadSettings",
    "required_endpoints",
    "settings_from_context",
    "stage_from_context",
]
