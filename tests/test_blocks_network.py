"""The network: isolated subnets only, DNS on, no NAT or internet gateway; existing VPCs imported without lookups."""

import json
from pathlib import Path

import aws_cdk as cdk
import pytest

from conftest import EXISTING_VPC, synthesize


def test_placement_by_name_uses_a_cached_zone_lookup(tmp_path):
    """network.zones_by_name keeps what stages deployed before zone IDs did: an account-bound stack's zones come from
    the CLI's lookup, cached in cdk.context.json."""
    from private_eks_fargate import NetworkSettings, PrivateNetwork

    cached = {"availability-zones:account=111122223333:region=eu-west-1": ["eu-west-1a", "eu-west-1b", "eu-west-1c"]}

    def build(app):
        stack = cdk.Stack(app, "Net", env=cdk.Environment(account="111122223333", region="eu-west-1"))
        PrivateNetwork(stack, "Network", settings=NetworkSettings(az_count=3, zones_by_name=True))

    synth = synthesize(tmp_path, build, cached)
    assert json.loads((Path(synth.assembly.directory) / "manifest.json").read_text()).get("missing", []) == []
    zones = sorted(s["Properties"]["AvailabilityZone"] for s in synth.resources("Net", "AWS::EC2::Subnet").values())
    assert zones == ["eu-west-1a", "eu-west-1b", "eu-west-1c"]


NETWORK = "Dev/Network"


FORBIDDEN = ("AWS::EC2::NatGateway", "AWS::EC2::InternetGateway", "AWS::EC2::VPCGatewayAttachment", "AWS::EC2::EIP",
             "AWS::EC2::EgressOnlyInternetGateway")


def test_new_vpc_has_dns_support_and_hostnames(default_app):
    (vpc,) = default_app.resources(NETWORK, "AWS::EC2::VPC").values()
    assert vpc["Properties"]["EnableDnsSupport"] is True
    assert vpc["Properties"]["EnableDnsHostnames"] is True
    assert vpc["Properties"]["CidrBlock"] == "10.0.0.0/16"


def test_two_isolated_subnets_placed_by_zone_id_per_region_by_default(default_app):
    from private_eks_fargate.regions import EKS_REFUSED_ZONE_IDS, default_zone_ids

    subnets = default_app.resources(NETWORK, "AWS::EC2::Subnet")
    assert len(subnets) == 2
    # environment-agnostic: the zone IDs come from a mapping by region, the same physical zones in every account
    assert sorted(s["Properties"]["AvailabilityZoneId"]["Fn::FindInMap"][2] for s in subnets.values()) == ["Zone1", "Zone2"]
    assert not [s for s in subnets.values() if "AvailabilityZone" in s["Properties"]]
    (name,) = {s["Properties"]["AvailabilityZoneId"]["Fn::FindInMap"][0] for s in subnets.values()}
    mapping = default_app.template(NETWORK)["Mappings"][name]
    assert len(mapping) >= 30
    assert {region: tuple(row.values()) for region, row in mapping.items()} == {r: default_zone_ids(r, 2) for r in mapping}
    assert mapping["us-east-1"] == {"Zone1": "use1-az1", "Zone2": "use1-az2"}
    assert mapping["us-west-1"] == {"Zone1": "usw1-az1", "Zone2": "usw1-az3"}  # usw1-az2: EKS refuses it
    assert not {zone for row in mapping.values() for zone in row.values()} & set(EKS_REFUSED_ZONE_IDS)
    for subnet in subnets.values():
        assert subnet["Properties"]["MapPublicIpOnLaunch"] is False
        tags = {t["Key"]: t["Value"] for t in subnet["Properties"]["Tags"]}
        assert tags["aws-cdk:subnet-type"] == "Isolated"


@pytest.mark.parametrize("config", ["default", "existing-vpc", "user-stack"])
def test_no_nat_no_internet_gateway_and_no_default_route_anywhere(all_synths, config):
    resources = all_synths[config].all_resources()
    assert resources
    for key, resource in resources.items():
        assert resource["Type"] not in FORBIDDEN, key
        if resource["Type"] == "AWS::EC2::Route":
            pytest.fail(f"{key} adds a route; the cluster subnets must have none beyond local and S3")


def test_default_security_group_is_closed_by_aws_runbook_without_a_lambda(default_app):
    (vpc_id,) = default_app.resources(NETWORK, "AWS::EC2::VPC")
    (association,) = default_app.resources(NETWORK, "AWS::SSM::Association").values()
    props = association["Properties"]
    assert props["Name"] == "AWSConfigRemediation-RemoveVPCDefaultSecurityGroupRules"
    assert props["Parameters"]["GroupId"] == [{"Fn::GetAtt": [vpc_id, "DefaultSecurityGroup"]}]
    # CloudFormation waits for the first run and fails the Network stack unless it reports Success within 5 minutes:
    # a runbook that fails does not leave the group open behind a green deploy
    assert props["WaitForSuccessTimeoutSeconds"] == 300
    role_id = props["Parameters"]["AutomationAssumeRole"][0]["Fn::GetAtt"][0]
    role = default_app.resources(NETWORK)[role_id]
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "ssm.amazonaws.com"}
    # no Lambda outside the VPC (AWS Control Tower CT.LAMBDA.PR.3), no EC2 API call from the VPC
    assert not default_app.resources(NETWORK, "AWS::Lambda::Function")
    assert not default_app.resources(NETWORK, "Custom::VpcRestrictDefaultSG")


