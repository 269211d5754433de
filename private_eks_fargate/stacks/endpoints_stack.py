from __future__ import annotations

from typing import Sequence

from aws_cdk import Stack
from constructs import Construct

from ..config import NetworkSettings
from ..endpoints import EndpointNeed, PrivateEndpoints
from ..network import PrivateNetwork
from ._network import network_in


class EndpointsStack(Stack):
    """The VPC endpoints the cluster needs, in their own stack so they outlive the cluster on destroy."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        network: PrivateNetwork | NetworkSettings,
        needs: Sequence[EndpointNeed],
        strict_data_perimeter: bool = False,
        **kwargs,
    ) -> None:
        """
        :param network: the network stack's network, or settings of an existing VPC to import here
        :param needs: the endpoints to create (``endpoints.required_endpoints``)
        :param strict_data_perimeter: restrictive endpoint policies (``perimeter.py``). default: false
        """
        super().__init__(scope, construct_id, **kwargs)
        network = network_in(self, network)
        self.endpoints = PrivateEndpoints(
            self,
            "Endpoints",
            vpc=network.vpc,
            subnets=network.cluster_subnets,
            needs=needs,
            allowed_cidr=network.vpc_cidr,
            strict_data_perimeter=strict_data_perimeter,
        )
