from __future__ import annotations

from aws_cdk import Stack

from ..config import NetworkSettings
from ..network import PrivateNetwork


def network_in(stack: Stack, network: PrivateNetwork | NetworkSettings) -> PrivateNetwork:
    """The network stack's network as is; an existing VPC is imported into `stack` (ids only, no resources)."""
    if isinstance(network, PrivateNetwork):
        return network
    return PrivateNetwork(stack, "Network", settings=network)
