from __future__ import annotations

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from ..config import NetworkSettings
from ..logs import DEFAULT_LOG_RETENTION_DAYS
from ..network import PrivateNetwork


class NetworkStack(Stack):
    """The isolated VPC. Not created for an existing VPC: the other stacks import it themselves."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: NetworkSettings,
        log_retention_days: int = DEFAULT_LOG_RETENTION_DAYS,
        public_bastion_subnet: bool = False,
        **kwargs,
    ) -> None:
        """
        :param settings: the network settings
        :param log_retention_days: retention of the flow-log group. default: 365
        :param public_bastion_subnet: add the bastion-only public subnets and internet gateway. default: false
        """
        super().__init__(scope, construct_id, **kwargs)
        self.network = PrivateNetwork(
            self,
            "Network",
            settings=settings,
            log_retention_days=log_retention_days,
            public_bastion_subnet=public_bastion_subnet,
        )
        CfnOutput(self, "VpcId", value=self.network.vpc.vpc_id, description="VPC of the cluster")
