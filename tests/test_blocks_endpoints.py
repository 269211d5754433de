"""VPC endpoints: the derived set, private DNS, one security group admitting 443 from the VPC only, and the why."""

from __future__ import annotations

import pytest
from private_eks_fargate import (
    WorkloadSettings,
    ENDPOINT_CATALOG,
    OperationsSettings,
    PlatformSettings,
    required_endpoints,
)
from private_eks_fargate.blocks.endpoints import (
    BASTION,
    DEFAULT_FEATURES,
    IMAGE_COPY,
    EC2_API,
    FARGATE,
    IRSA,
    KUBECTL,
    LOGGING,
    USER_CONSUMER,
    platform_features,
)

from conftest import EXISTING_VPC, synthesize

ENDPOINTS = "Dev/Endpoints"


#: the interface endpoints the default features need: image pulls, IRSA, Fargate logs, the kubectl Lambdas
PLATFORM = {"ecr.api", "ecr.dkr", "sts", "logs", "eks", "lambda"}


#: the bastion's: SSM Agent 3.3.40.0 and later (AL2023's) use ssmmessages instead of ec2messages when it is reachable
SSM = {"ssm", "ssmmessages"}
#: the sample app's image copy: its Lambda in the VPC starts and polls CodeBuild
COPY = {"codebuild"}


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


def test_default_interface_endpoints_are_the_platforms_and_the_bastions_ssm_without_ec2(default_app):
    assert set(interface_endpoints(default_app, ENDPOINTS)) == PLATFORM | SSM | COPY


#: What in the templates consumes each feature's endpoints (the evidence that the consumer exists).
CONSUMER_EVIDENCE = {
    FARGATE: lambda r: r["Type"] == "AWS::EKS::FargateProfile",
    KUBECTL: lambda r: r["Type"] == "AWS::Lambda::Function" and "VpcConfig" in r["Properties"],
    LOGGING: lambda r: '"name":"aws-logging"' in str(r.get("Properties", {}).get("Manifest", "")),
    IRSA: lambda r: r["Type"] == "AWS::IAM::OIDCProvider",
    BASTION: lambda r: r["Type"] == "AWS::EC2::Instance",
    IMAGE_COPY: lambda r: r["Type"] == "Custom::ImageCopy",
}


def test_default_app_has_no_endpoint_without_a_named_consumer(default_app):
    """Every endpoint of the default app is wanted by an enabled feature whose consumer is in the templates; none
    is there for the user (no extra services) or for a consumer that does not exist."""
    endpoints = default_app.resources(ENDPOINTS, "AWS::EC2::VPCEndpoint")
    resources = list(default_app.all_resources().values())
    enabled = platform_features(PlatformSettings())
    assert len(endpoints) == 10  # S3 gateway, 6 for the platform, 2 for the bastion, 1 for the image copy
    for endpoint in endpoints.values():
        purpose = endpoint["Metadata"]["Purpose"]
        need, wanted_by = ENDPOINT_CATALOG[purpose["Service"]]
        assert purpose["NeededBy"] == need.needed_by != USER_CONSUMER
        features = wanted_by & enabled
        assert features, purpose["Service"]
        for feature in features:
            assert any(CONSUMER_EVIDENCE[feature](r) for r in resources), (purpose["Service"], feature)


def test_ec2_endpoint_only_on_request_or_with_a_feature_that_calls_ec2(existing_vpc_app):
    assert "ec2" not in {n.service for n in required_endpoints(DEFAULT_FEATURES | {BASTION})}
    assert "ec2" in {n.service for n in required_endpoints(DEFAULT_FEATURES | {EC2_API})}
    (requested,) = [e for e in existing_vpc_app.resources("Prod/Endpoints", "AWS::EC2::VPCEndpoint").values()
                    if e["Metadata"]["Purpose"]["Service"] == "ec2"]
    assert requested["Metadata"]["Purpose"]["NeededBy"] == USER_CONSUMER
    assert requested["Metadata"]["Purpose"]["Why"] == ENDPOINT_CATALOG["ec2"][0].why


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
    assert services == PLATFORM | SSM | COPY | {"secretsmanager", "ec2"} | {"kms"}  # kms: the session key


