"""VPC endpoints: the derived set, private DNS, one security group admitting 443 from the VPC only, and the why."""

from __future__ import annotations

import pytest
from private_eks_fargate import (
    ENDPOINT_CATALOG,
    OperationsSettings,
    PlatformSettings,
    required_endpoints,
)
from private_eks_fargate.blocks.endpoints import BASTION, DEFAULT_FEATURES, KUBECTL, LOGGING, platform_features

from conftest import EXISTING_VPC, synthesize

ENDPOINTS = "Dev/Endpoints"


SEED_AND_KUBECTL = {"ecr.api", "ecr.dkr", "ec2", "sts", "logs", "eks", "lambda"}


SSM = {"ssm", "ssmmessages", "ec2messages"}


def service_of(endpoint: dict) -> str:
    """`com.amazonaws.<region>.<service>` -> `<service>` from the Fn::Join CDK renders."""
    parts = endpoint["Properties"]["ServiceName"]["Fn::Join"][1]
    return parts[-1].lstrip(".")


def interface_endpoints(synth, stack):
    return {
        service_of(e): e
        for e in synth.resources(stack, "AWS::EC2::VPCEndpoint").values()
        if e["Properties"].get("VpcEndpointType") == "Interface"
    }


def test_default_interface_endpoints_are_the_seed_list_plus_eks_lambda_and_the_bastions_ssm(default_app):
    assert set(interface_endpoints(default_app, ENDPOINTS)) == SEED_AND_KUBECTL | SSM


def test_interface_endpoints_use_private_dns_and_the_cluster_subnets(default_app):
    subnet_refs = None
    endpoints = interface_endpoints(default_app, ENDPOINTS)
    assert endpoints
    for service, endpoint in endpoints.items():
        props = endpoint["Properties"]
        assert props["PrivateDnsEnabled"] is True, service
        assert len(props["SubnetIds"]) == 2, service
        subnet_refs = subnet_refs or props["SubnetIds"]
        assert props["SubnetIds"] == subnet_refs, service


def test_s3_gateway_endpoint_on_every_cluster_route_table(default_app):
    gateways = [
        e for e in default_app.resources(ENDPOINTS, "AWS::EC2::VPCEndpoint").values()
        if e["Properties"]["VpcEndpointType"] == "Gateway"
    ]
    assert len(gateways) == 1
    assert service_of(gateways[0]) == "s3"
    assert len(gateways[0]["Properties"]["RouteTableIds"]) == 2


def test_existing_vpc_gateway_uses_configured_route_tables(existing_vpc_app):
    (gateway,) = [
        e for e in existing_vpc_app.resources("Prod/Endpoints", "AWS::EC2::VPCEndpoint").values()
        if e["Properties"]["VpcEndpointType"] == "Gateway"
    ]
    assert gateway["Properties"]["RouteTableIds"] == list(EXISTING_VPC.route_table_ids)
    assert gateway["Properties"]["VpcId"] == EXISTING_VPC.vpc_id


def test_endpoint_security_group_admits_only_https_from_the_vpc_cidr(default_app):
    groups = default_app.resources(ENDPOINTS, "AWS::EC2::SecurityGroup")
    (group,) = groups.values()
    ingress = group["Properties"]["SecurityGroupIngress"]
    assert len(ingress) == 1
    rule = ingress[0]
    assert (rule["IpProtocol"], rule["FromPort"], rule["ToPort"]) == ("tcp", 443, 443)
    # the VPC's own CIDR as a literal: a reviewer (and cdk-nag's port rules) can read it without resolving imports
    assert rule["CidrIp"] == "10.0.0.0/16"
    assert not default_app.resources(ENDPOINTS, "AWS::EC2::SecurityGroupIngress")
    # no egress from the endpoints: CDK's placeholder rule that matches nothing
    assert group["Properties"]["SecurityGroupEgress"] == [
        {"CidrIp": "255.255.255.255/32", "Description": "Disallow all traffic", "FromPort": 252, "IpProtocol": "icmp", "ToPort": 86}
    ]
    for name, endpoint in interface_endpoints(default_app, ENDPOINTS).items():
        assert endpoint["Properties"]["SecurityGroupIds"] == [{"Fn::GetAtt": [next(iter(groups)), "GroupId"]}], name


