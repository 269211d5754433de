"""The VPC: new and isolated (no NAT, no internet gateway), or an existing one imported without lookups."""

from __future__ import annotations

import jsii
from aws_cdk import Acknowledgment, Aws, CfnMapping, IStableStringProducer, Lazy, Stack, Token, Validations
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from ..compliance import HIPAA, NIST, PCI, acknowledge, acknowledge_in_packs, nag_arn
from ..regions import Needs, ZoneChoice, default_zone_ids, zone_mapping
from ..settings import OperationsSettings, key_of
from ..settings.checks import check_zones_in_region, is_zone_id
from ..settings.model import PUBLIC_BASTION_NEEDS_NEW_VPC, ExistingVpcSettings, NetworkSettings
from ..settings.errors import ConfigError
from .logs import DEFAULT_LOG_RETENTION_DAYS, retained_log_group

#: The AWS-owned Systems Manager Automation runbook that removes every rule from a VPC's default security group
#: (parameters GroupId and AutomationAssumeRole; its role needs ec2:DescribeSecurityGroups, ec2:RevokeSecurityGroupEgress,
#: ec2:RevokeSecurityGroupIngress, ssm:StartAutomationExecution, ssm:GetAutomationExecution: Systems Manager Automation
#: Runbook Reference). It runs in AWS, not in the VPC: no Lambda outside the VPC (CT.LAMBDA.PR.3), no EC2 endpoint.
CLOSE_DEFAULT_SG_RUNBOOK = "AWSConfigRemediation-RemoveVPCDefaultSecurityGroupRules"
#: CloudFormation waits up to this long for the association's first run to report Success and fails the deploy (the
#: Network stack) otherwise: a runbook that fails leaves no open default group behind a green deploy. The runbook
#: revokes two rules and takes seconds; the rest is State Manager starting it.
CLOSE_DEFAULT_SG_WAIT_SECONDS = 300
#: /20 per subnet: room for about 4,000 Fargate pods per availability zone (each pod takes one IP).
SUBNET_CIDR_MASK = 20
SUBNET_GROUP = "cluster"
#: The optional public subnets (one /28 per zone) that hold only the bastion; the cluster subnets never route to them.
BASTION_SUBNET_GROUP = "bastion"
BASTION_SUBNET_CIDR_MASK = 28

SELECTION_FIELDS = ("availability_zones", "one_per_az", "subnet_filters", "subnet_group_name", "subnets", "subnet_type")


@jsii.implements(IStableStringProducer)
class _Literal:
    def __init__(self, value: str) -> None:
        self.value = value

    def produce(self, context=None) -> str:  # noqa: ARG002
        return self.value


def selected_subnets(vpc: ec2.IVpc, selection: ec2.SubnetSelection) -> ec2.SelectedSubnets:
    """``vpc.select_subnets`` for a SubnetSelection value (the Python binding takes its fields as keywords)."""
    return vpc.select_subnets(**{name: getattr(selection, name) for name in SELECTION_FIELDS})


