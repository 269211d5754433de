"""The network: isolated subnets only, DNS on, no NAT or internet gateway; existing VPCs imported without lookups."""

import pytest

from conftest import EXISTING_VPC

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
    for key, resource in all_synths[config].all_resources().items():
        assert resource["Type"] not in FORBIDDEN, key
        if resource["Type"] == "AWS::EC2::Route":
            pytest.fail(f"{key} adds a route; the cluster subnets must have none beyond local and S3")


def test_default_security_group_is_closed(default_app):
    restrict = default_app.resources(NETWORK, "Custom::VpcRestrictDefaultSG")
    assert len(restrict) == 1


def test_existing_vpc_creates_no_network_stack_and_no_vpc(existing_vpc_app):
    assert "Prod/Network" not in existing_vpc_app.templates
    assert not existing_vpc_app.all_resources() or all(
        r["Type"] not in ("AWS::EC2::VPC", "AWS::EC2::Subnet") for r in existing_vpc_app.all_resources().values()
    )


def test_existing_vpc_subnets_are_used_verbatim(existing_vpc_app):
    (cluster,) = existing_vpc_app.resources("Prod/Cluster", "AWS::EKS::Cluster").values()
    assert cluster["Properties"]["ResourcesVpcConfig"]["SubnetIds"] == list(EXISTING_VPC.subnet_ids)
