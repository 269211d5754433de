"""VPC endpoints: which ones the cluster needs and why (one catalog), and the construct that creates them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable, Sequence

from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from .network import selected_subnets
from .perimeter import interface_endpoint_statements, s3_gateway_statements
from .security_groups import HTTPS

if TYPE_CHECKING:
    from ..settings import PlatformSettings


@dataclass(frozen=True)
class EndpointNeed:
    """One AWS service the VPC must reach privately, who needs it and why (written into the template)."""

    service: str
    needed_by: str
    why: str
    gateway: bool = False


#: Features of the platform; each endpoint is created when a feature that needs it is enabled.
FARGATE = "fargate-pods"
KUBECTL = "kubectl-custom-resources"
LOGGING = "fargate-logging"
IRSA = "irsa"
BASTION = "ssm-bastion"
#: The deploy-time image copy (ImageMirror): its custom-resource Lambda, in the VPC, starts and polls CodeBuild.
IMAGE_COPY = "image-copy"
#: Software in the VPC that calls the EC2 API (e.g. the AWS Load Balancer Controller). Nothing in this platform
#: does; a feature that adds such a caller enables it, a user asks for it with endpoints.extra_services.
EC2_API = "ec2-api-in-vpc"
#: The account's Session Manager preferences encrypt sessions (kmsKeyId) or an S3 log bucket's key: the bastion's agent
#: calls KMS. They log sessions to CloudWatch Logs (cloudWatchLogGroupName): the agent writes to it.
SESSION_ENCRYPTION = "ssm-session-encryption"
SESSION_LOGS = "ssm-session-logs"
#: ... and to S3 (s3BucketName): the agent writes through the S3 gateway endpoint.
SESSION_S3_LOGS = "ssm-session-s3-logs"

DEFAULT_FEATURES = frozenset({FARGATE, KUBECTL, LOGGING, IRSA})
#: The consumer named for endpoints the user asked for.
USER_CONSUMER = "user configuration (endpoints.extra_services)"

#: The one place that says which endpoint exists for whom. Order is the order of creation.
ENDPOINT_CATALOG: dict[str, tuple[EndpointNeed, frozenset[str]]] = {
    need.service: (need, frozenset(features))
    for need, features in (
        (
            EndpointNeed(
                "s3",
                "Fargate image pulls; kubectl provider-framework Lambda",
                "ECR keeps image layers in S3; the provider Lambda PUTs custom-resource responses to "
                "CloudFormation's pre-signed S3 URL. Gateway endpoint: no hourly charge.",
                gateway=True,
            ),
            (FARGATE, KUBECTL),
        ),
        (
            EndpointNeed(
                "ecr.api",
                "Fargate image pulls (CoreDNS and workloads)",
                "ECR registry API: authorization token and image manifests for pulls from ECR.",
            ),
            (FARGATE,),
        ),
        (
            EndpointNeed(
                "ecr.dkr",
                "Fargate image pulls (CoreDNS and workloads)",
                "ECR Docker registry endpoint that image pulls connect to.",
            ),
            (FARGATE,),
        ),
        (
            EndpointNeed(
                "sts",
                "pods using IAM roles for service accounts",
                "Regional STS: AssumeRoleWithWebIdentity for IRSA tokens (Pod Identity is not available on Fargate).",
            ),
            (IRSA,),
        ),
        (
            EndpointNeed(
                "logs",
                "Fargate log router",
                "CloudWatch Logs: Fargate's built-in Fluent Bit ships container logs to the log group.",
            ),
            (LOGGING,),
        ),
        (
            EndpointNeed(
                "kms",
                "SSM-managed bastion (Session Manager preferences with a KMS key)",
                "KMS: the bastion's SSM Agent decrypts the session key of the account's Session Manager preferences "
                "(kmsKeyId), or writes session logs to a bucket encrypted with a KMS key.",
            ),
            (SESSION_ENCRYPTION,),
        ),
        (
            EndpointNeed(
                "ec2",
                "software in the VPC that calls the EC2 API",
                "EC2 API, e.g. for the AWS Load Balancer Controller. Nothing in this platform calls it from the "
                "VPC, so it exists only with a feature that does or on request (endpoints.extra_services).",
            ),
            (EC2_API,),
        ),
        (
            EndpointNeed(
                "eks",
                "kubectl handler Lambda",
                "EKS API: the handler runs `aws eks update-kubeconfig` (DescribeCluster) before every kubectl call.",
            ),
            (KUBECTL,),
        ),
        (
            EndpointNeed(
                "lambda",
                "kubectl provider-framework Lambda",
                "Lambda API: the provider-framework Lambda, in the VPC, invokes the kubectl handler Lambda.",
            ),
            (KUBECTL,),
        ),
        (
            EndpointNeed("ssm", "SSM-managed bastion", "Systems Manager: the agent registers and receives commands."),
            (BASTION,),
        ),
        (
            EndpointNeed("ssmmessages", "SSM-managed bastion", "Session Manager data channel for shell sessions."),
            (BASTION,),
        ),
        (
            EndpointNeed(
                "codebuild",
                "image copy Lambda",
                "CodeBuild API: the image copy's custom-resource Lambda, in the VPC, starts the copy build and polls "
                "it until it ends (the build itself runs outside the VPC).",
            ),
            (IMAGE_COPY,),
        ),
        (
            EndpointNeed(
                "ec2messages",
                "SSM agents older than 3.3.40.0 (on request)",
                "Amazon Message Delivery Service. SSM Agent 3.3.40.0 and later use ssmmessages (Amazon Message Gateway "
                "Service) whenever it is reachable (AWS Systems Manager User Guide, 'Reference: ec2messages, "
                "ssmmessages, and other API operations'); the bastion's Amazon Linux 2023 agent is newer, so it is "
                "created only on request (endpoints.extra_services), e.g. for a pinned older AMI.",
            ),
            (),
        ),
    )
}


#: A further consumer of a catalog service when a feature is on: (who, why), added to that endpoint's Purpose.
ALSO_FOR: dict[str, dict[str, tuple[str, str]]] = {
    "s3": {
        SESSION_S3_LOGS: (
            "SSM-managed bastion (Session Manager session logs to S3)",
            "The bastion's SSM Agent writes session logs to the bucket the account's Session Manager preferences name "
            "(s3BucketName).",
        ),
    },
    "logs": {
        SESSION_LOGS: (
            "SSM-managed bastion (Session Manager session logs)",
            "The bastion's SSM Agent streams session logs to the log group the account's Session Manager preferences "
            "name (cloudWatchLogGroupName).",
        ),
    },
}


def platform_features(settings: "PlatformSettings") -> frozenset[str]:
    """The features a configuration enables: the one place that turns settings into endpoint needs."""
    features = set(DEFAULT_FEATURES)
    operations = settings.operations
    if not operations.fargate_logging:
        features.discard(LOGGING)
    if operations.bastion and operations.bastion_subnet == "isolated":
        features.add(BASTION)  # a public-subnet bastion reaches Systems Manager through its internet gateway
        preferences = operations.session_manager_preferences
        if preferences.get("kmsKeyId") or preferences.get("s3BucketKmsKeyArn"):
            features.add(SESSION_ENCRYPTION)
        if preferences.get("cloudWatchLogGroupName"):
            features.add(SESSION_LOGS)
        if preferences.get("s3BucketName"):
            features.add(SESSION_S3_LOGS)
    if settings.workloads.sample_app:
        features.add(IMAGE_COPY)  # the sample app's image is copied; a user's workload with images adds it too
    return frozenset(features)


def required_endpoints(
    features: Iterable[str] = DEFAULT_FEATURES, extra_services: Sequence[str] = ()
) -> list[EndpointNeed]:
    """The endpoints the enabled features need, in catalog order, then the user's extra services."""
    enabled = set(features)
    needs = []
    for need, wanted_by in ENDPOINT_CATALOG.values():
        parts = [(need.needed_by, need.why)] if wanted_by & enabled else []
        parts += [also for feature, also in ALSO_FOR.get(need.service, {}).items() if feature in enabled]
        if parts:
            needs.append(EndpointNeed(need.service, "; ".join(who for who, _ in parts), " ".join(why for _, why in parts),
                                      need.gateway))
    present = {need.service for need in needs}
    needs += [
        EndpointNeed(
            service,
            USER_CONSUMER,
            ENDPOINT_CATALOG[service][0].why if service in ENDPOINT_CATALOG else "Added by endpoints.extra_services.",
        )
        for service in extra_services
        if service not in present
    ]
    return needs


