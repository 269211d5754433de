"""The one composition: the wiring that turns PlatformSettings into a whole platform.

``compose()`` builds network, endpoints, cluster (with CoreDNS), sample application, operator access and outputs
into the scopes it is given. The composite construct ``PrivateEksFargate`` gives it one scope; the app's stage
gives it a stack per part. What differs between the two follows from the scopes alone: an existing VPC is
imported once per stack that needs it, the cluster waits for the endpoints by a construct dependency in one stack
and by a stack dependency across stacks, and the VPC id is an output of the network's own stack only when that
is not the cluster's.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from ..blocks.cluster import PrivateCluster
from ..blocks.endpoints import PrivateEndpoints, platform_features, required_endpoints
from ..blocks.network import PrivateNetwork
from ..blocks.regions import RegionGuard
from ..compliance import apply_tags
from ..settings import PlatformSettings
from .operations import ClusterOperations, VerifyTarget
from .sample_app import SampleApp

ENDPOINTS_DEPENDENCY = "the kubectl Lambdas reach EKS, Lambda and S3 through the endpoints"


@dataclass(frozen=True)
class Scopes:
    """Where each part is defined. ``network`` is None only when there is nothing to create (an existing VPC)
    and no single scope to import it into once."""

    network: Construct | None
    endpoints: Construct
    cluster: Construct


@dataclass
class Platform:
    """The parts ``compose()`` built (``endpoints`` and ``sample_app`` may be absent by configuration)."""

    settings: PlatformSettings
    network: PrivateNetwork
    endpoints: PrivateEndpoints | None
    cluster: PrivateCluster
    sample_app: SampleApp | None
    operations: ClusterOperations


def compose(settings: PlatformSettings, scopes: Scopes) -> Platform:
    """Build the platform described by `settings` (validated first) into `scopes`."""
    settings.validate()
    compliance = settings.compliance
    imported: dict[int, PrivateNetwork] = {}

    def network_in(scope: Construct) -> PrivateNetwork:
        """The VPC as seen from `scope`: the one created, or the existing VPC imported once per scope."""
        if created is not None:
            return created
        if id(scope) not in imported:
            imported[id(scope)] = PrivateNetwork(scope, "Network", settings=settings.network)
        return imported[id(scope)]

    created = None
    if settings.network.existing_vpc is None:
        created = PrivateNetwork(
            scopes.network,
            "Network",
            settings=settings.network,
            log_retention_days=compliance.log_retention_days,
            public_bastion_subnet=settings.public_bastion_subnet,
        )
    elif scopes.network is not None:
        network_in(scopes.network)

    endpoints = None
    if settings.endpoints.create:
        network = network_in(scopes.endpoints)
        endpoints = PrivateEndpoints(
            scopes.endpoints,
            "Endpoints",
            vpc=network.vpc,
            subnets=network.cluster_subnets,
            needs=required_endpoints(platform_features(settings), settings.endpoints.extra_services),
            allowed_cidr=network.vpc_cidr,
            strict_data_perimeter=compliance.strict_data_perimeter,
            single_zone=settings.endpoints.single_zone,
            session_log_bucket=settings.operations.session_manager_preferences.get("s3BucketName") or None,
        )
    cluster_stack = Stack.of(scopes.cluster)
    endpoints_alongside = endpoints is not None and Stack.of(endpoints) is cluster_stack

    network = network_in(scopes.cluster)
    cluster = PrivateCluster(
        scopes.cluster,
        "Cluster",
        vpc=network.vpc,
        subnets=network.cluster_subnets,
        settings=settings.cluster,
        endpoints=[endpoints] if endpoints_alongside else [],
        log_retention_days=compliance.log_retention_days,
        allowed_registries=settings.workloads.allowed_registries,
        deletion_protection=compliance.production,
    )
    if endpoints is not None:
        cluster.endpoint_enabler = endpoints.enable
    sample_app = (
        SampleApp(cluster, "SampleApp", cluster=cluster, settings=settings.workloads) if settings.workloads.sample_app else None
    )
    cluster.add_outputs(scopes.cluster, network.vpc)
    operations = ClusterOperations(
        scopes.cluster,
        "Operations",
        cluster=cluster,
        network=network,
        settings=settings.operations,
        verify=sample_app.verify_target if sample_app else VerifyTarget.platform_only(settings.cluster),
    )
    operations.add_outputs(scopes.cluster)

    if endpoints is not None and not endpoints_alongside:
        cluster_stack.add_stack_dependency(Stack.of(endpoints), ENDPOINTS_DEPENDENCY)
    if created is not None and Stack.of(created) is not cluster_stack:
        CfnOutput(Stack.of(created), "VpcId", value=created.vpc.vpc_id, description="VPC of the cluster")
    parts = [part for part in (created, operations.bastion) if part is not None]
    stacks = [Stack.of(scope) for scope in (scopes.network, scopes.endpoints, scopes.cluster) if scope is not None]
    guard = RegionGuard(scopes.cluster, "RegionGuard", stacks=stacks, needs=[lambda part=part: part.region_needs for part in parts])
    guard.check()
    return Platform(settings, network, endpoints, cluster, sample_app, operations)


class PrivateEksFargate(Construct):
    """The whole platform inside any stack: network, VPC endpoints, cluster with CoreDNS on Fargate, the sample
    application, operator access and the operator outputs, kubectl work ordered after the endpoints.

    Works with a new VPC (default) or ``settings.network.existing_vpc``; with ``settings.endpoints.create``
    false no endpoints are created and the VPC is trusted to have them. Tags from ``settings.compliance.tags``
    go on everything under it; stack-level choices (termination protection, the compliance packs) stay with
    the stack and app you put it in (``enable_compliance_checks(app)``).
    """

    def __init__(self, scope: Construct, construct_id: str, *, settings: PlatformSettings | None = None) -> None:
        """
        :param settings: all settings. default: ``PlatformSettings()``
        """
        settings = settings or PlatformSettings()
        settings.validate()
        super().__init__(scope, construct_id)
        self.settings = settings
        platform = compose(settings, Scopes(network=self, endpoints=self, cluster=self))
        self.network = platform.network
        self.endpoints = platform.endpoints
        self.cluster = platform.cluster
        self.sample_app = platform.sample_app
        self.operations = platform.operations
        apply_tags(self, settings.compliance.tags, plain_resources_in=[platform.cluster.cluster])
