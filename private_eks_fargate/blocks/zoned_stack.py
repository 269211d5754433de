"""A stack whose availability zones are the ones named in configuration, so none are looked up."""

from __future__ import annotations

from typing import Any, Sequence

from aws_cdk import Stack
from constructs import Construct


class ZonedStack(Stack):
    """A ``Stack`` that answers ``availability_zones`` with the zones given, instead of looking them up.

    aws-cdk-lib's ``Vpc`` reads the stack's zones even when it is given zone names (to check them), and a stack
    bound to an account and region looks those up with AWS calls at synth. Naming the zones (e.g.
    ``network.availability_zones``) is the way to synthesize such a stack without credentials or cached context.
    """

    def __init__(self, scope: Construct, construct_id: str, *, zones: Sequence[str] = (), **kwargs: Any) -> None:
        """
        :param zones: the availability zones of this stack. default: none, aws-cdk-lib's behaviour (looked up
            for a stack with account and region, two zone tokens for an environment-agnostic one)
        :param kwargs: everything ``Stack`` takes (env, termination_protection, …)
        """
        super().__init__(scope, construct_id, **kwargs)
        self._zones = list(zones)

    @property
    def availability_zones(self) -> list[str]:
        return list(self._zones) if self._zones else super().availability_zones