def test_session_manager_preferences_bring_their_endpoints_and_say_why(existing_vpc_app, default_app):
    """kms for the session key, and the session logs named as consumers of logs and the S3 gateway; none by default."""
    def purposes(synth, stack):
        return {e["Metadata"]["Purpose"]["Service"]: e["Metadata"]["Purpose"]
                for e in synth.resources(stack, "AWS::EC2::VPCEndpoint").values()}

    prod, default = purposes(existing_vpc_app, "Prod/Endpoints"), purposes(default_app, ENDPOINTS)
    assert prod["kms"]["NeededBy"] == "SSM-managed bastion (Session Manager preferences with a KMS key)"
    assert prod["logs"]["NeededBy"] == "Fargate log router; SSM-managed bastion (Session Manager session logs)"
    assert prod["s3"]["NeededBy"].endswith("; SSM-managed bastion (Session Manager session logs to S3)")
    assert "kms" not in default and default["logs"]["NeededBy"] == "Fargate log router"
    assert "Session Manager" not in default["s3"]["NeededBy"]


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
    assert {"ssm", "ssmmessages"} <= with_bastion and "ec2messages" not in with_bastion
    assert not {"ssm", "ssmmessages", "ec2messages"} & {n.service for n in required_endpoints()}
    assert "3.3.40.0" in ENDPOINT_CATALOG["ec2messages"][0].why  # on request only (endpoints.extra_services)
    assert {n.service for n in required_endpoints({IMAGE_COPY})} == {"codebuild"}
    assert [n.service for n in required_endpoints({KUBECTL}, extra_services=["eks", "kms"])] == ["s3", "eks", "lambda", "kms"]


def test_features_follow_the_settings():
    assert platform_features(PlatformSettings()) == DEFAULT_FEATURES | {BASTION, IMAGE_COPY}
    public = PlatformSettings(operations=OperationsSettings(bastion_subnet="public"))
    assert platform_features(public) == DEFAULT_FEATURES | {IMAGE_COPY}
    bare = PlatformSettings(operations=OperationsSettings(bastion=False, fargate_logging=False),
                            workloads=WorkloadSettings(sample_app=False))
    assert platform_features(bare) == DEFAULT_FEATURES - {LOGGING}


def test_a_users_workload_with_images_adds_the_codebuild_endpoint(user_stack_app):
    """The library user's own workload (no sample app) copies an image: the endpoint comes with it."""
    (stack,) = user_stack_app.templates
    services = {service_of(e) for e in user_stack_app.resources(stack, "AWS::EC2::VPCEndpoint").values()}
    assert "codebuild" in services


def test_single_zone_puts_every_interface_endpoint_in_the_first_cluster_subnet(default_app, single_zone_app):
    """endpoints.single_zone: one ENI per interface endpoint, in the first cluster subnet; the S3 gateway endpoint
    stays on every route table, and the cluster, its profiles and everything else are unchanged."""
    (cluster,) = default_app.resources("Dev/Cluster", "AWS::EKS::Cluster").values()
    first_subnet = cluster["Properties"]["ResourcesVpcConfig"]["SubnetIds"][0]
    endpoints = interface_endpoints(single_zone_app, ENDPOINTS)
    assert set(endpoints) == set(interface_endpoints(default_app, ENDPOINTS))
    for service, endpoint in endpoints.items():
        assert endpoint["Properties"]["SubnetIds"] == [first_subnet], service
    (gateway,) = [e for e in single_zone_app.resources(ENDPOINTS, "AWS::EC2::VPCEndpoint").values()
                  if e["Properties"]["VpcEndpointType"] == "Gateway"]
    assert len(gateway["Properties"]["RouteTableIds"]) == 2
    assert single_zone_app.template("Dev/Cluster") == default_app.template("Dev/Cluster")
    assert single_zone_app.template("Dev/Network") == default_app.template("Dev/Network")