def test_existing_vpc_creates_no_network_stack_and_no_vpc(existing_vpc_app):
    assert "Prod/Network" not in existing_vpc_app.templates
    assert not existing_vpc_app.all_resources() or all(
        r["Type"] not in ("AWS::EC2::VPC", "AWS::EC2::Subnet") for r in existing_vpc_app.all_resources().values()
    )


def test_existing_vpc_subnets_are_used_verbatim(existing_vpc_app):
    (cluster,) = existing_vpc_app.resources("Prod/Cluster", "AWS::EKS::Cluster").values()
    assert cluster["Properties"]["ResourcesVpcConfig"]["SubnetIds"] == list(EXISTING_VPC.subnet_ids)


def test_vpc_flow_logs_capture_all_traffic_into_the_encrypted_group_without_inline_policies(default_app):
    (flow_log,) = default_app.resources("Dev/Network", "AWS::EC2::FlowLog").values()
    props = flow_log["Properties"]
    assert props["TrafficType"] == "ALL" and props["LogDestinationType"] == "cloud-watch-logs"
    (vpc_id,) = default_app.resources("Dev/Network", "AWS::EC2::VPC")
    assert props["ResourceId"] == {"Ref": vpc_id}
    role_id = props["DeliverLogsPermissionArn"]["Fn::GetAtt"][0]
    role = default_app.resources("Dev/Network")[role_id]
    assert "Policies" not in role["Properties"]
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Condition"] == {
        "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    }
    (policy,) = [p for p in default_app.resources("Dev/Network", "AWS::IAM::ManagedPolicy").values()
                 if p["Properties"]["Roles"] == [{"Ref": role_id}]]
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Resource"] == {"Fn::GetAtt": [props["LogGroupName"]["Ref"], "Arn"]}
    assert not default_app.resources("Dev/Network", "AWS::IAM::Policy")


def _subnet_zones(synth, stack="Net") -> list[tuple[str, str]]:
    """(property, zone) of each subnet: placed by AvailabilityZoneId or by AvailabilityZone."""
    found = [
        next((key, props[key]) for key in ("AvailabilityZoneId", "AvailabilityZone") if key in props)
        for props in (s["Properties"] for s in synth.resources(stack, "AWS::EC2::Subnet").values())
    ]
    return sorted(found, key=json.dumps)


def test_an_account_bound_stack_gets_its_regions_zone_ids_without_a_lookup(tmp_path):
    """ZonedStack (what the app's stage uses) is given the region's zone IDs: no AWS call at synth."""
    from private_eks_fargate import NetworkSettings, PrivateNetwork
    from private_eks_fargate.blocks.network import zone_choice
    from private_eks_fargate.blocks.zoned_stack import ZonedStack

    settings = NetworkSettings(az_count=3)
    ids = zone_choice(settings, "ap-southeast-2").zones
    assert ids == ("apse2-az1", "apse2-az2", "apse2-az3")

    def build(app):
        stack = ZonedStack(app, "Net", zones=ids, env=cdk.Environment(account="111122223333", region="ap-southeast-2"))
        PrivateNetwork(stack, "Network", settings=settings)

    synth = synthesize(tmp_path, build)
    assert json.loads((Path(synth.assembly.directory) / "manifest.json").read_text()).get("missing", []) == []
    assert _subnet_zones(synth) == [("AvailabilityZoneId", zone) for zone in ids]
    assert "Mappings" not in synth.template("Net")


def test_zone_ids_given_are_placed_literally_and_tie_an_agnostic_template_to_their_region(tmp_path):
    from private_eks_fargate import NetworkSettings, PrivateNetwork

    network = {}

    def build(app):
        network["it"] = PrivateNetwork(cdk.Stack(app, "Net"), "Network", settings=NetworkSettings(availability_zones=("euw1-az3", "euw1-az1")))

    synth = synthesize(tmp_path, build)
    assert _subnet_zones(synth) == [("AvailabilityZoneId", "euw1-az1"), ("AvailabilityZoneId", "euw1-az3")]
    assert network["it"].region_needs.zone_ids == ("euw1-az3", "euw1-az1")


def test_zone_names_in_an_account_bound_stack_are_placed_by_name(tmp_path):
    """Names mean one zone in one account: a stack bound to it may use them (checked to be of its region)."""
    from private_eks_fargate import NetworkSettings, PrivateNetwork
    from private_eks_fargate.blocks.zoned_stack import ZonedStack

    zones = ("eu-west-1b", "eu-west-1c")

    def build(app):
        stack = ZonedStack(app, "Net", zones=zones, env=cdk.Environment(account="111122223333", region="eu-west-1"))
        PrivateNetwork(stack, "Network", settings=NetworkSettings(availability_zones=zones))

    synth = synthesize(tmp_path, build)
    assert json.loads((Path(synth.assembly.directory) / "manifest.json").read_text()).get("missing", []) == []
    assert _subnet_zones(synth) == [("AvailabilityZone", zone) for zone in zones]


