"""The app's stage: one deployment of the platform (one account and region) as three stacks."""

from __future__ import annotations

from aws_cdk import Environment, Stack, Stage
from constructs import Construct

from ..compliance import apply_tags, enable_compliance_checks
from ..composition.platform import Platform, Scopes, compose
from ..settings import PlatformSettings


class PrivateEksFargateStage(Stage):
    """Stacks ``Network``, ``Endpoints`` and ``Cluster``, filled by the one composition (``compose``).

    The cluster stack depends on the endpoints stack, so ``cdk deploy 'STAGE/*'`` creates the endpoints first
    and ``cdk destroy 'STAGE/*'`` deletes the cluster (and its kubectl custom resources) while the endpoints
    the kubectl Lambdas use still exist. For an existing VPC there is no Network stack; with
    ``endpoints.create`` false there is no Endpoints stack.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: PlatformSettings,
        env: Environment | None = None,
        compliance_checks: bool = True,
    ) -> None:
        """
        :param settings: all settings (validated here, before any stack is defined)
        :param env: account and region. default: none, environment-agnostic stacks (synth needs no AWS calls)
        :param compliance_checks: run the cdk-nag packs and the project's EKS checks on every synth
            (``compliance.enable_compliance_checks``). default: true
        """
        settings.validate()
        super().__init__(scope, construct_id, env=env)
        self.settings = settings

        def stack(name: str) -> Stack:
            return Stack(self, name, termination_protection=settings.compliance.production)

        self.network_stack = stack("Network") if settings.network.existing_vpc is None else None
        self.endpoints_stack = stack("Endpoints") if settings.endpoints.create else None
        self.cluster_stack = stack("Cluster")
        self.platform: Platform = compose(
            settings,
            Scopes(
                network=self.network_stack,
                endpoints=self.endpoints_stack or self.cluster_stack,
                cluster=self.cluster_stack,
            ),
        )
        apply_tags(self, settings.compliance.tags)
        if compliance_checks:
            enable_compliance_checks(self)
