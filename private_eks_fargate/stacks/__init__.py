"""The app's stacks: each composes one building block; the stage wires them per account and region."""

from .cluster_stack import ClusterStack
from .endpoints_stack import EndpointsStack
from .network_stack import NetworkStack
from .stage import PrivateEksFargateStage

__all__ = ["ClusterStack", "EndpointsStack", "NetworkStack", "PrivateEksFargateStage"]
