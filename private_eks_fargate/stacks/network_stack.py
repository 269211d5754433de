from __future__ import annotations

from aws_cdk import Stack
from constructs import Construct

from ..config import NetworkSettings
from ..network import PrivateNetwork


class NetworkStack(Stack):
    """The isolated VPC. Not created for an existing VPC: the other stacks import it themselves."""

    def __init__(
        self, scope: Construct, construct_id: str, *, settings: NetworkSettings, public_bastion_subnet: bool = False, **kwargs
    ) -> None:
        """
        :param settings: the network settings
        :param public_bastion_subnet: add the bastion-only public subnets and internet gateway. default: false
        """
        super().__init__(scope, construct_id, **kwargs)
        self.network = PrivateNetwork(self, "Network", settings=settings, public_bastion_subnet=public_bastion_subnet)