class PrivateEndpoints(Construct):
    """Gateway and interface VPC endpoints with private DNS, behind one security group that admits 443 from the VPC.

    Each endpoint resource carries `Metadata.Purpose` (who needs it and why) for the reviewer.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        needs: Sequence[EndpointNeed] | None = None,
        allowed_cidr: str | None = None,
        strict_data_perimeter: bool = False,
        single_zone: bool = False,
        session_log_bucket: str | None = None,
    ) -> None:
        """
        :param vpc: the VPC to add endpoints to
        :param subnets: the cluster subnets: interface endpoints get an ENI in each, the S3 gateway endpoint
            is added to their route tables
        :param needs: the endpoints to create. default: ``required_endpoints()`` for the default features
        :param allowed_cidr: who may reach the endpoints on 443. default: the VPC's CIDR. Never 0.0.0.0/0.
        :param strict_data_perimeter: endpoint policies that admit only this account's principals and the S3
            buckets the platform needs (``perimeter.py``). default: false, the AWS default full-access policies
        :param single_zone: interface endpoints get an ENI in the first of `subnets` only (``endpoints.single_zone``):
            a cost profile for non-production stages; if that zone fails, the VPC loses every AWS API the interface
            endpoints serve. default: false, an ENI in every subnet
        :param session_log_bucket: the S3 bucket the account's Session Manager preferences log sessions to; with the
            strict data perimeter the S3 gateway endpoint admits this account's writes to it. default: none
        """
        super().__init__(scope, construct_id)
        interface_subnets = subnets
        if single_zone:
            interface_subnets = ec2.SubnetSelection(subnets=selected_subnets(vpc, subnets).subnets[:1])
        self.needs = list(needs if needs is not None else required_endpoints())
        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=vpc,
            description="VPC interface endpoints: HTTPS from inside the VPC only",
            allow_all_outbound=False,
        )
        self.security_group.add_ingress_rule(
            ec2.Peer.ipv4(allowed_cidr or vpc.vpc_cidr_block),
            ec2.Port.tcp(HTTPS),
            "HTTPS from inside the VPC to the AWS service endpoints",
        )
        self.endpoints: dict[str, ec2.IVpcEndpoint] = {}
        self._vpc, self._subnets, self._interface_subnets = vpc, subnets, interface_subnets
        self._strict = strict_data_perimeter
        self._session_log_bucket = session_log_bucket
        for need in self.needs:
            self._add(need)

    def enable(self, feature: str) -> None:
        """Add the catalog's endpoints for `feature` that are not here yet (a feature used after construction, e.g.
        the image copy of a user's workload)."""
        for need in required_endpoints((feature,)):
            if need.service not in self.endpoints:
                self.needs.append(need)
                self._add(need)

    def _add(self, need: EndpointNeed) -> None:
        vpc, subnets = self._vpc, self._subnets
        construct_name = need.service.replace(".", "-")
        if need.gateway:
            endpoint = ec2.GatewayVpcEndpoint(
                self,
                construct_name,
                vpc=vpc,
                service=ec2.GatewayVpcEndpointAwsService(need.service),
                subnets=[subnets],
            )
        else:
            endpoint = ec2.InterfaceVpcEndpoint(
                self,
                construct_name,
                vpc=vpc,
                service=ec2.InterfaceVpcEndpointAwsService(need.service),
                subnets=self._interface_subnets,
                private_dns_enabled=True,
                open=False,
                security_groups=[self.security_group],
            )
        if self._strict:
            gateway = s3_gateway_statements(self._session_log_bucket) if need.gateway else None
            for statement in gateway or interface_endpoint_statements(need.service):
                endpoint.add_to_policy(statement)
        endpoint.node.default_child.add_metadata(
            "Purpose", {"Service": need.service, "NeededBy": need.needed_by, "Why": need.why}
        )
        self.endpoints[need.service] = endpoint
