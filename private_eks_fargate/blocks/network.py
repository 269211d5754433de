"""The VPC: new and isolated (no NAT, no internet gateway), or an existing one imported without lookups."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Aws, Stack, Token, Validations
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from constructs import Construct

from ..compliance import HIPAA, NIST, PCI, REDUNDANT_ROLE_DEPENDENCY, acknowledge_in_packs, ignore_cfn_lint
from ..settings import OperationsSettings, key_of
from ..settings.checks import check_zones_in_region
from ..settings.model import PUBLIC_BASTION_NEEDS_NEW_VPC, ExistingVpcSettings, NetworkSettings
from ..settings.errors import ConfigError
from .logs import DEFAULT_LOG_RETENTION_DAYS, retained_log_group

#: /20 per subnet: room for about 4,000 Fargate pods per availability zone (each pod takes one IP).
SUBNET_CIDR_MASK = 20
SUBNET_GROUP = "cluster"
#: The optional public subnets (one /28 per zone) that hold only the bastion; the cluster subnets never route to them.
BASTION_SUBNET_GROUP = "bastion"
BASTION_SUBNET_CIDR_MASK = 28

SELECTION_FIELDS = ("availability_zones", "one_per_az", "subnet_filters", "subnet_group_name", "subnets", "subnet_type")


def selected_subnets(vpc: ec2.IVpc, selection: ec2.SubnetSelection) -> ec2.SelectedSubnets:
    """``vpc.select_subnets`` for a SubnetSelection value (the Python binding takes its fields as keywords)."""
    return vpc.select_subnets(**{name: getattr(selection, name) for name in SELECTION_FIELDS})


class PrivateNetwork(Construct):
    """A VPC whose cluster subnets have no route to the internet.

    New VPC: one isolated subnet per availability zone, DNS support and hostnames on (private endpoint and
    endpoint private DNS need both), no NAT gateway, no internet gateway, default security group closed, flow logs
    (all traffic) to a KMS-encrypted log group that is kept on destroy.
    Existing VPC (`settings.existing_vpc`): imported from ids in the settings; nothing is looked up.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: NetworkSettings | None = None,
        log_retention_days: int = DEFAULT_LOG_RETENTION_DAYS,
        public_bastion_subnet: bool = False,
    ) -> None:
        """
        :param settings: the network settings. default: ``NetworkSettings()``, a new 2-AZ isolated VPC
        :param log_retention_days: retention of the new VPC's flow-log group. default: 365
        :param public_bastion_subnet: add a public subnet group for the bastion alone, with an internet gateway
            routed from those subnets only (new VPC only). default: false, no public subnet and no gateway
        """
        settings = settings or NetworkSettings()
        settings.validate()
        if settings.existing_vpc is not None and public_bastion_subnet:
            raise ConfigError(key_of(OperationsSettings, "bastion_subnet"), PUBLIC_BASTION_NEEDS_NEW_VPC)
        _check_zones_in_region(settings, Stack.of(scope).region)
        super().__init__(scope, construct_id)
        self.settings = settings
        existing = settings.existing_vpc
        if existing is not None:
            self.vpc: ec2.IVpc = ec2.Vpc.from_vpc_attributes(
                self,
                "Vpc",
                vpc_id=existing.vpc_id,
                vpc_cidr_block=existing.vpc_cidr,
                availability_zones=list(existing.availability_zones),
                isolated_subnet_ids=list(existing.subnet_ids),
                isolated_subnet_route_table_ids=list(existing.route_table_ids) or None,
            )
        else:
            stack = Stack.of(self)
            if not settings.availability_zones and settings.az_count > 2 and Token.is_unresolved(stack.region):
                raise ConfigError(
                    key_of(NetworkSettings, "az_count"),
                    f"{settings.az_count} zones need {key_of(NetworkSettings, 'availability_zones')} (zone names) or an account and region "
                    "for the stack; environment-agnostic stacks can address only 2 zones without AWS calls",
                )
            zone_choice = (
                {"availability_zones": list(settings.availability_zones)}
                if settings.availability_zones
                else {"max_azs": settings.az_count}
            )
            self.vpc = ec2.Vpc(
                self,
                "Vpc",
                ip_addresses=ec2.IpAddresses.cidr(settings.vpc_cidr),
                nat_gateways=0,
                enable_dns_support=True,
                enable_dns_hostnames=True,
                restrict_default_security_group=True,
                subnet_configuration=[
                    ec2.SubnetConfiguration(
                        name=SUBNET_GROUP,
                        subnet_type=ec2.SubnetType.PRIVATE_ISOLATED,
                        cidr_mask=SUBNET_CIDR_MASK,
                    ),
                    *(
                        [
                            ec2.SubnetConfiguration(
                                name=BASTION_SUBNET_GROUP,
                                subnet_type=ec2.SubnetType.PUBLIC,
                                cidr_mask=BASTION_SUBNET_CIDR_MASK,
                                # only the bastion gets a public address, set on the instance itself
                                map_public_ip_on_launch=False,
                            )
                        ]
                        if public_bastion_subnet
                        else []
                    ),
                ],
                **zone_choice,
            )
            if settings.availability_zones:
                # what aws-cdk-lib's Stack does for zones it looked up: literal zone names are expected here
                Validations.of(self.vpc).acknowledge(Acknowledgment(
                    id="CloudFormation-Validate::W3010",
                    reason="the subnets' zones are named in network.availability_zones on purpose: no lookup at synth",
                ))
            self.flow_log_group = retained_log_group(self, "FlowLogs", retention_days=log_retention_days)
            flow_log = self.vpc.add_flow_log(
                "FlowLog",
                destination=ec2.FlowLogDestination.to_cloud_watch_logs(self.flow_log_group, self._flow_log_role()),
                traffic_type=ec2.FlowLogTrafficType.ALL,
            )
            # the role's permissions are a separate managed policy: the flow log must not start delivering before it
            flow_log.node.add_dependency(self.flow_log_policy)
            restrict_default_sg = stack.node.find_child("Custom::VpcRestrictDefaultSGCustomResourceProvider")
            ignore_cfn_lint(restrict_default_sg.node.find_child("Handler"), REDUNDANT_ROLE_DEPENDENCY)
            for subnet in self.vpc.public_subnets:
                acknowledge_in_packs(
                    subnet.node.find_child("DefaultRoute"),
                    "VPCNoUnrestrictedRouteToIGW",
                    (NIST, HIPAA, PCI),
                    "This route to the internet gateway exists only because operations.bastion_subnet is 'public': it "
                    "serves the bastion-only public subnet, and the cluster subnets have no route to it.",
                )

    def _flow_log_role(self) -> iam.IRole:
        """The flow-log delivery role with a customer-managed policy (no inline policy): it may write to the
        flow-log group only, and only VPC Flow Logs of this account may assume it."""
        role = iam.Role(
            self,
            "FlowLogRole",
            description="VPC Flow Logs delivery to the flow-log group of this VPC",
            assumed_by=iam.ServicePrincipal(
                "vpc-flow-logs.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}}
            ),
        )
        self.flow_log_policy = iam.ManagedPolicy(
            self,
            "FlowLogPolicy",
            description="Write VPC flow logs to the flow-log group of this VPC",
            roles=[role],
            statements=[
                iam.PolicyStatement(
                    actions=["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                    resources=[self.flow_log_group.log_group_arn],
                )
            ],
        )
        # CDK's FlowLog would add an inline policy to a mutable role; the managed policy above covers it
        return role.without_policy_updates()

    @property
    def vpc_cidr(self) -> str:
        """The VPC's CIDR as written in the settings (a literal in every template, no cross-stack reference)."""
        existing = self.settings.existing_vpc
        return existing.vpc_cidr if existing is not None else self.settings.vpc_cidr

    @property
    def bastion_subnets(self) -> ec2.SubnetSelection:
        """The public bastion subnets (only with ``public_bastion_subnet``)."""
        return ec2.SubnetSelection(subnet_group_name=BASTION_SUBNET_GROUP)

    @property
    def cluster_subnets(self) -> ec2.SubnetSelection:
        """The private subnets for the control-plane ENIs, Fargate pods, kubectl Lambdas and endpoints."""
        return ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)


def _check_zones_in_region(settings: NetworkSettings, region: str) -> None:
    """Zone names of another region cannot be deployed: checked when the stack's region is known at synth."""
    if Token.is_unresolved(region):
        return  # environment-agnostic: the region is known only at deploy
    if settings.existing_vpc is not None:
        check_zones_in_region(key_of(ExistingVpcSettings, "availability_zones"), settings.existing_vpc.availability_zones, region)
    else:
        check_zones_in_region(key_of(NetworkSettings, "availability_zones"), settings.availability_zones, region)