@pytest.mark.parametrize("config", ["default", "existing-vpc", "user-stack", "public-bastion"])
def test_nothing_admits_the_internet(all_synths, config):
    resources = all_synths[config].all_resources()
    rules = [
        (key, rule)
        for key, resource in resources.items()
        if resource["Type"] == "AWS::EC2::SecurityGroup"
        for rule in resource["Properties"].get("SecurityGroupIngress", [])
    ] + [(key, r["Properties"]) for key, r in resources.items() if r["Type"] == "AWS::EC2::SecurityGroupIngress"]
    assert rules
    assert [key for key, rule in rules if rule.get("CidrIp") == "0.0.0.0/0" or rule.get("CidrIpv6") == "::/0"] == []


def test_existing_vpc_endpoint_rule_uses_the_configured_cidr(existing_vpc_app):
    (group,) = existing_vpc_app.resources("Prod/Endpoints", "AWS::EC2::SecurityGroup").values()
    assert [r["CidrIp"] for r in group["Properties"]["SecurityGroupIngress"]] == [EXISTING_VPC.vpc_cidr]


def test_every_endpoint_says_who_needs_it_and_why(default_app):
    endpoints = default_app.resources(ENDPOINTS, "AWS::EC2::VPCEndpoint")
    assert endpoints
    for endpoint in endpoints.values():
        purpose = endpoint["Metadata"]["Purpose"]
        need, _ = ENDPOINT_CATALOG[purpose["Service"]]
        assert purpose == {"Service": need.service, "NeededBy": need.needed_by, "Why": need.why}
        assert service_of(endpoint) == purpose["Service"]


def test_extra_services_are_added_once(existing_vpc_app):
    services = set(interface_endpoints(existing_vpc_app, "Prod/Endpoints"))
    assert services == SEED_AND_KUBECTL | SSM | {"secretsmanager"}


def test_endpoints_can_be_turned_off(tmp_path):
    from conftest import stage_builder

    context = {
        "network.existing_vpc_id": EXISTING_VPC.vpc_id,
        "network.existing_vpc_cidr": EXISTING_VPC.vpc_cidr,
        "network.existing_subnet_ids": list(EXISTING_VPC.subnet_ids),
        "network.existing_availability_zones": list(EXISTING_VPC.availability_zones),
        "endpoints.create": "false",
    }
    synth = synthesize(tmp_path, stage_builder(context), context)
    assert list(synth.templates) == ["Dev/Cluster"]
    assert not synth.resources("Dev/Cluster", "AWS::EC2::VPCEndpoint")


def test_catalog_derivation_follows_features():
    assert {n.service for n in required_endpoints({KUBECTL})} == {"s3", "eks", "lambda"}
    with_bastion = {n.service for n in required_endpoints(DEFAULT_FEATURES | {BASTION})}
    assert {"ssm", "ssmmessages", "ec2messages"} <= with_bastion
    assert not {"ssm", "ssmmessages", "ec2messages"} & {n.service for n in required_endpoints()}
    assert [n.service for n in required_endpoints({KUBECTL}, extra_services=["eks", "kms"])] == ["s3", "eks", "lambda", "kms"]


def test_features_follow_the_settings():
    assert platform_features(PlatformSettings()) == DEFAULT_FEATURES | {BASTION}
    public = PlatformSettings(operations=OperationsSettings(bastion_subnet="public"))
    assert platform_features(public) == DEFAULT_FEATURES
    bare = PlatformSettings(operations=OperationsSettings(bastion=False, fargate_logging=False))
    assert platform_features(bare) == DEFAULT_FEATURES - {LOGGING}
