"""A fully private Amazon EKS cluster on AWS Fargate, as CDK constructs, stacks and a stage.

Building blocks: PrivateNetwork, PrivateEndpoints, PrivateCluster, CoreDnsOnFargate, Workload, ImageMirror.
Composite: PrivateEksFargate (everything in one stack). App: PrivateEksFargateStage (three stacks).
"""

from .cluster import PrivateCluster
from .config import (
    ClusterSettings,
    EndpointSettings,
    ExistingVpcSettings,
    FargateProfileSpec,
    MirroredImage,
    NetworkSettings,
    PlatformSettings,
    WorkloadSettings,
)
from .context import settings_from_context, stage_from_context
from .coredns import CoreDnsOnFargate
from .endpoints import ENDPOINT_CATALOG, EndpointNeed, PrivateEndpoints, required_endpoints
from .errors import ConfigError
from .image_mirror import ImageMirror
from .images import ImagePolicy
from .network import PrivateNetwork
from .platform import PrivateEksFargate
from .sample_app import SampleApp
from .stacks import ClusterStack, EndpointsStack, NetworkStack, PrivateEksFargateStage
from .versions import DEFAULT_KUBERNETES_VERSION, RELEASES
from .workload import Workload

__all__ = [
    "ClusterSettings",
    "ClusterStack",
    "ConfigError",
    "CoreDnsOnFargate",
    "DEFAULT_KUBERNETES_VERSION",
    "ENDPOINT_CATALOG",
    "EndpointNeed",
    "EndpointSettings",
    "EndpointsStack",
    "ExistingVpcSettings",
    "FargateProfileSpec",
    "ImageMirror",
    "ImagePolicy",
    "MirroredImage",
    "NetworkSettings",
    "NetworkStack",
    "PlatformSettings",
    "PrivateCluster",
    "PrivateEksFargate",
    "PrivateEksFargateStage",
    "PrivateEndpoints",
    "PrivateNetwork",
    "RELEASES",
    "SampleApp",
    "Workload",
    "WorkloadSettings",
    "required_endpoints",
    "settings_from_context",
    "stage_from_context",
]
