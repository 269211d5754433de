"""The network: isolated subnets only, DNS on, no NAT or internet gateway; existing VPCs imported without lookups."""

import json
from pathlib import Path

import aws_cdk as cdk
import pytest

from conftest import EXISTING_VPC, synthesize


def test_a_cached_zone_lookup_is_used(tmp_path):

    from private_eks_fargate import NetworkSettings, PrivateNetwork

    cached = {"availability-zones:account=111122223333:region=eu-west-1": ["eu-west-1a", "eu-west-1b", "eu-west-1c"]}

    def build(app):
        stack = cdk.Stack(app, "Net", env=cdk.Environment(account="111122223333", region="eu-west-1"))
        PrivateNetwork(stack, "Network", settings=NetworkSettings(az_count=3))

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


def test_two_isolated_subnets_in_two_zones_by_default(default_app):
    subnets = default_app.resources(NETWORK, "AWS::EC2::Subnet")
    assert len(subnets) == 2
    zones = [s["Properties"]["AvailabilityZone"] for s in subnets.values()]
    # environment-agnostic: zones are picked by Fn::GetAZs at deploy time, no AWS call at synth
    assert sorted(z["Fn::Select"][0] for z in zones) == [0, 1]
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


def test_named_zones_are_used_without_a_lookup_in_a_stack_with_account_and_region(tmp_path):
    """ZonedStack (what the app's stage uses) answers the stack's zones from configuration: no AWS call at synth."""
    from private_eks_fargate import NetworkSettings, PrivateNetwork
    from private_eks_fargate.blocks.zoned_stack import ZonedStack

    zones = ("eu-west-1b", "eu-west-1c")

    def build(app):
        stack = ZonedStack(app, "Net", zones=zones, env=cdk.Environment(account="111122223333", region="eu-west-1"))
        PrivateNetwork(stack, "Network", settings=NetworkSettings(availability_zones=zones))

    synth = synthesize(tmp_path, build)
    assert json.loads((Path(synth.assembly.directory) / "manifest.json").read_text()).get("missing", []) == []
    subnets = synth.resources("Net", "AWS::EC2::Subnet").values()
    assert sorted(s["Properties"]["AvailabilityZone"] for s in subnets) == list(zones)


def test_a_plain_stack_with_account_and_region_still_looks_zones_up(tmp_path):
    """The control for the test above: aws-cdk-lib's Vpc reads the stack's zones even when it is given zone names."""
    from private_eks_fargate import NetworkSettings, PrivateNetwork

    def build(app):
        stack = cdk.Stack(app, "Net", env=cdk.Environment(account="111122223333", region="eu-west-1"))
        PrivateNetwork(stack, "Network", settings=NetworkSettings(availability_zones=("eu-west-1a", "eu-west-1b")))

    synth = synthesize(tmp_path, build)
    missing = json.loads((Path(synth.assembly.directory) / "manifest.json").read_text()).get("missing", [])
    assert [m["provider"] for m in missing] == ["availability-zones"]


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"availability_zones": ("eu-west-1a", "eu-west-1b")},
         "network.availability_zones: 'eu-west-1a' is not a zone of us-east-1, the stacks' region; name zones of us-east-1, e.g. us-east-1a"),
        ({"existing_vpc": EXISTING_VPC},
         "network.existing_availability_zones: 'eu-west-1a' is not a zone of us-east-1, the stacks' region; name zones of us-east-1, e.g. us-east-1a"),
    ],
)
def test_zone_names_are_checked_against_the_stack_region(settings, message):
    from private_eks_fargate import ConfigError, NetworkSettings, PrivateNetwork

    stack = cdk.Stack(cdk.App(), "Net", env=cdk.Environment(account="111122223333", region="us-east-1"))
    with pytest.raises(ConfigError) as error:
        PrivateNetwork(stack, "Network", settings=NetworkSettings(**settings))
    assert str(error.value) == message


def test_zone_names_of_the_right_region_pass_and_agnostic_stacks_are_not_checked():
    from private_eks_fargate import NetworkSettings, PrivateNetwork

    zones = NetworkSettings(availability_zones=("us-east-1a", "us-east-1b"))
    bound = cdk.Stack(cdk.App(), "Net", env=cdk.Environment(account="111122223333", region="us-east-1"))
    assert PrivateNetwork(bound, "Network", settings=zones).vpc.availability_zones == ["us-east-1a", "us-east-1b"]
    agnostic = cdk.Stack(cdk.App(), "Net")
    other = NetworkSettings(availability_zones=("eu-west-1a", "eu-west-1b"))
    assert PrivateNetwork(agnostic, "Network", settings=other).vpc.availability_zones == ["eu-west-1a", "eu-west-1b"]
