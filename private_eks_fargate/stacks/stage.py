from __future__ import annotations

from aws_cdk import Environment, Stage
from constructs import Construct

from ..compliance import apply_tags, enable_compliance_checks
from ..config import PlatformSettings
from ..endpoints import platform_features, required_endpoints
from .cluster_stack import ClusterStack
from .endpoints_stack import EndpointsStack
from .network_stack import NetworkStack


class PrivateEksFargateStage(Stage):
    """One deployment of the platform (one account and region): stacks Network, Endpoints and Cluster.

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
        compliance = settings.compliance
        protection = {"termination_protection": compliance.production}
        self.network_stack = (
            NetworkStack(
                self,
                "Network",
                settings=settings.network,
                log_retention_days=compliance.log_retention_days,
                public_bastion_subnet=settings.public_bastion_subnet,
                **protection,
            )
            if settings.network.existing_vpc is None
            else None
        )
        network = self.network_stack.network if self.network_stack else settings.network
        self.endpoints_stack = (
            EndpointsStack(
                self,
                "Endpoints",
                network=network,
                needs=required_endpoints(platform_features(settings), settings.endpoints.extra_services),
                strict_data_perimeter=compliance.strict_data_perimeter,
                **protection,
            )
            if settings.endpoints.create
            else None
        )
        self.cluster_stack = ClusterStack(
            self,
            "Cluster",
            network=network,
            settings=settings.cluster,
            log_retention_days=compliance.log_retention_days,
            workloads=settings.workloads,
            operations=settings.operations,
            **protection,
        )
        if self.endpoints_stack is not None:
            self.cluster_stack.add_stack_dependency(
                self.endpoints_stack, "the kubectl Lambdas reach EKS, Lambda and S3 through the endpoints"
            )
        apply_tags(self, compliance.tags)
        if compliance_checks:
            enable_compliance_checks(self)