class PrivateNetwork(Construct):
    """A VPC whose cluster subnets have no route to the internet.

    New VPC: one isolated subnet per availability zone, DNS support and hostnames on (private endpoint and
    endpoint private DNS need both), no NAT gateway, no internet gateway, default security group closed (by a Systems
    Manager association that runs AWS's ``AWSConfigRemediation-RemoveVPCDefaultSecurityGroupRules`` runbook at deploy),
    flow logs (all traffic) to a KMS-encrypted log group that is kept on destroy.
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
            self.zone_choice = zone_choice(settings, Stack.of(scope).region)
            self.vpc = ec2.Vpc(
                self,
                "Vpc",
                ip_addresses=ec2.IpAddresses.cidr(settings.vpc_cidr),
                nat_gateways=0,
                enable_dns_support=True,
                enable_dns_hostnames=True,
                # closed by the runbook association below instead of aws-cdk-lib's Lambda, which would call the EC2
                # API from outside the VPC (CT.LAMBDA.PR.3) or need an ec2 endpoint inside it
                restrict_default_security_group=False,
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
                **self._zones_for_vpc(),
            )
            if self.zone_choice.by_name and settings.availability_zones:
                # what aws-cdk-lib's Stack does for zones it looked up: literal zone names are expected here
                Validations.of(self.vpc).acknowledge(Acknowledgment(
                    id="CloudFormation-Validate::W3010",
                    reason="the subnets' zones are named in network.availability_zones on purpose: no lookup at synth",
                ))
            if not self.zone_choice.by_name:
                for subnet in [*self.vpc.isolated_subnets, *self.vpc.public_subnets]:
                    # the Vpc placed the subnet with the zone given to it, which is an ID here: move it where it belongs
                    resource = subnet.node.default_child
                    resource.availability_zone_id = subnet.availability_zone
                    resource.availability_zone = None
            self.flow_log_group = retained_log_group(self, "FlowLogs", retention_days=log_retention_days)
            flow_log = self.vpc.add_flow_log(
                "FlowLog",
                destination=ec2.FlowLogDestination.to_cloud_watch_logs(self.flow_log_group, self._flow_log_role()),
                traffic_type=ec2.FlowLogTrafficType.ALL,
            )
            # the role's permissions are a separate managed policy: the flow log must not start delivering before it
            flow_log.node.add_dependency(self.flow_log_policy)
            self._close_default_security_group()
            for subnet in self.vpc.public_subnets:
                acknowledge_in_packs(
                    subnet.node.find_child("DefaultRoute"),
                    "VPCNoUnrestrictedRouteToIGW",
                    (NIST, HIPAA, PCI),
                    "This route to the internet gateway exists only because operations.bastion_subnet is 'public': it "
                    "serves the bastion-only public subnet, and the cluster subnets have no route to it.",
                )

    def _zones_for_vpc(self) -> dict:
        """What ``ec2.Vpc`` is given: the zones (IDs, names, or a mapping's per-region IDs) or how many to look up."""
        choice = self.zone_choice
        if choice.per_region:
            mapping = CfnMapping(self, "ZoneIds", mapping=zone_mapping(choice.per_region))
            return {"availability_zones": [mapping.find_in_map(Aws.REGION, f"Zone{i + 1}") for i in range(choice.per_region)]}
        if choice.zones and not choice.by_name:
            # tokens: aws-cdk-lib compares literal zones with the stack's (names, when a plain stack looked them up)
            return {"availability_zones": [Lazy.string(_Literal(zone)) for zone in choice.zones]}
        if choice.zones:
            return {"availability_zones": list(choice.zones)}
        return {"max_azs": self.settings.az_count}

    @property
    def region_needs(self) -> Needs:
        """What the new VPC needs from the deploying region (nothing for an existing VPC)."""
        return self.zone_choice.needs if self.settings.existing_vpc is None else Needs()

    def _close_default_security_group(self) -> None:
        """A State Manager association that runs the runbook once, when it is created, on this VPC's default group."""
        stack = Stack.of(self)
        group = self.vpc.vpc_default_security_group
        role = iam.Role(
            self,
            "CloseDefaultSecurityGroupRole",
            description="Systems Manager Automation: remove every rule of this VPC's default security group",
            assumed_by=iam.ServicePrincipal("ssm.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}}),
        )
        policy = iam.ManagedPolicy(
            self,
            "CloseDefaultSecurityGroupPolicy",
            description=f"What {CLOSE_DEFAULT_SG_RUNBOOK} needs, on this VPC's default security group",
            roles=[role],
            statements=[
                iam.PolicyStatement(
                    actions=["ec2:RevokeSecurityGroupIngress", "ec2:RevokeSecurityGroupEgress"],
                    resources=[stack.format_arn(service="ec2", resource="security-group", resource_name=group)],
                ),
                iam.PolicyStatement(actions=["ec2:DescribeSecurityGroups"], resources=["*"]),
                iam.PolicyStatement(
                    actions=["ssm:StartAutomationExecution", "ssm:GetAutomationExecution"],
                    resources=[
                        stack.format_arn(service="ssm", account="", resource="automation-definition",
                                         resource_name=f"{CLOSE_DEFAULT_SG_RUNBOOK}:*"),
                        stack.format_arn(service="ssm", resource="automation-execution", resource_name="*"),
                    ],
                ),
            ],
        )
        self.close_default_security_group = ssm.CfnAssociation(
            self,
            "CloseDefaultSecurityGroup",
            name=CLOSE_DEFAULT_SG_RUNBOOK,
            parameters={"GroupId": [group], "AutomationAssumeRole": [role.role_arn]},
            wait_for_success_timeout_seconds=CLOSE_DEFAULT_SG_WAIT_SECONDS,
        )
        self.close_default_security_group.node.add_dependency(policy)
        resource = policy.node.default_child
        acknowledge(
            resource,
            "AwsSolutions-IAM5[Resource::*]",
            "ec2:DescribeSecurityGroups, which the default-security-group runbook calls first, takes no resource in "
            "IAM, so only * is accepted; the revoke actions are limited to this VPC's default security group.",
        )
        # AWS-owned runbooks have no account in their ARN
        account = "<AWS::AccountId>" if Token.is_unresolved(stack.account) else stack.account
        definition = nag_arn(self, "ssm", f"automation-definition/{CLOSE_DEFAULT_SG_RUNBOOK}:*").replace(
            f":{account}:automation-definition", "::automation-definition"
        )
        for finding, what in (
            (f"Resource::{definition}", "every version (:*) of the one AWS-owned runbook it runs"),
            (f"Resource::{nag_arn(self, 'ssm', 'automation-execution/*')}",
             "the executions of this account, whose ids are known only when Automation starts them"),
        ):
            acknowledge(
                resource,
                f"AwsSolutions-IAM5[{finding}]",
                f"The default-security-group runbook role may start and read Automation on {what}; the runbook's "
                "documented permissions, nothing else.",
            )
        acknowledge_in_packs(
            self.vpc.node.default_child,
            "VPCDefaultSecurityGroupClosed",
            (NIST, HIPAA, PCI),
            f"This VPC's default security group is closed at deploy by the Systems Manager association "
            f"{stack.resolve(self.close_default_security_group.logical_id)}, which runs AWS's {CLOSE_DEFAULT_SG_RUNBOOK} "
            "runbook on it; nothing uses that group.",
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


def zone_choice(settings: NetworkSettings, region: str) -> ZoneChoice:
    """Where a new VPC's subnets go: the zone IDs given, the region's first usable IDs (literal when the region is
    known, a per-region mapping when it is not), or, by name, the names given or the first az_count of the region."""
    key = lambda name: key_of(NetworkSettings, name)  # noqa: E731
    given = tuple(settings.availability_zones)
    agnostic = Token.is_unresolved(region)
    if settings.zones_by_name:
        if not given and settings.az_count > 2 and agnostic:
            raise ConfigError(
                key("az_count"),
                f"{settings.az_count} zones by name need {key('availability_zones')} (zone names) or an account and "
                "region for the stack; environment-agnostic stacks can address only 2 zones by name without AWS calls",
            )
        return ZoneChoice(by_name=True, zones=given)
    if given and not is_zone_id(given[0]):
        if agnostic:
            raise ConfigError(
                key("availability_zones"),
                f"{given[0]!r} is a zone name, and zone names stand for other zones in every account; give zone IDs "
                "(e.g. euw1-az1,euw1-az2; `aws ec2 describe-availability-zones --query "
                "'AvailabilityZones[].[ZoneName,ZoneId]'` lists them), or bind the stage to app.account and app.region",
            )
        return ZoneChoice(by_name=True, zones=given)
    if given:
        return ZoneChoice(by_name=False, zones=given)
    ids = None if agnostic else default_zone_ids(region, settings.az_count)
    if ids is None:
        # per region; a region with too few zones is refused by the region rule (and at synth when it is known)
        return ZoneChoice(by_name=False, per_region=settings.az_count)
    return ZoneChoice(by_name=False, zones=ids)


def _check_zones_in_region(settings: NetworkSettings, region: str) -> None:
    """Zone names of another region cannot be deployed: checked when the stack's region is known at synth."""
    if Token.is_unresolved(region):
        return  # environment-agnostic: the region is known only at deploy
    if settings.existing_vpc is not None:
        check_zones_in_region(key_of(ExistingVpcSettings, "availability_zones"), settings.existing_vpc.availability_zones, region)
    else:
        check_zones_in_region(key_of(NetworkSettings, "availability_zones"), settings.availability_zones, region)