def test_placement_by_name_in_an_agnostic_stack_is_what_it_was_before_zone_ids(tmp_path):
    """network.zones_by_name on an environment-agnostic stage: the account's first zones by Fn::GetAZs, so a stage
    deployed that way keeps its subnets."""
    from private_eks_fargate import NetworkSettings, PrivateNetwork

    synth = synthesize(tmp_path, lambda app: PrivateNetwork(cdk.Stack(app, "Net"), "Network", settings=NetworkSettings(zones_by_name=True)))
    assert _subnet_zones(synth) == [("AvailabilityZone", {"Fn::Select": [i, {"Fn::GetAZs": ""}]}) for i in (0, 1)]
    assert "Mappings" not in synth.template("Net")


def test_a_plain_stack_with_account_and_region_still_looks_zones_up(tmp_path):
    """The control for ZonedStack: aws-cdk-lib's Vpc reads the stack's zones even when it is given zones; with the
    lookup cached, the zone IDs are still what the subnets get."""
    from private_eks_fargate import NetworkSettings, PrivateNetwork

    def build(app):
        stack = cdk.Stack(app, "Net", env=cdk.Environment(account="111122223333", region="eu-west-1"))
        PrivateNetwork(stack, "Network", settings=NetworkSettings())

    synth = synthesize(tmp_path, build)
    missing = json.loads((Path(synth.assembly.directory) / "manifest.json").read_text()).get("missing", [])
    assert [m["provider"] for m in missing] == ["availability-zones"]
    cached = {"availability-zones:account=111122223333:region=eu-west-1": ["eu-west-1a", "eu-west-1b", "eu-west-1c"]}
    synth = synthesize(tmp_path / "cached", build, cached)
    assert _subnet_zones(synth) == [("AvailabilityZoneId", "euw1-az1"), ("AvailabilityZoneId", "euw1-az2")]


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"availability_zones": ("eu-west-1a", "eu-west-1b")},
         "network.availability_zones: 'eu-west-1a' is not a zone of us-east-1, the stacks' region; name zones of us-east-1, e.g. use1-az1,use1-az2"),
        ({"availability_zones": ("euw1-az1", "euw1-az2")},
         "network.availability_zones: 'euw1-az1' is not a zone of us-east-1, the stacks' region; name zones of us-east-1, e.g. use1-az1,use1-az2"),
        ({"existing_vpc": EXISTING_VPC},
         "network.existing_availability_zones: 'eu-west-1a' is not a zone of us-east-1, the stacks' region; name zones of us-east-1, e.g. use1-az1,use1-az2"),
    ],
)
def test_zones_are_checked_against_the_stack_region(settings, message):
    from private_eks_fargate import ConfigError, NetworkSettings, PrivateNetwork

    stack = cdk.Stack(cdk.App(), "Net", env=cdk.Environment(account="111122223333", region="us-east-1"))
    with pytest.raises(ConfigError) as error:
        PrivateNetwork(stack, "Network", settings=NetworkSettings(**settings))
    assert str(error.value) == message


def test_zone_names_in_an_environment_agnostic_stack_are_refused_in_one_line():
    from private_eks_fargate import ConfigError, NetworkSettings, PrivateNetwork

    with pytest.raises(ConfigError) as error:
        PrivateNetwork(cdk.Stack(cdk.App(), "Net"), "Network", settings=NetworkSettings(availability_zones=("eu-west-1a", "eu-west-1b")))
    assert str(error.value) == (
        "network.availability_zones: 'eu-west-1a' is a zone name, and zone names stand for other zones in every account; "
        "give zone IDs (e.g. euw1-az1,euw1-az2; `aws ec2 describe-availability-zones --query "
        "'AvailabilityZones[].[ZoneName,ZoneId]'` lists them), or bind the stage to app.account and app.region"
    )


def test_zones_of_the_right_region_pass_and_agnostic_stacks_are_not_checked():
    from private_eks_fargate import NetworkSettings, PrivateNetwork

    bound = cdk.Stack(cdk.App(), "Net", env=cdk.Environment(account="111122223333", region="us-east-1"))
    names = PrivateNetwork(bound, "Network", settings=NetworkSettings(availability_zones=("us-east-1a", "us-east-1b")))
    assert names.vpc.availability_zones == ["us-east-1a", "us-east-1b"]
    agnostic = cdk.Stack(cdk.App(), "Net")
    ids = PrivateNetwork(agnostic, "Network", settings=NetworkSettings(availability_zones=("euw1-az1", "euw1-az2")))
    assert ids.zone_choice.zones == ("euw1-az1", "euw1-az2")
