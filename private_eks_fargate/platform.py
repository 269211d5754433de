"""The composite construct: a complete private EKS-on-Fargate platform inside any stack."""

from __future__ import annotations

from constructs import Construct

from .cluster import PrivateCluster
from .compliance import apply_tags
from .config import PlatformSettings
from .endpoints import PrivateEndpoints, platform_features, required_endpoints
from .network import PrivateNetwork
from .operations import ClusterOperations


class PrivateEksFargate(Construct):
    """Network, VPC endpoints, cluster and operator access in one scope, kubectl work ordered after the endpoints.

    Works with a new VPC (default) or ``settings.network.existing_vpc``; with ``settings.endpoints.create``
    false no endpoints are created and the VPC is trusted to have them.
    """

    def __init__(self, scope: Construct, construct_id: str, *, settings: PlatformSettings | None = None) -> None:
        """
        :param settings: all settings. default: ``PlatformSettings()``
        """
        settings = settings or PlatformSettings()
        settings.validate()
        super().__init__(scope, construct_id)
        self.settings = settings
        compliance = settings.compliance
        self.network = PrivateNetwork(
            self,
            "Network",
            settings=settings.network,
            log_retention_days=compliance.log_retention_days,
            public_bastion_subnet=settings.public_bastion_subnet,
        )
        self.endpoints = (
            PrivateEndpoints(
                self,
                "Endpoints",
                vpc=self.network.vpc,
                subnets=self.network.cluster_subnets,
                needs=required_endpoints(platform_features(settings), settings.endpoints.extra_services),
                allowed_cidr=self.network.vpc_cidr,
                strict_data_perimeter=compliance.strict_data_perimeter,
            )
            if settings.endpoints.create
            else None
        )
        self.cluster = PrivateCluster(
            self,
            "Cluster",
            vpc=self.network.vpc,
            subnets=self.network.cluster_subnets,
            settings=settings.cluster,
            endpoints=[self.endpoints] if self.endpoints else [],
            log_retention_days=compliance.log_retention_days,
            workloads=settings.workloads,
        )
        self.operations = ClusterOperations(
            self, "Operations", cluster=self.cluster, network=self.network, settings=settings.operations
        )
        apply_tags(self, compliance.tags)
