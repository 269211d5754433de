from __future__ import annotations

from aws_cdk import Stack
from constructs import Construct

from ..cluster import PrivateCluster
from ..config import ClusterSettings, NetworkSettings, OperationsSettings, WorkloadSettings
from ..logs import DEFAULT_LOG_RETENTION_DAYS
from ..network import PrivateNetwork
from ..operations import ClusterOperations
from ._network import network_in


class ClusterStack(Stack):
    """The EKS cluster, its Fargate profiles, the Kubernetes objects the platform applies, and operator access."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        network: PrivateNetwork | NetworkSettings,
        settings: ClusterSettings,
        log_retention_days: int = DEFAULT_LOG_RETENTION_DAYS,
        operations: OperationsSettings | None = None,
        workloads: WorkloadSettings | None = None,
        **kwargs,
    ) -> None:
        """
        :param network: the network stack's network, or settings of an existing VPC to import here
        :param settings: the cluster settings
        :param log_retention_days: retention of the control-plane log group. default: 365
        :param operations: bastion, admin access, Fargate logging. default: ``OperationsSettings()``
        :param workloads: the sample application and image guard settings. default: ``WorkloadSettings()``
        """
        super().__init__(scope, construct_id, **kwargs)
        network = network_in(self, network)
        self.cluster = PrivateCluster(
            self, "Cluster", vpc=network.vpc, subnets=network.cluster_subnets, settings=settings,
            log_retention_days=log_retention_days, workloads=workloads,
        )  # fmt: skip
        self.cluster.add_outputs(self, network.vpc)
        self.operations = ClusterOperations(self, "Operations", cluster=self.cluster, network=network, settings=operations)
        self.operations.add_outputs(self)
